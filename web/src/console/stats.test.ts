import { describe, expect, it } from "vitest";
import {
  bars,
  candidatesQuery,
  cell,
  type Checklist,
  columnLabel,
  count,
  criteriaFor,
  criterionText,
  dayBefore,
  gradeProblem,
  gradesQuery,
  isLongWait,
  isStale,
  keepCriteria,
  labelEvery,
  loadPercent,
  niceScale,
  parseDay,
  peak,
  percent,
  presetRange,
  rangeProblem,
  reportQuery,
  seconds,
  suggestedGrain,
  sum,
  tableQuery,
} from "./stats";

describe("periods", () => {
  it("counts presets from the desk's today", () => {
    expect(presetRange("this_month", "2026-12-02")).toEqual({ from: "2026-12-01", to: "2026-12-02" });
    expect(presetRange("last_month", "2026-12-02")).toEqual({ from: "2026-11-01", to: "2026-11-30" });
    expect(presetRange("last_month", "2027-01-15")).toEqual({ from: "2026-12-01", to: "2026-12-31" });
    expect(presetRange("last_month", "2028-03-31")).toEqual({ from: "2028-02-01", to: "2028-02-29" });
    expect(presetRange("last_month", "2027-03-01")).toEqual({ from: "2027-02-01", to: "2027-02-28" });
    expect(presetRange("this_year", "2026-12-02")).toEqual({ from: "2026-01-01", to: "2026-12-02" });
    expect(presetRange("last_year", "2026-01-01")).toEqual({ from: "2025-01-01", to: "2025-12-31" });
  });

  it("keeps custom dates and a broken today as they are", () => {
    const custom = { from: "2026-05-01", to: "2026-05-09" };
    expect(presetRange("custom", "2026-12-02", custom)).toBe(custom);
    expect(presetRange("this_month", "", custom)).toBe(custom);
  });

  it("parses real dates only", () => {
    expect(parseDay("2026-02-28")).toEqual({ y: 2026, m: 2, d: 28 });
    expect(parseDay("2026-02-29")).toBeNull();
    expect(parseDay("2026-13-01")).toBeNull();
    expect(parseDay("2026-1-01")).toBeNull();
    expect(dayBefore("2026-03-01")).toBe("2026-02-28");
    expect(dayBefore("2026-01-01")).toBe("2025-12-31");
  });

  it("suggests days within a month and months within a year", () => {
    expect(suggestedGrain("this_month")).toBe("day");
    expect(suggestedGrain("last_month")).toBe("day");
    expect(suggestedGrain("this_year")).toBe("month");
    expect(suggestedGrain("last_year")).toBe("month");
  });

  it("says what is wrong with a range", () => {
    const today = "2026-12-02";
    expect(rangeProblem({ from: "", to: "2026-12-01" }, today)).toBe("missing");
    expect(rangeProblem({ from: "2026-12-02", to: "2026-12-01" }, today)).toBe("order");
    expect(rangeProblem({ from: "2010-01-01", to: "2026-12-01" }, today)).toBe("too_long");
    expect(rangeProblem({ from: "2026-12-01", to: "2026-12-02" }, today)).toBeNull();
    // A certificate's period must be over: yesterday at the latest.
    expect(rangeProblem({ from: "2026-12-01", to: "2026-12-02" }, today, true)).toBe("not_over");
    expect(rangeProblem({ from: "2026-11-01", to: "2026-12-01" }, today, true)).toBeNull();
  });
});

describe("query strings", () => {
  it("asks for a report with only what is set", () => {
    const a = { scope: "library" as const, id: "demo-pl", from: "2026-12-01", to: "2026-12-02", grain: "day" as const };
    expect(reportQuery(a)).toBe("scope=library&id=demo-pl&from=2026-12-01&to=2026-12-02&grain=day");
    expect(reportQuery(a, "csv")).toBe("scope=library&id=demo-pl&from=2026-12-01&to=2026-12-02&grain=day&format=csv");
    expect(reportQuery({ ...a, scope: "alliance" }, "xlsx")).toBe(
      "scope=alliance&from=2026-12-01&to=2026-12-02&grain=day&format=xlsx",
    );
    expect(reportQuery({ ...a, scope: "consultant", id: "" })).toBe("scope=consultant&from=2026-12-01&to=2026-12-02&grain=day");
  });

  it("asks for a table, a library only for consultants", () => {
    const a = { kind: "consultant" as const, from: "2026-11-01", to: "2026-11-30", sort: "documents", library: "demo-ul" };
    expect(tableQuery(a)).toBe("kind=consultant&from=2026-11-01&to=2026-11-30&library=demo-ul&sort=documents");
    expect(tableQuery({ ...a, kind: "library" }, "csv")).toBe("kind=library&from=2026-11-01&to=2026-11-30&sort=documents&format=csv");
  });

  it("asks for candidates and grades", () => {
    expect(
      candidatesQuery({ target: "ticket", library: "", from: "2026-12-01", to: "2026-12-02", graded: "0", sample: true }),
    ).toBe("target=ticket&from=2026-12-01&to=2026-12-02&graded=0&sample=1");
    expect(
      candidatesQuery({ target: "consultation", library: "demo-pl", from: "a", to: "b", graded: "all", sample: false, limit: 50 }),
    ).toBe("target=consultation&library=demo-pl&from=a&to=b&graded=all&limit=50");
    expect(gradesQuery({ from: "2026-01-01", to: "2026-12-02", consultant: 7, before_id: 12 })).toBe(
      "from=2026-01-01&to=2026-12-02&consultant=7&before_id=12",
    );
  });
});

describe("figures in words", () => {
  it("writes seconds as minutes and seconds", () => {
    expect(seconds(80)).toBe("1分20秒");
    expect(seconds(45)).toBe("45秒");
    expect(seconds(0)).toBe("0秒");
    expect(seconds(120)).toBe("2分");
    expect(seconds(7500)).toBe("2小时5分");
    expect(seconds(3600)).toBe("1小时");
    expect(seconds(59.6)).toBe("1分");
    expect(seconds(null)).toBe("—");
    expect(seconds(80, "en")).toBe("1 min 20 s");
    expect(seconds(7500, "en")).toBe("2 h 5 min");
    expect(seconds(5, "en")).toBe("5 s");
  });

  it("writes shares as percentages", () => {
    expect(percent(0.8333)).toBe("83.3%");
    expect(percent(1)).toBe("100%");
    expect(percent(0)).toBe("0%");
    expect(percent(0.5)).toBe("50%");
    expect(percent(null)).toBe("—");
    expect(percent(Number.NaN)).toBe("—");
  });

  it("formats a cell by its column", () => {
    expect(cell("served", 1234)).toBe("1,234");
    expect(cell("wait_p90", 95)).toBe("1分35秒");
    expect(cell("duration_mean", 61.5)).toBe("1分2秒");
    expect(cell("satisfaction", 0.75)).toBe("75%");
    expect(cell("pass_rate", null)).toBe("—");
    expect(cell("period", "2026-12")).toBe("2026-12");
    expect(count(undefined)).toBe("—");
  });

  it("labels columns in the UI language, seconds without their unit", () => {
    const wait = { key: "wait_p50", "zh-CN": "等待中位数(秒)", en: "Wait median (s)" };
    expect(columnLabel(wait, "zh-CN")).toBe("等待中位数");
    expect(columnLabel(wait, "en")).toBe("Wait median");
    expect(columnLabel({ key: "served", "zh-CN": "人工接待", en: "Served" }, "en")).toBe("Served");
  });
});

describe("the chart", () => {
  it("rounds the axis up to 1, 2 or 5 times a power of ten", () => {
    expect(niceScale(0)).toEqual({ top: 4, ticks: [0, 1, 2, 3, 4] });
    expect(niceScale(1)).toEqual({ top: 1, ticks: [0, 1] });
    expect(niceScale(3)).toEqual({ top: 3, ticks: [0, 1, 2, 3] });
    expect(niceScale(7)).toEqual({ top: 8, ticks: [0, 2, 4, 6, 8] });
    expect(niceScale(37)).toEqual({ top: 40, ticks: [0, 10, 20, 30, 40] });
    expect(niceScale(100)).toEqual({ top: 100, ticks: [0, 50, 100] });
    expect(niceScale(1234).top).toBe(1500);
  });

  it("lays grouped bars out in equal slots", () => {
    const [served, docs] = bars(
      [
        [4, 0, 2],
        [1, 3, 8],
      ],
      300,
      100,
      4,
    );
    expect(served.map((b) => b.height)).toEqual([100, 0, 50]);
    expect(served[0].x).toBeCloseTo(10);
    expect(docs[0].x).toBeCloseTo(50);
    expect(served[1].x).toBeCloseTo(110);
    expect(docs[2].height).toBe(100); // above the top: clipped
    expect(docs[1].y).toBeCloseTo(25);
    expect(bars([[]], 300, 100, 4)).toEqual([[]]);
    // Narrow bars stay narrow, centred in their slot.
    const [one] = bars([[1, 2]], 400, 100, 2, 30);
    expect(one.map((b) => [b.x, b.width])).toEqual([
      [85, 30],
      [285, 30],
    ]);
  });

  it("thins the labels and finds the peak", () => {
    expect(labelEvery(31, 10)).toBe(4);
    expect(labelEvery(5, 10)).toBe(1);
    expect(peak([1, 5, 5, 2])).toEqual({ value: 5, index: 1 });
    expect(peak([])).toBeNull();
    expect(sum([1, null, 2, undefined, 3])).toBe(6);
  });
});

describe("the dashboard", () => {
  it("highlights long waits, fills load bars and tells stale data", () => {
    expect(isLongWait(119)).toBe(false);
    expect(isLongWait(120)).toBe(true);
    expect(loadPercent(2, 4)).toBe(50);
    expect(loadPercent(5, 4)).toBe(100);
    expect(loadPercent(0, 0)).toBe(0);
    expect(isStale(null, 1000, false)).toBe(false);
    expect(isStale(1000, 2000, false)).toBe(true);
    expect(isStale(1000, 2000, true)).toBe(false);
    expect(isStale(1000, 17_000, true)).toBe(true);
  });
});

describe("grading", () => {
  const list: Checklist = {
    ticket: [
      { code: "E1", grade: "excellent", "zh-CN": "找到原文", en: "Found" },
      { code: "P1", grade: "pass", "zh-CN": "相同主题", en: "Same topic" },
      { code: "F1", grade: "fail", "zh-CN": "未退回", en: "Not returned" },
    ],
    consultation: [
      { code: "L1", "zh-CN": "快速及时响应", en: "Prompt" },
      { code: "L2", "zh-CN": "服务范畴告知", en: "Scope" },
    ],
  };

  it("shows a reply's cases under its grade and a chat's rules always", () => {
    expect(criteriaFor(list, "ticket", "pass").map((c) => c.code)).toEqual(["P1"]);
    expect(criteriaFor(list, "ticket", null)).toEqual([]);
    expect(criteriaFor(list, "consultation", "fail").map((c) => c.code)).toEqual(["L1", "L2"]);
    expect(keepCriteria(list, "ticket", "fail", ["E1", "F1"])).toEqual(["F1"]);
    expect(keepCriteria(list, "consultation", "pass", ["L1", "X"])).toEqual(["L1"]);
  });

  it("says the desk's rules before sending", () => {
    expect(gradeProblem("consultation", null, [], "")).toBe("no_grade");
    expect(gradeProblem("consultation", "fail", ["L1"], " ")).toBe("fail_comment");
    expect(gradeProblem("consultation", "pass", [], "")).toBeNull();
    expect(gradeProblem("ticket", "pass", [], "")).toBe("reason");
    expect(gradeProblem("ticket", "pass", [], "扩大检索后找到")).toBeNull();
    expect(gradeProblem("ticket", "excellent", ["E1"], "")).toBeNull();
  });

  it("names criteria in the UI language", () => {
    expect(criterionText(list, "L2", "zh-CN")).toBe("服务范畴告知");
    expect(criterionText(list, "P1", "en")).toBe("Same topic");
    expect(criterionText(list, "Z9", "en")).toBe("Z9");
    expect(criterionText(null, "L1", "en")).toBe("L1");
  });
});

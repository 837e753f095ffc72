import { describe, expect, it } from "vitest";
import {
  addClosed,
  addSpan,
  DAYS,
  draftFromApi,
  draftToApi,
  hasSpans,
  hoursProblemKey,
  normaliseTime,
  opensAtText,
  removeClosed,
  removeSpan,
  setSpan,
} from "./hours-form";

describe("draftFromApi", () => {
  it("gives every day, closed ones empty, with the stored spans", () => {
    const d = draftFromApi({
      timezone: "Asia/Urumqi",
      weekly: { mon: [["08:30", "12:00"], ["14:00", "21:00"]], sat: [["09:00", "17:00"]] },
      closed: ["2026-10-02", "2026-10-01", "2026-10-01"],
    });
    expect(Object.keys(d.weekly)).toEqual([...DAYS]);
    expect(d.timezone).toBe("Asia/Urumqi");
    expect(d.weekly.mon).toEqual([["08:30", "12:00"], ["14:00", "21:00"]]);
    expect(d.weekly.tue).toEqual([]);
    expect(d.weekly.sat).toEqual([["09:00", "17:00"]]);
    expect(d.closed).toEqual(["2026-10-01", "2026-10-02"]);
  });

  it("starts from Beijing time and an empty week when the library sets no hours", () => {
    const d = draftFromApi({});
    expect(d.timezone).toBe("Asia/Shanghai");
    expect(hasSpans(d)).toBe(false);
    expect(d.closed).toEqual([]);
    expect(draftFromApi(null).timezone).toBe("Asia/Shanghai");
  });

  it("does not share arrays with what the desk sent", () => {
    const sent = { weekly: { mon: [["08:00", "12:00"] as [string, string]] } };
    const d = draftFromApi(sent);
    d.weekly.mon[0][1] = "13:00";
    expect(sent.weekly.mon[0][1]).toBe("12:00");
  });
});

describe("normaliseTime", () => {
  it.each([
    ["08:30", "08:30"],
    ["8:30", "08:30"],
    [" 9:05 ", "09:05"],
    ["900", "09:00"],
    ["0900", "09:00"],
    ["9", "09:00"],
    ["21", "21:00"],
    ["8：30", "08:30"],
    ["8.30", "08:30"],
    ["24:00", "24:00"],
    ["", ""],
  ])("%s is %s", (typed, sent) => expect(normaliseTime(typed)).toBe(sent));

  it("leaves what is not a time as typed, for the desk to refuse at the field", () => {
    expect(normaliseTime("noon")).toBe("noon");
    expect(normaliseTime("9:")).toBe("9:");
    expect(normaliseTime("25:00")).toBe("25:00"); // the desk says it is not HH:MM
    expect(normaliseTime("12345")).toBe("12345");
  });
});

describe("draftToApi", () => {
  it("is the desk's shape: days with spans only, times HH:MM, dates unique and sorted", () => {
    let d = draftFromApi({ timezone: " Asia/Shanghai " });
    d = addSpan(d, "mon");
    d = setSpan(d, "mon", 0, 0, "8:30");
    d = setSpan(d, "mon", 0, 1, "1200");
    d = addSpan(d, "mon");
    d = setSpan(d, "mon", 1, 1, "21:00");
    d = addSpan(d, "wed"); // the default whole working day
    d = { ...d, closed: addClosed(addClosed(addClosed(d.closed, "2026-10-02"), "2026-10-01"), "2026-10-02") };
    expect(draftToApi(d)).toEqual({
      timezone: "Asia/Shanghai",
      weekly: { mon: [["08:30", "12:00"], ["12:00", "21:00"]], wed: [["08:30", "17:00"]] },
      closed: ["2026-10-01", "2026-10-02"],
    });
  });

  it("drops spans left empty but keeps half-filled ones for the desk to refuse", () => {
    let d = addSpan(addSpan(draftFromApi({}), "fri"), "fri");
    d = setSpan(setSpan(d, "fri", 1, 0, ""), "fri", 1, 1, "");
    d = addSpan(d, "sun");
    d = setSpan(d, "sun", 0, 1, "");
    expect(draftToApi(d).weekly).toEqual({ fri: [["08:30", "17:00"]], sun: [["08:30", ""]] });
  });

  it("an empty week is an empty weekly (the desk: no set hours); an empty zone is Beijing time", () => {
    const d = { ...draftFromApi({}), timezone: "  " };
    expect(draftToApi(d)).toEqual({ timezone: "Asia/Shanghai", weekly: {}, closed: [] });
  });

  it("round-trips what the desk stores", () => {
    const stored = {
      timezone: "Asia/Shanghai",
      weekly: { mon: [["08:30", "21:00"]], tue: [["08:30", "12:00"], ["13:30", "24:00"]] },
      closed: ["2026-01-01"],
    } as const;
    const copy = JSON.parse(JSON.stringify(stored));
    expect(draftToApi(draftFromApi(copy))).toEqual(stored);
  });
});

describe("spans and dates", () => {
  it("a new span starts where the last ended; at most 4 a day", () => {
    let d = addSpan(draftFromApi({}), "tue");
    d = setSpan(d, "tue", 0, 1, "12:00");
    d = addSpan(d, "tue");
    expect(d.weekly.tue).toEqual([["08:30", "12:00"], ["12:00", ""]]);
    d = addSpan(addSpan(d, "tue"), "tue");
    expect(d.weekly.tue).toHaveLength(4);
    expect(addSpan(d, "tue")).toBe(d);
    expect(removeSpan(d, "tue", 0).weekly.tue[0]).toEqual(["12:00", ""]);
    expect(d.weekly.mon).toEqual([]);
  });

  it("closed dates are a set", () => {
    expect(addClosed(["2026-10-01"], "")).toEqual(["2026-10-01"]);
    expect(addClosed(["2026-10-03"], "2026-10-01")).toEqual(["2026-10-01", "2026-10-03"]);
    expect(removeClosed(["2026-10-01", "2026-10-03"], "2026-10-01")).toEqual(["2026-10-03"]);
  });
});

describe("opensAtText", () => {
  it("writes the library's wall-clock time, whatever the browser's zone", () => {
    // 2026-10-08 is a Thursday.
    expect(opensAtText("2026-10-08T08:30:00+08:00", "zh-CN")).toBe("10月8日（周四）08:30");
    expect(opensAtText("2026-10-08T08:30:00+08:00", "en")).toBe("Thu 8 Oct, 08:30");
    expect(opensAtText("2027-01-03T00:00:00+06:00", "zh-CN")).toBe("1月3日（周日）00:00");
  });

  it("leaves what it cannot read as it is", () => {
    expect(opensAtText("soon", "en")).toBe("soon");
  });
});

describe("hoursProblemKey", () => {
  it("puts a weekly problem at the day the desk names", () => {
    expect(hoursProblemKey("service_hours.weekly", "Value error, mon: 09:00-08:00 ends before it starts")).toBe(
      "weekly.mon",
    );
    expect(hoursProblemKey("service_hours.weekly", "Value error, sun: spans overlap")).toBe("weekly.sun");
    expect(hoursProblemKey("service_hours.weekly.tue.0.1", "Input should be a valid string")).toBe("weekly.tue");
    expect(hoursProblemKey("service_hours.weekly", "Value error, 'xyz' is not one of mon, tue")).toBe("weekly");
  });

  it("the other fields by name, the rest to the form", () => {
    expect(hoursProblemKey("service_hours.timezone", "Value error, unknown time zone 'Mars/Base'")).toBe("timezone");
    expect(hoursProblemKey("service_hours.closed", "Value error, '2026-13-01' is not a date (YYYY-MM-DD)")).toBe(
      "closed",
    );
    expect(hoursProblemKey("phone", "String should match pattern")).toBe("phone");
    expect(hoursProblemKey("", "Value error, send service_hours or clear_hours, not both")).toBe("form");
  });
});

import { describe, expect, it } from "vitest";
import {
  auditQuery,
  caseChange,
  caseExportUrl,
  caseForm,
  casesQuery,
  EMPTY_AUDIT_FILTERS,
  EMPTY_CASE_FILTERS,
  EMPTY_FILTERS,
  exportUrl,
  type HitPiece,
  hasLabels,
  idOrEmpty,
  isSupervisor,
  labelPieces,
  parseTags,
  searchQuery,
  snippetPieces,
  type TypicalCase,
  tagsText,
} from "./transcripts";

const NAMES = { reader: "读者", consultant: "咨询员", bot: "自动回复", system: "系统" };

describe("searchQuery", () => {
  it("sends nothing for no filters", () => {
    expect(searchQuery(EMPTY_FILTERS)).toBe("");
  });

  it("sends only the filters that are set, the query trimmed and encoded", () => {
    const q = searchQuery({ ...EMPTY_FILTERS, q: "  学位论文 OPAC ", library: "demo-ul", rating: "none", tag: "馆际 互借" });
    const p = new URLSearchParams(q);
    expect(p.get("q")).toBe("学位论文 OPAC");
    expect(p.get("library")).toBe("demo-ul");
    expect(p.get("rating")).toBe("none");
    expect(p.get("tag")).toBe("馆际 互借");
    expect([...p.keys()]).toEqual(["q", "library", "rating", "tag"]);
  });

  it("keeps quoted phrases and cuts the query at the desk's limit", () => {
    const p = new URLSearchParams(searchQuery({ ...EMPTY_FILTERS, q: '"open access" 论文' }));
    expect(p.get("q")).toBe('"open access" 论文');
    const long = new URLSearchParams(searchQuery({ ...EMPTY_FILTERS, q: "字".repeat(150) }));
    expect(long.get("q")).toHaveLength(100);
  });

  it("pages with before and a limit, and exports with a format", () => {
    const p = new URLSearchParams(searchQuery({ ...EMPTY_FILTERS, from: "2026-01-01", to: "2026-01-31" }, { before: 42, limit: 50 }));
    expect(p.get("from")).toBe("2026-01-01");
    expect(p.get("to")).toBe("2026-01-31");
    expect(p.get("before")).toBe("42");
    expect(p.get("limit")).toBe("50");
    const url = exportUrl({ ...EMPTY_FILTERS, state: "closed", consultant: "7" }, "csv");
    expect(url.startsWith("/api/transcripts/export?")).toBe(true);
    const e = new URLSearchParams(url.split("?")[1]);
    expect(e.get("format")).toBe("csv");
    expect(e.get("state")).toBe("closed");
    expect(e.get("consultant")).toBe("7");
  });
});

describe("cases and audit queries", () => {
  it("cases: only what is set", () => {
    expect(casesQuery(EMPTY_CASE_FILTERS)).toBe("");
    const p = new URLSearchParams(casesQuery({ ...EMPTY_CASE_FILTERS, q: "查收查引", state: "draft", category: "文献检索" }));
    expect(p.get("q")).toBe("查收查引");
    expect(p.get("state")).toBe("draft");
    expect(p.get("category")).toBe("文献检索");
  });

  it("case export links", () => {
    expect(caseExportUrl("md")).toBe("/api/cases/export?format=md");
    const p = new URLSearchParams(caseExportUrl("json", "学位论文").split("?")[1]);
    expect(p.get("format")).toBe("json");
    expect(p.get("category")).toBe("学位论文");
  });

  it("audit: ids only when they are whole numbers", () => {
    expect(auditQuery(EMPTY_AUDIT_FILTERS)).toBe("");
    const p = new URLSearchParams(auditQuery({ consultant: "3", consultation: "#12", action: "reveal" }, 99));
    expect(p.get("consultant")).toBe("3");
    expect(p.get("consultation")).toBe("12");
    expect(p.get("action")).toBe("reveal");
    expect(p.get("before")).toBe("99");
    expect(new URLSearchParams(auditQuery({ consultant: "abc", consultation: "1.5", action: "" })).toString()).toBe("");
    expect(idOrEmpty(" 7 ")).toBe("7");
    expect(idOrEmpty("-1")).toBe("");
  });
});

describe("snippetPieces", () => {
  it("names the lines' authors and joins lines, hits kept", () => {
    const pieces: HitPiece[] = [
      ["reader\t请问", false],
      ["学位论文", true],
      ["怎么查？\nconsultant\t您好，", false],
      ["学位论文", true],
      ["可以在…", false],
    ];
    expect(snippetPieces(pieces, NAMES)).toEqual([
      ["读者：请问", false],
      ["学位论文", true],
      ["怎么查？ ｜ 咨询员：您好，", false],
      ["学位论文", true],
      ["可以在…", false],
    ]);
  });

  it("names the kind of a line cut inside its kind", () => {
    const pieces: HitPiece[] = [
      ["…", false],
      ["onsultant\t您好，", false],
      ["查收查引", true],
    ];
    expect(snippetPieces(pieces, NAMES)).toEqual([
      ["…咨询员：您好，", false],
      ["查收查引", true],
    ]);
    // A whole kind at the start is named by the line rule; a cut that fits no kind stays.
    expect(snippetPieces([["reader\t问", false]], NAMES)).toEqual([["读者：问", false]]);
    expect(snippetPieces([["…", false], ["xyz\t问", false]], NAMES)).toEqual([["…xyz 问", false]]);
  });

  it("leaves a cut line as it is and drops empty or malformed pieces", () => {
    const pieces = [["…n\t论", false], ["", true], "oops", ["OPAC", true], ["OPAC", true]] as unknown as HitPiece[];
    expect(snippetPieces(pieces, NAMES)).toEqual([
      ["…n 论", false],
      ["OPACOPAC", true],
    ]);
  });

  it("never turns markup into anything but text", () => {
    const out = snippetPieces([["<img src=x onerror=alert(1)>", false]], NAMES);
    expect(out).toEqual([["<img src=x onerror=alert(1)>", false]]);
  });
});

describe("labelPieces", () => {
  it("splits masked labels from the text", () => {
    expect(labelPieces("我的电话是〔电话〕，邮箱〔邮箱〕")).toEqual([
      { text: "我的电话是", label: false },
      { text: "〔电话〕", label: true },
      { text: "，邮箱", label: false },
      { text: "〔邮箱〕", label: true },
    ]);
    expect(labelPieces("〔学号/证号〕")).toEqual([{ text: "〔学号/证号〕", label: true }]);
    expect(labelPieces("")).toEqual([]);
    expect(hasLabels("没有个人信息")).toBe(false);
    expect(hasLabels("〔姓名〕同学")).toBe(true);
  });

  it("joined, the pieces give back the text", () => {
    const text = "a〔电话〕b〔〕c〔姓名〕";
    expect(
      labelPieces(text)
        .map((p) => p.text)
        .join(""),
    ).toBe(text);
  });
});

describe("tags", () => {
  it("parses commas of either width, 、 and ;, folds spaces, drops duplicates", () => {
    expect(parseTags("学位论文，馆际互借、 open  access ;学位论文,,")).toEqual(["学位论文", "馆际互借", "open access"]);
    expect(parseTags("")).toEqual([]);
  });

  it("cuts to the desk's limits", () => {
    expect(parseTags("字".repeat(40))[0]).toHaveLength(32);
    const many = Array.from({ length: 30 }, (_, i) => `t${i}`).join(",");
    expect(parseTags(many)).toHaveLength(20);
  });

  it("shows tags in the UI's way", () => {
    expect(tagsText(["a", "b"], "zh-CN")).toBe("a，b");
    expect(tagsText(["a", "b"], "en")).toBe("a, b");
    expect(parseTags(tagsText(["学位论文", "open access"], "zh-CN"))).toEqual(["学位论文", "open access"]);
  });
});

describe("caseChange", () => {
  const base: TypicalCase = {
    id: 1,
    consultation_id: 5,
    library_id: 2,
    language: "zh-CN",
    category: "文献检索",
    tags: ["学位论文"],
    title: "如何查找学位论文",
    summary: "",
    question: "请问如何查找学位论文？",
    answer: "可以用学位论文数据库。",
    state: "draft",
    created_by: 4,
    created_at: "2026-01-01T00:00:00+00:00",
    updated_at: "2026-01-01T00:00:00+00:00",
    published_at: null,
    kb_entry_id: null,
  };

  it("is empty for an untouched form", () => {
    expect(caseChange(base, caseForm(base, "zh-CN"))).toEqual({});
    expect(caseChange(base, caseForm(base, "en"))).toEqual({});
  });

  it("sends only what changed, trimmed", () => {
    const f = { ...caseForm(base, "zh-CN"), summary: "  典型的检索问题 ", tags: "学位论文，检索" };
    expect(caseChange(base, f)).toEqual({ summary: "典型的检索问题", tags: ["学位论文", "检索"] });
    expect(caseChange(base, { ...f, summary: "", tags: "学位论文", title: " 新标题" })).toEqual({ title: "新标题" });
  });
});

describe("isSupervisor", () => {
  it("supervisors and admins", () => {
    expect(isSupervisor("supervisor")).toBe(true);
    expect(isSupervisor("admin")).toBe(true);
    expect(isSupervisor("consultant")).toBe(false);
    expect(isSupervisor("trainee")).toBe(false);
  });
});

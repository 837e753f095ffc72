// @vitest-environment happy-dom
// (setLang writes localStorage and the document's lang.)
import { afterEach, describe, expect, it } from "vitest";
import { ApiError } from "./api";
import { setLang } from "./i18n";
import {
  etiquetteProblemKey,
  fieldProblems,
  formatOfName,
  importProblems,
  listsToApi,
  problemsBy,
  problemText,
} from "./settings-forms";

afterEach(() => setLang("zh-CN"));

describe("problemText", () => {
  it("says the desk's usual problems in Chinese", () => {
    expect(problemText("String should have at least 1 character")).toBe("不能为空");
    expect(problemText("Value error, must not be blank")).toBe("不能为空");
    expect(problemText("String should have at most 500 characters")).toBe("最多 500 个字符");
    expect(problemText("String should match pattern '^[A-Za-z]{2,3}$'", "language")).toContain("语言代码");
    expect(problemText("String should match pattern '^x$'", "hosts.0.host")).toContain("主机名");
    expect(problemText("Input should be 'campus', 'paid' or 'intranet'", "hosts.0.reason")).toBe("请选择原因");
    expect(problemText("Value error, unknown time zone 'Mars/Base'")).toBe("未知的时区 Mars/Base");
    expect(problemText("Value error, mon: 09:00-08:00 ends before it starts")).toBe(
      "周一 09:00–08:00：结束时间要晚于开始时间",
    );
    expect(problemText("Value error, sat: spans overlap")).toBe("周六：时段重叠");
    expect(problemText("the same question and language as row 3")).toBe("与第 3 行的问题和语言相同");
    expect(problemText("the header row lacks the column(s) question, answer")).toBe("表头缺少列：question, answer");
  });

  it("in English once the console is switched", () => {
    setLang("en");
    expect(problemText("String should have at least 1 character")).toBe("must not be empty");
    expect(problemText("Value error, sun: spans overlap")).toBe("Sunday: spans overlap");
  });

  it("anything else as the desk wrote it", () => {
    expect(problemText("Value error, something new")).toBe("something new");
  });
});

const refusal = (details: Record<string, unknown>, code = "invalid_payload") =>
  new ApiError(400, { code, message: "the request is not valid", details });

describe("fieldProblems and problemsBy", () => {
  it("reads details.fields and groups them by field", () => {
    const e = refusal({
      fields: [
        { field: "question", problem: "Value error, must not be blank" },
        { field: "question", problem: "String should have at most 500 characters" },
        { field: "answer", problem: "String should have at least 1 character" },
        { field: 3, problem: "ignored" },
      ],
    });
    const list = fieldProblems(e);
    expect(list).toHaveLength(3);
    expect(problemsBy(list)).toEqual({ question: ["不能为空", "最多 500 个字符"], answer: ["不能为空"] });
  });

  it("nothing for other errors", () => {
    expect(fieldProblems(new Error("x"))).toEqual([]);
    expect(fieldProblems(new ApiError(403, { code: "forbidden", message: "no" }))).toEqual([]);
  });
});

describe("listsToApi", () => {
  it("leaves blank rows out and says which row on screen each sent one is", () => {
    const { body, termRows, hostRows } = listsToApi(
      [
        { term: " OPAC ", hint: "馆藏目录" },
        { term: "", hint: "" },
        { term: "", hint: "a hint without a term" },
      ],
      [
        { host: "", reason: "campus" },
        { host: " .intranet.example.edu.cn ", reason: "intranet" },
      ],
    );
    expect(body).toEqual({
      terms: [
        { term: "OPAC", hint: "馆藏目录" },
        { term: "", hint: "a hint without a term" },
      ],
      hosts: [{ host: ".intranet.example.edu.cn", reason: "intranet" }],
    });
    expect(termRows).toEqual([0, 2]);
    expect(hostRows).toEqual([1]);
    // The desk's "terms.1.term" is the third row on screen, "hosts.0.host" the second.
    expect(etiquetteProblemKey("terms.1.term", termRows, hostRows)).toBe("terms.2.term");
    expect(etiquetteProblemKey("hosts.0.host", termRows, hostRows)).toBe("hosts.1.host");
    expect(etiquetteProblemKey("hosts.0.reason", termRows, hostRows)).toBe("hosts.1.reason");
    expect(etiquetteProblemKey("terms", termRows, hostRows)).toBe("terms");
    expect(etiquetteProblemKey("", termRows, hostRows)).toBe("form");
  });
});

describe("knowledge-base files", () => {
  it("the format from the file's name", () => {
    expect(formatOfName("kb-demo-ul.csv")).toBe("csv");
    expect(formatOfName("Entries.JSON")).toBe("json");
    expect(formatOfName("entries.xlsx")).toBeNull();
    expect(formatOfName("csv")).toBeNull();
  });

  it("the rows of kb_import_invalid, in row order", () => {
    const e = refusal(
      {
        rows: [
          { row: 4, field: "answer", problem: "String should have at least 1 character" },
          { row: 2, field: "language", problem: "String should match pattern" },
        ],
      },
      "kb_import_invalid",
    );
    expect(importProblems(e)?.map((r) => r.row)).toEqual([2, 4]);
    expect(importProblems(refusal({ rows: [] }, "kb_import_invalid"))).toEqual([]);
    expect(importProblems(refusal({}, "kb_import_invalid"))).toEqual([]);
    expect(importProblems(refusal({ fields: [] }))).toBeNull();
  });
});

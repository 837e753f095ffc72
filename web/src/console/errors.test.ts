// Every error code the console can receive has words in both UI languages; the desk's English
// `message` is never shown in Chinese; unknown codes get a general text and their code.
// Node, not happy-dom: only Node may read the document outside web/ (vite's fs rules).
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import protocol from "../../../docs/protocol.md?raw";
import { ApiError } from "./api";
import { apiErrorText, apiErrorWords, describeError, errorText } from "./errors";
import { setLang } from "./i18n";

/** The codes docs/protocol.md documents: its error tables, the errors column of the HTTP
 * routes, and the errors of every console event (text in brackets is not a code). */
function documentedCodes(doc: string): Set<string> {
  const codes = new Set<string>();
  const between = (from: string, to: string) => doc.slice(doc.indexOf(from), doc.indexOf(to));
  const ticked = (s: string) => {
    for (const m of s.replace(/\([^)]*\)/g, "").matchAll(/`([a-z][a-z0-9_]*)`/g)) codes.add(m[1]);
  };
  for (const line of between("### Error codes", "**Administration only.**").split("\n")) {
    const m = /^\| `([a-z][a-z0-9_]*)` \|/.exec(line);
    if (m) codes.add(m[1]);
  }
  for (const line of between("## 2. HTTP endpoints", "## Reader namespace /reader").split("\n")) {
    if (!line.startsWith("| `")) continue;
    const cells = line.split("|").map((c) => c.trim()).filter(Boolean);
    ticked(cells[cells.length - 1]);
  }
  const consoleEvents = between("## Console namespace /console", "## Console namespace: server events");
  for (const m of consoleEvents.matchAll(/\*\*Errors:\*\*([\s\S]*?)(?:\n\n|$)/g)) ticked(m[1]);
  return codes;
}

const DOCUMENTED = documentedCodes(protocol);
/** Fallback codes of the desk's error classes, and the console's own (no answer, offline,
 * no network). */
const EXTRA = ["error", "not_found", "conflict", "forbidden", "unauthenticated", "invalid_payload", "timeout", "offline", "network"];
const ALL = [...new Set([...DOCUMENTED, ...EXTRA])].sort();

const CJK = /[\u4e00-\u9fff]/;
const SERVER_MESSAGE = "an English sentence for developers";

// setLang marks <html lang>; a stand-in document is enough here.
beforeEach(() => vi.stubGlobal("document", { documentElement: { lang: "" } }));
afterEach(() => setLang("zh-CN"));

describe("error codes", () => {
  it("finds the documented codes (the parse still works)", () => {
    for (const code of ["invalid_payload", "not_assigned", "ticket_taken", "kb_import_invalid", "empty_question", "bad_template", "colleague_unavailable"]) {
      expect(DOCUMENTED).toContain(code);
    }
    // Text in brackets (answer kinds, fields) is not taken for a code.
    expect(DOCUMENTED).not.toContain("same_topic");
    expect(DOCUMENTED.size).toBeGreaterThan(40);
  });

  it.each(ALL)("%s has Chinese and English words, without the desk's message", (code) => {
    setLang("zh-CN");
    const zh = describeError({ code, message: SERVER_MESSAGE, details: { state: "closed", limit: 4000 } });
    expect(zh.code, `no words for ${code}`).toBeNull();
    expect(zh.text).toMatch(CJK);
    expect(zh.text).not.toContain(SERVER_MESSAGE);
    expect(zh.text).not.toMatch(/\{[a-z_]+\}/); // no placeholder left unfilled
    setLang("en");
    const en = describeError({ code, message: SERVER_MESSAGE, details: { state: "closed", limit: 4000 } });
    expect(en.code).toBeNull();
    expect(en.text).not.toMatch(CJK);
    expect(en.text).not.toBe(zh.text);
  });
});

describe("describeError", () => {
  it("gives an unknown code a general text and the code, never the message", () => {
    const e = { code: "brand_new_code", message: "Something exploded" };
    expect(describeError(e)).toEqual({ text: "操作没有完成，请稍后再试。", code: "brand_new_code" });
    expect(errorText(e)).toBe("操作没有完成，请稍后再试（错误代码：brand_new_code）。");
    setLang("en");
    expect(describeError(e)).toEqual({ text: "That did not work; please try again.", code: "brand_new_code" });
  });

  it("fills details: the limit (with a default), the languages served by name", () => {
    expect(errorText({ code: "message_too_long", message: "", details: { limit: 500 } })).toBe("消息太长（最多 500 字）。");
    expect(errorText({ code: "message_too_long", message: "" })).toBe("消息太长（最多 4000 字）。");
    expect(errorText({ code: "language_not_served", message: "", details: { languages: ["zh-CN", "en"] } })).toBe(
      "该图书馆只提供以下语言的咨询：中文、英文。",
    );
  });

  it("says a template's problem in Chinese from the names in the desk's message", () => {
    const e = (message: string) => ({ code: "bad_template", message });
    expect(errorText(e("unknown placeholder(s) reader_name; greeting may use library, phone"))).toBe(
      "模板有误：不能使用占位符 {reader_name}（这条文字可用：{library}、{phone}）。",
    );
    expect(errorText(e("unknown placeholder(s) x; faq_answer may use none"))).toBe(
      "模板有误：不能使用占位符 {x}（这条文字可用：无）。",
    );
    expect(errorText(e("unsupported placeholder {0}"))).toBe("模板有误：占位符 {0} 的写法不对，只能写成 {名称} 的形式。");
    expect(errorText(e("Single '}' encountered in format string"))).toBe("模板有误：花括号 { } 不成对或写法不对。");
    setLang("en");
    expect(errorText(e("unsupported placeholder {0}"))).toBe("Template error: unsupported placeholder {0}");
  });

  it("describes what an HTTP call threw: no network, a proxy's page, anything else", () => {
    expect(apiErrorText(new ApiError(0, { code: "network", message: "network error" }))).toBe(
      "无法连接咨询台，请检查网络后重试。",
    );
    expect(apiErrorWords(new ApiError(502, { code: "http_502", message: "Bad Gateway" }))).toEqual({
      text: "操作没有完成，请稍后再试。",
      code: "http_502",
    });
    expect(apiErrorText(new ApiError(409, { code: "ticket_taken", message: "taken" }))).toBe(
      "这条表单咨询已被其他咨询员领取或已答复。",
    );
    expect(apiErrorText(new TypeError("x is undefined"))).toBe("操作没有完成，请稍后再试（错误代码：client）。");
  });
});

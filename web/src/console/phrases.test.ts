import { describe, expect, it } from "vitest";
import { fillMinutes, forLanguage, needsMinutes, search, slashQuery, unknownShortcut } from "./phrases";
import type { Phrase } from "./types";

let n = 0;
function phrase(p: Partial<Phrase>): Phrase {
  return { id: ++n, scope: "personal", shortcut: "x", title: "", body: "", language: "zh-CN", ...p };
}

describe("forLanguage", () => {
  it("puts the chat's language first and lets a personal phrase hide the library one", () => {
    // The desk lists personal phrases first.
    const mineZh = phrase({ shortcut: "busy", language: "zh-CN", body: "我的" });
    const mineEn = phrase({ shortcut: "hi", language: "en" });
    const libZh = phrase({ scope: "library", shortcut: "busy", language: "zh", body: "本馆" });
    const libEn = phrase({ scope: "library", shortcut: "busy", language: "en" });
    const libZh2 = phrase({ scope: "library", shortcut: "form", language: "zh-CN" });
    const all = [mineZh, mineEn, libZh, libEn, libZh2];
    expect(forLanguage(all, "en").map((p) => p.id)).toEqual([mineEn.id, libEn.id, mineZh.id, libZh2.id]);
    expect(forLanguage(all, "zh-CN").map((p) => p.id)).toEqual([mineZh.id, libZh2.id, mineEn.id, libEn.id]);
  });
});

describe("search", () => {
  const list = [
    phrase({ shortcut: "busy", title: "正忙", body: "正忙，请稍候 {minutes} 分钟" }),
    phrase({ shortcut: "form", title: "转表单", body: "busy librarians answer forms" }),
    phrase({ shortcut: "bye", title: "Goodbye", body: "再见" }),
  ];

  it("lists shortcut prefixes first, then any other match", () => {
    // "form" matches by its text ("busy librarians"), after the shortcut prefixes.
    expect(search(list, "b").map((p) => p.shortcut)).toEqual(["busy", "bye", "form"]);
    expect(search(list, "by").map((p) => p.shortcut)).toEqual(["bye"]);
    expect(search(list, "bus").map((p) => p.shortcut)).toEqual(["busy", "form"]);
    expect(search(list, " GOOD ").map((p) => p.shortcut)).toEqual(["bye"]);
    expect(search(list, "稍候").map((p) => p.shortcut)).toEqual(["busy"]);
    expect(search(list, "zzz")).toEqual([]);
  });

  it("returns everything (a copy) for an empty query", () => {
    const out = search(list, "  ");
    expect(out).toEqual(list);
    expect(out).not.toBe(list);
  });
});

describe("slashQuery", () => {
  it("finds the /query right before the caret", () => {
    expect(slashQuery("/bu", 3)).toEqual({ start: 0, query: "bu" });
    expect(slashQuery("hello /fo", 9)).toEqual({ start: 6, query: "fo" });
    expect(slashQuery("hello\n/", 7)).toEqual({ start: 6, query: "" });
  });

  it("ignores a slash inside a word or an address, and text after the caret", () => {
    expect(slashQuery("and/or", 6)).toBeNull();
    expect(slashQuery("see http://x.example/a", 22)).toBeNull();
    expect(slashQuery("/busy now", 9)).toBeNull();
    expect(slashQuery("/busy now", 5)).toEqual({ start: 0, query: "busy" });
  });
});

describe("minutes placeholder", () => {
  it("is detected and filled everywhere it appears", () => {
    expect(needsMinutes(phrase({ body: "请稍候 {minutes} 分钟" }))).toBe(true);
    expect(needsMinutes(phrase({ body: "请稍候" }))).toBe(false);
    expect(fillMinutes("{minutes} / {minutes}", 5)).toBe("5 / 5");
  });
});

describe("unknownShortcut", () => {
  const list = [phrase({ shortcut: "busy" }), phrase({ shortcut: "Form", language: "en" })];

  it("names the /shortcut a message starts with when no phrase has it", () => {
    expect(unknownShortcut("/xyz", list)).toBe("/xyz");
    expect(unknownShortcut("  /bsy 请稍候", list)).toBe("/bsy");
    expect(unknownShortcut("/usr/bin", list)).toBe("/usr");
  });

  it("is null for a known shortcut (any case, any language) and for other text", () => {
    expect(unknownShortcut("/busy", list)).toBeNull();
    expect(unknownShortcut("/form", list)).toBeNull();
    expect(unknownShortcut("/", list)).toBeNull();
    expect(unknownShortcut("/ 后面有空格", list)).toBeNull();
    expect(unknownShortcut("see /xyz", list)).toBeNull();
    expect(unknownShortcut("https://example.org/xyz", list)).toBeNull();
  });
});

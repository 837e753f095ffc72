// @vitest-environment happy-dom
// The start view's gate (closed, nobody online) from the library's public details, the next
// opening in words, and how often the widget asks the desk for those details.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { useStorage } from "../testing/storage";
import { Chat, INFO_MS, type LibraryInfo } from "./chat";
import { gateOf, liveFor, opening } from "./hours";

const DESK = "https://desk.example";

function info(extra: Partial<LibraryInfo> = {}): LibraryInfo {
  return { code: "demo-pl", name: "示例市公共图书馆", name_en: "Demo", languages: ["zh-CN", "en"], phone: "010-5555-0101", ...extra };
}

describe("gateOf", () => {
  it("says nothing while nothing is known, or for an older desk without hours", () => {
    expect(gateOf(null, "zh-CN")).toBeNull();
    expect(gateOf(info(), "zh-CN")).toBeNull();
  });

  it("is open as usual within hours (or with none set) when someone is online", () => {
    expect(gateOf(info({ open_now: true, live: { "zh-CN": true, en: false } }), "zh-CN")).toBeNull();
    expect(gateOf(info({ open_now: null, live: { "zh-CN": true } }), "zh-CN")).toBeNull();
  });

  it("is closed outside hours, with a chat only when someone could still answer", () => {
    const at = "2026-12-07T08:30:00+08:00";
    expect(gateOf(info({ open_now: false, opens_at: at, live: { "zh-CN": false, en: false } }), "zh-CN")).toEqual({
      kind: "closed",
      chat: false,
      opensAt: at,
    });
    expect(gateOf(info({ open_now: false, opens_at: null, live: { "zh-CN": false, en: true } }), "en")).toEqual({
      kind: "closed",
      chat: true,
      opensAt: null,
    });
  });

  it("offers the form first, and the queue, when open but nobody is online in the reader's language", () => {
    const lib = info({ open_now: true, live: { "zh-CN": true, en: false } });
    expect(gateOf(lib, "en")).toEqual({ kind: "nobody", chat: true, opensAt: null });
    expect(gateOf(info({ open_now: null, live: { "zh-CN": false } }), "zh-CN")?.kind).toBe("nobody");
  });

  it("matches languages by their base, and knows nothing of one the library does not serve", () => {
    expect(liveFor({ zh: true }, "zh-CN")).toBe(true);
    expect(liveFor({ "zh-CN": false, "zh-TW": true }, "zh-CN")).toBe(false);
    expect(liveFor({ "zh-CN": true }, "en")).toBeNull();
    expect(liveFor(undefined, "en")).toBeNull();
    expect(gateOf(info({ open_now: true, live: { "zh-CN": true } }), "en")).toBeNull();
  });
});

describe("opening", () => {
  // Wednesday 2 December 2026, 22:00 in Beijing (14:00 UTC).
  const NOW = Date.parse("2026-12-02T14:00:00Z");

  beforeEach(() => {
    // The reader's clock on Beijing time too, unless a test says otherwise.
    vi.spyOn(Date.prototype, "getTimezoneOffset").mockReturnValue(-480);
  });

  it("names the day as the library's clock has it, with the time as the library states it", () => {
    expect(opening("2026-12-02T23:00:00+08:00", "zh-CN", NOW)).toBe("今天 23:00");
    expect(opening("2026-12-03T08:30:00+08:00", "zh-CN", NOW)).toBe("明天 08:30");
    expect(opening("2026-12-07T08:30:00+08:00", "zh-CN", NOW)).toBe("周一 08:30");
    expect(opening("2026-12-07T08:30:00+08:00", "en", NOW)).toBe("Monday 08:30");
    expect(opening("2026-12-03T08:30:00+08:00", "en", NOW)).toBe("tomorrow 08:30");
    // A week or more ahead (a holiday): the date as well.
    expect(opening("2026-12-10T09:00:00+08:00", "zh-CN", NOW)).toBe("12月10日 周四 09:00");
    expect(opening("2026-12-10T09:00:00+08:00", "en", NOW)).toBe("Thursday 10 December, 09:00");
  });

  it("counts today and tomorrow in the library's time zone, not the reader's", () => {
    // 01:00 on 3 December in Beijing is still 2 December in UTC.
    const late = Date.parse("2026-12-02T17:00:00Z");
    expect(opening("2026-12-03T08:30:00+08:00", "zh-CN", late)).toBe("今天 08:30");
  });

  it("adds the library's UTC offset when the reader's clock is on another", () => {
    vi.spyOn(Date.prototype, "getTimezoneOffset").mockReturnValue(0);
    expect(opening("2026-12-07T08:30:00+08:00", "zh-CN", NOW)).toBe("周一 08:30（UTC+8）");
    expect(opening("2026-12-07T08:30:00+05:30", "en", NOW)).toBe("Monday 08:30 (UTC+5:30)");
    expect(opening("2026-12-07T08:30:00Z", "en", NOW)).toBe("Monday 08:30");
    expect(opening("2026-12-07T08:30:00-05:00", "en", NOW)).toBe("Monday 08:30 (UTC-5)");
  });

  it("gives nothing for a time it cannot read", () => {
    expect(opening("", "zh-CN", NOW)).toBe("");
    expect(opening("next monday", "en", NOW)).toBe("");
  });
});

describe("the library's details", () => {
  let calls = 0;
  let reply: () => Partial<LibraryInfo> = () => ({});

  beforeEach(() => {
    useStorage();
    vi.useFakeTimers();
    calls = 0;
    vi.stubGlobal(
      "fetch",
      vi.fn(async (url: string) => {
        expect(url).toBe(`${DESK}/api/libraries/demo-pl`);
        calls += 1;
        return new Response(JSON.stringify({ ok: true, library: info(reply()) }), { status: 200 });
      }),
    );
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it("are asked for when the panel opens, then at most every 60 s", async () => {
    const chat = new Chat(DESK, "demo-pl", "zh-CN");
    expect(calls).toBe(0); // a page view asks for nothing
    reply = () => ({ open_now: true, live: { "zh-CN": false } });
    chat.watchLibrary(true);
    await vi.advanceTimersByTimeAsync(10);
    expect(calls).toBe(1);
    expect(chat.info?.live).toEqual({ "zh-CN": false });

    // Closed and opened again soon: the details are fresh enough.
    chat.watchLibrary(false);
    chat.watchLibrary(true);
    await vi.advanceTimersByTimeAsync(10);
    expect(calls).toBe(1);

    // While it stays open: once a minute, with what the desk says now.
    reply = () => ({ open_now: true, live: { "zh-CN": true } });
    await vi.advanceTimersByTimeAsync(INFO_MS - 30);
    expect(calls).toBe(1); // not before 60 s
    await vi.advanceTimersByTimeAsync(30);
    expect(calls).toBe(2);
    expect(chat.info?.live).toEqual({ "zh-CN": true });
    await vi.advanceTimersByTimeAsync(INFO_MS);
    expect(calls).toBe(3);

    // Closed: no more; opened a minute later: asked again at once.
    chat.watchLibrary(false);
    await vi.advanceTimersByTimeAsync(3 * INFO_MS);
    expect(calls).toBe(3);
    chat.watchLibrary(true);
    await vi.advanceTimersByTimeAsync(10);
    expect(calls).toBe(4);
    chat.watchLibrary(false);
  });

  it("are not polled while a chat is under way", async () => {
    const chat = new Chat(DESK, "demo-pl", "zh-CN");
    chat.watchLibrary(true);
    await vi.advanceTimersByTimeAsync(10);
    expect(calls).toBe(1);
    chat.cid = 7;
    await vi.advanceTimersByTimeAsync(5 * INFO_MS);
    expect(calls).toBe(1);
    chat.watchLibrary(false);
  });

  it("are asked for again at the next opening after a failure", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => Promise.reject(new TypeError("offline"))));
    const chat = new Chat(DESK, "demo-pl", "zh-CN");
    chat.watchLibrary(true);
    await vi.advanceTimersByTimeAsync(10);
    expect(chat.info).toBeNull();
    chat.watchLibrary(false);
    const again = vi.fn(async () => new Response(JSON.stringify({ ok: true, library: info() }), { status: 200 }));
    vi.stubGlobal("fetch", again);
    chat.watchLibrary(true);
    await vi.advanceTimersByTimeAsync(10);
    expect(again).toHaveBeenCalledTimes(1);
    expect(chat.info?.name).toBe("示例市公共图书馆");
    chat.watchLibrary(false);
  });
});

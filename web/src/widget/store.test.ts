// @vitest-environment happy-dom
import { beforeEach, describe, expect, it, vi } from "vitest";
import { type TestStorage, useStorage } from "../testing/storage";
import type { OutItem } from "./store";

const DESK = "https://desk.example";
const LIB = "demo-pl";
const P = `deskwidget:${DESK}:`;

/** A fresh copy of the module: its in-memory fallback starts empty, as on a new page. */
async function freshStore() {
  vi.resetModules();
  return (await import("./store")).Store;
}

const out = (cmid: string, cid: number | null = null, body = `text ${cmid}`): OutItem => ({ cmid, body, cid });
const cmids = (items: OutItem[]) => items.map((o) => o.cmid);

let storage: TestStorage;

beforeEach(() => {
  storage = useStorage();
});

describe("Store keys", () => {
  it("are namespaced by desk origin and library", async () => {
    const Store = await freshStore();
    const s = new Store(DESK, LIB);
    expect([s.tokenKey, s.libKey, s.outKey, s.ticketKey]).toEqual([
      `${P}token`,
      `${P}lib:${LIB}`,
      `${P}out:${LIB}`,
      `${P}tickets:${LIB}`,
    ]);
    s.editOut(() => [out("a")]);
    expect(new Store("https://other.example", LIB).outbox()).toEqual([]);
    expect(new Store(DESK, "demo-ul").outbox()).toEqual([]);
  });
});

describe("Store outbox", () => {
  it("keeps unsent messages in order and removes the key when empty", async () => {
    const Store = await freshStore();
    const s = new Store(DESK, LIB);
    s.editOut((all) => [...all, out("a")]);
    s.editOut((all) => [...all, out("b", 3)]);
    expect(s.outbox()).toEqual([out("a"), out("b", 3)]);
    s.editOut((all) => all.filter((o) => o.cmid !== "a"));
    expect(cmids(s.outbox())).toEqual(["b"]);
    s.editOut((all) => all.filter((o) => o.cmid !== "b"));
    expect(localStorage.getItem(s.outKey)).toBeNull();
  });

  it("survives a reload: a new page reads the stored outbox", async () => {
    const first = new (await freshStore())(DESK, LIB);
    first.editOut(() => [out("a", null, "第一个问题"), out("b", 12)]);
    const reloaded = new (await freshStore())(DESK, LIB);
    expect(reloaded.outbox()).toEqual([out("a", null, "第一个问题"), out("b", 12)]);
  });

  it("never loses another tab's unsent message: every edit reads storage first", async () => {
    const Store = await freshStore();
    const tab1 = new Store(DESK, LIB);
    const tab2 = new Store(DESK, LIB);
    tab1.editOut((all) => [...all, out("a")]);
    tab2.editOut((all) => [...all, out("b")]);
    tab1.editOut((all) => [...all, out("c")]);
    expect(cmids(tab2.outbox())).toEqual(["a", "b", "c"]);
    // One tab's acknowledgement removes only that message.
    tab2.editOut((all) => all.filter((o) => o.cmid !== "a"));
    expect(cmids(tab1.outbox())).toEqual(["b", "c"]);
  });

  it("skips stored entries that are not messages and a value that is not JSON", async () => {
    const s = new (await freshStore())(DESK, LIB);
    localStorage.setItem(s.outKey, JSON.stringify([out("a"), null, { cmid: 1, body: "x" }, { body: "no id" }, out("b")]));
    expect(cmids(s.outbox())).toEqual(["a", "b"]);
    localStorage.setItem(s.outKey, "{not json");
    expect(s.outbox()).toEqual([]);
    localStorage.setItem(s.outKey, JSON.stringify({ cmid: "a" }));
    expect(s.outbox()).toEqual([]);
  });
});

describe("Store.load", () => {
  it("starts empty", async () => {
    const s = new (await freshStore())(DESK, LIB);
    expect(s.load()).toEqual({ cid: null, lastSeq: 0, version: 0 });
  });

  it("reads back what was saved", async () => {
    const s = new (await freshStore())(DESK, LIB);
    s.save({ cid: 8, lastSeq: 14, version: 3, lang: "en", open: true });
    expect(new (await freshStore())(DESK, LIB).load()).toEqual({ cid: 8, lastSeq: 14, version: 3, lang: "en", open: true });
  });

  it("moves the outbox of earlier versions out of the record, once and without duplicates", async () => {
    const s = new (await freshStore())(DESK, LIB);
    // Another tab already runs the new version and has an unsent message of its own.
    localStorage.setItem(s.outKey, JSON.stringify([out("b", 8, "kept")]));
    localStorage.setItem(
      s.libKey,
      JSON.stringify({ cid: 8, lastSeq: 5, version: 2, outbox: [out("a", 8), out("b", 8, "old copy"), { body: "bad" }] }),
    );
    expect(s.load()).toEqual({ cid: 8, lastSeq: 5, version: 2 });
    const stored = JSON.parse(localStorage.getItem(s.libKey) ?? "null") as Record<string, unknown>;
    expect(stored).toEqual({ cid: 8, lastSeq: 5, version: 2 });
    expect("outbox" in stored).toBe(false);
    expect(cmids(s.outbox()).sort()).toEqual(["a", "b"]);
    expect(s.outbox().filter((o) => o.cmid === "b")).toHaveLength(1);
    // Loading again changes nothing.
    s.load();
    expect(s.outbox()).toHaveLength(2);
  });

  it("falls back to an empty record when the stored one is not JSON", async () => {
    const s = new (await freshStore())(DESK, LIB);
    localStorage.setItem(s.libKey, "{oops");
    expect(s.load()).toEqual({ cid: null, lastSeq: 0, version: 0 });
  });
});

describe("Store without working storage", () => {
  it("keeps the token, the record and the outbox in memory for the page", async () => {
    const s = new (await freshStore())(DESK, LIB);
    storage.breakAll();
    s.token = "tok";
    s.save({ cid: 3, lastSeq: 1, version: 1 });
    s.editOut((all) => [...all, out("a", 3)]);
    s.editOut((all) => [...all, out("b", 3)]);
    expect(s.token).toBe("tok");
    expect(s.load()).toEqual({ cid: 3, lastSeq: 1, version: 1 });
    expect(cmids(s.outbox())).toEqual(["a", "b"]);
    s.editOut((all) => all.filter((o) => o.cmid !== "a"));
    expect(cmids(s.outbox())).toEqual(["b"]);
    // Nothing reached the real storage.
    expect(storage.length).toBe(0);
    s.clear();
    expect(s.token).toBeNull();
    expect(s.outbox()).toEqual([]);
  });

  it("works when even reading window.localStorage throws", async () => {
    const s = new (await freshStore())(DESK, LIB);
    vi.stubGlobal("localStorage", undefined);
    vi.spyOn(window, "localStorage", "get").mockImplementation(() => {
      throw new DOMException("denied", "SecurityError");
    });
    expect(() => window.localStorage).toThrow();
    s.editOut(() => [out("a")]);
    expect(cmids(s.outbox())).toEqual(["a"]);
    expect(s.load()).toEqual({ cid: null, lastSeq: 0, version: 0 });
  });

  it("does not bring back a removed message from a stale stored copy when storage is full", async () => {
    const s = new (await freshStore())(DESK, LIB);
    s.editOut(() => [out("a"), out("b")]);
    // Storage now refuses writes (quota), but still reads the old copy.
    storage.failSet = true;
    s.editOut((all) => all.filter((o) => o.cmid !== "a"));
    expect(cmids(s.outbox())).toEqual(["b"]);
    s.editOut((all) => [...all, out("c")]);
    expect(cmids(s.outbox())).toEqual(["b", "c"]);
    // Writes work again: the next change is stored and memory is dropped.
    storage.failSet = false;
    s.editOut((all) => [...all, out("d")]);
    expect(JSON.parse(localStorage.getItem(s.outKey) ?? "[]")).toEqual([out("b"), out("c"), out("d")]);
    const reloaded = new (await freshStore())(DESK, LIB);
    expect(cmids(reloaded.outbox())).toEqual(["b", "c", "d"]);
  });
});

describe("Store tickets and clear", () => {
  it("keeps the newest ten tickets, once per link, http(s) only", async () => {
    const s = new (await freshStore())(DESK, LIB);
    for (let i = 1; i <= 12; i++) s.addTicket({ id: i, url: `https://desk.example/tickets/t${i}`, at: i });
    s.addTicket({ id: 5, url: "https://desk.example/tickets/t5", at: 99 });
    const list = s.tickets();
    expect(list).toHaveLength(10);
    expect(list[0]).toEqual({ id: 5, url: "https://desk.example/tickets/t5", at: 99 });
    expect(list.filter((t) => t.id === 5)).toHaveLength(1);
    localStorage.setItem(s.ticketKey, JSON.stringify([{ id: 1, url: "javascript:alert(1)", at: 1 }]));
    expect(s.tickets()).toEqual([]);
  });

  it("forgets everything of this library and the token", async () => {
    const s = new (await freshStore())(DESK, LIB);
    s.token = "tok";
    s.save({ cid: 1, lastSeq: 2, version: 1 });
    s.editOut(() => [out("a")]);
    s.addTicket({ id: 1, url: "https://desk.example/tickets/t1", at: 1 });
    localStorage.setItem(`${P}lib:demo-ul`, "{}");
    s.clear();
    expect(localStorage.length).toBe(1);
    expect(localStorage.getItem(`${P}lib:demo-ul`)).toBe("{}");
  });
});

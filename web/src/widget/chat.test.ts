// @vitest-environment happy-dom
// The reader's outbox end to end against a stand-in socket: messages written offline survive a
// reload and go out once, in order, one at a time; failures of the desk keep them, refusals
// remove them; a message that came back before its acknowledgement is shown once.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { answerWith, NO_ANSWER, type FakeSocket, settle, sockets } from "../testing/socket";
import { type TestStorage, useStorage } from "../testing/storage";
import { Chat, type Consultation, type Message } from "./chat";
import { unsent } from "./messages";
import type { OutItem } from "./store";

vi.mock("socket.io-client", async () => (await import("../testing/socket")).socketModule);

const DESK = "https://desk.example";
const LIB = "demo-pl";
const P = `deskwidget:${DESK}:`;
const CID = 21;

let storage: TestStorage;

function consultation(extra: Partial<Consultation> = {}): Consultation {
  return { id: CID, library: LIB, language: "zh-CN", state: "assigned", consultant: null, version: 3, ended_by: null, ...extra };
}

function msg(seq: number, extra: Partial<Message> = {}): Message {
  return {
    consultation_id: CID,
    seq,
    client_msg_id: null,
    author_kind: "consultant",
    author_id: 5,
    body: `m${seq}`,
    created_at: "2026-03-01T10:00:00Z",
    ...extra,
  };
}

function storedOutbox(): OutItem[] {
  return JSON.parse(storage.peek(`${P}out:${LIB}`) ?? "[]") as OutItem[];
}

/** A reader with a token and a chat under way, and messages written while offline. */
function readerWithUnsent(items: OutItem[]): void {
  storage.setItem(`${P}token`, "tok");
  storage.setItem(`${P}lib:${LIB}`, JSON.stringify({ cid: CID, lastSeq: 2, version: 3 }));
  storage.setItem(`${P}out:${LIB}`, JSON.stringify(items));
}

/** The desk: resume gives the chat (with `history`), message.send stores with the next seq. */
function desk(history: Message[], sendReply?: (p: Record<string, unknown>) => unknown): void {
  let seq = Math.max(0, ...history.map((m) => m.seq));
  const stored = new Map<string, number>(history.filter((m) => m.client_msg_id).map((m) => [m.client_msg_id as string, m.seq]));
  answerWith((event, p) => {
    if (event === "resume") {
      return { ok: true, consultations: [{ consultation_id: CID, consultation: consultation(), messages: history, more: false }] };
    }
    if (event === "message.send") {
      const custom = sendReply?.(p);
      if (custom !== undefined) return custom;
      const cmid = p.client_msg_id as string;
      const known = stored.get(cmid);
      if (known !== undefined) return { ok: true, seq: known, created_at: "2026-03-01T10:05:00Z", duplicate: true };
      stored.set(cmid, (seq += 2)); // a staff note takes the seq in between
      return { ok: true, seq, prev: seq - 2, created_at: "2026-03-01T10:05:00Z", duplicate: false };
    }
    if (event === "history") return { ok: true, messages: [], more: false };
    return { ok: true };
  });
}

/** A new page (a reload): a Chat that reads what storage holds, connected to the desk. */
async function connect(onRefused?: Chat["onRefused"]): Promise<{ chat: Chat; socket: FakeSocket }> {
  const chat = new Chat(DESK, LIB, "zh-CN");
  if (onRefused) chat.onRefused = onRefused;
  await chat.start();
  await settle(200);
  return { chat, socket: sockets[sockets.length - 1] };
}

beforeEach(() => {
  storage = useStorage();
  sockets.length = 0;
});

afterEach(() => {
  vi.useRealTimers();
});

describe("the widget's outbox against the desk", () => {
  it("sends what was written offline after a reload, once each and in order", async () => {
    readerWithUnsent([
      { cmid: "a", body: "第一条", cid: CID },
      { cmid: "b", body: "第二条", cid: CID },
    ]);
    desk([msg(1, { author_kind: "reader" }), msg(2)]);
    const { chat, socket } = await connect();
    expect(socket.sent("message.send").map((p) => p.client_msg_id)).toEqual(["a", "b"]);
    expect(socket.sent("message.send").map((p) => p.body)).toEqual(["第一条", "第二条"]);
    expect(chat.outbox).toEqual([]);
    expect(storage.peek(`${P}out:${LIB}`)).toBeNull();
    expect(chat.sorted().map((m) => [m.seq, m.client_msg_id])).toEqual([
      [1, null],
      [2, null],
      [4, "a"],
      [6, "b"],
    ]);
  });

  it("waits for each acknowledgement before sending the next message", async () => {
    readerWithUnsent([
      { cmid: "a", body: "one", cid: CID },
      { cmid: "b", body: "two", cid: CID },
    ]);
    let release: (v: unknown) => void = () => {};
    const held = new Promise((r) => (release = r));
    desk([], (p) => (p.client_msg_id === "a" ? held : undefined));
    const { chat, socket } = await connect();
    expect(socket.sent("message.send").map((p) => p.client_msg_id)).toEqual(["a"]);
    expect(chat.sending).toBe("a");
    release({ ok: true, seq: 3, created_at: "2026-03-01T10:05:00Z" });
    await settle(200);
    expect(socket.sent("message.send").map((p) => p.client_msg_id)).toEqual(["a", "b"]);
    expect(chat.outbox).toEqual([]);
  });

  it("sends a message written while another is on its way only after that one", async () => {
    readerWithUnsent([]);
    const held: ((v: unknown) => void)[] = [];
    desk([], () => new Promise((r) => held.push(r)));
    const { chat, socket } = await connect();
    chat.send("one");
    chat.send("two");
    await settle(50);
    expect(socket.sent("message.send").map((p) => p.body)).toEqual(["one"]);
    held[0]({ ok: true, seq: 1, created_at: "2026-03-01T10:05:00Z" });
    await settle(100);
    expect(socket.sent("message.send").map((p) => p.body)).toEqual(["one", "two"]);
    held[1]({ ok: true, seq: 2, created_at: "2026-03-01T10:05:00Z" });
    await settle(100);
    expect(chat.sorted().map((m) => m.body)).toEqual(["one", "two"]);
    expect(chat.outbox).toEqual([]);
  });

  it("keeps a message after a failure of the desk and resends it with the same id", async () => {
    vi.useFakeTimers();
    readerWithUnsent([
      { cmid: "a", body: "one", cid: CID },
      { cmid: "b", body: "two", cid: CID },
    ]);
    let failures = 1;
    desk([], (p) => (p.client_msg_id === "a" && failures-- > 0 ? { ok: false, error: { code: "store_failed" } } : undefined));
    const { chat, socket } = await connect();
    // Kept, and nothing sent after it: the order must hold.
    expect(socket.sent("message.send").map((p) => p.client_msg_id)).toEqual(["a"]);
    expect(storedOutbox().map((o) => o.cmid)).toEqual(["a", "b"]);
    expect(chat.failed).toEqual([]);
    await vi.advanceTimersByTimeAsync(3000);
    expect(socket.sent("message.send").map((p) => p.client_msg_id)).toEqual(["a", "a", "b"]);
    expect(chat.outbox).toEqual([]);
  });

  it("keeps a message whose acknowledgement never comes, and one that is not an object", async () => {
    vi.useFakeTimers();
    readerWithUnsent([{ cmid: "a", body: "one", cid: CID }]);
    const replies: unknown[] = [NO_ANSWER, undefined];
    desk([], () => (replies.length ? (replies.shift() ?? null) : undefined));
    const { chat, socket } = await connect();
    expect(chat.outbox.map((o) => o.cmid)).toEqual(["a"]);
    await vi.advanceTimersByTimeAsync(3000);
    expect(chat.outbox.map((o) => o.cmid)).toEqual(["a"]);
    await vi.advanceTimersByTimeAsync(3000);
    expect(socket.sent("message.send").map((p) => p.client_msg_id)).toEqual(["a", "a", "a"]);
    expect(chat.outbox).toEqual([]);
    expect(chat.failed).toEqual([]);
  });

  it("removes a refused message, gives its text back, and goes on with the next", async () => {
    readerWithUnsent([
      { cmid: "a", body: "x".repeat(5000), cid: CID },
      { cmid: "b", body: "short", cid: CID },
    ]);
    const refused: string[] = [];
    desk([], (p) =>
      p.client_msg_id === "a" ? { ok: false, error: { code: "message_too_long", details: { limit: 2000 } } } : undefined,
    );
    const { chat, socket } = await connect((f) => refused.push(`${f.cmid}:${f.error.code}`));
    expect(refused).toEqual(["a:message_too_long"]);
    expect(chat.failed.map((f) => f.cmid)).toEqual(["a"]);
    expect(socket.sent("message.send").map((p) => p.client_msg_id)).toEqual(["a", "b"]);
    expect(chat.outbox).toEqual([]);
  });

  it("shows a message that came back through resume before its acknowledgement once", async () => {
    readerWithUnsent([{ cmid: "a", body: "one", cid: CID }]);
    let release: (v: unknown) => void = () => {};
    const held = new Promise((r) => (release = r));
    desk([msg(1), msg(2, { author_kind: "reader", client_msg_id: "a", body: "one" })], () => held);
    const { chat, socket } = await connect();
    expect(unsent(chat.sorted(), chat.outbox)).toEqual([]);
    release({ ok: true, seq: 2, created_at: "2026-03-01T10:05:00Z", duplicate: true });
    await settle(200);
    expect(socket.sent("message.send")).toHaveLength(1);
    expect(chat.sorted().filter((m) => m.client_msg_id === "a").map((m) => m.seq)).toEqual([2]);
    expect(chat.outbox).toEqual([]);
  });

  it("orders live messages by seq and keeps each seq once", async () => {
    readerWithUnsent([]);
    desk([msg(1)]);
    const { chat, socket } = await connect();
    socket.fire("message", msg(5));
    socket.fire("message", msg(3));
    socket.fire("message", msg(5, { body: "again" }));
    socket.fire("message", msg(9, { consultation_id: 99 }));
    expect(chat.sorted().map((m) => [m.seq, m.body])).toEqual([
      [1, "m1"],
      [3, "m3"],
      [5, "m5"],
    ]);
    expect(chat.unread()).toBe(3);
  });

  it("keeps a message written while the network is down until the next resume", async () => {
    readerWithUnsent([]);
    desk([]);
    const { chat, socket } = await connect();
    socket.drop();
    chat.send("offline");
    await settle(50);
    expect(socket.sent("message.send")).toEqual([]);
    expect(chat.outbox.map((o) => o.body)).toEqual(["offline"]);
    // A reload meanwhile still has it.
    expect(storedOutbox().map((o) => o.body)).toEqual(["offline"]);
    socket.connect();
    await settle(200);
    expect(socket.sent("message.send").map((p) => p.body)).toEqual(["offline"]);
    expect(chat.outbox).toEqual([]);
  });
});

describe("gaps in the chat's seqs", () => {
  const four = [1, 2, 3, 4].map((s) => msg(s));
  const savedSeq = () => (JSON.parse(storage.peek(`${P}lib:${LIB}`) ?? "{}") as { lastSeq?: number }).lastSeq;

  /** A chat holding seqs 1-4; `history` answered by `pages` (the last one repeated). */
  async function chatWithGaps(pages: unknown[], sendReply?: (p: Record<string, unknown>) => unknown) {
    vi.useFakeTimers();
    readerWithUnsent([]);
    desk(four, sendReply);
    const { chat, socket } = await connect();
    const base = socket.answer;
    socket.answer = (event, p) => (event === "history" ? (pages.length > 1 ? pages.shift() : pages[0]) : base(event, p));
    return { chat, socket };
  }

  it("fetches what is missing after an out-of-order live message once, after the delay", async () => {
    const { chat, socket } = await chatWithGaps([{ ok: true, messages: [msg(5), msg(6)], more: false }]);
    socket.fire("message", msg(6, { prev: 5 }));
    expect(chat.contiguousSeq()).toBe(4);
    // A reload now must still ask for 5.
    expect(savedSeq()).toBe(4);
    await vi.advanceTimersByTimeAsync(1499);
    expect(socket.sent("history")).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(socket.sent("history")).toEqual([{ consultation_id: CID, after_seq: 4 }]);
    expect(chat.sorted().map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(savedSeq()).toBe(6);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(socket.sent("history")).toHaveLength(1);
  });

  it("pages from the contiguous seq while the desk has more", async () => {
    const { socket } = await chatWithGaps([
      { ok: true, messages: [msg(5), msg(6)], more: true },
      { ok: true, messages: [msg(7), msg(9)], more: false },
    ]);
    socket.fire("message", msg(9, { prev: 7 }));
    await vi.advanceTimersByTimeAsync(1500);
    expect(socket.sent("history")).toEqual([
      { consultation_id: CID, after_seq: 4 },
      { consultation_id: CID, after_seq: 6 },
    ]);
  });

  it("stops paging when a page does not move the contiguous seq", async () => {
    const nothing = { ok: true, messages: [], more: true };
    const { socket } = await chatWithGaps([nothing, nothing, { ok: true, messages: [], more: false }]);
    socket.fire("message", msg(6, { prev: 5 }));
    await vi.advanceTimersByTimeAsync(1500);
    expect(socket.sent("history")).toEqual([{ consultation_id: CID, after_seq: 4 }]);
  });

  it("fetches nothing when the late message arrives within the delay", async () => {
    const { chat, socket } = await chatWithGaps([{ ok: true, messages: [], more: false }]);
    socket.fire("message", msg(6, { prev: 5 }));
    await vi.advanceTimersByTimeAsync(1000);
    socket.fire("message", msg(5, { prev: 4 }));
    expect(chat.contiguousSeq()).toBe(6);
    await vi.advanceTimersByTimeAsync(5000);
    expect(socket.sent("history")).toEqual([]);
  });

  it("resumes from the seq before a lost relay, and drops the pending fetch on disconnect", async () => {
    const { socket } = await chatWithGaps([{ ok: true, messages: [], more: false }]);
    socket.fire("message", msg(6, { prev: 5 }));
    socket.drop();
    socket.connect();
    await vi.advanceTimersByTimeAsync(0);
    expect(socket.sent("resume").map((p) => p.consultations)).toEqual([
      [{ consultation_id: CID, last_seq: 0, version: 0 }],
      [{ consultation_id: CID, last_seq: 4, version: 3 }],
    ]);
    // The resume answer is the desk's word: the timer set before the drop is gone.
    await vi.advanceTimersByTimeAsync(5000);
    expect(socket.sent("history")).toEqual([]);
  });

  it("links an acknowledgement by its prev, and fetches again around one without (a retry)", async () => {
    const acks: Record<string, unknown> = {
      // Seq 5 is a staff note the reader never sees.
      a: { ok: true, seq: 6, prev: 4, created_at: "2026-03-01T10:05:00Z", duplicate: false },
      b: { ok: true, seq: 8, created_at: "2026-03-01T10:05:00Z", duplicate: true },
    };
    const { chat, socket } = await chatWithGaps([{ ok: true, messages: [msg(7), msg(8)], more: false }], (p) => acks[p.body as string]);
    chat.send("a");
    await vi.advanceTimersByTimeAsync(3000);
    expect(chat.contiguousSeq()).toBe(6);
    expect(socket.sent("history")).toEqual([]);
    chat.send("b");
    await vi.advanceTimersByTimeAsync(0);
    expect(chat.contiguousSeq()).toBe(6);
    await vi.advanceTimersByTimeAsync(1500);
    expect(socket.sent("history")).toEqual([{ consultation_id: CID, after_seq: 6 }]);
    expect(chat.contiguousSeq()).toBe(8);
    // The acknowledgement's copy of 8 came first and is kept.
    expect(chat.sorted().map((m) => [m.seq, m.body])).toEqual([
      [1, "m1"],
      [2, "m2"],
      [3, "m3"],
      [4, "m4"],
      [6, "a"],
      [7, "m7"],
      [8, "b"],
    ]);
  });

  it("does not ask again when a fetch left the gap, until a new message comes", async () => {
    const { socket } = await chatWithGaps([{ ok: true, messages: [], more: false }]);
    socket.fire("message", msg(6, { prev: 5 }));
    await vi.advanceTimersByTimeAsync(1500);
    expect(socket.sent("history")).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(30_000);
    socket.fire("message", msg(6, { prev: 5 })); // an old copy is no news
    await vi.advanceTimersByTimeAsync(5000);
    expect(socket.sent("history")).toHaveLength(1);
    socket.fire("message", msg(7, { prev: 6 }));
    await vi.advanceTimersByTimeAsync(1500);
    expect(socket.sent("history")).toEqual([
      { consultation_id: CID, after_seq: 4 },
      { consultation_id: CID, after_seq: 4 },
    ]);
  });

  it("asks again, later each time, when a fetch gets no answer", async () => {
    const failed = { ok: false, error: { code: "unavailable", message: "restarting" } };
    const { socket } = await chatWithGaps([failed, failed, { ok: true, messages: [msg(5)], more: false }]);
    socket.fire("message", msg(6, { prev: 5 }));
    await vi.advanceTimersByTimeAsync(1500);
    expect(socket.sent("history")).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(2999);
    expect(socket.sent("history")).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(socket.sent("history")).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(6000);
    expect(socket.sent("history")).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(socket.sent("history")).toHaveLength(3);
  });

  it("has one fetch on its way, and fills a gap that opened meanwhile after it", async () => {
    let release: (v: unknown) => void = () => {};
    const held = new Promise((r) => (release = r));
    const { chat, socket } = await chatWithGaps([held, { ok: true, messages: [msg(7), msg(8)], more: false }]);
    socket.fire("message", msg(6, { prev: 5 }));
    await vi.advanceTimersByTimeAsync(1500);
    socket.fire("message", msg(8, { prev: 7 }));
    await vi.advanceTimersByTimeAsync(5000);
    expect(socket.sent("history")).toHaveLength(1);
    release({ ok: true, messages: [msg(5), msg(6)], more: false });
    await vi.advanceTimersByTimeAsync(1499);
    expect(socket.sent("history")).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(socket.sent("history")).toEqual([
      { consultation_id: CID, after_seq: 4 },
      { consultation_id: CID, after_seq: 6 },
    ]);
    expect(chat.sorted().map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });
});

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
      return { ok: true, seq, created_at: "2026-03-01T10:05:00Z", duplicate: false };
    }
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

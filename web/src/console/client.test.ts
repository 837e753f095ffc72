// @vitest-environment happy-dom
// The console's outbox and message list end to end against a stand-in socket: one message in
// flight per chat, kept after failures of the desk, refused ones shown as not sent, an outbox
// that survives a reload, a message stored meanwhile not sent again, seq order, sign-out.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { answerWith, type FakeSocket, settle, sockets } from "../testing/socket";
import { type TestStorage, useStorage } from "../testing/storage";
import { type Alerts, DeskClient } from "./client";
import type { OutboxItem } from "./outbox";
import type { Consultation, Me, Message } from "./types";

vi.mock("socket.io-client", async () => (await import("../testing/socket")).socketModule);

const ME: Me = { id: 3, name: "王老师", username: "wang", role: "consultant", library_id: 1, languages: ["zh-CN"], max_chats: 4 };
const OUTBOX = `desk.console.outbox.${ME.id}`;
const CHATS = `desk.console.chats.${ME.id}`;

let storage: TestStorage;

const alerts: Alerts = { newChat: () => {}, newMessage: () => {}, toast: () => {}, expired: () => {} };

function consultation(id: number): Consultation {
  return {
    id,
    library: "demo-pl",
    language: "zh-CN",
    state: "assigned",
    consultant: { id: ME.id, name: ME.name },
    version: 2,
    created_at: "2026-03-01T10:00:00Z",
    ended_at: null,
    ended_by: null,
    read: { reader: 0, staff: 0 },
    last_seq: 0,
    reader_id: 100 + id,
    subject: "",
    assignee_id: ME.id,
    queued_at: "2026-03-01T10:00:00Z",
    offer_expires_at: null,
    serving_library_id: null,
  };
}

function msg(cid: number, seq: number, extra: Partial<Message> = {}): Message {
  return {
    consultation_id: cid,
    seq,
    client_msg_id: null,
    author_kind: "reader",
    author_id: null,
    visibility: "all",
    body: `m${seq}`,
    created_at: "2026-03-01T10:00:00Z",
    ...extra,
  };
}

/**
 * The desk: resume gives chats 1 and 2 with `history`; message.send stores with the next seq of
 * the chat unless `sendReply` answers otherwise.
 */
function desk(history: Message[], sendReply?: (p: Record<string, unknown>) => unknown): void {
  const seqs = new Map<number, number>([
    [1, 10],
    [2, 20],
  ]);
  answerWith((event, p) => {
    switch (event) {
      case "resume":
        return {
          ok: true,
          status: "online",
          load: 2,
          capacity: 4,
          consultations: [1, 2].map((id) => ({
            consultation_id: id,
            consultation: consultation(id),
            messages: history.filter((m) => m.consultation_id === id),
            more: false,
          })),
        };
      case "message.send": {
        const custom = sendReply?.(p);
        if (custom !== undefined) return custom;
        const cid = p.consultation_id as number;
        const seq = (seqs.get(cid) ?? 0) + 1;
        seqs.set(cid, seq);
        return { ok: true, seq, created_at: "2026-03-01T10:05:00Z", duplicate: false };
      }
      case "history":
        return { ok: true, messages: [], more: false };
      case "queue.list":
        return { ok: true, queue: [] };
      case "colleagues.list":
        return { ok: true, colleagues: [], libraries: [] };
      default:
        return { ok: true };
    }
  });
}

const clients: DeskClient[] = [];

/** A new page of the console (a reload): reads storage, connects, resumes. */
async function open(): Promise<{ client: DeskClient; socket: FakeSocket }> {
  const client = new DeskClient(ME, alerts);
  clients.push(client);
  client.start();
  const socket = sockets[sockets.length - 1];
  socket.connect();
  await settle(200);
  return { client, socket };
}

const sentIds = (socket: FakeSocket) => socket.sent("message.send").map((p) => p.client_msg_id);
const bodies = (socket: FakeSocket) => socket.sent("message.send").map((p) => p.body);
const seqsOf = (client: DeskClient, cid: number) => client.chats.get(cid)?.messages.map((m) => m.seq);

beforeEach(() => {
  storage = useStorage();
  sockets.length = 0;
});

afterEach(() => {
  for (const c of clients.splice(0)) c.stop();
  vi.useRealTimers();
});

describe("the console's outbox against the desk", () => {
  it("has one message in flight per chat, and sends the next when it is acknowledged", async () => {
    const held: ((v: unknown) => void)[] = [];
    desk([], () => new Promise((r) => held.push(r)));
    const { client, socket } = await open();
    expect(client.conn).toBe("connected");
    client.send(1, "a1", false);
    client.send(1, "a2", false);
    client.send(2, "b1", true);
    await settle();
    expect(bodies(socket)).toEqual(["a1", "b1"]);
    expect(client.isInflight(1)).toBe(true);
    held[0]({ ok: true, seq: 11, created_at: "2026-03-01T10:05:00Z" });
    await settle(100);
    expect(bodies(socket)).toEqual(["a1", "b1", "a2"]);
    expect(client.outbox.forChat(1).map((i) => i.body)).toEqual(["a2"]);
    expect(client.chats.get(1)?.messages.map((m) => [m.seq, m.body, m.author_id])).toEqual([[11, "a1", ME.id]]);
    expect(socket.sent("message.send")[1]).toMatchObject({ consultation_id: 2, private: true });
  });

  it("keeps a message after a failure of the desk and resends it with the same id", async () => {
    vi.useFakeTimers();
    let failures = 2;
    desk([], () => (failures-- > 0 ? { ok: false, error: { code: "unavailable", message: "" } } : undefined));
    const { client, socket } = await open();
    client.send(1, "a1", false);
    client.send(1, "a2", false);
    await vi.advanceTimersByTimeAsync(0);
    expect(bodies(socket)).toEqual(["a1"]);
    expect(client.outbox.all().map((i) => i.body)).toEqual(["a1", "a2"]);
    expect(client.chats.get(1)?.failures).toEqual([]);
    // Back-off: 1 s, then 2 s.
    await vi.advanceTimersByTimeAsync(1000);
    expect(bodies(socket)).toEqual(["a1", "a1"]);
    await vi.advanceTimersByTimeAsync(1999);
    expect(bodies(socket)).toEqual(["a1", "a1"]);
    await vi.advanceTimersByTimeAsync(1);
    expect(bodies(socket)).toEqual(["a1", "a1", "a1", "a2"]);
    expect(new Set(sentIds(socket).slice(0, 3)).size).toBe(1);
    expect(client.outbox.all()).toEqual([]);
    expect(seqsOf(client, 1)).toEqual([11, 12]);
  });

  it("shows a refused message as not sent and goes on with the next", async () => {
    desk([], (p) => (p.body === "bad" ? { ok: false, error: { code: "consultation_ended", message: "ended" } } : undefined));
    const { client, socket } = await open();
    client.send(1, "bad", false);
    client.send(1, "good", false);
    await settle(100);
    expect(bodies(socket)).toEqual(["bad", "good"]);
    expect(client.chats.get(1)?.failures.map((f) => [f.body, f.reason.code])).toEqual([["bad", "consultation_ended"]]);
    expect(client.outbox.all()).toEqual([]);
    expect(client.chats.get(1)?.messages.map((m) => m.body)).toEqual(["good"]);
  });

  it("keeps the outbox over a reload, and does not resend what the desk stored meanwhile", async () => {
    // The last page wrote two messages and was closed before their acknowledgements.
    const items: OutboxItem[] = [
      { consultation_id: 1, client_msg_id: "c-stored", body: "already stored", private: false, queued_at: 1 },
      { consultation_id: 1, client_msg_id: "c-new", body: "not yet", private: false, queued_at: 2 },
    ];
    storage.setItem(OUTBOX, JSON.stringify(items));
    storage.setItem(CHATS, JSON.stringify([1, 2]));
    desk([
      msg(1, 1),
      msg(1, 3, { author_kind: "consultant", author_id: ME.id, client_msg_id: "c-stored", body: "already stored" }),
    ]);
    const { client, socket } = await open();
    // The reloaded page lists the stored tabs from seq 0 to get their whole history.
    expect(socket.sent("resume")[0]).toEqual({
      consultations: [
        { consultation_id: 1, last_seq: 0, version: 0 },
        { consultation_id: 2, last_seq: 0, version: 0 },
      ],
    });
    expect(sentIds(socket)).toEqual(["c-new"]);
    expect(client.outbox.all()).toEqual([]);
    expect(client.chats.get(1)?.messages.map((m) => m.client_msg_id)).toEqual([null, "c-stored", "c-new"]);
  });

  it("keeps a message written while disconnected and sends it after the next resume", async () => {
    desk([]);
    const { client, socket } = await open();
    socket.drop();
    expect(client.conn).toBe("reconnecting");
    client.send(2, "while offline", false);
    await settle();
    expect(bodies(socket)).toEqual([]);
    expect(JSON.parse(storage.peek(OUTBOX) ?? "[]")).toMatchObject([{ body: "while offline" }]);
    socket.connect();
    await settle(200);
    expect(bodies(socket)).toEqual(["while offline"]);
    expect(client.outbox.all()).toEqual([]);
  });

  it("orders live messages by seq, once per seq, and counts the unread ones", async () => {
    desk([msg(1, 1)]);
    const { client, socket } = await open();
    // Chat 1 was the active tab when the history came, so seq 1 is read; now it is not looked at.
    expect(client.chats.get(1)?.staffRead).toBe(1);
    client.activate(2);
    for (const m of [msg(1, 6), msg(1, 3), msg(1, 6, { body: "again" }), msg(1, 4, { author_kind: "consultant", author_id: ME.id })]) {
      socket.fire("message", m);
    }
    expect(client.chats.get(1)?.messages.map((m) => [m.seq, m.body])).toEqual([
      [1, "m1"],
      [3, "m3"],
      [4, "m4"],
      [6, "m6"],
    ]);
    // 3 and 6 from the reader; 4 is this consultant's own.
    expect(client.unread(client.chats.get(1)!)).toBe(2);
    expect(client.totalUnread()).toBe(2);
  });

  it("removes a pending message when it arrives from the desk (sent by another tab)", async () => {
    vi.useFakeTimers();
    desk([], () => ({ ok: false, error: { code: "timeout", message: "" } }));
    const { client, socket } = await open();
    client.send(1, "twice?", false);
    await vi.advanceTimersByTimeAsync(0);
    const cmid = client.outbox.all()[0].client_msg_id;
    socket.fire("message", msg(1, 11, { author_kind: "consultant", author_id: ME.id, client_msg_id: cmid, body: "twice?" }));
    expect(client.outbox.all()).toEqual([]);
    await vi.advanceTimersByTimeAsync(5000);
    expect(sentIds(socket)).toEqual([cmid]);
    expect(client.chats.get(1)?.messages.map((m) => m.client_msg_id)).toEqual([cmid]);
  });

  it("forgets the outbox, the tabs and the status at sign-out", async () => {
    desk([], () => new Promise(() => {}));
    const { client } = await open();
    client.send(1, "unsent", false);
    await settle();
    expect(storage.peek(OUTBOX)).not.toBeNull();
    client.forgetLocal();
    expect(storage.peek(OUTBOX)).toBeNull();
    expect(storage.peek(CHATS)).toBeNull();
    expect(storage.peek(`desk.console.status.${ME.id}`)).toBeNull();
    expect(client.outbox.all()).toEqual([]);
    expect(new DeskClient(ME, alerts).outbox.all()).toEqual([]);
  });
});

describe("backlog reminders", () => {
  it("tells the consultant of the reminders of tickets they hold, and refreshes on every change", async () => {
    vi.useFakeTimers();
    desk([]);
    const told: Array<[number, string]> = [];
    const client = new DeskClient(ME, { ...alerts, backlogReminder: (id, what) => told.push([id, what]) });
    clients.push(client);
    client.start();
    const socket = sockets[sockets.length - 1];
    socket.connect();
    await vi.advanceTimersByTimeAsync(0);
    const before = client.backlogVersion;
    const changed = (ticket_id: number, what: string, consultant_id: number | null) =>
      socket.fire("backlog.changed", { ticket_id, library_id: 1, what, consultant_id });
    changed(7, "due_soon", ME.id);
    changed(8, "overdue", ME.id);
    changed(9, "reminder", ME.id);
    changed(10, "reminder", ME.id + 1); // a colleague's ticket
    changed(11, "overdue", null); // nobody holds it: only the pool's flag
    changed(12, "claimed", ME.id); // not a reminder
    changed(13, "something_new", ME.id);
    expect(told).toEqual([
      [7, "due_soon"],
      [8, "overdue"],
      [9, "reminder"],
    ]);
    await vi.advanceTimersByTimeAsync(500); // the lists refresh once per burst
    expect(client.backlogVersion).toBe(before + 1);
  });
});

describe("gaps in a chat's seqs", () => {
  const four = [1, 2, 3, 4].map((s) => msg(1, s));

  /** The console with chat 1 holding seqs 1-4; `history` answered by `pages` (a list of
   * answers, the last repeated), each request recorded by the socket. */
  async function openWithGaps(pages: unknown[], sendReply?: (p: Record<string, unknown>) => unknown) {
    vi.useFakeTimers();
    desk(four, sendReply);
    const { client, socket } = await open();
    const base = socket.answer;
    socket.answer = (event, p) => (event === "history" ? (pages.length > 1 ? pages.shift() : pages[0]) : base(event, p));
    return { client, socket };
  }

  /** What the last resume listed for chat 1. */
  const resumed = (socket: FakeSocket) => {
    const all = socket.sent("resume");
    return (all[all.length - 1].consultations as { consultation_id: number }[]).find((x) => x.consultation_id === 1);
  };

  it("fetches what is missing after an out-of-order live message once, after the delay", async () => {
    const { client, socket } = await openWithGaps([{ ok: true, messages: [msg(1, 5), msg(1, 6)], more: false }]);
    socket.fire("message", msg(1, 6, { prev: 5 }));
    await vi.advanceTimersByTimeAsync(1499);
    expect(socket.sent("history")).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(socket.sent("history")).toEqual([{ consultation_id: 1, after_seq: 4 }]);
    expect(seqsOf(client, 1)).toEqual([1, 2, 3, 4, 5, 6]);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(socket.sent("history")).toHaveLength(1);
    socket.drop();
    socket.connect();
    await vi.advanceTimersByTimeAsync(0);
    expect(resumed(socket)).toEqual({ consultation_id: 1, last_seq: 6, version: 2 });
  });

  it("pages from the contiguous seq while the desk has more", async () => {
    const { socket } = await openWithGaps([
      { ok: true, messages: [msg(1, 5), msg(1, 6)], more: true },
      { ok: true, messages: [msg(1, 7), msg(1, 9)], more: false },
    ]);
    socket.fire("message", msg(1, 9, { prev: 8 }));
    await vi.advanceTimersByTimeAsync(1500);
    expect(socket.sent("history")).toEqual([
      { consultation_id: 1, after_seq: 4 },
      { consultation_id: 1, after_seq: 6 },
    ]);
  });

  it("stops paging when a page does not move the contiguous seq", async () => {
    const nothing = { ok: true, messages: [], more: true };
    const { socket } = await openWithGaps([nothing, nothing, { ok: true, messages: [], more: false }]);
    socket.fire("message", msg(1, 6, { prev: 5 }));
    await vi.advanceTimersByTimeAsync(1500);
    expect(socket.sent("history")).toEqual([{ consultation_id: 1, after_seq: 4 }]);
  });

  it("fetches nothing when the late message arrives within the delay", async () => {
    const { client, socket } = await openWithGaps([{ ok: true, messages: [], more: false }]);
    socket.fire("message", msg(1, 6, { prev: 5 }));
    await vi.advanceTimersByTimeAsync(1000);
    socket.fire("message", msg(1, 5, { prev: 4 }));
    await vi.advanceTimersByTimeAsync(5000);
    expect(socket.sent("history")).toEqual([]);
    expect(seqsOf(client, 1)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("resumes from the seq before a lost relay, and drops the pending fetch on disconnect", async () => {
    const { socket } = await openWithGaps([{ ok: true, messages: [], more: false }]);
    socket.fire("message", msg(1, 6, { prev: 5 }));
    socket.drop();
    socket.connect();
    await vi.advanceTimersByTimeAsync(0);
    expect(resumed(socket)).toEqual({ consultation_id: 1, last_seq: 4, version: 2 });
    // The resume answer is the desk's word: the timer set before the drop is gone.
    await vi.advanceTimersByTimeAsync(5000);
    expect(socket.sent("history")).toEqual([]);
  });

  it("links an acknowledgement by its prev, and fetches again around one without (a retry)", async () => {
    const acks: Record<string, unknown> = {
      // Seq 5 went to the reader only (a message staff never see).
      a: { ok: true, seq: 6, prev: 4, created_at: "2026-03-01T10:05:00Z", duplicate: false },
      b: { ok: true, seq: 8, created_at: "2026-03-01T10:05:00Z", duplicate: true },
    };
    const { client, socket } = await openWithGaps([{ ok: true, messages: [msg(1, 7), msg(1, 8)], more: false }], (p) => acks[p.body as string]);
    client.send(1, "a", false);
    await vi.advanceTimersByTimeAsync(3000);
    expect(seqsOf(client, 1)).toEqual([1, 2, 3, 4, 6]);
    expect(socket.sent("history")).toEqual([]);
    client.send(1, "b", false);
    await vi.advanceTimersByTimeAsync(1500);
    expect(socket.sent("history")).toEqual([{ consultation_id: 1, after_seq: 6 }]);
    // The acknowledgement's copy of 8 came first and is kept.
    expect(client.chats.get(1)?.messages.map((m) => [m.seq, m.body])).toEqual([
      [1, "m1"],
      [2, "m2"],
      [3, "m3"],
      [4, "m4"],
      [6, "a"],
      [7, "m7"],
      [8, "b"],
    ]);
  });

  it("links an upload's answer by its prev", async () => {
    const { client, socket } = await openWithGaps([{ ok: true, messages: [], more: false }]);
    client.received(msg(1, 5, { author_kind: "consultant", author_id: ME.id, prev: 4 }));
    await vi.advanceTimersByTimeAsync(3000);
    expect(socket.sent("history")).toEqual([]);
    client.received(msg(1, 7, { author_kind: "consultant", author_id: ME.id }));
    await vi.advanceTimersByTimeAsync(1500);
    expect(socket.sent("history")).toEqual([{ consultation_id: 1, after_seq: 5 }]);
  });

  it("does not ask again when a fetch left the gap, until a new message comes", async () => {
    const { socket } = await openWithGaps([{ ok: true, messages: [], more: false }]);
    socket.fire("message", msg(1, 6, { prev: 5 }));
    await vi.advanceTimersByTimeAsync(1500);
    expect(socket.sent("history")).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(socket.sent("history")).toHaveLength(1);
    // An old copy is no news.
    socket.fire("message", msg(1, 6, { prev: 5 }));
    await vi.advanceTimersByTimeAsync(5000);
    expect(socket.sent("history")).toHaveLength(1);
    socket.fire("message", msg(1, 7, { prev: 6 }));
    await vi.advanceTimersByTimeAsync(1500);
    expect(socket.sent("history")).toEqual([
      { consultation_id: 1, after_seq: 4 },
      { consultation_id: 1, after_seq: 4 },
    ]);
  });

  it("asks again, later each time, when a fetch gets no answer", async () => {
    const failed = { ok: false, error: { code: "unavailable", message: "restarting" } };
    const { client, socket } = await openWithGaps([failed, failed, { ok: true, messages: [msg(1, 5)], more: false }]);
    socket.fire("message", msg(1, 6, { prev: 5 }));
    await vi.advanceTimersByTimeAsync(1500);
    expect(socket.sent("history")).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(2999);
    expect(socket.sent("history")).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(socket.sent("history")).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(5999);
    expect(socket.sent("history")).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(socket.sent("history")).toHaveLength(3);
    expect(seqsOf(client, 1)).toEqual([1, 2, 3, 4, 5, 6]);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(socket.sent("history")).toHaveLength(3);
  });

  it("fetches the gap before a live message that came ahead of its chat", async () => {
    const { client, socket } = await openWithGaps([{ ok: true, messages: [msg(3, 2)], more: false }]);
    // Seq 2's relay was lost; 3 arrives before the console knows chat 3.
    socket.fire("message", msg(3, 3, { prev: 2 }));
    socket.fire("chat.assigned", { consultation: consultation(3), how: "offer", messages: [msg(3, 1)], more: false });
    await vi.advanceTimersByTimeAsync(1500);
    expect(socket.sent("history")).toEqual([{ consultation_id: 3, after_seq: 1 }]);
    expect(seqsOf(client, 3)).toEqual([1, 2, 3]);
  });

  it("has one fetch per chat on its way, and fills a gap that opened meanwhile after it", async () => {
    let release: (v: unknown) => void = () => {};
    const held = new Promise((r) => (release = r));
    const { client, socket } = await openWithGaps([held, { ok: true, messages: [msg(1, 7), msg(1, 8)], more: false }]);
    socket.fire("message", msg(1, 6, { prev: 5 }));
    await vi.advanceTimersByTimeAsync(1500);
    socket.fire("message", msg(1, 8, { prev: 7 }));
    await vi.advanceTimersByTimeAsync(5000);
    expect(socket.sent("history")).toHaveLength(1);
    release({ ok: true, messages: [msg(1, 5), msg(1, 6)], more: false });
    await vi.advanceTimersByTimeAsync(1499);
    expect(socket.sent("history")).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(socket.sent("history")).toEqual([
      { consultation_id: 1, after_seq: 4 },
      { consultation_id: 1, after_seq: 6 },
    ]);
    expect(seqsOf(client, 1)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });
});

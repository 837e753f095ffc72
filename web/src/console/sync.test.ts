import { describe, expect, it } from "vitest";
import { insertBySeq, lastSeq, resumeList, unreadCount } from "./sync";
import type { Consultation, Message, State } from "./types";

function msg(seq: number, extra: Partial<Message> = {}): Message {
  return {
    consultation_id: 7,
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

function seqs(list: readonly Message[]): number[] {
  return list.map((m) => m.seq);
}

/** Insert every message in turn; returns the seqs that were new. */
function insertAll(list: Message[], incoming: Message[]): number[] {
  return incoming.filter((m) => insertBySeq(list, m)).map((m) => m.seq);
}

describe("insertBySeq", () => {
  it("keeps messages sorted by seq whatever order they arrive in", () => {
    const list: Message[] = [];
    insertAll(list, [msg(5), msg(2), msg(9), msg(1), msg(7)]);
    expect(seqs(list)).toEqual([1, 2, 5, 7, 9]);
  });

  it("keeps one message per seq, the first copy", () => {
    const list: Message[] = [];
    const added = insertAll(list, [msg(1), msg(2, { body: "first" }), msg(2, { body: "again" }), msg(1)]);
    expect(added).toEqual([1, 2]);
    expect(seqs(list)).toEqual([1, 2]);
    expect(list[1].body).toBe("first");
  });

  it("reports a duplicate as not inserted and leaves the list alone", () => {
    const list = [msg(1), msg(3)];
    expect(insertBySeq(list, msg(3, { body: "echo" }))).toBe(false);
    expect(list.map((m) => m.body)).toEqual(["m1", "m3"]);
  });

  it("accepts gaps (staff notes take seqs) and fills them later", () => {
    const list: Message[] = [];
    insertAll(list, [msg(1), msg(4), msg(10)]);
    expect(seqs(list)).toEqual([1, 4, 10]);
    // A page of history (or a late event) brings what lies in between.
    expect(insertAll(list, [msg(2), msg(3), msg(4), msg(6)])).toEqual([2, 3, 6]);
    expect(seqs(list)).toEqual([1, 2, 3, 4, 6, 10]);
  });

  it("puts a message before, between and after others", () => {
    const list = [msg(10), msg(20)];
    insertBySeq(list, msg(30));
    insertBySeq(list, msg(5));
    insertBySeq(list, msg(15));
    expect(seqs(list)).toEqual([5, 10, 15, 20, 30]);
  });

  it("matches a plain sort-and-dedupe on many shuffled, repeated seqs", () => {
    // A fixed pseudo-random order (no Math.random: the test must be repeatable).
    let x = 12345;
    const next = () => (x = (x * 1103515245 + 12345) % 2147483648);
    const incoming: Message[] = [];
    for (let i = 0; i < 300; i++) incoming.push(msg((next() % 120) + 1));
    const list: Message[] = [];
    insertAll(list, incoming);
    const expected = [...new Set(incoming.map((m) => m.seq))].sort((a, b) => a - b);
    expect(seqs(list)).toEqual(expected);
  });
});

describe("lastSeq", () => {
  it("is 0 for no messages and the last seq otherwise", () => {
    expect(lastSeq([])).toBe(0);
    expect(lastSeq([msg(2), msg(8)])).toBe(8);
  });
});

describe("unreadCount", () => {
  const me = 3;
  const isMine = (m: Message) => m.author_kind === "consultant" && m.author_id === me;

  it("counts messages after the read mark that this consultant did not write", () => {
    const list = [
      msg(1),
      msg(2, { author_kind: "consultant", author_id: me }),
      msg(3),
      msg(5, { author_kind: "bot" }),
      msg(6, { author_kind: "consultant", author_id: me }),
      msg(8, { author_kind: "consultant", author_id: 4 }), // a colleague
    ];
    expect(unreadCount(list, 0, isMine)).toBe(4);
    expect(unreadCount(list, 3, isMine)).toBe(2);
    expect(unreadCount(list, 5, isMine)).toBe(1);
    expect(unreadCount(list, 8, isMine)).toBe(0);
  });

  it("treats a read mark inside a gap like the seq below it", () => {
    const list = [msg(1), msg(4), msg(9)];
    expect(unreadCount(list, 2, isMine)).toBe(2);
    expect(unreadCount(list, 5, isMine)).toBe(1);
  });
});

describe("resumeList", () => {
  function chat(id: number, state: State, version: number, messages: Message[] = []) {
    return { id, consultation: { id, state, version } as Consultation, messages };
  }

  it("lists each chat with its last seq and version, then restored tabs from seq 0", () => {
    const out = resumeList([chat(1, "assigned", 4, [msg(1), msg(6)]), chat(2, "assigned", 2)], [2, 9], 50);
    expect(out).toEqual([
      { consultation_id: 1, last_seq: 6, version: 4 },
      { consultation_id: 2, last_seq: 0, version: 2 },
      { consultation_id: 9, last_seq: 0, version: 0 },
    ]);
  });

  it("puts ended chats last, keeping the order otherwise", () => {
    const chats = [chat(1, "closed", 1), chat(2, "assigned", 1), chat(3, "handed_off", 1), chat(4, "waiting", 1)];
    const out = resumeList(chats, [8], 50);
    expect(out.map((x) => x.consultation_id)).toEqual([2, 4, 8, 1, 3]);
  });

  it("lists at most `limit`, leaving out ended chats first", () => {
    const chats = [chat(1, "closed", 1), chat(2, "abandoned", 1), chat(3, "assigned", 1), chat(4, "offered", 1)];
    expect(resumeList(chats, [], 3).map((x) => x.consultation_id)).toEqual([3, 4, 1]);
    expect(resumeList(chats, [], 2).map((x) => x.consultation_id)).toEqual([3, 4]);
  });
});

import { describe, expect, it } from "vitest";
import { contiguousSeq, hasGap, insertBySeq, insertLinked, lastSeq, resumeList, type Unlinked, unreadCount } from "./sync";
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

describe("insertLinked and contiguousSeq", () => {
  /** A chat holding `listed` as a list answer gave them. */
  function held(...listed: number[]) {
    const list: Message[] = [];
    const unlinked: Unlinked = new Map();
    for (const s of listed) insertLinked(list, unlinked, msg(s), true);
    return { list, unlinked, add: (m: Message, fromList = false) => insertLinked(list, unlinked, m, fromList) };
  }

  it("is the last seq when every message is linked, gaps between seqs included", () => {
    const c = held(1, 2, 4);
    // Live events whose message before is held (staff notes left seqs 3 and 5-6 out).
    expect(c.add(msg(7, { prev: 4 }))).toBe(true);
    expect(c.add(msg(8, { prev: 7 }))).toBe(true);
    expect(seqs(c.list)).toEqual([1, 2, 4, 7, 8]);
    expect(contiguousSeq(c.list, c.unlinked)).toBe(8);
    expect(hasGap(c.list, c.unlinked)).toBe(false);
    expect(c.unlinked.size).toBe(0);
  });

  it("is 0 for none held, and links the first message by prev 0", () => {
    const c = held();
    expect(contiguousSeq(c.list, c.unlinked)).toBe(0);
    c.add(msg(1, { prev: 0 }));
    expect(contiguousSeq(c.list, c.unlinked)).toBe(1);
  });

  it("stops before a live message that came ahead of a late one", () => {
    const c = held(1, 2, 3, 4);
    c.add(msg(6, { prev: 5 }));
    expect(contiguousSeq(c.list, c.unlinked)).toBe(4);
    expect(hasGap(c.list, c.unlinked)).toBe(true);
    // A later message linked to 6 does not move the cursor past the gap.
    c.add(msg(7, { prev: 6 }));
    expect(contiguousSeq(c.list, c.unlinked)).toBe(4);
    expect([...c.unlinked]).toEqual([[6, 5]]);
  });

  it("is 0 when the very first message held is unlinked", () => {
    const c = held();
    c.add(msg(3, { prev: 2 }));
    c.add(msg(4, { prev: 3 }));
    expect(contiguousSeq(c.list, c.unlinked)).toBe(0);
  });

  it("heals when the late message arrives, linking the one that waited for it", () => {
    const c = held(1, 2, 3, 4);
    c.add(msg(6, { prev: 5 }));
    c.add(msg(7, { prev: 6 }));
    c.add(msg(5, { prev: 4 }));
    expect(contiguousSeq(c.list, c.unlinked)).toBe(7);
    expect(hasGap(c.list, c.unlinked)).toBe(false);
    expect(c.unlinked.size).toBe(0);
  });

  it("keeps an acknowledgement without prev (a retry) unlinked until another copy links it", () => {
    const c = held(1, 2, 3, 4);
    c.add(msg(5, { body: "own" }));
    expect(contiguousSeq(c.list, c.unlinked)).toBe(4);
    expect([...c.unlinked]).toEqual([[5, null]]);
    // The live event of the same message says what came before it; the first copy is kept.
    expect(c.add(msg(5, { body: "event", prev: 4 }))).toBe(false);
    expect(contiguousSeq(c.list, c.unlinked)).toBe(5);
    expect(c.list[4].body).toBe("own");
  });

  it("learns the prev of an unlinked seq from a second copy, and links it when that arrives", () => {
    const c = held(1, 2);
    c.add(msg(5));
    c.add(msg(5, { prev: 4 }));
    expect([...c.unlinked]).toEqual([[5, 4]]);
    c.add(msg(4, { prev: 2 }));
    expect(contiguousSeq(c.list, c.unlinked)).toBe(5);
  });

  it("links every message of a list answer, new or held already", () => {
    const c = held(1, 2, 3, 4);
    c.add(msg(6, { prev: 5 }));
    c.add(msg(8)); // a retry's acknowledgement
    expect(contiguousSeq(c.list, c.unlinked)).toBe(4);
    // history after 4: complete up to its last element.
    for (const m of [msg(5), msg(6), msg(7), msg(8)]) c.add(m, true);
    expect(contiguousSeq(c.list, c.unlinked)).toBe(8);
    expect(c.unlinked.size).toBe(0);
  });

  it("does not link a seq held and linked already when a copy without prev comes", () => {
    const c = held(1, 2);
    expect(c.add(msg(2))).toBe(false);
    expect(c.unlinked.size).toBe(0);
    expect(contiguousSeq(c.list, c.unlinked)).toBe(2);
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
  function chat(id: number, state: State, version: number, messages: Message[] = [], unlinked: Unlinked = new Map()) {
    return { id, consultation: { id, state, version } as Consultation, messages, unlinked };
  }

  it("lists each chat with its last seq and version, then restored tabs from seq 0", () => {
    const out = resumeList([chat(1, "assigned", 4, [msg(1), msg(6)]), chat(2, "assigned", 2)], [2, 9], 50);
    expect(out).toEqual([
      { consultation_id: 1, last_seq: 6, version: 4 },
      { consultation_id: 2, last_seq: 0, version: 2 },
      { consultation_id: 9, last_seq: 0, version: 0 },
    ]);
  });

  it("lists a chat with a gap from its contiguous seq, not its last", () => {
    const out = resumeList([chat(1, "assigned", 4, [msg(1), msg(4), msg(6)], new Map([[6, 5]]))], [], 50);
    expect(out).toEqual([{ consultation_id: 1, last_seq: 4, version: 4 }]);
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

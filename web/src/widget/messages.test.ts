import { describe, expect, it } from "vitest";
import type { Message } from "./chat";
import { addMessages, bySeq, contiguousSeq, handoffTicket, hasGap, lastReadSeq, topSeq, type Unlinked, unreadCount, unsent } from "./messages";
import type { OutItem } from "./store";

const CID = 41;

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

describe("addMessages", () => {
  it("shows messages in seq order whatever order they arrive in", () => {
    const msgs = new Map<number, Message>();
    addMessages(msgs, CID, [msg(3), msg(1)]);
    addMessages(msgs, CID, [msg(7), msg(2)]);
    expect(bySeq(msgs).map((m) => m.seq)).toEqual([1, 2, 3, 7]);
    expect(topSeq(msgs)).toBe(7);
  });

  it("keeps one message per seq, the first copy, and returns only the new ones", () => {
    const msgs = new Map<number, Message>();
    expect(addMessages(msgs, CID, [msg(1), msg(2, { body: "first" })]).map((m) => m.seq)).toEqual([1, 2]);
    // resume after a reconnect, then the live event, bring the same seqs again
    expect(addMessages(msgs, CID, [msg(2, { body: "again" }), msg(3), msg(3, { body: "dup" })]).map((m) => m.seq)).toEqual([3]);
    expect(bySeq(msgs).map((m) => m.body)).toEqual(["m1", "first", "m3"]);
  });

  it("accepts the gaps staff notes leave in the reader's seqs", () => {
    const msgs = new Map<number, Message>();
    addMessages(msgs, CID, [msg(1), msg(2), msg(5), msg(9)]);
    expect(bySeq(msgs).map((m) => m.seq)).toEqual([1, 2, 5, 9]);
    expect(topSeq(msgs)).toBe(9);
  });

  it("ignores messages of another consultation, or of none", () => {
    const msgs = new Map<number, Message>();
    expect(addMessages(msgs, CID, [msg(1, { consultation_id: 99 })])).toEqual([]);
    expect(addMessages(msgs, null, [msg(1)])).toEqual([]);
    expect(msgs.size).toBe(0);
    expect(topSeq(msgs)).toBe(0);
  });
});

describe("contiguousSeq", () => {
  /** A chat holding `listed` as a list answer gave them. */
  function held(...listed: number[]) {
    const msgs = new Map<number, Message>();
    const unlinked: Unlinked = new Map();
    addMessages(msgs, CID, listed.map((s) => msg(s)), unlinked, true);
    const add = (m: Message, fromList = false) => addMessages(msgs, CID, [m], unlinked, fromList).map((x) => x.seq);
    return { msgs, unlinked, add, cursor: () => contiguousSeq(msgs, unlinked), gap: () => hasGap(msgs, unlinked) };
  }

  it("is the top seq when every message is linked, gaps between seqs included", () => {
    const c = held(1, 3, 4);
    c.add(msg(7, { prev: 4 }));
    c.add(msg(8, { prev: 7 }));
    expect(c.cursor()).toBe(8);
    expect(c.gap()).toBe(false);
    expect(c.unlinked.size).toBe(0);
  });

  it("is 0 for none held, or when the first message held is unlinked; prev 0 links", () => {
    const c = held();
    expect(c.cursor()).toBe(0);
    c.add(msg(2, { prev: 1 }));
    c.add(msg(3, { prev: 2 }));
    expect(c.cursor()).toBe(0);
    expect(c.gap()).toBe(true);
    const d = held();
    d.add(msg(1, { prev: 0 }));
    expect(d.cursor()).toBe(1);
  });

  it("stops before a live message that came ahead of a late one, and heals when it comes", () => {
    const c = held(1, 2, 3, 4);
    expect(c.add(msg(6, { prev: 5 }))).toEqual([6]);
    c.add(msg(7, { prev: 6 }));
    expect(c.cursor()).toBe(4);
    expect(c.gap()).toBe(true);
    expect(topSeq(c.msgs)).toBe(7);
    c.add(msg(5, { prev: 4 }));
    expect(c.cursor()).toBe(7);
    expect(c.gap()).toBe(false);
    expect(c.unlinked.size).toBe(0);
  });

  it("keeps an acknowledgement without prev (a retry) unlinked until another copy links it", () => {
    const c = held(1, 2);
    c.add(msg(3, { body: "own", author_kind: "reader" }));
    expect(c.cursor()).toBe(2);
    expect([...c.unlinked]).toEqual([[3, null]]);
    expect(c.add(msg(3, { body: "event", prev: 2 }))).toEqual([]);
    expect(c.cursor()).toBe(3);
    expect(c.msgs.get(3)?.body).toBe("own");
  });

  it("learns the prev of an unlinked seq from a second copy, and links it when that arrives", () => {
    const c = held(1);
    c.add(msg(4));
    c.add(msg(4, { prev: 3 }));
    expect([...c.unlinked]).toEqual([[4, 3]]);
    c.add(msg(3, { prev: 1 }));
    expect(c.cursor()).toBe(4);
  });

  it("links every message of a list answer, new or held already", () => {
    const c = held(1, 2);
    c.add(msg(4, { prev: 3 }));
    c.add(msg(6)); // a retry's acknowledgement
    expect(c.cursor()).toBe(2);
    expect(c.add(msg(3), true)).toEqual([3]);
    expect(c.cursor()).toBe(4);
    c.add(msg(5), true);
    c.add(msg(6), true);
    expect(c.cursor()).toBe(6);
    expect(c.unlinked.size).toBe(0);
  });

  it("ignores another consultation's messages", () => {
    const c = held(1);
    c.add(msg(3, { consultation_id: 99, prev: 2 }));
    expect(c.unlinked.size).toBe(0);
    expect(c.cursor()).toBe(1);
  });
});

describe("unreadCount", () => {
  it("counts what others wrote after the reader's read mark", () => {
    const msgs = new Map<number, Message>();
    addMessages(msgs, CID, [
      msg(1, { author_kind: "reader" }),
      msg(2),
      msg(4, { author_kind: "bot" }),
      msg(6, { author_kind: "reader" }),
      msg(8, { author_kind: "system" }),
    ]);
    expect(unreadCount(msgs, 0)).toBe(3);
    expect(unreadCount(msgs, 2)).toBe(2);
    expect(unreadCount(msgs, 5)).toBe(1);
    expect(unreadCount(msgs, 8)).toBe(0);
  });
});

describe("lastReadSeq", () => {
  it("is the reader's last message at or below the staff read mark", () => {
    const sorted = [msg(1, { author_kind: "reader" }), msg(2), msg(3, { author_kind: "reader" }), msg(6, { author_kind: "reader" })];
    expect(lastReadSeq(sorted, 0)).toBe(0);
    expect(lastReadSeq(sorted, 2)).toBe(1);
    expect(lastReadSeq(sorted, 5)).toBe(3);
    expect(lastReadSeq(sorted, 6)).toBe(6);
  });
});

describe("unsent", () => {
  it("shows an unacknowledged message once: as stored if it came back already", () => {
    const out: OutItem[] = [
      { cmid: "a", body: "one", cid: CID },
      { cmid: "b", body: "two", cid: CID },
      { cmid: "c", body: "three", cid: null },
    ];
    const sorted = [msg(1), msg(2, { author_kind: "reader", client_msg_id: "a" })];
    expect(unsent(sorted, out).map((o) => o.cmid)).toEqual(["b", "c"]);
    expect(unsent([], out).map((o) => o.cmid)).toEqual(["a", "b", "c"]);
  });
});

describe("handoffTicket", () => {
  const notice = (body: string, extra: Partial<Message> = {}) =>
    msg(12, { author_kind: "system", client_msg_id: "desk.handoff", body, ...extra });

  it("reads the number and the reader's link from the desk's hand-off notice", () => {
    expect(handoffTicket(notice("您的问题已转为表单咨询，编号 123。查看答复：https://desk.example/tickets/Ab-9_x"))).toEqual({
      id: 123,
      url: "https://desk.example/tickets/Ab-9_x",
    });
    expect(handoffTicket(notice("Your question is number 7: https://desk.example/tickets/t7"))).toEqual({
      id: 7,
      url: "https://desk.example/tickets/t7",
    });
  });

  it("ignores other messages, and notices without a number or a link", () => {
    const body = "编号 5 https://desk.example/tickets/t5";
    expect(handoffTicket(notice(body, { author_kind: "consultant" }))).toBeNull();
    expect(handoffTicket(notice(body, { client_msg_id: "x" }))).toBeNull();
    expect(handoffTicket(notice("编号 5, no link"))).toBeNull();
    expect(handoffTicket(notice("https://desk.example/tickets/t5 without its number"))).toBeNull();
  });
});

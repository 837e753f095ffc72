// The pure rules of the widget's message list, apart from the socket and the DOM so they can be
// unit-tested: messages kept once per seq and shown in seq order, the unread count, the "Read"
// mark, which unsent messages to show, and the ticket in the desk's hand-off notice.
import type { Message } from "./chat";
import type { OutItem } from "./store";

/**
 * Add to `msgs` (keyed by seq) the messages of consultation `cid` whose seq it does not hold
 * yet; a seq already held keeps its first copy. Returns the messages added, in the order given.
 * Messages of another consultation (or of none, `cid` null) are ignored.
 */
export function addMessages(msgs: Map<number, Message>, cid: number | null, incoming: readonly Message[]): Message[] {
  const added: Message[] = [];
  for (const m of incoming) {
    if (m.consultation_id === cid && !msgs.has(m.seq)) {
      msgs.set(m.seq, m);
      added.push(m);
    }
  }
  return added;
}

/** The messages in seq order (seqs may have gaps: staff notes take seqs the reader never sees). */
export function bySeq(msgs: Map<number, Message>): Message[] {
  return [...msgs.values()].sort((a, b) => a.seq - b.seq);
}

/** The highest seq held (0 for none). */
export function topSeq(msgs: Map<number, Message>): number {
  let top = 0;
  for (const s of msgs.keys()) top = Math.max(top, s);
  return top;
}

/** Messages not written by the reader after the reader's read mark. */
export function unreadCount(msgs: Map<number, Message>, readerRead: number): number {
  let n = 0;
  for (const m of msgs.values()) if (m.author_kind !== "reader" && m.seq > readerRead) n++;
  return n;
}

/** The seq of the reader's last message at or below the staff read mark ("Read" goes under it), or 0. */
export function lastReadSeq(sorted: readonly Message[], staffRead: number): number {
  let last = 0;
  for (const m of sorted) if (m.author_kind === "reader" && m.seq <= staffRead) last = m.seq;
  return last;
}

/**
 * The outbox items to show as not sent yet: a message already stored (learned through `resume`
 * or an event before its own acknowledgement came back, same client_msg_id) is shown once, as
 * stored.
 */
export function unsent(sorted: readonly Message[], outbox: readonly OutItem[]): OutItem[] {
  const stored = new Set(sorted.map((m) => m.client_msg_id));
  return outbox.filter((o) => !stored.has(o.cmid));
}

/**
 * The desk's notice of a hand-off (a system message with client_msg_id "desk.handoff") carries
 * the ticket's number and the reader's link to it; null for any other message.
 */
export function handoffTicket(m: Message): { id: number; url: string } | null {
  if (m.author_kind !== "system" || m.client_msg_id !== "desk.handoff") return null;
  const url = /https?:\/\/\S+\/tickets\/[\w-]+/.exec(m.body);
  const id = url && /(?:编号|number)\s*(\d+)/.exec(m.body);
  return url && id ? { id: +id[1], url: url[0] } : null;
}

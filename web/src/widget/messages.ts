// The pure rules of the widget's message list, apart from the socket and the DOM so they can be
// unit-tested: messages kept once per seq and shown in seq order, which of them are linked to
// the one before (and so how far the chat is complete), the unread count, the "Read" mark,
// which unsent messages to show, and the ticket in the desk's hand-off notice.
import type { Message } from "./chat";
import type { OutItem } from "./store";

/**
 * The held seqs not linked yet: the message the reader was shown just before them is not known
 * to be held (it is late, or its relay was lost). Each maps to its `prev` (null when not given:
 * the acknowledgement of a retry), so it is linked as soon as that message arrives.
 */
export type Unlinked = Map<number, number | null>;

/**
 * Add to `msgs` (keyed by seq) the messages of consultation `cid` whose seq it does not hold
 * yet; a seq already held keeps its first copy. Returns the messages added, in the order given.
 * Messages of another consultation (or of none, `cid` null) are ignored.
 *
 * `unlinked` is kept up to date: messages from a list (`listed`: resume, history, the open
 * answer) are linked, since a list is complete for its range; a live event or an
 * acknowledgement is when its `prev` is 0 or held. Linking is knowledge about the seq, so a
 * second copy may link a seq whose first copy did not.
 */
export function addMessages(
  msgs: Map<number, Message>,
  cid: number | null,
  incoming: readonly Message[],
  unlinked: Unlinked = new Map(),
  listed = true,
): Message[] {
  const added: Message[] = [];
  for (const m of incoming) {
    if (m.consultation_id !== cid) continue;
    const fresh = !msgs.has(m.seq);
    if (fresh) {
      msgs.set(m.seq, m);
      added.push(m);
      for (const [seq, prev] of unlinked) if (prev === m.seq) unlinked.delete(seq);
    }
    const prev = m.prev;
    if (listed || prev === 0 || (prev !== undefined && msgs.has(prev))) unlinked.delete(m.seq);
    else if (fresh) unlinked.set(m.seq, prev ?? null);
    else if (unlinked.get(m.seq) === null && prev !== undefined) unlinked.set(m.seq, prev);
  }
  return added;
}

/**
 * Where the chat is complete up to: the seq of the last message before the first unlinked one
 * (0 for none). `resume` and gap-filling `history` ask after it, never after a message that
 * may have arrived ahead of a lost one.
 */
export function contiguousSeq(msgs: Map<number, Message>, unlinked: ReadonlyMap<number, unknown>): number {
  if (!unlinked.size) return topSeq(msgs);
  let seq = 0;
  for (const s of [...msgs.keys()].sort((a, b) => a - b)) {
    if (unlinked.has(s)) break;
    seq = s;
  }
  return seq;
}

/** Some message before the last one held is missing. */
export function hasGap(msgs: Map<number, Message>, unlinked: ReadonlyMap<number, unknown>): boolean {
  return contiguousSeq(msgs, unlinked) < topSeq(msgs);
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

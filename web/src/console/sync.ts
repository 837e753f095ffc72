// The pure rules that keep a chat in step with the desk, apart from the socket so they can be
// unit-tested: messages sorted by seq and kept once per seq, which of them are linked to the one
// before, the unread count, and the list a (re)connection sends with `resume`.

import { ACTIVE_STATES, type Consultation, type Message } from "./types";

/** The highest seq in a list sorted by seq (0 for none). */
export function lastSeq(messages: readonly Message[]): number {
  const last = messages[messages.length - 1];
  return last ? last.seq : 0;
}

/**
 * Insert `m` into `list`, which is sorted by seq and holds one message per seq. A seq already
 * there is kept as it is (the first copy wins) and false is returned. Gaps between seqs are
 * normal (staff notes take seqs the reader never sees, and vice versa).
 */
export function insertBySeq(list: Message[], m: Message): boolean {
  const i = lowerBound(list, m.seq);
  if (i < list.length && list[i].seq === m.seq) return false;
  list.splice(i, 0, m);
  return true;
}

/** The index of the first message whose seq is not below `seq`. */
function lowerBound(list: readonly Message[], seq: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid].seq < seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function holds(list: readonly Message[], seq: number): boolean {
  const i = lowerBound(list, seq);
  return i < list.length && list[i].seq === seq;
}

/**
 * The held seqs not linked yet: the message staff were shown just before them is not known to
 * be held (it is late, or its relay was lost). Each maps to its `prev` (null when not given: the
 * acknowledgement of a retry), so it is linked as soon as that message arrives.
 */
export type Unlinked = Map<number, number | null>;

/**
 * insertBySeq, noting whether `m` is linked. A message from a list (`listed`: resume, history,
 * chat.assigned...) is, since a list is complete for its range; a live event or an
 * acknowledgement is when its `prev` is 0 or held. Linking is knowledge about the seq, so a
 * second copy may link a seq whose first copy did not.
 */
export function insertLinked(list: Message[], unlinked: Unlinked, m: Message, listed: boolean): boolean {
  const fresh = insertBySeq(list, m);
  if (fresh) for (const [seq, prev] of unlinked) if (prev === m.seq) unlinked.delete(seq);
  const prev = m.prev;
  if (listed || prev === 0 || (prev !== undefined && holds(list, prev))) unlinked.delete(m.seq);
  else if (fresh) unlinked.set(m.seq, prev ?? null);
  else if (unlinked.get(m.seq) === null && prev !== undefined) unlinked.set(m.seq, prev);
  return fresh;
}

/**
 * Where the chat is complete up to: the seq of the last message before the first unlinked one
 * (0 for none). `resume` and gap-filling `history` ask after it, never after a message that
 * may have arrived ahead of a lost one.
 */
export function contiguousSeq(messages: readonly Message[], unlinked: ReadonlyMap<number, unknown>): number {
  let seq = 0;
  for (const m of messages) {
    if (unlinked.has(m.seq)) break;
    seq = m.seq;
  }
  return seq;
}

/** Some message before the last one held is missing. */
export function hasGap(messages: readonly Message[], unlinked: ReadonlyMap<number, unknown>): boolean {
  return unlinked.size > 0 && contiguousSeq(messages, unlinked) < lastSeq(messages);
}

/** Messages after the staff read mark that this consultant did not write. */
export function unreadCount(
  messages: readonly Message[],
  staffRead: number,
  isMine: (m: Message) => boolean,
): number {
  let n = 0;
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m.seq <= staffRead) break;
    if (!isMine(m)) n++;
  }
  return n;
}

export interface ResumeItem {
  consultation_id: number;
  last_seq: number;
  version: number;
}

/**
 * What `resume` lists: every chat the console holds (with its contiguous seq and version), then the
 * chats restored from the stored list of tabs that have not arrived yet (from seq 0). Active
 * chats (and the restored ones, whose state is not known) come before ended ones, and at most
 * `limit` are listed, since the desk answers only that many.
 */
export function resumeList(
  chats: Iterable<{
    id: number;
    consultation: Consultation;
    messages: readonly Message[];
    unlinked: ReadonlyMap<number, unknown>;
  }>,
  restored: readonly number[],
  limit: number,
): ResumeItem[] {
  const known = new Map<number, Consultation>();
  const out: ResumeItem[] = [];
  for (const c of chats) {
    known.set(c.id, c.consultation);
    out.push({
      consultation_id: c.id,
      last_seq: contiguousSeq(c.messages, c.unlinked),
      version: c.consultation.version,
    });
  }
  for (const id of restored) {
    if (!known.has(id)) out.push({ consultation_id: id, last_seq: 0, version: 0 });
  }
  const ended = (id: number): number => {
    const c = known.get(id);
    return Number(!!c && !ACTIVE_STATES.has(c.state));
  };
  // A stable sort: the order within active and within ended chats is kept.
  out.sort((a, b) => ended(a.consultation_id) - ended(b.consultation_id));
  return out.slice(0, limit);
}

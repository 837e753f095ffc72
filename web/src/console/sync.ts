// The pure rules that keep a chat in step with the desk, apart from the socket so they can be
// unit-tested: messages sorted by seq and kept once per seq, the unread count, and the list a
// (re)connection sends with `resume`.

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
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid].seq < m.seq) lo = mid + 1;
    else hi = mid;
  }
  if (lo < list.length && list[lo].seq === m.seq) return false;
  list.splice(lo, 0, m);
  return true;
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
 * What `resume` lists: every chat the console holds (with its last seq and version), then the
 * chats restored from the stored list of tabs that have not arrived yet (from seq 0). Active
 * chats (and the restored ones, whose state is not known) come before ended ones, and at most
 * `limit` are listed, since the desk answers only that many.
 */
export function resumeList(
  chats: Iterable<{ id: number; consultation: Consultation; messages: readonly Message[] }>,
  restored: readonly number[],
  limit: number,
): ResumeItem[] {
  const known = new Map<number, Consultation>();
  const out: ResumeItem[] = [];
  for (const c of chats) {
    known.set(c.id, c.consultation);
    out.push({ consultation_id: c.id, last_seq: lastSeq(c.messages), version: c.consultation.version });
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

// What the widget keeps in the host page's localStorage, namespaced by the desk's origin so two
// desks (or a test desk) never share a reader token. Storage may be unavailable (privacy modes,
// sandboxed frames): then the widget still works for the life of the page.
//
// Several tabs of one site share these keys. The outbox therefore lives in a key of its own and
// is only ever changed item by item (read, change one client_msg_id, write back at once), so a
// tab never overwrites another tab's unsent messages; tabs learn of each other's changes from
// `storage` events.

export interface OutItem {
  /** Client message id: the same id is resent until the desk acknowledges it. */
  cmid: string;
  body: string;
  /** The consultation it was written in; null means "open a consultation with it". */
  cid: number | null;
}

export interface Saved {
  cid: number | null;
  /** The seq the chat is complete up to (below a gap, if one is open), not the highest held. */
  lastSeq: number;
  version: number;
  lang?: string;
  open?: boolean;
}

/** A question left for the form service: its number and the reader's own link to it. */
export interface TicketRef {
  id: number;
  url: string;
  /** When it was left (ms since the epoch), for the list. */
  at: number;
}

const memory = new Map<string, string>();
const MAX_TICKETS = 10;
/** Rated consultations remembered (for the thank-you after a reload): the latest few. */
const MAX_RATED = 20;

// A value that could not be written (no storage, or storage full) is kept in memory, and memory
// wins when reading, so an item removed from the outbox can never come back from a stale copy.
function get(key: string): string | null {
  if (memory.has(key)) return memory.get(key) ?? null;
  try {
    return window.localStorage.getItem(key);
  } catch {
    return null;
  }
}

function set(key: string, value: string | null): void {
  try {
    if (value === null) window.localStorage.removeItem(key);
    else window.localStorage.setItem(key, value);
    memory.delete(key);
  } catch {
    if (value === null) memory.delete(key);
    else memory.set(key, value);
  }
}

function list<T>(key: string, ok: (x: T) => boolean): T[] {
  try {
    const v = JSON.parse(get(key) ?? "[]") as T[];
    return Array.isArray(v) ? v.filter((x) => x && ok(x)) : [];
  } catch {
    return [];
  }
}

const isItem = (o: OutItem) => typeof o.cmid === "string" && typeof o.body === "string";

export class Store {
  readonly tokenKey: string;
  readonly libKey: string;
  readonly outKey: string;
  readonly ticketKey: string;
  readonly ratedKey: string;

  constructor(deskOrigin: string, library: string) {
    const p = `deskwidget:${deskOrigin}:`;
    this.tokenKey = p + "token";
    this.libKey = p + "lib:" + library;
    this.outKey = p + "out:" + library;
    this.ticketKey = p + "tickets:" + library;
    this.ratedKey = p + "rated:" + library;
  }

  get token(): string | null {
    return get(this.tokenKey);
  }

  set token(value: string | null) {
    set(this.tokenKey, value);
  }

  load(): Saved {
    const empty: Saved = { cid: null, lastSeq: 0, version: 0 };
    try {
      const raw = get(this.libKey);
      const v = raw ? (JSON.parse(raw) as Partial<Saved> & { outbox?: OutItem[] }) : {};
      // Earlier versions kept the outbox inside this record: move it to its own key.
      if (Array.isArray(v.outbox)) {
        for (const o of v.outbox) if (o && isItem(o)) this.editOut((all) => [...all.filter((x) => x.cmid !== o.cmid), o]);
        delete v.outbox;
        this.save({ ...empty, ...v });
      }
      return { ...empty, ...v };
    } catch {
      return empty;
    }
  }

  save(s: Saved): void {
    set(this.libKey, JSON.stringify(s));
  }

  /** The unsent messages, oldest first, as stored now (by any tab). */
  outbox(): OutItem[] {
    return list(this.outKey, isItem);
  }

  /** Read-modify-write of the outbox in one step; an empty outbox removes the key. */
  editOut(change: (items: OutItem[]) => OutItem[]): void {
    const next = change(this.outbox());
    set(this.outKey, next.length ? JSON.stringify(next) : null);
  }

  tickets(): TicketRef[] {
    return list(this.ticketKey, (t: TicketRef) => typeof t.id === "number" && /^https?:\/\//.test(t.url));
  }

  addTicket(t: TicketRef): void {
    const rest = this.tickets().filter((x) => x.url !== t.url);
    set(this.ticketKey, JSON.stringify([t, ...rest].slice(0, MAX_TICKETS)));
  }

  /** The consultations the reader rated on this device (ids only, newest first). */
  rated(): number[] {
    return list(this.ratedKey, (x: number) => typeof x === "number");
  }

  addRated(cid: number): void {
    set(this.ratedKey, JSON.stringify([cid, ...this.rated().filter((x) => x !== cid)].slice(0, MAX_RATED)));
  }

  /** Forget everything of this library on this device, and the reader token. */
  clear(): void {
    for (const k of [this.outKey, this.ticketKey, this.ratedKey, this.libKey, this.tokenKey]) set(k, null);
  }
}

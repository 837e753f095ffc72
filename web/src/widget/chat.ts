// The reader's side of the protocol (docs/protocol.md, namespace /reader), without any DOM:
// token, socket, resume and history paging, the outbox, typing and read marks. The view
// listens to `onChange` and reads the public fields.
import { io, type Socket } from "socket.io-client";
import { served } from "./after";
import { type Attachment, checkFile, type FileLimits, transfer, type Transfer } from "./files";
import { addMessages, bySeq, contiguousSeq, handoffTicket, hasGap, topSeq, type Unlinked, unreadCount } from "./messages";
import { type Ack, type DeskError, outcome, RETRY, toAck } from "./protocol";
import { Store, type OutItem, type Saved, type TicketRef } from "./store";

export interface LibraryRef {
  code: string;
  name: string;
  name_en: string | null;
}

export interface LibraryInfo extends LibraryRef {
  languages: string[];
  phone: string | null;
  /** Within the library's service hours now; null when it sets none (absent on older desks). */
  open_now?: boolean | null;
  /** The next opening when closed: an ISO time with the library's UTC offset. */
  opens_at?: string | null;
  /** Per language the library serves: is anyone who could answer such a reader online. */
  live?: Record<string, boolean>;
  /** What its chats take (absent on older desks: no files then). */
  files?: FileLimits;
  /** The desk sends mail: a reader may have their copy of a chat mailed (absent: no). */
  mail?: boolean;
}

export interface Person {
  id: number;
  name: string | null;
  /** Added by the desk to the reader view; absent or null on older desks. */
  library?: LibraryRef | null;
}

export interface Consultation {
  id: number;
  library: string;
  language: string;
  state: string;
  consultant: Person | null;
  version: number;
  ended_by: string | null;
  read?: { reader: number; staff: number };
}

export interface Message {
  consultation_id: number;
  seq: number;
  client_msg_id: string | null;
  author_kind: string;
  author_id: number | null;
  body: string;
  /** A file or link sent with the message (absent on older desks). */
  attachment?: Attachment | null;
  created_at: string;
  /** Live events and new messages' acknowledgements: the seq of the message the reader was
   * shown just before this one (0: none). Never in lists, which are complete for their range. */
  prev?: number;
}

/**
 * A file the reader is sending (kept in memory only: a File cannot be stored). `up`: on its
 * way; `wait`: the connection dropped, it goes again soon with the same client_msg_id;
 * `lost`: it goes again when the socket reconnects or the reader says so; `refused`: the desk
 * will not take it (`error`).
 */
export interface Upload {
  cmid: string;
  cid: number;
  file: Blob;
  name: string;
  loaded: number;
  state: "up" | "wait" | "lost" | "refused";
  tries: number;
  error?: DeskError;
  abort?: () => void;
}

/** The waiting bot's live status for a queued chat (`queue.position`, every 5 s). */
export interface QueuePosition {
  consultation_id: number;
  position: number;
  ahead: number;
  minutes: number | null;
  consultants_online: boolean;
  /** The wait reached the library's long-wait threshold or nobody is online: offer the form
   * service. Absent on older desks. */
  offer_form?: boolean;
}

export type { DeskError };

export type Conn = "idle" | "connecting" | "connected" | "reconnecting" | "offline" | "fatal";

export interface Failed extends OutItem {
  error: DeskError;
}

export type { TicketRef };

/** What `leave()` sends: the question as the reader wants it filed, its kind, an optional email. */
export interface LeaveForm {
  question: string;
  kind: "form" | "document";
  email: string;
}

const ACTIVE = new Set(["waiting", "offered", "assigned"]);
/** States in which the chat is still in (or just leaving) the queue: a place may be shown. */
const QUEUED = new Set(["waiting", "offered"]);
/** No acknowledgement within this long counts as "no answer": keep the item and resend. */
const ACK_MS = 15000;
/** Pause before resending after a retriable error, so a failing desk is not hammered. */
const RETRY_MS = 3000;
/** A shown typing indicator expires by itself: the desk never expires it (protocol). */
const TYPING_SHOWN_MS = 8000;
/** While the reader keeps typing, `typing: true` is repeated at most this often... */
const TYPING_SEND_MS = 3000;
/** ...and `typing: false` follows this long after the last key press. */
const TYPING_IDLE_MS = 4000;
/** A queue status that is not renewed (the bot sends one every 5 s) is dropped after this. */
const QUEUE_STALE_MS = 20000;
/** A dropped upload is sent again by itself this many times (after 2, 4, 8 s)... */
const UPLOAD_TRIES = 3;
/** The library's public details (hours, who is online) are asked for at most this often. */
export const INFO_MS = 60000;
/** A live message that arrived ahead of another is given this long before the missing one is
 * fetched: a relay through another node is usually only milliseconds late. */
export const GAP_WAIT_MS = 1500;
/** A gap fetch that failed (no answer, the desk restarting) is tried again later and later, up
 * to this long apart. */
export const GAP_RETRY_MAX_MS = 60_000;

/** Filling the chat's gap: the pending fetch, the one on its way, and whether it must wait for
 * news (`stuck`: the last fetch left the gap, asking again would only loop). */
interface GapFill {
  timer: number;
  busy: boolean;
  /** A new message arrived while `busy`: the gap left may be its own. */
  again: boolean;
  stuck: boolean;
  /** Fetches in a row that got no answer. */
  failures: number;
}

const noGap = (): GapFill => ({ timer: 0, busy: false, again: false, stuck: false, failures: 0 });

function randomId(): string {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

function codeIn(text: string, codes: string[]): string | null {
  return codes.find((c) => text.includes(c)) ?? null;
}

export class Chat {
  conn: Conn = "idle";
  info: LibraryInfo | null = null;
  consultation: Consultation | null = null;
  cid: number | null;
  readonly msgs = new Map<number, Message>();
  /** The held seqs whose predecessor is not known to be held (see messages.ts). */
  private readonly unlinked: Unlinked = new Map();
  private gap = noGap();
  failed: Failed[] = [];
  /** Files on their way, in the order chosen. */
  uploads: Upload[] = [];
  /** The client message id being sent right now. */
  sending: string | null = null;
  consultantTyping = false;
  /** The current chat's place in the queue; never stored, so a reload shows none until told. */
  queue: QueuePosition | null = null;
  staffRead = 0;
  /** The last read mark the reader sent (or the desk reported). */
  readerRead = 0;
  /** The panel is open and the page visible: new messages count as read. */
  visible = false;
  wasConnected = false;
  lang: string;
  onChange: () => void = () => {};
  /** A message the desk refused for good; the view puts its text back in the composer. */
  onRefused: (item: Failed) => void = () => {};
  /** An action the reader asked for failed (e.g. ending the chat while offline). */
  onNotice: (key: "cannotEnd") => void = () => {};

  private socket: Socket | null = null;
  private readonly store: Store;
  private saved: Saved;
  private flushing = false;
  private resumed = false;
  private typingTimer = 0;
  private typingSentAt = 0;
  private idleTimer = 0;
  private retryTimer = 0;
  private queueTimer = 0;
  private starting = false;
  /** When the library's details were last asked for (-Infinity: never, or it failed). */
  private infoAt = -Infinity;
  private infoLoading: Promise<void> | null = null;
  private infoTimer = 0;
  /** The panel is open: keep the library's details fresh. */
  private watching = false;
  /** The current chat ended and the reader has seen that: it is no longer kept in storage. */
  private endSeen = false;
  /** Consultants seen in this chat, so earlier messages keep their author's name. */
  readonly people = new Map<number, Person>();

  constructor(
    readonly desk: string,
    readonly library: string,
    lang: string,
  ) {
    this.store = new Store(desk, library);
    this.saved = this.store.load();
    this.cid = this.saved.cid;
    this.lang = this.saved.lang ?? lang;
    window.addEventListener("online", () => this.netChanged());
    window.addEventListener("offline", () => this.netChanged());
    window.addEventListener("storage", (e) => this.onStorage(e));
  }

  /** Unsent messages, oldest first: always read from storage, which all tabs share. */
  get outbox(): OutItem[] {
    return this.store.outbox();
  }

  get tickets(): TicketRef[] {
    return this.store.tickets();
  }

  /** Anything of this reader on this device (for "clear this conversation"). */
  get hasData(): boolean {
    return this.hasToken || this.cid !== null || this.outbox.length > 0 || this.tickets.length > 0;
  }

  /** Another tab changed the shared storage. */
  private onStorage(e: StorageEvent): void {
    if (e.key === this.store.libKey && e.newValue === null) {
      this.reset(); // cleared in another tab
    } else if (e.key === this.store.outKey) {
      this.onChange();
      void this.flush();
    } else if (e.key === this.store.ticketKey) {
      this.onChange();
    }
  }

  get hasToken(): boolean {
    return !!this.store.token;
  }

  get panelWasOpen(): boolean {
    return !!this.saved.open;
  }

  get active(): boolean {
    return !!this.consultation && this.consultation.id === this.cid && ACTIVE.has(this.consultation.state);
  }

  get ended(): boolean {
    return !!this.consultation && !ACTIVE.has(this.consultation.state);
  }

  maxSeq(): number {
    return topSeq(this.msgs);
  }

  /** The seq the chat is complete up to: what resume and gap-filling history ask after. */
  contiguousSeq(): number {
    return contiguousSeq(this.msgs, this.unlinked);
  }

  sorted(): Message[] {
    return bySeq(this.msgs);
  }

  unread(): number {
    return unreadCount(this.msgs, this.readerRead);
  }

  persist(patch: Partial<Saved> = {}): void {
    // An ended chat the reader has seen (here, or in a tab that already dropped it) is not kept:
    // on a shared computer the next person must not find it.
    if (this.ended && (this.visible || this.store.load().cid !== this.cid)) this.endSeen = true;
    const keep = !this.endSeen;
    this.saved = {
      ...this.saved,
      ...patch,
      cid: keep ? this.cid : null,
      // Not the top: a gap must still be asked for after a reload.
      lastSeq: keep ? this.contiguousSeq() : 0,
      version: keep ? (this.consultation?.version ?? this.saved.version) : 0,
      lang: this.lang,
    };
    this.store.save(this.saved);
  }

  /** Fetch the library's public details (name, languages, phone, hours, who is online). */
  loadLibrary(): Promise<void> {
    if (this.infoLoading) return this.infoLoading;
    this.infoAt = Date.now();
    this.infoLoading = (async () => {
      try {
        const r = await fetch(`${this.desk}/api/libraries/${encodeURIComponent(this.library)}`, { cache: "no-store" });
        const body = (await r.json()) as { ok: boolean; library?: LibraryInfo };
        if (body.ok && body.library) this.info = body.library;
        else {
          this.infoAt = -Infinity;
          if (r.status === 404) this.setConn("fatal");
        }
      } catch {
        // The header falls back to a generic title; the socket reports the network state.
        this.infoAt = -Infinity;
      }
      this.infoLoading = null;
      this.onChange();
    })();
    return this.infoLoading;
  }

  /**
   * The panel opened or closed. While it is open the library's details are kept fresh: asked
   * for now unless the last request is under `INFO_MS` old, then every `INFO_MS` while no chat
   * is under way (the start view shows the hours and who is online; a chat needs neither).
   */
  watchLibrary(open: boolean): void {
    this.watching = open;
    this.refreshLibrary();
  }

  private refreshLibrary(): void {
    clearTimeout(this.infoTimer);
    if (!this.watching) return;
    let wait = this.infoAt + INFO_MS - Date.now();
    if (wait <= 0) {
      if (!this.info || this.cid === null) void this.loadLibrary();
      wait = INFO_MS;
    }
    this.infoTimer = window.setTimeout(() => this.refreshLibrary(), Math.max(wait, 1000));
  }

  // ---- connection -------------------------------------------------------------------------

  private setConn(c: Conn): void {
    if (this.conn === "fatal") return;
    this.conn = c;
    this.onChange();
  }

  private netChanged(): void {
    if (this.conn === "reconnecting" || this.conn === "offline" || this.conn === "connecting") {
      this.setConn(navigator.onLine ? (this.wasConnected ? "reconnecting" : "connecting") : "offline");
    }
  }

  private lostState(): Conn {
    return navigator.onLine ? (this.wasConnected ? "reconnecting" : "connecting") : "offline";
  }

  private async newToken(): Promise<boolean> {
    try {
      const r = await fetch(`${this.desk}/api/readers/visitor`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ library: this.library }),
      });
      const body = (await r.json()) as { ok: boolean; token?: string };
      if (body.ok && body.token) {
        this.store.token = body.token;
        return true;
      }
      if (r.status === 403 || r.status === 404) this.setConn("fatal");
    } catch {
      this.setConn(this.lostState());
    }
    return false;
  }

  /** Connect (getting a reader token first if there is none). Safe to call repeatedly. */
  async start(): Promise<void> {
    if (this.socket || this.starting || this.conn === "fatal") return;
    this.starting = true;
    this.setConn(this.lostState());
    let delay = 1000;
    while (!this.store.token && !(await this.newToken())) {
      if ((this.conn as Conn) === "fatal") return;
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 15000);
    }
    this.starting = false;
    // Browsers send no Origin header on a same-origin GET, and the desk refuses a handshake
    // without one; so on the desk's own page (/chat/{code}) start with WebSocket, which always
    // carries Origin. Elsewhere keep socket.io's default: polling first, then upgrade.
    const sameOrigin = this.desk === location.origin;
    const socket = io(`${this.desk}/reader`, {
      autoConnect: false,
      ...(sameOrigin ? { transports: ["websocket", "polling"], tryAllTransports: true } : {}),
      // A reader waits for an answer: never more than 5 s between attempts.
      reconnectionDelayMax: 5000,
      // A function, so a reconnect uses the token in effect now.
      auth: (cb) => cb({ library: this.library, token: this.store.token ?? "" }),
    });
    this.socket = socket;
    socket.on("connect", () => {
      this.wasConnected = true;
      this.setConn("connected");
      void this.resume();
      for (const u of this.uploads) if (u.state === "lost") this.retry(u);
    });
    socket.on("disconnect", (reason) => {
      this.resumed = false;
      // The next resume asks after the contiguous seq.
      this.dropGap();
      this.consultantTyping = false;
      this.setConn(this.lostState());
      // A desk node going down hangs up on purpose; socket.io-client does not retry that case.
      if (reason === "io server disconnect") this.later(() => socket.connect());
    });
    socket.on("connect_error", (err: Error & { data?: unknown }) => {
      const text = `${err.message} ${JSON.stringify(err.data ?? "")}`;
      const code = codeIn(text, ["auth_invalid", "origin_not_allowed", "library_not_found"]);
      if (code === "auth_invalid") {
        // The desk no longer knows this reader: start over as a new visitor.
        this.store.token = null;
        this.forget();
        void this.newToken().then(() => this.later(() => socket.connect()));
      } else if (code) {
        this.setConn("fatal");
      } else {
        this.setConn(this.lostState());
        if (!socket.active) this.later(() => socket.connect());
      }
    });
    socket.io.on("reconnect_attempt", () => this.setConn(this.lostState()));
    socket.on("message", (m: Message) => this.onMessage(m));
    socket.on("consultation", (c: Consultation) => this.onConsultation(c));
    socket.on("typing", (p: { consultation_id: number; typing: boolean }) => {
      if (p.consultation_id !== this.cid) return;
      this.consultantTyping = p.typing;
      clearTimeout(this.typingTimer);
      if (p.typing) {
        this.typingTimer = window.setTimeout(() => {
          this.consultantTyping = false;
          this.onChange();
        }, TYPING_SHOWN_MS);
      }
      this.onChange();
    });
    socket.on("queue.position", (p: QueuePosition) => this.onQueue(p));
    socket.on("read", (p: { consultation_id: number; side: string; seq: number }) => {
      if (p.consultation_id === this.cid && p.side === "staff") {
        this.staffRead = Math.max(this.staffRead, p.seq);
        this.onChange();
      }
    });
    socket.connect();
  }

  private later(fn: () => void): void {
    setTimeout(() => {
      if (this.socket && !this.socket.connected) fn();
    }, 1000 + Math.random() * 2000);
  }

  private call(event: string, payload: object): Promise<Ack> {
    const socket = this.socket;
    if (!socket?.connected) return Promise.resolve({ ok: false, error: { code: "timeout" } });
    return new Promise((resolve) => {
      socket.timeout(ACK_MS).emit(event, payload, (err: unknown, reply: unknown) => resolve(toAck(err, reply)));
    });
  }

  /** Drop everything about the current consultation (its reader is gone or it is finished). */
  private forget(): void {
    this.drop();
    this.store.editOut((all) => all.map((o) => ({ ...o, cid: null })));
    this.persist();
    this.onChange();
  }

  /** Drop the current consultation from memory. */
  private drop(): void {
    this.cid = null;
    this.consultation = null;
    this.msgs.clear();
    this.unlinked.clear();
    this.dropGap();
    this.failed = [];
    for (const u of this.uploads) u.abort?.();
    this.uploads = [];
    this.staffRead = 0;
    this.readerRead = 0;
    this.consultantTyping = false;
    this.endSeen = false;
    this.setQueue(null);
  }

  /** Back to a fresh widget with nothing stored: disconnected, no chat, no token in use. */
  private reset(): void {
    const s = this.socket;
    this.socket = null;
    s?.off();
    s?.disconnect();
    clearTimeout(this.retryTimer);
    clearTimeout(this.typingTimer);
    this.resumed = false;
    this.wasConnected = false;
    this.typingSentAt = 0;
    this.drop();
    this.people.clear();
    this.saved = this.store.load();
    if (this.conn !== "fatal") this.conn = "idle";
    this.onChange();
  }

  /** "Clear this conversation from this device": end a chat under way, then forget the chat,
   * the outbox, the tickets and the reader token. */
  async clear(): Promise<void> {
    if (this.active && this.cid !== null) await this.call("consultation.close", { consultation_id: this.cid });
    this.store.clear();
    this.reset();
  }

  // ---- incoming ---------------------------------------------------------------------------

  /** Keep new messages; `listed`: a list answer, complete for its range (linked). */
  private merge(messages: Message[], listed: boolean): void {
    const added = addMessages(this.msgs, this.cid, messages, this.unlinked, listed);
    if (!listed) this.watchGap(added.length > 0);
    for (const m of added) {
      // The desk's notice of a hand-off (by the reader or the consultant) carries the
      // ticket's number and the reader's link: keep them in the list of the reader's tickets.
      const ticket = handoffTicket(m);
      if (ticket) this.saveTicket(ticket, Date.parse(m.created_at));
    }
    this.persist();
    this.markRead();
    this.onChange();
  }

  private setConsultation(c: Consultation): void {
    if (c.id !== this.cid) {
      this.drop();
      this.cid = c.id;
    }
    // Events may arrive out of order: never step back to an older version.
    if (this.consultation && this.consultation.version > c.version) return;
    this.consultation = c;
    if (c.consultant) this.people.set(c.consultant.id, c.consultant);
    if (c.read) {
      this.staffRead = Math.max(this.staffRead, c.read.staff);
      this.readerRead = Math.max(this.readerRead, c.read.reader);
    }
    if (!ACTIVE.has(c.state)) this.consultantTyping = false;
    if (!QUEUED.has(c.state)) this.setQueue(null);
    this.persist();
    this.onChange();
  }

  private setQueue(p: QueuePosition | null): void {
    clearTimeout(this.queueTimer);
    this.queue = p;
    if (p) {
      this.queueTimer = window.setTimeout(() => {
        this.queue = null;
        this.onChange();
      }, QUEUE_STALE_MS);
    }
  }

  private onQueue(p: QueuePosition): void {
    // Only for the current chat while it is queued; a late status after assignment is dropped.
    if (p.consultation_id !== this.cid || (this.consultation && !QUEUED.has(this.consultation.state))) return;
    this.setQueue(p);
    this.onChange();
  }

  /** The queue status to show now, or null. */
  get queued(): QueuePosition | null {
    return this.queue && this.consultation && QUEUED.has(this.consultation.state) ? this.queue : null;
  }

  private onMessage(m: Message): void {
    if (m.consultation_id === this.cid) this.merge([m], false);
    else if (!this.active) void this.resume(); // perhaps a chat opened in another tab
  }

  private onConsultation(c: Consultation): void {
    if (c.library !== this.library) return; // the same reader at another library's widget
    if (c.id === this.cid) this.setConsultation(c);
    else if (ACTIVE.has(c.state) && !this.active) {
      this.setConsultation(c);
      void this.resume();
    }
  }

  private async resume(): Promise<void> {
    const listed = this.cid
      ? [{ consultation_id: this.cid, last_seq: this.contiguousSeq(), version: this.consultation?.version ?? 0 }]
      : [];
    const ack = await this.call("resume", { consultations: listed });
    if (!ack.ok) {
      if (ack.error?.code === "consultation_not_found") {
        this.forget();
        return this.resume();
      }
      if (this.socket?.connected) setTimeout(() => void this.resume(), RETRY_MS);
      return;
    }
    type Entry = {
      consultation_id: number;
      consultation?: Consultation;
      messages?: Message[];
      more?: boolean;
      error?: DeskError;
    };
    for (const e of ack.consultations as Entry[]) {
      const mine = e.consultation_id === this.cid;
      // A stale id (unknown, or another reader's after a token change): forget it, carry on.
      if (e.error) {
        if (mine) this.forget();
        continue;
      }
      // An unlisted entry is an active consultation at this library: take it up unless the
      // reader is in another active one (which cannot happen: one per library).
      if (!mine && !(e.consultation && !this.active)) continue;
      if (e.consultation) this.setConsultation(e.consultation);
      this.merge(e.messages ?? [], true);
      if (e.more) await this.pageHistory(e.consultation_id);
    }
    this.resumed = true;
    this.onChange();
    void this.flush();
  }

  /** `history` after the contiguous seq (not the top: a live message may have come in ahead
   * meanwhile), page after page while the desk has more. */
  private async pageHistory(cid: number): Promise<boolean> {
    for (;;) {
      const after = this.contiguousSeq();
      const page = await this.call("history", { consultation_id: cid, after_seq: after });
      if (cid !== this.cid) return true;
      if (!page.ok) return false;
      this.merge(page.messages as Message[], true);
      if (!page.more || this.contiguousSeq() <= after) return true;
    }
  }

  /**
   * A live message or an acknowledgement came in (`fresh`: a seq not held before). If the chat
   * has a gap now, fetch what is missing after GAP_WAIT_MS unless it arrives meanwhile; one
   * fetch at a time.
   */
  private watchGap(fresh: boolean): void {
    const g = this.gap;
    if (fresh) {
      g.stuck = false;
      if (g.busy) g.again = true;
    }
    if (!hasGap(this.msgs, this.unlinked)) {
      clearTimeout(g.timer);
      g.timer = 0;
      return;
    }
    if (g.timer || g.busy || g.stuck) return;
    g.timer = window.setTimeout(() => void this.fillGap(g), GAP_WAIT_MS);
  }

  private async fillGap(g: GapFill): Promise<void> {
    g.timer = 0;
    const cid = this.cid;
    if (cid === null || !this.socket?.connected || !hasGap(this.msgs, this.unlinked)) return;
    g.busy = true;
    g.again = false;
    const answered = await this.pageHistory(cid);
    g.busy = false;
    // Dropped meanwhile (a disconnect, another chat): resume covers it.
    if (this.gap !== g || !hasGap(this.msgs, this.unlinked)) return;
    if (!answered) {
      // No answer is not an answer: ask again, later each time.
      g.failures += 1;
      const wait = Math.min(GAP_WAIT_MS * 2 ** g.failures, GAP_RETRY_MAX_MS);
      g.timer = window.setTimeout(() => void this.fillGap(g), wait);
      return;
    }
    g.failures = 0;
    // Still a gap and nothing new came: a message the desk no longer shows. Asking again
    // would only loop; the next new message (or resume) tries again.
    if (g.again) this.watchGap(false);
    else g.stuck = true;
  }

  private dropGap(): void {
    clearTimeout(this.gap.timer);
    this.gap = noGap();
  }

  // ---- outgoing ---------------------------------------------------------------------------

  /** Queue a message; it goes out now if connected, otherwise after the next resume. */
  send(body: string): void {
    const item: OutItem = { cmid: randomId(), body, cid: this.active ? this.cid : null };
    this.store.editOut((all) => [...all, item]);
    this.stopTyping();
    this.onChange();
    void this.start();
    void this.flush();
  }

  private async flush(): Promise<void> {
    if (this.flushing || !this.resumed || !this.socket?.connected) return;
    this.flushing = true;
    try {
      while (this.outbox.length && this.socket?.connected) {
        const item = this.outbox[0];
        this.sending = item.cmid;
        this.onChange();
        let ack: Ack;
        if (item.cid === null && !this.active) {
          ack = await this.call("consultation.open", {
            language: this.lang,
            question: item.body,
            client_msg_id: item.cmid,
          });
          if (ack.ok) {
            this.setConsultation(ack.consultation as Consultation);
            this.merge(ack.messages as Message[], true);
          }
        } else {
          const cid = (item.cid ?? this.cid) as number;
          ack = await this.call("message.send", { consultation_id: cid, client_msg_id: item.cmid, body: item.body });
          if (ack.ok && cid === this.cid) {
            const own: Message = {
              consultation_id: cid,
              seq: ack.seq as number,
              client_msg_id: item.cmid,
              author_kind: "reader",
              author_id: null,
              body: item.body,
              created_at: ack.created_at as string,
              // Absent for a retry of a stored message: it stays unlinked then, and is fetched
              // again if a gap is left (the copy held first is kept).
              prev: ack.prev as number | undefined,
            };
            this.watchGap(addMessages(this.msgs, cid, [own], this.unlinked, false).length > 0);
          }
        }
        this.sending = null;
        const error = ack.error ?? { code: "internal" };
        const next = outcome(ack);
        if (next === "retry") {
          // Keep it; resend with the same client_msg_id after a pause or the next resume.
          clearTimeout(this.retryTimer);
          this.retryTimer = window.setTimeout(() => void this.flush(), RETRY_MS);
          break;
        }
        this.store.editOut((all) => all.filter((o) => o.cmid !== item.cmid));
        if (next === "refused") {
          const failed = { ...item, error };
          this.failed.push(failed);
          this.onRefused(failed);
        }
        this.persist();
        this.markRead();
        this.onChange();
      }
    } finally {
      this.flushing = false;
      this.sending = null;
      this.onChange();
    }
  }

  // ---- files (docs/delivery.md) ------------------------------------------------------------

  /** What the library's chats take, or null when files cannot be sent (an older desk). */
  get limits(): FileLimits | null {
    return this.info?.files ?? null;
  }

  /** Files can be sent now: a chat under way, connected, and a library that takes some. */
  get canAttach(): boolean {
    return this.active && this.conn === "connected" && !!this.limits?.accept.length;
  }

  /** Send a file into the chat under way; returns why it cannot go (checked against the
   * library's limits before a byte is sent), or null. */
  sendFile(file: File): DeskError | null {
    const lim = this.limits;
    if (!lim || !this.canAttach || this.cid === null) return { code: this.active ? "network" : "consultation_ended" };
    const name = checkFile(file, lim);
    if (typeof name !== "string") return name;
    const up: Upload = { cmid: randomId(), cid: this.cid, file, name, loaded: 0, state: "up", tries: 0 };
    this.uploads.push(up);
    this.push(up);
    return null;
  }

  /** Send a dropped upload again now (the reader asked, or the socket is back). */
  retry(up: Upload): void {
    up.tries = 0;
    this.push(up);
  }

  /** (Re)send an upload, always with its own client_msg_id: the desk stores it once. */
  private push(up: Upload): void {
    const form = new FormData();
    form.append("meta", JSON.stringify({ client_msg_id: up.cmid }));
    form.append("file", up.file, up.name);
    const tr = transfer(`${this.desk}/api/readers/consultations/${up.cid}/files`, this.store.token ?? "", form, (n) => {
      up.loaded = n;
      this.onChange();
    });
    Object.assign(up, { state: "up", loaded: 0, error: undefined, abort: tr.abort });
    this.onChange();
    void tr.done.then((got) => {
      if (!this.uploads.includes(up)) return; // cancelled
      if (got.ok) {
        this.dropUpload(up.cmid);
        // Linked by its `prev` like an acknowledgement (none for a duplicate).
        const m = got.json?.message as Message | undefined;
        if (m) this.merge([m], false);
        return;
      }
      const code = got.error.code;
      if (code === "network" || RETRY.has(code)) {
        up.state = ++up.tries > UPLOAD_TRIES ? "lost" : "wait";
        if (up.state === "wait") {
          setTimeout(() => {
            if (up.state === "wait" && this.uploads.includes(up)) this.push(up);
          }, 1000 * 2 ** up.tries);
        }
      } else {
        up.state = "refused";
        up.error = got.error;
      }
      this.onChange();
    });
  }

  /** Cancel an upload on its way, or dismiss one that failed. */
  dropUpload(cmid: string): void {
    for (const u of this.uploads) if (u.cmid === cmid) u.abort?.();
    this.uploads = this.uploads.filter((u) => u.cmid !== cmid);
    this.onChange();
  }

  /** Fetch the file of message `seq` of the current chat, with the reader's token. */
  fetchFile(seq: number, progress: (loaded: number, total: number) => void): Transfer {
    return transfer(`${this.desk}/api/readers/consultations/${this.cid}/files/${seq}`, this.store.token ?? "", null, progress);
  }

  // ---- the end of a chat: rating and the reader's copy --------------------------------------

  /** The current chat ended after a consultant served it: it may be rated and copied. */
  get served(): boolean {
    return this.ended && this.consultation?.id === this.cid && served(this.consultation, this.sorted(), this.people.size > 0);
  }

  /** The reader rated the current chat on this device. */
  get rated(): boolean {
    return this.cid !== null && this.store.rated().includes(this.cid);
  }

  /** POST a JSON body to one of the current chat's reader routes, with the reader's token;
   * null when the desk took it. Never rejects (`network` when it could not be reached). */
  private async post(path: string, body: unknown): Promise<DeskError | null> {
    try {
      const r = await fetch(`${this.desk}/api/readers/consultations/${this.cid}/${path}`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: `Bearer ${this.store.token ?? ""}` },
        body: JSON.stringify(body),
      });
      const got = (await r.json().catch(() => null)) as { ok?: boolean; error?: DeskError } | null;
      return got?.ok ? null : (got?.error ?? { code: "unavailable" });
    } catch {
      return { code: "network" };
    }
  }

  /** Rate the current chat (a second rating replaces the first); remembered on this device. */
  async rate(body: { satisfied: boolean; comment: string }): Promise<DeskError | null> {
    const cid = this.cid;
    const err = cid === null ? { code: "consultation_not_found" } : await this.post("rating", body);
    if (!err && cid !== null) this.store.addRated(cid);
    this.onChange();
    return err;
  }

  /** The reader's copy of the current chat, as a text file. */
  fetchTranscript(): Transfer {
    return transfer(`${this.desk}/api/readers/consultations/${this.cid}/transcript`, this.store.token ?? "", null, () => {});
  }

  /** Mail the reader's copy of the current chat to `email`. */
  mailTranscript(email: string): Promise<DeskError | null> {
    return this.post("transcript/email", { email });
  }

  dismissFailed(cmid: string): void {
    this.failed = this.failed.filter((f) => f.cmid !== cmid);
    this.onChange();
  }

  async end(): Promise<void> {
    if (!this.active || this.cid === null) return;
    const ack = await this.call("consultation.close", { consultation_id: this.cid });
    if (ack.ok) this.setConsultation(ack.consultation as Consultation);
    else if (ack.error?.code === "wrong_state") void this.resume();
    else this.onNotice("cannotEnd");
  }

  /** Leave an ended consultation behind and show the start view (with fresh details). */
  newChat(): void {
    this.forget();
    this.refreshLibrary();
  }

  setLang(lang: string): void {
    this.lang = lang;
    this.persist();
    this.onChange();
  }

  rememberOpen(open: boolean): void {
    this.persist({ open });
  }

  // ---- typing and read marks ---------------------------------------------------------------

  typing(): void {
    if (!this.active || !this.socket?.connected) return;
    const now = Date.now();
    if (now - this.typingSentAt > TYPING_SEND_MS) {
      this.typingSentAt = now;
      this.socket.volatile.emit("typing", { consultation_id: this.cid, typing: true });
    }
    clearTimeout(this.idleTimer);
    this.idleTimer = window.setTimeout(() => this.stopTyping(), TYPING_IDLE_MS);
  }

  stopTyping(): void {
    clearTimeout(this.idleTimer);
    if (!this.typingSentAt) return;
    this.typingSentAt = 0;
    if (this.cid !== null && this.socket?.connected) {
      this.socket.volatile.emit("typing", { consultation_id: this.cid, typing: false });
    }
  }

  setVisible(visible: boolean): void {
    this.visible = visible;
    if (visible && this.ended && !this.endSeen) this.persist();
    this.markRead();
    this.onChange();
  }

  // ---- the form service (留言) ---------------------------------------------------------------

  private saveTicket(t: { id: number; url: string }, at = Date.now()): TicketRef {
    const ref = { id: t.id, url: t.url, at: at || Date.now() };
    if (!this.tickets.some((x) => x.url === t.url)) this.store.addTicket(ref);
    return ref;
  }

  /** The reader's messages so far (sent or not), to prefill the form's question. */
  askedSoFar(): string {
    const sent = this.sorted().filter((m) => m.author_kind === "reader");
    const known = new Set(sent.map((m) => m.client_msg_id));
    return [...sent.map((m) => m.body), ...this.outbox.filter((o) => !known.has(o.cmid)).map((o) => o.body)].join("\n");
  }

  /**
   * Leave the question for the form service. With a chat under way it is handed off (`handoff`:
   * the chat ends as `handed_off`); otherwise it is filed on its own (`POST /api/tickets`).
   * Returns the ticket, or the error (`network` when the desk could not be reached).
   */
  async leave(f: LeaveForm): Promise<TicketRef | DeskError> {
    const question = f.question.trim();
    const email = f.email ? { email: f.email } : {};
    if (this.active && this.cid !== null) {
      const cid = this.cid;
      const ack = await this.call("handoff", {
        consultation_id: cid,
        kind: f.kind,
        ...email,
        ...(question ? { question } : {}),
      });
      if (!ack.ok) {
        const error = ack.error ?? { code: "internal" };
        if (error.code === "wrong_state" || error.code === "consultation_not_found") void this.resume();
        return error.code === "timeout" ? { code: "network" } : error;
      }
      this.setConsultation(ack.consultation as Consultation);
      // The unsent messages of this chat are in the question now; they cannot be sent anyway.
      this.store.editOut((all) => all.filter((o) => o.cid !== null && o.cid !== cid));
      return this.saveTicket(ack.ticket as TicketRef);
    }
    if (!question) return { code: "empty_question" };
    try {
      const token = this.store.token;
      const r = await fetch(`${this.desk}/api/tickets`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ library: this.library, question, kind: f.kind, language: this.lang, ...email, ...(token ? { token } : {}) }),
      });
      const body = (await r.json()) as { ok: boolean; ticket?: TicketRef; error?: DeskError };
      if (!body.ok || !body.ticket) return body.error ?? { code: "internal" };
      // Messages waiting to open a chat were part of the question.
      this.store.editOut((all) => all.filter((o) => o.cid !== null));
      this.onChange();
      return this.saveTicket(body.ticket);
    } catch {
      return { code: "network" };
    }
  }

  private markRead(): void {
    const top = this.maxSeq();
    if (!this.visible || this.cid === null || top <= this.readerRead || !this.socket?.connected) return;
    this.readerRead = top;
    void this.call("read", { consultation_id: this.cid, seq: top });
  }
}

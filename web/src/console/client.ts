// The console's connection to the desk and everything it knows: chats, offers, the queue,
// presence and the outbox. Plain TypeScript with a change listener, so the protocol rules
// (resume, paging, seq order and de-duplication, the outbox) live apart from the views.

import { io, type Socket } from "socket.io-client";
import { errorText } from "./errors";
import { type OutboxItem, Outbox, shouldRetry } from "./outbox";
import { newClientMsgId, readJson, remove, writeJson } from "./storage";
import { contiguousSeq, hasGap, insertLinked, lastSeq, resumeList, type Unlinked, unreadCount } from "./sync";
import {
  ACTIVE_STATES,
  type Ack,
  type Colleague,
  type Consultation,
  type DeskError,
  type Library,
  type Load,
  type Me,
  type Message,
  type QueueItem,
  type ResumeEntry,
  type Status,
} from "./types";

export type ConnState = "connecting" | "resuming" | "connected" | "reconnecting" | "offline" | "expired";

/** How long to wait for an acknowledgement before treating the request as unanswered. */
const ACK_TIMEOUT_MS = 10_000;
/** A shown "reader is typing" expires after this long without news (the desk never expires it). */
export const TYPING_SHOWN_MS = 8_000;
/** While the consultant keeps typing, `typing: true` is repeated this often... */
const TYPING_REPEAT_MS = 4_000;
/** ...and `typing: false` follows this long after the last keystroke. */
const TYPING_IDLE_MS = 3_000;
/** The desk answers at most 50 consultations per resume. */
const RESUME_LIMIT = 50;
/** Messages kept for a chat the console does not know yet (it arrives in chat.assigned). */
const EARLY_LIMIT = 200;
/** A live message that arrived ahead of another is given this long before the missing one is
 * fetched: a relay through another node is usually only milliseconds late. */
export const GAP_WAIT_MS = 1500;
/** A gap fetch that failed (no answer, the desk restarting) is tried again later and later, up
 * to this long apart. */
export const GAP_RETRY_MAX_MS = 60_000;

export interface SendFailure {
  client_msg_id: string;
  body: string;
  private: boolean;
  reason: DeskError;
}

export interface Chat {
  id: number;
  consultation: Consultation;
  /** Sorted by seq, one per seq. */
  messages: Message[];
  /** The held seqs whose predecessor is not known to be held (see sync.ts). */
  unlinked: Unlinked;
  /** The staff read mark this console has sent (or learned). */
  staffRead: number;
  /** The reader's read mark. */
  readerRead: number;
  readerTypingUntil: number;
  failures: SendFailure[];
  draft: string;
  privateMode: boolean;
  /** The backlog ticket this console made of the chat (转表单咨询), if any. */
  ticketId?: number;
}

/** Filling a chat's gap: the pending fetch, the one on its way, and whether it must wait for
 * news (`stuck`: the last fetch left the gap, asking again would only loop). */
interface GapFill {
  timer: number | undefined;
  busy: boolean;
  /** A new message arrived while `busy`: the gap left may be its own. */
  again: boolean;
  stuck: boolean;
  /** Fetches in a row that got no answer. */
  failures: number;
}

export interface Offer {
  consultation: Consultation;
  expiresAt: number | null;
}

export interface Toast {
  id: number;
  text: string;
  kind: "info" | "error";
}

/** What the views need to tell the consultant about something that happened. */
export interface Alerts {
  newChat(chat: Consultation, how: string): void;
  newMessage(chat: Chat, m: Message): void;
  toast(key: string, vars: Record<string, string | number>, kind?: "info" | "error"): void;
  /** The session ended (signed out in another tab or device, expired, deactivated). */
  expired(why: "elsewhere" | "expired"): void;
  /** A backlog ticket this consultant holds is due within a day, overdue, or still unanswered. */
  backlogReminder?(ticketId: number, what: BacklogReminder): void;
}

export type BacklogReminder = "due_soon" | "overdue" | "reminder";

const REMINDERS: ReadonlySet<string> = new Set(["due_soon", "overdue", "reminder"]);

/** What backlog.changed carries (docs/protocol.md). */
export interface BacklogChanged {
  ticket_id: number;
  library_id: number;
  what: string;
  consultant_id: number | null;
}

/** Written at sign-out so that the other tabs of this browser sign out too. */
export const SIGNED_OUT_KEY = "desk.console.signedout";
/** Colleague names are fetched again at most this often when an unknown id shows up. */
const NAMES_REFRESH_MS = 30_000;
/** backlog.changed comes in bursts; the backlog view refreshes once per burst. */
const BACKLOG_DEBOUNCE_MS = 400;

type Handler = () => void;

function maxSeq(chat: Chat): number {
  return lastSeq(chat.messages);
}

export function isEnded(c: Consultation): boolean {
  return !ACTIVE_STATES.has(c.state);
}

export class DeskClient {
  conn: ConnState = "connecting";
  status: Status;
  /** The status this browser kept from the last session, or null (never chosen here). */
  readonly storedStatus: Status | null;
  /** Set when the desk's default (online) applies to a consultant who never chose here. */
  statusNotice = false;
  connected = false;
  /** The desk's figure, from presence (sent on every change) and acknowledgements. */
  load = 0;
  /** Bumped (debounced) on backlog.changed: the backlog view refreshes when it moves. */
  backlogVersion = 0;
  /** Colleague id → name, from colleagues.list and consultations. */
  names = new Map<number, string>();
  capacity: number;
  chats = new Map<number, Chat>();
  /** Tab order. */
  order: number[] = [];
  activeId: number | null = null;
  offers = new Map<number, Offer>();
  queue: QueueItem[] = [];
  queueFetchedAt = Date.now();
  libraries = new Map<string, Library>();
  librariesById = new Map<number, Library>();
  readonly outbox: Outbox;

  private socket: Socket | null = null;
  private listeners = new Set<Handler>();
  private notifyQueued = false;
  private inflight = new Set<number>();
  private retryTimer: number | undefined;
  private retryDelay = 1000;
  private queueTimer: number | undefined;
  private reconnectTimer: number | undefined;
  private early = new Map<number, Message[]>();
  private gaps = new Map<number, GapFill>();
  private typingOut = new Map<number, { sentAt: number; idle: number | undefined }>();
  private restored: number[];
  private stopped = false;
  /** True once this page knows the status (chosen here or told by the desk): only then is
   * it sent in the handshake; otherwise the desk keeps the consultant's current status. */
  private statusKnown = false;
  private firstResume = true;
  private namesFetchedAt = 0;
  private backlogTimer: number | undefined;
  /** Handlers of server events this class does not interpret itself (the statistics view's
   * `dashboard` and `grade.given`); kept across start() so a view may listen at any time. */
  private extra = new Map<string, Set<(payload: unknown) => void>>();
  private readonly chatsKey: string;
  private readonly statusKey: string;

  constructor(
    readonly me: Me,
    private readonly alerts: Alerts,
  ) {
    this.capacity = me.max_chats;
    this.outbox = new Outbox(`desk.console.outbox.${me.id}`);
    this.chatsKey = `desk.console.chats.${me.id}`;
    this.statusKey = `desk.console.status.${me.id}`;
    this.restored = readJson(
      this.chatsKey,
      (v): v is number[] => Array.isArray(v) && v.every((x) => Number.isInteger(x)),
      [],
    );
    // Shown until the desk says; never sent in the first handshake of a page (a second tab
    // or device must not change the status of the consultant's other consoles).
    this.storedStatus = readJson<Status | null>(
      this.statusKey,
      (v): v is Status => v === "online" || v === "busy" || v === "away",
      null,
    );
    this.status = this.storedStatus ?? "away";
  }

  // ---- change notification -------------------------------------------------------------

  subscribe(fn: Handler): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private changed(): void {
    if (this.notifyQueued) return;
    this.notifyQueued = true;
    queueMicrotask(() => {
      this.notifyQueued = false;
      for (const fn of this.listeners) fn();
    });
  }

  // ---- connection ----------------------------------------------------------------------

  start(): void {
    const socket = io("/console", {
      withCredentials: true,
      // Read at every (re)connection, so a reconnect keeps the status chosen meanwhile.
      auth: (cb) => cb(this.statusKnown ? { status: this.status } : {}),
      // WebSocket only: the desk refuses a console handshake without an Origin header, and
      // browsers send none on same-origin polling GETs (a WebSocket handshake always has one).
      transports: ["websocket"],
      reconnectionDelay: 1000,
      reconnectionDelayMax: 10_000,
    });
    this.socket = socket;
    socket.on("connect", () => void this.onConnect());
    socket.on("disconnect", (reason) => this.onDisconnect(reason));
    socket.on("connect_error", (err) => this.onConnectError(err));
    socket.on("message", (m: Message) => this.onMessage(m));
    socket.on("consultation", (c: Consultation) => this.onConsultation(c));
    socket.on("typing", (p: { consultation_id: number; typing: boolean }) => this.onTyping(p));
    socket.on("read", (p: { consultation_id: number; side: string; seq: number }) =>
      this.onRead(p),
    );
    socket.on("offer", (p: { consultation: Consultation; expires_at: string | null }) =>
      this.onOffer(p.consultation, p.expires_at),
    );
    socket.on("offer.withdrawn", (p: { consultation_id: number; reason: string }) =>
      this.onOfferWithdrawn(p),
    );
    socket.on(
      "chat.assigned",
      (p: { consultation: Consultation; how: string; messages: Message[]; more?: boolean }) =>
        this.onAssigned(p),
    );
    socket.on("chat.released", (p: { consultation_id: number; reason: string }) =>
      this.onReleased(p),
    );
    socket.on("queue.changed", () => this.scheduleQueueRefresh());
    socket.on("presence", (p: Load & { connected: boolean }) => {
      this.setLoad(p);
      this.connected = p.connected;
      this.changed();
    });
    socket.on("backlog.changed", (p: BacklogChanged) => {
      this.onBacklogChanged(p);
      window.clearTimeout(this.backlogTimer);
      this.backlogTimer = window.setTimeout(() => {
        this.backlogVersion++;
        this.changed();
      }, BACKLOG_DEBOUNCE_MS);
    });
    socket.on("session.ended", () => this.sessionEnded("elsewhere"));
    for (const event of this.extra.keys()) this.attachExtra(socket, event);
    window.addEventListener("online", this.onBrowserOnline);
    window.addEventListener("offline", this.onBrowserOffline);
    window.addEventListener("storage", this.onStorage);
  }

  /** Listen to a server event the client does not handle itself; returns the undo. */
  listen<T>(event: string, fn: (payload: T) => void): () => void {
    const handler = fn as (payload: unknown) => void;
    let set = this.extra.get(event);
    if (!set) {
      set = new Set();
      this.extra.set(event, set);
      if (this.socket) this.attachExtra(this.socket, event);
    }
    set.add(handler);
    const handlers = set;
    return () => void handlers.delete(handler);
  }

  private attachExtra(socket: Socket, event: string): void {
    socket.on(event, (payload: unknown) => {
      for (const fn of this.extra.get(event) ?? []) fn(payload);
    });
  }

  /** The scheduled reminders (due_soon, overdue, reminder) are told to the ticket's holder. */
  onBacklogChanged(p: BacklogChanged): void {
    if (!p || typeof p !== "object" || !REMINDERS.has(p.what)) return;
    if (p.consultant_id !== this.me.id || !Number.isInteger(p.ticket_id)) return;
    this.alerts.backlogReminder?.(p.ticket_id, p.what as BacklogReminder);
  }

  private onStorage = (e: StorageEvent): void => {
    if (e.key === SIGNED_OUT_KEY) {
      // Signed out in another tab of this browser.
      let who: unknown = null;
      try {
        who = e.newValue ? (JSON.parse(e.newValue) as { id?: unknown }).id : null;
      } catch {
        who = null;
      }
      if (who === this.me.id) this.sessionEnded("elsewhere");
      return;
    }
    if (e.key !== null && !e.key.startsWith("desk.console.outbox.")) return;
    this.outbox.reload();
    this.changed();
    this.flush();
  };

  stop(): void {
    this.stopped = true;
    window.removeEventListener("online", this.onBrowserOnline);
    window.removeEventListener("offline", this.onBrowserOffline);
    window.removeEventListener("storage", this.onStorage);
    window.clearTimeout(this.retryTimer);
    window.clearTimeout(this.queueTimer);
    window.clearTimeout(this.reconnectTimer);
    window.clearTimeout(this.backlogTimer);
    this.dropGaps();
    this.socket?.disconnect();
    this.socket = null;
    this.listeners.clear();
  }

  /** The session is over: forget this consultant's local state, as at sign-out, and let the
   * view show the sign-in screen. */
  sessionEnded(why: "elsewhere" | "expired"): void {
    if (this.stopped) return;
    this.conn = "expired";
    this.stop();
    this.forgetLocal();
    this.chats.clear();
    this.order = [];
    this.offers.clear();
    this.alerts.expired(why);
  }

  /** Tell the other tabs of this browser that this consultant signed out. */
  announceSignOut(): void {
    writeJson(SIGNED_OUT_KEY, { id: this.me.id, at: Date.now() });
  }

  /** Forget everything this browser keeps for the consultant (at sign-out). */
  forgetLocal(): void {
    this.outbox.clear();
    remove(this.chatsKey);
    remove(this.statusKey);
  }

  private onBrowserOnline = (): void => {
    if (!this.socket || this.conn === "expired") return;
    if (!this.socket.connected) this.socket.connect();
    // The socket may have survived the outage: catch up (resume is always safe) and send.
    else if (this.conn === "offline") void this.onConnect();
  };

  private onBrowserOffline = (): void => {
    if (this.conn !== "expired") this.setConn("offline");
  };

  private setConn(c: ConnState): void {
    this.conn = c;
    this.changed();
  }

  private async onConnect(): Promise<void> {
    this.setConn("resuming");
    await this.resume();
    void this.refreshQueue();
    if (this.libraries.size === 0) void this.loadLibraries();
  }

  private onDisconnect(reason: string): void {
    this.inflight.clear();
    // The next resume asks after every chat's contiguous seq.
    this.dropGaps();
    for (const chat of this.chats.values()) chat.readerTypingUntil = 0;
    if (this.stopped || reason === "io client disconnect") return;
    this.setConn(navigator.onLine === false ? "offline" : "reconnecting");
    if (reason === "io server disconnect") {
      // The desk hung up on purpose (e.g. a node shutting down): Socket.IO will not retry.
      this.retryConnect();
    }
  }

  private onConnectError(err: Error): void {
    const data = (err as Error & { data?: { code?: string } }).data;
    if (data?.code === "unauthenticated" || /unauthenticated|log in first/.test(err.message)) {
      // The session is gone (signed out elsewhere, expired): back to the sign-in screen.
      this.sessionEnded("expired");
      return;
    }
    this.setConn(navigator.onLine === false ? "offline" : "reconnecting");
    // A refusal by the namespace stops Socket.IO's own retries; a transport error does not.
    if (this.socket && !this.socket.active) this.retryConnect();
  }

  private retryConnect(): void {
    window.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = window.setTimeout(() => {
      if (!this.stopped && this.socket && !this.socket.connected) this.socket.connect();
    }, 3000);
  }

  /** Emit with an acknowledgement; an unanswered or impossible request becomes an error. */
  request<T = object>(
    event: string,
    payload: object = {},
    timeoutMs = ACK_TIMEOUT_MS,
  ): Promise<Ack<T>> {
    const socket = this.socket;
    if (!socket || !socket.connected) {
      return Promise.resolve({ ok: false, error: { code: "offline", message: "not connected" } });
    }
    return new Promise((resolve) => {
      socket.timeout(timeoutMs).emit(event, payload, (err: Error | null, reply: Ack<T>) => {
        if (err || !reply || typeof reply !== "object") {
          resolve({ ok: false, error: { code: "timeout", message: "no answer" } });
        } else {
          resolve(reply);
        }
      });
    });
  }

  // ---- resume and history --------------------------------------------------------------

  private async resume(): Promise<void> {
    const listed = this.resumeList();
    let ack = await this.request<{ consultations: ResumeEntry[] } & Load>("resume", {
      consultations: listed,
    });
    if (!ack.ok && ack.error.code === "consultation_not_found") {
      // A listed chat no longer exists (e.g. the desk's data was reset): start from what
      // the desk says is ours.
      this.restored = [];
      for (const id of [...this.chats.keys()]) this.dropChat(id);
      ack = await this.request("resume", { consultations: [] });
    }
    if (!ack.ok) {
      // Unanswered: try again shortly (a new connection resumes on its own anyway).
      window.clearTimeout(this.reconnectTimer);
      this.reconnectTimer = window.setTimeout(() => {
        if (this.socket?.connected && this.conn === "resuming") void this.resume();
      }, 3000);
      return;
    }
    this.restored = [];
    this.setLoad(ack);
    if (this.firstResume) {
      this.firstResume = false;
      // No status was sent: the desk kept the current one, or started a consultant without
      // presence online (its default). Say so when they never chose online here.
      if (this.status === "online" && this.storedStatus !== "online") this.statusNotice = true;
    }
    const paging: Promise<unknown>[] = [];
    const offered = new Set<number>();
    for (const e of ack.consultations) {
      const cid = e.consultation_id;
      if (e.error) {
        this.dropChat(cid);
        this.alerts.toast("chatGone", { id: cid }, "error");
        continue;
      }
      if (e.lost) {
        this.offers.delete(cid);
        if (this.chats.has(cid)) {
          this.dropChat(cid);
          this.alerts.toast("chatLost", { id: cid });
        }
        continue;
      }
      const c = e.consultation;
      if (c && c.state === "offered") {
        offered.add(cid);
        this.onOffer(c, c.offer_expires_at, !this.offers.has(cid));
        continue;
      }
      let chat = this.chats.get(cid);
      if (!chat && c) chat = this.upsertChat(c, []);
      if (!chat) continue;
      if (c) this.applyConsultation(chat, c);
      this.merge(chat, e.messages ?? [], false, true);
      if (e.more) paging.push(this.pageHistory(chat));
    }
    // Offers that expired or went elsewhere while the connection was down.
    for (const id of [...this.offers.keys()]) if (!offered.has(id)) this.offers.delete(id);
    await Promise.all(paging);
    this.saveChatList();
    this.setConn("connected");
    this.markActiveRead();
    this.flush();
  }

  private resumeList(): { consultation_id: number; last_seq: number; version: number }[] {
    // Active chats first: they are the ones that must not be left out.
    return resumeList(this.chats.values(), this.restored, RESUME_LIMIT);
  }

  /** Pages `history` in; false if a page got no answer. */
  private async pageHistory(chat: Chat): Promise<boolean> {
    for (;;) {
      // After the contiguous seq, not the last: a live message may have come in ahead meanwhile.
      const after = contiguousSeq(chat.messages, chat.unlinked);
      const ack = await this.request<{ messages: Message[]; more: boolean }>("history", {
        consultation_id: chat.id,
        after_seq: after,
      });
      if (!ack.ok) return false;
      this.merge(chat, ack.messages, false, true);
      if (!ack.more || contiguousSeq(chat.messages, chat.unlinked) <= after) return true;
    }
  }

  /**
   * A live message or an acknowledgement came in (`fresh`: a seq not held before). If the chat
   * has a gap now, fetch what is missing after GAP_WAIT_MS unless it arrives meanwhile; one
   * fetch per chat at a time.
   */
  private watchGap(chat: Chat, fresh: boolean): void {
    const g = this.gaps.get(chat.id) ?? { timer: undefined, busy: false, again: false, stuck: false, failures: 0 };
    this.gaps.set(chat.id, g);
    if (fresh) {
      g.stuck = false;
      if (g.busy) g.again = true;
    }
    if (!hasGap(chat.messages, chat.unlinked)) {
      window.clearTimeout(g.timer);
      g.timer = undefined;
      return;
    }
    if (g.timer !== undefined || g.busy || g.stuck) return;
    g.timer = window.setTimeout(() => void this.fillGap(chat, g), GAP_WAIT_MS);
  }

  private async fillGap(chat: Chat, g: GapFill): Promise<void> {
    g.timer = undefined;
    if (this.chats.get(chat.id) !== chat || !this.socket?.connected) return;
    if (!hasGap(chat.messages, chat.unlinked)) return;
    g.busy = true;
    g.again = false;
    const answered = await this.pageHistory(chat);
    g.busy = false;
    // Dropped meanwhile (a disconnect, the chat closed): resume covers it.
    if (this.gaps.get(chat.id) !== g || !hasGap(chat.messages, chat.unlinked)) return;
    if (!answered) {
      // No answer is not an answer: ask again, later each time.
      g.failures += 1;
      const wait = Math.min(GAP_WAIT_MS * 2 ** g.failures, GAP_RETRY_MAX_MS);
      g.timer = window.setTimeout(() => void this.fillGap(chat, g), wait);
      return;
    }
    g.failures = 0;
    // Still a gap and nothing new came: a message the desk no longer shows. Asking again
    // would only loop; the next new message (or resume) tries again.
    if (g.again) this.watchGap(chat, false);
    else g.stuck = true;
  }

  private dropGaps(): void {
    for (const g of this.gaps.values()) window.clearTimeout(g.timer);
    this.gaps.clear();
  }

  // ---- chats ---------------------------------------------------------------------------

  private upsertChat(c: Consultation, messages: Message[]): Chat {
    let chat = this.chats.get(c.id);
    let early: Message[] | undefined;
    if (!chat) {
      chat = {
        id: c.id,
        consultation: c,
        messages: [],
        unlinked: new Map(),
        staffRead: c.read?.staff ?? 0,
        readerRead: c.read?.reader ?? 0,
        readerTypingUntil: 0,
        failures: [],
        draft: "",
        privateMode: false,
      };
      this.chats.set(c.id, chat);
      this.order.push(c.id);
      if (this.activeId === null) this.activeId = c.id;
      early = this.early.get(c.id);
      this.early.delete(c.id);
      // Live events, linked or not by their `prev`.
      if (early) this.merge(chat, early, false, false);
      this.saveChatList();
    } else {
      this.applyConsultation(chat, c);
    }
    this.merge(chat, messages, false, true);
    // An early event may have come ahead of a relay that was lost: the list cannot link it.
    if (early) this.watchGap(chat, false);
    return chat;
  }

  private applyConsultation(chat: Chat, c: Consultation): void {
    if (c.version < chat.consultation.version) return;
    chat.consultation = c;
    this.learnName(c);
    if (c.read) {
      chat.readerRead = Math.max(chat.readerRead, c.read.reader);
      chat.staffRead = Math.max(chat.staffRead, c.read.staff);
    }
    if (isEnded(c)) chat.readerTypingUntil = 0;
    this.changed();
  }

  /**
   * Insert messages in seq order, once per seq; returns the ones that were new. `live`: heard
   * on the socket (alerts); `listed`: a list answer, complete for its range (linked).
   */
  private merge(chat: Chat, incoming: Message[], live: boolean, listed: boolean): Message[] {
    const fresh: Message[] = [];
    for (const m of incoming) {
      if (m.client_msg_id && this.outbox.has(m.client_msg_id)) {
        // Stored already (seen via resume or another console): no need to resend.
        this.outbox.remove(m.client_msg_id);
      }
      if (insertLinked(chat.messages, chat.unlinked, m, listed)) fresh.push(m);
    }
    if (fresh.length) {
      if (live) {
        for (const m of fresh) {
          if (m.author_kind === "reader") chat.readerTypingUntil = 0;
          if (!this.isMine(m)) this.alerts.newMessage(chat, m);
        }
      }
      this.changed();
    }
    return fresh;
  }

  /** Chats of this console still active (not ended). */
  activeChats(): number {
    let n = 0;
    for (const chat of this.chats.values()) if (!isEnded(chat.consultation)) n++;
    return n;
  }

  private learnName(c: Consultation): void {
    if (c.consultant?.name) this.names.set(c.consultant.id, c.consultant.name);
  }

  /** A colleague's name if the console knows it; an unknown id asks the desk (throttled). */
  colleagueName(id: number): string | null {
    const name = this.names.get(id);
    if (name !== undefined) return name;
    if (Date.now() - this.namesFetchedAt > NAMES_REFRESH_MS && this.conn === "connected") {
      this.namesFetchedAt = Date.now();
      void this.colleagues();
    }
    return null;
  }

  isMine(m: Message): boolean {
    return m.author_kind === "consultant" && m.author_id === this.me.id;
  }

  unread(chat: Chat): number {
    return unreadCount(chat.messages, chat.staffRead, (m) => this.isMine(m));
  }

  totalUnread(): number {
    let n = 0;
    for (const chat of this.chats.values()) n += this.unread(chat);
    return n;
  }

  private dropChat(cid: number): void {
    if (!this.chats.delete(cid)) return;
    const i = this.order.indexOf(cid);
    this.order = this.order.filter((x) => x !== cid);
    if (this.activeId === cid) {
      this.activeId = this.order[Math.min(i, this.order.length - 1)] ?? null;
      this.markActiveRead();
    }
    this.typingOut.delete(cid);
    window.clearTimeout(this.gaps.get(cid)?.timer);
    this.gaps.delete(cid);
    this.saveChatList();
    this.changed();
  }

  /** Close the tab of an ended chat. */
  dismiss(cid: number): void {
    const chat = this.chats.get(cid);
    if (chat && isEnded(chat.consultation)) this.dropChat(cid);
  }

  private saveChatList(): void {
    writeJson(this.chatsKey, [...this.order, ...this.restored.filter((x) => !this.chats.has(x))]);
  }

  activate(cid: number | null): void {
    if (cid !== null && !this.chats.has(cid)) return;
    if (this.activeId !== null && this.activeId !== cid) this.stopTyping(this.activeId);
    this.activeId = cid;
    this.markActiveRead();
    this.changed();
  }

  /** Alt+↑/↓: the previous or next tab. */
  cycle(step: 1 | -1): void {
    if (this.order.length === 0) return;
    const i = this.activeId === null ? -1 : this.order.indexOf(this.activeId);
    const next = (i + step + this.order.length) % this.order.length;
    this.activate(this.order[next]);
  }

  /** Mark the active chat read when the consultant can see it. */
  markActiveRead(): void {
    if (this.activeId === null || document.visibilityState !== "visible") return;
    const chat = this.chats.get(this.activeId);
    if (!chat) return;
    const top = maxSeq(chat);
    if (top <= chat.staffRead) return;
    chat.staffRead = top;
    this.changed();
    if (this.conn !== "connected" && this.conn !== "resuming") return;
    void this.request<{ seq: number }>("read", { consultation_id: chat.id, seq: top }).then(
      (ack) => {
        if (ack.ok && ack.seq > chat.staffRead) {
          chat.staffRead = ack.seq;
          this.changed();
        }
      },
    );
  }

  // ---- server events -------------------------------------------------------------------

  /** A message the desk returned over HTTP (a delivered file or link): kept like one heard on
   * the socket (the event follows too; messages are de-duplicated by seq). */
  received(m: Message): void {
    this.onMessage(m);
  }

  private onMessage(m: Message): void {
    const chat = this.chats.get(m.consultation_id);
    if (!chat) {
      const list = this.early.get(m.consultation_id) ?? [];
      if (list.length < EARLY_LIMIT) list.push(m);
      this.early.set(m.consultation_id, list);
      return;
    }
    const fresh = this.merge(chat, [m], true, false);
    this.watchGap(chat, fresh.length > 0);
    if (chat.id === this.activeId) this.markActiveRead();
  }

  private onConsultation(c: Consultation): void {
    const offer = this.offers.get(c.id);
    if (offer && c.state !== "offered") {
      this.offers.delete(c.id);
      if (isEnded(c)) this.early.delete(c.id);
      if (isEnded(c)) this.alerts.toast("offerEnded", { id: c.id });
      this.changed();
    }
    const chat = this.chats.get(c.id);
    if (chat) this.applyConsultation(chat, c);
  }

  private onTyping(p: { consultation_id: number; typing: boolean }): void {
    const chat = this.chats.get(p.consultation_id);
    if (!chat) return;
    chat.readerTypingUntil = p.typing ? Date.now() + TYPING_SHOWN_MS : 0;
    this.changed();
  }

  private onRead(p: { consultation_id: number; side: string; seq: number }): void {
    const chat = this.chats.get(p.consultation_id);
    if (!chat || p.side !== "reader") return;
    chat.readerRead = Math.max(chat.readerRead, p.seq);
    this.changed();
  }

  private onOffer(c: Consultation, expiresAt: string | null, alert = true): void {
    const known = this.offers.has(c.id);
    this.offers.set(c.id, {
      consultation: c,
      expiresAt: expiresAt ? Date.parse(expiresAt) : null,
    });
    if (!known && alert) this.alerts.newChat(c, "offer");
    this.changed();
  }

  private onOfferWithdrawn(p: { consultation_id: number; reason: string }): void {
    this.early.delete(p.consultation_id);
    if (!this.offers.delete(p.consultation_id)) return;
    if (p.reason === "expired") this.alerts.toast("offerWithdrawn_expired", { id: p.consultation_id });
    this.changed();
  }

  private onAssigned(p: {
    consultation: Consultation;
    how: string;
    messages: Message[];
    more?: boolean;
  }): void {
    const c = p.consultation;
    this.offers.delete(c.id);
    const isNew = !this.chats.has(c.id);
    const chat = this.upsertChat(c, p.messages ?? []);
    // A long chat comes in pages: the rest follows with `history`.
    if (p.more) void this.pageHistory(chat);
    // An accepted offer was announced already as an offer.
    if (isNew && p.how !== "accepted") this.alerts.newChat(c, p.how);
    if (this.activeId === c.id) this.markActiveRead();
    this.changed();
  }

  private onReleased(p: { consultation_id: number; reason: string }): void {
    if (!this.chats.has(p.consultation_id)) return;
    this.dropChat(p.consultation_id);
    this.alerts.toast(p.reason === "consultant_gone" ? "chatRequeued" : "chatLost", {
      id: p.consultation_id,
    });
  }

  private setLoad(p: Partial<Load>): void {
    if (p.status) {
      // The desk's word (possibly changed from another console): reconnects keep it.
      this.statusKnown = true;
      if (p.status !== this.status) {
        this.status = p.status;
        writeJson(this.statusKey, p.status);
      }
    }
    if (typeof p.load === "number") this.load = p.load;
    if (typeof p.capacity === "number") this.capacity = p.capacity;
    this.changed();
  }

  // ---- queue, libraries, colleagues ----------------------------------------------------

  private scheduleQueueRefresh(): void {
    window.clearTimeout(this.queueTimer);
    this.queueTimer = window.setTimeout(() => void this.refreshQueue(), 200);
  }

  async refreshQueue(): Promise<void> {
    const ack = await this.request<{ queue: QueueItem[] }>("queue.list");
    if (!ack.ok) return;
    this.queue = ack.queue;
    this.queueFetchedAt = Date.now();
    this.changed();
  }

  addLibraries(libs: Library[]): void {
    for (const lib of libs) {
      const had = this.libraries.get(lib.code);
      const merged = { ...had, ...lib };
      this.libraries.set(lib.code, merged);
      if (typeof merged.id === "number") this.librariesById.set(merged.id, merged);
    }
    this.changed();
  }

  private async loadLibraries(): Promise<void> {
    // colleagues.list names every library with its id (which /api/libraries may not), and
    // the colleagues online.
    await this.colleagues();
  }

  async colleagues(): Promise<Ack<{ colleagues: Colleague[]; libraries: Library[] }>> {
    const ack = await this.request<{ colleagues: Colleague[]; libraries: Library[] }>(
      "colleagues.list",
    );
    if (ack.ok) {
      this.namesFetchedAt = Date.now();
      for (const x of ack.colleagues) this.names.set(x.id, x.name);
      this.addLibraries(ack.libraries);
    }
    return ack;
  }

  // ---- consultant actions --------------------------------------------------------------

  async setStatus(status: Status): Promise<Ack> {
    this.status = status;
    this.statusKnown = true;
    this.statusNotice = false;
    writeJson(this.statusKey, status);
    this.changed();
    const ack = await this.request<Load>("status.set", { status });
    if (ack.ok) this.setLoad(ack);
    return ack;
  }

  async accept(cid: number): Promise<Ack> {
    const ack = await this.request<{ consultation: Consultation; messages: Message[] }>(
      "offer.accept",
      { consultation_id: cid },
    );
    if (ack.ok) {
      this.offers.delete(cid);
      this.upsertChat(ack.consultation, ack.messages);
      this.activate(cid);
    } else if (ack.error.code !== "timeout" && ack.error.code !== "offline") {
      this.offers.delete(cid);
      this.changed();
    }
    return ack;
  }

  async decline(cid: number): Promise<Ack> {
    const ack = await this.request("offer.decline", { consultation_id: cid });
    if (ack.ok || ack.error.code !== "timeout") {
      this.offers.delete(cid);
      this.changed();
    }
    return ack;
  }

  async transfer(
    cid: number,
    target: { to_consultant_id: number } | { to_library: string },
    note: string,
  ): Promise<Ack> {
    this.stopTyping(cid);
    const ack = await this.request("consultation.transfer", {
      consultation_id: cid,
      ...target,
      note,
    });
    if (ack.ok) {
      this.dropChat(cid);
      this.alerts.toast("transferDone", { id: cid });
    }
    return ack;
  }

  /** 转表单咨询: the chat becomes a backlog ticket and ends as handed_off. */
  async handoff(
    cid: number,
    kind: "form" | "document",
    note: string,
  ): Promise<Ack<{ consultation: Consultation; ticket: { id: number } }>> {
    this.stopTyping(cid);
    const payload: Record<string, unknown> = { consultation_id: cid, kind };
    if (note) payload.note = note;
    const ack = await this.request<{ consultation: Consultation; ticket: { id: number } }>(
      "consultation.handoff",
      payload,
    );
    const chat = this.chats.get(cid);
    if (ack.ok && chat) {
      chat.ticketId = ack.ticket.id;
      this.applyConsultation(chat, ack.consultation);
    }
    return ack;
  }

  dismissStatusNotice(): void {
    this.statusNotice = false;
    this.changed();
  }

  async close(cid: number): Promise<Ack> {
    this.stopTyping(cid);
    const ack = await this.request<{ consultation: Consultation }>("consultation.close", {
      consultation_id: cid,
    });
    const chat = this.chats.get(cid);
    if (ack.ok && chat) this.applyConsultation(chat, ack.consultation);
    return ack;
  }

  // ---- typing --------------------------------------------------------------------------

  /** Called on every keystroke in a chat's composer. */
  typed(cid: number): void {
    const chat = this.chats.get(cid);
    if (!chat || isEnded(chat.consultation) || chat.privateMode) return;
    const now = Date.now();
    let t = this.typingOut.get(cid);
    if (!t) {
      t = { sentAt: 0, idle: undefined };
      this.typingOut.set(cid, t);
    }
    if (now - t.sentAt > TYPING_REPEAT_MS) {
      t.sentAt = now;
      void this.request("typing", { consultation_id: cid, typing: true });
    }
    window.clearTimeout(t.idle);
    t.idle = window.setTimeout(() => this.stopTyping(cid), TYPING_IDLE_MS);
  }

  stopTyping(cid: number): void {
    const t = this.typingOut.get(cid);
    if (!t) return;
    window.clearTimeout(t.idle);
    this.typingOut.delete(cid);
    if (t.sentAt > 0) void this.request("typing", { consultation_id: cid, typing: false });
  }

  // ---- sending through the outbox ------------------------------------------------------

  send(cid: number, body: string, isPrivate: boolean): void {
    if (!body.trim()) return;
    this.stopTyping(cid);
    this.outbox.add({
      consultation_id: cid,
      client_msg_id: newClientMsgId(),
      body,
      private: isPrivate,
      queued_at: Date.now(),
    });
    this.changed();
    this.flush();
  }

  isInflight(cid: number): boolean {
    return this.inflight.has(cid);
  }

  /** Send the oldest unacknowledged message of every chat, one at a time per chat so the
   * desk stores them in the order they were written. */
  flush(): void {
    if (this.conn !== "connected") return;
    for (const item of this.outbox.heads()) {
      if (this.inflight.has(item.consultation_id)) continue;
      void this.sendOne(item);
    }
  }

  private async sendOne(item: OutboxItem): Promise<void> {
    const cid = item.consultation_id;
    this.inflight.add(cid);
    this.changed();
    const ack = await this.request<{ seq: number; created_at: string; duplicate: boolean; prev?: number }>(
      "message.send",
      {
        consultation_id: cid,
        client_msg_id: item.client_msg_id,
        body: item.body,
        private: item.private,
      },
    );
    this.inflight.delete(cid);
    const chat = this.chats.get(cid);
    if (ack.ok) {
      this.outbox.remove(item.client_msg_id);
      this.retryDelay = 1000;
      if (chat) {
        const fresh = this.merge(
          chat,
          [
            {
              consultation_id: cid,
              seq: ack.seq,
              client_msg_id: item.client_msg_id,
              author_kind: "consultant",
              author_id: this.me.id,
              visibility: item.private ? "staff" : "all",
              body: item.body,
              created_at: ack.created_at,
              // Absent for a retry of a stored message: it stays unlinked then, and is fetched
              // again if a gap is left (the copy held first is kept).
              prev: ack.prev,
            },
          ],
          false,
          false,
        );
        this.watchGap(chat, fresh.length > 0);
        if (cid === this.activeId) this.markActiveRead();
      }
      this.changed();
      this.flush();
      return;
    }
    if (shouldRetry(ack.error)) {
      // Kept with the same client_msg_id; resent after a pause or after the next resume.
      this.changed();
      window.clearTimeout(this.retryTimer);
      this.retryTimer = window.setTimeout(() => this.flush(), this.retryDelay);
      this.retryDelay = Math.min(this.retryDelay * 2, 30_000);
      return;
    }
    // The retry cannot succeed: take it out and show the consultant what was not sent.
    this.outbox.remove(item.client_msg_id);
    if (chat) {
      chat.failures.push({
        client_msg_id: item.client_msg_id,
        body: item.body,
        private: item.private,
        reason: ack.error,
      });
    } else {
      this.alerts.toast("sendFailed", { reason: errorText(ack.error) }, "error");
    }
    this.changed();
    this.flush();
  }

  dropFailure(cid: number, clientMsgId: string): void {
    const chat = this.chats.get(cid);
    if (!chat) return;
    chat.failures = chat.failures.filter((f) => f.client_msg_id !== clientMsgId);
    this.changed();
  }

  libraryName(code: string, lang: string): string {
    const lib = this.libraries.get(code);
    if (!lib) return code;
    return (lang === "en" ? lib.name_en : lib.name) || lib.name || code;
  }
}

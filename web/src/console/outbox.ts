// Messages not yet acknowledged by the desk. Kept in localStorage with their client_msg_id so
// a reload or a dropped network never loses them; resending is safe because the desk stores
// a client_msg_id once (docs/protocol.md, "The outbox pattern").

import { readJson, remove, writeJson } from "./storage";
import type { DeskError } from "./types";

export interface OutboxItem {
  consultation_id: number;
  client_msg_id: string;
  body: string;
  private: boolean;
  /** When the consultant pressed send (ms since the epoch); for display only. */
  queued_at: number;
}

/** Acknowledgement errors after which the same message may still be stored by a resend. */
export const RETRYABLE: ReadonlySet<string> = new Set([
  "internal",
  "store_failed",
  "unavailable",
  "timeout",
  "offline",
]);

/**
 * What to do with an outbox message whose `message.send` failed: true keeps it for a resend
 * with the same client_msg_id (a failure of the desk or of the network, or no answer); false
 * means the desk refused it for good (too long, chat ended, not yours, ...) and it leaves the
 * outbox to be shown as not sent.
 */
export function shouldRetry(error: DeskError): boolean {
  return RETRYABLE.has(error.code);
}

function isItem(v: unknown): v is OutboxItem {
  const o = v as OutboxItem;
  return (
    typeof o === "object" &&
    o !== null &&
    typeof o.consultation_id === "number" &&
    typeof o.client_msg_id === "string" &&
    typeof o.body === "string" &&
    typeof o.private === "boolean"
  );
}

function isItems(v: unknown): v is OutboxItem[] {
  return Array.isArray(v) && v.every(isItem);
}

/**
 * The outbox. Other tabs of the same consultant share the stored list, so every change
 * re-reads it first and a `storage` event refreshes it; two tabs sending the same message is
 * harmless (the desk stores a client_msg_id once).
 *
 * When storage refuses a write (unavailable, or full) the list in this page is the only
 * complete one: it is then neither re-read (which would drop the messages that could not be
 * written, or bring back acknowledged ones from a stale copy) nor shared, until a later write
 * succeeds and stores it whole.
 */
export class Outbox {
  private items: OutboxItem[];
  /** False while the stored list is behind this page's (the last write failed). */
  private stored = true;

  constructor(private readonly key: string) {
    this.items = this.read();
  }

  private read(): OutboxItem[] {
    return this.stored ? readJson(this.key, isItems, []) : this.items;
  }

  /** Pick up what another tab stored (call on the window's `storage` event). */
  reload(): void {
    this.items = this.read();
  }

  all(): readonly OutboxItem[] {
    return this.items;
  }

  forChat(cid: number): OutboxItem[] {
    return this.items.filter((i) => i.consultation_id === cid);
  }

  /** The oldest unacknowledged message of each chat, in sending order. */
  heads(): OutboxItem[] {
    const seen = new Set<number>();
    const out: OutboxItem[] = [];
    for (const i of this.items) {
      if (seen.has(i.consultation_id)) continue;
      seen.add(i.consultation_id);
      out.push(i);
    }
    return out;
  }

  add(item: OutboxItem): void {
    this.items = [...this.read().filter((x) => x.client_msg_id !== item.client_msg_id), item];
    this.save();
  }

  remove(clientMsgId: string): OutboxItem | undefined {
    const gone = this.items.find((x) => x.client_msg_id === clientMsgId);
    this.items = this.read().filter((x) => x.client_msg_id !== clientMsgId);
    this.save();
    return gone;
  }

  has(clientMsgId: string): boolean {
    return this.items.some((x) => x.client_msg_id === clientMsgId);
  }

  /** Forget every message (at sign-out): nothing of them stays in the browser. */
  clear(): void {
    this.items = [];
    this.stored = true;
    remove(this.key);
  }

  private save(): void {
    this.stored = writeJson(this.key, this.items);
  }
}

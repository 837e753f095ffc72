// The widget's pure decisions about acknowledgements, apart from the socket so they can be
// unit-tested (docs/protocol.md, "The outbox pattern").

export interface DeskError {
  code: string;
  details?: Record<string, unknown>;
}

export interface Ack {
  ok: boolean;
  error?: DeskError;
  [field: string]: unknown;
}

/**
 * The acknowledgement of a request: no answer in time (`err`), or an answer that is not an
 * acknowledgement object, counts as `timeout`, so callers can always read `ok` and `error`.
 */
export function toAck(err: unknown, reply: unknown): Ack {
  if (err || typeof reply !== "object" || reply === null) return { ok: false, error: { code: "timeout" } };
  return reply as Ack;
}

/** Errors after which the same message is sent again (protocol: the outbox pattern). */
export const RETRY: ReadonlySet<string> = new Set(["internal", "store_failed", "unavailable", "timeout"]);

/** What the outbox does with a message after its acknowledgement. */
export type Outcome = "sent" | "retry" | "refused";

/**
 * `sent`: stored (or stored before: a duplicate), remove it from the outbox. `retry`: keep it
 * and resend with the same client_msg_id later (a failure of the desk, no answer, or an error
 * without a code, which counts as `internal`). `refused`: the desk will never take it; remove it
 * and tell the reader.
 */
export function outcome(ack: Ack): Outcome {
  if (ack.ok) return "sent";
  return RETRY.has((ack.error ?? { code: "internal" }).code) ? "retry" : "refused";
}

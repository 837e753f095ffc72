import { describe, expect, it } from "vitest";
import { outcome, toAck } from "./protocol";

describe("outcome", () => {
  it("removes a stored message, also a duplicate the desk had stored before", () => {
    expect(outcome({ ok: true, seq: 4 })).toBe("sent");
    expect(outcome({ ok: true, seq: 4, duplicate: true })).toBe("sent");
  });

  it("keeps a message for a resend after a failure of the desk or no answer", () => {
    for (const code of ["internal", "store_failed", "unavailable", "timeout"]) {
      expect(outcome({ ok: false, error: { code } })).toBe("retry");
    }
  });

  it("treats a refusal without an error as internal, so the message is kept", () => {
    expect(outcome({ ok: false })).toBe("retry");
  });

  it("gives up on refusals a resend cannot change", () => {
    for (const code of ["message_too_long", "empty_message", "consultation_ended", "language_not_served", "forbidden"]) {
      expect(outcome({ ok: false, error: { code } })).toBe("refused");
    }
  });
});

describe("toAck", () => {
  it("passes an acknowledgement through", () => {
    const reply = { ok: true, seq: 3, created_at: "2026-03-01T10:00:00Z" };
    expect(toAck(null, reply)).toBe(reply);
    expect(toAck(undefined, { ok: false, error: { code: "consultation_ended" } })).toEqual({
      ok: false,
      error: { code: "consultation_ended" },
    });
  });

  it("makes no answer, or an answer that is not an object, a timeout the outbox retries", () => {
    for (const [err, reply] of [
      [new Error("operation has timed out"), undefined],
      [null, undefined],
      [null, null],
      [null, "ok"],
      [null, 1],
    ] as const) {
      const ack = toAck(err, reply);
      expect(ack).toEqual({ ok: false, error: { code: "timeout" } });
      expect(outcome(ack)).toBe("retry");
    }
  });
});

import { describe, expect, it } from "vitest";
import { outcome } from "./protocol";

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

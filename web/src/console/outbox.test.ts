import { beforeEach, describe, expect, it } from "vitest";
import { type TestStorage, useStorage } from "../testing/storage";
import { Outbox, type OutboxItem, RETRYABLE, shouldRetry } from "./outbox";

const KEY = "desk.console.outbox.3";

let n = 0;
function item(cid: number, body = `text ${++n}`): OutboxItem {
  return { consultation_id: cid, client_msg_id: `c${++n}`, body, private: false, queued_at: 1_700_000_000_000 + n };
}

function ids(list: readonly OutboxItem[]): string[] {
  return list.map((i) => i.client_msg_id);
}

function stored(): unknown {
  const raw = storage.peek(KEY);
  return raw === null ? null : JSON.parse(raw);
}

let storage: TestStorage;

beforeEach(() => {
  storage = useStorage();
});

describe("Outbox", () => {
  it("keeps messages in the order written and sends one head per chat", () => {
    const box = new Outbox(KEY);
    const a1 = item(1);
    const b1 = item(2);
    const a2 = item(1);
    const a3 = item(1);
    const b2 = item(2);
    for (const i of [a1, b1, a2, a3, b2]) box.add(i);
    expect(ids(box.all())).toEqual(ids([a1, b1, a2, a3, b2]));
    expect(ids(box.heads())).toEqual(ids([a1, b1]));
    expect(ids(box.forChat(1))).toEqual(ids([a1, a2, a3]));
    expect(box.forChat(99)).toEqual([]);
  });

  it("moves a chat's head on only when its head is acknowledged (removed)", () => {
    const box = new Outbox(KEY);
    const a1 = item(1);
    const a2 = item(1);
    const b1 = item(2);
    for (const i of [a1, a2, b1]) box.add(i);
    // Unacknowledged: still there, still the head.
    expect(box.has(a1.client_msg_id)).toBe(true);
    expect(ids(box.heads())).toEqual(ids([a1, b1]));
    // Acknowledged: gone, and the next message of that chat is its head.
    expect(box.remove(a1.client_msg_id)).toEqual(a1);
    expect(box.has(a1.client_msg_id)).toBe(false);
    expect(ids(box.heads())).toEqual(ids([a2, b1]));
    box.remove(b1.client_msg_id);
    box.remove(a2.client_msg_id);
    expect(box.heads()).toEqual([]);
  });

  it("removing an unknown id changes nothing", () => {
    const box = new Outbox(KEY);
    const a1 = item(1);
    box.add(a1);
    expect(box.remove("nope")).toBeUndefined();
    expect(ids(box.all())).toEqual(ids([a1]));
  });

  it("adding the same client_msg_id again keeps one copy", () => {
    const box = new Outbox(KEY);
    const a1 = item(1);
    box.add(a1);
    box.add({ ...a1 });
    expect(ids(box.all())).toEqual(ids([a1]));
  });

  it("survives a reload: a new instance reads what the last one stored", () => {
    const a1 = item(1, "你好");
    const b1 = { ...item(2), private: true };
    const first = new Outbox(KEY);
    first.add(a1);
    first.add(b1);
    const reloaded = new Outbox(KEY);
    expect(reloaded.all()).toEqual([a1, b1]);
    expect(ids(reloaded.heads())).toEqual(ids([a1, b1]));
    expect(stored()).toEqual([a1, b1]);
  });

  it("is kept per consultant: another key does not see it", () => {
    new Outbox(KEY).add(item(1));
    expect(new Outbox("desk.console.outbox.4").all()).toEqual([]);
  });

  it("shares the list between two tabs: a change re-reads storage first", () => {
    const tab1 = new Outbox(KEY);
    const tab2 = new Outbox(KEY);
    const x = item(1);
    const y = item(1);
    tab1.add(x);
    // tab2 has not reloaded, yet its own add must not overwrite tab1's message.
    tab2.add(y);
    expect(ids(new Outbox(KEY).all())).toEqual(ids([x, y]));
    // tab1 learns of y from the storage event.
    expect(tab1.has(y.client_msg_id)).toBe(false);
    tab1.reload();
    expect(ids(tab1.all())).toEqual(ids([x, y]));
    // A message acknowledged in one tab leaves the other tab's list on its next change or reload.
    tab2.remove(x.client_msg_id);
    tab1.reload();
    expect(ids(tab1.all())).toEqual(ids([y]));
    // And a removal in one tab keeps what the other added meanwhile.
    const z = item(2);
    tab1.add(z);
    tab2.remove(y.client_msg_id);
    expect(ids(new Outbox(KEY).all())).toEqual(ids([z]));
  });

  it("clears everything at sign-out, in storage too", () => {
    const box = new Outbox(KEY);
    box.add(item(1));
    box.add(item(2));
    box.clear();
    expect(box.all()).toEqual([]);
    expect(box.heads()).toEqual([]);
    expect(storage.peek(KEY)).toBeNull();
    expect(new Outbox(KEY).all()).toEqual([]);
  });

  it("ignores a stored value that is not a list of messages", () => {
    for (const bad of ["{", "42", JSON.stringify({ a: 1 }), JSON.stringify([{ consultation_id: "1" }])]) {
      localStorage.setItem(KEY, bad);
      expect(new Outbox(KEY).all()).toEqual([]);
    }
  });
});

describe("Outbox without working storage", () => {
  it("keeps every message for the page when storage is unavailable", () => {
    storage.breakAll();
    const box = new Outbox(KEY);
    const a1 = item(1);
    const a2 = item(1);
    const b1 = item(2);
    for (const i of [a1, a2, b1]) box.add(i);
    expect(ids(box.all())).toEqual(ids([a1, a2, b1]));
    expect(ids(box.heads())).toEqual(ids([a1, b1]));
    // Acknowledging one message keeps the others.
    box.remove(a1.client_msg_id);
    expect(ids(box.all())).toEqual(ids([a2, b1]));
    // A storage event (or any reload) does not wipe them either.
    box.reload();
    expect(ids(box.all())).toEqual(ids([a2, b1]));
    box.clear();
    expect(box.all()).toEqual([]);
  });

  it("keeps messages that could not be written when storage is full", () => {
    const box = new Outbox(KEY);
    const a1 = item(1);
    box.add(a1);
    storage.failSet = true;
    const a2 = item(1);
    const a3 = item(1);
    box.add(a2);
    box.add(a3);
    expect(ids(box.all())).toEqual(ids([a1, a2, a3]));
    box.remove(a1.client_msg_id);
    expect(ids(box.all())).toEqual(ids([a2, a3]));
    // A stale stored copy does not bring an acknowledged message back.
    box.reload();
    expect(ids(box.all())).toEqual(ids([a2, a3]));
    // Once storage takes writes again, the next change stores the whole list.
    storage.failSet = false;
    const a4 = item(1);
    box.add(a4);
    expect(ids(new Outbox(KEY).all())).toEqual(ids([a2, a3, a4]));
  });
});

describe("shouldRetry", () => {
  it("keeps messages after failures of the desk or of the network", () => {
    for (const code of ["internal", "store_failed", "unavailable", "timeout", "offline"]) {
      expect(shouldRetry({ code, message: "" })).toBe(true);
    }
    expect(RETRYABLE.size).toBe(5);
  });

  it("gives up on refusals that a resend cannot change", () => {
    for (const code of [
      "message_too_long",
      "empty_message",
      "consultation_ended",
      "consultation_not_found",
      "not_assigned",
      "forbidden",
      "invalid_payload",
    ]) {
      expect(shouldRetry({ code, message: "" })).toBe(false);
    }
  });
});

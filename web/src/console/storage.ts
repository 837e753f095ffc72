// Small localStorage helpers: the console must keep working when storage is unavailable
// (private windows, quotas), so every access is guarded and values are checked on read.

export function readJson<T>(key: string, check: (v: unknown) => v is T, fallback: T): T {
  try {
    const raw = localStorage.getItem(key);
    if (raw === null) return fallback;
    const v: unknown = JSON.parse(raw);
    return check(v) ? v : fallback;
  } catch {
    return fallback;
  }
}

/** Store `value` as JSON; false when storage refused it (full or unavailable: the state then
 * lives for this page only). */
export function writeJson(key: string, value: unknown): boolean {
  try {
    localStorage.setItem(key, JSON.stringify(value));
    return true;
  } catch {
    return false;
  }
}

export function remove(key: string): void {
  try {
    localStorage.removeItem(key);
  } catch {
    // Nothing to do.
  }
}

/** A client_msg_id: 32 random hex digits (crypto.randomUUID needs a secure context). */
export function newClientMsgId(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return "c" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

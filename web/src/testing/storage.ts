// For unit tests only (never imported by the apps): a localStorage that a test can make fail,
// installed with `useStorage()` as the global `localStorage` (which is `window.localStorage`).
import { vi } from "vitest";

export class TestStorage implements Storage {
  private data = new Map<string, string>();
  /** Make reads, writes or removals throw, as a sandboxed frame, a privacy mode or a full quota does. */
  failGet = false;
  failSet = false;
  failRemove = false;

  get length(): number {
    return this.data.size;
  }

  key(i: number): string | null {
    return [...this.data.keys()][i] ?? null;
  }

  getItem(key: string): string | null {
    if (this.failGet) throw new DOMException("storage is unavailable", "SecurityError");
    return this.data.get(key) ?? null;
  }

  setItem(key: string, value: string): void {
    if (this.failSet) throw new DOMException("storage is full", "QuotaExceededError");
    this.data.set(key, String(value));
  }

  removeItem(key: string): void {
    if (this.failRemove) throw new DOMException("storage is unavailable", "SecurityError");
    this.data.delete(key);
  }

  clear(): void {
    this.data.clear();
  }

  /** Every call fails, as when the page may not use storage at all. */
  breakAll(): void {
    this.failGet = this.failSet = this.failRemove = true;
  }

  /** Storage works again. */
  repair(): void {
    this.failGet = this.failSet = this.failRemove = false;
  }

  /** The raw stored value, bypassing the failure switches. */
  peek(key: string): string | null {
    return this.data.get(key) ?? null;
  }
}

/** A fresh, empty TestStorage as the page's localStorage (undone after the test by vitest's
 * `unstubGlobals`). */
export function useStorage(): TestStorage {
  const s = new TestStorage();
  vi.stubGlobal("localStorage", s);
  return s;
}

// Quick phrases (快捷用语): loaded from the desk, filtered for the picker, placeholders filled.
// Norm 1 of the live service asks consultants to answer at once and, when busy, to tell the
// reader how long to wait: the "{minutes}" placeholder asks for that number on insertion.

import type { Phrase } from "./types";

export const MINUTES = "{minutes}";
export const DEFAULT_MINUTES = 5;

export function needsMinutes(p: Phrase): boolean {
  return p.body.includes(MINUTES);
}

export function fillMinutes(body: string, minutes: number): string {
  return body.split(MINUTES).join(String(minutes));
}

function base(lang: string): string {
  return lang.split("-")[0].toLowerCase();
}

/**
 * The phrases for a chat in `language`, in picker order: those in the chat's language first,
 * personal before library-wide (the desk lists personal first), and a personal phrase hides a
 * library one with the same shortcut and language.
 */
export function forLanguage(all: readonly Phrase[], language: string): Phrase[] {
  const seen = new Set<string>();
  const unique: Phrase[] = [];
  for (const p of all) {
    const key = `${p.shortcut}\u0000${base(p.language)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    unique.push(p);
  }
  const mine = base(language);
  return [
    ...unique.filter((p) => base(p.language) === mine),
    ...unique.filter((p) => base(p.language) !== mine),
  ];
}

/** Filter by what follows the "/": shortcut prefix first, then title or text containing it. */
export function search(list: readonly Phrase[], query: string): Phrase[] {
  const q = query.trim().toLowerCase();
  if (!q) return [...list];
  const starts = list.filter((p) => p.shortcut.toLowerCase().startsWith(q));
  const contains = list.filter(
    (p) =>
      !starts.includes(p) &&
      (p.shortcut.toLowerCase().includes(q) ||
        p.title.toLowerCase().includes(q) ||
        p.body.toLowerCase().includes(q)),
  );
  return [...starts, ...contains];
}

/**
 * The "/query" being typed right before the caret, if any: a "/" at the start of the text or
 * after white space, followed by no white space.
 */
export function slashQuery(text: string, caret: number): { start: number; query: string } | null {
  const before = text.slice(0, caret);
  const m = /(^|\s)\/([^\s/]*)$/.exec(before);
  if (!m) return null;
  return { start: before.length - m[2].length - 1, query: m[2] };
}

/**
 * The "/shortcut" a message starts with when no phrase has that shortcut (any language), or
 * null: Enter on such text is most likely a mistyped quick phrase, not a message to send.
 */
export function unknownShortcut(text: string, phrases: readonly Phrase[]): string | null {
  const m = /^\s*\/([^\s/]+)/.exec(text);
  if (!m) return null;
  const name = m[1].toLowerCase();
  return phrases.some((p) => p.shortcut.toLowerCase() === name) ? null : `/${m[1]}`;
}

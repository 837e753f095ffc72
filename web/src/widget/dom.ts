// Small DOM helpers. Text from the network or the reader is only ever placed with textContent
// or text nodes; the one element built from it is a link to an http(s) URL.

type Props = Record<string, string | boolean | ((e: Event) => void)>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (v === true) el.setAttribute(k, "");
    else if (v !== false) el.setAttribute(k, v);
  }
  el.append(...children);
  return el;
}

/** Assign text only when it changed, so live regions do not announce the same words again. */
export function text(el: HTMLElement, s: string): void {
  if (el.textContent !== s) el.textContent = s;
}

/** A link that opens in a new tab without giving the new page a handle on this one. */
export function link(url: string, label: string = url): HTMLAnchorElement {
  const a = h("a", /^https?:\/\//i.test(url) ? { href: url, target: "_blank", rel: "noopener noreferrer" } : {});
  a.textContent = label;
  return a;
}

// http(s) URLs (the scheme in any letter case) up to white space, quotes, angle brackets or
// CJK / full-width punctuation. Trailing sentence punctuation is not part of the link, and
// neither is a closing parenthesis the URL did not open: "(see https://x.example/a)" links
// https://x.example/a, https://en.wikipedia.org/wiki/Foo_(bar) keeps its ")".
const URL_RE = /https?:\/\/[^\s<>"'\u3000-\u303f\uff00-\uffef]+/gi;
const TRAILING = /[.,;:!?)\]}]$/;

/** The address as a link target if it is a well-formed http(s) URL, otherwise null. */
export function safeUrl(raw: string): string | null {
  try {
    const u = new URL(raw);
    return (u.protocol === "http:" || u.protocol === "https:") && u.hostname ? u.href : null;
  } catch {
    return null;
  }
}

/** `raw` without the trailing punctuation that ends the sentence rather than the address. */
export function trimUrl(raw: string): string {
  let url = raw;
  while (TRAILING.test(url)) {
    if (url.endsWith(")")) {
      const opened = url.split("(").length - 1;
      const closed = url.split(")").length - 1;
      if (opened >= closed) break; // this ")" closes a "(" of the URL's own
    }
    url = url.slice(0, -1);
  }
  return url;
}

/** Fill `el` with `body` as text, with well-formed http(s) URLs as links (to the parsed
 * address). Nothing else becomes markup. */
export function linkify(el: HTMLElement, body: string): void {
  let at = 0;
  for (const m of body.matchAll(URL_RE)) {
    const url = trimUrl(m[0]);
    const href = safeUrl(url);
    if (!href) continue; // not an address after all: it stays text
    const i = m.index ?? 0;
    el.append(body.slice(at, i), link(href, url));
    at = i + url.length;
  }
  el.append(body.slice(at));
}

const two = (n: number) => String(n).padStart(2, "0");

/** "14:05" in the reader's local time, or "" for a missing or bad timestamp. */
export function hhmm(iso: string | number | null | undefined): string {
  const d = new Date(iso ?? NaN);
  return isNaN(d.getTime()) ? "" : `${two(d.getHours())}:${two(d.getMinutes())}`;
}

/** "03-01 14:05" for the list of tickets. */
export function dayTime(ms: number): string {
  const d = new Date(ms);
  return isNaN(d.getTime()) ? "" : `${two(d.getMonth() + 1)}-${two(d.getDate())} ${hhmm(ms)}`;
}

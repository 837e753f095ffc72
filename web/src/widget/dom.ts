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

// http(s) URLs up to white space, quotes, angle brackets or CJK / full-width punctuation;
// trailing sentence punctuation is not part of the link.
const URL_RE = /https?:\/\/[^\s<>"'\u3000-\u303f\uff00-\uffef]+/g;

/** Fill `el` with `body` as text, with http(s) URLs as links. Nothing else becomes markup. */
export function linkify(el: HTMLElement, body: string): void {
  let at = 0;
  for (const m of body.matchAll(URL_RE)) {
    const url = m[0].replace(/[.,;:!?)\]}]+$/, "");
    const i = m.index ?? 0;
    el.append(body.slice(at, i), link(url));
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

// Links in message text: http(s) addresses become <a> elements built from the text itself;
// everything else stays plain text (never parsed as markup).
import type { ComponentChildren } from "preact";

const URL_RE = /https?:\/\/[^\s<>"'\u3000-\u303f\uff01-\uff0f\uff1a-\uff20]+/gi;
/** Punctuation that ends a sentence rather than the address. */
const TRAILING = /[.,;:!?)\]}'"]+$/;

/** The address if it is a well-formed http(s) URL, otherwise null. */
export function safeUrl(text: string): string | null {
  try {
    const u = new URL(text);
    return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
  } catch {
    return null;
  }
}

/** A piece of message text: plain text, or an address to show as `text` and link to `href`. */
export type Part = string | { href: string; text: string; at: number };

/** Split `text` into plain text and http(s) links; joined, the parts give back `text`. */
export function linkParts(text: string): Part[] {
  const out: Part[] = [];
  let last = 0;
  URL_RE.lastIndex = 0;
  for (let m = URL_RE.exec(text); m !== null; m = URL_RE.exec(text)) {
    let raw = m[0];
    const trail = TRAILING.exec(raw);
    if (trail) raw = raw.slice(0, raw.length - trail[0].length);
    const href = safeUrl(raw);
    if (!href) continue;
    if (m.index > last) out.push(text.slice(last, m.index));
    out.push({ href, text: raw, at: m.index });
    last = m.index + raw.length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

export function Linkified(props: { text: string }): ComponentChildren {
  const out = linkParts(props.text).map((p) =>
    typeof p === "string" ? (
      p
    ) : (
      <a key={p.at} href={p.href} target="_blank" rel="noopener noreferrer">
        {p.text}
      </a>
    ),
  );
  return <>{out}</>;
}

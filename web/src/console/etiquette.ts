// The etiquette helper (实时咨询服务规范 rule 3: no jargon or abbreviations; 非实时参考咨询回复
// 规范 rule 5: no links that only open on an intranet or behind payment, registration or
// authentication). Before a message goes to a reader the composer flags
//
// - terms from the alliance's list and the library's own (GET /api/etiquette): a Latin term as
//   a whole word, case-insensitive ("OPAC", not "OPACS"); a term with CJK characters anywhere
//   in the text ("索书号");
// - every http(s) link whose host a reader could not open: private, loopback, link-local and
//   shared IPv4 ranges, IPv6 loopback, unique-local and link-local, host names without a dot,
//   intranet suffixes, and the hosts the library lists as campus-only, paid or intranet.
//
// Pure: no DOM, no network. It only warns; the consultant decides (a second send sends).

import { linkParts } from "./linkify";

export interface Term {
  term: string;
  /** What to say instead, for readers; may be empty. */
  hint: string;
}

export type HostReason = "campus" | "paid" | "intranet";

export interface LibraryHost {
  /** A host name (`lib.example.edu.cn`), or a domain suffix starting with a dot. */
  host: string;
  reason: HostReason;
}

/** GET /api/etiquette as the desk sends it (every part optional: an older desk has none). */
export interface EtiquetteLists {
  defaults?: { terms?: Term[] };
  library?: { terms?: Term[]; hosts?: LibraryHost[] };
}

/** Why a link's host was flagged. */
export type LinkReason =
  /** 10/8, 172.16/12, 192.168/16, fc00::/7 */
  | "private"
  /** 127/8, ::1, localhost */
  | "loopback"
  /** 169.254/16, fe80::/10 */
  | "link_local"
  /** 100.64/10 (carrier-grade NAT) */
  | "shared"
  /** A host name without a dot: http://opac/ */
  | "single_label"
  /** .local .lan .internal .intranet .corp .home */
  | "local_suffix"
  /** Listed by the library. */
  | HostReason;

export type Flag =
  | {
      kind: "term";
      /** Stable across edits: the flag is "seen" once shown. */
      key: string;
      /** The term as listed. */
      term: string;
      /** The term as written in the message. */
      found: string;
      hint: string;
      at: number;
    }
  | {
      kind: "link";
      key: string;
      url: string;
      host: string;
      reason: LinkReason;
      /** The suffix or listed host that matched (local_suffix and the library's reasons). */
      matched?: string;
      at: number;
    };

interface CompiledTerm {
  term: string;
  hint: string;
  re: RegExp;
  /** Latin terms match whole words only. */
  whole: boolean;
}

export interface Checker {
  terms: CompiledTerm[];
  hosts: LibraryHost[];
}

export const INTRANET_SUFFIXES: readonly string[] = [
  ".local",
  ".lan",
  ".internal",
  ".intranet",
  ".corp",
  ".home",
];

const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;
const LETTER_OR_DIGIT = /[\p{L}\p{N}_]/u;

/** A character that continues a Latin word (CJK characters do not: "用OPAC查" has the word). */
function wordChar(ch: string | undefined): boolean {
  return ch !== undefined && LETTER_OR_DIGIT.test(ch) && !CJK.test(ch);
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The alliance's terms and the library's, one per term (case-insensitive: the first
 * spelling listed stays, the library's hint wins when it has one), and the library's hosts. */
export function makeChecker(lists: EtiquetteLists = {}): Checker {
  const byTerm = new Map<string, Term>();
  for (const t of [...(lists.defaults?.terms ?? []), ...(lists.library?.terms ?? [])]) {
    const term = (t.term ?? "").trim();
    if (!term) continue;
    const k = term.toLowerCase();
    const had = byTerm.get(k);
    byTerm.set(k, { term: had?.term ?? term, hint: (t.hint ?? "").trim() || had?.hint || "" });
  }
  // Longer terms first: "IP控制" is one flag, not also "IP".
  const terms = [...byTerm.values()]
    .sort((a, b) => [...b.term].length - [...a.term].length)
    .map((t) => ({ ...t, re: new RegExp(escapeRe(t.term), "giu"), whole: !CJK.test(t.term) }));
  const hosts = (lists.library?.hosts ?? [])
    .filter((h) => typeof h.host === "string" && h.host.trim())
    .map((h) => ({ host: normalHost(h.host), reason: h.reason }));
  return { terms, hosts };
}

function normalHost(host: string): string {
  return host.trim().toLowerCase().replace(/\.+$/, "");
}

// ---- addresses ----------------------------------------------------------------------------

/** The four numbers of a dotted IPv4 address, or null. */
export function parseIPv4(host: string): number[] | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  return parts.every((n) => n <= 255) ? parts : null;
}

export function ipv4Reason(host: string): LinkReason | null {
  const ip = parseIPv4(host);
  if (!ip) return null;
  const [a, b] = ip;
  if (a === 10) return "private";
  if (a === 172 && b >= 16 && b <= 31) return "private";
  if (a === 192 && b === 168) return "private";
  if (a === 127) return "loopback";
  if (a === 169 && b === 254) return "link_local";
  if (a === 100 && b >= 64 && b <= 127) return "shared";
  return null;
}

/** The eight 16-bit groups of an IPv6 address (brackets allowed, a dotted IPv4 tail too). */
export function parseIPv6(host: string): number[] | null {
  let h = host.toLowerCase();
  if (h.startsWith("[") && h.endsWith("]")) h = h.slice(1, -1);
  h = h.replace(/%.*$/, ""); // a zone id
  if (!h.includes(":")) return null;
  let tail: number[] = [];
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(h);
  if (dotted) {
    const v4 = parseIPv4(dotted[2]);
    if (!v4) return null;
    tail = [(v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]];
    h = dotted[1].endsWith("::") ? dotted[1] : dotted[1].slice(0, -1);
  }
  const halves = h.split("::");
  if (halves.length > 2) return null;
  const group = (s: string) => (s === "" ? [] : s.split(":"));
  const head = group(halves[0]);
  const rest = halves.length === 2 ? group(halves[1]) : [];
  const parse = (g: string) => (/^[0-9a-f]{1,4}$/.test(g) ? Number.parseInt(g, 16) : Number.NaN);
  const left = head.map(parse);
  const right = rest.map(parse);
  const given = left.length + right.length + tail.length;
  if ([...left, ...right].some((n) => Number.isNaN(n))) return null;
  if (halves.length === 1 && given !== 8) return null;
  if (halves.length === 2 && given > 7) return null;
  const zeros = new Array<number>(8 - given).fill(0);
  return halves.length === 2 ? [...left, ...zeros, ...right, ...tail] : [...left, ...tail];
}

export function ipv6Reason(host: string): LinkReason | null {
  const g = parseIPv6(host);
  if (!g) return null;
  if (g.slice(0, 7).every((x) => x === 0) && g[7] === 1) return "loopback";
  if ((g[0] & 0xfe00) === 0xfc00) return "private";
  if ((g[0] & 0xffc0) === 0xfe80) return "link_local";
  // An IPv4-mapped address (::ffff:10.0.0.1) is the IPv4 address.
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) {
    return ipv4Reason(`${g[6] >> 8}.${g[6] & 255}.${g[7] >> 8}.${g[7] & 255}`);
  }
  return null;
}

/** Why a reader could not open a link to `host`, or null. `host` as `URL.hostname` gives it. */
export function hostReason(
  rawHost: string,
  libraryHosts: readonly LibraryHost[] = [],
): { reason: LinkReason; matched?: string } | null {
  const host = normalHost(rawHost);
  if (!host) return null;
  if (host.includes(":")) {
    const r = ipv6Reason(host);
    return r ? { reason: r } : null;
  }
  if (parseIPv4(host)) {
    const r = ipv4Reason(host);
    return r ? { reason: r } : null;
  }
  // The library's own list first: it says why (campus-only, paid, intranet).
  for (const h of libraryHosts) {
    if (h.host.startsWith(".")) {
      if (host.endsWith(h.host) || host === h.host.slice(1)) return { reason: h.reason, matched: h.host };
    } else if (host === h.host) {
      return { reason: h.reason, matched: h.host };
    }
  }
  if (host === "localhost" || host.endsWith(".localhost")) return { reason: "loopback" };
  if (!host.includes(".")) return { reason: "single_label" };
  for (const s of INTRANET_SUFFIXES) {
    if (host.endsWith(s)) return { reason: "local_suffix", matched: s };
  }
  return null;
}

// ---- the check ----------------------------------------------------------------------------

/** Everything in `text` a reader may not understand or could not open, in text order. */
export function checkMessage(text: string, checker: Checker): Flag[] {
  const flags: Flag[] = [];
  const taken: Array<[number, number]> = [];
  const free = (from: number, to: number) => taken.every(([a, b]) => to <= a || from >= b);

  const seenLinks = new Set<string>();
  for (const part of linkParts(text)) {
    if (typeof part === "string") continue;
    taken.push([part.at, part.at + part.text.length]);
    if (seenLinks.has(part.href)) continue;
    seenLinks.add(part.href);
    let hostname: string;
    try {
      hostname = new URL(part.href).hostname;
    } catch {
      continue;
    }
    const why = hostReason(hostname, checker.hosts);
    if (why) {
      flags.push({
        kind: "link",
        key: `link:${part.href}`,
        url: part.text,
        host: normalHost(hostname),
        reason: why.reason,
        matched: why.matched,
        at: part.at,
      });
    }
  }

  for (const t of checker.terms) {
    t.re.lastIndex = 0;
    for (let m = t.re.exec(text); m !== null; m = t.re.exec(text)) {
      const from = m.index;
      const to = from + m[0].length;
      if (m[0].length === 0) {
        t.re.lastIndex++;
        continue;
      }
      if (t.whole) {
        // Only where the term's own first and last characters are part of a word.
        if (wordChar(m[0][0]) && wordChar(charBefore(text, from))) continue;
        if (wordChar(lastChar(m[0])) && wordChar(charAt(text, to))) continue;
      }
      if (!free(from, to)) continue;
      taken.push([from, to]);
      flags.push({ kind: "term", key: `term:${t.term.toLowerCase()}`, term: t.term, found: m[0], hint: t.hint, at: from });
      break; // one flag per term
    }
  }
  return flags.sort((a, b) => a.at - b.at);
}

function charBefore(text: string, i: number): string | undefined {
  if (i <= 0) return undefined;
  const low = text.charCodeAt(i - 1);
  // A character outside the BMP is two code units: take both.
  if (low >= 0xdc00 && low <= 0xdfff && i >= 2) return text.slice(i - 2, i);
  return text[i - 1];
}

function charAt(text: string, i: number): string | undefined {
  if (i >= text.length) return undefined;
  const cp = text.codePointAt(i);
  return cp === undefined ? undefined : String.fromCodePoint(cp);
}

function lastChar(s: string): string | undefined {
  const chars = [...s];
  return chars[chars.length - 1];
}

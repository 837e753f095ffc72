// Document delivery, the pure part (tested in delivery.test.ts): whether a library takes a
// file (the desk checks again, with the same rules: desk/delivery/files.py), what the send
// dialog fills in, how an attachment card and the ledger say things, and the ledger's query.
import { dt, type DKey } from "./i18n-delivery";
import type { Lang } from "./i18n";
import type { Attachment, FileLimits } from "./types";

/** The document types the desk records (transcripts/records.py DOC_TYPES). */
export const DOC_TYPES = [
  "journal_article",
  "thesis",
  "conference_paper",
  "book",
  "standard",
  "patent",
  "newspaper",
  "other",
] as const;
export type DocType = (typeof DOC_TYPES)[number];

/** The raster images the console may show inline (the desk serves only these inline). */
export const INLINE_TYPES: ReadonlySet<string> = new Set(["image/png", "image/jpeg", "image/gif", "image/webp"]);

/** The desk's bounds on a year (desk/delivery/api.py). */
export const MIN_YEAR = 1000;
export const MAX_YEAR = 2100;

// ---- files ------------------------------------------------------------------------------

/** A name's extension as the desk reads it: from the last dot, lower case; "" for none (a
 * name that starts with its only dot has none). */
export function extensionOf(name: string): string {
  const n = name.trim();
  const dot = n.lastIndexOf(".");
  return dot > 0 ? n.slice(dot).toLowerCase() : "";
}

/** The name without and with its extension: ["论文", ".pdf"]. */
export function splitName(name: string): [string, string] {
  const n = name.trim();
  const dot = n.lastIndexOf(".");
  return dot > 0 ? [n.slice(0, dot), n.slice(dot)] : [n, ""];
}

/** A first guess at the title from a file name: without the extension, underscores as spaces. */
export function titleFromName(name: string): string {
  return splitName(name)[0].replace(/_+/g, " ").replace(/\s+/g, " ").trim();
}

export type FileRefusal =
  | { reason: "type"; ext: string; allowed: string[] }
  | { reason: "size"; size: number; limit: number }
  | { reason: "empty" };

/** Why the library's chats would not take this file, or null when they would (as far as the
 * name and size tell: the desk also checks the content). */
export function checkFile(file: { name: string; size: number }, limits: FileLimits): FileRefusal | null {
  const ext = extensionOf(file.name);
  if (!limits.accept.includes(ext)) return { reason: "type", ext, allowed: limits.accept };
  if (file.size === 0) return { reason: "empty" };
  if (file.size > limits.max_bytes) return { reason: "size", size: file.size, limit: limits.max_bytes };
  return null;
}

/** The refusal in plain words. */
export function refusalText(r: FileRefusal): string {
  if (r.reason === "empty") return dt("refuseEmpty");
  if (r.reason === "size") {
    const limit = formatBytes(r.limit);
    let size = formatBytes(r.size);
    // Just over the limit reads like the limit itself: then in bytes.
    if (size === limit) size = `${r.size.toLocaleString("en-US")} B`;
    return dt("refuseSize", { size, limit });
  }
  if (r.allowed.length === 0) return dt("refuseNothing");
  const allowed = r.allowed.join(" ");
  return r.ext ? dt("refuseType", { ext: r.ext, allowed }) : dt("refuseNoExt", { allowed });
}

/** The `accept` attribute of the file input: the library's extensions. */
export function acceptAttr(limits: FileLimits | null): string | undefined {
  return limits && limits.accept.length ? limits.accept.join(",") : undefined;
}

const FAMILY_ORDER = ["pdf", "image", "office", "text", "ebook", "archive"];
const FAMILY_NAMES: Record<Lang, Record<string, string>> = {
  "zh-CN": { pdf: "PDF", image: "图片", office: "办公文档", text: "文本和题录", ebook: "电子书和全文格式", archive: "压缩包" },
  en: { pdf: "PDF", image: "pictures", office: "office documents", text: "text and citation lists", ebook: "e-books and full-text formats", archive: "archives" },
};

/** "PDF、图片、办公文档": the families a library takes, in words. */
export function familiesText(types: string[], ui: Lang): string {
  const names = FAMILY_ORDER.filter((f) => types.includes(f)).map((f) => FAMILY_NAMES[ui][f] ?? f);
  return names.join(ui === "en" ? ", " : "、");
}

/** 1023 B, 1.5 KB, 20 MB, 1.2 GB (binary units, as the desk's limits are). */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return "";
  if (n < 1024) return `${n} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  const digits = v < 100 && Math.round(v * 10) % 10 !== 0 ? 1 : 0;
  return `${v.toFixed(digits)} ${units[u]}`;
}

/** A year as typed: "" is none, four digits within the desk's bounds are one; else invalid. */
export function parseYear(raw: string): number | null | "invalid" {
  const s = raw.trim();
  if (!s) return null;
  if (!/^\d{4}$/.test(s)) return "invalid";
  const y = Number(s);
  return y >= MIN_YEAR && y <= MAX_YEAR ? y : "invalid";
}

/** An http(s) address as the desk takes it (no spaces, at most 2,000 characters), or null. */
export function httpUrl(raw: string): string | null {
  const s = raw.trim();
  if (!s || s.length > 2000 || /\s/.test(s)) return null;
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return null;
  }
  if ((u.protocol !== "http:" && u.protocol !== "https:") || !u.hostname) return null;
  return s;
}

// ---- the attachment card ----------------------------------------------------------------

export function docTypeName(t: string): string {
  return (DOC_TYPES as readonly string[]).includes(t) ? dt(`docType_${t}` as DKey) : t;
}

/** What a card shows, in order, as text (never markup). */
export interface CardText {
  title: string;
  /** "authors · source · year", the parts that are there. */
  byline: string;
  type: string;
  /** "name · size" for a file; the address for a link. */
  file: string;
  direction: string;
}

export function cardText(a: Attachment): CardText {
  const byline = [a.authors, a.source, a.year ? String(a.year) : ""].map((x) => (x ?? "").trim()).filter(Boolean);
  return {
    title: (a.title ?? "").trim() || a.name || a.url,
    byline: byline.join(" · "),
    type: a.doc_type ? docTypeName(a.doc_type) : "",
    file: a.kind === "link" ? a.url : [a.name, formatBytes(a.size)].filter(Boolean).join(" · "),
    direction: dt(a.direction === "from_reader" ? "dir_from_reader" : "dir_to_reader"),
  };
}

/** Whether the console shows the file inline (a reader's picture in a raster format). */
export function showsPreview(a: Attachment): boolean {
  return a.kind === "file" && a.direction === "from_reader" && INLINE_TYPES.has(a.content_type);
}

/** Where staff fetch a chat's file. */
export function fileUrl(consultationId: number, seq: number, inline = false): string {
  return `/api/consultations/${consultationId}/files/${seq}${inline ? "?inline=1" : ""}`;
}

// ---- the ledger ---------------------------------------------------------------------------

export type Preset = "today" | "month" | "year" | "custom";
export type Direction = "to_reader" | "from_reader" | "all";
export type Kind = "" | "file" | "link";
export type Group = "consultant" | "serving_library" | "origin_library" | "day" | "month";
export const GROUPS: Group[] = ["consultant", "serving_library", "origin_library", "day", "month"];

/** The desk counts days in DESK_REPORT_TIMEZONE; its default is Beijing time. */
export const REPORT_ZONE = "Asia/Shanghai";

export interface LedgerFilters {
  preset: Preset;
  /** YYYY-MM-DD, for a custom period ("" for open). */
  from: string;
  to: string;
  direction: Direction;
  kind: Kind;
  group: Group;
}

/** Today's date in the report time zone, YYYY-MM-DD. */
export function dayIn(now: Date, zone = REPORT_ZONE): string {
  const parts = new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" }).formatToParts(now);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? "";
  return `${get("year")}-${get("month")}-${get("day")}`;
}

/** The dates a preset means (both ends included), in the report time zone. */
export function periodOf(f: Pick<LedgerFilters, "preset" | "from" | "to">, now: Date, zone = REPORT_ZONE): { from: string; to: string } {
  const today = dayIn(now, zone);
  if (f.preset === "today") return { from: today, to: today };
  if (f.preset === "month") return { from: `${today.slice(0, 7)}-01`, to: today };
  if (f.preset === "year") return { from: `${today.slice(0, 4)}-01-01`, to: today };
  const ok = (d: string) => (/^\d{4}-\d{2}-\d{2}$/.test(d) ? d : "");
  return { from: ok(f.from), to: ok(f.to) };
}

/** The query string of /api/ledger, /api/ledger/counts and their CSV forms. */
export function ledgerQuery(
  f: LedgerFilters,
  now: Date,
  extra: { group?: boolean; before_id?: number; limit?: number } = {},
): string {
  const q = new URLSearchParams();
  const p = periodOf(f, now);
  if (p.from) q.set("from", p.from);
  if (p.to) q.set("to", p.to);
  q.set("direction", f.direction);
  if (f.kind) q.set("kind", f.kind);
  if (extra.group) q.set("group", f.group);
  if (extra.before_id !== undefined) q.set("before_id", String(extra.before_id));
  if (extra.limit !== undefined) q.set("limit", String(extra.limit));
  return q.toString();
}

export interface CountRow {
  key: string | number | null;
  name: string;
  total: number;
  files: number;
  links: number;
  bytes: number;
}

/** The totals line of a counts table. */
export function totals(rows: CountRow[]): Omit<CountRow, "key" | "name"> {
  return rows.reduce(
    (t, r) => ({ total: t.total + r.total, files: t.files + r.files, links: t.links + r.links, bytes: t.bytes + r.bytes }),
    { total: 0, files: 0, links: 0, bytes: 0 },
  );
}

// ---- documents with a backlog answer ----------------------------------------------------------

/** A document's details as the answer's `meta` describes it (DocFields of the desk). */
export interface DocDetails {
  title: string;
  authors?: string;
  source?: string;
  year?: number;
  doc_type?: string;
}

/** A document the consultant added to a backlog answer, not sent yet: a file (sent as a part
 * of the answer, under `name`) or a link. */
export type AnswerDoc = { kind: "file"; details: DocDetails; file: Blob; name: string } | { kind: "link"; details: DocDetails; url: string };

/** The documents one answer may carry (desk/backlog/api.py MAX_REPLY_DOCUMENTS). */
export const MAX_ANSWER_DOCS = 10;

/**
 * The multipart answer of POST /api/backlog/{id}/reply: the `meta` JSON (the answer, its kind,
 * `files` describing the file parts in order, `links`) and the file parts in the same order.
 */
export function answerParts(answer: string, answerKind: string, docs: readonly AnswerDoc[]): { meta: Record<string, unknown>; files: { file: Blob; name: string }[] } {
  const files = docs.flatMap((d) => (d.kind === "file" ? [d] : []));
  const links = docs.flatMap((d) => (d.kind === "link" ? [{ ...d.details, url: d.url }] : []));
  return {
    meta: { answer, answer_kind: answerKind, files: files.map((d) => ({ ...d.details })), links },
    files: files.map((d) => ({ file: d.file, name: d.name })),
  };
}

/** A document card's lines for a pending or delivered document. */
export function docLines(d: { title: string; authors?: string; source?: string; year?: number | null; doc_type?: string; kind: "file" | "link"; name?: string; size?: number; url?: string }): CardText {
  return cardText({
    kind: d.kind,
    direction: "to_reader",
    title: d.title,
    name: d.name ?? "",
    size: d.size ?? 0,
    content_type: "",
    url: d.url ?? "",
    authors: d.authors ?? "",
    source: d.source ?? "",
    year: d.year ?? null,
    doc_type: d.doc_type ?? "",
  });
}

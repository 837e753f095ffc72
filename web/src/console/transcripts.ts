// The pure parts of the transcripts view (审阅): the shapes the desk sends (transcripts/api.py,
// transcripts/cases.py), the query strings of search, export, cases and the audit log, the
// highlighted hits as plain pieces, the masked labels in a message, and tags typed as text.
// Nothing here touches the DOM; the pieces are rendered as text by the components.
import type { Attachment } from "./types";

/** One highlighted piece of a snippet: the desk's `[text, is_hit]`. */
export type HitPiece = [string, boolean];

export interface TranscriptSummary {
  consultation_id: number;
  library: string | null;
  serving_library: string | null;
  consultant: { id: number; username: string; name: string } | null;
  language: string;
  state: "closed" | "abandoned" | "handed_off";
  created_at: string;
  ended_at: string | null;
  messages: number;
  rating: number | null;
  tags: string[];
  has_personal_data: boolean;
  question: string;
  snippets: HitPiece[][];
}

export interface TranscriptMessage {
  seq: number;
  author_kind: "reader" | "consultant" | "bot" | "system";
  author: string | null;
  visibility: "all" | "staff" | string;
  body: string;
  created_at: string;
  attachment: Attachment | null;
}

/** One whole consultation (GET /api/transcripts/{id}): the summary's fields, with the
 * messages themselves under `messages`. */
export interface TranscriptDetail extends Omit<TranscriptSummary, "messages" | "snippets"> {
  revealed: boolean;
  may_reveal: boolean;
  ended_by: string | null;
  end_reason: string | null;
  anonymised_at: string | null;
  messages: TranscriptMessage[];
  history: { action: string; consultant: string | null; library: string | null; note: string; at: string }[];
  files: {
    seq: number;
    direction: string;
    kind: string;
    title: string;
    name: string;
    size: number;
    url: string;
    purged: boolean;
  }[];
  ticket: { id: number; state: string } | null;
  case: { id: number; state: CaseState } | null;
}

export type CaseState = "draft" | "published" | "withdrawn";

export interface TypicalCase {
  id: number;
  consultation_id: number;
  library_id: number;
  language: string;
  category: string;
  tags: string[];
  title: string;
  summary: string;
  question: string;
  answer: string;
  state: CaseState;
  created_by: number | null;
  created_at: string;
  updated_at: string;
  published_at: string | null;
  kb_entry_id: number | null;
}

export interface AuditEntry {
  id: number;
  at: string;
  consultant: string | null;
  action: string;
  consultation_id: number | null;
  library: string | null;
  detail: Record<string, unknown>;
}

// ---- query strings -----------------------------------------------------------------------

export interface SearchFilters {
  q: string;
  library: string;
  serving: string;
  consultant: string;
  from: string;
  to: string;
  state: "" | "closed" | "abandoned" | "handed_off";
  language: string;
  rating: "" | "1" | "0" | "none";
  tag: string;
}

export const EMPTY_FILTERS: SearchFilters = {
  q: "",
  library: "",
  serving: "",
  consultant: "",
  from: "",
  to: "",
  state: "",
  language: "",
  rating: "",
  tag: "",
};

/** The desk reads this many characters of a query (search.MAX_QUERY_CHARS). */
export const MAX_QUERY_CHARS = 100;

function params(values: Record<string, string | number | null | undefined>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(values)) {
    if (v === null || v === undefined) continue;
    const s = String(v).trim();
    if (s !== "") p.set(k, s);
  }
  return p.toString();
}

/** The search's query string: only the filters that are set, in a stable order; `before`
 * pages on (the desk lists newest first by consultation id). */
export function searchQuery(f: SearchFilters, extra: { before?: number; limit?: number; format?: string } = {}): string {
  return params({
    q: f.q.trim().slice(0, MAX_QUERY_CHARS),
    from: f.from,
    to: f.to,
    library: f.library,
    serving: f.serving,
    consultant: f.consultant,
    state: f.state,
    language: f.language,
    rating: f.rating,
    tag: f.tag,
    before: extra.before,
    limit: extra.limit,
    format: extra.format,
  });
}

/** The masked export of everything the filters match (supervisors and admins). */
export function exportUrl(f: SearchFilters, format: "csv" | "jsonl"): string {
  return `/api/transcripts/export?${searchQuery(f, { format })}`;
}

export interface CaseFilters {
  q: string;
  state: "" | CaseState;
  category: string;
  library: string;
  tag: string;
}

export const EMPTY_CASE_FILTERS: CaseFilters = { q: "", state: "", category: "", library: "", tag: "" };

export function casesQuery(f: CaseFilters): string {
  return params({ q: f.q, state: f.state, category: f.category, library: f.library, tag: f.tag });
}

/** The published cases as a file (the desk exports only published ones). */
export function caseExportUrl(format: "md" | "json", category = ""): string {
  const q = params({ format, category });
  return `/api/cases/export?${q}`;
}

export interface AuditFilters {
  consultant: string;
  consultation: string;
  action: string;
}

export const EMPTY_AUDIT_FILTERS: AuditFilters = { consultant: "", consultation: "", action: "" };

/** What the audit log records (docs/transcripts.md). */
export const AUDIT_ACTIONS = [
  "open",
  "reveal",
  "export",
  "erase",
  "anonymise",
  "case_create",
  "case_publish",
  "case_export",
] as const;

/** Only whole numbers go to the desk as ids (it refuses anything else with invalid_payload). */
export function idOrEmpty(raw: string): string {
  const s = raw.trim().replace(/^#/, "");
  return /^\d{1,12}$/.test(s) ? s : "";
}

export function auditQuery(f: AuditFilters, before?: number): string {
  return params({
    consultant: idOrEmpty(f.consultant),
    consultation: idOrEmpty(f.consultation),
    action: f.action,
    before,
  });
}

// ---- text --------------------------------------------------------------------------------

const KIND_LIST = ["reader", "consultant", "bot", "system"];
const KINDS = KIND_LIST.join("|");
const LINE_START = new RegExp(`(^|\\n)(${KINDS})\\t`, "g");

/**
 * A snippet as pieces to show: the search document's lines are `kind<TAB>body`; each line's
 * kind becomes `name：` (from `names`) and line breaks a separator, so a snippet reads as one
 * line. Hits stay hits; empty pieces are dropped and neighbours of the same kind merged.
 */
export function snippetPieces(pieces: readonly HitPiece[], names: Record<string, string>, sep = " ｜ "): HitPiece[] {
  const out: HitPiece[] = [];
  let first = true;
  for (const raw of pieces) {
    if (!Array.isArray(raw) || typeof raw[0] !== "string") continue;
    const hit = raw[1] === true;
    let source = raw[0];
    if (first && source !== "…" && source !== "") {
      // A snippet cut inside a line's kind ("…onsultant<TAB>"): name the kind it ends.
      first = false;
      const cut = /^([a-z]+)\t/.exec(source);
      const kind = cut ? KIND_LIST.find((k) => k !== cut[1] && k.endsWith(cut[1])) : undefined;
      if (cut && kind) source = `${names[kind] ?? kind}：${source.slice(cut[0].length)}`;
    }
    const text = source
      .replace(LINE_START, (_m, brk: string, kind: string) => `${brk ? sep : ""}${names[kind] ?? kind}：`)
      .replace(/\n/g, sep)
      .replace(/\t/g, " ");
    if (text === "") continue;
    const last = out[out.length - 1];
    if (last && last[1] === hit) last[0] += text;
    else out.push([text, hit]);
  }
  return out;
}

/** A masked label such as 〔电话〕 or 〔姓名〕 (transcripts/privacy.py). */
const LABEL = /〔[^〔〕\n]{1,16}〕/g;

/** A message's text split into plain text and masked labels, for showing labels as such. */
export function labelPieces(body: string): { text: string; label: boolean }[] {
  const out: { text: string; label: boolean }[] = [];
  let at = 0;
  for (const m of body.matchAll(LABEL)) {
    const i = m.index ?? 0;
    if (i > at) out.push({ text: body.slice(at, i), label: false });
    out.push({ text: m[0], label: true });
    at = i + m[0].length;
  }
  if (at < body.length) out.push({ text: body.slice(at), label: false });
  return out;
}

export function hasLabels(body: string): boolean {
  return labelPieces(body).some((p) => p.label);
}

/** The desk keeps at most this many tags of at most this many characters (api.py TagsBody). */
export const MAX_TAGS = 20;
export const MAX_TAG_CHARS = 32;

/** Tags typed in one box: separated by commas (either width), 、, ; or new lines; spaces
 * inside a tag folded; duplicates dropped; cut to the desk's limits. */
export function parseTags(text: string): string[] {
  const out: string[] = [];
  for (const part of text.split(/[,，、;；\n]/)) {
    const tag = part.split(/\s+/).filter(Boolean).join(" ").slice(0, MAX_TAG_CHARS);
    if (tag && !out.includes(tag)) out.push(tag);
    if (out.length >= MAX_TAGS) break;
  }
  return out;
}

export function tagsText(tags: readonly string[], ui: "zh-CN" | "en"): string {
  return tags.join(ui === "en" ? ", " : "，");
}

/** A typical case as its edit form holds it (tags as one line of text). */
export interface CaseForm {
  title: string;
  category: string;
  tags: string;
  summary: string;
  question: string;
  answer: string;
}

export function caseForm(x: TypicalCase, ui: "zh-CN" | "en"): CaseForm {
  return {
    title: x.title,
    category: x.category,
    tags: tagsText(x.tags, ui),
    summary: x.summary,
    question: x.question,
    answer: x.answer,
  };
}

export type CaseEdit = Partial<Pick<TypicalCase, "title" | "summary" | "question" | "answer" | "category" | "tags">>;

/** What changed between the case and its form, as the PATCH body (unchanged fields left out,
 * text trimmed as the desk stores it). */
export function caseChange(x: TypicalCase, f: CaseForm): CaseEdit {
  const out: CaseEdit = {};
  for (const k of ["title", "category", "summary", "question", "answer"] as const) {
    const v = f[k].trim();
    if (v !== x[k]) out[k] = v;
  }
  const tags = parseTags(f.tags);
  if (tags.join("\u0000") !== x.tags.join("\u0000")) out.tags = tags;
  return out;
}

/** Whether the signed-in role reads the audit log and exports (access.supervisor). */
export function isSupervisor(role: string): boolean {
  return role === "supervisor" || role === "admin";
}

// Pure helpers of the settings pages (tested in settings-forms.test.ts): the desk's validation
// problems in words and at their field, the etiquette lists' rows, knowledge-base files.
import { ApiError } from "./api";
import { isDay } from "./hours-form";
import { st } from "./i18n-settings";
import type { EtiquetteLists, FileLimitsSettings, Host, KbFormat, KbRowProblem, Term } from "./settings-types";
import type { DeskError } from "./types";

/** One problem as `invalid_payload`'s `details.fields` lists it. */
export interface FieldProblem {
  field: string;
  problem: string;
}

function dayName(d: string): string {
  return isDay(d) ? st(`day_${d}`) : d;
}

/**
 * A problem the desk states (pydantic's English, or the desk's own words) in the console's
 * language where it is a known one; otherwise as the desk wrote it. `field` is the last part of
 * the field's path, which picks the wording of a pattern mismatch.
 */
export function problemText(problem: string, field = ""): string {
  const p = problem.replace(/^Value error, /, "");
  let m: RegExpExecArray | null;
  if (/^String should have at least 1 character|must not be blank|^Field required/.test(p)) return st("p_required");
  if ((m = /^String should have at most (\d+) character/.exec(p))) return st("p_max_chars", { n: m[1] });
  if ((m = /^List should have at most (\d+) item/.exec(p))) return st("p_max_items", { n: m[1] });
  if (/^String should match pattern/.test(p)) {
    const last = field.split(".").pop() ?? "";
    if (last === "language") return st("p_bad_language");
    if (last === "host") return st("p_bad_host");
    if (last === "phone") return st("p_bad_phone");
    return st("p_pattern");
  }
  if (/^Input should be 'campus'/.test(p)) return st("p_bad_reason");
  if ((m = /unknown time zone '(.*)'/.exec(p))) return st("p_bad_zone", { zone: m[1] });
  if ((m = /^'(.*)' is not a date/.exec(p))) return st("p_bad_date", { date: m[1] });
  if ((m = /^(\w+): (\S+)-(\S+) ends before it starts/.exec(p)))
    return st("p_span_order", { day: dayName(m[1]), span: `${m[2]}–${m[3]}` });
  if ((m = /^(\w+): spans overlap/.exec(p))) return st("p_span_overlap", { day: dayName(m[1]) });
  if ((m = /^(\w+): times are HH:MM/.exec(p))) return st("p_span_format", { day: dayName(m[1]) });
  if ((m = /^(\w+): at most \d+ spans/.exec(p))) return st("p_span_max", { day: dayName(m[1]) });
  if (/must be true or false|^Input should be a valid boolean/.test(p)) return st("p_bool");
  if ((m = /^Input should be greater than or equal to (\d+)/.exec(p))) return st("p_min", { n: m[1] });
  if ((m = /^Input should be less than or equal to (\d+)/.exec(p))) return st("p_max", { n: m[1] });
  if (/^Input should be a valid integer/.test(p)) return st("p_int");
  if (/^above the desk's cap/.test(p)) return st("p_desk_cap");
  if ((m = /^the same question and language as row (\d+)/.exec(p))) return st("p_same_question", { row: m[1] });
  if (/^must be an object/.test(p)) return st("p_not_object");
  if (/^more cells than columns/.test(p)) return st("p_cells");
  // A file an import cannot read at all (kb_import_invalid with no rows).
  if (/not UTF-8 text/.test(p)) return st("p_not_utf8");
  if ((m = /^the header row lacks the column\(s\) (.+)$/.exec(p))) return st("p_missing_columns", { columns: m[1] });
  if ((m = /^unknown column\(s\) (.+)$/.exec(p))) return st("p_unknown_columns", { columns: m[1] });
  if ((m = /^at most (\d+) rows per import/.exec(p))) return st("p_too_many_rows", { n: m[1] });
  if (/is not valid JSON/.test(p)) return st("p_bad_json");
  if (/^send a list of entries/.test(p)) return st("p_json_shape");
  return p;
}

/** `details.fields` of an `invalid_payload` refusal, or none. */
export function fieldProblems(e: unknown): FieldProblem[] {
  const err: DeskError | undefined = e instanceof ApiError ? e.error : undefined;
  const fields = err?.details?.fields;
  if (!Array.isArray(fields)) return [];
  return fields
    .filter((f): f is FieldProblem => typeof f?.field === "string" && typeof f?.problem === "string")
    .map((f) => ({ field: f.field, problem: f.problem }));
}

/** Problems grouped by where they are shown (`keyOf` maps a problem to a place). */
export function problemsBy(
  problems: FieldProblem[],
  keyOf: (p: FieldProblem) => string = (p) => p.field,
): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const p of problems) {
    const key = keyOf(p);
    (out[key] ??= []).push(problemText(p.problem, p.field));
  }
  return out;
}

// ---- etiquette lists --------------------------------------------------------------------

/** The body of PUT /api/etiquette from the rows on screen: blank rows left out, values trimmed.
 * `terms[i]` / `hosts[i]` of the body is row `termRows[i]` / `hostRows[i]` on screen. */
export function listsToApi(
  terms: Term[],
  hosts: Host[],
): { body: EtiquetteLists; termRows: number[]; hostRows: number[] } {
  const body: EtiquetteLists = { terms: [], hosts: [] };
  const termRows: number[] = [];
  const hostRows: number[] = [];
  terms.forEach((t, i) => {
    const term = t.term.trim();
    const hint = t.hint.trim();
    if (!term && !hint) return;
    body.terms.push({ term, hint });
    termRows.push(i);
  });
  hosts.forEach((h, i) => {
    const host = h.host.trim();
    if (!host) return;
    body.hosts.push({ host, reason: h.reason });
    hostRows.push(i);
  });
  return { body, termRows, hostRows };
}

/**
 * Where a problem of PUT /api/etiquette is shown: `terms.<row>.term`, `hosts.<row>.host`, ...
 * with the row on screen (see listsToApi), `terms` / `hosts` for the list, else `form`.
 */
export function etiquetteProblemKey(field: string, termRows: number[], hostRows: number[]): string {
  const [list, index, part] = field.split(".");
  if (list !== "terms" && list !== "hosts") return "form";
  if (index === undefined) return list;
  const rows = list === "terms" ? termRows : hostRows;
  const row = rows[Number(index)] ?? Number(index);
  return `${list}.${row}.${part ?? (list === "terms" ? "term" : "host")}`;
}

// ---- knowledge-base files ---------------------------------------------------------------

/** The format a file's name says (.csv, .json), or null. */
export function formatOfName(name: string): KbFormat | null {
  const ext = /\.([A-Za-z]+)$/.exec(name.trim())?.[1]?.toLowerCase();
  return ext === "csv" || ext === "json" ? ext : null;
}

/** `kb_import_invalid`'s rows, in row order; an empty list when the file itself is unreadable. */
export function importProblems(e: unknown): KbRowProblem[] | null {
  if (!(e instanceof ApiError) || e.error.code !== "kb_import_invalid") return null;
  const rows = e.error.details?.rows;
  if (!Array.isArray(rows)) return [];
  return rows
    .filter((r): r is KbRowProblem => typeof r?.row === "number" && typeof r?.problem === "string")
    .map((r) => ({ row: r.row, field: typeof r.field === "string" ? r.field : "", problem: r.problem }))
    .sort((a, b) => a.row - b.row);
}

// ---- files in chats ----------------------------------------------------------------------

/** The file families, in the order the page lists them (desk/delivery/files.py FAMILIES). */
export const FAMILIES = ["pdf", "image", "office", "text", "ebook", "archive"] as const;

/** The file limits on screen; `max` as typed. */
export interface FilesDraft {
  max: string;
  types: string[];
}

export function filesDraft(l: FileLimitsSettings | undefined): FilesDraft | null {
  return l ? { max: String(l.max_mb), types: [...l.types] } : null;
}

/** `file_limits` for PUT /api/library/settings when the draft differs from what is stored
 * (an untouched library keeps following the alliance's defaults); "invalid" for a bad size. */
export function filesChange(
  draft: FilesDraft | null,
  stored: FileLimitsSettings | undefined,
): { max_mb: number; types: string[] } | null | "invalid" {
  if (!draft || !stored) return null;
  const raw = draft.max.trim();
  const mb = /^\d{1,5}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(mb >= 1 && mb <= stored.desk_max_mb)) return "invalid";
  const types = FAMILIES.filter((f) => draft.types.includes(f));
  const same = mb === stored.max_mb && types.length === stored.types.length && types.every((f) => stored.types.includes(f));
  return same ? null : { max_mb: mb, types };
}

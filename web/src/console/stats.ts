// The statistics view's pure parts: the periods (presets counted from the desk's own "today",
// which is the report time zone's date), the query strings of the stats routes, the chart's
// scale, and figures in words (percentages, seconds as "1分20秒"). No DOM, unit-tested.

export type UiLang = "zh-CN" | "en";

// ---- periods ---------------------------------------------------------------------------------

export type Preset = "this_month" | "last_month" | "this_year" | "last_year" | "custom";
export type Grain = "day" | "week" | "month" | "year";

export const REPORT_PRESETS: Preset[] = ["this_month", "last_month", "this_year", "last_year", "custom"];
/** A certificate covers days that are over: no period running into today. */
export const CERTIFICATE_PRESETS: Preset[] = ["last_month", "last_year", "custom"];
export const GRAINS: Grain[] = ["day", "week", "month", "year"];

export interface Range {
  from: string;
  to: string;
}

const DAY_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

function pad(n: number): string {
  return String(n).padStart(2, "0");
}

/** A YYYY-MM-DD string's parts, or null when it is not a real date. */
export function parseDay(s: string): { y: number; m: number; d: number } | null {
  const got = DAY_RE.exec(s);
  if (!got) return null;
  const y = Number(got[1]);
  const m = Number(got[2]);
  const d = Number(got[3]);
  if (m < 1 || m > 12 || d < 1 || d > daysInMonth(y, m)) return null;
  return { y, m, d };
}

export function daysInMonth(y: number, m: number): number {
  return new Date(Date.UTC(y, m, 0)).getUTCDate();
}

/** The day before a YYYY-MM-DD date. */
export function dayBefore(s: string): string {
  const p = parseDay(s);
  if (!p) return s;
  const t = new Date(Date.UTC(p.y, p.m - 1, p.d - 1));
  return `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}`;
}

/**
 * The days of a preset, counted from `today` (the desk's today, YYYY-MM-DD, in the report time
 * zone, so a browser elsewhere in the world asks for the same days). `custom` gives `custom`.
 */
export function presetRange(preset: Preset, today: string, custom: Range = { from: "", to: "" }): Range {
  const p = parseDay(today);
  if (!p || preset === "custom") return custom;
  switch (preset) {
    case "this_month":
      return { from: `${p.y}-${pad(p.m)}-01`, to: today };
    case "last_month": {
      const y = p.m === 1 ? p.y - 1 : p.y;
      const m = p.m === 1 ? 12 : p.m - 1;
      return { from: `${y}-${pad(m)}-01`, to: `${y}-${pad(m)}-${pad(daysInMonth(y, m))}` };
    }
    case "this_year":
      return { from: `${p.y}-01-01`, to: today };
    case "last_year":
      return { from: `${p.y - 1}-01-01`, to: `${p.y - 1}-12-31` };
  }
}

/** The grain a preset reads best by: days within a month, months within a year. */
export function suggestedGrain(preset: Preset): Grain {
  return preset === "this_year" || preset === "last_year" ? "month" : "day";
}

/** The desk's longest report (stats/reports.py MAX_DAYS). */
export const MAX_DAYS = 3700;

export type RangeProblem = "missing" | "order" | "too_long" | "not_over";

/** What is wrong with a range, or null. `mustBeOver`: it must end before `today`. */
export function rangeProblem(r: Range, today: string, mustBeOver = false): RangeProblem | null {
  const a = parseDay(r.from);
  const b = parseDay(r.to);
  if (!a || !b) return "missing";
  if (r.to < r.from) return "order";
  const days = (Date.UTC(b.y, b.m - 1, b.d) - Date.UTC(a.y, a.m - 1, a.d)) / 86_400_000;
  if (days >= MAX_DAYS) return "too_long";
  if (mustBeOver && r.to >= today) return "not_over";
  return null;
}

// ---- query strings ---------------------------------------------------------------------------

/** A query string of the set values only, in the order given (no leading "?"). */
export function query(params: Record<string, string | number | boolean | null | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === null || v === undefined || v === "" || v === false) continue;
    q.set(k, v === true ? "1" : String(v));
  }
  return q.toString();
}

export type Scope = "alliance" | "library" | "consultant";
export type Format = "json" | "csv" | "xlsx";

export interface ReportAsk extends Range {
  scope: Scope;
  /** A library's code or a consultant's id; empty for the alliance or the caller's own. */
  id: string;
  grain: Grain;
}

export function reportQuery(a: ReportAsk, format: Format = "json"): string {
  return query({
    scope: a.scope,
    id: a.scope === "alliance" ? "" : a.id,
    from: a.from,
    to: a.to,
    grain: a.grain,
    format: format === "json" ? "" : format,
  });
}

export interface TableAsk extends Range {
  kind: "consultant" | "library";
  sort: string;
  /** Admins: one library's consultants (a code); empty for all. */
  library: string;
}

export function tableQuery(a: TableAsk, format: Format = "json"): string {
  return query({
    kind: a.kind,
    from: a.from,
    to: a.to,
    library: a.kind === "consultant" ? a.library : "",
    sort: a.sort,
    format: format === "json" ? "" : format,
  });
}

export type Graded = "0" | "1" | "all";

export interface CandidateAsk extends Range {
  target: "consultation" | "ticket";
  library: string;
  graded: Graded;
  sample: boolean;
  limit?: number;
}

export function candidatesQuery(a: CandidateAsk): string {
  return query({
    target: a.target,
    library: a.library,
    from: a.from,
    to: a.to,
    graded: a.graded,
    sample: a.sample,
    limit: a.limit,
  });
}

export function gradesQuery(a: Range & { consultant?: number; before_id?: number; limit?: number }): string {
  return query({ from: a.from, to: a.to, consultant: a.consultant, before_id: a.before_id, limit: a.limit });
}

// ---- figures in words ------------------------------------------------------------------------

/** Columns whose values are seconds (the desk's labels end in "(秒)" / "(s)"). */
export function isSeconds(key: string): boolean {
  return /_p50$|_p90$|^duration_mean$|_seconds$/.test(key);
}

/** Columns whose values are shares (0 … 1). */
export function isShare(key: string): boolean {
  return key === "satisfaction" || key.endsWith("_rate");
}

/** A share as a percentage with one decimal ("83.3%"); "—" when there is none. */
export function percent(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "—";
  const x = Math.round(v * 1000) / 10;
  return `${Number.isInteger(x) ? x.toFixed(0) : x.toFixed(1)}%`;
}

/** Seconds in words: "45秒", "1分20秒", "2小时5分" (English "45 s", "1 min 20 s", "2 h 5 min");
 * "—" when there is none. */
export function seconds(v: number | null | undefined, ui: UiLang = "zh-CN"): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "—";
  const s = Math.max(0, Math.round(v));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  if (ui === "en") {
    if (h > 0) return m > 0 ? `${h} h ${m} min` : `${h} h`;
    if (m > 0) return r > 0 ? `${m} min ${r} s` : `${m} min`;
    return `${r} s`;
  }
  if (h > 0) return m > 0 ? `${h}小时${m}分` : `${h}小时`;
  if (m > 0) return r > 0 ? `${m}分${r}秒` : `${m}分`;
  return `${r}秒`;
}

/** A whole number with thousands separators. */
export function count(v: number | null | undefined, ui: UiLang = "zh-CN"): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "—";
  return Math.round(v).toLocaleString(ui === "en" ? "en-US" : "zh-CN");
}

/** A report cell: seconds in words, shares as percentages, counts as numbers. */
export function cell(key: string, v: unknown, ui: UiLang = "zh-CN"): string {
  if (typeof v !== "number") return v === null || v === undefined ? "—" : String(v);
  if (isSeconds(key)) return seconds(v, ui);
  if (isShare(key)) return percent(v);
  return count(v, ui);
}

/** A column's label from the desk's `columns`, in the UI language; "(秒)" / "(s)" dropped for
 * columns shown in words ("1分20秒" says its unit). */
export function columnLabel(c: { key: string; "zh-CN": string; en: string }, ui: UiLang): string {
  const label = ui === "en" ? c.en : c["zh-CN"];
  return isSeconds(c.key) ? label.replace(/\s*[(（](秒|s)[)）]\s*$/, "") : label;
}

// ---- the chart -------------------------------------------------------------------------------

/** A round top for an axis at or above `max` (1, 2, 5 × 10^n) and its ticks from 0. */
export function niceScale(max: number, ticks = 4): { top: number; ticks: number[] } {
  if (!Number.isFinite(max) || max <= 0) return { top: ticks, ticks: range(ticks + 1) };
  const raw = max / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((f) => f * mag).find((x) => x >= raw - 1e-9) ?? 10 * mag;
  // Counts are whole: never a step below 1.
  const whole = Math.max(1, Math.ceil(step));
  const n = Math.ceil(max / whole - 1e-9);
  return { top: whole * n, ticks: range(n + 1).map((i) => i * whole) };
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

export interface Bar {
  x: number;
  y: number;
  width: number;
  height: number;
  value: number;
}

/**
 * Grouped bars: `series` values per period, in a plot `width` × `height` whose y axis runs to
 * `top`. Each period gets an equal slot; its bars share 80% of it, each at most `maxBar` wide
 * (a month of two days should not look like a wall), centred in the slot.
 */
export function bars(series: number[][], width: number, height: number, top: number, maxBar = Infinity): Bar[][] {
  const periods = Math.max(0, ...series.map((s) => s.length));
  if (periods === 0 || series.length === 0) return series.map(() => []);
  const slot = width / periods;
  const each = Math.min((slot * 0.8) / series.length, maxBar);
  const pad0 = (slot - each * series.length) / 2;
  return series.map((values, si) =>
    values.map((v, i) => {
      const value = Number.isFinite(v) ? Math.max(0, v) : 0;
      const h = top > 0 ? (Math.min(value, top) / top) * height : 0;
      return { x: i * slot + pad0 + si * each, y: height - h, width: each, height: h, value };
    }),
  );
}

/** Which period labels to print under a chart of `n` periods so that about `fit` fit. */
export function labelEvery(n: number, fit: number): number {
  if (n <= 0 || fit <= 0) return 1;
  return Math.max(1, Math.ceil(n / fit));
}

/** The biggest value and where it is (first such), for the chart's summary. */
export function peak(values: number[]): { value: number; index: number } | null {
  let best: { value: number; index: number } | null = null;
  values.forEach((v, i) => {
    if (Number.isFinite(v) && (best === null || v > best.value)) best = { value: v, index: i };
  });
  return best;
}

export function sum(values: (number | null | undefined)[]): number {
  return values.reduce<number>((a, v) => a + (typeof v === "number" && Number.isFinite(v) ? v : 0), 0);
}

// ---- the dashboard ---------------------------------------------------------------------------

/** A reader waiting this long is highlighted (norm 1: answer at once, say how long when busy). */
export const LONG_WAIT_SECONDS = 120;
/** The dashboard comes every 5 s; three missed pushes and it is old news. */
export const STALE_AFTER_MS = 15_000;

export function isLongWait(seconds: number): boolean {
  return seconds >= LONG_WAIT_SECONDS;
}

/** Load over capacity as a whole percentage for a bar (0 … 100). */
export function loadPercent(load: number, capacity: number): number {
  if (!(capacity > 0)) return load > 0 ? 100 : 0;
  return Math.max(0, Math.min(100, Math.round((load / capacity) * 100)));
}

/** Whether the dashboard on screen is out of date: the socket is down, or no push came for a
 * while. */
export function isStale(receivedAt: number | null, now: number, connected: boolean): boolean {
  if (receivedAt === null) return false;
  return !connected || now - receivedAt > STALE_AFTER_MS;
}

// ---- grading ---------------------------------------------------------------------------------

export type GradeValue = "excellent" | "pass" | "fail";
export const GRADES: GradeValue[] = ["excellent", "pass", "fail"];

export interface Criterion {
  code: string;
  grade?: string;
  "zh-CN": string;
  en: string;
}

export interface Checklist {
  ticket: Criterion[];
  consultation: Criterion[];
}

/** The checklist shown: for a reply, the cases under the chosen grade; for a chat, the six
 * rules whatever the grade. */
export function criteriaFor(list: Checklist, target: "consultation" | "ticket", grade: GradeValue | null): Criterion[] {
  if (target === "consultation") return list.consultation;
  if (grade === null) return [];
  return list.ticket.filter((c) => c.grade === grade);
}

/** The ticked criteria that still apply after the grade changed. */
export function keepCriteria(
  list: Checklist,
  target: "consultation" | "ticket",
  grade: GradeValue | null,
  ticked: string[],
): string[] {
  const shown = new Set(criteriaFor(list, target, grade).map((c) => c.code));
  return ticked.filter((c) => shown.has(c));
}

export type GradeProblem = "no_grade" | "fail_comment" | "reason";

/** The desk's rules (stats/criteria.py check), said before sending. */
export function gradeProblem(
  target: "consultation" | "ticket",
  grade: GradeValue | null,
  criteria: string[],
  comment: string,
): GradeProblem | null {
  if (grade === null) return "no_grade";
  if (grade === "fail" && !comment.trim()) return "fail_comment";
  if (target === "ticket" && criteria.length === 0 && !comment.trim()) return "reason";
  return null;
}

/** A criterion's words by code, in the UI language (the code itself when unknown). */
export function criterionText(list: Checklist | null, code: string, ui: UiLang): string {
  const found = list ? [...list.ticket, ...list.consultation].find((c) => c.code === code) : undefined;
  if (!found) return code;
  return ui === "en" ? found.en : found["zh-CN"];
}

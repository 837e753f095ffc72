// The service-hours form's model: from the desk's shape to rows a person edits, and back.
// Pure functions (tested in hours-form.test.ts).
import type { ServiceHours, Span } from "./settings-types";

export const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
export type Day = (typeof DAYS)[number];

/** Spans one day may have (the desk's limit). */
export const MAX_SPANS = 4;
export const DEFAULT_ZONE = "Asia/Shanghai";

export interface HoursDraft {
  timezone: string;
  /** Every day, in order; a day without spans is closed. */
  weekly: Record<Day, Span[]>;
  closed: string[];
}

export function isDay(s: string): s is Day {
  return (DAYS as readonly string[]).includes(s);
}

export function draftFromApi(h: ServiceHours | null | undefined): HoursDraft {
  const weekly = {} as Record<Day, Span[]>;
  for (const d of DAYS) {
    const spans = h?.weekly?.[d] ?? [];
    weekly[d] = spans.filter((s) => Array.isArray(s) && s.length === 2).map(([a, b]) => [a, b] as Span);
  }
  return {
    timezone: h?.timezone || DEFAULT_ZONE,
    weekly,
    closed: [...new Set(h?.closed ?? [])].sort(),
  };
}

/**
 * A time as typed, in the desk's HH:MM where it clearly is one: "9:00" and "900" are 09:00,
 * "8.30" and "8：30" (full-width colon, as a Chinese input method types it) are 08:30.
 * Anything else is sent as typed, for the desk to refuse at the field.
 */
export function normaliseTime(raw: string): string {
  const s = raw.trim().replace(/[：.．]/g, ":");
  const m = /^(\d{1,2}):?(\d{2})?$/.exec(s);
  if (!m || (m[2] === undefined && s.includes(":"))) return s;
  return `${m[1].padStart(2, "0")}:${m[2] ?? "00"}`;
}

/** The body of PUT /api/library/settings's `service_hours`: days without spans left out. */
export function draftToApi(d: HoursDraft): Required<ServiceHours> {
  const weekly: Record<string, Span[]> = {};
  for (const day of DAYS) {
    const spans = d.weekly[day]
      .map(([a, b]) => [normaliseTime(a), normaliseTime(b)] as Span)
      .filter(([a, b]) => a !== "" || b !== "");
    if (spans.length > 0) weekly[day] = spans;
  }
  return {
    timezone: d.timezone.trim() || DEFAULT_ZONE,
    weekly,
    closed: [...new Set(d.closed.map((x) => x.trim()).filter(Boolean))].sort(),
  };
}

/** Whether the week has any span: without one the desk treats the library as having no hours. */
export function hasSpans(d: HoursDraft): boolean {
  return DAYS.some((day) => d.weekly[day].some(([a, b]) => a.trim() !== "" || b.trim() !== ""));
}

export function addSpan(d: HoursDraft, day: Day): HoursDraft {
  if (d.weekly[day].length >= MAX_SPANS) return d;
  const last = d.weekly[day][d.weekly[day].length - 1];
  // A new span starts where the last one ended, a whole working day when it is the first.
  const span: Span = last ? [last[1], ""] : ["08:30", "17:00"];
  return { ...d, weekly: { ...d.weekly, [day]: [...d.weekly[day], span] } };
}

export function removeSpan(d: HoursDraft, day: Day, i: number): HoursDraft {
  return { ...d, weekly: { ...d.weekly, [day]: d.weekly[day].filter((_, j) => j !== i) } };
}

export function setSpan(d: HoursDraft, day: Day, i: number, end: 0 | 1, value: string): HoursDraft {
  const spans = d.weekly[day].map((s, j): Span => (j !== i ? s : end === 0 ? [value, s[1]] : [s[0], value]));
  return { ...d, weekly: { ...d.weekly, [day]: spans } };
}

export function addClosed(closed: string[], date: string): string[] {
  const v = date.trim();
  return v ? [...new Set([...closed, v])].sort() : closed;
}

export function removeClosed(closed: string[], date: string): string[] {
  return closed.filter((x) => x !== date);
}

const EN_DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const ZH_DAYS = ["周日", "周一", "周二", "周三", "周四", "周五", "周六"];
const EN_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/**
 * The next opening as the desk gives it (an ISO time in the library's own zone, e.g.
 * "2026-10-08T08:30:00+08:00"), written with the library's wall-clock date and time, whatever
 * the browser's zone: "10月8日（周四）08:30" or "Thu 8 Oct, 08:30".
 */
export function opensAtText(iso: string, language: "zh-CN" | "en"): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(iso);
  if (!m) return iso;
  const [, y, mo, d, hh, mm] = m;
  const weekday = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d))).getUTCDay();
  if (language === "en") return `${EN_DAYS[weekday]} ${Number(d)} ${EN_MONTHS[Number(mo) - 1]}, ${hh}:${mm}`;
  return `${Number(mo)}月${Number(d)}日（${ZH_DAYS[weekday]}）${hh}:${mm}`;
}

/**
 * Where a problem of PUT /api/library/settings belongs in the form: `timezone`, `weekly.<day>`
 * (the desk names the day at the start of the message, "mon: spans overlap"), `closed`,
 * `phone`, or `form` for the rest.
 */
export function hoursProblemKey(field: string, problem: string): string {
  const path = field.replace(/^service_hours\.?/, "");
  const [head, day] = path.split(".");
  if (head === "weekly") {
    if (day && isDay(day)) return `weekly.${day}`;
    const named = /(?:^|, )(mon|tue|wed|thu|fri|sat|sun):/.exec(problem);
    if (named) return `weekly.${named[1]}`;
    return "weekly";
  }
  if (head === "timezone" || head === "closed" || head === "phone") return head;
  return "form";
}

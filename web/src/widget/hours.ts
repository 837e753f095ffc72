// Whether the library's live desk can take a chat now, from its public details
// (`GET /api/libraries/{code}`: `open_now`, `opens_at`, `live`), and the next opening in words.
// No DOM; the view decides what to show.
import type { LibraryInfo } from "./chat";
import { t, type Lang } from "./i18n";

/**
 * What the start view offers before the reader writes:
 * - `closed`: outside the library's service hours; `chat` when someone (of any library, since
 *   chats overflow) who speaks the reader's language is online all the same;
 * - `nobody`: within hours (or none set) but nobody who could answer is online.
 * null: a chat as usual (or nothing known yet).
 */
export interface Gate {
  kind: "closed" | "nobody";
  chat: boolean;
  /** The next opening as the library's clock shows it, or null. */
  opensAt: string | null;
}

/** Whether anyone is online for `lang` (base language: "zh" matches "zh-CN"); null: the
 * library does not say (an older desk, or a language it does not serve). */
export function liveFor(live: Record<string, boolean> | undefined, lang: string): boolean | null {
  if (!live) return null;
  const base = (tag: string) => tag.split("-")[0].toLowerCase();
  const key = Object.keys(live).find((k) => k.toLowerCase() === lang.toLowerCase()) ?? Object.keys(live).find((k) => base(k) === base(lang));
  return key === undefined ? null : !!live[key];
}

export function gateOf(info: LibraryInfo | null, lang: string): Gate | null {
  if (!info) return null;
  const live = liveFor(info.live, lang);
  if (info.open_now === false) return { kind: "closed", chat: live === true, opensAt: info.opens_at ?? null };
  if (live === false) return { kind: "nobody", chat: true, opensAt: null };
  return null;
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;
const DAY_MS = 86_400_000;

function offsetText(minutes: number): string {
  const sign = minutes < 0 ? "-" : "+";
  const m = Math.abs(minutes);
  return `UTC${sign}${Math.floor(m / 60)}${m % 60 ? `:${String(m % 60).padStart(2, "0")}` : ""}`;
}

/**
 * `opensAt` (an ISO time with the library's UTC offset) in the library's own time, as the
 * reader reads it: "今天 18:00", "明天 08:30", "周一 08:30", "12月8日 周二 08:30" (English:
 * "today 18:00", "Monday 08:30", ...). Today and tomorrow are the library's. When the reader's
 * clock is on another offset, the library's follows ("周一 08:30（UTC+8）"). "" for a bad time.
 */
export function opening(opensAt: string, lang: Lang, now: number = Date.now()): string {
  const m = ISO.exec(opensAt);
  if (!m) return "";
  const [, y, mo, d, hh, mm, zone] = m;
  const offset = zone === "Z" ? 0 : (zone[0] === "-" ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(-2)));
  const day = Date.UTC(Number(y), Number(mo) - 1, Number(d));
  const local = new Date(now + offset * 60_000); // the library's wall clock, read as UTC
  const today = Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate());
  const ahead = Math.round((day - today) / DAY_MS);
  // Names from the browser (周一 / Monday), of the date read as UTC: it is the library's already.
  const name = (o: Intl.DateTimeFormatOptions) => new Intl.DateTimeFormat(lang, { ...o, timeZone: "UTC" }).format(day);
  const weekday = name({ weekday: lang === "en" ? "long" : "short" });
  const time = `${hh}:${mm}`;
  let when: string;
  if (ahead === 0) when = t(lang, "openToday", { time });
  else if (ahead === 1) when = t(lang, "openTomorrow", { time });
  else if (ahead > 1 && ahead < 7) when = t(lang, "openWeekday", { day: weekday, time });
  else {
    const month = lang === "en" ? name({ month: "long" }) : `${Number(mo)}月`;
    when = t(lang, "openDate", { day: weekday, date: String(Number(d)), month, time });
  }
  const readerOffset = -new Date(now).getTimezoneOffset();
  return readerOffset === offset ? when : t(lang, "openZone", { when, zone: offsetText(offset) });
}

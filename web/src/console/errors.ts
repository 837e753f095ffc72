// Turning desk error objects into words for the consultant: every code the console can get
// (docs/protocol.md: the error tables, the HTTP routes and the console events) has a text in
// both UI languages. The desk's `message` is English for developers and is never shown,
// except where it names something the consultant wrote (a template's placeholder) and the
// UI is English. An unknown code gets a general text and the code, for whoever reports it.
import { ApiError } from "./api";
import { has, type Key, lang, t } from "./i18n";
import { languageNames } from "./languages";
import type { DeskError } from "./types";

/** DESK_MAX_MESSAGE_CHARS's default, for a message_too_long without details. */
const DEFAULT_LIMIT = 4000;

export interface ErrorWords {
  /** In the UI language. */
  text: string;
  /** The code when the console has no words for it (shown in small print), else null. */
  code: string | null;
}

/** Words for an error: known codes in the UI language, unknown ones generally, with the code. */
export function describeError(e: DeskError): ErrorWords {
  const code = typeof e?.code === "string" ? e.code : "";
  const details = e?.details ?? {};
  if (code === "bad_template") return { text: templateText(e.message ?? ""), code: null };
  if (code === "language_not_served" && Array.isArray(details.languages) && details.languages.length) {
    const list = details.languages.filter((x): x is string => typeof x === "string");
    return { text: t("err_language_not_served_list", { languages: languageNames(list, lang()) }), code: null };
  }
  const key = `err_${code}`;
  if (code && has(key)) {
    const vars: Record<string, string | number> = {};
    for (const [k, v] of Object.entries(details)) {
      if (typeof v === "string" || typeof v === "number") vars[k] = v;
    }
    if (code === "message_too_long" && vars.limit === undefined) vars.limit = DEFAULT_LIMIT;
    return { text: t(key as Key, vars), code: null };
  }
  return { text: t("errorUnknown"), code: code || "unknown" };
}

/** One line for places without small print (dialogs, a message not sent): an unknown code is
 * named in brackets. */
export function errorText(e: DeskError): string {
  const w = describeError(e);
  return w.code === null ? w.text : t("errorUnknownInline", { code: w.code });
}

/** Words for what an HTTP call threw (ApiError, or anything else). */
export function apiErrorWords(e: unknown): ErrorWords {
  if (e instanceof ApiError) {
    if (e.status === 0) return { text: t("networkError"), code: null };
    return describeError(e.error);
  }
  return { text: t("errorUnknown"), code: "client" };
}

export function apiErrorText(e: unknown): string {
  const w = apiErrorWords(e);
  return w.code === null ? w.text : t("errorUnknownInline", { code: w.code });
}

/**
 * bad_template: the desk's message names the placeholder (bots/texts.py check_template). In
 * Chinese it is told again in Chinese from those names; in English the message is shown.
 */
function templateText(message: string): string {
  if (lang() === "en" && message) return t("err_bad_template", { message });
  const names = /^unknown placeholder\(s\) ([^;]+); \S+ may use (.+)$/.exec(message);
  if (names) {
    const braced = (list: string) =>
      list
        .split(",")
        .map((x) => x.trim())
        .filter(Boolean)
        .map((x) => `{${x}}`)
        .join("、");
    const allowed = names[2].trim() === "none" ? t("none") : braced(names[2]);
    return t("err_bad_template_names", { names: braced(names[1]), allowed });
  }
  const field = /^unsupported placeholder (\{.*\})$/.exec(message);
  if (field) return t("err_bad_template_field", { field: field[1] });
  return t("err_bad_template_braces");
}

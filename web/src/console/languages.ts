// Languages by name, not by code: the console shows "中文" / "English" where the desk sends a
// language tag (chats, offers, the queue, the backlog, phrases, colleagues, libraries).

import type { Lang } from "./i18n";

/** Names by base language (the tag before the first "-"), in the UI's language. */
const NAMES: Record<string, Record<Lang, string>> = {
  zh: { "zh-CN": "中文", en: "Chinese" },
  en: { "zh-CN": "英文", en: "English" },
};

/** The name of the language with tag `code` in UI language `ui`; an unknown tag is shown as
 * it is (a tag such as "fr" is still readable, and nothing is hidden). */
export function languageName(code: string, ui: Lang): string {
  const base = code.split("-")[0].toLowerCase();
  return NAMES[base]?.[ui] ?? code;
}

/** Several languages, by name, in the order given. */
export function languageNames(codes: readonly string[], ui: Lang): string {
  return codes.map((c) => languageName(c, ui)).join(ui === "en" ? ", " : "、");
}

// UI text of the transcripts view (审阅: search, a whole consultation, reveal, tags, erasure,
// typical cases, the audit log): Chinese first, English with the console's own language switch.
import { lang } from "./i18n";

const zh = {
  view_transcripts: "审阅",
  transcriptsIntro: "检索已结束的咨询记录（个人信息已遮盖），查看整段对话，整理典型案例。",
};

export type TKey = keyof typeof zh;

const en: Record<TKey, string> = {
  view_transcripts: "Transcripts",
  transcriptsIntro: "Search ended consultations (personal data masked), open a whole conversation, collect typical cases.",
};

const tables: Record<"zh-CN" | "en", Record<TKey, string>> = { "zh-CN": zh, en };

export function tt(key: TKey, vars?: Record<string, string | number>): string {
  let s = tables[lang()][key] ?? zh[key];
  if (vars) {
    for (const [k, v] of Object.entries(vars)) s = s.split(`{${k}}`).join(String(v));
  }
  return s;
}

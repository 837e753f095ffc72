// Turning desk error objects into words for the consultant.
import { ApiError } from "./api";
import { has, t } from "./i18n";
import type { DeskError } from "./types";

export function errorText(e: DeskError): string {
  const key = `err_${e.code}`;
  if (has(key)) {
    const vars: Record<string, string | number> = {};
    for (const [k, v] of Object.entries(e.details ?? {})) {
      if (typeof v === "string" || typeof v === "number") vars[k] = v;
    }
    return t(key, vars);
  }
  return t("error", { message: e.message || e.code });
}

export function apiErrorText(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.status === 0) return t("networkError");
    return errorText(e.error);
  }
  return t("error", { message: String(e) });
}

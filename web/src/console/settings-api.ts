// The library settings pages' calls: knowledge base, service hours and phone, etiquette lists.
import { ApiError, call } from "./api";
import type {
  Etiquette,
  EtiquetteLists,
  KbEntry,
  KbFields,
  KbFormat,
  KbImported,
  KbList,
  KbScope,
  LibrarySettings,
  SettingsChange,
} from "./settings-types";
import type { DeskError } from "./types";

// ---- knowledge base (知识库) ----------------------------------------------------------------

export async function kbList(q: string, language: string): Promise<KbList> {
  const query = new URLSearchParams();
  if (q.trim()) query.set("q", q.trim());
  if (language) query.set("language", language);
  const qs = query.toString();
  return call<KbList>("GET", `/api/kb${qs ? `?${qs}` : ""}`);
}

export async function kbCreate(scope: KbScope, f: KbFields): Promise<KbEntry> {
  const r = await call<{ entry: KbEntry }>("POST", "/api/kb", { scope, ...f });
  return r.entry;
}

export async function kbUpdate(id: number, f: Partial<KbFields>): Promise<KbEntry> {
  const r = await call<{ entry: KbEntry }>("PATCH", `/api/kb/${id}`, f);
  return r.entry;
}

export async function kbDelete(id: number): Promise<void> {
  await call("DELETE", `/api/kb/${id}`);
}

export const KB_CONTENT_TYPE: Record<KbFormat, string> = { csv: "text/csv", json: "application/json" };

export async function kbImport(format: KbFormat, scope: KbScope, file: Blob): Promise<KbImported> {
  return call<KbImported>("POST", `/api/kb/import?format=${format}&scope=${scope}`, file, KB_CONTENT_TYPE[format]);
}

/** The export as a file: its name (from Content-Disposition) and content. */
export async function kbExport(format: KbFormat, scope: KbScope): Promise<{ name: string; blob: Blob }> {
  let resp: Response;
  try {
    resp = await fetch(`/api/kb/export?format=${format}&scope=${scope}`, { credentials: "same-origin" });
  } catch {
    throw new ApiError(0, { code: "network", message: "network error" });
  }
  if (!resp.ok) {
    let error: DeskError = { code: `http_${resp.status}`, message: resp.statusText || "error" };
    try {
      const data = (await resp.json()) as { error?: DeskError };
      if (data.error) error = data.error;
    } catch {
      // Not the desk's JSON error: the status says enough.
    }
    throw new ApiError(resp.status, error);
  }
  const disposition = resp.headers.get("Content-Disposition") ?? "";
  const name = /filename="?([^";]+)"?/.exec(disposition)?.[1] ?? `kb.${format}`;
  return { name, blob: await resp.blob() };
}

// ---- service hours and phone (服务时间与电话) -----------------------------------------------

export async function librarySettings(): Promise<LibrarySettings> {
  return call<LibrarySettings>("GET", "/api/library/settings");
}

export async function saveLibrarySettings(change: SettingsChange): Promise<LibrarySettings> {
  return call<LibrarySettings>("PUT", "/api/library/settings", change);
}

// ---- etiquette lists (用语提醒) -------------------------------------------------------------

export async function etiquette(): Promise<Etiquette> {
  return call<Etiquette>("GET", "/api/etiquette");
}

export async function saveEtiquette(lists: EtiquetteLists): Promise<EtiquetteLists> {
  const r = await call<{ library: EtiquetteLists }>("PUT", "/api/etiquette", lists);
  return r.library;
}

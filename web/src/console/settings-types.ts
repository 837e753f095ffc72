// The library settings pages' data, as the desk's HTTP API sends it (docs/protocol.md §2).

/** A knowledge-base entry of the FAQ bot (GET /api/kb). */
export interface KbEntry {
  id: number;
  scope: "library" | "alliance";
  language: string;
  question: string;
  answer: string;
  keywords: string;
  source: "manual" | "case";
  source_ref: string | null;
  active: boolean;
  updated_at: string;
  editable: boolean;
  /** Only in a search's results. */
  score?: number;
}

export interface KbList {
  entries: KbEntry[];
  can_edit: boolean;
  /** With a search: the entry the FAQ bot would answer the search with, or null. */
  bot_answer?: { id: number; confidence: number } | null;
}

export type KbScope = KbEntry["scope"];
export type KbFormat = "csv" | "json";

export interface KbFields {
  language: string;
  question: string;
  answer: string;
  keywords: string;
  active: boolean;
}

export interface KbImported {
  created: number;
  updated: number;
  unchanged: number;
}

/** One problem of a refused import (`kb_import_invalid`'s `details.rows`). */
export interface KbRowProblem {
  row: number;
  field: string;
  problem: string;
}

export type Span = [string, string];

/** A library's service hours as stored; `{}` when it sets none. */
export interface ServiceHours {
  timezone?: string;
  weekly?: Partial<Record<string, Span[]>>;
  closed?: string[];
}

/** GET and PUT /api/library/settings. */
export interface LibrarySettings {
  library: { code: string; name: string };
  service_hours: ServiceHours;
  phone: string | null;
  open_now: boolean | null;
  opens_at: string | null;
  /** What the library's chats take (absent from an older desk). */
  file_limits?: FileLimitsSettings;
  can_edit: boolean;
}

/** The file limits as the settings show them: the largest file in MB, the families taken,
 * every family's extensions, and the desk's own cap (DESK_MAX_UPLOAD_MB). */
export interface FileLimitsSettings {
  max_mb: number;
  types: string[];
  families: Record<string, string[]>;
  desk_max_mb: number;
}

export interface SettingsChange {
  service_hours?: Required<ServiceHours>;
  phone?: string;
  clear_hours?: boolean;
  file_limits?: { max_mb: number; types: string[] };
}

export type HostReason = "campus" | "paid" | "intranet";

export interface Term {
  term: string;
  hint: string;
}

export interface Host {
  host: string;
  reason: HostReason;
}

export interface EtiquetteLists {
  terms: Term[];
  hosts: Host[];
}

/** GET /api/etiquette. */
export interface Etiquette {
  defaults: { terms: Term[] };
  library: EtiquetteLists;
  can_edit: boolean;
}

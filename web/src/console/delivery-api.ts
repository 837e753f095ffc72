// Document delivery over HTTP (never through the socket): a library's file limits, a file
// upload with progress and cancel (XMLHttpRequest: fetch cannot report upload progress), a
// link, whether a stored file is still there, and the delivery ledger.
import { call } from "./api";
import type { CountRow, Group } from "./delivery";
import type { DeskError, FileLimits, Message } from "./types";

/** The document's details as the consultant confirmed them (the upload's `meta`). */
export interface DocMeta {
  client_msg_id: string;
  title: string;
  authors?: string;
  source?: string;
  year?: number;
  doc_type?: string;
}

export interface Delivered {
  message: Message;
  duplicate: boolean;
}

export type UploadOutcome =
  | ({ ok: true } & Delivered)
  /** No answer: the connection dropped (retry with the same client_msg_id), or cancelled. */
  | { ok: false; kind: "network" | "aborted" }
  | { ok: false; kind: "desk"; status: number; error: DeskError };

export interface Upload {
  done: Promise<UploadOutcome>;
  abort(): void;
}

/** POST /api/consultations/{id}/files: `meta` first, then the file (under `name`, which may be
 * a shortened form of the file's own name). The session cookie goes along (same origin). */
export function uploadFile(
  consultationId: number,
  meta: DocMeta,
  file: Blob,
  name: string,
  onProgress: (sent: number, total: number) => void,
): Upload {
  const xhr = new XMLHttpRequest();
  const done = new Promise<UploadOutcome>((resolve) => {
    xhr.open("POST", `/api/consultations/${consultationId}/files`);
    xhr.withCredentials = true;
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.onload = () => {
      let data: { ok?: boolean; error?: DeskError; message?: Message; duplicate?: boolean } | null = null;
      try {
        data = JSON.parse(xhr.responseText);
      } catch {
        data = null;
      }
      if (xhr.status === 200 && data?.ok === true && data.message) {
        resolve({ ok: true, message: data.message, duplicate: data.duplicate === true });
      } else {
        const error = data?.error ?? { code: `http_${xhr.status}`, message: xhr.statusText || "error" };
        resolve({ ok: false, kind: "desk", status: xhr.status, error });
      }
    };
    xhr.onerror = () => resolve({ ok: false, kind: "network" });
    xhr.ontimeout = () => resolve({ ok: false, kind: "network" });
    xhr.onabort = () => resolve({ ok: false, kind: "aborted" });
    const form = new FormData();
    form.append("meta", JSON.stringify(meta));
    form.append("file", file, name);
    xhr.send(form);
  });
  return { done, abort: () => xhr.abort() };
}

/** POST /api/consultations/{id}/links: a document delivered as an address. */
export async function deliverLink(consultationId: number, meta: DocMeta & { url: string }): Promise<Delivered> {
  return call<Delivered>("POST", `/api/consultations/${consultationId}/links`, meta);
}

const LIMITS_TTL_MS = 60_000;
const limitsCache = new Map<string, { at: number; limits: FileLimits }>();

/** What a library's chats take (GET /api/libraries/{code}), kept a minute. */
export async function libraryLimits(code: string): Promise<FileLimits | null> {
  const hit = limitsCache.get(code);
  if (hit && Date.now() - hit.at < LIMITS_TTL_MS) return hit.limits;
  const r = await call<{ library: { files?: FileLimits } }>("GET", `/api/libraries/${encodeURIComponent(code)}`);
  const files = r.library.files;
  if (!files || !Array.isArray(files.accept) || typeof files.max_bytes !== "number") return null;
  limitsCache.set(code, { at: Date.now(), limits: files });
  return files;
}

/** Forget the cached limits (after the library's settings were saved). */
export function forgetLimits(): void {
  limitsCache.clear();
}

export type FileState = "ok" | "purged" | "missing";
const fileStates = new Map<string, Promise<FileState | null>>();

/** Whether a chat's stored file can still be fetched (a HEAD request, asked once per file
 * and page): purged after the retention period, missing, or there. Null when unknown. */
export function fileState(url: string): Promise<FileState | null> {
  let p = fileStates.get(url);
  if (!p) {
    p = fetch(url, { method: "HEAD", credentials: "same-origin" })
      .then((r) => (r.ok ? "ok" : r.status === 410 ? "purged" : r.status === 404 ? "missing" : null) as FileState | null)
      .catch(() => null);
    fileStates.set(url, p);
    // An unknown answer (network) is asked again next time.
    void p.then((s) => {
      if (s === null) fileStates.delete(url);
    });
  }
  return p;
}

// ---- the ledger ---------------------------------------------------------------------------

/** A row of GET /api/ledger. */
export interface LedgerRow {
  id: number;
  created_at: string;
  direction: "to_reader" | "from_reader";
  kind: "file" | "link";
  /** The chat and its message, or (a backlog answer's document) the ticket. */
  consultation_id: number | null;
  seq: number | null;
  ticket_id?: number | null;
  consultant: string | null;
  serving_library: string | null;
  origin_library: string | null;
  title: string;
  authors: string;
  source: string;
  year: number | null;
  doc_type: string;
  file_name: string;
  size: number;
  sha256: string;
  url: string;
  file_purged_at: string | null;
}

export async function ledgerRows(query: string): Promise<{ rows: LedgerRow[]; more: boolean }> {
  return call("GET", `/api/ledger?${query}`);
}

export async function ledgerCounts(query: string): Promise<{ group: Group; counts: CountRow[]; total: number }> {
  return call("GET", `/api/ledger/counts?${query}`);
}

// Document delivery over HTTP (never through the socket): a library's file limits, a file
// upload with progress and cancel (XMLHttpRequest: fetch cannot report upload progress), a
// link, whether a stored file is still there, and the delivery ledger.
import { call } from "./api";
import { type AnswerDoc, answerParts, type CountRow, type Group } from "./delivery";
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

/** The outcome of a multipart POST: the desk's JSON answer, no answer (`network`, `aborted`),
 * or the desk's refusal. */
type FormOutcome = { ok: true; data: Record<string, unknown> } | { ok: false; kind: "network" | "aborted" } | { ok: false; kind: "desk"; status: number; error: DeskError };

/** POST `form` to `url` with XMLHttpRequest (fetch cannot report upload progress), the session
 * cookie going along (same origin). Never rejects. */
function postForm(url: string, form: FormData, total: number, onProgress: (sent: number, total: number) => void): { done: Promise<FormOutcome>; abort(): void } {
  const xhr = new XMLHttpRequest();
  const done = new Promise<FormOutcome>((resolve) => {
    xhr.open("POST", url);
    xhr.withCredentials = true;
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : total);
    xhr.onload = () => {
      let data: { ok?: boolean; error?: DeskError } | null = null;
      try {
        data = JSON.parse(xhr.responseText);
      } catch {
        data = null;
      }
      if (xhr.status === 200 && data?.ok === true) resolve({ ok: true, data: data as Record<string, unknown> });
      else resolve({ ok: false, kind: "desk", status: xhr.status, error: data?.error ?? { code: `http_${xhr.status}`, message: xhr.statusText || "error" } });
    };
    xhr.onerror = () => resolve({ ok: false, kind: "network" });
    xhr.ontimeout = () => resolve({ ok: false, kind: "network" });
    xhr.onabort = () => resolve({ ok: false, kind: "aborted" });
    xhr.send(form);
  });
  return { done, abort: () => xhr.abort() };
}

/** POST /api/consultations/{id}/files: `meta` first, then the file (under `name`, which may be
 * a shortened form of the file's own name). */
export function uploadFile(
  consultationId: number,
  meta: DocMeta,
  file: Blob,
  name: string,
  onProgress: (sent: number, total: number) => void,
): Upload {
  const form = new FormData();
  form.append("meta", JSON.stringify(meta));
  form.append("file", file, name);
  const up = postForm(`/api/consultations/${consultationId}/files`, form, file.size, onProgress);
  const done = up.done.then((r): UploadOutcome => {
    if (!r.ok) return r;
    const message = r.data.message as Message | undefined;
    if (!message) return { ok: false, kind: "desk", status: 200, error: { code: "http_200", message: "no message" } };
    return { ok: true, message, duplicate: r.data.duplicate === true };
  });
  return { done, abort: up.abort };
}

export type AnswerOutcome = { ok: true; answer: string } | { ok: false; kind: "network" | "aborted" } | { ok: false; kind: "desk"; status: number; error: DeskError };

/** POST /api/backlog/{id}/reply as multipart: the answer's `meta`, then one `file` part per file
 * document, in the order `meta.files` describes them; with upload progress and cancel. */
export function replyWithDocuments(
  ticketId: number,
  answer: string,
  answerKind: string,
  docs: readonly AnswerDoc[],
  onProgress: (sent: number, total: number) => void,
): { done: Promise<AnswerOutcome>; abort(): void } {
  const parts = answerParts(answer, answerKind, docs);
  const form = new FormData();
  form.append("meta", JSON.stringify(parts.meta));
  for (const f of parts.files) form.append("file", f.file, f.name);
  const total = parts.files.reduce((n, f) => n + f.file.size, 0);
  const up = postForm(`/api/backlog/${ticketId}/reply`, form, total, onProgress);
  return { done: up.done.then((r): AnswerOutcome => (r.ok ? { ok: true, answer: String(r.data.answer ?? "") } : r)), abort: up.abort };
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

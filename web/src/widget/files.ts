// Files in the chat (docs/delivery.md): what the library takes, checked before a byte is sent;
// what a file or link card says; the name a download is saved under; and the one HTTP helper
// for uploads and downloads (XMLHttpRequest, for its progress events and abort). The pure parts
// are unit-tested in files.test.ts.
import { h } from "./dom";
import { t, type Lang, type TextKey } from "./i18n";
import type { DeskError } from "./protocol";

/** What the library's chats take (`files` of GET /api/libraries/{code}). */
export interface FileLimits {
  max_bytes: number;
  /** Families: pdf, image, office, text, ebook, archive. */
  types: string[];
  /** Extensions, lower case with the dot: [".pdf", ".png", ...]. */
  accept: string[];
}

/** A file or link sent with a message (the Message's `attachment`). */
export interface Attachment {
  kind: "file" | "link";
  direction: string;
  title: string;
  name: string;
  size: number;
  content_type: string;
  url: string;
  authors: string;
  source: string;
  year: number | null;
  doc_type: string;
}

// A phone's photo may come without an extension: its type says what it is.
const BY_TYPE: Record<string, string> = {
  "image/jpeg": ".jpg",
  "image/png": ".png",
  "image/gif": ".gif",
  "image/webp": ".webp",
  "image/heic": ".heic",
  "image/heif": ".heif",
  "application/pdf": ".pdf",
};

/** ".pdf" for "a.PDF"; "" when the name has none. */
export function extOf(name: string): string {
  const i = name.lastIndexOf(".");
  return i > 0 ? name.slice(i).toLowerCase() : "";
}

/** The file input's `accept`: the library's extensions, and `image/*` when it takes images, so
 * a phone offers its camera roll. */
export function acceptOf(lim: FileLimits): string {
  return [...lim.accept, ...(lim.types.includes("image") ? ["image/*"] : [])].join(",");
}

/**
 * The name to upload `f` under, or why the library would refuse it (the desk checks again):
 * `file_type_not_allowed` (`details.ext`), `file_too_large` (`details.limit`, bytes) or
 * `file_empty`. A name without an accepted extension gets the one its type implies.
 */
export function checkFile(f: { name: string; size: number; type: string }, lim: FileLimits): string | DeskError {
  let name = f.name || "file";
  const ext = extOf(name);
  if (!lim.accept.includes(ext)) {
    const implied = BY_TYPE[f.type];
    if (!implied || !lim.accept.includes(implied)) return { code: "file_type_not_allowed", details: { ext } };
    name += implied;
  }
  if (f.size > lim.max_bytes) return { code: "file_too_large", details: { limit: lim.max_bytes } };
  if (!f.size) return { code: "file_empty" };
  return name;
}

/** A limit in MB as people say it: "20", "0.5". */
export function mb(bytes: number): string {
  return String(Math.round(bytes / 104857.6) / 10);
}

/** "812 B", "35 KB", "2.4 MB". */
export function sizeText(n: number): string {
  return n < 1024 ? `${n} B` : n < 1048576 ? `${Math.round(n / 1024)} KB` : `${(n / 1048576).toFixed(1)} MB`;
}

const FAMILIES = ["pdf", "image", "office", "text", "ebook", "archive"];

/** The kinds of file a library takes, in words: "PDF、图片、电子书" (families it does not know
 * are left out). */
export function kindsText(lang: Lang, types: readonly string[]): string {
  return FAMILIES.filter((x) => types.includes(x))
    .map((x) => t(lang, `kind:${x}` as TextKey))
    .join(lang === "en" ? ", " : "、");
}

/** A card's lines: the title; authors · source · year; the file's name (unless it is the
 * title, as for a reader's screenshot) and size ("" for a link). */
export function cardLines(a: Attachment): { title: string; meta: string; file: string } {
  const title = a.title || a.name || a.url;
  return {
    title,
    meta: [a.authors, a.source, a.year ? String(a.year) : ""].filter(Boolean).join(" · "),
    file: a.kind === "file" ? [a.name !== title && a.name, a.size && sizeText(a.size)].filter(Boolean).join(" · ") : "",
  };
}

/**
 * The file name a Content-Disposition offers: `filename*` (RFC 5987, UTF-8 or ISO-8859-1) when
 * it decodes, else `filename`, else null; any directory part dropped.
 */
export function dispositionName(cd: string | null): string | null {
  if (!cd) return null;
  let name: string | null = null;
  const star = /(?:^|;)\s*filename\*\s*=\s*"?([\w!#$&+.^`|~-]+)'[^']*'([^";\s]+)/i.exec(cd);
  if (star) {
    const cs = star[1].toLowerCase();
    try {
      if (cs === "utf-8") name = decodeURIComponent(star[2]);
      else if (cs === "iso-8859-1") name = star[2].replace(/%([\da-f]{2})/gi, (_, x: string) => String.fromCharCode(parseInt(x, 16)));
    } catch {
      // A broken encoding: the plain name below.
    }
  }
  if (!name) {
    const plain = /(?:^|;)\s*filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))/i.exec(cd);
    name = plain ? (plain[1] ?? plain[2]).replace(/\\(.)/g, "$1") : null;
  }
  name = name?.split(/[\\/]/).pop()?.trim() ?? "";
  return name || null;
}

/**
 * Why a file did not go (or could not be fetched: `down`), in plain words: the limit in MB and
 * the kinds the library takes from `lim` (or the desk's `details`).
 */
export function fileError(lang: Lang, err: DeskError, lim: FileLimits | null, down = false): string {
  const d = err.details ?? {};
  switch (err.code) {
    case "file_too_large":
      return t(lang, "file_too_large", { mb: mb(Number(d.limit ?? lim?.max_bytes ?? 0)) });
    case "file_type_not_allowed": {
      const kinds = lim ? kindsText(lang, lim.types) : "";
      const allowed = kinds || (Array.isArray(d.allowed) ? d.allowed.join(" ") : "");
      return t(lang, "file_type_not_allowed", { ext: d.ext ? t(lang, "paren", { x: String(d.ext) }) : "" }) + (allowed ? t(lang, "fileKinds", { kinds: allowed }) : "");
    }
    case "file_content_mismatch":
    case "file_empty":
    case "file_not_found":
    case "file_purged":
      return t(lang, err.code);
    case "consultation_ended":
      return t(lang, "fileEnded");
    case "network":
      return t(lang, down ? "downNetwork" : "upLost");
    default:
      return t(lang, down ? "downFailed" : "fileFailed", { code: err.code });
  }
}

/** What a transfer gave: the desk's JSON answer (uploads) or the file (downloads). */
export type Got = { ok: true; json?: { message?: unknown }; blob?: Blob; disposition?: string | null } | { ok: false; error: DeskError };

export interface Transfer {
  done: Promise<Got>;
  abort(): void;
}

/**
 * One request to the desk with the reader's token: a POST of `form` (an upload, progress of the
 * bytes sent) or a GET (a download, progress of the bytes received; `total` 0 when unknown).
 * Never rejects: a dropped connection is `network`, an abort `aborted`, a refusal the desk's
 * error (when the answer is not the desk's: `file_too_large` for a 413, else `unavailable`).
 */
export function transfer(url: string, token: string, form: FormData | null, progress: (loaded: number, total: number) => void): Transfer {
  const x = new XMLHttpRequest();
  const done = new Promise<Got>((resolve) => {
    x.open(form ? "POST" : "GET", url);
    x.setRequestHeader("Authorization", `Bearer ${token}`);
    x.responseType = "blob";
    (form ? x.upload : x).onprogress = (e) => progress(e.loaded, e.lengthComputable ? e.total : 0);
    x.onload = async () => {
      const blob = x.response as Blob;
      if (x.status === 200 && !form) return resolve({ ok: true, blob, disposition: x.getResponseHeader("Content-Disposition") });
      let body: { ok?: boolean; error?: DeskError; message?: unknown } | null = null;
      try {
        body = JSON.parse(await blob.text());
      } catch {
        // A proxy's page, not the desk's answer.
      }
      // A proxy's own refusal of a large body (its page, not JSON) is not worth sending again.
      const code = x.status === 413 ? "file_too_large" : x.status >= 500 || !body ? "unavailable" : "internal";
      resolve(x.status === 200 && body?.ok ? { ok: true, json: body } : { ok: false, error: body?.error ?? { code } });
    };
    x.onerror = () => resolve({ ok: false, error: { code: "network" } });
    x.onabort = () => resolve({ ok: false, error: { code: "aborted" } });
    x.send(form);
  });
  return { done, abort: () => x.abort() };
}

/**
 * Save `blob` as a download named `name`: an object URL and an <a download>, clicked with an
 * event that does not bubble (the host page's own click handlers never see it). The bytes are
 * given as `application/octet-stream`, so nothing could ever render them in the page's origin.
 */
export function save(blob: Blob, name: string, where: ParentNode): void {
  const url = URL.createObjectURL(blob.slice(0, blob.size, "application/octet-stream"));
  const a = h("a", { href: url, download: name, hidden: true });
  where.append(a);
  a.dispatchEvent(new MouseEvent("click"));
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

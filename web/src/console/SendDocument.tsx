// 发送文献: the dialog that confirms a document before it goes to the reader. A file (its name,
// which may be shortened, and size, checked against the library's limits before a byte is
// sent; a PDF's own title, authors and year filled in) or a link (checked like the composer's
// links), with the details the delivery ledger records. Uploads show their progress and can
// be cancelled; after a dropped connection a retry reuses the client_msg_id, so the desk
// stores (and counts) the document once. For a backlog answer (`answer`) the same dialog checks
// the document and hands it back: it goes out with the answer (Backlog.tsx).
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError } from "./api";
import type { Chat, DeskClient } from "./client";
import {
  type AnswerDoc,
  acceptAttr,
  checkFile,
  DOC_TYPES,
  docTypeName,
  extensionOf,
  familiesText,
  formatBytes,
  httpUrl,
  parseYear,
  refusalText,
  splitName,
  titleFromName,
} from "./delivery";
import { type DocMeta, deliverLink, type Delivered, libraryLimits, type Upload, uploadFile } from "./delivery-api";
import { Dialog } from "./Dialog";
import { describeError } from "./errors";
import { type Checker, checkMessage, type Flag } from "./etiquette";
import { type Key, lang, t } from "./i18n";
import { dt } from "./i18n-delivery";
import { readPdfMeta } from "./pdfmeta";
import { newClientMsgId } from "./storage";
import type { DeskError, FileLimits } from "./types";

export type SendTab = "file" | "link";

type Phase = "idle" | "sending" | "network" | "cancelled";

/** A refusal of the desk in words (the delivery codes with their limits, then any other). */
export function deskErrorText(e: DeskError): string {
  const details = e.details ?? {};
  if (e.code === "file_too_large" && typeof details.limit === "number") {
    return dt("deskTooLarge", { limit: formatBytes(details.limit) });
  }
  if (e.code === "file_type_not_allowed" && Array.isArray(details.allowed) && details.allowed.length) {
    return dt("deskTypeNotAllowed", { allowed: details.allowed.join(" ") });
  }
  const w = describeError(e);
  return w.code === null ? w.text : t("errorUnknownInline", { code: w.code });
}

function isPdfFile(f: File): boolean {
  return extensionOf(f.name) === ".pdf" || f.type === "application/pdf";
}

export function SendDocument(props: {
  client: DeskClient;
  /** The chat the document goes to now... */
  chat?: Chat;
  /** ...or the backlog answer it is added to (sent with the answer). */
  answer?: { ticket: number; library: string; add: (doc: AnswerDoc) => void };
  etiquette: Checker;
  tab: SendTab;
  file: File | null;
  /** Said at the top (e.g. only the first of several dropped files was taken). */
  note?: string | null;
  onClose: () => void;
}) {
  const { chat, answer } = props;
  const cid = chat?.id ?? 0;
  const library = answer?.library ?? chat?.consultation.library ?? "";
  const heading = answer ? dt("answerDocTitle", { id: answer.ticket }) : dt("sendTitle", { id: cid });
  const [tab, setTab] = useState<SendTab>(props.tab);
  const [limits, setLimits] = useState<FileLimits | null | "loading" | "error">("loading");
  const [file, setFileState] = useState<File | null>(null);
  const [stem, setStem] = useState("");
  const [ext, setExt] = useState("");
  const [title, setTitle] = useState("");
  const [titleFrom, setTitleFrom] = useState<"pdf" | "name" | "user" | null>(null);
  const [pdf, setPdf] = useState<"reading" | "found" | "none" | null>(null);
  const [authors, setAuthors] = useState("");
  const [source, setSource] = useState("");
  const [year, setYear] = useState("");
  const [docType, setDocType] = useState("");
  const [url, setUrl] = useState("");
  const [phase, setPhase] = useState<Phase>("idle");
  const [progress, setProgress] = useState<{ sent: number; total: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [problems, setProblems] = useState<{ title?: string; year?: string; url?: string }>({});
  /** One id per document: kept across retries so the desk stores it once. */
  const cmid = useRef(newClientMsgId());
  const upload = useRef<Upload | null>(null);
  const fileRef = useRef<File | null>(null);
  const titleFromRef = useRef<typeof titleFrom>(null);
  const input = useRef<HTMLInputElement>(null);

  const setTitleSource = (s: typeof titleFrom) => {
    titleFromRef.current = s;
    setTitleFrom(s);
  };

  const chooseFile = (f: File | null) => {
    if (!f) return;
    fileRef.current = f;
    cmid.current = newClientMsgId();
    setFileState(f);
    const [s, e] = splitName(f.name);
    setStem(s);
    setExt(e);
    setError(null);
    setPhase("idle");
    setProgress(null);
    if (titleFromRef.current !== "user") {
      setTitle(titleFromName(f.name));
      setTitleSource("name");
    }
    if (!isPdfFile(f)) {
      setPdf(null);
      return;
    }
    setPdf("reading");
    readPdfMeta(f)
      .catch(() => ({}) as Awaited<ReturnType<typeof readPdfMeta>>)
      .then((meta) => {
        if (fileRef.current !== f) return; // another file was chosen meanwhile
        if (meta.title && titleFromRef.current !== "user") {
          setTitle(meta.title);
          setTitleSource("pdf");
        }
        if (meta.authors) setAuthors((a) => a || meta.authors || "");
        if (meta.year) setYear((y) => y || String(meta.year));
        setPdf(meta.title || meta.authors ? "found" : "none");
      });
  };

  useEffect(() => {
    chooseFile(props.file);
    let live = true;
    libraryLimits(library)
      .then((l) => live && setLimits(l))
      .catch(() => live && setLimits("error"));
    return () => {
      live = false;
      upload.current?.abort();
    };
  }, []);

  const known = limits !== "loading" && limits !== "error" && limits !== null ? limits : null;
  const name = `${stem.trim() || titleFromName(file?.name ?? "") || "file"}${ext}`;
  const refusal = file && known ? checkFile({ name, size: file.size }, known) : null;
  const busy = phase === "sending";
  const linkFlags: Flag[] = tab === "link" && url.trim() ? checkMessage(url.trim(), props.etiquette).filter((f) => f.kind === "link") : [];

  const close = () => {
    upload.current?.abort();
    props.onClose();
  };

  const meta = (): DocMeta | null => {
    const next: typeof problems = {};
    const y = parseYear(year);
    if (!title.trim()) next.title = dt("titleRequired");
    if (y === "invalid") next.year = dt("yearInvalid");
    if (tab === "link" && !httpUrl(url)) next.url = dt("urlInvalid");
    setProblems(next);
    if (Object.keys(next).length) {
      const first = next.url ? "#doc-url" : next.title ? "#doc-title" : "#doc-year";
      window.setTimeout(() => document.querySelector<HTMLElement>(first)?.focus(), 0);
      return null;
    }
    const m: DocMeta = { client_msg_id: cmid.current, title: title.trim() };
    if (authors.trim()) m.authors = authors.trim();
    if (source.trim()) m.source = source.trim();
    if (typeof y === "number") m.year = y;
    if (docType) m.doc_type = docType;
    return m;
  };

  const delivered = (r: Delivered) => {
    props.client.received(r.message);
    props.onClose();
  };

  const send = async (e?: Event) => {
    e?.preventDefault();
    if (busy) return;
    const m = meta();
    if (!m) return;
    setError(null);
    if (answer) {
      const { client_msg_id: _, ...details } = m;
      if (tab === "link") answer.add({ kind: "link", details, url: url.trim() });
      else if (!file || refusal) {
        input.current?.focus();
        return;
      } else answer.add({ kind: "file", details, file, name });
      props.onClose();
      return;
    }
    if (tab === "link") {
      setPhase("sending");
      try {
        delivered(await deliverLink(cid, { ...m, url: url.trim() }));
      } catch (err) {
        if (err instanceof ApiError && err.status === 0) setPhase("network");
        else {
          setPhase("idle");
          setError(dt("notSent", { reason: err instanceof ApiError ? deskErrorText(err.error) : t("errorUnknown") }));
        }
      }
      return;
    }
    if (!file || refusal) {
      input.current?.focus();
      return;
    }
    setPhase("sending");
    setProgress({ sent: 0, total: file.size });
    const up = uploadFile(cid, m, file, name, (sent, total) => setProgress({ sent, total }));
    upload.current = up;
    const out = await up.done;
    upload.current = null;
    if (out.ok) {
      delivered(out);
      return;
    }
    setProgress(null);
    if (out.kind === "desk") {
      setPhase("idle");
      setError(dt("notSent", { reason: deskErrorText(out.error) }));
    } else setPhase(out.kind === "network" ? "network" : "cancelled");
  };

  const switchTab = (next: SendTab) => {
    if (busy || next === tab) return;
    setTab(next);
    setError(null);
    setPhase("idle");
    setProblems({});
    cmid.current = newClientMsgId();
  };

  const percent = progress && progress.total > 0 ? Math.min(100, Math.round((progress.sent / progress.total) * 100)) : 0;

  return (
    <Dialog title={heading} onClose={close}>
      <form class="send-doc" onSubmit={(e) => void send(e)} noValidate>
        {props.note && (
          <p class="notice small" role="note">
            {props.note}
          </p>
        )}
        <div class="send-tabs" role="tablist" aria-label={heading}>
          {(["file", "link"] as SendTab[]).map((x) => (
            <button
              key={x}
              type="button"
              role="tab"
              id={`send-tab-${x}`}
              aria-selected={tab === x}
              aria-controls="send-panel"
              class={tab === x ? "selected" : ""}
              disabled={busy && tab !== x}
              onClick={() => switchTab(x)}
            >
              {dt(x === "file" ? "tabFile" : "tabLink")}
            </button>
          ))}
        </div>
        <div id="send-panel" role="tabpanel" aria-labelledby={`send-tab-${tab}`} class="send-panel">
          {tab === "file" ? (
            <div
              class="send-file"
              onDragOver={(e) => {
                if (e.dataTransfer?.types.includes("Files")) e.preventDefault();
              }}
              onDrop={(e) => {
                const f = e.dataTransfer?.files?.[0];
                if (!f || busy) return;
                e.preventDefault();
                chooseFile(f);
              }}
            >
              <p class="send-limits small muted" data-testid="send-limits">
                {limits === "loading"
                  ? dt("limitsLoading")
                  : known
                    ? known.accept.length
                      ? dt("limitsLine", { types: familiesText(known.types, lang()), max: formatBytes(known.max_bytes) })
                      : dt("limitsNone")
                    : dt("limitsUnknown")}
              </p>
              {file ? (
                <div class="send-chosen">
                  <label class="block">
                    {dt("fileName")}
                    <span class="send-name">
                      <input
                        id="doc-name"
                        value={stem}
                        maxLength={180}
                        disabled={busy}
                        aria-describedby="doc-name-hint"
                        onInput={(e) => setStem(e.currentTarget.value)}
                      />
                      <span class="send-ext">{ext}</span>
                    </span>
                  </label>
                  <p id="doc-name-hint" class="muted small">
                    {dt("fileSize", { size: formatBytes(file.size) })} · {dt("fileNameHint", { ext: ext || "—" })}
                  </p>
                </div>
              ) : (
                <p class="muted">{dt(answer ? "noFileYetAnswer" : "noFileYet")}</p>
              )}
              <label class={file ? "send-pick small" : "send-pick"}>
                {file ? dt("changeFile") : dt("chooseFile")}
                <input
                  ref={input}
                  type="file"
                  accept={acceptAttr(known)}
                  disabled={busy}
                  aria-describedby={refusal ? "doc-refusal" : undefined}
                  onChange={(e) => {
                    chooseFile(e.currentTarget.files?.[0] ?? null);
                    e.currentTarget.value = "";
                  }}
                />
              </label>
              {refusal && (
                <p id="doc-refusal" class="error" role="alert" data-testid="send-refusal">
                  {refusalText(refusal)}
                </p>
              )}
              {pdf && (
                <p class="small send-pdf" role="status">
                  {pdf === "reading" ? dt("pdfReading") : pdf === "found" && titleFrom === "pdf" ? dt("pdfFound") : pdf === "none" && titleFrom === "name" ? dt("pdfNone") : ""}
                </p>
              )}
              {!pdf && titleFrom === "name" && <p class="small muted send-pdf">{dt("nameAsTitle")}</p>}
            </div>
          ) : (
            <div class="send-link">
              <label class="block">
                {dt("url")}
                <input
                  id="doc-url"
                  type="url"
                  inputMode="url"
                  value={url}
                  maxLength={2000}
                  disabled={busy}
                  placeholder="https://"
                  aria-invalid={problems.url ? true : undefined}
                  aria-describedby={`doc-url-hint${problems.url ? " doc-url-error" : ""}${linkFlags.length ? " doc-url-flags" : ""}`}
                  onInput={(e) => {
                    setUrl(e.currentTarget.value);
                    setProblems({ ...problems, url: undefined });
                    cmid.current = newClientMsgId();
                  }}
                />
              </label>
              <span id="doc-url-hint" class="muted small">
                {dt("urlHint")}
              </span>
              {problems.url && (
                <span id="doc-url-error" class="error small" role="alert">
                  {problems.url}
                </span>
              )}
              <div id="doc-url-flags" aria-live="polite">
                {linkFlags.length > 0 && (
                  <div class="etiquette" data-testid="link-warning">
                    <p class="etiquette-title">{dt("linkWarnTitle")}</p>
                    <ul>
                      {linkFlags.map(
                        (f) =>
                          f.kind === "link" && (
                            <li key={f.key} class="flag flag-link">
                              <code class="url">{f.url}</code>{" "}
                              <span>{t("etqLink", { reason: t(`etqReason_${f.reason}` as Key, { matched: f.matched ?? f.host }) })}</span>
                            </li>
                          ),
                      )}
                    </ul>
                    <p class="small">{t("etqLinkRule")}</p>
                  </div>
                )}
              </div>
            </div>
          )}

          <fieldset class="send-details" disabled={busy}>
            <legend>{dt("details")}</legend>
            <label class="block">
              <span>
                {dt("title")} <span class="muted small">{dt("required")}</span>
              </span>
              <input
                id="doc-title"
                value={title}
                maxLength={500}
                required
                aria-required="true"
                aria-invalid={problems.title ? true : undefined}
                aria-describedby={problems.title ? "doc-title-error" : undefined}
                onInput={(e) => {
                  setTitle(e.currentTarget.value);
                  setTitleSource("user");
                  setProblems({ ...problems, title: undefined });
                }}
              />
            </label>
            {problems.title && (
              <span id="doc-title-error" class="error small" role="alert">
                {problems.title}
              </span>
            )}
            <label class="block">
              <span>
                {dt("authors")} <span class="muted small">{dt("authorsHint")}</span>
              </span>
              <input id="doc-authors" value={authors} maxLength={500} onInput={(e) => setAuthors(e.currentTarget.value)} />
            </label>
            <label class="block">
              <span>
                {dt("source")} <span class="muted small">{dt("sourceHint")}</span>
              </span>
              <input id="doc-source" value={source} maxLength={500} onInput={(e) => setSource(e.currentTarget.value)} />
            </label>
            <div class="send-row">
              <label class="block">
                {dt("year")}
                <input
                  id="doc-year"
                  value={year}
                  inputMode="numeric"
                  maxLength={4}
                  size={6}
                  placeholder="2019"
                  aria-invalid={problems.year ? true : undefined}
                  aria-describedby={problems.year ? "doc-year-error" : undefined}
                  onInput={(e) => {
                    setYear(e.currentTarget.value);
                    setProblems({ ...problems, year: undefined });
                  }}
                />
              </label>
              <label class="block">
                {dt("docType")}
                <select id="doc-type" value={docType} onChange={(e) => setDocType(e.currentTarget.value)}>
                  <option value="">{dt("docType_none")}</option>
                  {DOC_TYPES.map((x) => (
                    <option key={x} value={x}>
                      {docTypeName(x)}
                    </option>
                  ))}
                </select>
              </label>
            </div>
            {problems.year && (
              <span id="doc-year-error" class="error small" role="alert">
                {problems.year}
              </span>
            )}
          </fieldset>
        </div>

        {phase === "sending" && tab === "file" && progress && (
          <div class="send-progress" role="status">
            <progress max={100} value={percent} aria-label={dt("uploadProgress")} />
            <span class="small">
              {dt("uploading", { percent, done: formatBytes(progress.sent), total: formatBytes(progress.total) })}
            </span>
            <button type="button" onClick={() => upload.current?.abort()}>
              {dt("cancelUpload")}
            </button>
          </div>
        )}
        {phase === "cancelled" && (
          <p class="muted" role="status">
            {dt("uploadCancelled")}
          </p>
        )}
        {phase === "network" && (
          <p class="error send-network" role="alert">
            {dt("networkFailed")} <span class="muted small">{dt("retryHint")}</span>
          </p>
        )}
        {error && (
          <p class="error" role="alert" data-testid="send-error">
            {error}
          </p>
        )}
        <div class="dialog-actions wrap">
          <button type="submit" class="primary" aria-disabled={busy || (tab === "file" && (!file || !!refusal)) || undefined}>
            {answer
              ? dt(linkFlags.length ? "addAnyway" : "addToAnswer")
              : busy
                ? dt("sending")
                : phase === "network"
                  ? dt("retry")
                  : linkFlags.length
                    ? dt("sendAnyway")
                    : dt("send")}
          </button>
          <button type="button" onClick={close}>
            {t("cancel")}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

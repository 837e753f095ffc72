// One whole consultation as the desk keeps it: every message (bot and system messages, staff
// notes marked as such), files, assignments and transfers; personal data masked as labels
// until someone allowed reveals it with a reason (audited). Tags, the reader's erasure
// (supervisors) and marking it as a typical case.
import { useEffect, useRef, useState } from "preact/hooks";
import { AttachmentCard } from "./AttachmentCard";
import type { DeskClient } from "./client";
import { Dialog } from "./Dialog";
import { apiErrorText } from "./errors";
import { dateTime, lang } from "./i18n";
import { categoryName, type TKey, thas, tt } from "./i18n-transcripts";
import { languageName } from "./languages";
import { MaskedText } from "./TranscriptText";
import { hasLabels, isSupervisor, parseTags, type TranscriptDetail, tagsText } from "./transcripts";
import { ApiError } from "./api";
import { createCase, eraseReader, listCases, openTranscript, putTags } from "./transcripts-api";
import type { Me } from "./types";

/** The desk's minimum for a reason (transcripts/api.py, EraseBody). */
const MIN_REASON = 2;

export function TranscriptView(props: {
  me: Me;
  client: DeskClient;
  id: number;
  onBack: () => void;
  backLabel: string;
  onOpenCase: (caseId: number) => void;
}) {
  const c = props.client;
  const [masked, setMasked] = useState<TranscriptDetail | null>(null);
  const [revealed, setRevealed] = useState<{ doc: TranscriptDetail; reason: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [dialog, setDialog] = useState<"reveal" | "erase" | "case" | null>(null);
  const [reload, setReload] = useState(0);
  const heading = useRef<HTMLHeadingElement>(null);

  // Keyboard and screen-reader users land on the chat they opened.
  useEffect(() => heading.current?.focus(), [props.id]);

  useEffect(() => {
    let live = true;
    setError(null);
    openTranscript(props.id)
      .then((d) => live && setMasked(d))
      .catch((e) => live && setError(tt("loadFailed", { message: apiErrorText(e) })));
    return () => {
      live = false;
    };
  }, [props.id, reload]);

  const doc = revealed?.doc ?? masked;
  const ui = lang();
  const library = (code: string | null) => (code ? c.libraryName(code, ui) : "—");

  return (
    <article class="tr-view" aria-labelledby="tr-view-title" data-consultation={props.id}>
      <p>
        <button type="button" class="link" onClick={props.onBack}>
          {props.backLabel}
        </button>
      </p>
      <h3 id="tr-view-title" tabIndex={-1} ref={heading}>{tt("chatN", { id: props.id })}</h3>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {!doc && !error && <p class="muted">{tt("loading")}</p>}
      {doc && (
        <>
          <p class="tr-meta muted small">
            {library(doc.library)}
            {doc.serving_library && doc.serving_library !== doc.library && ` → ${library(doc.serving_library)}`} ·{" "}
            {doc.consultant ? doc.consultant.name || doc.consultant.username : tt("noConsultant")} ·{" "}
            {languageName(doc.language, ui)} · {tt(`state_${doc.state}` as TKey)} ·{" "}
            {tt("startedAt", { t: dateTime(doc.created_at) })}
            {doc.ended_at && ` · ${tt("endedAt", { t: dateTime(doc.ended_at) })}`}
            {doc.ended_by && ` · ${tt("endedBy", { who: thas(`endedBy_${doc.ended_by}`) ? tt(`endedBy_${doc.ended_by}` as TKey) : doc.ended_by })}`}
            {doc.rating !== null && ` · ${tt(doc.rating === 1 ? "rating_1" : "rating_0")}`}
          </p>

          <div class="tr-privacy" role="status">
            {doc.anonymised_at ? (
              <p>{tt("anonymised", { t: dateTime(doc.anonymised_at) })}</p>
            ) : revealed ? (
              <p class="tr-revealed">
                {tt("revealedNotice", { reason: revealed.reason })}{" "}
                <button type="button" onClick={() => setRevealed(null)}>
                  {tt("hideAgain")}
                </button>
              </p>
            ) : (
              (doc.has_personal_data || doc.messages.some((m) => hasLabels(m.body))) && (
                <p>
                  {tt("maskedNotice")}{" "}
                  {doc.may_reveal ? (
                    <button type="button" onClick={() => setDialog("reveal")}>
                      {tt("reveal")}
                    </button>
                  ) : (
                    <span class="muted small">{tt("mayNotReveal")}</span>
                  )}
                </p>
              )
            )}
          </div>
          {notice && (
            <p class="tr-notice" role="status">
              {notice}
            </p>
          )}

          <div class="tr-actions" role="group" aria-label={tt("actions")}>
            {doc.case ? (
              <p>
                {tt("caseLine", { id: doc.case.id, state: tt(`caseState_${doc.case.state}` as TKey) })}{" "}
                <button type="button" onClick={() => doc.case && props.onOpenCase(doc.case.id)}>
                  {tt("openCase")}
                </button>
              </p>
            ) : (
              <button type="button" onClick={() => setDialog("case")}>
                {tt("markCase")}
              </button>
            )}
            {isSupervisor(props.me.role) && !doc.anonymised_at && (
              <button type="button" class="danger" onClick={() => setDialog("erase")}>
                {tt("erase")}
              </button>
            )}
          </div>

          <TagsEditor
            key={`${props.id}-${masked ? "loaded" : "loading"}`}
            id={props.id}
            tags={masked?.tags ?? []}
            onSaved={(tags) => masked && setMasked({ ...masked, tags })}
          />

          {doc.ticket && <p class="muted">{tt("ticketLine", { id: doc.ticket.id })}</p>}

          <h4>{tt("transcript")}</h4>
          <div class="transcript tr-log" role="log" aria-label={tt("transcript")}>
            {doc.messages.map((m) => {
              const note = m.visibility === "staff";
              const who =
                m.author_kind === "consultant" ? m.author || tt("author_consultant") : tt(`author_${m.author_kind}` as TKey);
              return (
                <div
                  key={m.seq}
                  class={`msg from-${m.author_kind}${note ? " note" : ""}`}
                  data-seq={m.seq}
                >
                  <div class="msg-head">
                    <span class="author">{who}</span>
                    {note && <span class="note-label">{tt("privateNote")}</span>}
                    <time dateTime={m.created_at}>{dateTime(m.created_at)}</time>
                  </div>
                  {m.body && (
                    <div class="body">
                      <MaskedText text={m.body} />
                    </div>
                  )}
                  {m.attachment && <AttachmentCard consultationId={props.id} seq={m.seq} a={m.attachment} />}
                </div>
              );
            })}
          </div>

          {doc.history.length > 0 && (
            <>
              <h4>{tt("history")}</h4>
              <ol class="tr-history">
                {doc.history.map((h, i) => (
                  <li key={i}>
                    <time dateTime={h.at}>{dateTime(h.at)}</time>{" "}
                    {thas(`history_${h.action}`) ? tt(`history_${h.action}` as TKey) : h.action}
                    {h.consultant && ` ${h.consultant}`}
                    {h.library && ` · ${library(h.library)}`}
                    {h.note && (
                      <span class="muted">
                        {" · "}
                        {thas(`endReason_${h.note}`) ? tt(`endReason_${h.note}` as TKey) : <MaskedText text={h.note} />}
                      </span>
                    )}
                  </li>
                ))}
              </ol>
            </>
          )}

          {doc.files.length > 0 && (
            <>
              <h4>{tt("files")}</h4>
              <ul class="tr-files">
                {doc.files.map((f) => (
                  <li key={f.seq}>
                    {tt(f.direction === "from_reader" ? "dir_from_reader" : "dir_to_reader")} · {f.title || f.name || f.url}
                    {f.kind === "file" && f.name && f.title && ` · ${f.name}`}
                    {f.purged && <span class="muted small"> · {tt("fileGone")}</span>}
                  </li>
                ))}
              </ul>
            </>
          )}
        </>
      )}

      {dialog === "reveal" && (
        <ReasonDialog
          title={tt("revealTitle", { id: props.id })}
          intro={tt("revealIntro")}
          label={tt("revealReason")}
          hint={tt("revealReasonHint")}
          confirm={tt("revealConfirm")}
          busy={tt("revealing")}
          onClose={() => setDialog(null)}
          onConfirm={async (reason) => {
            const d = await openTranscript(props.id, { reason });
            setRevealed({ doc: d, reason });
            setDialog(null);
          }}
        />
      )}
      {dialog === "erase" && (
        <ReasonDialog
          title={tt("eraseTitle", { id: props.id })}
          intro={tt("eraseIntro")}
          label={tt("eraseReason")}
          hint={tt("eraseReasonHint")}
          confirm={tt("eraseConfirm")}
          busy={tt("erasing")}
          danger
          onClose={() => setDialog(null)}
          onConfirm={async (reason) => {
            const n = await eraseReader(props.id, reason);
            setDialog(null);
            setRevealed(null);
            setNotice(tt("erased", { n }));
            setReload((x) => x + 1);
          }}
        />
      )}
      {dialog === "case" && doc && (
        <NewCaseDialog
          id={props.id}
          tags={doc.tags}
          onClose={() => setDialog(null)}
          onCreated={(caseId) => {
            setDialog(null);
            setNotice(tt("caseCreated", { id: caseId }));
            setReload((x) => x + 1);
          }}
        />
      )}
    </article>
  );
}

function TagsEditor(props: { id: number; tags: string[]; onSaved: (tags: string[]) => void }) {
  const ui = lang();
  const [text, setText] = useState(tagsText(props.tags, ui));
  const [state, setState] = useState<{ kind: "saving" | "saved" | "error"; text?: string } | null>(null);
  const save = async () => {
    setState({ kind: "saving" });
    try {
      const tags = await putTags(props.id, parseTags(text));
      setText(tagsText(tags, ui));
      setState({ kind: "saved" });
      props.onSaved(tags);
    } catch (e) {
      setState({ kind: "error", text: apiErrorText(e) });
    }
  };
  return (
    <form
      class="tr-tag-editor"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <label class="block">
        {tt("tagsEdit")}
        <input type="text" value={text} placeholder={tt("noTags")} onInput={(e) => setText(e.currentTarget.value)} />
      </label>
      <button type="submit" disabled={state?.kind === "saving"}>
        {tt("tagsSave")}
      </button>
      <span role="status" class={state?.kind === "error" ? "error" : "muted small"}>
        {state?.kind === "saved" ? tt("tagsSaved") : state?.kind === "error" ? state.text : ""}
      </span>
    </form>
  );
}

/** A dialog asking for a required reason before something audited (a reveal, an erasure). */
function ReasonDialog(props: {
  title: string;
  intro: string;
  label: string;
  hint: string;
  confirm: string;
  busy: string;
  danger?: boolean;
  onClose: () => void;
  onConfirm: (reason: string) => Promise<void>;
}) {
  const [reason, setReason] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const [working, setWorking] = useState(false);
  const submit = async () => {
    const r = reason.trim();
    if (r.length < MIN_REASON) {
      setProblem(tt("reasonShort"));
      return;
    }
    setWorking(true);
    setProblem(null);
    try {
      await props.onConfirm(r);
    } catch (e) {
      setProblem(apiErrorText(e));
      setWorking(false);
    }
  };
  return (
    <Dialog title={props.title} onClose={props.onClose}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <p>{props.intro}</p>
        <label class="block">
          {props.label}
          <textarea
            rows={3}
            maxLength={500}
            aria-required="true"
            aria-invalid={problem !== null}
            aria-describedby="reason-problem"
            placeholder={props.hint}
            value={reason}
            onInput={(e) => setReason(e.currentTarget.value)}
          />
        </label>
        <p id="reason-problem" class="error" role="alert">
          {problem ?? ""}
        </p>
        <div class="dialog-actions">
          <button type="submit" class={props.danger ? "danger" : "primary"} disabled={working}>
            {working ? props.busy : props.confirm}
          </button>
          <button type="button" onClick={props.onClose}>
            {tt("cancel")}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/** The desk's categories (cases.py CATEGORIES), until GET /api/cases names them. */
const FALLBACK_CATEGORIES = ["文献检索", "文献传递", "数据库使用", "平台使用", "馆藏与借阅", "事实咨询", "学位论文", "其他"];

function NewCaseDialog(props: { id: number; tags: string[]; onClose: () => void; onCreated: (caseId: number) => void }) {
  const ui = lang();
  const [categories, setCategories] = useState<string[]>(FALLBACK_CATEGORIES);
  const [category, setCategory] = useState(FALLBACK_CATEGORIES[0]);
  const [tags, setTags] = useState(tagsText(props.tags, ui));
  const [summary, setSummary] = useState("");
  const [title, setTitle] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const [working, setWorking] = useState(false);

  useEffect(() => {
    let live = true;
    listCases({ q: "", state: "published", category: "", library: "", tag: "" })
      .then((r) => live && r.categories.length > 0 && setCategories(r.categories))
      .catch(() => {
        // The fallback list is the desk's own; nothing to tell.
      });
    return () => {
      live = false;
    };
  }, []);

  const submit = async () => {
    if (!category.trim()) {
      setProblem(tt("categoryRequired"));
      return;
    }
    setWorking(true);
    setProblem(null);
    try {
      const made = await createCase({
        consultation_id: props.id,
        category: category.trim(),
        tags: parseTags(tags),
        summary: summary.trim(),
        ...(title.trim() ? { title: title.trim() } : {}),
      });
      props.onCreated(made.id);
    } catch (e) {
      const empty = e instanceof ApiError && e.error.code === "empty_question";
      setProblem(empty ? tt("caseEmptyQuestion") : apiErrorText(e));
      setWorking(false);
    }
  };

  return (
    <Dialog title={tt("caseNewTitle", { id: props.id })} onClose={props.onClose}>
      <form
        class="tr-case-form"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <p>{tt("caseNewIntro")}</p>
        <label class="block">
          {tt("category")}
          <select value={category} onChange={(e) => setCategory(e.currentTarget.value)}>
            {categories.map((x) => (
              <option key={x} value={x}>
                {categoryName(x)}
              </option>
            ))}
          </select>
        </label>
        <label class="block">
          {tt("tagsEdit")}
          <input type="text" value={tags} onInput={(e) => setTags(e.currentTarget.value)} />
        </label>
        <label class="block">
          {tt("summary")}
          <textarea rows={3} maxLength={2000} placeholder={tt("summaryHint")} value={summary} onInput={(e) => setSummary(e.currentTarget.value)} />
        </label>
        <label class="block">
          {tt("caseTitle")}
          <input type="text" maxLength={200} value={title} onInput={(e) => setTitle(e.currentTarget.value)} />
        </label>
        <p class="error" role="alert">
          {problem ?? ""}
        </p>
        <div class="dialog-actions">
          <button type="submit" class="primary" disabled={working}>
            {working ? tt("creating") : tt("createCase")}
          </button>
          <button type="button" onClick={props.onClose}>
            {tt("cancel")}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

// 表单咨询 · the backlog: questions left for the non-real-time service (handed off from a chat
// or left in the widget's form). Lists: the pool (open), mine (claimed by me), answered, and
// mine sent back by a quality inspector for revision (state revision); a
// detail pane with the question, the chat it came from, its history, and the actions under
// the 72-hour rules of the reply norms (desk/backlog/rules.py). An answer may provide
// documents: files and links confirmed in the chat's send dialog (SendDocument.tsx), sent with
// the answer as one multipart request with its progress; the documents delivered are listed.
import { useEffect, useRef, useState } from "preact/hooks";
import * as api from "./api";
import type { DeskClient } from "./client";
import { loadEtiquette } from "./ComposerChecks";
import { type AnswerDoc, docLines, formatBytes, httpUrl, MAX_ANSWER_DOCS } from "./delivery";
import { type AnswerOutcome, replyWithDocuments } from "./delivery-api";
import { apiErrorText } from "./errors";
import { type Checker, makeChecker } from "./etiquette";
import { dateTime, duration, has, type Key, lang, t } from "./i18n";
import { dt } from "./i18n-delivery";
import { st } from "./i18n-stats";
import { languageName } from "./languages";
import { Linkified } from "./linkify";
import { deskErrorText, SendDocument, type SendTab } from "./SendDocument";
import type { AnswerKind, TicketDetail, TicketDocument, TicketSummary } from "./types";

/** "revision": my replies a quality inspector failed, back with me to revise (统计 → 我的质检). */
type List = api.BacklogList | "revision";
const LISTS: List[] = ["open", "mine", "revision", "answered"];

function listTickets(list: List): Promise<TicketSummary[]> {
  if (list !== "revision") return api.backlog(list);
  return api.call<{ tickets: TicketSummary[] }>("GET", "/api/backlog?state=revision&mine=1").then((r) => r.tickets);
}

/** A list's label and empty text: the revision list's are with the statistics view's words. */
function listText(list: List, what: "name" | "empty"): string {
  if (list === "revision") return st(what === "name" ? "backlog_revision" : "backlogEmpty_revision");
  return t(`${what === "name" ? "backlog" : "backlogEmpty"}_${list}` as Key);
}
/** Answer kinds that need 72 hours without an answer, and carry the norms' wording. */
const LATE_KINDS: ReadonlySet<AnswerKind> = new Set(["same_topic", "not_found"]);

interface RevisionGrade {
  grade: string;
  current: boolean;
  comment: string;
}

export function pastWindow(tk: TicketSummary, now = Date.now()): boolean {
  return tk.overdue || Date.parse(tk.window_ends_at) <= now;
}

export function Backlog(props: { client: DeskClient; onNotice: (text: string) => void }) {
  const c = props.client;
  const [list, setList] = useState<List>("open");
  const [tickets, setTickets] = useState<TicketSummary[] | null>(null);
  const [listError, setListError] = useState<string | null>(null);
  const [selected, setSelected] = useState<number | null>(null);
  const [reload, setReload] = useState(0);
  // The etiquette lists check a document's link as in a chat (the built-in checks until loaded).
  const [etiquette, setEtiquette] = useState<Checker>(() => makeChecker());

  useEffect(() => {
    let live = true;
    void loadEtiquette().then((ck) => live && ck && setEtiquette(ck));
    return () => {
      live = false;
    };
  }, []);

  useEffect(() => {
    let live = true;
    listTickets(list)
      .then((rows) => {
        if (!live) return;
        setTickets(rows);
        setListError(null);
      })
      .catch((e) => live && setListError(apiErrorText(e)));
    return () => {
      live = false;
    };
  }, [list, c.backlogVersion, reload]);

  const now = Date.now();
  return (
    <div class="backlog">
      <section class="backlog-list" aria-labelledby="backlog-title">
        <h2 id="backlog-title" class="sr-only">
          {t("backlog")}
        </h2>
        <div class="backlog-lists" role="group" aria-label={t("backlog")}>
          {LISTS.map((l) => (
            <button
              type="button"
              key={l}
              aria-pressed={list === l}
              class={list === l ? "selected" : ""}
              onClick={() => {
                setList(l);
                setTickets(null);
              }}
            >
              {listText(l, "name")}
              {list === l && tickets && tickets.length > 0 && <span class="badge">{tickets.length}</span>}
            </button>
          ))}
        </div>
        {listError && (
          <p class="error" role="alert">
            {listError}
          </p>
        )}
        {tickets === null ? (
          <p class="muted">{t("loading")}</p>
        ) : tickets.length === 0 ? (
          <p class="muted">{listText(list, "empty")}</p>
        ) : (
          <ul class="tickets">
            {tickets.map((tk) => (
              <li key={tk.id}>
                <button
                  type="button"
                  class={`ticket-row${selected === tk.id ? " selected" : ""}`}
                  aria-pressed={selected === tk.id}
                  data-ticket={tk.id}
                  onClick={() => setSelected(tk.id)}
                >
                  <span class="meta">
                    <strong>#{tk.id}</strong>
                    <span>{c.libraryName(tk.library, lang())}</span>
                    <span class="lang">{languageName(tk.language, lang())}</span>
                    <span class={`kind kind-${tk.kind}`}>{t(`kind_${tk.kind}` as Key)}</span>
                  </span>
                  {tk.handed_off_by === "system" && <span class="by-desk small">{t("handedOffBySystem")}</span>}
                  <span class="preview">{tk.question}</span>
                  <span class="meta small">
                    <span class="muted">{t("submittedAt", { t: dateTime(tk.submitted_at) })}</span>
                    {tk.state !== "answered" && (tk.state as string) !== "revision" && <TimeLeft tk={tk} now={now} />}
                  </span>
                </button>
              </li>
            ))}
          </ul>
        )}
      </section>
      <section class="backlog-detail" aria-label={t("ticketDetail")}>
        {selected === null ? (
          <p class="empty">{t("backlogPick")}</p>
        ) : (
          <TicketPane
            key={selected}
            client={c}
            id={selected}
            etiquette={etiquette}
            onChanged={() => setReload((n) => n + 1)}
            onNotice={props.onNotice}
          />
        )}
      </section>
    </div>
  );
}

function TimeLeft(props: { tk: TicketSummary; now: number }) {
  const { tk, now } = props;
  if (pastWindow(tk, now)) {
    return <span class="overdue-flag">{t("overdue72")}</span>;
  }
  const left = (Date.parse(tk.window_ends_at) - now) / 1000;
  return <span class="time-left">{t("timeLeft", { t: duration(left) })}</span>;
}

function authorLabel(kind: string): string {
  const key = `author_${kind}`;
  return has(key) ? t(key) : kind;
}

/** The documents delivered with an answer: title, byline, type, the file (with its staff
 * download) or the link; all as text. */
function DeliveredDocs(props: { docs: TicketDocument[] }) {
  return (
    <>
      <h3>{dt("deliveredDocs")}</h3>
      <ul class="answer-doc-list">
        {props.docs.map((d) => {
          const l = docLines(d);
          const href = d.kind === "link" ? httpUrl(d.url) : null;
          return (
            <li key={d.id} class="attachment" data-testid="ticket-doc">
              <p class="att-title">
                {l.title} {l.type && <span class="att-type">{l.type}</span>}
              </p>
              {l.byline && <p class="att-byline">{l.byline}</p>}
              {d.kind === "file" ? (
                <p class="att-file">{l.file}</p>
              ) : (
                <p class="att-link">
                  {href ? (
                    <a href={href} target="_blank" rel="noopener noreferrer">
                      {d.url}
                    </a>
                  ) : (
                    d.url
                  )}
                </p>
              )}
              {d.purged && (
                <p class="att-gone-note" role="note">
                  {dt("purged")}
                </p>
              )}
              {d.download && (
                <p class="att-actions">
                  <a class="button" href={d.download} download={d.name} aria-label={dt("downloadName", { name: d.name })}>
                    {dt("download")}
                  </a>
                </p>
              )}
            </li>
          );
        })}
      </ul>
    </>
  );
}

let docSeq = 0;

function TicketPane(props: {
  client: DeskClient;
  id: number;
  etiquette: Checker;
  onChanged: () => void;
  onNotice: (text: string) => void;
}) {
  const c = props.client;
  const [tk, setTk] = useState<TicketDetail | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [answer, setAnswer] = useState("");
  const [kind, setKind] = useState<AnswerKind | null>(null);
  const [returning, setReturning] = useState(false);
  const [returnNote, setReturnNote] = useState("");
  const [refresh, setRefresh] = useState(0);
  const answerBox = useRef<HTMLTextAreaElement>(null);
  /** Documents added to the answer, not sent yet. */
  const [docs, setDocs] = useState<{ id: number; doc: AnswerDoc }[]>([]);
  /** The send dialog, open to add a document. */
  const [adding, setAdding] = useState<{ tab: SendTab; file: File | null } | null>(null);
  const [dropping, setDropping] = useState(false);
  const [progress, setProgress] = useState<{ sent: number; total: number } | null>(null);
  const [lost, setLost] = useState<"network" | "cancelled" | null>(null);
  const upload = useRef<{ abort(): void } | null>(null);
  useEffect(() => () => upload.current?.abort(), []);

  useEffect(() => {
    let live = true;
    api
      .ticket(props.id)
      .then((d) => {
        if (!live) return;
        setTk(d);
        setLoadError(null);
        setKind((k) => (k && d.answer_kinds.includes(k) ? k : (d.answer_kinds[0] ?? null)));
      })
      .catch((e) => live && setLoadError(apiErrorText(e)));
    return () => {
      live = false;
    };
  }, [props.id, c.backlogVersion, refresh]);

  if (loadError && !tk) {
    return (
      <p class="error" role="alert">
        {loadError}
      </p>
    );
  }
  if (!tk) return <p class="muted">{t("loading")}</p>;

  const late = pastWindow(tk);
  const revision = (tk.state as string) === "revision";
  const mine = (tk.state === "claimed" || revision) && tk.claimed_by === c.me.id;
  // The inspector's grade that sent it back (the ticket's newest current grade).
  const failed = revision ? (tk as TicketDetail & { grades?: RevisionGrade[] }).grades?.find((g) => g.current && g.grade === "fail") : undefined;
  const holder =
    tk.claimed_by === null
      ? ""
      : tk.claimed_by === c.me.id
        ? t("you")
        : (c.colleagueName(tk.claimed_by) ?? `${t("colleague")} #${tk.claimed_by}`);

  const act = async (fn: () => Promise<unknown>, done?: string) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
      if (done) props.onNotice(done);
      setRefresh((n) => n + 1);
      props.onChanged();
      return true;
    } catch (e) {
      setError(apiErrorText(e));
      setRefresh((n) => n + 1);
      return false;
    } finally {
      setBusy(false);
    }
  };

  const chooseKind = (k: AnswerKind) => {
    setKind(k);
    if (!LATE_KINDS.has(k)) return;
    // The norms' wording goes first in the answer box (the desk adds it too if left out);
    // the other late kind's wording, if inserted before, is replaced.
    const wording = tk.templates[k as "same_topic" | "not_found"];
    const other = tk.templates[k === "same_topic" ? "not_found" : "same_topic"];
    let text = answerBox.current?.value ?? answer;
    if (text.startsWith(other)) text = text.slice(other.length).replace(/^\n+/, "");
    if (!text.includes(wording)) text = text ? `${wording}\n\n${text}` : `${wording}\n\n`;
    setAnswer(text);
    window.setTimeout(() => {
      const el = answerBox.current;
      if (el) {
        el.focus();
        el.setSelectionRange(el.value.length, el.value.length);
      }
    }, 0);
  };

  const submitReply = async (e: Event) => {
    e.preventDefault();
    if (!kind || busy) return;
    setLost(null);
    if (!docs.length) {
      const ok = await act(() => api.replyTicket(tk.id, answer, kind), t("ticketAnswered", { id: tk.id }));
      if (ok) setAnswer("");
      return;
    }
    // With documents: one multipart request (the answer's meta, then the files), with progress.
    setBusy(true);
    setError(null);
    const up = replyWithDocuments(
      tk.id,
      answer,
      kind,
      docs.map((d) => d.doc),
      (sent, total) => setProgress({ sent, total }),
    );
    upload.current = up;
    setProgress({ sent: 0, total: 0 });
    const out: AnswerOutcome = await up.done;
    upload.current = null;
    setBusy(false);
    setProgress(null);
    if (out.ok) {
      props.onNotice(t("ticketAnswered", { id: tk.id }));
      setAnswer("");
      setDocs([]);
      setRefresh((n) => n + 1);
      props.onChanged();
    } else if (out.kind === "desk") {
      setError(dt("answerNotSent", { reason: deskErrorText(out.error) }));
      setRefresh((n) => n + 1);
    } else setLost(out.kind === "network" ? "network" : "cancelled");
  };

  const full = docs.length >= MAX_ANSWER_DOCS;
  const addDropped = (e: DragEvent) => {
    setDropping(false);
    const f = e.dataTransfer?.files?.[0];
    if (!f || busy || full) return;
    e.preventDefault();
    setAdding({ tab: "file", file: f });
  };
  const percent = progress && progress.total > 0 ? Math.min(100, Math.round((progress.sent / progress.total) * 100)) : 0;

  return (
    <article class="ticket" data-ticket={tk.id}>
      <header class="ticket-head">
        <h2>
          {t("ticketN", { id: tk.id })}{" "}
          <span class={`kind kind-${tk.kind}`}>{t(`kind_${tk.kind}` as Key)}</span>
        </h2>
        <p class="chat-meta">
          {c.libraryName(tk.library, lang())} · <span class="lang">{languageName(tk.language, lang())}</span> ·{" "}
          <span class={`ticket-state state-${tk.state}`}>{t(`ticketState_${tk.state}` as Key)}</span>
          {holder && tk.state === "claimed" && ` · ${t("claimedBy", { name: holder })}`} ·{" "}
          {t("submittedAt", { t: dateTime(tk.submitted_at) })}
          {tk.state !== "answered" && (
            <>
              {" · "}
              <TimeLeft tk={tk} now={Date.now()} />
            </>
          )}
        </p>
        {tk.handed_off_by === "system" && (
          <p class="by-desk small" role="note">
            {t("handedOffBySystem")}
          </p>
        )}
        <button type="button" class="link" onClick={() => setRefresh((n) => n + 1)}>
          {t("refresh")}
        </button>
      </header>

      <h3>{t("ticketQuestion")}</h3>
      <div class="body question">
        <Linkified text={tk.question} />
      </div>

      {tk.transcript.length > 0 && (
        <>
          <h3>{t("ticketTranscript")}</h3>
          <div class="transcript" role="log" aria-label={t("ticketTranscript")}>
            {tk.transcript.map((m, i) => (
              <div key={i} class={`msg from-${m.author_kind}`}>
                <div class="msg-head">
                  <span class="author">{authorLabel(m.author_kind)}</span>
                  <time dateTime={m.created_at}>{dateTime(m.created_at)}</time>
                </div>
                <div class="body">
                  <Linkified text={m.body} />
                </div>
              </div>
            ))}
          </div>
        </>
      )}

      {revision && (
        <p class="revision-note" role="note" data-testid="revision-note">
          {st("revisionPane")}
          {failed?.comment && (
            <>
              {" "}
              {st("commentLabel")}
              {failed.comment}
            </>
          )}
        </p>
      )}
      {(tk.state === "answered" || revision) && (
        <>
          <h3>
            {t("ticketAnswer")}{" "}
            {tk.answer_kind && <span class="muted small">{t(`answerKind_${tk.answer_kind}` as Key)}</span>}
          </h3>
          <div class="body answer">
            <Linkified text={tk.answer ?? ""} />
          </div>
          <p class="muted small">{t("answeredAt", { t: dateTime(tk.answered_at) })}</p>
        </>
      )}
      {tk.documents && tk.documents.length > 0 && <DeliveredDocs docs={tk.documents} />}

      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}

      {tk.state === "open" && (
        <div class="dialog-actions">
          <button
            type="button"
            class="primary"
            disabled={busy}
            onClick={() => void act(() => api.claimTicket(tk.id), t("ticketClaimed", { id: tk.id }))}
          >
            {t("claim")}
          </button>
        </div>
      )}

      {mine && (
        <form
          class={`reply${dropping ? " dropping" : ""}`}
          onSubmit={submitReply}
          onDragOver={(e) => {
            if (!e.dataTransfer?.types.includes("Files") || busy || full) return;
            e.preventDefault();
            setDropping(true);
          }}
          onDragLeave={(e) => {
            if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setDropping(false);
          }}
          onDrop={addDropped}
        >
          {dropping && (
            <div class="drop-zone" data-testid="answer-drop-zone">
              <p>{dt("dropOnAnswer")}</p>
            </div>
          )}
          <fieldset class="answer-kinds">
            <legend>{t("answerKind")}</legend>
            {tk.answer_kinds.map((k) => {
              const blocked = LATE_KINDS.has(k) && !late;
              return (
                <label key={k} class={blocked ? "blocked" : ""}>
                  <input
                    type="radio"
                    name="answer-kind"
                    value={k}
                    checked={kind === k}
                    disabled={blocked}
                    onChange={() => chooseKind(k)}
                  />
                  {t(`answerKind_${k}` as Key)}
                </label>
              );
            })}
          </fieldset>
          {tk.kind === "document" && !late && (
            <p class="rule-note" role="note">
              {t("rule72Within")}
            </p>
          )}
          {tk.kind === "document" && late && (
            <p class="rule-note" role="note">
              {t("rule72After")}
            </p>
          )}
          {tk.kind === "form" && <p class="muted small">{t("ruleForm")}</p>}
          <label class="block">
            {t("answerText")}
            <textarea
              ref={answerBox}
              rows={8}
              maxLength={20000}
              value={answer}
              onInput={(e) => setAnswer(e.currentTarget.value)}
            />
          </label>
          <p class="muted small">{t("ruleLinks")}</p>
          <fieldset class="answer-docs" disabled={busy}>
            <legend>{dt("answerDocs")}</legend>
            <p class="muted small">{dt("answerDocsHint", { n: MAX_ANSWER_DOCS })}</p>
            {docs.length > 0 && (
              <ul class="answer-doc-list">
                {docs.map(({ id, doc }) => {
                  const l = docLines(
                    doc.kind === "file"
                      ? { ...doc.details, kind: "file", name: doc.name, size: doc.file.size }
                      : { ...doc.details, kind: "link", url: doc.url },
                  );
                  return (
                    <li key={id} class="attachment" data-testid="answer-doc">
                      <p class="att-title">
                        {l.title} {l.type && <span class="att-type">{l.type}</span>}
                      </p>
                      {l.byline && <p class="att-byline">{l.byline}</p>}
                      <p class={doc.kind === "file" ? "att-file" : "att-link"}>{l.file}</p>
                      <p class="att-actions">
                        <button
                          type="button"
                          aria-label={dt("removeDocName", { title: l.title })}
                          onClick={() => setDocs((all) => all.filter((x) => x.id !== id))}
                        >
                          {dt("removeDoc")}
                        </button>
                      </p>
                    </li>
                  );
                })}
              </ul>
            )}
            <div class="dialog-actions wrap">
              <button type="button" disabled={full} onClick={() => setAdding({ tab: "file", file: null })}>
                {dt("addFile")}
              </button>
              <button type="button" disabled={full} onClick={() => setAdding({ tab: "link", file: null })}>
                {dt("addLink")}
              </button>
            </div>
            {full && <p class="muted small">{dt("answerDocsFull", { n: MAX_ANSWER_DOCS })}</p>}
          </fieldset>
          {progress && (
            <div class="send-progress" role="status">
              <progress max={100} value={percent} aria-label={dt("uploadProgress")} />
              <span class="small">
                {dt("answerUploading", { percent, done: formatBytes(progress.sent), total: formatBytes(progress.total) })}
              </span>
              <button type="button" onClick={() => upload.current?.abort()}>
                {dt("cancelUpload")}
              </button>
            </div>
          )}
          {lost && (
            <p class={lost === "network" ? "error" : "muted"} role={lost === "network" ? "alert" : "status"}>
              {dt(lost === "network" ? "answerNetwork" : "answerCancelled")}
            </p>
          )}
          <div class="dialog-actions">
            <button type="submit" class="primary" disabled={busy || !kind || !answer.trim()}>
              {t("replySubmit")}
            </button>
            {!returning && (
              <button type="button" disabled={busy} onClick={() => setReturning(true)}>
                {t("returnTicket")}
              </button>
            )}
          </div>
        </form>
      )}

      {mine && returning && (
        <div class="return-box">
          <label class="block">
            {t("returnNote")}
            <textarea
              rows={2}
              maxLength={500}
              value={returnNote}
              onInput={(e) => setReturnNote(e.currentTarget.value)}
            />
          </label>
          <div class="dialog-actions">
            <button
              type="button"
              class="danger"
              disabled={busy}
              onClick={async () => {
                const ok = await act(
                  () => api.returnTicket(tk.id, returnNote.trim()),
                  t("ticketReturned", { id: tk.id }),
                );
                if (ok) {
                  setReturning(false);
                  setReturnNote("");
                }
              }}
            >
              {t("returnConfirm")}
            </button>
            <button type="button" onClick={() => setReturning(false)}>
              {t("cancel")}
            </button>
          </div>
        </div>
      )}

      {adding && (
        <SendDocument
          client={c}
          answer={{
            ticket: tk.id,
            library: tk.library,
            add: (doc) => setDocs((all) => (all.length < MAX_ANSWER_DOCS ? [...all, { id: ++docSeq, doc }] : all)),
          }}
          etiquette={props.etiquette}
          tab={adding.tab}
          file={adding.file}
          onClose={() => setAdding(null)}
        />
      )}

      {tk.events.length > 0 && (
        <>
          <h3>{t("ticketHistory")}</h3>
          <ol class="ticket-events">
            {tk.events.map((ev, i) => (
              <li key={i}>
                <time dateTime={ev.at}>{dateTime(ev.at)}</time>{" "}
                <strong>{has(`event_${ev.action}`) ? t(`event_${ev.action}` as Key) : ev.action}</strong>
                {ev.by && <span> · {ev.by}</span>}
                {ev.note && ev.action !== "answered" && ev.action !== "overdue" && <span class="muted"> · {ev.note}</span>}
                {ev.note && ev.action === "answered" && has(`answerKind_${ev.note}`) && (
                  <span class="muted"> · {t(`answerKind_${ev.note}` as Key)}</span>
                )}
              </li>
            ))}
          </ol>
        </>
      )}
    </article>
  );
}

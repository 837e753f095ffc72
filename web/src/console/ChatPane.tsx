// One chat: who and where the reader is, the transcript, typing and read marks, the composer.
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { AttachmentCard } from "./AttachmentCard";
import { type Chat, type DeskClient, isEnded } from "./client";
import { tabId } from "./ChatTabs";
import { Composer } from "./Composer";
import { focusComposer } from "./dom";
import { errorText } from "./errors";
import type { Checker } from "./etiquette";
import { clockTime, type Key, lang, t } from "./i18n";
import { languageName } from "./languages";
import { dt } from "./i18n-delivery";
import { Linkified } from "./linkify";
import { SendDocument, type SendTab } from "./SendDocument";
import type { DeskError, Message, Phrase } from "./types";

/** Whether a drag carries files (not text or a link dragged from the page). */
function hasFiles(e: DragEvent): boolean {
  return Array.from(e.dataTransfer?.types ?? []).includes("Files");
}

export function ChatPane(props: {
  client: DeskClient;
  chat: Chat;
  phrases: Phrase[];
  phraseError: string | null;
  etiquette: Checker;
  onTransfer: () => void;
  onHandoff: () => void;
  onError: (error: DeskError) => void;
}) {
  const { client: c, chat } = props;
  const con = chat.consultation;
  const ended = isEnded(con);
  const [confirmClose, setConfirmClose] = useState(false);
  const [closing, setClosing] = useState(false);
  const logRef = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  const pending = c.outbox.forChat(chat.id);
  const inflight = c.isInflight(chat.id);
  /** The send dialog (发送文献), with the file dropped, pasted or chosen. */
  const [sending, setSending] = useState<{ tab: SendTab; file: File | null; note: string | null } | null>(null);
  /** A file is being dragged over the pane: the drop zone shows. */
  const [dragging, setDragging] = useState(false);
  const drags = useRef(0);
  const canSend = !ended && con.state === "assigned";

  const openSend = (tab: SendTab, files: File[] = []) => {
    const note = files.length > 1 ? dt("oneFileOnly", { name: files[0].name }) : null;
    setSending({ tab, file: files[0] ?? null, note });
  };

  const onDragEnter = (e: DragEvent) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    drags.current++;
    setDragging(true);
  };
  const onDragOver = (e: DragEvent) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    if (e.dataTransfer) e.dataTransfer.dropEffect = canSend ? "copy" : "none";
    if (!dragging) setDragging(true);
  };
  const onDragLeave = (e: DragEvent) => {
    if (!hasFiles(e)) return;
    drags.current = Math.max(0, drags.current - 1);
    if (drags.current === 0) setDragging(false);
  };
  const onDrop = (e: DragEvent) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    drags.current = 0;
    setDragging(false);
    const files = Array.from(e.dataTransfer?.files ?? []);
    if (canSend && files.length) openSend("file", files);
  };

  // Keep the newest message in view unless the consultant scrolled up to read.
  useLayoutEffect(() => {
    const el = logRef.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [chat.messages.length, pending.length, chat.failures.length]);

  useEffect(() => setConfirmClose(false), [chat.id]);

  const close = async () => {
    setClosing(true);
    const ack = await c.close(chat.id);
    setClosing(false);
    setConfirmClose(false);
    if (!ack.ok) props.onError(ack.error);
  };

  // The reader has read up to readerRead: mark the last of my public messages at or below it.
  let lastReadMine = -1;
  for (const m of chat.messages) {
    if (m.seq <= chat.readerRead && c.isMine(m) && m.visibility === "all") lastReadMine = m.seq;
  }
  const typing = !ended && chat.readerTypingUntil > Date.now();

  return (
    <section
      id="chat-panel"
      role="tabpanel"
      aria-labelledby={tabId(chat.id)}
      class={`chat${ended ? " ended" : ""}${dragging ? " dragging" : ""}`}
      data-consultation={chat.id}
      onDragEnter={onDragEnter}
      onDragOver={onDragOver}
      onDragLeave={onDragLeave}
      onDrop={onDrop}
    >
      {dragging && (
        <div class={`drop-zone${canSend ? "" : " refused"}`} data-testid="drop-zone" aria-hidden="true">
          <p>{canSend ? dt("dropHere") : dt("dropRefused")}</p>
        </div>
      )}
      <header class="chat-head">
        <div>
          <h2>
            {t("readerN", { id: con.reader_id })} <span class="muted">{t("chatN", { id: con.id })}</span>
          </h2>
          <p class="chat-meta">
            <span class="library">{c.libraryName(con.library, lang())}</span> ·{" "}
            <span class="lang">{languageName(con.language, lang())}</span> ·{" "}
            <span class={`state state-${con.state}`}>{t(`state_${con.state}` as Key)}</span>
          </p>
        </div>
        <div class="chat-actions">
          {!ended && (
            <button type="button" onClick={props.onTransfer} disabled={con.state !== "assigned"}>
              {t("transfer")}
            </button>
          )}
          {!ended && (
            <button type="button" onClick={props.onHandoff} disabled={con.state !== "assigned"}>
              {t("handoff")}
            </button>
          )}
          {!ended && !confirmClose && (
            <button type="button" onClick={() => setConfirmClose(true)} disabled={con.state !== "assigned"}>
              {t("close")}
            </button>
          )}
          {!ended && confirmClose && (
            <>
              <button type="button" class="danger" disabled={closing} onClick={() => void close()}>
                {t("closeConfirm")}
              </button>
              <button
                type="button"
                onClick={() => {
                  setConfirmClose(false);
                  focusComposer();
                }}
              >
                {t("cancel")}
              </button>
            </>
          )}
          {ended && (
            <button type="button" onClick={() => c.dismiss(chat.id)}>
              {t("dismiss")}
            </button>
          )}
        </div>
      </header>
      <div
        class="log"
        role="log"
        aria-live="polite"
        aria-label={t("messages")}
        ref={logRef}
        tabIndex={0}
        onScroll={(e) => {
          const el = e.currentTarget;
          stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
        }}
      >
        {chat.messages.map((m) => (
          <MessageRow
            key={m.seq}
            m={m}
            mine={c.isMine(m)}
            read={m.seq === lastReadMine}
            colleague={m.author_kind === "consultant" && m.author_id ? c.colleagueName(m.author_id) : null}
          />
        ))}
        {pending.map((p, i) => (
          <div
            key={p.client_msg_id}
            class={`msg mine pending${p.private ? " note" : ""}`}
            data-client-msg-id={p.client_msg_id}
          >
            <div class="msg-head">
              <span class="author">{p.private ? t("privateNote") : t("you")}</span>
              <span class="msg-state">
                {i === 0 && inflight && c.conn === "connected" ? t("sending") : t("queued")}
              </span>
            </div>
            <div class="body">{p.body}</div>
          </div>
        ))}
        {chat.failures.map((f) => (
          <div key={f.client_msg_id} class={`msg mine failed${f.private ? " note" : ""}`}>
            <div class="msg-head">
              <span class="author">{f.private ? t("privateNote") : t("you")}</span>
              <span class="msg-state error">{t("sendFailed", { reason: errorText(f.reason) })}</span>
              <button type="button" class="link" onClick={() => c.dropFailure(chat.id, f.client_msg_id)}>
                {t("closeDialog")}
              </button>
            </div>
            <div class="body">{f.body}</div>
          </div>
        ))}
        {ended && (
          <p class="system-note" role="note">
            {con.state === "handed_off"
              ? con.ended_by === "reader"
                ? t("handedOffByReader")
                : chat.ticketId
                  ? t("handedOffTicket", { id: chat.ticketId })
                  : t("handedOff")
              : con.ended_by === "reader"
              ? t("ended_by_reader")
              : con.ended_by === "system"
                ? t("ended_by_system")
                : t("ended_by_consultant")}
          </p>
        )}
      </div>
      <p class="typing" aria-live="polite">
        {typing ? t("readerTyping") : ""}
      </p>
      {props.phraseError && <p class="error small">{props.phraseError}</p>}
      {ended ? (
        <p class="muted composer-ended">{t("ended")}</p>
      ) : (
        <Composer
          key={chat.id}
          client={c}
          chat={chat}
          phrases={props.phrases}
          etiquette={props.etiquette}
          canAttach={canSend}
          onAttach={(files) => openSend("file", files)}
        />
      )}
      {sending && (
        <SendDocument
          client={c}
          chat={chat}
          etiquette={props.etiquette}
          tab={sending.tab}
          file={sending.file}
          note={sending.note}
          onClose={() => {
            setSending(null);
            focusComposer();
          }}
        />
      )}
    </section>
  );
}

function MessageRow(props: { m: Message; mine: boolean; read: boolean; colleague: string | null }) {
  const { m, mine } = props;
  const note = m.visibility === "staff";
  let author: string;
  if (m.author_kind === "reader") author = t("reader");
  else if (m.author_kind === "system") author = t("system");
  else if (m.author_kind === "bot") author = t("bot");
  else if (mine) author = t("you");
  else if (props.colleague) author = props.colleague;
  else author = t("colleague") + (m.author_id ? ` #${m.author_id}` : "");
  const cls = [
    "msg",
    `from-${m.author_kind}`,
    mine ? "mine" : "",
    note ? "note" : "",
  ]
    .filter(Boolean)
    .join(" ");
  return (
    <div class={cls} data-seq={m.seq}>
      <div class="msg-head">
        <span class="author">{author}</span>
        {note && <span class="note-label">{t("privateNote")}</span>}
        <time dateTime={m.created_at}>{clockTime(m.created_at)}</time>
        {props.read && <span class="read-mark">{t("read")}</span>}
      </div>
      {/* Text only: message bodies are never parsed as markup; http(s) links are clickable. */}
      {m.attachment ? (
        <AttachmentCard consultationId={m.consultation_id} seq={m.seq} a={m.attachment} />
      ) : (
        <div class="body">
          <Linkified text={m.body} />
        </div>
      )}
    </div>
  );
}

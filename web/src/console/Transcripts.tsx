// 审阅 · transcripts: search the ended consultations the desk lets this user see, open one
// whole, collect typical cases, and (supervisors, admins) read the audit log. The desk decides
// the scope (transcripts/access.py); the pages keep their state while a chat is open.
import { useEffect, useRef, useState } from "preact/hooks";
import "./transcripts.css";
import { AuditLog } from "./AuditLog";
import { CaseLibrary } from "./CaseLibrary";
import type { DeskClient } from "./client";
import { type TKey, tt } from "./i18n-transcripts";
import { type People, TranscriptSearch } from "./TranscriptSearch";
import { TranscriptView } from "./TranscriptView";
import { isSupervisor, type TranscriptSummary } from "./transcripts";
import type { Me } from "./types";

type Page = "search" | "cases" | "audit";

export function Transcripts(props: { me: Me; client: DeskClient }) {
  const [page, setPage] = useState<Page>("search");
  /** The chat open, and the page it was opened from (where 返回 goes back to). */
  const [chat, setChat] = useState<number | null>(null);
  const [caseId, setCaseId] = useState<number | null>(null);
  /** Where focus goes back to when the chat is closed (the button that opened it). */
  const opener = useRef<HTMLElement | null>(null);
  const [people, setPeople] = useState<People>(() => new Map([[props.me.id, props.me.name]]));

  const pages: Page[] = isSupervisor(props.me.role) ? ["search", "cases", "audit"] : ["search", "cases"];
  const notePeople = (seen: TranscriptSummary[]) => {
    const fresh = seen.filter((r) => r.consultant && !people.has(r.consultant.id));
    if (fresh.length === 0) return;
    setPeople((old) => {
      const next = new Map(old);
      for (const r of fresh) if (r.consultant) next.set(r.consultant.id, r.consultant.name || r.consultant.username);
      return next;
    });
  };
  const openChat = (id: number) => {
    opener.current = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    setChat(id);
  };
  useEffect(() => {
    if (chat !== null) return;
    const back = opener.current;
    opener.current = null;
    if (back?.isConnected) back.focus();
  }, [chat]);
  const go = (p: Page) => {
    setPage(p);
    setChat(null);
  };

  return (
    <section class="transcripts" aria-labelledby="transcripts-title" data-testid="transcripts">
      <header class="tr-head">
        <h2 id="transcripts-title">{tt("view_transcripts")}</h2>
        <p class="muted">{tt("transcriptsIntro")}</p>
        <div class="tr-pages" role="group" aria-label={tt("pages")}>
          {pages.map((p) => (
            <button
              key={p}
              type="button"
              aria-pressed={page === p && chat === null}
              class={page === p && chat === null ? "selected" : ""}
              onClick={() => go(p)}
            >
              {tt(`page_${p}` as TKey)}
            </button>
          ))}
        </div>
      </header>

      {chat !== null && (
        <TranscriptView
          key={chat}
          me={props.me}
          client={props.client}
          id={chat}
          backLabel={page === "search" ? tt("backToResults") : tt("back")}
          onBack={() => setChat(null)}
          onOpenCase={(id) => {
            setChat(null);
            setCaseId(id);
            setPage("cases");
          }}
        />
      )}
      <TranscriptSearch
        me={props.me}
        client={props.client}
        people={people}
        onPeople={notePeople}
        onOpen={openChat}
        hidden={chat !== null || page !== "search"}
      />
      <CaseLibrary
        me={props.me}
        client={props.client}
        openId={caseId}
        onOpen={setCaseId}
        onOpenChat={openChat}
        hidden={chat !== null || page !== "cases"}
      />
      {isSupervisor(props.me.role) && (
        <AuditLog
          me={props.me}
          client={props.client}
          people={people}
          onOpenChat={openChat}
          hidden={chat !== null || page !== "audit"}
        />
      )}
    </section>
  );
}

// The console once signed in: top bar, offers and queue, the chats, dialogs and notices.
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import "./delivery.css";
import * as api from "./api";
import { Backlog } from "./Backlog";
import { BotSettings } from "./BotSettings";
import { ChatPane } from "./ChatPane";
import { ChatTabs } from "./ChatTabs";
import { type Alerts, type BacklogReminder, type Chat, DeskClient } from "./client";
import { ETIQUETTE_CHANGED, loadEtiquette } from "./ComposerChecks";
import { focusComposer } from "./dom";
import { apiErrorText, describeError } from "./errors";
import { makeChecker } from "./etiquette";
import { HandoffDialog } from "./HandoffDialog";
import { type Key, lang, t } from "./i18n";
import { dt } from "./i18n-delivery";
import { st } from "./i18n-stats";
import { tt } from "./i18n-transcripts";
import { Ledger } from "./Ledger";
import { LogoutDialog } from "./LogoutDialog";
import { beep, desktopNotify, pageInBackground, unlockAudio } from "./notify";
import { PhraseManager } from "./PhraseManager";
import { SettingsDialog, type SettingsPage } from "./SettingsPages";
import { Sidebar } from "./Sidebar";
import { gradeGivenText, Stats } from "./Stats";
import type { GradeGiven } from "./stats-api";
import { TopBar } from "./TopBar";
import { Transcripts } from "./Transcripts";
import { TransferDialog } from "./TransferDialog";
import type { Consultation, DeskError, Me, Message, Phrase } from "./types";

interface Toast {
  id: number;
  text: string;
  kind: "info" | "error";
  /** An error code the console has no words for, shown in small print. */
  code?: string | null;
}

/** Notices disappear after this long (they stay in the console's chat where it matters). */
const TOAST_MS = 10_000;
/** The etiquette lists are loaded again when the page comes back after this long. */
const ETIQUETTE_STALE_MS = 5 * 60_000;

export function Console(props: { me: Me; onLang: () => void; onSignedOut: (notice?: string) => void }) {
  const [, setTick] = useState(0);
  const rerender = () => setTick((n) => n + 1);
  const [toasts, setToasts] = useState<Toast[]>([]);
  const [phrases, setPhrases] = useState<Phrase[]>([]);
  const [canEditLibrary, setCanEditLibrary] = useState(false);
  const [phraseError, setPhraseError] = useState<string | null>(null);
  const [dialog, setDialog] = useState<
    | { kind: "transfer"; id: number }
    | { kind: "handoff"; id: number }
    | { kind: "phrases" }
    | { kind: "bots" }
    | { kind: "settings"; page: SettingsPage }
    | { kind: "logout" }
    | null
  >(null);
  const [view, setView] = useState<"live" | "backlog" | "ledger" | "transcripts" | "stats">("live");
  const toastSeq = useRef(0);
  const clientRef = useRef<DeskClient | null>(null);

  const toast = (text: string, kind: "info" | "error" = "info", code: string | null = null) => {
    const id = ++toastSeq.current;
    setToasts((list) => [...list.slice(-4), { id, text, kind, code }]);
    window.setTimeout(() => setToasts((list) => list.filter((x) => x.id !== id)), TOAST_MS);
  };
  /** An error from the desk, in words (never the desk's English message). */
  const errorToast = (e: DeskError) => {
    const w = describeError(e);
    toast(w.text, "error", w.code);
  };
  const [etiquette, setEtiquette] = useState(() => makeChecker());
  const etiquetteAt = useRef(0);

  const client = useMemo(() => {
    const alerts: Alerts = {
      // Notifications name the reader's library only: never the question or the message
      // (privacy, norm 6), and none while muted.
      newChat(c: Consultation) {
        beep("chat");
        const lib = clientRef.current?.libraryName(c.library, lang()) ?? c.library;
        if (pageInBackground()) {
          desktopNotify(t("newChatNotice", { library: lib }), `chat-${c.id}`, () =>
            clientRef.current?.activate(c.id),
          );
        }
      },
      newMessage(chat: Chat, m: Message) {
        const background = pageInBackground();
        if (background || clientRef.current?.activeId !== chat.id) beep("message");
        if (background && m.author_kind === "reader") {
          const lib = clientRef.current?.libraryName(chat.consultation.library, lang()) ?? chat.consultation.library;
          desktopNotify(t("newMessageNotice", { library: lib }), `chat-${chat.id}`, () =>
            clientRef.current?.activate(chat.id),
          );
        }
      },
      backlogReminder(ticketId: number, what: BacklogReminder) {
        const text = t(`backlogDue_${what}` as Key, { id: ticketId });
        toast(text);
        beep("message");
        if (pageInBackground()) desktopNotify(text, `ticket-${ticketId}`, () => setView("backlog"));
      },
      toast(key: string, vars: Record<string, string | number>, kind?: "info" | "error") {
        toast(t(key as Key, vars), kind);
      },
      expired(why: "elsewhere" | "expired") {
        clientRef.current?.stop();
        props.onSignedOut(t(why === "elsewhere" ? "signedOutElsewhere" : "sessionExpired"));
      },
    };
    const c = new DeskClient(props.me, alerts);
    clientRef.current = c;
    return c;
  }, [props.me.id]);

  const loadPhrases = async () => {
    try {
      const r = await api.listPhrases();
      setPhrases(r.phrases);
      setCanEditLibrary(r.can_edit_library);
      setPhraseError(null);
    } catch (e) {
      setPhraseError(t("phrasesLoadFailed", { message: apiErrorText(e) }));
    }
  };

  const refreshEtiquette = async () => {
    etiquetteAt.current = Date.now();
    const checker = await loadEtiquette();
    if (checker) setEtiquette(checker);
  };

  useEffect(() => {
    const off = client.subscribe(rerender);
    client.start();
    void loadPhrases();
    void refreshEtiquette();
    api
      .libraries()
      .then((libs) => client.addLibraries(libs))
      .catch(() => {
        // Older desks have no /api/libraries: colleagues.list names them after connecting.
      });
    // Timers on screen (waiting times, offer deadlines, typing expiry) move every second.
    const tick = window.setInterval(rerender, 1000);
    const onVisible = () => {
      if (document.visibilityState !== "visible") return;
      client.markActiveRead();
      if (Date.now() - etiquetteAt.current > ETIQUETTE_STALE_MS) void refreshEtiquette();
    };
    const onEtiquette = () => void refreshEtiquette();
    const onGesture = () => unlockAudio();
    const onKey = (e: KeyboardEvent) => {
      if (document.querySelector('[role="dialog"]')) return;
      if ((e.altKey || e.ctrlKey) && !e.shiftKey && (e.key === "ArrowUp" || e.key === "ArrowDown")) {
        e.preventDefault();
        client.cycle(e.key === "ArrowUp" ? -1 : 1);
        focusComposer();
      }
    };
    document.addEventListener("visibilitychange", onVisible);
    window.addEventListener("focus", onVisible);
    window.addEventListener("pointerdown", onGesture);
    window.addEventListener("keydown", onGesture);
    window.addEventListener("keydown", onKey);
    window.addEventListener(ETIQUETTE_CHANGED, onEtiquette);
    return () => {
      off();
      client.stop();
      window.clearInterval(tick);
      document.removeEventListener("visibilitychange", onVisible);
      window.removeEventListener("focus", onVisible);
      window.removeEventListener("pointerdown", onGesture);
      window.removeEventListener("keydown", onGesture);
      window.removeEventListener("keydown", onKey);
      window.removeEventListener(ETIQUETTE_CHANGED, onEtiquette);
    };
  }, [client]);

  // A quality inspector's grade is told wherever the consultant is (统计 → 我的质检 lists it).
  useEffect(() => client.listen<GradeGiven>("grade.given", (p) => toast(gradeGivenText(p))), [client]);

  const unread = client.totalUnread();
  useEffect(() => {
    const base = t("appTitle") + " · " + t("appSubtitle");
    document.title = unread > 0 ? `(${unread}) ${base}` : base;
  }, [unread, lang()]);

  const logout = async (force = false) => {
    // Open chats go back to the queue once the grace period passes; unsent messages are lost.
    if (!force && (client.outbox.all().length > 0 || client.activeChats() > 0)) {
      setDialog({ kind: "logout" });
      return;
    }
    setDialog(null);
    client.stop();
    client.forgetLocal();
    try {
      await api.logout();
    } catch {
      // The session cookie is dropped by the desk; a failed call leaves nothing to undo here.
    }
    // The other tabs of this browser sign out too (they also get session.ended).
    client.announceSignOut();
    props.onSignedOut();
  };

  const active = client.activeId !== null ? client.chats.get(client.activeId) : undefined;

  return (
    <div class="console">
      <TopBar
        client={client}
        onLang={props.onLang}
        onLogout={() => void logout()}
        onPhrases={() => setDialog({ kind: "phrases" })}
        onBots={() => setDialog({ kind: "bots" })}
        onSettings={(page) => setDialog({ kind: "settings", page })}
      />
      {client.statusNotice && (
        <p class="conn-banner status-notice" role="status">
          <span>{t("statusDefaultOnline")}</span>{" "}
          <button type="button" onClick={() => void client.setStatus("away")}>
            {t("statusSetAway")}
          </button>{" "}
          <button type="button" class="link" onClick={() => client.dismissStatusNotice()}>
            {t("statusKeep")}
          </button>
        </p>
      )}
      {client.conn !== "connected" && (
        <p class={`conn-banner conn-${client.conn}`} role="status">
          {t(`conn_${client.conn === "expired" ? "reconnecting" : client.conn}` as Key)}
        </p>
      )}
      <nav class="views" aria-label={t("views")}>
        <button
          type="button"
          aria-pressed={view === "live"}
          class={view === "live" ? "selected" : ""}
          onClick={() => setView("live")}
        >
          {t("view_live")}
          {unread > 0 && <span class="badge unread">{unread}</span>}
        </button>
        <button
          type="button"
          aria-pressed={view === "backlog"}
          class={view === "backlog" ? "selected" : ""}
          onClick={() => setView("backlog")}
        >
          {t("view_backlog")}
        </button>
        <button
          type="button"
          aria-pressed={view === "ledger"}
          class={view === "ledger" ? "selected" : ""}
          onClick={() => setView("ledger")}
        >
          {dt("view_ledger")}
        </button>
        <button
          type="button"
          aria-pressed={view === "transcripts"}
          class={view === "transcripts" ? "selected" : ""}
          onClick={() => setView("transcripts")}
        >
          {tt("view_transcripts")}
        </button>
        <button
          type="button"
          aria-pressed={view === "stats"}
          class={view === "stats" ? "selected" : ""}
          onClick={() => setView("stats")}
        >
          {st("view_stats")}
        </button>
      </nav>
      {view === "backlog" ? (
        <Backlog client={client} onNotice={(m) => toast(m)} />
      ) : view === "ledger" ? (
        <Ledger me={props.me} client={client} />
      ) : view === "transcripts" ? (
        <Transcripts me={props.me} client={client} />
      ) : view === "stats" ? (
        <Stats me={props.me} client={client} onNotice={(m) => toast(m)} onOpenBacklog={() => setView("backlog")} />
      ) : (
      <div class="layout">
        <Sidebar client={client} onError={errorToast} />
        <main class="chats" aria-label={t("chats")}>
          <ChatTabs client={client} />
          {active ? (
            <ChatPane
              key={active.id}
              client={client}
              chat={active}
              phrases={phrases}
              phraseError={phraseError}
              etiquette={etiquette}
              onTransfer={() => setDialog({ kind: "transfer", id: active.id })}
              onHandoff={() => setDialog({ kind: "handoff", id: active.id })}
              onError={errorToast}
            />
          ) : (
            <p class="empty">{t("noChats")}</p>
          )}
        </main>
      </div>
      )}
      <p class="help">{t("keyboardHelp")}</p>
      <div class="toasts" role="status" aria-live="polite">
        {toasts.map((x) => (
          <div key={x.id} class={`toast toast-${x.kind}`}>
            <span>
              {x.text}
              {x.code && <small class="toast-code">{t("errorCode", { code: x.code })}</small>}
            </span>
            <button
              type="button"
              class="link"
              aria-label={t("closeDialog")}
              onClick={() => setToasts((l) => l.filter((y) => y.id !== x.id))}
            >
              ×
            </button>
          </div>
        ))}
      </div>
      {dialog?.kind === "transfer" && (
        <TransferDialog
          client={client}
          chatId={dialog.id}
          onClose={() => {
            setDialog(null);
            focusComposer();
          }}
        />
      )}
      {dialog?.kind === "handoff" && (
        <HandoffDialog
          client={client}
          chatId={dialog.id}
          onDone={(ticketId) => {
            toast(t("handoffDone", { id: dialog.id, ticket: ticketId }));
            setDialog(null);
          }}
          onClose={() => {
            setDialog(null);
            focusComposer();
          }}
        />
      )}
      {dialog?.kind === "bots" && <BotSettings onClose={() => setDialog(null)} />}
      {dialog?.kind === "settings" && (
        <SettingsDialog page={dialog.page} me={props.me} onClose={() => setDialog(null)} />
      )}
      {dialog?.kind === "logout" && (
        <LogoutDialog
          client={client}
          openChats={client.activeChats()}
          pending={client.outbox.all().length}
          onAway={async () => {
            setDialog(null);
            const ack = await client.setStatus("away");
            if (ack.ok) toast(t("logoutAwayDone"));
            else errorToast(ack.error);
          }}
          onLogout={() => void logout(true)}
          onClose={() => setDialog(null)}
        />
      )}
      {dialog?.kind === "phrases" && (
        <PhraseManager
          phrases={phrases}
          canEditLibrary={canEditLibrary}
          languages={props.me.languages}
          onChanged={() => void loadPhrases()}
          onClose={() => {
            setDialog(null);
            focusComposer();
          }}
        />
      )}
    </div>
  );
}

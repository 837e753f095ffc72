// One tab per chat: the reader's library and language, unread count, state.
import { type Chat, type DeskClient, isEnded } from "./client";
import { focusComposer } from "./dom";
import { type Key, lang, t } from "./i18n";
import { languageName } from "./languages";

export function tabId(id: number): string {
  return `chat-tab-${id}`;
}

export function ChatTabs(props: { client: DeskClient }) {
  const c = props.client;
  if (c.order.length === 0) return null;

  const onKey = (e: KeyboardEvent) => {
    if (e.altKey || e.ctrlKey) return; // handled globally
    if (e.key !== "ArrowLeft" && e.key !== "ArrowRight" && e.key !== "Home" && e.key !== "End") return;
    e.preventDefault();
    if (e.key === "Home") c.activate(c.order[0]);
    else if (e.key === "End") c.activate(c.order[c.order.length - 1]);
    else c.cycle(e.key === "ArrowLeft" ? -1 : 1);
    window.setTimeout(() => {
      if (c.activeId !== null) document.getElementById(tabId(c.activeId))?.focus();
    }, 0);
  };

  return (
    <div role="tablist" aria-label={t("chats")} class="tabs" onKeyDown={onKey}>
      {c.order.map((id) => {
        const chat = c.chats.get(id) as Chat;
        const n = c.unread(chat);
        const selected = id === c.activeId;
        const ended = isEnded(chat.consultation);
        const typing = chat.readerTypingUntil > Date.now();
        return (
          <button
            type="button"
            role="tab"
            key={id}
            id={tabId(id)}
            aria-selected={selected}
            aria-controls="chat-panel"
            tabIndex={selected ? 0 : -1}
            class={`tab${selected ? " selected" : ""}${ended ? " ended" : ""}`}
            data-consultation={id}
            onClick={() => {
              c.activate(id);
              focusComposer();
            }}
          >
            <span class="tab-title">
              {t("readerN", { id: chat.consultation.reader_id })}
              {typing && <span class="typing-dot" aria-hidden="true">…</span>}
            </span>
            <span class="tab-meta">
              {c.libraryName(chat.consultation.library, lang())} · {languageName(chat.consultation.language, lang())}
              {ended && ` · ${t(`state_${chat.consultation.state}` as Key)}`}
            </span>
            {n > 0 && (
              <span class="badge unread" aria-label={t("unread", { n })}>
                {n}
              </span>
            )}
          </button>
        );
      })}
    </div>
  );
}

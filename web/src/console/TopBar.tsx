// The bar across the top: who is signed in, presence and load, connection, sound, language.
import { useState } from "preact/hooks";
import type { DeskClient } from "./client";
import { errorText } from "./errors";
import { type Key, t } from "./i18n";
import {
  askNotificationPermission,
  isMuted,
  notificationPermission,
  setMuted,
  unlockAudio,
} from "./notify";
import { type SettingsPage, SettingsLinks } from "./SettingsPages";
import type { Status } from "./types";

const STATUSES: Status[] = ["online", "busy", "away"];

export function TopBar(props: {
  client: DeskClient;
  onLang: () => void;
  onLogout: () => void;
  onPhrases: () => void;
  onBots: () => void;
  onSettings?: (page: SettingsPage) => void;
}) {
  const c = props.client;
  const [muted, setMutedState] = useState(isMuted());
  const [permission, setPermission] = useState(notificationPermission());
  const [statusError, setStatusError] = useState<string | null>(null);

  const choose = async (s: Status) => {
    unlockAudio();
    setStatusError(null);
    const ack = await c.setStatus(s);
    if (!ack.ok && ack.error.code !== "offline") setStatusError(errorText(ack.error));
  };

  const onStatusKey = (e: KeyboardEvent) => {
    // Arrow keys move within the radio group, as in a native one.
    if (!["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown"].includes(e.key) || e.altKey || e.ctrlKey)
      return;
    e.preventDefault();
    const step = e.key === "ArrowLeft" || e.key === "ArrowUp" ? -1 : 1;
    const i = STATUSES.indexOf(c.status);
    const next = STATUSES[(i + step + STATUSES.length) % STATUSES.length];
    void choose(next);
    window.setTimeout(() => document.getElementById(`status-${next}`)?.focus(), 0);
  };

  const connText = c.conn === "connected" ? t("conn_connected") : t(`conn_${c.conn === "expired" ? "reconnecting" : c.conn}` as Key);

  return (
    <header class="topbar">
      <div class="brand">
        <strong>{t("appTitle")}</strong>
        <span class="who">{c.me.name}</span>
      </div>
      <div class="presence">
        <span id="status-label" class="sr-only">
          {t("statusLabel")}
        </span>
        <div role="radiogroup" aria-labelledby="status-label" class="status-switch" onKeyDown={onStatusKey}>
          {STATUSES.map((s) => (
            <button
              type="button"
              id={`status-${s}`}
              key={s}
              role="radio"
              aria-checked={c.status === s}
              tabIndex={c.status === s ? 0 : -1}
              class={`status status-${s}`}
              onClick={() => void choose(s)}
            >
              {t(`status_${s}` as Key)}
            </button>
          ))}
        </div>
        <span class="load" title={t("loadTitle")} data-testid="load">
          {t("load", { load: c.load, capacity: c.capacity })}
        </span>
        {statusError && (
          <span class="error" role="alert">
            {statusError}
          </span>
        )}
      </div>
      <span class={`conn conn-${c.conn}`} data-testid="connection">
        {connText}
      </span>
      <div class="tools">
        <button type="button" class="link" onClick={props.onPhrases}>
          {t("phraseManager")}
        </button>
        <button type="button" class="link" onClick={props.onBots}>
          {t("botSettings")}
        </button>
        {props.onSettings && <SettingsLinks onOpen={props.onSettings} />}
        <button
          type="button"
          class="link"
          aria-pressed={muted}
          title={t("muteTitle")}
          onClick={() => {
            unlockAudio();
            setMuted(!muted);
            setMutedState(!muted);
          }}
        >
          {muted ? t("unmute") : t("mute")}
        </button>
        {permission === "default" && (
          <button
            type="button"
            class="link"
            onClick={async () => {
              unlockAudio();
              setPermission(await askNotificationPermission());
            }}
          >
            {t("enableNotifications")}
          </button>
        )}
        {permission === "denied" && <span class="muted">{t("notificationsDenied")}</span>}
        <button type="button" class="link" onClick={props.onLang} title={t("languageTitle")}>
          {t("language")}
        </button>
        <button type="button" class="link" onClick={props.onLogout}>
          {t("logout")}
        </button>
      </div>
    </header>
  );
}

// 自动回复设置: the library's bots (greeting, waiting, FAQ) and their texts. Supervisors and
// admins edit; everyone else sees the same settings read-only.
import { useEffect, useState } from "preact/hooks";
import * as api from "./api";
import { Dialog } from "./Dialog";
import { apiErrorText } from "./errors";
import { has, type Key, lang, t } from "./i18n";
import { languageName } from "./languages";
import type { BotConfig, BotSettings as Settings, BotText } from "./types";

const SWITCHES = ["greeting", "waiting", "faq"] as const;

export function BotSettings(props: { onClose: () => void }) {
  const [config, setConfig] = useState<BotConfig | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);

  useEffect(() => {
    api
      .bots()
      .then(setConfig)
      .catch((e) => setLoadError(apiErrorText(e)));
  }, []);

  return (
    <Dialog title={t("botSettings")} onClose={props.onClose}>
      {loadError && (
        <p class="error" role="alert">
          {loadError}
        </p>
      )}
      {!config && !loadError && <p class="muted">{t("loading")}</p>}
      {config && (
        <div class="bot-settings">
          {!config.can_edit && (
            <p class="notice" role="note">
              {t("botReadOnly")}
            </p>
          )}
          <SettingsForm config={config} onSaved={(settings) => setConfig({ ...config, settings })} />
          <h3>{t("botTexts")}</h3>
          <ul class="bot-texts">
            {config.texts.map((x) => (
              <TextEditor
                key={`${x.key}/${x.language}`}
                text={x}
                canEdit={config.can_edit}
                onSaved={(body, custom) =>
                  setConfig({
                    ...config,
                    texts: config.texts.map((y) =>
                      y.key === x.key && y.language === x.language ? { ...y, body, custom } : y,
                    ),
                  })
                }
              />
            ))}
          </ul>
        </div>
      )}
    </Dialog>
  );
}

function SettingsForm(props: { config: BotConfig; onSaved: (s: Settings) => void }) {
  const { config } = props;
  const [draft, setDraft] = useState<Settings>(config.settings);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ text: string; error: boolean } | null>(null);
  const ro = !config.can_edit;

  const save = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setMessage(null);
    const change: Settings = {};
    for (const k of SWITCHES) if (k in config.settings) change[k] = draft[k];
    if (typeof draft.long_wait_minutes === "number") change.long_wait_minutes = draft.long_wait_minutes;
    if (typeof draft.update_seconds === "number") change.update_seconds = draft.update_seconds;
    try {
      const saved = await api.saveBotSettings(change);
      setDraft(saved);
      props.onSaved(saved);
      setMessage({ text: t("phraseSaved"), error: false });
    } catch (err) {
      setMessage({ text: apiErrorText(err), error: true });
    } finally {
      setBusy(false);
    }
  };

  const num = (k: "long_wait_minutes" | "update_seconds", min: number, max: number) => (
    <label class="block inline-number">
      {t(`bot_${k}` as Key)}
      <input
        type="number"
        min={min}
        max={max}
        step={1}
        disabled={ro}
        value={String(draft[k] ?? "")}
        onInput={(e) => {
          const v = e.currentTarget.valueAsNumber;
          setDraft({ ...draft, [k]: Number.isFinite(v) ? v : undefined });
        }}
      />
    </label>
  );

  return (
    <form class="bot-switches" onSubmit={save}>
      {SWITCHES.filter((k) => k in config.settings).map((k) => (
        <label key={k} class="switch">
          <input
            type="checkbox"
            role="switch"
            disabled={ro}
            checked={draft[k] === true}
            onChange={(e) => setDraft({ ...draft, [k]: e.currentTarget.checked })}
          />
          {t(`bot_${k}` as Key)}
        </label>
      ))}
      {"long_wait_minutes" in config.settings && num("long_wait_minutes", 1, 240)}
      {"update_seconds" in config.settings && num("update_seconds", 30, 3600)}
      {message && (
        <p class={message.error ? "error" : "muted"} role={message.error ? "alert" : "status"}>
          {message.text}
        </p>
      )}
      {!ro && (
        <div class="dialog-actions">
          <button type="submit" class="primary" disabled={busy}>
            {t("botSaveSettings")}
          </button>
        </div>
      )}
    </form>
  );
}

function TextEditor(props: { text: BotText; canEdit: boolean; onSaved: (body: string, custom: boolean) => void }) {
  const x = props.text;
  const [body, setBody] = useState(x.body);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const label = has(`botText_${x.key}`) ? t(`botText_${x.key}` as Key) : x.key;
  const id = `bot-text-${x.key}-${x.language}`;

  const run = async (fn: () => Promise<string>, custom: boolean) => {
    setBusy(true);
    setError(null);
    setSaved(false);
    try {
      const stored = await fn();
      setBody(stored);
      props.onSaved(stored, custom);
      setSaved(true);
    } catch (e) {
      // bad_template: the placeholder or brace at fault, in the UI's language (errors.ts).
      setError(apiErrorText(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <li class="bot-text" data-key={x.key} data-language={x.language}>
      <label class="block" for={id}>
        <span>
          <strong>{label}</strong> <span class="lang">{languageName(x.language, lang())}</span>{" "}
          <span class="muted small">{x.custom ? t("botCustom") : t("botDefault")}</span>
        </span>
      </label>
      <textarea
        id={id}
        rows={3}
        maxLength={2000}
        readOnly={!props.canEdit}
        value={body}
        aria-invalid={error ? true : undefined}
        onInput={(e) => {
          setBody(e.currentTarget.value);
          setSaved(false);
        }}
      />
      <p class="muted small">
        {x.placeholders.length > 0
          ? t("botPlaceholders", { list: x.placeholders.map((p) => `{${p}}`).join(" ") })
          : t("botNoPlaceholders")}
      </p>
      <details class="small">
        <summary>{t("botDefaultText")}</summary>
        <p class="phrase-body">{x.default}</p>
      </details>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {saved && !error && <p class="muted small">{t("phraseSaved")}</p>}
      {props.canEdit && (
        <div class="dialog-actions">
          <button
            type="button"
            class="primary"
            disabled={busy || !body.trim()}
            onClick={() => void run(() => api.saveBotText(x.key, x.language, body), true)}
          >
            {t("save")}
          </button>
          <button
            type="button"
            disabled={busy || !x.custom}
            onClick={() => void run(() => api.resetBotText(x.key, x.language), false)}
          >
            {t("botRestore")}
          </button>
        </div>
      )}
    </li>
  );
}

// Keep quick phrases: one's own, and the library's for supervisors and admins.
import { useState } from "preact/hooks";
import * as api from "./api";
import { Dialog } from "./Dialog";
import { apiErrorText } from "./errors";
import { lang, t } from "./i18n";
import { languageName } from "./languages";
import type { Phrase } from "./types";

interface Draft {
  id: number | null;
  scope: Phrase["scope"];
  shortcut: string;
  title: string;
  body: string;
  language: string;
}

const EMPTY: Draft = { id: null, scope: "personal", shortcut: "", title: "", body: "", language: "zh-CN" };

export function PhraseManager(props: {
  phrases: Phrase[];
  canEditLibrary: boolean;
  languages: string[];
  onChanged: () => void;
  onClose: () => void;
}) {
  const [draft, setDraft] = useState<Draft | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState<number | null>(null);
  const [busy, setBusy] = useState(false);

  const editable = (p: Phrase) => p.scope === "personal" || props.canEditLibrary;
  const languages = [...new Set(["zh-CN", "en", ...props.languages, ...(draft ? [draft.language] : [])])];

  const save = async (e: Event) => {
    e.preventDefault();
    if (!draft) return;
    setBusy(true);
    setError(null);
    try {
      const fields = {
        shortcut: draft.shortcut.trim().replace(/^\//, ""),
        title: draft.title.trim(),
        body: draft.body,
        language: draft.language,
      };
      if (draft.id === null) await api.createPhrase(draft.scope, fields);
      else await api.updatePhrase(draft.id, fields);
      setDraft(null);
      setSaved(true);
      props.onChanged();
    } catch (err) {
      setError(t("phraseError", { message: apiErrorText(err) }));
    } finally {
      setBusy(false);
    }
  };

  const del = async (id: number) => {
    setBusy(true);
    setError(null);
    try {
      await api.deletePhrase(id);
      setConfirmDelete(null);
      props.onChanged();
    } catch (err) {
      setError(t("phraseError", { message: apiErrorText(err) }));
    } finally {
      setBusy(false);
    }
  };

  const groups: [Phrase["scope"], Phrase[]][] = [
    ["personal", props.phrases.filter((p) => p.scope === "personal")],
    ["library", props.phrases.filter((p) => p.scope === "library")],
  ];

  return (
    <Dialog title={t("phraseManager")} onClose={props.onClose}>
      <div class="phrase-manager">
        {groups.map(([scope, list]) => (
          <section key={scope} aria-labelledby={`phrases-${scope}`}>
            <h3 id={`phrases-${scope}`}>
              {t(scope === "library" ? "phraseScope_library" : "phraseScope_personal")}
            </h3>
            <ul class="phrase-list">
              {list.map((p) => (
                <li key={p.id} data-phrase={p.id}>
                  <div class="phrase-head">
                    <code>/{p.shortcut}</code> <strong>{p.title}</strong> <span class="muted">{languageName(p.language, lang())}</span>
                    {editable(p) && (
                      <span class="phrase-actions">
                        <button
                          type="button"
                          class="link"
                          onClick={() => {
                            setSaved(false);
                            setDraft({ ...p, id: p.id });
                          }}
                        >
                          {t("edit")}
                        </button>
                        {confirmDelete === p.id ? (
                          <button type="button" class="link danger" disabled={busy} onClick={() => void del(p.id)}>
                            {t("deleteConfirm")}
                          </button>
                        ) : (
                          <button type="button" class="link" onClick={() => setConfirmDelete(p.id)}>
                            {t("delete")}
                          </button>
                        )}
                      </span>
                    )}
                  </div>
                  <p class="phrase-body">{p.body}</p>
                </li>
              ))}
            </ul>
          </section>
        ))}
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        {saved && !draft && (
          <p class="muted" role="status">
            {t("phraseSaved")}
          </p>
        )}
        {draft ? (
          <form class="phrase-form" onSubmit={save}>
            {draft.id === null && props.canEditLibrary && (
              <label class="block">
                {t("phraseScope_library")} / {t("phraseScope_personal")}
                <select
                  value={draft.scope}
                  onChange={(e) => setDraft({ ...draft, scope: e.currentTarget.value as Phrase["scope"] })}
                >
                  <option value="personal">{t("phraseScope_personal")}</option>
                  <option value="library">{t("phraseScope_library")}</option>
                </select>
              </label>
            )}
            <label class="block">
              {t("shortcut")}
              <input
                name="shortcut"
                required
                value={draft.shortcut}
                onInput={(e) => setDraft({ ...draft, shortcut: e.currentTarget.value })}
              />
            </label>
            <label class="block">
              {t("title")}
              <input
                name="title"
                required
                maxLength={100}
                value={draft.title}
                onInput={(e) => setDraft({ ...draft, title: e.currentTarget.value })}
              />
            </label>
            <label class="block">
              {t("phraseLanguage")}
              <select
                name="language"
                value={draft.language}
                onChange={(e) => setDraft({ ...draft, language: e.currentTarget.value })}
              >
                {languages.map((l) => (
                  <option key={l} value={l}>
                    {languageName(l, lang())}
                  </option>
                ))}
              </select>
            </label>
            <label class="block">
              {t("body")}
              <textarea
                name="body"
                required
                rows={4}
                maxLength={2000}
                value={draft.body}
                onInput={(e) => setDraft({ ...draft, body: e.currentTarget.value })}
              />
            </label>
            <p class="muted small">{t("phraseMinutesHint")}</p>
            <div class="dialog-actions">
              <button type="submit" class="primary" disabled={busy}>
                {t("save")}
              </button>
              <button type="button" onClick={() => setDraft(null)}>
                {t("cancel")}
              </button>
            </div>
          </form>
        ) : (
          <div class="dialog-actions">
            <button
              type="button"
              class="primary"
              onClick={() => {
                setSaved(false);
                setDraft({ ...EMPTY });
              }}
            >
              {t("add")}
            </button>
            <button type="button" onClick={props.onClose}>
              {t("closeDialog")}
            </button>
          </div>
        )}
      </div>
    </Dialog>
  );
}

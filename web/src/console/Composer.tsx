// The composer: Enter sends (Shift+Enter for a new line), "/" opens the quick-phrase picker,
// Alt+1…9 inserts the Nth phrase, Alt+N switches between a reply and a private staff note.
// Before a reply goes out, a "/shortcut" no phrase has and the etiquette helper's flags are
// shown under the input; a second Enter (or "仍然发送") sends it as it is. "📎 附件" (or a file
// pasted into the input) opens the dialog that sends a document to the reader.
import { useRef, useState } from "preact/hooks";
import type { Chat, DeskClient } from "./client";
import { ComposerChecks } from "./ComposerChecks";
import { type Checker, checkMessage, type Flag } from "./etiquette";
import { lang, t } from "./i18n";
import { dt } from "./i18n-delivery";
import { languageName } from "./languages";
import {
  DEFAULT_MINUTES,
  fillMinutes,
  forLanguage,
  needsMinutes,
  search,
  slashQuery,
  unknownShortcut,
} from "./phrases";
import type { Phrase } from "./types";

/** DESK_MAX_MESSAGE_CHARS's default; the desk refuses longer bodies anyway. */
const MAX_CHARS = 4000;
const PICKER_ROWS = 9;

interface Picker {
  start: number;
  end: number;
  query: string;
  index: number;
}

interface MinutesAsk {
  phrase: Phrase;
  start: number;
  end: number;
  value: string;
}

export function Composer(props: {
  client: DeskClient;
  chat: Chat;
  phrases: Phrase[];
  etiquette: Checker;
  /** Whether a document may be sent now (the chat is assigned to this consultant). */
  canAttach?: boolean;
  /** Open the send dialog, with the files pasted (none: the consultant chooses). */
  onAttach?: (files: File[]) => void;
}) {
  const { client: c, chat } = props;
  const [value, setValueState] = useState(chat.draft);
  const [picker, setPicker] = useState<Picker | null>(null);
  const [minutes, setMinutes] = useState<MinutesAsk | null>(null);
  const [privateMode, setPrivateState] = useState(chat.privateMode);
  const [error, setError] = useState<string | null>(null);
  /** "/xyz" with no such phrase: told once for exactly this text; a second send sends it. */
  const [slash, setSlash] = useState<{ body: string; shortcut: string } | null>(null);
  /** The etiquette flags on screen (after a first send), checked again as the text changes. */
  const [flags, setFlags] = useState<Flag[]>([]);
  const flagsShown = useRef(false);
  /** Flags the consultant has been shown: a send goes out when every current flag was seen. */
  const seen = useRef(new Set<string>());
  const ta = useRef<HTMLTextAreaElement>(null);
  const minutesInput = useRef<HTMLInputElement>(null);

  const ordered = forLanguage(props.phrases, chat.consultation.language);
  const matches = picker ? search(ordered, picker.query).slice(0, PICKER_ROWS) : [];

  const setValue = (v: string) => {
    setValueState(v);
    chat.draft = v;
  };

  /** The text changed: the hint about a "/shortcut" goes, the flags on screen follow the text. */
  const recheck = (text: string, isPrivate = privateMode) => {
    setSlash(null);
    if (flagsShown.current) setFlags(isPrivate ? [] : checkMessage(text, props.etiquette));
  };

  const setPrivate = (on: boolean) => {
    setPrivateState(on);
    chat.privateMode = on;
    if (on) c.stopTyping(chat.id);
    // Staff notes never reach the reader: nothing to check.
    recheck(ta.current?.value ?? value, on);
  };

  const caretTo = (pos: number) => {
    window.setTimeout(() => {
      const el = ta.current;
      if (!el) return;
      el.focus();
      el.setSelectionRange(pos, pos);
    }, 0);
  };

  const insertText = (text: string, start: number, end: number) => {
    const current = ta.current?.value ?? value;
    const next = current.slice(0, start) + text + current.slice(end);
    setValue(next);
    recheck(next);
    caretTo(start + text.length);
  };

  const choose = (p: Phrase, start: number, end: number) => {
    setPicker(null);
    if (needsMinutes(p)) {
      setMinutes({ phrase: p, start, end, value: String(DEFAULT_MINUTES) });
      window.setTimeout(() => {
        minutesInput.current?.focus();
        minutesInput.current?.select();
      }, 0);
    } else {
      insertText(p.body, start, end);
    }
  };

  const confirmMinutes = (e?: Event) => {
    e?.preventDefault();
    if (!minutes) return;
    const n = Number.parseInt(minutes.value, 10);
    const m = Number.isFinite(n) && n > 0 && n < 1000 ? n : DEFAULT_MINUTES;
    setMinutes(null);
    insertText(fillMinutes(minutes.phrase.body, m), minutes.start, minutes.end);
  };

  const cancelMinutes = () => {
    if (!minutes) return;
    setMinutes(null);
    caretTo(minutes.start);
  };

  /** Send, unless something should be looked at first; `anyway` is the deliberate second send. */
  const send = (anyway = false) => {
    const body = value.replace(/\s+$/, "");
    if (!body.trim()) return;
    if ([...body].length > MAX_CHARS) {
      setError(t("err_message_too_long", { limit: MAX_CHARS }));
      return;
    }
    if (!anyway) {
      // A "/shortcut" the picker found nothing for is a mistyped phrase far more often than a
      // message: say so, and send it only on a second Enter.
      const unknown =
        picker && matches.length === 0 ? `/${picker.query}` : unknownShortcut(body, props.phrases);
      if (unknown && slash?.body !== body) {
        setSlash({ body, shortcut: unknown });
        setPicker(null);
        return;
      }
      if (!privateMode) {
        const found = checkMessage(body, props.etiquette);
        if (found.some((f) => !seen.current.has(f.key))) {
          for (const f of found) seen.current.add(f.key);
          flagsShown.current = true;
          setFlags(found);
          setPicker(null);
          return;
        }
      }
    }
    setError(null);
    c.send(chat.id, body, privateMode);
    setValue("");
    setPicker(null);
    setSlash(null);
    setFlags([]);
    flagsShown.current = false;
    seen.current.clear();
    caretTo(0);
  };

  const onInput = (e: Event) => {
    const el = e.currentTarget as HTMLTextAreaElement;
    setValue(el.value);
    setError(null);
    recheck(el.value);
    const caret = el.selectionStart ?? el.value.length;
    const sq = slashQuery(el.value, caret);
    setPicker(sq ? { start: sq.start, end: caret, query: sq.query, index: 0 } : null);
    c.typed(chat.id);
  };

  const onKeyDown = (e: KeyboardEvent) => {
    // Never act on keys that belong to an input method (pinyin) composition.
    if (e.isComposing || e.keyCode === 229) return;
    if (picker) {
      if (e.key === "Escape") {
        e.preventDefault();
        setPicker(null);
        return;
      }
      if (matches.length > 0) {
        if (e.key === "ArrowDown" || e.key === "ArrowUp") {
          e.preventDefault();
          const step = e.key === "ArrowDown" ? 1 : -1;
          setPicker({ ...picker, index: (picker.index + step + matches.length) % matches.length });
          return;
        }
        if ((e.key === "Enter" && !e.shiftKey) || e.key === "Tab") {
          e.preventDefault();
          choose(matches[Math.min(picker.index, matches.length - 1)], picker.start, picker.end);
          return;
        }
      }
    }
    if (e.key === "Escape" && slash) {
      e.preventDefault();
      setSlash(null);
      return;
    }
    if (e.altKey && !e.ctrlKey && /^Digit[1-9]$/.test(e.code)) {
      e.preventDefault();
      const p = ordered[Number(e.code.slice(5)) - 1];
      const el = e.currentTarget as HTMLTextAreaElement;
      if (p) choose(p, el.selectionStart ?? value.length, el.selectionEnd ?? value.length);
      return;
    }
    if (e.altKey && !e.ctrlKey && e.code === "KeyN") {
      e.preventDefault();
      setPrivate(!privateMode);
      return;
    }
    if (e.key === "Enter" && !e.shiftKey && !e.altKey) {
      e.preventDefault();
      send();
    }
  };

  const listId = `phrase-list-${chat.id}`;
  const checksId = `composer-checks-${chat.id}`;
  return (
    <div class={`composer${privateMode ? " note-mode" : ""}`}>
      {picker && (
        <div class="picker" role="listbox" id={listId} aria-label={t("phrasePicker")}>
          {matches.length === 0 ? (
            <p class="muted">{t("noPhraseMatch")}</p>
          ) : (
            matches.map((p, i) => (
              <div
                key={p.id}
                id={`${listId}-${i}`}
                role="option"
                aria-selected={i === picker.index}
                class={`option${i === picker.index ? " selected" : ""}`}
                onMouseDown={(e) => {
                  e.preventDefault(); // keep the caret in the composer
                  choose(p, picker.start, picker.end);
                }}
              >
                <span class="shortcut">/{p.shortcut}</span>
                <span class="title">{p.title}</span>
                <span class="scope">{t(p.scope === "library" ? "phraseScope_library" : "phraseScope_personal")}</span>
                <span class="phrase-lang">{languageName(p.language, lang())}</span>
                <span class="preview">{p.body}</span>
              </div>
            ))
          )}
        </div>
      )}
      {minutes && (
        <form class="minutes" onSubmit={confirmMinutes} aria-label={t("minutesPrompt")}>
          <label>
            {t("minutesPrompt")}
            <input
              ref={minutesInput}
              type="number"
              name="minutes"
              min={1}
              max={999}
              value={minutes.value}
              onInput={(e) => setMinutes({ ...minutes, value: e.currentTarget.value })}
              onKeyDown={(e) => {
                if (e.key === "Escape") {
                  e.preventDefault();
                  cancelMinutes();
                }
              }}
            />
          </label>
          <button type="submit" class="primary">
            {t("insert")}
          </button>
          <button type="button" onClick={cancelMinutes}>
            {t("cancel")}
          </button>
        </form>
      )}
      <textarea
        ref={ta}
        class="composer-input"
        rows={3}
        value={value}
        aria-label={privateMode ? t("privateNote") : t("composerLabel")}
        placeholder={privateMode ? t("composerPlaceholderNote") : t("composerPlaceholder")}
        aria-controls={picker ? listId : undefined}
        aria-activedescendant={picker && matches.length ? `${listId}-${picker.index}` : undefined}
        aria-describedby={slash || (flags.length && !privateMode) ? checksId : undefined}
        onInput={onInput}
        onKeyDown={onKeyDown}
        onPaste={(e) => {
          // A pasted file (a screenshot, a PDF copied in the file manager) is sent as a
          // document, after the dialog; pasted text stays text.
          const files = Array.from(e.clipboardData?.files ?? []);
          if (!files.length || !props.onAttach || !props.canAttach || privateMode) return;
          e.preventDefault();
          props.onAttach(files);
        }}
        onBlur={() => c.stopTyping(chat.id)}
      />
      <ComposerChecks
        id={checksId}
        slash={slash?.shortcut ?? null}
        flags={privateMode ? [] : flags}
        onSendAnyway={() => send(true)}
      />
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <div class="composer-bar">
        <span class="composer-tools">
          <label class="note-toggle">
            <input
              type="checkbox"
              checked={privateMode}
              onChange={(e) => setPrivate(e.currentTarget.checked)}
            />
            {t("privateNoteHint")}
          </label>
          {props.onAttach && (
            <button
              type="button"
              class="attach"
              disabled={!props.canAttach || privateMode}
              title={privateMode ? dt("attachNoteMode") : dt("attachTitle")}
              onClick={() => props.onAttach?.([])}
            >
              {dt("attach")}
            </button>
          )}
        </span>
        <button type="button" class="primary" onClick={() => send()} disabled={!value.trim()}>
          {privateMode ? t("saveNote") : t("send")}
        </button>
      </div>
    </div>
  );
}

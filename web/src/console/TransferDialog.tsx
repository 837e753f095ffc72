// Transfer a chat to an online colleague, or back to the queue of another library, with a
// note only staff see.
import { useEffect, useState } from "preact/hooks";
import * as api from "./api";
import type { DeskClient } from "./client";
import { Dialog } from "./Dialog";
import { errorText } from "./errors";
import { type Key, lang, t } from "./i18n";
import { languageNames } from "./languages";
import type { Colleague, Library } from "./types";

export function TransferDialog(props: { client: DeskClient; chatId: number; onClose: () => void }) {
  const c = props.client;
  const [mode, setMode] = useState<"colleague" | "library">("colleague");
  const [colleagues, setColleagues] = useState<Colleague[] | null>(null);
  const [libraries, setLibraries] = useState<Library[]>([...c.libraries.values()]);
  const [colleague, setColleague] = useState<number | null>(null);
  const [library, setLibrary] = useState<string>("");
  const [note, setNote] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    void (async () => {
      const ack = await c.colleagues();
      if (ack.ok) {
        setColleagues(ack.colleagues);
        setLibraries(ack.libraries);
        const first = ack.colleagues.find(available);
        if (first) setColleague(first.id);
      } else {
        setColleagues([]);
        setError(errorText(ack.error));
      }
      try {
        // The public list also says which languages each library serves.
        c.addLibraries(await api.libraries());
        setLibraries([...c.libraries.values()]);
      } catch {
        // colleagues.list named them already.
      }
    })();
  }, []);

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    const target =
      mode === "colleague"
        ? colleague !== null
          ? { to_consultant_id: colleague }
          : null
        : library
          ? { to_library: library }
          : null;
    if (!target) return;
    setBusy(true);
    const ack = await c.transfer(props.chatId, target, note.trim());
    setBusy(false);
    if (ack.ok) props.onClose();
    else setError(errorText(ack.error));
  };

  const libName = (lib: Library | undefined) =>
    lib ? (lang() === "en" ? lib.name_en || lib.name : lib.name) : "";
  const chatLanguage = c.chats.get(props.chatId)?.consultation.language ?? "";

  return (
    <Dialog title={t("transferTitle", { id: props.chatId })} onClose={props.onClose}>
      <form onSubmit={submit} class="transfer">
        <fieldset class="modes">
          <label>
            <input
              type="radio"
              name="mode"
              checked={mode === "colleague"}
              onChange={() => setMode("colleague")}
            />
            {t("transferToColleague")}
          </label>
          <label>
            <input
              type="radio"
              name="mode"
              checked={mode === "library"}
              onChange={() => setMode("library")}
            />
            {t("transferToLibrary")}
          </label>
        </fieldset>
        {mode === "colleague" ? (
          <fieldset class="colleagues">
            <legend>{t("transferToColleague")}</legend>
            {colleagues === null ? (
              <p class="muted">{t("conn_connecting")}</p>
            ) : colleagues.length === 0 ? (
              <p class="muted">{t("noColleagues")}</p>
            ) : (
              colleagues.map((x) => {
                const ok = available(x);
                const speaks = x.languages.some((l) => sameBase(l, chatLanguage));
                return (
                  <label key={x.id} class={`colleague${ok ? "" : " unavailable"}`}>
                    <input
                      type="radio"
                      name="colleague"
                      value={String(x.id)}
                      disabled={!ok}
                      checked={colleague === x.id}
                      onChange={() => setColleague(x.id)}
                    />
                    <span class="name">{x.name}</span>
                    <span class="muted">
                      {libName(c.librariesById.get(x.library_id))} · {t(`status_${x.status}` as Key)} ·{" "}
                      {x.load}/{x.capacity} · <span class={speaks ? "" : "warn"}>{languageNames(x.languages, lang())}</span>
                      {!ok && ` · ${x.status !== "online" ? t("colleagueNotOnline") : t("colleagueFull")}`}
                    </span>
                  </label>
                );
              })
            )}
          </fieldset>
        ) : (
          <label class="block">
            {t("transferToLibrary")}
            <select value={library} onChange={(e) => setLibrary(e.currentTarget.value)} required>
              <option value="">—</option>
              {libraries.map((l) => (
                <option key={l.code} value={l.code}>
                  {libName(l)} ({l.code}){l.languages ? ` · ${languageNames(l.languages, lang())}` : ""}
                </option>
              ))}
            </select>
          </label>
        )}
        <label class="block">
          {t("transferNote")}
          <textarea rows={3} maxLength={2000} value={note} onInput={(e) => setNote(e.currentTarget.value)} />
        </label>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <div class="dialog-actions">
          <button
            type="submit"
            class="primary"
            disabled={busy || (mode === "colleague" ? colleague === null : !library)}
          >
            {t("doTransfer")}
          </button>
          <button type="button" onClick={props.onClose}>
            {t("cancel")}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function available(x: Colleague): boolean {
  return x.status === "online" && x.load < x.capacity;
}

function sameBase(a: string, b: string): boolean {
  return a.split("-")[0].toLowerCase() === b.split("-")[0].toLowerCase();
}

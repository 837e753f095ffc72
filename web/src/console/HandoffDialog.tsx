// 转表单咨询: switch a live chat to the form service (norm 4 of live service). The desk makes a
// backlog ticket of the chat, ends it as handed_off and sends the reader the ticket's link.
import { useState } from "preact/hooks";
import type { DeskClient } from "./client";
import { Dialog } from "./Dialog";
import { errorText } from "./errors";
import { t } from "./i18n";

const NOTE_LIMIT = 500;

export function HandoffDialog(props: {
  client: DeskClient;
  chatId: number;
  onDone: (ticketId: number) => void;
  onClose: () => void;
}) {
  const [kind, setKind] = useState<"form" | "document">("form");
  const [note, setNote] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const ack = await props.client.handoff(props.chatId, kind, note.trim());
    setBusy(false);
    if (ack.ok) props.onDone(ack.ticket.id);
    else setError(errorText(ack.error));
  };

  return (
    <Dialog title={t("handoffTitle", { id: props.chatId })} onClose={props.onClose}>
      <form class="handoff" onSubmit={submit}>
        <p class="muted small">{t("handoffExplain")}</p>
        <fieldset class="modes">
          <legend>{t("ticketKind")}</legend>
          <label>
            <input type="radio" name="kind" checked={kind === "form"} onChange={() => setKind("form")} />
            {t("kind_form")} <span class="muted small">{t("kindHint_form")}</span>
          </label>
          <label>
            <input
              type="radio"
              name="kind"
              checked={kind === "document"}
              onChange={() => setKind("document")}
            />
            {t("kind_document")} <span class="muted small">{t("kindHint_document")}</span>
          </label>
        </fieldset>
        <label class="block">
          {t("handoffNote")}
          <textarea
            rows={3}
            maxLength={NOTE_LIMIT}
            value={note}
            onInput={(e) => setNote(e.currentTarget.value)}
          />
        </label>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <div class="dialog-actions">
          <button type="submit" class="primary" disabled={busy}>
            {t("handoffDo")}
          </button>
          <button type="button" onClick={props.onClose}>
            {t("cancel")}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

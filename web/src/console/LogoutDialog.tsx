// Signing out with chats still open or messages not yet sent: say what happens, and offer to
// go away first (no new chats) instead.
import type { DeskClient } from "./client";
import { Dialog } from "./Dialog";
import { t } from "./i18n";

export function LogoutDialog(props: {
  client: DeskClient;
  openChats: number;
  pending: number;
  onAway: () => void;
  onLogout: () => void;
  onClose: () => void;
}) {
  return (
    <Dialog title={t("logoutTitle")} onClose={props.onClose}>
      <div class="logout-warning">
        {props.openChats > 0 && <p>{t("logoutOpenChats", { n: props.openChats })}</p>}
        {props.pending > 0 && <p class="error">{t("logoutPending", { n: props.pending })}</p>}
        <div class="dialog-actions">
          {props.openChats > 0 && props.client.status !== "away" && (
            <button type="button" class="primary" onClick={props.onAway}>
              {t("logoutAwayFirst")}
            </button>
          )}
          <button type="button" class="danger" onClick={props.onLogout}>
            {t("logoutAnyway")}
          </button>
          <button type="button" onClick={props.onClose}>
            {t("cancel")}
          </button>
        </div>
      </div>
    </Dialog>
  );
}

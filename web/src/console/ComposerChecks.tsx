// What the composer says under the input before a message goes out: a "/shortcut" no phrase
// has, and the etiquette helper's flags (jargon with plain words, links a reader could not
// open). One polite live region, so a screen reader hears it without losing its place.
import { type Checker, type EtiquetteLists, type Flag, makeChecker } from "./etiquette";
import { type Key, t } from "./i18n";

/** GET /api/etiquette; null when the desk has no lists (older desk) or cannot be reached:
 * the built-in address checks still apply. */
export async function loadEtiquette(): Promise<Checker | null> {
  try {
    const resp = await fetch("/api/etiquette", {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (!resp.ok) return null;
    const data = (await resp.json()) as EtiquetteLists & { ok?: boolean };
    return data.ok ? makeChecker(data) : null;
  } catch {
    return null;
  }
}

/** The settings page that edits the lists fires this on `window` after saving: the console
 * loads them again. */
export const ETIQUETTE_CHANGED = "desk:etiquette-changed";

function FlagItem(props: { f: Flag }) {
  const { f } = props;
  if (f.kind === "term") {
    return (
      <li class="flag flag-term" data-key={f.key}>
        <span>{t("etqTerm", { found: f.found })}</span>{" "}
        <span class="plain">{f.hint ? t("etqHint", { hint: f.hint }) : t("etqNoHint")}</span>
      </li>
    );
  }
  const reason = t(`etqReason_${f.reason}` as Key, { matched: f.matched ?? f.host });
  return (
    <li class="flag flag-link" data-key={f.key}>
      <code class="url">{f.url}</code> <span>{t("etqLink", { reason })}</span>
    </li>
  );
}

export function ComposerChecks(props: {
  id: string;
  slash: string | null;
  flags: Flag[];
  onSendAnyway: () => void;
}) {
  const { slash, flags } = props;
  const links = flags.some((f) => f.kind === "link");
  return (
    <div id={props.id} class="composer-checks" aria-live="polite">
      {slash && (
        <p class="slash-hint" data-testid="slash-hint">
          <strong>{t("slashUnknown", { shortcut: slash })}</strong>{" "}
          <span class="muted small">{t("slashAgain")}</span>
        </p>
      )}
      {flags.length > 0 && (
        <div class="etiquette" data-testid="etiquette">
          <p class="etiquette-title">{t("etqTitle", { n: flags.length })}</p>
          <ul>
            {flags.map((f) => (
              <FlagItem key={f.key} f={f} />
            ))}
          </ul>
          {links && <p class="small">{t("etqLinkRule")}</p>}
          <p class="etiquette-actions">
            <span class="muted small">{t("etqAgain")}</span>{" "}
            <button type="button" onClick={props.onSendAnyway}>
              {t("etqSendAnyway")}
            </button>
          </p>
        </div>
      )}
    </div>
  );
}

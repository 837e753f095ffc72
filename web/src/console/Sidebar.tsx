// Offers waiting for this consultant's answer, and the readers waiting in the queue.
import type { DeskClient } from "./client";
import { duration, lang, t } from "./i18n";
import { languageName } from "./languages";
import type { DeskError } from "./types";

export function Sidebar(props: { client: DeskClient; onError: (error: DeskError) => void }) {
  const c = props.client;
  const now = Date.now();
  const offers = [...c.offers.values()];
  const elapsed = (now - c.queueFetchedAt) / 1000;

  const act = async (fn: () => Promise<{ ok: boolean; error?: DeskError }>) => {
    const ack = await fn();
    if (!ack.ok && ack.error) props.onError(ack.error);
  };

  return (
    <aside class="sidebar">
      <section aria-labelledby="offers-title" class="offers">
        <h2 id="offers-title">
          {t("offers")} {offers.length > 0 && <span class="badge">{offers.length}</span>}
        </h2>
        {offers.length === 0 ? (
          <p class="muted">{t("noOffers")}</p>
        ) : (
          <ul>
            {offers.map((o) => {
              const left = o.expiresAt === null ? null : Math.max(0, Math.ceil((o.expiresAt - now) / 1000));
              const oc = o.consultation;
              return (
                <li key={oc.id} class="offer" data-consultation={oc.id}>
                  <div class="meta">
                    <strong>{c.libraryName(oc.library, lang())}</strong>
                    <span class="lang">{languageName(oc.language, lang())}</span>
                    {left !== null && <span class="deadline">{t("offerExpires", { s: left })}</span>}
                  </div>
                  <p class="preview">{oc.subject}</p>
                  <div class="actions">
                    <button type="button" class="primary" onClick={() => void act(() => c.accept(oc.id))}>
                      {t("accept")}
                    </button>
                    <button type="button" onClick={() => void act(() => c.decline(oc.id))}>
                      {t("decline")}
                    </button>
                  </div>
                </li>
              );
            })}
          </ul>
        )}
      </section>
      <section aria-labelledby="queue-title" class="queue">
        <h2 id="queue-title">
          {t("queue")} {c.queue.length > 0 && <span class="badge">{c.queue.length}</span>}
        </h2>
        {c.queue.length === 0 ? (
          <p class="muted">{t("queueEmpty")}</p>
        ) : (
          <ol>
            {c.queue.map((q) => (
              <li key={q.consultation_id} class="queue-item" data-consultation={q.consultation_id}>
                <div class="meta">
                  <strong>{c.libraryName(q.library, lang())}</strong>
                  <span class="lang">{languageName(q.language, lang())}</span>
                  <span class="waited">{t("waited", { t: duration(q.waiting_seconds + elapsed) })}</span>
                </div>
                <p class="preview">{q.preview}</p>
              </li>
            ))}
          </ol>
        )}
      </section>
    </aside>
  );
}

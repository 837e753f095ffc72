// 实时看板 · the live dashboard: watched over the console socket while the page is shown
// (`dashboard.watch`, then a `dashboard` event every 5 s), unwatched when leaving. When the
// socket drops, the last board stays on screen marked as stale, and watching starts again on
// reconnection (the desk forgets a disconnected watcher).
import { useEffect, useState } from "preact/hooks";
import type { DeskClient } from "./client";
import { errorText } from "./errors";
import { lang } from "./i18n";
import { type SKey, st } from "./i18n-stats";
import { languageName, languageNames } from "./languages";
import { isLongWait, isStale, loadPercent, percent, seconds } from "./stats";
import type { Dashboard, Figures } from "./stats-api";

const TODAY_FIGURES: { key: string; kind: "count" | "seconds" | "share" }[] = [
  { key: "consultations", kind: "count" },
  { key: "served", kind: "count" },
  { key: "abandoned", kind: "count" },
  { key: "handed_off", kind: "count" },
  { key: "documents", kind: "count" },
  { key: "wait_p50", kind: "seconds" },
  { key: "wait_p90", kind: "seconds" },
  { key: "reply_p50", kind: "seconds" },
  { key: "reply_p90", kind: "seconds" },
  { key: "satisfaction", kind: "share" },
];

function clock(iso: string | number): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  return d.toLocaleTimeString(lang(), { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

export function StatsDashboard(props: { client: DeskClient }) {
  const c = props.client;
  const [board, setBoard] = useState<Dashboard | null>(null);
  /** When the board on screen arrived (browser time: the waits move on from there). */
  const [receivedAt, setReceivedAt] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [now, setNow] = useState(() => Date.now());
  const [connected, setConnected] = useState(c.conn === "connected");

  useEffect(() => {
    let live = true;
    const receive = (d: Dashboard) => {
      if (!live || !d || typeof d !== "object") return;
      setBoard(d);
      setReceivedAt(Date.now());
      setError(null);
    };
    const watch = async () => {
      const ack = await c.request<{ watching: boolean; dashboard?: Dashboard }>("dashboard.watch", { watch: true });
      if (!live) return;
      if (ack.ok) {
        if (ack.dashboard) receive(ack.dashboard);
      } else {
        setError(errorText(ack.error));
      }
    };
    const offPush = c.listen<Dashboard>("dashboard", receive);
    let wasConnected = c.conn === "connected";
    if (wasConnected) void watch();
    const offChange = c.subscribe(() => {
      const isConnected = c.conn === "connected";
      if (isConnected && !wasConnected) void watch();
      wasConnected = isConnected;
      setConnected(isConnected);
    });
    const tick = window.setInterval(() => setNow(Date.now()), 1000);
    return () => {
      live = false;
      offPush();
      offChange();
      window.clearInterval(tick);
      void c.request("dashboard.watch", { watch: false });
    };
  }, [c]);

  const ui = lang();
  const stale = isStale(receivedAt, now, connected);
  // Between pushes the waits keep counting; a stale board shows them as they were.
  const moved = receivedAt !== null && !stale ? Math.max(0, Math.floor((now - receivedAt) / 1000)) : 0;
  const library = (code: string) => (code ? c.libraryName(code, ui) : "—");

  return (
    <section class="stats-page dash" aria-labelledby="dash-title" data-testid="dashboard" data-stale={stale ? "1" : "0"}>
      <h3 id="dash-title">{st("dashTitle")}</h3>
      <p class="dash-state" role="status" data-testid="dashboard-state">
        {board === null ? (
          st("dashConnecting")
        ) : stale ? (
          <strong class="dash-stale">{st(connected ? "dashLate" : "dashStale", { time: clock(board.at) })}</strong>
        ) : (
          <>
            <span class="dash-live">● {st("dashLive")}</span>{" "}
            <span data-testid="dashboard-updated">{st("dashUpdated", { time: clock(board.at) })}</span>
          </>
        )}
      </p>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {board && (
        <div class={stale ? "dash-body is-stale" : "dash-body"}>
          <p class="muted small">
            {board.scope === "alliance"
              ? st("dashScope_alliance")
              : st("dashScope_library", { library: library(board.scope) })}
          </p>
          <dl class="dash-tiles" data-testid="dashboard-tiles">
            <Tile label={st("dashWaiting")} value={String(board.waiting)} name="waiting" />
            <Tile
              label={st("dashLongest")}
              value={board.waiting > 0 ? seconds(board.longest_wait_seconds + moved, ui) : "—"}
              name="longest"
              warn={board.waiting > 0 && isLongWait(board.longest_wait_seconds + moved)}
            />
            <Tile label={st("dashOnline")} value={String(board.online)} name="online" />
            <Tile label={st("dashAtCapacity")} value={String(board.at_capacity)} name="at-capacity" />
            <Tile label={st("dashChats")} value={String(board.chats)} name="chats" />
            <Tile label={st("dashFree")} value={String(board.free)} name="free" />
          </dl>

          <div class="dash-grid">
            <section aria-labelledby="dash-queue-title">
              <h4 id="dash-queue-title">{st("queueTitle")}</h4>
              {board.queue.length === 0 ? (
                <p class="muted">{st("queueEmpty")}</p>
              ) : (
                <div class="table-wrap">
                  <table class="stats-table" data-testid="dashboard-queue">
                    <thead>
                      <tr>
                        <th scope="col">{st("colChat")}</th>
                        <th scope="col">{st("colLibrary")}</th>
                        <th scope="col">{st("colLanguage")}</th>
                        <th scope="col" class="num">
                          {st("colWaited")}
                        </th>
                      </tr>
                    </thead>
                    <tbody>
                      {board.queue.map((q) => {
                        const waited = q.waiting_seconds + moved;
                        const long = isLongWait(waited);
                        return (
                          <tr key={q.consultation_id} data-consultation={q.consultation_id} class={long ? "long-wait" : ""}>
                            <th scope="row">{st("chatN", { id: q.consultation_id })}</th>
                            <td>{library(q.library)}</td>
                            <td>{languageName(q.language, ui)}</td>
                            <td class="num">
                              {seconds(waited, ui)}
                              {long && <span class="flag">⚠ {st("longWait")}</span>}
                            </td>
                          </tr>
                        );
                      })}
                    </tbody>
                  </table>
                </div>
              )}
            </section>

            <section aria-labelledby="dash-people-title">
              <h4 id="dash-people-title">{st("peopleTitle")}</h4>
              {board.consultants.length === 0 ? (
                <p class="muted">{st("peopleEmpty")}</p>
              ) : (
                <div class="table-wrap">
                  <table class="stats-table" data-testid="dashboard-people">
                    <thead>
                      <tr>
                        <th scope="col">{st("colName")}</th>
                        <th scope="col">{st("colLibrary")}</th>
                        <th scope="col">{st("colStatus")}</th>
                        <th scope="col">{st("colLoad")}</th>
                        <th scope="col">{st("colLanguages")}</th>
                      </tr>
                    </thead>
                    <tbody>
                      {board.consultants.map((p) => (
                        <tr key={p.id} data-consultant={p.id} class={p.at_capacity ? "at-capacity" : ""}>
                          <th scope="row">{p.name}</th>
                          <td>{library(p.library)}</td>
                          <td>{st(`status_${p.status}` as SKey)}</td>
                          <td>
                            <span class="load">
                              <span
                                class="load-bar"
                                role="img"
                                aria-label={st("loadLabel", { name: p.name, load: p.load, capacity: p.capacity })}
                              >
                                <span class="load-fill" style={{ width: `${loadPercent(p.load, p.capacity)}%` }} />
                              </span>
                              <span class="load-text" data-testid="load">
                                {st("loadText", { load: p.load, capacity: p.capacity })}
                              </span>
                              {p.at_capacity && <strong class="flag full">■ {st("full")}</strong>}
                            </span>
                          </td>
                          <td>{languageNames(p.languages, ui)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              )}
            </section>
          </div>

          <section aria-labelledby="dash-libs-title">
            <h4 id="dash-libs-title">{st("librariesTitle")}</h4>
            <div class="table-wrap">
              <table class="stats-table" data-testid="dashboard-libraries">
                <thead>
                  <tr>
                    <th scope="col">{st("colLibrary")}</th>
                    <th scope="col" class="num">{st("colWaitingN")}</th>
                    <th scope="col" class="num">{st("colChatsN")}</th>
                    <th scope="col" class="num">{st("colOnlineN")}</th>
                    <th scope="col" class="num">{st("colFreeN")}</th>
                    <th scope="col" class="num">{st("colTodayServed")}</th>
                    <th scope="col" class="num">{st("colTodayConsultations")}</th>
                    <th scope="col" class="num">{st("colTodayDocuments")}</th>
                  </tr>
                </thead>
                <tbody>
                  {board.libraries.map((l) => (
                    <tr key={l.id} data-library={l.code}>
                      <th scope="row">{ui === "en" ? l.name_en || l.name : l.name}</th>
                      <td class="num">{l.waiting}</td>
                      <td class="num">{l.chats}</td>
                      <td class="num">{l.online}</td>
                      <td class="num">{l.free}</td>
                      <td class="num">{l.today_served}</td>
                      <td class="num">{l.today_consultations}</td>
                      <td class="num">{l.today_documents}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </section>

          <section aria-labelledby="dash-today-title">
            <h4 id="dash-today-title">{st("todayTitle")}</h4>
            <div class="table-wrap">
              <table class="stats-table narrow" data-testid="dashboard-today">
                <thead>
                  <tr>
                    <th scope="col">{st("colFigure")}</th>
                    <th scope="col" class="num">
                      {board.scope === "alliance" ? st("colAlliance") : st("colMine")}
                    </th>
                    {board.scope !== "alliance" && (
                      <th scope="col" class="num">
                        {st("colAlliance")}
                      </th>
                    )}
                  </tr>
                </thead>
                <tbody>
                  {TODAY_FIGURES.map((f) => (
                    <tr key={f.key} data-figure={f.key}>
                      <th scope="row">{st(`fig_${f.key}` as SKey)}</th>
                      <td class="num">{figure(board.today, f.key, f.kind)}</td>
                      {board.scope !== "alliance" && <td class="num">{figure(board.alliance_today, f.key, f.kind)}</td>}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <p class="muted small">{st("todayNote")}</p>
          </section>
        </div>
      )}
    </section>
  );
}

function figure(f: Figures | undefined, key: string, kind: "count" | "seconds" | "share"): string {
  const v = f?.[key];
  if (kind === "seconds") return seconds(v, lang());
  if (kind === "share") return percent(v);
  return typeof v === "number" ? String(v) : "—";
}

function Tile(props: { label: string; value: string; name: string; warn?: boolean }) {
  return (
    <div class={props.warn ? "tile warn-tile" : "tile"} data-tile={props.name}>
      <dt>{props.label}</dt>
      <dd>
        {props.value}
        {props.warn && <span class="flag">⚠ {st("longWait")}</span>}
      </dd>
    </div>
  );
}

// 文献传递统计 · the delivery ledger: the documents delivered in chats (the figure the alliance
// reports), counted by consultant, library, day or month, the rows themselves, and both as
// CSV. The desk decides what each role sees (a consultant their own; a supervisor the
// alliance's counts and their library's rows; an admin everything).
import { useEffect, useRef, useState } from "preact/hooks";
import type { DeskClient } from "./client";
import {
  type CountRow,
  type Direction,
  docTypeName,
  formatBytes,
  GROUPS,
  httpUrl,
  type Kind,
  type LedgerFilters,
  ledgerQuery,
  type Preset,
  totals,
} from "./delivery";
import { type LedgerRow, ledgerCounts, ledgerRows } from "./delivery-api";
import { apiErrorText } from "./errors";
import { dateTime, lang } from "./i18n";
import { type DKey, dt } from "./i18n-delivery";
import type { Me } from "./types";

const PRESETS: Preset[] = ["today", "month", "year", "custom"];
const DIRECTIONS: Direction[] = ["to_reader", "from_reader", "all"];
const KINDS: Kind[] = ["", "file", "link"];
const PAGE = 50;

export function Ledger(props: { me: Me; client: DeskClient }) {
  const c = props.client;
  const [f, setF] = useState<LedgerFilters>({
    preset: "month",
    from: "",
    to: "",
    direction: "to_reader",
    kind: "",
    group: "consultant",
  });
  const [counts, setCounts] = useState<{ counts: CountRow[]; group: string } | null>(null);
  const [rows, setRows] = useState<LedgerRow[]>([]);
  const [more, setMore] = useState(false);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const asked = useRef(0);

  const set = (change: Partial<LedgerFilters>) => setF((x) => ({ ...x, ...change }));

  useEffect(() => {
    const n = ++asked.current;
    const now = new Date();
    setLoading(true);
    setError(null);
    Promise.all([
      ledgerCounts(ledgerQuery(f, now, { group: true })),
      ledgerRows(ledgerQuery(f, now, { limit: PAGE })),
    ])
      .then(([cs, rs]) => {
        if (n !== asked.current) return; // a newer question was asked meanwhile
        setCounts({ counts: cs.counts, group: cs.group });
        setRows(rs.rows);
        setMore(rs.more);
      })
      .catch((e) => n === asked.current && setError(dt("loadFailed", { message: apiErrorText(e) })))
      .finally(() => n === asked.current && setLoading(false));
  }, [f]);

  const loadMore = async () => {
    const last = rows[rows.length - 1];
    if (!last) return;
    const n = asked.current;
    try {
      const rs = await ledgerRows(ledgerQuery(f, new Date(), { limit: PAGE, before_id: last.id }));
      if (n !== asked.current) return;
      setRows((list) => [...list, ...rs.rows]);
      setMore(rs.more);
    } catch (e) {
      setError(dt("loadFailed", { message: apiErrorText(e) }));
    }
  };

  const ui = lang();
  const paren = (x: string) => (ui === "en" ? ` (${x})` : `（${x}）`);
  const library = (code: string | null) => (code ? c.libraryName(code, ui) : "—");
  const keyText = (r: CountRow) => {
    if (r.key === null || r.key === "") return "—";
    if (counts?.group === "consultant") return r.name ? `${r.name}${paren(String(r.key))}` : String(r.key);
    if (counts?.group === "serving_library" || counts?.group === "origin_library") {
      const known = c.libraries.has(String(r.key));
      return known ? library(String(r.key)) : r.name || String(r.key);
    }
    return String(r.key);
  };
  const sum = counts ? totals(counts.counts) : null;
  const now = new Date();
  const countsCsv = `/api/ledger/counts.csv?${ledgerQuery(f, now, { group: true })}`;
  const rowsCsv = `/api/ledger/export.csv?${ledgerQuery(f, now)}`;
  const role = props.me.role === "admin" ? "admin" : props.me.role === "supervisor" ? "supervisor" : "consultant";

  return (
    <section class="ledger" aria-labelledby="ledger-title" data-testid="ledger">
      <header class="ledger-head">
        <h2 id="ledger-title">{dt("view_ledger")}</h2>
        <p class="ledger-intro">{dt("ledgerIntro")}</p>
        <p class="muted small">{dt(`scope_${role}` as DKey)}</p>
      </header>

      <form class="ledger-filters" aria-label={dt("filters")} onSubmit={(e) => e.preventDefault()}>
        <fieldset class="ledger-period">
          <legend>{dt("period")}</legend>
          <div class="ledger-presets" role="group" aria-label={dt("period")}>
            {PRESETS.map((p) => (
              <button key={p} type="button" aria-pressed={f.preset === p} class={f.preset === p ? "selected" : ""} onClick={() => set({ preset: p })}>
                {dt(`preset_${p}` as DKey)}
              </button>
            ))}
          </div>
          {f.preset === "custom" && (
            <div class="ledger-dates">
              <label class="block">
                {dt("from")}
                <input type="date" value={f.from} max={f.to || undefined} onInput={(e) => set({ from: e.currentTarget.value })} />
              </label>
              <label class="block">
                {dt("to")}
                <input type="date" value={f.to} min={f.from || undefined} onInput={(e) => set({ to: e.currentTarget.value })} />
              </label>
              <span class="muted small">{dt("customHint")}</span>
            </div>
          )}
        </fieldset>
        <label class="block">
          {dt("direction")}
          <select value={f.direction} onChange={(e) => set({ direction: e.currentTarget.value as Direction })}>
            {DIRECTIONS.map((d) => (
              <option key={d} value={d}>
                {dt(`direction_${d}` as DKey)}
              </option>
            ))}
          </select>
        </label>
        <label class="block">
          {dt("kind")}
          <select value={f.kind} onChange={(e) => set({ kind: e.currentTarget.value as Kind })}>
            {KINDS.map((k) => (
              <option key={k} value={k}>
                {dt(`kind_${k || "all"}` as DKey)}
              </option>
            ))}
          </select>
        </label>
        <label class="block">
          {dt("group")}
          <select value={f.group} onChange={(e) => set({ group: e.currentTarget.value as LedgerFilters["group"] })}>
            {GROUPS.map((g) => (
              <option key={g} value={g}>
                {dt(`group_${g}` as DKey)}
              </option>
            ))}
          </select>
        </label>
        <p class="ledger-exports">
          <a class="button" href={countsCsv} download>
            {dt("exportCounts")}
          </a>
          <a class="button" href={rowsCsv} download>
            {dt("exportRows")}
          </a>
        </p>
      </form>

      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {loading && !counts && <p class="muted">{dt("loading")}</p>}

      {counts && sum && (
        <section class="ledger-counts" aria-labelledby="ledger-counts-title">
          <h3 id="ledger-counts-title">{dt("counts")}</h3>
          <div class="table-wrap">
            <table class="ledger-table" data-testid="ledger-counts">
              <thead>
                <tr>
                  <th scope="col">{dt(`group_${f.group}` as DKey)}</th>
                  <th scope="col" class="num">{dt("colTotal")}</th>
                  <th scope="col" class="num">{dt("colFiles")}</th>
                  <th scope="col" class="num">{dt("colLinks")}</th>
                  <th scope="col" class="num">{dt("colBytes")}</th>
                </tr>
              </thead>
              <tbody>
                {counts.counts.length === 0 ? (
                  <tr>
                    <td colSpan={5} class="muted">
                      {dt("countsEmpty")}
                    </td>
                  </tr>
                ) : (
                  counts.counts.map((r) => (
                    <tr key={String(r.key)} data-key={String(r.key)}>
                      <th scope="row">{keyText(r)}</th>
                      <td class="num">{r.total}</td>
                      <td class="num">{r.files}</td>
                      <td class="num">{r.links}</td>
                      <td class="num">{formatBytes(r.bytes)}</td>
                    </tr>
                  ))
                )}
              </tbody>
              <tfoot>
                <tr data-testid="ledger-total">
                  <th scope="row">{dt("totalRow")}</th>
                  <td class="num">{sum.total}</td>
                  <td class="num">{sum.files}</td>
                  <td class="num">{sum.links}</td>
                  <td class="num">{formatBytes(sum.bytes)}</td>
                </tr>
              </tfoot>
            </table>
          </div>
        </section>
      )}

      {counts && (
        <section class="ledger-rows" aria-labelledby="ledger-rows-title">
          <h3 id="ledger-rows-title">
            {dt("rows")} {rows.length > 0 && <span class="muted small">{dt("rowsShown", { n: rows.length })}</span>}
          </h3>
          <div class="table-wrap">
            <table class="ledger-table" data-testid="ledger-rows">
              <thead>
                <tr>
                  <th scope="col">{dt("colTime")}</th>
                  <th scope="col">{dt("colDirection")}</th>
                  <th scope="col">{dt("colTitle")}</th>
                  <th scope="col">{dt("colAuthors")}</th>
                  <th scope="col">{dt("colSource")}</th>
                  <th scope="col">{dt("colYear")}</th>
                  <th scope="col">{dt("colType")}</th>
                  <th scope="col">{dt("colFile")}</th>
                  <th scope="col" class="num">{dt("colSize")}</th>
                  <th scope="col">{dt("colConsultant")}</th>
                  <th scope="col">{dt("colServing")}</th>
                  <th scope="col">{dt("colOrigin")}</th>
                  <th scope="col">{dt("colChat")}</th>
                </tr>
              </thead>
              <tbody>
                {rows.length === 0 ? (
                  <tr>
                    <td colSpan={13} class="muted">
                      {dt("rowsEmpty")}
                    </td>
                  </tr>
                ) : (
                  rows.map((r) => {
                    const link = r.kind === "link" ? httpUrl(r.url) : null;
                    return (
                      <tr key={r.id} data-id={r.id}>
                        <td class="nowrap">{dateTime(r.created_at)}</td>
                        <td>{dt(`direction_${r.direction}` as DKey)}</td>
                        <td class="ledger-title-cell">{r.title}</td>
                        <td>{r.authors}</td>
                        <td>{r.source}</td>
                        <td>{r.year ?? ""}</td>
                        <td>{r.doc_type ? docTypeName(r.doc_type) : ""}</td>
                        <td class="ledger-file">
                          {r.kind === "file" ? (
                            <>
                              {r.file_name}
                              {r.file_purged_at && <span class="muted small">{paren(dt("purgedShort"))}</span>}
                            </>
                          ) : link ? (
                            <a href={link} target="_blank" rel="noopener noreferrer">
                              {r.url}
                            </a>
                          ) : (
                            r.url
                          )}
                        </td>
                        <td class="num">{r.kind === "file" ? formatBytes(r.size) : ""}</td>
                        <td>{r.consultant ?? "—"}</td>
                        <td>{library(r.serving_library)}</td>
                        <td>{library(r.origin_library)}</td>
                        <td class="nowrap">
                          {r.consultation_id !== null
                            ? dt("chatN", { id: r.consultation_id })
                            : r.ticket_id
                              ? dt("ticketN", { id: r.ticket_id })
                              : "—"}
                        </td>
                      </tr>
                    );
                  })
                )}
              </tbody>
            </table>
          </div>
          {more && (
            <button type="button" class="ledger-more" onClick={() => void loadMore()}>
              {dt("loadMore")}
            </button>
          )}
        </section>
      )}
    </section>
  );
}

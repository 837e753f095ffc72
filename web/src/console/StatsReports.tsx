// 报表 · a subject's figures per day, week, month or year (the alliance, a library, a
// consultant), as a chart and a table with a total, and the same as CSV or XLSX; 排行 · every
// consultant or library over a period, ranked by a column the desk sorts by.
import { useEffect, useRef, useState } from "preact/hooks";
import { apiErrorText } from "./errors";
import { lang } from "./i18n";
import { type SKey, st } from "./i18n-stats";
import {
  cell,
  columnLabel,
  GRAINS,
  type Grain,
  peak,
  REPORT_PRESETS,
  type ReportAsk,
  reportQuery,
  type Scope,
  suggestedGrain,
  sum,
  type TableAsk,
  tableQuery,
} from "./stats";
import { type Report, report, type Subjects, type Table, table } from "./stats-api";
import { BarChart } from "./StatsChart";
import { chosenRange, Exports, type PeriodChoice, PeriodPicker, periodProblem } from "./StatsParts";
import type { Me } from "./types";

/** Only the latest answer is shown: an older one arriving late is dropped. */
function useLatest<T>(load: (() => Promise<T>) | null, deps: unknown[]) {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const asked = useRef(0);
  useEffect(() => {
    const n = ++asked.current;
    if (!load) {
      setLoading(false);
      return;
    }
    setLoading(true);
    setError(null);
    load()
      .then((d) => n === asked.current && setData(d))
      .catch((e) => n === asked.current && setError(st("loadFailed", { message: apiErrorText(e) })))
      .finally(() => n === asked.current && setLoading(false));
  }, deps);
  return { data, error, loading };
}

function defaultScope(me: Me, s: Subjects): Scope {
  if (me.role === "admin") return "alliance";
  if (me.role === "supervisor" && s.libraries.length > 0) return "library";
  return "consultant";
}

function defaultId(scope: Scope, me: Me, s: Subjects): string {
  if (scope === "library") return (s.libraries.find((l) => l.id === me.library_id) ?? s.libraries[0])?.code ?? "";
  if (scope === "consultant") return String((s.consultants.find((c) => c.id === me.id) ?? s.consultants[0])?.id ?? me.id);
  return "";
}

export function StatsReports(props: { me: Me; subjects: Subjects }) {
  const s = props.subjects;
  const ui = lang();
  const [scope, setScope] = useState<Scope>(() => defaultScope(props.me, s));
  const [id, setId] = useState(() => defaultId(defaultScope(props.me, s), props.me, s));
  const [period, setPeriod] = useState<PeriodChoice>({ preset: "this_month", from: "", to: "" });
  const [grain, setGrain] = useState<Grain>("day");

  const range = chosenRange(period, s.today);
  const problem = periodProblem(period, s.today);
  const ask: ReportAsk = { scope, id, grain, ...range };
  const q = reportQuery(ask);
  const { data, error, loading } = useLatest<Report>(problem ? null : () => report(q), [q, problem]);

  const scopes: Scope[] = ["alliance"];
  if (s.libraries.length > 0) scopes.push("library");
  if (s.consultants.length > 0) scopes.push("consultant");

  const changeScope = (next: Scope) => {
    setScope(next);
    setId(defaultId(next, props.me, s));
  };
  const changePeriod = (p: PeriodChoice) => {
    if (p.preset !== period.preset && p.preset !== "custom") setGrain(suggestedGrain(p.preset));
    setPeriod(p);
  };

  const subjectName = (() => {
    if (scope === "alliance") return st("scope_alliance");
    if (scope === "library") {
      const l = s.libraries.find((x) => x.code === id);
      return l ? (ui === "en" ? l.name_en || l.name : l.name) : id;
    }
    const c = s.consultants.find((x) => String(x.id) === id);
    return c ? c.name || c.username : id;
  })();

  const shown = data && !problem ? data : null;
  const labels = shown ? shown.rows.map((r) => r.period) : [];
  const served = shown ? shown.rows.map((r) => Number(r.served ?? 0)) : [];
  const documents = shown ? shown.rows.map((r) => Number(r.documents ?? 0)) : [];
  const grainWord = st(`grain_${shown?.grain ?? grain}` as SKey);
  const summary = (() => {
    if (!shown) return "";
    const base = { title: st("chartTitle"), subject: subjectName, from: shown.from, to: shown.to };
    const ps = peak(served);
    const pd = peak(documents);
    if (!ps || !pd || sum(served) + sum(documents) === 0) return st("chartSummaryEmpty", base);
    return st("chartSummary", {
      ...base,
      grain: grainWord,
      n: labels.length,
      served: sum(served),
      peakServed: ps.value,
      peakServedAt: labels[ps.index],
      documents: sum(documents),
      peakDocs: pd.value,
      peakDocsAt: labels[pd.index],
    });
  })();

  return (
    <section class="stats-page" aria-labelledby="reports-title" data-testid="reports">
      <h3 id="reports-title">{st("reportsTitle")}</h3>
      <form class="stats-filters" aria-label={st("reportFilters")} onSubmit={(e) => e.preventDefault()}>
        <label class="block">
          {st("scope")}
          <select value={scope} onChange={(e) => changeScope(e.currentTarget.value as Scope)}>
            {scopes.map((x) => (
              <option key={x} value={x}>
                {st(`scope_${x}` as SKey)}
              </option>
            ))}
          </select>
        </label>
        {scope !== "alliance" && (
          <label class="block">
            {st("subject")}
            <select value={id} onChange={(e) => setId(e.currentTarget.value)}>
              {scope === "library"
                ? s.libraries.map((l) => (
                    <option key={l.code} value={l.code}>
                      {ui === "en" ? l.name_en || l.name : l.name}
                    </option>
                  ))
                : s.consultants.map((c) => (
                    <option key={c.id} value={String(c.id)}>
                      {c.name || c.username}（{c.username}）
                    </option>
                  ))}
            </select>
          </label>
        )}
        <PeriodPicker id="report-period" presets={REPORT_PRESETS} value={period} today={s.today} onChange={changePeriod} />
        <label class="block">
          {st("grain")}
          <select value={grain} onChange={(e) => setGrain(e.currentTarget.value as Grain)}>
            {GRAINS.map((g) => (
              <option key={g} value={g}>
                {st(`grain_${g}` as SKey)}
              </option>
            ))}
          </select>
        </label>
        {!problem && <Exports path="/api/stats/report" query={(f) => reportQuery(ask, f)} />}
      </form>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {loading && !shown && <p class="muted">{st("loading")}</p>}
      {shown && (
        <>
          <BarChart
            testId="report-chart"
            labels={labels}
            summary={summary}
            series={[
              { name: st("legendServed"), values: served, className: "series-served" },
              { name: st("legendDocuments"), values: documents, className: "series-documents" },
            ]}
          />
          <h4 id="report-figures-title">{st("figuresTitle")}</h4>
          <div class="table-wrap">
            <table class="stats-table" aria-labelledby="report-figures-title" data-testid="report-table">
              <thead>
                <tr>
                  <th scope="col">{st("colPeriod")}</th>
                  {shown.columns.map((col) => (
                    <th key={col.key} scope="col" class="num" data-column={col.key}>
                      {columnLabel(col, ui)}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {shown.rows.length === 0 ? (
                  <tr>
                    <td colSpan={shown.columns.length + 1} class="muted">
                      {st("rowsEmpty")}
                    </td>
                  </tr>
                ) : (
                  shown.rows.map((r) => (
                    <tr key={r.period} data-period={r.period}>
                      <th scope="row" class="nowrap">
                        {r.period}
                      </th>
                      {shown.columns.map((col) => (
                        <td key={col.key} class="num" data-column={col.key}>
                          {cell(col.key, r[col.key], ui)}
                        </td>
                      ))}
                    </tr>
                  ))
                )}
              </tbody>
              <tfoot>
                <tr data-testid="report-total">
                  <th scope="row">{st("totalRow")}</th>
                  {shown.columns.map((col) => (
                    <td key={col.key} class="num" data-column={col.key}>
                      {cell(col.key, shown.total[col.key], ui)}
                    </td>
                  ))}
                </tr>
              </tfoot>
            </table>
          </div>
          <p class="muted small">{st("reportNote")}</p>
        </>
      )}
    </section>
  );
}

export function StatsTables(props: { me: Me; subjects: Subjects; libraries: { code: string; name: string }[] }) {
  const s = props.subjects;
  const ui = lang();
  const [kind, setKind] = useState<"consultant" | "library">("consultant");
  const [sort, setSort] = useState("served");
  const [library, setLibrary] = useState("");
  const [period, setPeriod] = useState<PeriodChoice>({ preset: "this_month", from: "", to: "" });
  const range = chosenRange(period, s.today);
  const problem = periodProblem(period, s.today);
  const ask: TableAsk = { kind, sort, library, ...range };
  const q = tableQuery(ask);
  const { data, error, loading } = useLatest<Table>(problem ? null : () => table(q), [q, problem]);
  const shown = data && !problem && data.kind === kind ? data : null;
  const admin = props.me.role === "admin";

  const columnName = (key: string) => {
    const col = shown?.columns.find((c) => c.key === key);
    return col ? columnLabel(col, ui) : key;
  };

  return (
    <section class="stats-page" aria-labelledby="tables-title" data-testid="tables">
      <h3 id="tables-title">{st("tablesTitle")}</h3>
      <form class="stats-filters" aria-label={st("tablesTitle")} onSubmit={(e) => e.preventDefault()}>
        <label class="block">
          {st("kind")}
          <select
            value={kind}
            onChange={(e) => {
              setKind(e.currentTarget.value as "consultant" | "library");
              // Columns differ by kind; served is in both.
              setSort("served");
            }}
          >
            <option value="consultant">{st("kind_consultant")}</option>
            <option value="library">{st("kind_library")}</option>
          </select>
        </label>
        {admin && kind === "consultant" && (
          <label class="block">
            {st("library")}
            <select value={library} onChange={(e) => setLibrary(e.currentTarget.value)}>
              <option value="">{st("allLibraries")}</option>
              {props.libraries.map((l) => (
                <option key={l.code} value={l.code}>
                  {l.name}
                </option>
              ))}
            </select>
          </label>
        )}
        <PeriodPicker id="table-period" presets={REPORT_PRESETS} value={period} today={s.today} onChange={setPeriod} />
        {shown && (
          <label class="block">
            {st("sortBy")}
            <select value={sort} onChange={(e) => setSort(e.currentTarget.value)}>
              {shown.columns.map((c) => (
                <option key={c.key} value={c.key}>
                  {columnLabel(c, ui)}
                </option>
              ))}
            </select>
          </label>
        )}
        {!problem && <Exports path="/api/stats/table" query={(f) => tableQuery(ask, f)} />}
      </form>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {loading && !shown && <p class="muted">{st("loading")}</p>}
      {shown && (
        <>
          <p class="muted small" id="table-sorted">
            {st("sortedBy", { column: columnName(sort) })}
          </p>
          <div class="table-wrap">
            <table class="stats-table" aria-labelledby="tables-title" aria-describedby="table-sorted" data-testid="ranking">
              <thead>
                <tr>
                  <th scope="col" class="num">
                    {st("colRank")}
                  </th>
                  <th scope="col">{st("colMember")}</th>
                  <th scope="col">{kind === "consultant" ? st("colLibrary") : st("colCode")}</th>
                  {shown.columns.map((col) => (
                    <th
                      key={col.key}
                      scope="col"
                      class="num"
                      aria-sort={col.key === sort ? "descending" : undefined}
                    >
                      <button
                        type="button"
                        class={col.key === sort ? "link sort selected" : "link sort"}
                        aria-label={st("sortColumn", { column: columnLabel(col, ui) })}
                        onClick={() => setSort(col.key)}
                      >
                        {columnLabel(col, ui)}
                        {col.key === sort ? " ▼" : ""}
                      </button>
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {shown.rows.length === 0 ? (
                  <tr>
                    <td colSpan={shown.columns.length + 3} class="muted">
                      {st("tableEmpty")}
                    </td>
                  </tr>
                ) : (
                  shown.rows.map((r, i) => (
                    <tr key={r.id} data-id={r.id}>
                      <td class="num">{i + 1}</td>
                      <th scope="row">{kind === "consultant" ? `${r.name}（${r.code}）` : r.name}</th>
                      <td>{kind === "consultant" ? (props.libraries.find((l) => l.code === r.library)?.name ?? r.library) : r.code}</td>
                      {shown.columns.map((col) => (
                        <td key={col.key} class="num" data-column={col.key}>
                          {cell(col.key, r[col.key], ui)}
                        </td>
                      ))}
                    </tr>
                  ))
                )}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}

// 咨询记录 · searching the ended consultations: a query (Chinese phrases, English words),
// the filters the desk takes, results newest first with their hits highlighted, more on
// request, and the masked exports for supervisors.
import { useEffect, useRef, useState } from "preact/hooks";
import type { DeskClient } from "./client";
import { apiErrorText } from "./errors";
import { dateTime, lang } from "./i18n";
import { type TKey, tt } from "./i18n-transcripts";
import { languageName } from "./languages";
import { MaskedText, Snippet } from "./TranscriptText";
import {
  EMPTY_FILTERS,
  exportUrl,
  isSupervisor,
  MAX_QUERY_CHARS,
  type SearchFilters,
  type TranscriptSummary,
} from "./transcripts";
import { searchTranscripts } from "./transcripts-api";
import type { Me } from "./types";

const STATES: SearchFilters["state"][] = ["closed", "abandoned", "handed_off"];
const RATINGS: SearchFilters["rating"][] = ["1", "0", "none"];
const LANGUAGES = ["zh-CN", "en"];

export type People = Map<number, string>;

export function TranscriptSearch(props: {
  me: Me;
  client: DeskClient;
  people: People;
  onPeople: (seen: TranscriptSummary[]) => void;
  onOpen: (id: number) => void;
  hidden: boolean;
}) {
  const c = props.client;
  const [draft, setDraft] = useState<SearchFilters>(EMPTY_FILTERS);
  const [applied, setApplied] = useState<SearchFilters>(EMPTY_FILTERS);
  const [results, setResults] = useState<TranscriptSummary[] | null>(null);
  const [more, setMore] = useState(false);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const asked = useRef(0);

  useEffect(() => {
    const n = ++asked.current;
    setLoading(true);
    setError(null);
    searchTranscripts(applied)
      .then((r) => {
        if (n !== asked.current) return; // a newer search was asked meanwhile
        setResults(r.results);
        setMore(r.more);
        props.onPeople(r.results);
      })
      .catch((e) => n === asked.current && setError(tt("loadFailed", { message: apiErrorText(e) })))
      .finally(() => n === asked.current && setLoading(false));
  }, [applied]);

  const loadMore = async () => {
    const last = results?.[results.length - 1];
    if (!last) return;
    const n = asked.current;
    setLoading(true);
    try {
      const r = await searchTranscripts(applied, last.consultation_id);
      if (n !== asked.current) return;
      setResults((list) => [...(list ?? []), ...r.results]);
      setMore(r.more);
      props.onPeople(r.results);
    } catch (e) {
      setError(tt("loadFailed", { message: apiErrorText(e) }));
    } finally {
      if (n === asked.current) setLoading(false);
    }
  };

  /** Choices apply at once; the typed ones (query, tag) when the form is sent. */
  const choose = (change: Partial<SearchFilters>) => {
    const next = { ...draft, ...change };
    setDraft(next);
    setApplied({ ...next });
  };
  const type = (change: Partial<SearchFilters>) => setDraft((x) => ({ ...x, ...change }));

  const ui = lang();
  const libs = [...c.libraries.values()];
  const library = (code: string | null) => (code ? c.libraryName(code, ui) : "—");
  const role = props.me.role === "admin" ? "admin" : props.me.role === "supervisor" ? "supervisor" : "consultant";
  const people = [...props.people.entries()].filter(([id]) => id !== props.me.id);

  return (
    <section class="tr-search" aria-labelledby="tr-search-title" hidden={props.hidden}>
      <h3 id="tr-search-title" class="sr-only">
        {tt("page_search")}
      </h3>
      <p class="muted small">{tt(`scope_${role}` as TKey)}</p>
      <form
        class="tr-filters"
        role="search"
        aria-label={tt("searchForm")}
        onSubmit={(e) => {
          e.preventDefault();
          setApplied({ ...draft });
        }}
      >
        <div class="tr-query">
          <label class="block">
            {tt("query")}
            <input
              type="search"
              name="q"
              value={draft.q}
              maxLength={MAX_QUERY_CHARS}
              aria-describedby="tr-query-hint"
              onInput={(e) => type({ q: e.currentTarget.value })}
            />
          </label>
          <button type="submit" class="primary">
            {tt("search")}
          </button>
          <button
            type="button"
            onClick={() => {
              setDraft(EMPTY_FILTERS);
              setApplied({ ...EMPTY_FILTERS });
            }}
          >
            {tt("clearFilters")}
          </button>
        </div>
        <p id="tr-query-hint" class="muted small">
          {tt("queryHint")}
        </p>
        <fieldset class="tr-fields">
          <legend>{tt("filters")}</legend>
          <label class="block">
            {tt("library")}
            <select value={draft.library} onChange={(e) => choose({ library: e.currentTarget.value })}>
              <option value="">{tt("any")}</option>
              {libs.map((l) => (
                <option key={l.code} value={l.code}>
                  {c.libraryName(l.code, ui)}
                </option>
              ))}
            </select>
          </label>
          <label class="block">
            {tt("serving")}
            <select value={draft.serving} onChange={(e) => choose({ serving: e.currentTarget.value })}>
              <option value="">{tt("any")}</option>
              {libs.map((l) => (
                <option key={l.code} value={l.code}>
                  {c.libraryName(l.code, ui)}
                </option>
              ))}
            </select>
          </label>
          <label class="block" title={tt("consultantHint")}>
            {tt("consultant")}
            <select value={draft.consultant} onChange={(e) => choose({ consultant: e.currentTarget.value })}>
              <option value="">{tt("any")}</option>
              <option value={String(props.me.id)}>{tt("me")}</option>
              {people.map(([id, name]) => (
                <option key={id} value={String(id)}>
                  {name}
                </option>
              ))}
            </select>
          </label>
          <label class="block">
            {tt("from")}
            <input type="date" value={draft.from} max={draft.to || undefined} onInput={(e) => choose({ from: e.currentTarget.value })} />
          </label>
          <label class="block">
            {tt("to")}
            <input type="date" value={draft.to} min={draft.from || undefined} onInput={(e) => choose({ to: e.currentTarget.value })} />
          </label>
          <label class="block">
            {tt("state")}
            <select value={draft.state} onChange={(e) => choose({ state: e.currentTarget.value as SearchFilters["state"] })}>
              <option value="">{tt("any")}</option>
              {STATES.map((s) => (
                <option key={s} value={s}>
                  {tt(`state_${s}` as TKey)}
                </option>
              ))}
            </select>
          </label>
          <label class="block">
            {tt("language")}
            <select value={draft.language} onChange={(e) => choose({ language: e.currentTarget.value })}>
              <option value="">{tt("any")}</option>
              {LANGUAGES.map((l) => (
                <option key={l} value={l}>
                  {languageName(l, ui)}
                </option>
              ))}
            </select>
          </label>
          <label class="block">
            {tt("rating")}
            <select value={draft.rating} onChange={(e) => choose({ rating: e.currentTarget.value as SearchFilters["rating"] })}>
              <option value="">{tt("any")}</option>
              {RATINGS.map((r) => (
                <option key={r} value={r}>
                  {tt(`rating_${r}` as TKey)}
                </option>
              ))}
            </select>
          </label>
          <label class="block">
            {tt("tag")}
            <input type="text" value={draft.tag} placeholder={tt("tagHint")} onInput={(e) => type({ tag: e.currentTarget.value })} />
          </label>
        </fieldset>
      </form>

      {isSupervisor(props.me.role) && (
        <p class="tr-exports">
          <span>{tt("exports")}</span>
          <a class="button" href={exportUrl(applied, "csv")} download>
            {tt("exportCsv")}
          </a>
          <a class="button" href={exportUrl(applied, "jsonl")} download>
            {tt("exportJsonl")}
          </a>
          <span class="muted small">{tt("exportHint")}</span>
        </p>
      )}

      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {loading && !results && <p class="muted">{tt("loading")}</p>}

      {results && (
        <section aria-labelledby="tr-results-title" aria-busy={loading}>
          <h3 id="tr-results-title">
            {tt("results")} {results.length > 0 && <span class="muted small">{tt("resultsShown", { n: results.length })}</span>}
          </h3>
          {results.length === 0 ? (
            <p class="muted">{tt("noResults")}</p>
          ) : (
            <ol class="tr-results" data-testid="transcript-results">
              {results.map((r) => (
                <li key={r.consultation_id} class="tr-result" data-consultation={r.consultation_id}>
                  <h4>
                    <button
                      type="button"
                      class="link tr-open"
                      aria-label={tt("openChat", { id: r.consultation_id })}
                      onClick={() => props.onOpen(r.consultation_id)}
                    >
                      {tt("chatN", { id: r.consultation_id })}
                    </button>
                    <span class={`tr-state state-${r.state}`}>{tt(`state_${r.state}` as TKey)}</span>
                    {r.has_personal_data && <span class="tr-badge">{tt("hasPersonal")}</span>}
                  </h4>
                  <p class="tr-meta muted small">
                    {library(r.library)}
                    {r.serving_library && r.serving_library !== r.library && ` → ${library(r.serving_library)}`} ·{" "}
                    {r.consultant ? r.consultant.name || r.consultant.username : tt("noConsultant")} ·{" "}
                    {languageName(r.language, ui)} · <time dateTime={r.created_at}>{dateTime(r.created_at)}</time> ·{" "}
                    {tt("messagesN", { n: r.messages })}
                    {r.rating !== null && ` · ${tt(r.rating === 1 ? "rating_1" : "rating_0")}`}
                  </p>
                  {r.question && (
                    <p class="tr-question">
                      <MaskedText text={r.question} />
                    </p>
                  )}
                  {r.snippets.length > 0 && (
                    <div class="tr-snippets" aria-label={tt("hits")}>
                      {r.snippets.map((s, i) => (
                        <Snippet key={i} pieces={s} />
                      ))}
                    </div>
                  )}
                  {r.tags.length > 0 && (
                    <ul class="tr-tags" aria-label={tt("tags")}>
                      {r.tags.map((tag) => (
                        <li key={tag}>{tag}</li>
                      ))}
                    </ul>
                  )}
                </li>
              ))}
            </ol>
          )}
          {more && (
            <button type="button" class="tr-more" disabled={loading} onClick={() => void loadMore()}>
              {tt("loadMore")}
            </button>
          )}
        </section>
      )}
    </section>
  );
}

// 典型案例 · the case library: published cases for everyone, drafts for their author and the
// library's supervisors; search by words, state, category, library and tag; one case opened
// to edit its anonymised text (masked again by the desk on every save), publish or withdraw;
// the published ones exported as Markdown or JSON.
import { useEffect, useRef, useState } from "preact/hooks";
import type { DeskClient } from "./client";
import { apiErrorText } from "./errors";
import { dateTime, lang } from "./i18n";
import { categoryName, type TKey, tt } from "./i18n-transcripts";
import { MaskedText } from "./TranscriptText";
import {
  type CaseFilters,
  type CaseForm,
  type CaseState,
  caseChange,
  caseExportUrl,
  caseForm,
  EMPTY_CASE_FILTERS,
  isSupervisor,
  type TypicalCase,
} from "./transcripts";
import { editCase, getCase, listCases, publishCase, withdrawCase } from "./transcripts-api";
import type { Me } from "./types";

const STATES: CaseState[] = ["draft", "published", "withdrawn"];

export function CaseLibrary(props: {
  me: Me;
  client: DeskClient;
  openId: number | null;
  onOpen: (id: number | null) => void;
  onOpenChat: (id: number) => void;
  hidden: boolean;
}) {
  const c = props.client;
  const [draft, setDraft] = useState<CaseFilters>(EMPTY_CASE_FILTERS);
  const [applied, setApplied] = useState<CaseFilters>(EMPTY_CASE_FILTERS);
  const [cases, setCases] = useState<TypicalCase[] | null>(null);
  const [categories, setCategories] = useState<string[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [reload, setReload] = useState(0);
  const asked = useRef(0);

  useEffect(() => {
    const n = ++asked.current;
    setError(null);
    listCases(applied)
      .then((r) => {
        if (n !== asked.current) return;
        setCases(r.cases);
        setCategories(r.categories);
      })
      .catch((e) => n === asked.current && setError(tt("loadFailed", { message: apiErrorText(e) })));
  }, [applied, reload, props.hidden]);

  const choose = (change: Partial<CaseFilters>) => {
    const next = { ...draft, ...change };
    setDraft(next);
    setApplied(next);
  };
  const ui = lang();
  const libName = (id: number) => {
    const lib = c.librariesById.get(id);
    return lib ? c.libraryName(lib.code, ui) : `#${id}`;
  };
  const libs = [...c.libraries.values()];

  if (props.openId !== null) {
    // Kept while a chat is open from it, so an edit under way survives the visit.
    return (
      <div hidden={props.hidden}>
        <CaseEditor
        key={props.openId}
        me={props.me}
        id={props.openId}
        categories={categories}
        libName={libName}
        onBack={() => {
          props.onOpen(null);
          setReload((x) => x + 1);
        }}
        onOpenChat={props.onOpenChat}
        />
      </div>
    );
  }

  return (
    <section class="tr-cases" aria-labelledby="tr-cases-title" hidden={props.hidden}>
      <h3 id="tr-cases-title" class="sr-only">
        {tt("page_cases")}
      </h3>
      <p class="muted small">{tt("casesScope")}</p>
      <form
        class="tr-filters"
        role="search"
        aria-label={tt("casesForm")}
        onSubmit={(e) => {
          e.preventDefault();
          setApplied({ ...draft });
        }}
      >
        <div class="tr-query">
          <label class="block">
            {tt("casesQuery")}
            <input type="search" value={draft.q} onInput={(e) => setDraft({ ...draft, q: e.currentTarget.value })} />
          </label>
          <button type="submit" class="primary">
            {tt("search")}
          </button>
        </div>
        <fieldset class="tr-fields">
          <legend>{tt("filters")}</legend>
          <label class="block">
            {tt("caseState")}
            <select value={draft.state} onChange={(e) => choose({ state: e.currentTarget.value as CaseFilters["state"] })}>
              <option value="">{tt("any")}</option>
              {STATES.map((s) => (
                <option key={s} value={s}>
                  {tt(`caseState_${s}` as TKey)}
                </option>
              ))}
            </select>
          </label>
          <label class="block">
            {tt("category")}
            <select value={draft.category} onChange={(e) => choose({ category: e.currentTarget.value })}>
              <option value="">{tt("any")}</option>
              {categories.map((x) => (
                <option key={x} value={x}>
                  {categoryName(x)}
                </option>
              ))}
            </select>
          </label>
          <label class="block">
            {tt("caseLibrary")}
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
            {tt("tag")}
            <input type="text" value={draft.tag} placeholder={tt("tagHint")} onInput={(e) => setDraft({ ...draft, tag: e.currentTarget.value })} />
          </label>
        </fieldset>
      </form>
      <p class="tr-exports">
        <span>{tt("caseExports")}</span>
        <a class="button" href={caseExportUrl("md", applied.category)} download>
          {tt("exportMd")}
        </a>
        <a class="button" href={caseExportUrl("json", applied.category)} download>
          {tt("exportJson")}
        </a>
      </p>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {!cases && !error && <p class="muted">{tt("loading")}</p>}
      {cases &&
        (cases.length === 0 ? (
          <p class="muted">{tt("noCases")}</p>
        ) : (
          <>
            <p class="muted small">{tt("casesShown", { n: cases.length })}</p>
            <ol class="tr-results" data-testid="case-list">
              {cases.map((x) => (
                <li key={x.id} class="tr-result" data-case={x.id}>
                  <h4>
                    <button type="button" class="link tr-open" onClick={() => props.onOpen(x.id)}>
                      {x.title || tt("caseN", { id: x.id })}
                    </button>
                    <span class={`tr-state case-${x.state}`}>{tt(`caseState_${x.state}` as TKey)}</span>
                  </h4>
                  <p class="tr-meta muted small">
                    {tt("caseN", { id: x.id })} · {categoryName(x.category)} · {libName(x.library_id)} ·{" "}
                    {x.published_at ? tt("publishedAt", { t: dateTime(x.published_at) }) : tt("updatedAt", { t: dateTime(x.updated_at) })}
                  </p>
                  {x.summary && (
                    <p class="tr-question">
                      <MaskedText text={x.summary} />
                    </p>
                  )}
                  {x.tags.length > 0 && (
                    <ul class="tr-tags" aria-label={tt("tags")}>
                      {x.tags.map((tag) => (
                        <li key={tag}>{tag}</li>
                      ))}
                    </ul>
                  )}
                </li>
              ))}
            </ol>
          </>
        ))}
    </section>
  );
}

function CaseEditor(props: {
  me: Me;
  id: number;
  categories: string[];
  libName: (id: number) => string;
  onBack: () => void;
  onOpenChat: (id: number) => void;
}) {
  const ui = lang();
  const [item, setItem] = useState<TypicalCase | null>(null);
  const [canEdit, setCanEdit] = useState(false);
  const [f, setF] = useState<CaseForm | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState<{ text: string; error?: boolean } | null>(null);
  const [working, setWorking] = useState(false);

  const show = (x: TypicalCase, editable?: boolean) => {
    setItem(x);
    setF(caseForm(x, ui));
    if (editable !== undefined) setCanEdit(editable);
  };

  useEffect(() => {
    let live = true;
    getCase(props.id)
      .then((r) => live && show(r.case, r.can_edit))
      .catch((e) => live && setError(tt("loadFailed", { message: apiErrorText(e) })));
    return () => {
      live = false;
    };
  }, [props.id]);

  const run = async (what: () => Promise<string>) => {
    setWorking(true);
    setStatus(null);
    try {
      setStatus({ text: await what() });
    } catch (e) {
      setStatus({ text: e instanceof FormProblem ? e.message : apiErrorText(e), error: true });
    } finally {
      setWorking(false);
    }
  };

  const save = () =>
    run(async () => {
      if (!item || !f) return "";
      const change = caseChange(item, f);
      if (change.title === "") throw new FormProblem(tt("titleRequired"));
      if (change.question === "" || change.answer === "") throw new FormProblem(tt("textRequired"));
      if (Object.keys(change).length > 0) show(await editCase(item.id, change));
      return tt("saved");
    });

  const set = (change: Partial<CaseForm>) => f && setF({ ...f, ...change });
  const categories = item && !props.categories.includes(item.category) ? [item.category, ...props.categories] : props.categories;
  const supervisor = isSupervisor(props.me.role);
  const dirty = item && f ? Object.keys(caseChange(item, f)).length > 0 : false;

  return (
    <article class="tr-view tr-case" aria-labelledby="tr-case-title" data-case={props.id}>
      <p>
        <button type="button" class="link" onClick={props.onBack}>
          {tt("back")}
        </button>
      </p>
      <h3 id="tr-case-title">
        {tt("caseN", { id: props.id })}{" "}
        {item && <span class={`tr-state case-${item.state}`}>{tt(`caseState_${item.state}` as TKey)}</span>}
      </h3>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {!item && !error && <p class="muted">{tt("loading")}</p>}
      {item && f && (
        <>
          <p class="tr-meta muted small">
            {props.libName(item.library_id)} · {tt("updatedAt", { t: dateTime(item.updated_at) })}
            {item.published_at && ` · ${tt("publishedAt", { t: dateTime(item.published_at) })}`}
            {item.kb_entry_id !== null && item.state === "published" && ` · ${tt("inKb")}`} ·{" "}
            <button type="button" class="link" onClick={() => props.onOpenChat(item.consultation_id)}>
              {tt("openChatOf", { id: item.consultation_id })}
            </button>
          </p>
          <p class="muted small" role="note">
            {canEdit ? tt("caseMaskNote") : tt("readOnlyCase")}
          </p>
          <form
            class="tr-case-form"
            onSubmit={(e) => {
              e.preventDefault();
              void save();
            }}
          >
            <label class="block">
              {tt("caseTitleLabel")}
              <input type="text" maxLength={200} readOnly={!canEdit} value={f.title} onInput={(e) => set({ title: e.currentTarget.value })} />
            </label>
            <label class="block">
              {tt("category")}
              <select value={f.category} disabled={!canEdit} onChange={(e) => set({ category: e.currentTarget.value })}>
                {categories.map((x) => (
                  <option key={x} value={x}>
                    {categoryName(x)}
                  </option>
                ))}
              </select>
            </label>
            <label class="block">
              {tt("tagsEdit")}
              <input type="text" readOnly={!canEdit} value={f.tags} onInput={(e) => set({ tags: e.currentTarget.value })} />
            </label>
            <label class="block">
              {tt("summary")}
              <textarea rows={3} maxLength={2000} readOnly={!canEdit} value={f.summary} onInput={(e) => set({ summary: e.currentTarget.value })} />
            </label>
            <label class="block">
              {tt("question")}
              <textarea rows={5} maxLength={20000} readOnly={!canEdit} value={f.question} onInput={(e) => set({ question: e.currentTarget.value })} />
            </label>
            <label class="block">
              {tt("answer")}
              <textarea rows={8} maxLength={50000} readOnly={!canEdit} value={f.answer} onInput={(e) => set({ answer: e.currentTarget.value })} />
            </label>
            {canEdit && (
              <div class="dialog-actions">
                <button type="submit" class="primary" disabled={working || !dirty}>
                  {working ? tt("saving") : tt("save")}
                </button>
                {supervisor && item.state !== "published" && (
                  <button
                    type="button"
                    disabled={working || dirty}
                    title={tt("publishHint")}
                    onClick={() =>
                      void run(async () => {
                        const r = await publishCase(item.id);
                        show(r.case, r.can_edit);
                        return tt("published");
                      })
                    }
                  >
                    {tt("publish")}
                  </button>
                )}
                {supervisor && item.state === "published" && (
                  <button
                    type="button"
                    class="danger"
                    disabled={working}
                    onClick={() =>
                      void run(async () => {
                        const r = await withdrawCase(item.id);
                        show(r.case, r.can_edit);
                        return tt("withdrawn");
                      })
                    }
                  >
                    {tt("withdraw")}
                  </button>
                )}
              </div>
            )}
            {supervisor && canEdit && item.state !== "published" && <p class="muted small">{tt("publishHint")}</p>}
            <p role="status" class={status?.error ? "error" : "tr-notice"}>
              {status?.text ?? ""}
            </p>
          </form>
        </>
      )}
    </article>
  );
}

/** A problem with the form itself, said in words before anything is sent. */
class FormProblem extends Error {}

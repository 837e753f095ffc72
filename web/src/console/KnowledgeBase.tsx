// 知识库: the FAQ bot's entries, the library's own and the alliance-wide ones. Supervisors and
// admins add, edit, switch off, delete, import and export the library's; only admins the
// alliance's (each entry's `editable` says). Everyone else reads.
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError } from "./api";
import { Dialog } from "./Dialog";
import { settingsErrorText, st } from "./i18n-settings";
import * as api from "./settings-api";
import { fieldProblems, formatOfName, importProblems, problemsBy, problemText } from "./settings-forms";
import type { KbEntry, KbFields, KbFormat, KbImported, KbList, KbRowProblem, KbScope } from "./settings-types";
import type { Me } from "./types";

interface Draft extends KbFields {
  id: number | null;
  scope: KbScope;
}

type Note = { text: string; error: boolean } | null;

/** Once the page has re-rendered, focus the first of these (selectors within the page) found. */
function focusSoon(...selectors: string[]) {
  window.setTimeout(() => {
    for (const sel of selectors) {
      const el = document.querySelector<HTMLElement>(`.kb-page ${sel}`);
      if (el) return el.focus();
    }
  }, 0);
}

export function KnowledgeBase(props: { me: Me; onClose: () => void }) {
  const [q, setQ] = useState("");
  const [language, setLanguage] = useState("");
  const [list, setList] = useState<KbList | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [languages, setLanguages] = useState<string[]>(["zh-CN", "en"]);
  const [draft, setDraft] = useState<Draft | null>(null);
  const [note, setNote] = useState<Note>(null);
  const seq = useRef(0);

  const load = async () => {
    const n = ++seq.current;
    try {
      const r = await api.kbList(q, language);
      if (n !== seq.current) return; // a newer search is on its way
      setList(r);
      setLoadError(null);
      setLanguages((old) => [...new Set([...old, ...r.entries.map((e) => e.language)])]);
    } catch (e) {
      if (n === seq.current) setLoadError(st("loadFailed", { message: settingsErrorText(e) }));
    }
  };

  useEffect(() => {
    const timer = window.setTimeout(() => void load(), q ? 300 : 0);
    return () => window.clearTimeout(timer);
  }, [q, language]);

  const canEdit = list?.can_edit === true;

  // Back from the form, the focus goes to the entry's 编辑 (or to 新增条目).
  const closeForm = (id: number | null) => {
    setDraft(null);
    focusSoon(id === null ? ".kb-add" : `[data-entry="${id}"] .kb-edit`, ".kb-add");
  };
  const admin = props.me.role === "admin";
  const formLanguages = [...new Set([...languages, ...props.me.languages, ...(draft ? [draft.language] : [])])];

  return (
    <Dialog title={st("page_kb")} onClose={props.onClose}>
      <div class="settings-page kb-page">
        <p class="muted small">{st("kbIntro")}</p>
        {list && !canEdit && (
          <p class="notice" role="note">
            {st("readOnly")}
          </p>
        )}
        {loadError && (
          <p class="error" role="alert">
            {loadError}
          </p>
        )}
        {draft ? (
          <EntryForm
            draft={draft}
            admin={admin}
            languages={formLanguages}
            onCancel={() => {
              closeForm(draft.id);
            }}
            onSaved={(text) => {
              closeForm(draft.id);
              setNote({ text, error: false });
              void load();
            }}
          />
        ) : (
          <>
            <div class="kb-toolbar" role="search">
              <label class="block">
                {st("kbSearch")}
                <input
                  type="search"
                  value={q}
                  aria-describedby="kb-search-hint"
                  onInput={(e) => setQ(e.currentTarget.value)}
                />
              </label>
              <label class="block">
                {st("kbLanguage")}
                <select value={language} onChange={(e) => setLanguage(e.currentTarget.value)}>
                  <option value="">{st("kbAllLanguages")}</option>
                  {languages.map((l) => (
                    <option key={l} value={l}>
                      {l}
                    </option>
                  ))}
                </select>
              </label>
              {canEdit && (
                <button
                  type="button"
                  class="primary kb-add"
                  onClick={() => {
                    setNote(null);
                    setDraft({
                      id: null,
                      scope: "library",
                      language: language || props.me.languages[0] || "zh-CN",
                      question: "",
                      answer: "",
                      keywords: "",
                      active: true,
                    });
                  }}
                >
                  {st("kbAdd")}
                </button>
              )}
            </div>
            <p id="kb-search-hint" class="muted small">
              {st("kbSearchHint")}
            </p>
            {canEdit && <Files admin={admin} onImported={() => void load()} />}
            {note && (
              <p class={note.error ? "error" : "muted"} role={note.error ? "alert" : "status"}>
                {note.text}
              </p>
            )}
            {!list && !loadError && <p class="muted">{st("loading")}</p>}
            {list && (
              <Entries
                list={list}
                searching={q.trim() !== ""}
                onEdit={(e) => {
                  setNote(null);
                  setDraft({ ...e, id: e.id });
                }}
                onChanged={(text, error) => {
                  setNote({ text, error });
                  void load();
                }}
              />
            )}
          </>
        )}
      </div>
    </Dialog>
  );
}

function Entries(props: {
  list: KbList;
  searching: boolean;
  onEdit: (e: KbEntry) => void;
  onChanged: (text: string, error: boolean) => void;
}) {
  const { list } = props;
  const [confirm, setConfirm] = useState<number | null>(null);
  const [busy, setBusy] = useState(false);
  const bot = list.bot_answer ?? null;

  const run = async (fn: () => Promise<unknown>, done: string, deleted = false) => {
    if (busy) return;
    setBusy(true);
    try {
      await fn();
      setConfirm(null);
      props.onChanged(done, false);
      // The deleted entry took the focus with it: back to the toolbar.
      if (deleted) focusSoon(".kb-add", ".kb-toolbar input");
    } catch (e) {
      props.onChanged(st("notSaved", { message: settingsErrorText(e) }), true);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="kb-list-title">
      <h3 id="kb-list-title">
        {st("kbList")}{" "}
        <span class="muted small" data-testid="kb-count">
          {props.searching ? st("kbSearchCount", { n: list.entries.length }) : st("kbCount", { n: list.entries.length })}
        </span>
      </h3>
      {props.searching && !bot && <p class="muted small">{st("kbNoBotAnswer")}</p>}
      {list.entries.length === 0 && <p class="muted">{st("kbEmpty")}</p>}
      <ul class="kb-entries">
        {list.entries.map((e) => (
          <li
            key={e.id}
            class={`kb-entry${e.active ? "" : " inactive"}`}
            data-entry={e.id}
            data-scope={e.scope}
            data-source={e.source}
          >
            <div class="kb-head">
              <strong class="kb-question">{e.question}</strong>
              <span class="lang">{e.language}</span>
              <span class={`kb-tag kb-scope-${e.scope}`}>{st(e.scope === "alliance" ? "kbScope_alliance" : "kbScope_library")}</span>
              {e.source === "case" && (
                <span class="kb-tag kb-case">
                  {st("kbFromCase")}
                  {e.source_ref ? ` · ${st("kbCaseRef", { ref: e.source_ref })}` : ""}
                </span>
              )}
              {!e.active && <span class="kb-tag kb-off">{st("kbInactive")}</span>}
            </div>
            {bot?.id === e.id && (
              <p class="kb-bot small" data-testid="kb-bot-answer">
                {st("kbBotAnswer", { confidence: bot.confidence.toFixed(2) })}
              </p>
            )}
            <p class="kb-answer">{e.answer}</p>
            {e.keywords && <p class="muted small">{st("kbKeywordsShown", { keywords: e.keywords })}</p>}
            {e.editable &&
              (confirm === e.id ? (
                <div class="kb-confirm" role="group" aria-label={st("kbDelete")}>
                  <p class="small">{st("kbDeleteAsk", { question: e.question })}</p>
                  <div class="actions">
                    <button type="button" class="danger" aria-disabled={busy || undefined} onClick={() => void run(() => api.kbDelete(e.id), st("kbDeleted"), true)}>
                      {st("kbDeleteConfirm")}
                    </button>
                    <button type="button" onClick={() => setConfirm(null)}>
                      {st("cancel")}
                    </button>
                  </div>
                </div>
              ) : (
                <div class="actions">
                  <button type="button" class="link kb-edit" onClick={() => props.onEdit(e)}>
                    {st("kbEdit")}
                  </button>
                  <button
                    type="button"
                    class="link"
                    aria-disabled={busy || undefined}
                    onClick={() => void run(() => api.kbUpdate(e.id, { active: !e.active }), st("saved"))}
                  >
                    {st(e.active ? "kbDeactivate" : "kbActivate")}
                  </button>
                  <button type="button" class="link danger" onClick={() => setConfirm(e.id)}>
                    {st("kbDelete")}
                  </button>
                </div>
              ))}
          </li>
        ))}
      </ul>
    </section>
  );
}

function FieldError(props: { id: string; problems?: string[] }) {
  if (!props.problems?.length) return null;
  return (
    <span id={props.id} class="field-error error small" role="alert">
      {props.problems.join("；")}
    </span>
  );
}

function EntryForm(props: {
  draft: Draft;
  admin: boolean;
  languages: string[];
  onCancel: () => void;
  onSaved: (text: string) => void;
}) {
  const [d, setD] = useState<Draft>(props.draft);
  const [busy, setBusy] = useState(false);
  const [problems, setProblems] = useState<Record<string, string[]>>({});
  const [error, setError] = useState<string | null>(null);
  const first = useRef<HTMLTextAreaElement>(null);

  useEffect(() => first.current?.focus(), []);

  const save = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    setProblems({});
    const fields: KbFields = {
      language: d.language,
      question: d.question,
      answer: d.answer,
      keywords: d.keywords,
      active: d.active,
    };
    try {
      if (d.id === null) await api.kbCreate(d.scope, fields);
      else await api.kbUpdate(d.id, fields);
      props.onSaved(st("saved"));
    } catch (err) {
      const byField = problemsBy(fieldProblems(err));
      if (err instanceof ApiError && err.error.code === "kb_duplicate") {
        byField.question = [st("err_kb_duplicate")];
      }
      setProblems(byField);
      // A refusal without a field (forbidden, a blank text on an edit, ...) is said above the
      // buttons; one with fields is shown at them.
      const shown = Object.keys(byField).some((k) => ["language", "question", "answer", "keywords", "scope"].includes(k));
      setError(
        shown
          ? st("err_invalid_payload")
          : err instanceof ApiError && err.error.code === "invalid_payload"
            ? problemText(err.error.message)
            : settingsErrorText(err),
      );
    } finally {
      setBusy(false);
    }
  };

  const field = (name: "question" | "answer" | "keywords", rows: number, max: number, hint?: string) => {
    const id = `kb-${name}`;
    const errId = `${id}-error`;
    const hintId = `${id}-hint`;
    return (
      <div class="field">
        <label for={id}>{st(name === "question" ? "kbQuestion" : name === "answer" ? "kbAnswer" : "kbKeywords")}</label>
        <textarea
          id={id}
          name={name}
          ref={name === "question" ? first : undefined}
          rows={rows}
          maxLength={max}
          value={d[name]}
          aria-invalid={problems[name] ? true : undefined}
          aria-describedby={[problems[name] ? errId : "", hint ? hintId : ""].filter(Boolean).join(" ") || undefined}
          onInput={(e) => setD({ ...d, [name]: e.currentTarget.value })}
        />
        {hint && (
          <span id={hintId} class="muted small">
            {hint}
          </span>
        )}
        <FieldError id={errId} problems={problems[name]} />
      </div>
    );
  };

  return (
    <form class="kb-form" onSubmit={save} aria-labelledby="kb-form-title">
      <h3 id="kb-form-title">{d.id === null ? st("kbNewTitle") : st("kbEditTitle", { id: d.id })}</h3>
      <div class="kb-form-row">
        {d.id === null && props.admin && (
          <div class="field">
            <label for="kb-scope">{st("kbScope")}</label>
            <select
              id="kb-scope"
              name="scope"
              value={d.scope}
              aria-describedby={problems.scope ? "kb-scope-error" : undefined}
              onChange={(e) => setD({ ...d, scope: e.currentTarget.value as KbScope })}
            >
              <option value="library">{st("kbScope_library")}</option>
              <option value="alliance">{st("kbScope_alliance")}</option>
            </select>
            <FieldError id="kb-scope-error" problems={problems.scope} />
          </div>
        )}
        <div class="field">
          <label for="kb-language">{st("kbLanguage")}</label>
          <select
            id="kb-language"
            name="language"
            value={d.language}
            aria-invalid={problems.language ? true : undefined}
            aria-describedby={problems.language ? "kb-language-error" : undefined}
            onChange={(e) => setD({ ...d, language: e.currentTarget.value })}
          >
            {props.languages.map((l) => (
              <option key={l} value={l}>
                {l}
              </option>
            ))}
          </select>
          <FieldError id="kb-language-error" problems={problems.language} />
        </div>
      </div>
      {field("question", 2, 500)}
      {field("answer", 5, 4000)}
      {field("keywords", 2, 1000, st("kbKeywordsHint"))}
      <label class="switch">
        <input type="checkbox" name="active" checked={d.active} onChange={(e) => setD({ ...d, active: e.currentTarget.checked })} />
        {st("kbActive")}
      </label>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <div class="dialog-actions">
        <button type="submit" class="primary" aria-disabled={busy || undefined}>
          {busy ? st("saving") : st("save")}
        </button>
        <button type="button" onClick={props.onCancel}>
          {st("cancel")}
        </button>
      </div>
    </form>
  );
}

function Files(props: { admin: boolean; onImported: () => void }) {
  const [scope, setScope] = useState<KbScope>("library");
  const [format, setFormat] = useState<KbFormat>("csv");
  const [file, setFile] = useState<File | null>(null);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<
    | { kind: "done"; r: KbImported }
    | { kind: "refused"; rows: KbRowProblem[]; message: string }
    | { kind: "error"; message: string }
    | { kind: "exported"; name: string }
    | null
  >(null);

  const doImport = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    if (!file) {
      setResult({ kind: "error", message: st("kbChooseFile") });
      return;
    }
    setBusy(true);
    setResult(null);
    try {
      const r = await api.kbImport(format, scope, file);
      setResult({ kind: "done", r });
      props.onImported();
    } catch (err) {
      const rows = importProblems(err);
      if (rows !== null && err instanceof ApiError) setResult({ kind: "refused", rows, message: err.error.message });
      else setResult({ kind: "error", message: st("notSaved", { message: settingsErrorText(err) }) });
    } finally {
      setBusy(false);
    }
  };

  const doExport = async (fmt: KbFormat) => {
    if (busy) return;
    setBusy(true);
    setResult(null);
    try {
      const { name, blob } = await api.kbExport(fmt, scope);
      const url = URL.createObjectURL(blob);
      const a = document.createElement("a");
      a.href = url;
      a.download = name;
      document.body.appendChild(a);
      a.click();
      a.remove();
      window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
      setResult({ kind: "exported", name });
    } catch (err) {
      setResult({ kind: "error", message: settingsErrorText(err) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <details class="kb-files">
      <summary>{st("kbFiles")}</summary>
      <div class="kb-files-body">
        <form class="kb-import" onSubmit={doImport}>
          {props.admin && (
            <label class="block">
              {st("kbFileScope")}
              <select value={scope} onChange={(e) => setScope(e.currentTarget.value as KbScope)}>
                <option value="library">{st("kbScope_library")}</option>
                <option value="alliance">{st("kbScope_alliance")}</option>
              </select>
            </label>
          )}
          <label class="block">
            {st("kbFile")}
            <input
              type="file"
              name="file"
              accept=".csv,.json,text/csv,application/json"
              aria-describedby="kb-import-hint"
              onChange={(e) => {
                const f = e.currentTarget.files?.[0] ?? null;
                setFile(f);
                setResult(null);
                const fmt = f ? formatOfName(f.name) : null;
                if (fmt) setFormat(fmt);
              }}
            />
          </label>
          <label class="block">
            {st("kbFormat")}
            <select value={format} onChange={(e) => setFormat(e.currentTarget.value as KbFormat)}>
              <option value="csv">CSV</option>
              <option value="json">JSON</option>
            </select>
          </label>
          <p id="kb-import-hint" class="muted small">
            {st("kbImportHint")}
          </p>
          <div class="actions">
            <button type="submit" class="primary" aria-disabled={busy || undefined}>
              {st("kbImport")}
            </button>
            <button type="button" aria-disabled={busy || undefined} onClick={() => void doExport("csv")}>
              {st("kbExportCsv")}
            </button>
            <button type="button" aria-disabled={busy || undefined} onClick={() => void doExport("json")}>
              {st("kbExportJson")}
            </button>
          </div>
        </form>
        {result?.kind === "done" && (
          <p class="ok" role="status">
            {st("kbImported", {
              written: result.r.created + result.r.updated,
              created: result.r.created,
              updated: result.r.updated,
              unchanged: result.r.unchanged,
            })}
          </p>
        )}
        {result?.kind === "exported" && (
          <p class="muted" role="status">
            {st("kbExported", { name: result.name })}
          </p>
        )}
        {result?.kind === "error" && (
          <p class="error" role="alert">
            {result.message}
          </p>
        )}
        {result?.kind === "refused" &&
          (result.rows.length === 0 ? (
            <p class="error" role="alert">
              {st("kbImportUnreadable", { message: problemText(result.message) })}
            </p>
          ) : (
            <div class="kb-refused" role="alert">
              <p class="error">{st("kbImportRefused", { n: result.rows.length })}</p>
              <table class="kb-problems">
                <thead>
                  <tr>
                    <th scope="col">{st("kbRow")}</th>
                    <th scope="col">{st("kbField")}</th>
                    <th scope="col">{st("kbProblem")}</th>
                  </tr>
                </thead>
                <tbody>
                  {result.rows.map((p, i) => (
                    <tr key={i} data-row={p.row}>
                      <td>{p.row}</td>
                      <td>
                        <code>{p.field}</code>
                      </td>
                      <td>{problemText(p.problem, p.field)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ))}
      </div>
    </details>
  );
}

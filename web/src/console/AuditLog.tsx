// 审计日志 · who opened, revealed, exported or erased readers' data (GET /api/audit): a
// supervisor sees the entries about their library's readers, an admin all. Never message text.
import { useEffect, useRef, useState } from "preact/hooks";
import type { DeskClient } from "./client";
import { apiErrorText } from "./errors";
import { dateTime, lang } from "./i18n";
import { type TKey, thas, tt } from "./i18n-transcripts";
import { AUDIT_ACTIONS, type AuditEntry, type AuditFilters, EMPTY_AUDIT_FILTERS } from "./transcripts";
import { auditLog } from "./transcripts-api";
import type { People } from "./TranscriptSearch";
import type { Me } from "./types";

/** The details worth showing, in words: a reason, a count, a format, a case, the chats. */
export function detailWords(d: Record<string, unknown>): string[] {
  const out: string[] = [];
  if (typeof d.reason === "string" && d.reason) out.push(tt("detailReason", { reason: d.reason }));
  if (typeof d.format === "string") out.push(tt("detailFormat", { format: d.format }));
  if (typeof d.count === "number") out.push(tt("detailCount", { n: d.count }));
  if (typeof d.case_id === "number") out.push(tt("detailCase", { id: d.case_id }));
  if (Array.isArray(d.consultations) && d.consultations.length > 0) {
    out.push(tt("detailChats", { list: d.consultations.map((x) => `#${x}`).join(" ") }));
  }
  return out;
}

export function AuditLog(props: {
  me: Me;
  client: DeskClient;
  people: People;
  onOpenChat: (id: number) => void;
  hidden: boolean;
}) {
  const c = props.client;
  const [draft, setDraft] = useState<AuditFilters>(EMPTY_AUDIT_FILTERS);
  const [applied, setApplied] = useState<AuditFilters>(EMPTY_AUDIT_FILTERS);
  const [entries, setEntries] = useState<AuditEntry[] | null>(null);
  const [more, setMore] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const asked = useRef(0);

  useEffect(() => {
    if (props.hidden) return;
    const n = ++asked.current;
    setError(null);
    auditLog(applied)
      .then((r) => {
        if (n !== asked.current) return;
        setEntries(r.entries);
        setMore(r.more);
      })
      .catch((e) => n === asked.current && setError(tt("loadFailed", { message: apiErrorText(e) })));
  }, [applied, props.hidden]);

  const loadMore = async () => {
    const last = entries?.[entries.length - 1];
    if (!last) return;
    const n = asked.current;
    try {
      const r = await auditLog(applied, last.id);
      if (n !== asked.current) return;
      setEntries((list) => [...(list ?? []), ...r.entries]);
      setMore(r.more);
    } catch (e) {
      setError(tt("loadFailed", { message: apiErrorText(e) }));
    }
  };

  const ui = lang();
  const people = [...props.people.entries()];
  if (!people.some(([id]) => id === props.me.id)) people.unshift([props.me.id, props.me.name]);

  return (
    <section class="tr-audit" aria-labelledby="tr-audit-title" hidden={props.hidden}>
      <h3 id="tr-audit-title" class="sr-only">
        {tt("page_audit")}
      </h3>
      <p class="muted small">{tt("auditIntro")}</p>
      <form
        class="tr-filters"
        aria-label={tt("auditForm")}
        onSubmit={(e) => {
          e.preventDefault();
          setApplied({ ...draft });
        }}
      >
        <label class="block">
          {tt("action")}
          <select
            value={draft.action}
            onChange={(e) => {
              const next = { ...draft, action: e.currentTarget.value };
              setDraft(next);
              setApplied(next);
            }}
          >
            <option value="">{tt("any")}</option>
            {AUDIT_ACTIONS.map((a) => (
              <option key={a} value={a}>
                {tt(`action_${a}` as TKey)}
              </option>
            ))}
          </select>
        </label>
        <label class="block">
          {tt("consultant")}
          <select
            value={draft.consultant}
            onChange={(e) => {
              const next = { ...draft, consultant: e.currentTarget.value };
              setDraft(next);
              setApplied(next);
            }}
          >
            <option value="">{tt("any")}</option>
            {people.map(([id, name]) => (
              <option key={id} value={String(id)}>
                {id === props.me.id ? tt("me") : name}
              </option>
            ))}
          </select>
        </label>
        <label class="block">
          {tt("consultationId")}
          <input
            type="text"
            inputMode="numeric"
            pattern="#?[0-9]*"
            size={8}
            value={draft.consultation}
            onInput={(e) => setDraft({ ...draft, consultation: e.currentTarget.value })}
          />
        </label>
        <button type="submit">{tt("apply")}</button>
      </form>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {!entries && !error && <p class="muted">{tt("loading")}</p>}
      {entries && (
        <>
          <p class="muted small">{tt("entriesShown", { n: entries.length })}</p>
          <div class="table-wrap">
            <table class="ledger-table tr-audit-table" data-testid="audit-log">
              <thead>
                <tr>
                  <th scope="col">{tt("colTime")}</th>
                  <th scope="col">{tt("colWho")}</th>
                  <th scope="col">{tt("colAction")}</th>
                  <th scope="col">{tt("colChat")}</th>
                  <th scope="col">{tt("colLibrary")}</th>
                  <th scope="col">{tt("colDetail")}</th>
                </tr>
              </thead>
              <tbody>
                {entries.length === 0 ? (
                  <tr>
                    <td colSpan={6} class="muted">
                      {tt("noEntries")}
                    </td>
                  </tr>
                ) : (
                  entries.map((e) => (
                    <tr key={e.id} data-action={e.action} data-consultation={e.consultation_id ?? ""}>
                      <td class="nowrap">
                        <time dateTime={e.at}>{dateTime(e.at)}</time>
                      </td>
                      <td>{e.consultant ?? tt("byDesk")}</td>
                      <td>{thas(`action_${e.action}`) ? tt(`action_${e.action}` as TKey) : e.action}</td>
                      <td class="nowrap">
                        {e.consultation_id !== null ? (
                          <button type="button" class="link" onClick={() => e.consultation_id !== null && props.onOpenChat(e.consultation_id)}>
                            {tt("chatN", { id: e.consultation_id })}
                          </button>
                        ) : (
                          "—"
                        )}
                      </td>
                      <td>{e.library ? c.libraryName(e.library, ui) : "—"}</td>
                      <td>{detailWords(e.detail ?? {}).join(" · ")}</td>
                    </tr>
                  ))
                )}
              </tbody>
            </table>
          </div>
          {more && (
            <button type="button" class="tr-more" onClick={() => void loadMore()}>
              {tt("loadMore")}
            </button>
          )}
        </>
      )}
    </section>
  );
}

// 用语提醒: the lists the console's etiquette helper checks a message against before it goes
// out: the alliance's default terms (read-only), the library's own terms and the hosts its
// readers cannot open. Supervisors and admins edit; everyone else reads.
import { useEffect, useState } from "preact/hooks";
import { Dialog } from "./Dialog";
import { settingsErrorText, st } from "./i18n-settings";
import * as api from "./settings-api";
import { etiquetteProblemKey, fieldProblems, listsToApi, problemsBy } from "./settings-forms";
import type { Etiquette, Host, HostReason, Term } from "./settings-types";

const REASONS: HostReason[] = ["campus", "paid", "intranet"];
/** Fired on `window` after the lists are saved (the console's composer listens for it). */
const ETIQUETTE_CHANGED = "desk:etiquette-changed";

function Problems(props: { id: string; list?: string[] }) {
  if (!props.list?.length) return null;
  return (
    <span id={props.id} class="field-error error small" role="alert">
      {props.list.join("；")}
    </span>
  );
}

function focusLater(id: string) {
  window.setTimeout(() => document.getElementById(id)?.focus(), 0);
}

export function EtiquetteLists(props: { onClose: () => void }) {
  const [data, setData] = useState<Etiquette | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [terms, setTerms] = useState<Term[]>([]);
  const [hosts, setHosts] = useState<Host[]>([]);
  const [problems, setProblems] = useState<Record<string, string[]>>({});
  const [message, setMessage] = useState<{ text: string; error: boolean } | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api
      .etiquette()
      .then((r) => {
        setData(r);
        setTerms(r.library.terms.map((x) => ({ ...x })));
        setHosts(r.library.hosts.map((x) => ({ ...x })));
      })
      .catch((e) => setLoadError(st("loadFailed", { message: settingsErrorText(e) })));
  }, []);

  const save = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    const { body, termRows, hostRows } = listsToApi(terms, hosts);
    setBusy(true);
    setMessage(null);
    setProblems({});
    try {
      const lists = await api.saveEtiquette(body);
      setTerms(lists.terms.map((x) => ({ ...x })));
      setHosts(lists.hosts.map((x) => ({ ...x })));
      setMessage({ text: st("saved"), error: false });
      // The composer's etiquette helper loads the lists again (ComposerChecks' ETIQUETTE_CHANGED).
      window.dispatchEvent(new Event(ETIQUETTE_CHANGED));
    } catch (err) {
      setProblems(problemsBy(fieldProblems(err), (p) => etiquetteProblemKey(p.field, termRows, hostRows)));
      setMessage({ text: st("notSaved", { message: settingsErrorText(err) }), error: true });
    } finally {
      setBusy(false);
    }
  };

  const ro = data !== null && !data.can_edit;

  const input = (
    id: string,
    label: string,
    value: string,
    bad: string[] | undefined,
    onInput: (v: string) => void,
    extra: { maxLength: number; placeholder?: string; describedBy?: string },
  ) => (
    <>
      <input
        id={id}
        value={value}
        readOnly={ro}
        maxLength={extra.maxLength}
        placeholder={extra.placeholder}
        aria-label={label}
        aria-invalid={bad ? true : undefined}
        aria-describedby={[bad ? `${id}-error` : "", extra.describedBy ?? ""].filter(Boolean).join(" ") || undefined}
        onInput={(e) => onInput(e.currentTarget.value)}
      />
      <Problems id={`${id}-error`} list={bad} />
    </>
  );

  return (
    <Dialog title={st("page_etiquette")} onClose={props.onClose}>
      <div class="settings-page etiquette-page">
        {loadError && (
          <p class="error" role="alert">
            {loadError}
          </p>
        )}
        {!data && !loadError && <p class="muted">{st("loading")}</p>}
        {data && (
          <form class="etiquette-form" onSubmit={save}>
            <p class="muted small">{st("etqIntro")}</p>
            {ro && (
              <p class="notice" role="note">
                {st("readOnly")}
              </p>
            )}

            <details class="etq-defaults">
              <summary>
                {st("etqDefaults")} <span class="muted small">({data.defaults.terms.length})</span>
              </summary>
              <table class="etq-table">
                <thead>
                  <tr>
                    <th scope="col">{st("etqTerm")}</th>
                    <th scope="col">{st("etqHint")}</th>
                  </tr>
                </thead>
                <tbody>
                  {data.defaults.terms.map((x) => (
                    <tr key={x.term}>
                      <td>{x.term}</td>
                      <td>{x.hint}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </details>

            <fieldset class="etq-terms">
              <legend>{st("etqTerms")}</legend>
              {terms.length === 0 && <p class="muted small">{st("etqNoTerms")}</p>}
              <ol class="etq-rows">
                {terms.map((x, i) => (
                  <li key={i} class="etq-row" data-term-row={i}>
                    <span class="etq-cell">
                      {input(
                        `etq-term-${i}`,
                        st("etqTermN", { n: i + 1 }),
                        x.term,
                        problems[`terms.${i}.term`],
                        (v) => setTerms(terms.map((y, j) => (j === i ? { ...y, term: v } : y))),
                        { maxLength: 40, placeholder: st("etqTerm") },
                      )}
                    </span>
                    <span class="etq-cell wide">
                      {input(
                        `etq-hint-${i}`,
                        st("etqHintN", { n: i + 1 }),
                        x.hint,
                        problems[`terms.${i}.hint`],
                        (v) => setTerms(terms.map((y, j) => (j === i ? { ...y, hint: v } : y))),
                        { maxLength: 200, placeholder: st("etqHint") },
                      )}
                    </span>
                    {!ro && (
                      <button
                        type="button"
                        class="link danger"
                        aria-label={st("etqRemoveTerm", { n: i + 1 })}
                        title={st("etqRemoveTerm", { n: i + 1 })}
                        onClick={() => {
                          setTerms(terms.filter((_, j) => j !== i));
                          focusLater("etq-add-term");
                        }}
                      >
                        ×
                      </button>
                    )}
                  </li>
                ))}
              </ol>
              <Problems id="etq-terms-error" list={problems.terms} />
              {!ro && (
                <button
                  type="button"
                  id="etq-add-term"
                  onClick={() => {
                    setTerms([...terms, { term: "", hint: "" }]);
                    focusLater(`etq-term-${terms.length}`);
                  }}
                >
                  + {st("etqAddTerm")}
                </button>
              )}
            </fieldset>

            <fieldset class="etq-hosts">
              <legend>{st("etqHosts")}</legend>
              <p id="etq-hosts-hint" class="muted small">
                {st("etqHostsHint")}
              </p>
              {hosts.length === 0 && <p class="muted small">{st("etqNoHosts")}</p>}
              <ol class="etq-rows">
                {hosts.map((x, i) => (
                  <li key={i} class="etq-row" data-host-row={i}>
                    <span class="etq-cell wide">
                      {input(
                        `etq-host-${i}`,
                        st("etqHostN", { n: i + 1 }),
                        x.host,
                        problems[`hosts.${i}.host`],
                        (v) => setHosts(hosts.map((y, j) => (j === i ? { ...y, host: v } : y))),
                        { maxLength: 253, placeholder: "lib.example.edu.cn", describedBy: "etq-hosts-hint" },
                      )}
                    </span>
                    <span class="etq-cell">
                      <select
                        id={`etq-reason-${i}`}
                        value={x.reason}
                        disabled={ro}
                        aria-label={st("etqReasonN", { n: i + 1 })}
                        aria-invalid={problems[`hosts.${i}.reason`] ? true : undefined}
                        onChange={(e) =>
                          setHosts(hosts.map((y, j) => (j === i ? { ...y, reason: e.currentTarget.value as HostReason } : y)))
                        }
                      >
                        {REASONS.map((r) => (
                          <option key={r} value={r}>
                            {st(`reason_${r}`)}
                          </option>
                        ))}
                      </select>
                      <Problems id={`etq-reason-${i}-error`} list={problems[`hosts.${i}.reason`]} />
                    </span>
                    {!ro && (
                      <button
                        type="button"
                        class="link danger"
                        aria-label={st("etqRemoveHost", { n: i + 1 })}
                        title={st("etqRemoveHost", { n: i + 1 })}
                        onClick={() => {
                          setHosts(hosts.filter((_, j) => j !== i));
                          focusLater("etq-add-host");
                        }}
                      >
                        ×
                      </button>
                    )}
                  </li>
                ))}
              </ol>
              <Problems id="etq-hosts-error" list={problems.hosts} />
              {!ro && (
                <button
                  type="button"
                  id="etq-add-host"
                  onClick={() => {
                    setHosts([...hosts, { host: "", reason: "campus" }]);
                    focusLater(`etq-host-${hosts.length}`);
                  }}
                >
                  + {st("etqAddHost")}
                </button>
              )}
            </fieldset>

            {message && (
              <p class={message.error ? "error" : "muted"} role={message.error ? "alert" : "status"}>
                {message.text}
              </p>
            )}
            <Problems id="etq-form-error" list={problems.form} />
            {!ro && (
              <div class="dialog-actions">
                <button type="submit" class="primary" aria-disabled={busy || undefined}>
                  {busy ? st("saving") : st("save")}
                </button>
              </div>
            )}
          </form>
        )}
      </div>
    </Dialog>
  );
}

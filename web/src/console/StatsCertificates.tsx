// 服务证明 · certificates of service: a consultant's own, or (supervisors) their library's or
// one of its consultants'; for a period that is over. The figures are fixed when issued and
// anyone can check the printable page at /verify/{code}. Supervisors and admins may revoke.
import { useEffect, useState } from "preact/hooks";
import { apiErrorText } from "./errors";
import { dateTime, lang } from "./i18n";
import { st } from "./i18n-stats";
import { CERTIFICATE_PRESETS, count, percent } from "./stats";
import {
  type Certificate,
  certificates as loadCertificates,
  issueCertificate,
  revokeCertificate,
  type Subjects,
} from "./stats-api";
import { chosenRange, type PeriodChoice, PeriodPicker, periodProblem } from "./StatsParts";
import type { Me } from "./types";

/** "self", "library:<id>" or "consultant:<id>". */
type Choice = string;

function num(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

export function StatsCertificates(props: { me: Me; subjects: Subjects }) {
  const s = props.subjects;
  const ui = lang();
  const staff = props.me.role === "supervisor" || props.me.role === "admin";
  const [choice, setChoice] = useState<Choice>("self");
  const [period, setPeriod] = useState<PeriodChoice>({ preset: "last_month", from: "", to: "" });
  const [list, setList] = useState<Certificate[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState<number | null>(null);

  const load = () =>
    loadCertificates()
      .then(setList)
      .catch((e) => setError(st("loadFailed", { message: apiErrorText(e) })));
  useEffect(() => {
    void load();
  }, []);

  const rangeProblem = periodProblem(period, s.today, true);
  const libraries = props.me.role === "admin" ? s.libraries : s.libraries.filter((l) => l.id === props.me.library_id);
  const people = s.consultants.filter((c) => c.id !== props.me.id);
  const libName = (l: { name: string; name_en: string }) => (ui === "en" ? l.name_en || l.name : l.name);

  const issue = async (e: Event) => {
    e.preventDefault();
    setNotice(null);
    if (rangeProblem) {
      setProblem(rangeProblem);
      return;
    }
    const [kind, raw] = choice.split(":");
    const body =
      kind === "library"
        ? { subject: "library" as const, id: Number(raw) }
        : kind === "consultant"
          ? { subject: "consultant" as const, id: Number(raw) }
          : { subject: "consultant" as const };
    setBusy(true);
    setProblem(null);
    try {
      const cert = await issueCertificate({ ...body, ...chosenRange(period, s.today) });
      setNotice(st("issued", { code: cert.code }));
      setList((old) => [cert, ...(old ?? []).filter((x) => x.id !== cert.id)]);
    } catch (err) {
      setProblem(st("issueFailed", { message: apiErrorText(err) }));
    } finally {
      setBusy(false);
    }
  };

  const revoke = async (cert: Certificate) => {
    setConfirming(null);
    setNotice(null);
    setError(null);
    try {
      const got = await revokeCertificate(cert.id);
      setList((old) => (old ?? []).map((x) => (x.id === got.id ? got : x)));
      setNotice(st("revoked", { code: got.code }));
    } catch (err) {
      setError(st("revokeFailed", { message: apiErrorText(err) }));
    }
  };

  return (
    <section class="stats-page" aria-labelledby="certs-title" data-testid="certificates">
      <h3 id="certs-title">{st("certsTitle")}</h3>
      <p class="muted">{st("certsIntro")}</p>
      <form class="stats-filters cert-form" aria-label={st("issue")} onSubmit={(e) => void issue(e)} noValidate>
        <label class="block">
          {st("certSubject")}
          <select value={choice} onChange={(e) => setChoice(e.currentTarget.value)}>
            <option value="self">
              {st("certSelf")}（{props.me.name}）
            </option>
            {staff &&
              libraries.map((l) => (
                <option key={`l${l.id}`} value={`library:${l.id}`}>
                  {l.id === props.me.library_id ? `${st("certLibrary")}（${libName(l)}）` : st("certLibraryOf", { name: libName(l) })}
                </option>
              ))}
            {staff &&
              people.map((c) => (
                <option key={`c${c.id}`} value={`consultant:${c.id}`}>
                  {st("certConsultantOf", { name: `${c.name || c.username}（${c.username}）` })}
                </option>
              ))}
          </select>
        </label>
        <PeriodPicker id="cert-period" presets={CERTIFICATE_PRESETS} value={period} today={s.today} mustBeOver onChange={setPeriod} />
        <p>
          <button type="submit" class="primary" disabled={busy || rangeProblem !== null}>
            {busy ? st("issuing") : st("issue")}
          </button>
        </p>
      </form>
      {problem && (
        <p class="error" role="alert">
          {problem}
        </p>
      )}
      {notice && (
        <p class="ok" role="status">
          {notice}
        </p>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <h4 id="certs-list-title">{st("certsList")}</h4>
      {list === null ? (
        !error && <p class="muted">{st("loading")}</p>
      ) : list.length === 0 ? (
        <p class="muted">{st("certsEmpty")}</p>
      ) : (
        <div class="table-wrap">
          <table class="stats-table" aria-labelledby="certs-list-title" data-testid="certificate-list">
            <thead>
              <tr>
                <th scope="col">{st("colCertCode")}</th>
                <th scope="col">{st("colCertSubject")}</th>
                <th scope="col">{st("colCertPeriod")}</th>
                <th scope="col" class="num">{st("colCertServed")}</th>
                <th scope="col" class="num">{st("colCertDocuments")}</th>
                <th scope="col" class="num">{st("colCertTickets")}</th>
                <th scope="col" class="num">{st("colCertSatisfaction")}</th>
                <th scope="col" class="num">{st("colCertPass")}</th>
                <th scope="col">{st("colCertIssued")}</th>
                <th scope="col">{st("colCertState")}</th>
                <th scope="col">
                  <span class="sr-only">{st("openCert")}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((x) => {
                const f = x.figures ?? {};
                const who = f.subject ?? {};
                const name = ui === "en" ? who.name_en || who.name : who.name;
                return (
                  <tr key={x.id} data-code={x.code} class={x.revoked_at ? "revoked" : ""}>
                    <th scope="row" class="nowrap code">
                      {x.code}
                    </th>
                    <td class="nowrap">{name ?? ""}</td>
                    <td class="nowrap">{st("rangeShown", { from: x.from, to: x.to })}</td>
                    <td class="num">{count(num(f.served), ui)}</td>
                    <td class="num">{count(num(f.documents), ui)}</td>
                    <td class="num">{count(num(f.tickets_answered), ui)}</td>
                    <td class="num">{percent(num(f.satisfaction))}</td>
                    <td class="num">{percent(num(f.pass_rate))}</td>
                    <td class="nowrap">{dateTime(x.issued_at)}</td>
                    <td>
                      {x.revoked_at ? (
                        <strong class="cert-revoked">✕ {st("certRevoked", { time: dateTime(x.revoked_at) })}</strong>
                      ) : (
                        <span class="cert-valid">✓ {st("certValid")}</span>
                      )}
                    </td>
                    <td class="cert-actions">
                      <a
                        class="button"
                        href={`${x.url}?lang=${encodeURIComponent(ui)}`}
                        target="_blank"
                        rel="noopener noreferrer"
                        title={st("openCertTitle", { code: x.code })}
                      >
                        {st("openCert")}
                      </a>
                      {staff && !x.revoked_at && confirming !== x.id && (
                        <button type="button" class="danger" onClick={() => setConfirming(x.id)}>
                          {st("revoke")}
                        </button>
                      )}
                      {confirming === x.id && (
                        <span class="confirm" role="group" aria-label={st("revokeHint")}>
                          <span class="small">{st("revokeHint")}</span>{" "}
                          <button type="button" class="danger" onClick={() => void revoke(x)}>
                            {st("revokeConfirm")}
                          </button>{" "}
                          <button type="button" onClick={() => setConfirming(null)}>
                            {st("revokeCancel")}
                          </button>
                        </span>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

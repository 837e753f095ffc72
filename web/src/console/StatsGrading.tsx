// 质检 · quality grading (质检员 and admins): work to spot-check (live chats or backlog
// replies, by library and period, ungraded or graded, or a random sample), one opened — a
// chat as the 审阅 view shows it, a reply with its question, answer and documents — and the
// grade: excellent, pass or fail with the checklist (a reply's cases of 咨询回复质量检查标准
// under the chosen grade, a chat's six rules of live service) and a comment.
import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import "./transcripts.css";
import type { DeskClient } from "./client";
import { docLines, httpUrl } from "./delivery";
import { apiErrorText } from "./errors";
import { dateTime, type Key, lang, t } from "./i18n";
import { type SKey, st } from "./i18n-stats";
import { Linkified } from "./linkify";
import {
  candidatesQuery,
  type Checklist,
  criteriaFor,
  criterionText,
  type Graded,
  type GradeValue,
  gradeProblem,
  GRADES,
  keepCriteria,
  REPORT_PRESETS,
} from "./stats";
import {
  type Candidate,
  candidates as loadCandidates,
  consultationGrades,
  type Grade,
  type GradedTicket,
  gradedTicket,
  giveGrade,
  type Subjects,
} from "./stats-api";
import { chosenRange, type PeriodChoice, PeriodPicker, periodProblem } from "./StatsParts";
import { TranscriptView } from "./TranscriptView";
import type { Me } from "./types";

type Target = "consultation" | "ticket";
const LIMIT = 50;

export function StatsGrading(props: {
  me: Me;
  client: DeskClient;
  subjects: Subjects;
  checklist: Checklist | null;
  onNotice: (text: string) => void;
}) {
  const c = props.client;
  const ui = lang();
  const [target, setTarget] = useState<Target>("consultation");
  const [library, setLibrary] = useState("");
  const [graded, setGraded] = useState<Graded>("0");
  const [sample, setSample] = useState(false);
  const [period, setPeriod] = useState<PeriodChoice>({ preset: "this_month", from: "", to: "" });
  const [list, setList] = useState<Candidate[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [again, setAgain] = useState(0);
  const [open, setOpen] = useState<{ target: Target; id: number } | null>(null);
  const opener = useRef<HTMLElement | null>(null);
  const asked = useRef(0);

  const problem = periodProblem(period, props.subjects.today);
  const range = chosenRange(period, props.subjects.today);
  const q = candidatesQuery({ target, library, graded, sample, limit: LIMIT, ...range });

  useEffect(() => {
    if (problem) return;
    const n = ++asked.current;
    setError(null);
    loadCandidates(q)
      .then((got) => n === asked.current && setList(got))
      .catch((e) => n === asked.current && setError(st("loadFailed", { message: apiErrorText(e) })));
  }, [q, problem, again]);

  useEffect(() => {
    if (open !== null) return;
    const back = opener.current;
    opener.current = null;
    if (back?.isConnected) back.focus();
  }, [open]);

  const libraries = [...c.libraries.values()];
  const libraryName = (id: number | null) => {
    if (id === null) return "—";
    const l = c.librariesById.get(id);
    return l ? c.libraryName(l.code, ui) : String(id);
  };

  if (open) {
    return (
      <section class="stats-page" aria-label={st("gradingTitle")} data-testid="grading-open">
        {open.target === "consultation" ? (
          <TranscriptView
            key={open.id}
            me={props.me}
            client={c}
            id={open.id}
            backLabel={st("backToCandidates")}
            onBack={() => setOpen(null)}
            onOpenCase={(id) => props.onNotice(st("caseElsewhere", { id }))}
          />
        ) : (
          <TicketForGrading id={open.id} client={c} onBack={() => setOpen(null)} />
        )}
        <GradeForm
          key={`${open.target}-${open.id}`}
          target={open.target}
          id={open.id}
          checklist={props.checklist}
          onGraded={() => setAgain((n) => n + 1)}
        />
      </section>
    );
  }

  return (
    <section class="stats-page" aria-labelledby="grading-title" data-testid="grading">
      <h3 id="grading-title">{st("gradingTitle")}</h3>
      <p class="muted">{st("gradingIntro")}</p>
      <form class="stats-filters" aria-label={st("gradingTitle")} onSubmit={(e) => e.preventDefault()}>
        <label class="block">
          {st("target")}
          <select
            value={target}
            onChange={(e) => {
              setList(null);
              setTarget(e.currentTarget.value as Target);
            }}
          >
            <option value="consultation">{st("target_consultation")}</option>
            <option value="ticket">{st("target_ticket")}</option>
          </select>
        </label>
        <label class="block">
          {st("library")}
          <select value={library} onChange={(e) => setLibrary(e.currentTarget.value)}>
            <option value="">{st("allLibraries")}</option>
            {libraries.map((l) => (
              <option key={l.code} value={l.code}>
                {c.libraryName(l.code, ui)}
              </option>
            ))}
          </select>
        </label>
        <PeriodPicker id="grading-period" presets={REPORT_PRESETS} value={period} today={props.subjects.today} onChange={setPeriod} />
        <label class="block">
          {st("graded")}
          <select value={graded} onChange={(e) => setGraded(e.currentTarget.value as Graded)}>
            <option value="0">{st("graded_0")}</option>
            <option value="1">{st("graded_1")}</option>
            <option value="all">{st("graded_all")}</option>
          </select>
        </label>
        <label class="check">
          <input type="checkbox" checked={sample} onChange={(e) => setSample(e.currentTarget.checked)} />
          {st("sample")}
        </label>
        <button type="button" onClick={() => setAgain((n) => n + 1)}>
          {st("refresh")}
        </button>
      </form>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <h4 id="candidates-title">{st("candidatesTitle")}</h4>
      {list === null ? (
        !error && <p class="muted">{st("loading")}</p>
      ) : list.length === 0 ? (
        <p class="muted">{st("candidatesEmpty")}</p>
      ) : (
        <div class="table-wrap">
          <table class="stats-table" aria-labelledby="candidates-title" data-testid="candidates">
            <thead>
              <tr>
                <th scope="col">{st("colChat")}</th>
                <th scope="col">{st("colDay")}</th>
                <th scope="col">{st("colConsultant")}</th>
                <th scope="col">{st("colLibrary")}</th>
                <th scope="col">{st("colPreview")}</th>
                <th scope="col">{st("colGrade")}</th>
                <th scope="col">
                  <span class="sr-only">{st("gradeForm")}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((x) => (
                <tr key={`${x.target}-${x.id}`} data-target={x.target} data-id={x.id}>
                  <th scope="row" class="nowrap">
                    {x.target === "ticket" ? st("ticketN", { id: x.id }) : st("consultationN", { id: x.id })}
                  </th>
                  <td class="nowrap">{x.day ?? (x.answered_at ? dateTime(x.answered_at) : "")}</td>
                  <td>{x.consultant}</td>
                  <td>{libraryName(x.library_id)}</td>
                  <td class="preview">{preview(x.preview)}</td>
                  <td>{x.grade ? st(`grade_${x.grade}` as SKey) : <span class="muted">{st("notGraded")}</span>}</td>
                  <td>
                    <button
                      type="button"
                      onClick={(e) => {
                        opener.current = e.currentTarget;
                        setOpen({ target: x.target, id: x.id });
                      }}
                    >
                      {st("gradeOpen", { id: x.id })}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/** A search document's first lines start with the author's kind and a tab: shown as text. */
function preview(text: string): string {
  return text.replace(/^(reader|consultant|bot|system)\t/gm, "").replace(/\s+/g, " ").trim();
}

function TicketForGrading(props: { id: number; client: DeskClient; onBack: () => void }) {
  const [tk, setTk] = useState<GradedTicket | null>(null);
  const [error, setError] = useState<string | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), [props.id]);
  useEffect(() => {
    let live = true;
    gradedTicket(props.id)
      .then((x) => live && setTk(x))
      .catch((e) => live && setError(st("loadFailed", { message: apiErrorText(e) })));
    return () => {
      live = false;
    };
  }, [props.id]);
  const ui = lang();
  return (
    <article class="grading-ticket" aria-labelledby="grading-ticket-title" data-ticket={props.id}>
      <p>
        <button type="button" class="link" onClick={props.onBack}>
          {st("backToCandidates")}
        </button>
      </p>
      <h3 id="grading-ticket-title" tabIndex={-1} ref={heading}>
        {st("ticketN", { id: props.id })}
      </h3>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {tk && (
        <>
          <p class="muted small">
            {props.client.libraryName(tk.library, ui)} · {t(`kind_${tk.kind}` as Key)} ·{" "}
            {st("ticketSubmitted", { time: dateTime(tk.submitted_at) })}
            {tk.answered_at && <> · {st("ticketAnsweredAt", { time: dateTime(tk.answered_at) })}</>}
            {(tk.state as string) === "revision" && <> · {st("ticketState_revision")}</>}
          </p>
          <h4>{st("ticketQuestion")}</h4>
          <p class="ticket-text">
            <Linkified text={tk.question} />
          </p>
          <h4>
            {st("ticketAnswer")}
            {tk.answer_kind && (
              <span class="muted small">
                {" "}
                · {st("ticketAnswerKind")}：{t(`answerKind_${tk.answer_kind}` as Key)}
              </span>
            )}
          </h4>
          <p class="ticket-text" data-testid="grading-answer">
            <Linkified text={tk.answer ?? ""} />
          </p>
          <h4>{st("ticketDocs")}</h4>
          {tk.documents && tk.documents.length > 0 ? (
            <ul class="answer-doc-list">
              {tk.documents.map((d) => {
                const l = docLines(d);
                const href = d.kind === "link" ? httpUrl(d.url) : null;
                return (
                  <li key={d.id} class="attachment">
                    <p class="att-title">
                      {l.title} {l.type && <span class="att-type">{l.type}</span>}
                    </p>
                    {l.byline && <p class="att-byline">{l.byline}</p>}
                    {d.kind === "file" ? (
                      <p class="att-file">
                        {l.file}{" "}
                        {d.download && (
                          <a class="button" href={d.download} download={d.name}>
                            {st("download")}
                          </a>
                        )}
                      </p>
                    ) : (
                      <p class="att-link">
                        {href ? (
                          <a href={href} target="_blank" rel="noopener noreferrer">
                            {d.url}
                          </a>
                        ) : (
                          d.url
                        )}
                      </p>
                    )}
                  </li>
                );
              })}
            </ul>
          ) : (
            <p class="muted">{st("ticketNoDocs")}</p>
          )}
        </>
      )}
    </article>
  );
}

export function GradeForm(props: {
  target: Target;
  id: number;
  checklist: Checklist | null;
  onGraded: () => void;
}) {
  const ui = lang();
  const [grade, setGrade] = useState<GradeValue | null>(null);
  const [ticked, setTicked] = useState<string[]>([]);
  const [comment, setComment] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [earlier, setEarlier] = useState<Grade[] | null>(null);
  const [rating, setRating] = useState<boolean | null | undefined>(undefined);
  const [reload, setReload] = useState(0);

  useEffect(() => {
    let live = true;
    if (props.target === "consultation") {
      // With the reader's own rating, for the inspector's judgement.
      consultationGrades(props.id)
        .then((r) => {
          if (!live) return;
          setEarlier(r.grades);
          setRating(r.rating);
        })
        .catch(() => live && setEarlier([]));
    } else {
      gradedTicket(props.id)
        .then((tk) => live && setEarlier(tk.grades ?? []))
        .catch(() => live && setEarlier([]));
    }
    return () => {
      live = false;
    };
  }, [props.target, props.id, reload]);

  const list = props.checklist ?? { ticket: [], consultation: [] };
  const shown = criteriaFor(list, props.target, grade);
  const commentLabel =
    grade === "fail" ? st("commentFail") : props.target === "ticket" ? st("commentTicket") : st("comment");
  const commentRequired = grade === "fail" || (props.target === "ticket" && ticked.length === 0);

  const choose = (g: GradeValue) => {
    setGrade(g);
    setTicked((old) => keepCriteria(list, props.target, g, old));
    setProblem(null);
  };
  const toggle = (code: string, on: boolean) =>
    setTicked((old) => (on ? [...old.filter((x) => x !== code), code] : old.filter((x) => x !== code)));

  const submit = async (e: Event) => {
    e.preventDefault();
    setNotice(null);
    const p = gradeProblem(props.target, grade, ticked, comment);
    if (p || grade === null) {
      setProblem(st(`problem_${p ?? "no_grade"}` as SKey));
      return;
    }
    setBusy(true);
    setProblem(null);
    try {
      // In the checklist's order, whatever order they were ticked in.
      const order = shown.map((x) => x.code).filter((code) => ticked.includes(code));
      const r = await giveGrade({ target: props.target, target_id: props.id, grade, criteria: order, comment: comment.trim() });
      setNotice(r.revision ? st("gradeSavedRevision") : st("gradeSaved", { grade: st(`grade_${grade}` as SKey) }));
      setReload((n) => n + 1);
      props.onGraded();
    } catch (err) {
      setProblem(st("gradeFailed", { message: apiErrorText(err) }));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="grade-form-wrap" aria-labelledby={`grade-form-${props.id}`}>
      <form class="grade-form" onSubmit={(e) => void submit(e)} noValidate data-testid="grade-form">
        <h4 id={`grade-form-${props.id}`}>
          {st("gradeForm")} · {props.target === "ticket" ? st("ticketN", { id: props.id }) : st("consultationN", { id: props.id })}
        </h4>
        {rating !== undefined && (
          <p class="muted small">{st("readerRating", { rating: st(`rating_${String(rating)}` as SKey) })}</p>
        )}
        <fieldset>
          <legend>{st("grade")}</legend>
          <div class="grade-choices">
            {GRADES.map((g) => (
              <label key={g} class={`grade-choice grade-${g}`}>
                <input type="radio" name={`grade-${props.id}`} value={g} checked={grade === g} onChange={() => choose(g)} />
                {st(`grade_${g}` as SKey)}
              </label>
            ))}
          </div>
        </fieldset>
        <fieldset>
          <legend>{props.target === "ticket" ? st("criteriaTicket") : st("criteriaLive")}</legend>
          {shown.length === 0 ? (
            <p class="muted small">{props.target === "ticket" ? st("criteriaTicketNone") : st("loading")}</p>
          ) : (
            <ul class="criteria">
              {shown.map((x) => (
                <li key={x.code}>
                  <label class="check">
                    <input
                      type="checkbox"
                      value={x.code}
                      checked={ticked.includes(x.code)}
                      onChange={(e) => toggle(x.code, e.currentTarget.checked)}
                    />
                    <span>
                      <span class="code">{x.code}</span> {ui === "en" ? x.en : x["zh-CN"]}
                    </span>
                  </label>
                </li>
              ))}
            </ul>
          )}
        </fieldset>
        <label class="block">
          {commentLabel}
          <textarea
            rows={3}
            maxLength={2000}
            value={comment}
            aria-required={commentRequired}
            aria-describedby={problem ? `grade-problem-${props.id}` : undefined}
            onInput={(e) => setComment(e.currentTarget.value)}
          />
        </label>
        {problem && (
          <p class="error" role="alert" id={`grade-problem-${props.id}`}>
            {problem}
          </p>
        )}
        {notice && (
          <p class="ok" role="status">
            {notice}
          </p>
        )}
        <p>
          <button type="submit" class="primary" disabled={busy}>
            {busy ? st("submitting") : st("submitGrade")}
          </button>
        </p>
      </form>
      <section aria-labelledby={`earlier-${props.id}`}>
        <h4 id={`earlier-${props.id}`}>{st("earlierGrades")}</h4>
        {earlier === null ? (
          <p class="muted">{st("loading")}</p>
        ) : earlier.length === 0 ? (
          <p class="muted">{st("noEarlierGrades")}</p>
        ) : (
          <ul class="grade-list" data-testid="earlier-grades">
            {earlier.map((g) => (
              <GradeItem key={g.id} g={g} checklist={props.checklist} />
            ))}
          </ul>
        )}
      </section>
    </section>
  );
}

export function GradeItem(props: { g: Grade; checklist: Checklist | null; children?: ComponentChildren }) {
  const g = props.g;
  const ui = lang();
  return (
    <li class={`grade-item grade-${g.grade}${g.current ? "" : " replaced"}`} data-grade={g.id} data-target={g.target} data-target-id={g.target_id}>
      <p class="grade-line">
        <strong class="grade-name">{st(`grade_${g.grade}` as SKey)}</strong>{" "}
        <span>{g.target === "ticket" ? st("ticketN", { id: g.target_id }) : st("consultationN", { id: g.target_id })}</span>{" "}
        <span class="muted small">
          {g.day} · {st("gradedBy", { inspector: g.inspector || st("inspector"), time: dateTime(g.created_at) })}
          {!g.current && <> · {st("replaced")}</>}
          {g.revised_at && <> · {st("revisedAt", { time: dateTime(g.revised_at) })}</>}
        </span>
      </p>
      <p class="small">{st("criteria")}：</p>
      {g.criteria.length === 0 ? (
        <p class="muted small">{st("noCriteria")}</p>
      ) : (
        <ul class="criteria-given">
          {g.criteria.map((code) => (
            <li key={code}>
              <span class="code">{code}</span> {criterionText(props.checklist, code, ui)}
            </li>
          ))}
        </ul>
      )}
      {g.comment && (
        <p class="grade-comment">
          {st("commentLabel")}
          {g.comment}
        </p>
      )}
      {props.children}
    </li>
  );
}


// 统计 · statistics: the live dashboard (supervisors, admins), reports, rankings (supervisors,
// admins), quality grading (inspectors), one's own grades and certificates of service. The
// desk decides what each person may see (GET /api/stats/subjects); the pages follow its flags.
import { useEffect, useState } from "preact/hooks";
import "./stats.css";
import type { DeskClient } from "./client";
import { apiErrorText } from "./errors";
import { lang } from "./i18n";
import { type SKey, st } from "./i18n-stats";
import { type Checklist, GRADES } from "./stats";
import { checklist as loadChecklist, type GradeGiven, type Subjects, subjects as loadSubjects } from "./stats-api";
import { StatsCertificates } from "./StatsCertificates";
import { StatsDashboard } from "./StatsDashboard";
import { StatsGrading } from "./StatsGrading";
import { StatsMine } from "./StatsMine";
import { StatsReports, StatsTables } from "./StatsReports";
import type { Me } from "./types";

export type StatsPage = "dashboard" | "reports" | "tables" | "grading" | "mine" | "certs";

/** The pages `s` allows, in the order shown. */
export function pagesFor(s: Subjects): StatsPage[] {
  const out: StatsPage[] = [];
  if (s.dashboard) out.push("dashboard");
  out.push("reports");
  if (s.tables) out.push("tables");
  if (s.inspector) out.push("grading");
  out.push("mine", "certs");
  return out;
}

export function Stats(props: {
  me: Me;
  client: DeskClient;
  onNotice: (text: string) => void;
  onOpenBacklog: () => void;
}) {
  const [subjects, setSubjects] = useState<Subjects | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [page, setPage] = useState<StatsPage | null>(null);
  const [checklist, setChecklist] = useState<Checklist | null>(null);

  useEffect(() => {
    let live = true;
    loadSubjects()
      .then((s) => {
        if (!live) return;
        setSubjects(s);
        setPage((p) => p ?? pagesFor(s)[0]);
      })
      .catch((e) => live && setError(st("loadFailed", { message: apiErrorText(e) })));
    loadChecklist()
      .then((l) => live && setChecklist(l))
      .catch(() => {
        // Without it grades show their codes and the grading form waits: said where it matters.
      });
    return () => {
      live = false;
    };
  }, []);

  const pages = subjects ? pagesFor(subjects) : [];
  return (
    <section class="stats" aria-labelledby="stats-title" data-testid="stats">
      <header class="stats-head">
        <h2 id="stats-title">{st("view_stats")}</h2>
        {subjects && <p class="muted">{st("statsIntro", { zone: subjects.timezone })}</p>}
        {pages.length > 0 && (
          <div class="stats-pages" role="group" aria-label={st("pages")}>
            {pages.map((p) => (
              <button
                key={p}
                type="button"
                aria-pressed={page === p}
                class={page === p ? "selected" : ""}
                onClick={() => setPage(p)}
              >
                {st(`page_${p}` as SKey)}
              </button>
            ))}
          </div>
        )}
      </header>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {!subjects && !error && <p class="muted">{st("loading")}</p>}
      {subjects && page === "dashboard" && <StatsDashboard client={props.client} />}
      {subjects && page === "reports" && <StatsReports me={props.me} subjects={subjects} />}
      {subjects && page === "tables" && (
        <StatsTables
          me={props.me}
          subjects={subjects}
          libraries={[...props.client.libraries.values()].map((l) => ({
            code: l.code,
            name: props.client.libraryName(l.code, lang()),
          }))}
        />
      )}
      {subjects && page === "grading" && (
        <StatsGrading
          me={props.me}
          client={props.client}
          subjects={subjects}
          checklist={checklist}
          onNotice={props.onNotice}
        />
      )}
      {subjects && page === "mine" && (
        <StatsMine
          me={props.me}
          client={props.client}
          subjects={subjects}
          checklist={checklist}
          onOpenBacklog={props.onOpenBacklog}
        />
      )}
      {subjects && page === "certs" && <StatsCertificates me={props.me} subjects={subjects} />}
    </section>
  );
}

/** The toast for `grade.given`: what was graded and how (never the comment). */
export function gradeGivenText(p: GradeGiven): string {
  const what = p?.target === "ticket" ? st("ticketN", { id: p.target_id }) : st("consultationN", { id: p?.target_id });
  const grade = GRADES.includes(p?.grade) ? st(`grade_${p.grade}` as SKey) : String(p?.grade ?? "");
  return st("gradeGivenToast", { what, grade });
}

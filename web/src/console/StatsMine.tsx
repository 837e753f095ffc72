// 我的质检 · one's own grades (GET /api/grades?consultant=me), with the criteria in words and
// the inspector's comment; a `grade.given` refreshes the list. A failed backlog reply is theirs
// again in state `revision`: the grade points to the ticket in 表单咨询.
import { useEffect, useRef, useState } from "preact/hooks";
import type { DeskClient } from "./client";
import { apiErrorText } from "./errors";
import { st } from "./i18n-stats";
import { type Checklist, gradesQuery, REPORT_PRESETS } from "./stats";
import { type Grade, type GradeGiven, grades as loadGrades, type Subjects } from "./stats-api";
import { GradeItem } from "./StatsGrading";
import { chosenRange, type PeriodChoice, PeriodPicker, periodProblem } from "./StatsParts";
import type { Me } from "./types";

const PAGE = 50;

export function StatsMine(props: {
  me: Me;
  client: DeskClient;
  subjects: Subjects;
  checklist: Checklist | null;
  onOpenBacklog: () => void;
}) {
  const [period, setPeriod] = useState<PeriodChoice>({ preset: "this_year", from: "", to: "" });
  const [list, setList] = useState<Grade[] | null>(null);
  const [more, setMore] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [again, setAgain] = useState(0);
  const asked = useRef(0);
  const today = props.subjects.today;
  const problem = periodProblem(period, today);
  const range = chosenRange(period, today);
  const q = gradesQuery({ ...range, consultant: props.me.id, limit: PAGE });

  useEffect(() => props.client.listen<GradeGiven>("grade.given", () => setAgain((n) => n + 1)), [props.client]);

  useEffect(() => {
    if (problem) return;
    const n = ++asked.current;
    setError(null);
    loadGrades(q)
      .then((r) => {
        if (n !== asked.current) return;
        setList(r.grades);
        setMore(r.more);
      })
      .catch((e) => n === asked.current && setError(st("loadFailed", { message: apiErrorText(e) })));
  }, [q, problem, again]);

  const loadMore = async () => {
    const last = list?.[list.length - 1];
    if (!last) return;
    const n = asked.current;
    try {
      const r = await loadGrades(gradesQuery({ ...range, consultant: props.me.id, limit: PAGE, before_id: last.id }));
      if (n !== asked.current) return;
      setList((old) => [...(old ?? []), ...r.grades]);
      setMore(r.more);
    } catch (e) {
      setError(st("loadFailed", { message: apiErrorText(e) }));
    }
  };

  return (
    <section class="stats-page" aria-labelledby="mine-title" data-testid="my-grades">
      <h3 id="mine-title">{st("mineTitle")}</h3>
      <p class="muted">{st("mineIntro")}</p>
      <form class="stats-filters" aria-label={st("mineTitle")} onSubmit={(e) => e.preventDefault()}>
        <PeriodPicker id="mine-period" presets={REPORT_PRESETS} value={period} today={today} onChange={setPeriod} />
      </form>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {list === null ? (
        !error && <p class="muted">{st("loading")}</p>
      ) : list.length === 0 ? (
        <p class="muted">{st("mineEmpty")}</p>
      ) : (
        <ul class="grade-list">
          {list.map((g) => (
            <GradeItem key={g.id} g={g} checklist={props.checklist}>
              {g.target === "ticket" && g.grade === "fail" && g.current && !g.revised_at && (
                <p class="revision-note" role="note">
                  {st("revisionNote", { id: g.target_id })}{" "}
                  <button type="button" onClick={props.onOpenBacklog}>
                    {st("openBacklog")}
                  </button>
                </p>
              )}
            </GradeItem>
          ))}
        </ul>
      )}
      {more && (
        <button type="button" onClick={() => void loadMore()}>
          {st("loadMore")}
        </button>
      )}
    </section>
  );
}

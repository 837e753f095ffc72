// Pieces the statistics pages share: the period picker and the export links.
import { type SKey, st } from "./i18n-stats";
import { dayBefore, type Preset, presetRange, type Range, rangeProblem } from "./stats";

export interface PeriodChoice {
  preset: Preset;
  /** The custom dates (used when preset is "custom"). */
  from: string;
  to: string;
}

/** The days a choice stands for. */
export function chosenRange(p: PeriodChoice, today: string): Range {
  return presetRange(p.preset, today, { from: p.from, to: p.to });
}

/** What is wrong with a choice, in words, or null. */
export function periodProblem(p: PeriodChoice, today: string, mustBeOver = false): string | null {
  const problem = rangeProblem(chosenRange(p, today), today, mustBeOver);
  return problem ? st(`range_${problem}` as SKey, { yesterday: dayBefore(today) }) : null;
}

export function PeriodPicker(props: {
  id: string;
  presets: Preset[];
  value: PeriodChoice;
  today: string;
  mustBeOver?: boolean;
  onChange: (p: PeriodChoice) => void;
}) {
  const v = props.value;
  const range = chosenRange(v, props.today);
  const problem = periodProblem(v, props.today, props.mustBeOver);
  const set = (change: Partial<PeriodChoice>) => props.onChange({ ...v, ...change });
  const choose = (preset: Preset) => {
    // Custom starts from the days shown, so it can be adjusted rather than typed anew.
    if (preset === "custom" && v.preset !== "custom") set({ preset, from: range.from, to: range.to });
    else set({ preset });
  };
  const latest = props.mustBeOver ? dayBefore(props.today) : props.today;
  return (
    <fieldset class="stats-period">
      <legend>{st("period")}</legend>
      <div class="stats-presets" role="group" aria-label={st("period")}>
        {props.presets.map((p) => (
          <button
            key={p}
            type="button"
            aria-pressed={v.preset === p}
            class={v.preset === p ? "selected" : ""}
            onClick={() => choose(p)}
          >
            {st(`preset_${p}` as SKey)}
          </button>
        ))}
      </div>
      {v.preset === "custom" ? (
        <div class="stats-dates">
          <label class="block">
            {st("from")}
            <input
              type="date"
              value={v.from}
              max={v.to || latest}
              aria-describedby={problem ? `${props.id}-problem` : undefined}
              onInput={(e) => set({ from: e.currentTarget.value })}
            />
          </label>
          <label class="block">
            {st("to")}
            <input
              type="date"
              value={v.to}
              min={v.from || undefined}
              max={latest}
              aria-describedby={problem ? `${props.id}-problem` : undefined}
              onInput={(e) => set({ to: e.currentTarget.value })}
            />
          </label>
        </div>
      ) : (
        <p class="muted small stats-range" data-testid={`${props.id}-range`}>
          {st("rangeShown", { from: range.from, to: range.to })}
        </p>
      )}
      {problem && (
        <p class="error small" id={`${props.id}-problem`} role="alert">
          {problem}
        </p>
      )}
    </fieldset>
  );
}

export function Exports(props: { path: string; query: (format: "csv" | "xlsx") => string }) {
  return (
    <p class="stats-exports">
      <a class="button" href={`${props.path}?${props.query("csv")}`} download>
        {st("exportCsv")}
      </a>
      <a class="button" href={`${props.path}?${props.query("xlsx")}`} download>
        {st("exportXlsx")}
      </a>
    </p>
  );
}

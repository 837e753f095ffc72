// A hand-made SVG bar chart of two series per period (served, documents delivered). It is an
// image with a summary for screen readers (role="img", aria-label); the figures themselves are
// in the table under it. Colours differ and the series are also told apart by pattern
// (documents are hatched), so the legend does not rest on colour alone.
import { bars, labelEvery, niceScale } from "./stats";

const W = 720;
const H = 260;
const M = { top: 12, right: 12, bottom: 44, left: 44 };
/** The widest a bar gets (in the chart's own units). */
const MAX_BAR = 36;
/** About this many period labels fit under the chart. */
const LABELS_FIT = 12;

export interface Series {
  name: string;
  values: number[];
  className: string;
}

export function BarChart(props: { labels: string[]; series: Series[]; summary: string; testId?: string }) {
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const max = Math.max(0, ...props.series.flatMap((s) => s.values));
  const scale = niceScale(max);
  const laid = bars(
    props.series.map((s) => s.values),
    plotW,
    plotH,
    scale.top,
    MAX_BAR,
  );
  const every = labelEvery(props.labels.length, LABELS_FIT);
  const slot = props.labels.length > 0 ? plotW / props.labels.length : plotW;
  return (
    <figure class="stats-chart">
      <svg
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-label={props.summary}
        data-testid={props.testId}
        preserveAspectRatio="xMidYMid meet"
      >
        <defs>
          <pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
            <rect width="6" height="6" class="hatch-bg" />
            <line x1="0" y1="0" x2="0" y2="6" class="hatch-line" />
          </pattern>
        </defs>
        <g transform={`translate(${M.left},${M.top})`}>
          {scale.ticks.map((t) => {
            const y = plotH - (t / scale.top) * plotH;
            return (
              <g key={t} class="tick">
                <line x1={0} x2={plotW} y1={y} y2={y} />
                <text x={-6} y={y} dy="0.32em" text-anchor="end">
                  {t}
                </text>
              </g>
            );
          })}
          {laid.map((series, si) => (
            <g key={si} class={props.series[si].className}>
              {series.map((b, i) => (
                <rect key={i} x={b.x} y={b.y} width={Math.max(0.5, b.width)} height={b.height}>
                  <title>{`${props.labels[i]} · ${props.series[si].name}: ${b.value}`}</title>
                </rect>
              ))}
            </g>
          ))}
          <line class="axis" x1={0} x2={plotW} y1={plotH} y2={plotH} />
          {props.labels.map((l, i) =>
            i % every === 0 ? (
              <text key={l} class="period-label" x={i * slot + slot / 2} y={plotH + 16} text-anchor="middle">
                {shortLabel(l)}
              </text>
            ) : null,
          )}
        </g>
      </svg>
      <figcaption class="stats-legend" aria-hidden="true">
        {props.series.map((s) => (
          <span key={s.name} class={`legend ${s.className}`}>
            <svg viewBox="0 0 14 14" width="14" height="14">
              <rect width="14" height="14" />
            </svg>
            {s.name}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}

/** Day labels lose their year ("2026-12-01" → "12-01"); others stay. */
function shortLabel(label: string): string {
  return /^\d{4}-\d{2}-\d{2}$/.test(label) ? label.slice(5) : label;
}

// The Reports area's charts: figures over time as lines (uPlot, on the contact center's clock), figures per
// group as horizontal bars, and shares as stacked bars (plain HTML: every value is also written as text, and
// the table below holds them all). Each is a <figure> with a caption and a summary for screen readers.
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { t } from "../lib/i18n";

export const PALETTE = ["#0b62d6", "#137a3f", "#a05a00", "#6b3fa0", "#b3261e", "#006d77", "#43308c", "#5b6475"];

/** The colour of series `i` of `n`: the palette, or for more than it holds, hues spread around the wheel
 *  (dark enough for white text on them). */
export function colour(i: number, n: number): string {
  // golden-angle hues: neighbours differ most; two lightnesses, both dark enough for white text
  return n <= PALETTE.length ? PALETTE[i % PALETTE.length] : `hsl(${Math.round((i * 137.508) % 360)} 70% ${i % 2 ? 22 : 29}%)`;
}

export interface LineSeries {
  label: string;
  values: (number | null)[];
}

export interface LineProps {
  title: string;
  summary: string;
  x: number[]; // epoch seconds
  series: LineSeries[];
  tz: string; // the zone the time axis is read in
  withTime: boolean; // sub-day intervals: hours on the axis; otherwise dates (whole days apart)
  months?: boolean; // monthly points: months on the axis
  weeks?: boolean; // weekly points: ticks a week apart at least
  yLabel: string;
  integers?: boolean; // counts: whole steps on the y axis
  format: (v: number | null) => string;
}

const hhmm = uPlot.fmtDate("{HH}:{mm}");
const dayMonth = uPlot.fmtDate("{D}/{M}");

/** Figures over time: one line per series (uPlot), on the contact center's clock. */
const DAY = 86400;
const DATE_STEPS = [DAY, 2 * DAY, 3 * DAY, 7 * DAY, 14 * DAY, 30 * DAY, 61 * DAY, 91 * DAY, 182 * DAY, 365 * DAY];

export function LineChart({ title, summary, x, series, tz, withTime, months = false, weeks = false, yLabel, integers = false, format }: LineProps) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current!;
    const width = () => Math.max(280, el.clientWidth);
    const opts: uPlot.Options = {
      width: width(),
      height: 260,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), tz),
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (_u, min, max) => [Math.min(0, min), Math.max(1, max)] } },
      axes: [
        withTime
          ? {
              stroke: "#5b6475",
              grid: { stroke: "#eef1f6" },
              // 24-hour clock; a midnight tick says the day instead
              values: (_u: uPlot, splits: number[]) =>
                splits.map((s) => {
                  const d = uPlot.tzDate(new Date(s * 1000), tz);
                  return d.getHours() === 0 && d.getMinutes() === 0 ? dayMonth(d) : hhmm(d);
                }),
            }
          : { stroke: "#5b6475", grid: { stroke: "#eef1f6" }, incrs: months ? DATE_STEPS.slice(5) : weeks ? DATE_STEPS.slice(3) : DATE_STEPS, values: months ? "{M}/{YYYY}" : "{D}/{M}" },
        {
          stroke: "#5b6475",
          grid: { stroke: "#eef1f6" },
          size: 56,
          label: yLabel,
          labelSize: 18,
          ...(integers ? { incrs: [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000] } : {}),
        },
      ],
      series: [
        { label: t("Interval"), value: withTime ? "{DD}/{MM} {HH}:{mm}" : months ? "{MM}/{YYYY}" : "{DD}/{MM}/{YYYY}" },
        ...series.map((s, i) => ({
          label: s.label,
          stroke: colour(i, series.length),
          width: 2,
          spanGaps: false,
          points: { show: x.length <= 62, size: 5 },
          value: (_u: uPlot, v: number | null) => format(v),
        })),
      ],
    };
    const plot = new uPlot(opts, [x, ...series.map((s) => s.values)] as uPlot.AlignedData, el);
    const resize = new ResizeObserver(() => plot.setSize({ width: width(), height: 260 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [x, series, tz, withTime, months, weeks, yLabel, integers]);
  return (
    <figure class="chart card report-chart" aria-label={title}>
      <figcaption>{title}</figcaption>
      <div ref={box} class="chart-box" role="img" aria-label={summary} />
    </figure>
  );
}

export interface Bar {
  label: string; // the group
  values: { series: string; value: number | null; text: string }[];
}

export interface BarProps {
  title: string;
  bars: Bar[];
  series: string[]; // the legend (one colour each); a single series needs none
  note?: string;
}

/** Figures per group as horizontal bars, each value written beside its bar. */
export function BarChart({ title, bars, series, note }: BarProps) {
  const max = Math.max(0, ...bars.flatMap((b) => b.values.map((v) => Math.abs(v.value ?? 0))));
  return (
    <figure class="chart card report-chart">
      <figcaption>{title}</figcaption>
      {series.length > 1 ? <Legend series={series} /> : null}
      <ul class="bars">
        {bars.map((b) => (
          <li>
            <span class="bar-label">{b.label}</span>
            <span class="bar-values">
              {b.values.map((v) => {
                const i = series.indexOf(v.series);
                const width = max > 0 && v.value !== null ? (85 * Math.abs(v.value)) / max : 0; // room for the text
                return (
                  <span class="bar-line">
                    {v.value !== null ? (
                      <span class="bar" aria-hidden="true" style={`width:${width.toFixed(2)}%;background:${colour(Math.max(0, i), series.length)}`} />
                    ) : null}
                    <span class="bar-text">
                      {series.length > 1 ? <span class="sr-only">{v.series}: </span> : null}
                      {v.text}
                    </span>
                  </span>
                );
              })}
            </span>
          </li>
        ))}
      </ul>
      {note ? <p class="muted small">{note}</p> : null}
    </figure>
  );
}

/** Shares of each group as one bar split by series (each segment's width its share of the group's total). */
export function StackedChart({ title, bars, series, note }: BarProps) {
  return (
    <figure class="chart card report-chart">
      <figcaption>{title}</figcaption>
      <Legend series={series} />
      <ul class="bars stacked">
        {bars.map((b) => {
          const total = b.values.reduce((n, v) => n + Math.max(0, v.value ?? 0), 0);
          return (
            <li>
              <span class="bar-label">{b.label}</span>
              <span class="stack" aria-hidden="true">
                {b.values.map((v) => {
                  const share = total > 0 ? (100 * Math.max(0, v.value ?? 0)) / total : 0;
                  const i = series.indexOf(v.series);
                  return share > 0 ? (
                    <span class="segment" title={`${v.series}: ${v.text}`} style={`width:${share.toFixed(2)}%;background:${colour(Math.max(0, i), series.length)}`}>
                      {share >= 9 ? v.text : ""}
                    </span>
                  ) : null;
                })}
              </span>
              <span class="sr-only">{b.values.map((v) => `${v.series}: ${v.text}`).join("; ")}</span>
            </li>
          );
        })}
      </ul>
      {note ? <p class="muted small">{note}</p> : null}
    </figure>
  );
}

function Legend({ series }: { series: string[] }) {
  return (
    <ul class="legend" aria-label={t("Legend")}>
      {series.map((s, i) => (
        <li>
          <span class="swatch" aria-hidden="true" style={`background:${colour(i, series.length)}`} />
          {s}
        </li>
      ))}
    </ul>
  );
}

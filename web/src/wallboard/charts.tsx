// The day's charts (uPlot on canvas): arrivals, service level against the target, and waiting, per
// 15-minute interval, for one queue or all together. Each chart is built once and then only given new data.
import { useEffect, useMemo, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { t } from "../lib/i18n";
import type { Interval, QueueToday } from "./store";

export interface Series {
  day: [number, number]; // the day shown, epoch s (midnight to midnight)
  x: number[]; // interval start, epoch s
  offered: number[];
  sl: (number | null)[]; // percent
  target: number[];
  avgWait: (number | null)[];
  maxWait: (number | null)[];
}

/** The day's series for these queues (several: summed; service level over the sums). */
export function series(queues: QueueToday[], dayStart: string | null): Series {
  const n = Math.max(0, ...queues.map((q) => q.intervals.length));
  const start = dayStart ? Date.parse(dayStart) / 1000 : Date.now() / 1000;
  const out: Series = { day: [start, start + 86400], x: [], offered: [], sl: [], target: [], avgWait: [], maxWait: [] };
  const target = queues.length ? Math.min(...queues.map((q) => q.sl_percent)) : 80;
  for (let i = 0; i < n; i++) {
    const slots = queues.map((q) => q.intervals[i]).filter((s): s is Interval => s !== undefined);
    const first = slots[0]?.start;
    let offered = 0, answered = 0, abandoned = 0, within = 0, waitSum = 0, waitN = 0, waitMax: number | null = null;
    for (const s of slots) {
      offered += s.offered;
      answered += s.answered;
      abandoned += s.abandoned;
      within += s.answered_within_threshold;
      if (s.avg_wait_s != null) {
        waitSum += s.avg_wait_s * (s.answered + s.abandoned);
        waitN += s.answered + s.abandoned;
      }
      if (s.max_wait_s != null) waitMax = Math.max(waitMax ?? 0, s.max_wait_s);
    }
    out.x.push(first ? Date.parse(first) / 1000 + 450 : 0); // the middle of the interval
    out.offered.push(offered);
    out.sl.push(answered + abandoned ? (100 * within) / (answered + abandoned) : null);
    out.target.push(target);
    out.avgWait.push(waitN ? waitSum / waitN : null);
    out.maxWait.push(waitMax);
  }
  return out;
}

interface ChartProps {
  title: string;
  summary: string; // what the chart shows, for screen readers
  series: uPlot.Series[];
  data: uPlot.AlignedData;
  day: [number, number];
  yRange?: [number, number];
}

function Chart({ title, summary, series: defs, data, day, yRange }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  useEffect(() => {
    const el = box.current!;
    const opts: uPlot.Options = {
      width: Math.max(240, el.clientWidth),
      height: 170,
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true, range: () => day }, y: yRange ? { range: yRange } : { range: (_u, min, max) => [0, Math.max(1, max, min)] } },
      axes: [
        { stroke: "#5b6475", grid: { stroke: "#eef1f6" }, values: "{HH}:{mm}" },
        { stroke: "#5b6475", grid: { stroke: "#eef1f6" }, size: 44 },
      ],
      series: [{ label: t("Time"), value: "{HH}:{mm}" }, ...defs],
    };
    plot.current = new uPlot(opts, data, el);
    const resize = new ResizeObserver(() => plot.current?.setSize({ width: Math.max(240, el.clientWidth), height: 170 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, []);
  useEffect(() => {
    plot.current?.setData(data);
  }, [data]);
  return (
    <figure class="chart card" role="group" aria-label={title}>
      <figcaption>{title}</figcaption>
      <div ref={box} class="chart-box" role="img" aria-label={summary} />
    </figure>
  );
}

const bars = uPlot.paths.bars ? uPlot.paths.bars({ size: [0.8, 40] }) : undefined;

export function DayCharts({ s }: { s: Series }) {
  // the same arrays until the series change: a chart is given new data (and redraws) only then
  const arrivals = useMemo<uPlot.AlignedData>(() => [s.x, s.offered], [s]);
  const sl = useMemo<uPlot.AlignedData>(() => [s.x, s.sl, s.target], [s]);
  const waits = useMemo<uPlot.AlignedData>(() => [s.x, s.avgWait, s.maxWait], [s]);
  const last = s.x.length - 1;
  const lastSl = last >= 0 ? s.sl[last] : null;
  return (
    <div class="charts">
      <Chart
        title={t("Arrivals per 15 minutes")}
        summary={t("Arrivals today: {n}; this interval: {m}", {
          n: s.offered.reduce((a, b) => a + b, 0),
          m: last >= 0 ? s.offered[last] : 0,
        })}
        series={[{ label: t("Arrivals"), stroke: "#0b62d6", fill: "rgba(11,98,214,0.35)", paths: bars }]}
        data={arrivals}
        day={s.day}
      />
      <Chart
        title={t("Service level per 15 minutes")}
        summary={t("Service level this interval: {sl}", { sl: lastSl == null ? "—" : `${Math.round(lastSl)} %` })}
        series={[
          { label: t("Service level %"), stroke: "#137a3f", width: 2, spanGaps: false, points: { show: true, size: 4 } },
          { label: t("Target %"), stroke: "#b3261e", dash: [6, 4], width: 1, points: { show: false } },
        ]}
        data={sl}
        day={s.day}
        yRange={[0, 100]}
      />
      <Chart
        title={t("Waiting per 15 minutes (s)")}
        summary={t("Longest wait this interval: {s} s", { s: last >= 0 ? Math.round(s.maxWait[last] ?? 0) : 0 })}
        series={[
          { label: t("Average wait"), stroke: "#a05a00", width: 2 },
          { label: t("Longest wait"), stroke: "#43308c", width: 1, dash: [4, 3] },
        ]}
        data={waits}
        day={s.day}
      />
    </div>
  );
}

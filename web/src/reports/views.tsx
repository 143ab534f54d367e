// A report's answer drawn: the KPIs (tiles for the whole range, bars per group, lines over time, and the
// table) and any business report, generically from what it says of itself (its columns' kinds and its chart:
// bar, stacked or line over `x`, one series per `series` value or per `y` column).
import { useMemo, useState } from "preact/hooks";
import { t } from "../lib/i18n";
import { BarChart, LineChart, StackedChart, type Bar, type LineSeries } from "./charts";
import { DASH, formatKey, formatValue, intervalFrame, intervalSeconds, plotted, unit, type Kind } from "./format";
import type { Catalog, KpiResult, ReportResult } from "./query";
import { ReportTable, type TableColumn } from "./table";

type Row = Record<string, unknown>;
const MAIN = ["offered", "answered", "abandoned", "abandon_rate", "service_level", "asa_s", "max_wait_s", "handled", "aht_s", "transfer_rate", "fcr", "csat"];
const TILES = ["offered", "answered", "abandon_rate", "service_level", "asa_s", "aht_s", "fcr", "csat"];
const MAX_SERIES = 8;
const MAX_BARS = 40;
const MAX_PANELS = 6;

/** A sentence's first letter in capitals (the API's column titles are lower-case words). */
function cap(text: string): string {
  return text.charAt(0).toLocaleUpperCase() + text.slice(1);
}

function dimensionTitle(catalog: Catalog, key: string): string {
  if (key === "interval") return t("Interval");
  return catalog.kpis.dimensions.find((d) => d.name === key)?.title ?? key;
}

function groupLabel(row: Row, keys: string[], intervalKind: string | null): string {
  return keys.map((k) => formatKey(k, row[k], intervalKind)).join(" · ") || t("All");
}

/** Lines over time from rows with an `x` time label: one series per distinct `seriesOf(row)` (the
 *  `MAX_SERIES` weightiest), over `frame` (every interval of the range; `empty` where a series has no row). */
function lines(
  rows: Row[],
  x: string,
  seriesOf: (row: Row) => string,
  valueOf: (row: Row) => number | null,
  weightOf: (row: Row) => number,
  frame: number[] = [],
  empty: number | null = null,
): { x: number[]; series: LineSeries[]; cut: number } {
  const times = [...new Set([...frame, ...rows.map((r) => intervalSeconds(String(r[x])))])].sort((a, b) => a - b);
  const at = new Map(times.map((s, i) => [s, i]));
  const found = new Map<string, { values: (number | null)[]; weight: number }>();
  for (const r of rows) {
    const name = seriesOf(r);
    let s = found.get(name);
    if (!s) found.set(name, (s = { values: times.map(() => empty), weight: 0 }));
    s.values[at.get(intervalSeconds(String(r[x])))!] = valueOf(r);
    s.weight += weightOf(r);
  }
  const ranked = [...found.entries()].sort((a, b) => b[1].weight - a[1].weight);
  const kept = ranked.slice(0, MAX_SERIES).sort((a, b) => a[0].localeCompare(b[0]));
  return { x: times, series: kept.map(([label, s]) => ({ label, values: s.values })), cut: ranked.length - kept.length };
}

function lineSummary(title: string, series: LineSeries[], format: (v: number | null) => string): string {
  const all = series.flatMap((s) => s.values).filter((v): v is number => v !== null);
  if (!all.length) return t("{title}: no values", { title });
  return t("{title}: from {min} to {max}", { title, min: format(Math.min(...all)), max: format(Math.max(...all)) });
}

export function KpiView({ catalog, result, figure, setFigure }: { catalog: Catalog; result: KpiResult; figure: string; setFigure: (f: string) => void }) {
  const [everything, setEverything] = useState(false);
  const rows = result.groups as Row[];
  const figures = catalog.kpis.columns;
  const chosen = figures.find((c) => c.key === figure) ?? figures.find((c) => c.key === "offered")!;
  const keys = [...(result.interval ? ["interval"] : []), ...result.by];
  const groupCols: TableColumn[] = keys.map((k) => ({ key: k, title: dimensionTitle(catalog, k), kind: "text", group: true }));
  const figureCols: TableColumn[] = figures.filter((c) => everything || MAIN.includes(c.key));
  const kind = chosen.kind as Kind;
  const format = (v: number | null) => (v === null ? DASH : formatValue(kind, kind === "rate" ? v / 100 : v, catalog.currency));
  const chart = useMemo(() => {
    if (!rows.length) return null;
    if (result.interval) {
      const frame = intervalFrame(result.interval, result.from, result.to, result.timezone);
      const drawn = lines(
        rows,
        "interval",
        (r) => (result.by.length ? groupLabel(r, result.by, null) : chosen.title),
        (r) => plotted(kind, r[chosen.key]),
        (r) => Number(r.contacts ?? 0),
        frame,
        kind === "count" ? 0 : null, // no contacts: none offered, no service level
      );
      const title = result.by.length
        ? t("{figure} per {interval}, by {groups}", { figure: chosen.title, interval: intervalTitle(catalog, result.interval), groups: result.by.map((d) => dimensionTitle(catalog, d)).join(", ") })
        : t("{figure} per {interval}", { figure: chosen.title, interval: intervalTitle(catalog, result.interval) });
      return (
        <>
          <LineChart
            title={cap(title)}
            summary={lineSummary(chosen.title, drawn.series, format)}
            x={drawn.x}
            series={drawn.series}
            tz={["15m", "30m", "1h"].includes(result.interval) ? result.timezone : "UTC"}
            withTime={["15m", "30m", "1h"].includes(result.interval)}
            months={result.interval === "month"}
            weeks={result.interval === "week"}
            integers={kind === "count"}
            yLabel={unit(kind)}
            format={format}
          />
          {drawn.cut > 0 ? <p class="muted small">{t("The {n} groups with most contacts are drawn; the table has them all.", { n: MAX_SERIES })}</p> : null}
        </>
      );
    }
    if (result.by.length) {
      const bars: Bar[] = rows.slice(0, MAX_BARS).map((r) => ({
        label: groupLabel(r, result.by, null),
        values: [{ series: chosen.title, value: plotted(kind, r[chosen.key]), text: formatValue(kind, r[chosen.key], catalog.currency) }],
      }));
      return (
        <BarChart
          title={cap(t("{figure} by {groups}", { figure: chosen.title, groups: result.by.map((d) => dimensionTitle(catalog, d)).join(", ") }))}
          bars={bars}
          series={[chosen.title]}
          note={rows.length > MAX_BARS ? t("The first {n} groups are drawn; the table has them all.", { n: MAX_BARS }) : undefined}
        />
      );
    }
    return null;
  }, [rows, chosen.key, result]);
  const whole = !result.interval && !result.by.length && rows.length === 1 ? rows[0] : null;
  return (
    <>
      {whole ? (
        <div class="tiles" role="group" aria-label={t("Summary")}>
          {TILES.map((key) => {
            const c = figures.find((f) => f.key === key);
            return c ? (
              <div class="tile">
                <span class="tile-label">{c.title}</span>
                <span class="tile-value">{formatValue(c.kind as Kind, whole[key], catalog.currency)}</span>
              </div>
            ) : null;
          })}
        </div>
      ) : null}
      {chart ? (
        <div class="chart-controls row">
          <label class="inline" for="figure">
            {t("Chart")}
          </label>
          <select id="figure" value={chosen.key} onChange={(e) => setFigure(e.currentTarget.value)}>
            {figures.map((c) => (
              <option value={c.key}>{c.title}</option>
            ))}
          </select>
        </div>
      ) : null}
      {chart}
      <div class="row space table-head">
        <h3 id="table-title">{t("Table")}</h3>
        <label class="check">
          <input type="checkbox" checked={everything} onChange={(e) => setEverything(e.currentTarget.checked)} />
          {t("Every figure")}
        </label>
      </div>
      <ReportTable
        caption={t("KPIs")}
        columns={[...groupCols, ...figureCols]}
        rows={rows}
        currency={catalog.currency}
        intervalKind={result.interval ?? null}
      />
    </>
  );
}

function intervalTitle(catalog: Catalog, name: string): string {
  return catalog.kpis.intervals.find((i) => i.name === name)?.title ?? name;
}

export function BusinessView({ result, intervalKind }: { result: ReportResult; intervalKind: string | null }) {
  const rows = result.rows as Row[];
  const columns: TableColumn[] = result.columns.map((c) => ({ key: c.key, title: c.title, kind: c.kind as Kind, group: c.kind === "text" }));
  const byKey = new Map(columns.map((c) => [c.key, c]));
  const spec = result.chart;
  const charts = useMemo(() => {
    if (!rows.length) return [];
    const xCol = byKey.get(spec.x);
    const yCols = spec.y.map((k) => byKey.get(k)).filter((c): c is TableColumn => c !== undefined);
    if (!xCol) return [];
    const xText = (r: Row) => formatKey(spec.x, r[spec.x], intervalKind);
    const seriesCol = spec.series ? byKey.get(spec.series) : undefined;
    const timed = spec.type === "line" && rows.every((r) => intervalSeconds(String(r[spec.x])) > 0);
    // each y its own panel (its own scale): one series per `series` value, else the one figure
    const panel = (c: TableColumn) => {
      const kind = c.kind;
      const seriesText = (r: Row) => (spec.series ? formatKey(spec.series, r[spec.series], intervalKind) : c.title);
      const title = cap(
        spec.series
          ? t("{figure} by {x} and {series}", { figure: c.title, x: xCol.title, series: seriesCol?.title ?? spec.series })
          : t("{figure} by {x}", { figure: c.title, x: xCol.title }),
      );
      if (timed) {
        const format = (v: number | null) => (v === null ? DASH : formatValue(kind, kind === "rate" ? v / 100 : v, result.currency));
        const drawn = lines(rows, spec.x, seriesText, (r) => plotted(kind, r[c.key]), () => 1);
        const sub = /T\d{2}:/.test(String(rows[0][spec.x]));
        return (
          <LineChart
            title={title}
            summary={lineSummary(c.title, drawn.series, format)}
            x={drawn.x}
            series={drawn.series}
            tz={sub ? result.timezone : "UTC"}
            withTime={sub}
            months={/^\d{4}-\d{2}$/.test(String(rows[0][spec.x]))}
            weeks={intervalKind === "week"}
            yLabel={unit(kind)}
            integers={kind === "count"}
            format={format}
          />
        );
      }
      const order: string[] = [];
      const groups = new Map<string, Bar>();
      const names: string[] = [];
      for (const r of rows) {
        const label = xText(r);
        let bar = groups.get(label);
        if (!bar) {
          groups.set(label, (bar = { label, values: [] }));
          order.push(label);
        }
        const series = seriesText(r);
        if (!names.includes(series)) names.push(series);
        bar.values.push({ series, value: plotted(kind, r[c.key]), text: formatValue(kind, r[c.key], result.currency) });
      }
      const bars = order.slice(0, MAX_BARS).map((l) => groups.get(l)!);
      const note = order.length > MAX_BARS ? t("The first {n} groups are drawn; the table has them all.", { n: MAX_BARS }) : undefined;
      return spec.type === "stacked" ? (
        <StackedChart title={title} bars={bars} series={names} note={note} />
      ) : (
        <BarChart title={title} bars={bars} series={names} note={note} />
      );
    };
    return yCols.slice(0, MAX_PANELS).map(panel);
  }, [result]);
  return (
    <>
      {charts.length > 1 ? <div class="report-panels">{charts}</div> : charts}
      <h3 id="table-title">{t("Table")}</h3>
      <ReportTable caption={result.title} columns={columns} rows={rows} currency={result.currency} intervalKind={intervalKind} />
    </>
  );
}


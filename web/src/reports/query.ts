// What the Reports area asks: the report and its filters, kept in the address (/reports?report=kpis&from=…)
// so a reload, the back button or a shared link shows the same report; and the API's answers' types.
import type { components } from "../api/schema";

export type Catalog = components["schemas"]["ReportCatalog"];
export type KpiResult = components["schemas"]["KpiResult"];
export type ReportResult = components["schemas"]["ReportResult"];
export type ReportInfo = components["schemas"]["ReportInfo"];

export interface Query {
  report: string; // "kpis" or a business report's name
  from: string;
  to: string;
  by: string[];
  interval: string; // "" = the whole range
  threshold: string; // "" = each queue's own
  figure: string; // the KPI the chart draws
  top: string; // a business report's own options ("" = its default)
  z: string;
  level: string;
  tier: string;
}

/** What a report takes: its grouping (several dimensions for the KPIs, one of its choices for a business
 *  report), its intervals ("" = the whole range, for the KPIs), and its other options. */
export interface Uses {
  by: "many" | "one" | null;
  byChoices: { name: string; title: string }[];
  intervals: { name: string; title: string }[];
  wholeRange: boolean;
  options: string[];
}

export function usesOf(catalog: Catalog, report: string): Uses {
  if (report === "kpis") {
    return { by: "many", byChoices: catalog.kpis.dimensions, intervals: catalog.kpis.intervals, wholeRange: true, options: ["threshold"] };
  }
  const r = catalog.reports.find((x) => x.name === report);
  return {
    by: r && r.by.length ? "one" : null,
    byChoices: r?.by ?? [],
    intervals: r?.intervals ?? [],
    wholeRange: false,
    options: r?.options ?? [],
  };
}

/** The interval asked: the KPIs' choice ("" the whole range), or a business report's (its first by default). */
export function intervalOf(q: Query, uses: Uses): string {
  if (uses.wholeRange) return q.interval;
  if (!uses.intervals.length) return "";
  return uses.intervals.some((i) => i.name === q.interval) ? q.interval : uses.intervals[0].name;
}

/** The grouping asked of a business report: its choice, or its first. */
export function byOf(q: Query, uses: Uses): string[] {
  if (uses.by === "many") return q.by;
  if (uses.by === "one") return [uses.byChoices.some((c) => c.name === q.by[0]) ? q.by[0] : uses.byChoices[0].name];
  return [];
}

export function readQuery(search: string, today: string): Query {
  const p = new URLSearchParams(search);
  const from = p.get("from") ?? "";
  const to = p.get("to") ?? "";
  return {
    report: p.get("report") || "kpis",
    from: from || addDaysIso(today, -6),
    to: to || today,
    by: (p.get("by") ?? "").split(",").filter(Boolean),
    interval: p.get("interval") ?? "day", // the address always says it once the page has written it
    threshold: p.get("threshold") ?? "",
    figure: p.get("figure") ?? "offered",
    top: p.get("top") ?? "",
    z: p.get("z") ?? "",
    level: p.get("level") ?? "",
    tier: p.get("tier") ?? "",
  };
}

function addDaysIso(day: string, n: number): string {
  const [y, m, d] = day.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}

/** The parameters a report takes, as the API names them (empty ones left out). */
export function apiParams(q: Query, uses: Uses): URLSearchParams {
  const p = new URLSearchParams({ from: q.from, to: q.to });
  const by = byOf(q, uses);
  if (by.length) p.set("by", by.join(","));
  const interval = intervalOf(q, uses);
  if (interval) p.set("interval", interval);
  for (const name of ["threshold", "top", "z", "level", "tier"] as const) {
    const value = q[name].trim();
    if (value && uses.options.includes(name)) p.set(name, value);
  }
  return p;
}

export function writeQuery(q: Query): void {
  const p = new URLSearchParams({ report: q.report, from: q.from, to: q.to });
  if (q.by.length) p.set("by", q.by.join(","));
  p.set("interval", q.interval);
  for (const name of ["threshold", "top", "z", "level", "tier"] as const) if (q[name]) p.set(name, q[name]);
  if (q.report === "kpis" && q.figure !== "offered") p.set("figure", q.figure);
  const next = `${location.pathname}?${p.toString()}`;
  if (next !== `${location.pathname}${location.search}`) history.replaceState(null, "", next);
}

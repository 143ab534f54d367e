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
  };
}

function addDaysIso(day: string, n: number): string {
  const [y, m, d] = day.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}

/** The parameters a report takes, as the API names them (empty ones left out). */
export function apiParams(q: Query, uses: { by: boolean; interval: boolean; threshold: boolean }): URLSearchParams {
  const p = new URLSearchParams({ from: q.from, to: q.to });
  if (uses.by && q.by.length) p.set("by", q.by.join(","));
  if (uses.interval && q.interval) p.set("interval", q.interval);
  if (uses.threshold && q.threshold.trim()) p.set("threshold", q.threshold.trim());
  return p;
}

export function writeQuery(q: Query): void {
  const p = new URLSearchParams({ report: q.report, from: q.from, to: q.to });
  if (q.by.length) p.set("by", q.by.join(","));
  p.set("interval", q.interval);
  if (q.threshold) p.set("threshold", q.threshold);
  if (q.report === "kpis" && q.figure !== "offered") p.set("figure", q.figure);
  const next = `${location.pathname}?${p.toString()}`;
  if (next !== `${location.pathname}${location.search}`) history.replaceState(null, "", next);
}

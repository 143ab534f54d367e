// The Reports area (supervisors and admins): the KPIs and every business report the server lists
// (GET /api/reports), over local days of the contact center, as a chart and a table, with a CSV download of
// the same question. The report and its filters live in the address; each change asks again (the answer to
// an older question is dropped).
import { useEffect, useRef, useState } from "preact/hooks";
import { api, describe, ok, type Problem } from "../lib/api";
import { ErrorText, StatusText } from "../lib/feedback";
import { lang, t } from "../lib/i18n";
import { start } from "../lib/ui";
import { formatDay } from "../reports/format";
import { Filters } from "../reports/filters";
import { apiParams, intervalOf, readQuery, usesOf, writeQuery, type Catalog, type KpiResult, type Query, type ReportResult } from "../reports/query";
import { BusinessView, KpiView } from "../reports/views";
import "../reports/reports.css";

type Answer = { kind: "kpis"; data: KpiResult } | { kind: "report"; data: ReportResult };

function csvHref(q: Query, catalog: Catalog): string {
  const p = apiParams(q, usesOf(catalog, q.report));
  p.set("format", "csv");
  p.set("lang", lang());
  return `/api/reports/${encodeURIComponent(q.report)}?${p.toString()}`;
}

function Reports() {
  const [catalog, setCatalog] = useState<Catalog | null>(null);
  const [loadError, setLoadError] = useState("");
  const [query, setQuery] = useState<Query | null>(null);
  const [answer, setAnswer] = useState<Answer | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const asked = useRef(0);

  useEffect(() => {
    void api
      .GET("/api/reports")
      .then(ok)
      .then((c) => {
        const q = readQuery(location.search, c.today);
        if (q.report !== "kpis" && !c.reports.some((r) => r.name === q.report)) q.report = "kpis";
        setCatalog(c);
        setQuery(q);
      })
      .catch((e: Error) => setLoadError(e.message));
  }, []);

  useEffect(() => {
    if (!catalog || !query) return;
    writeQuery(query);
    const mine = ++asked.current;
    const uses = usesOf(catalog, query.report);
    const params = apiParams(query, uses);
    const num = (name: string) => (params.has(name) ? Number(params.get(name)) : undefined);
    const common = {
      from: query.from,
      to: query.to,
      by: params.get("by") ? [params.get("by")!] : undefined,
      interval: params.get("interval") ?? undefined,
      threshold: num("threshold"),
    };
    const own = { ...common, top: num("top"), z: num("z"), level: num("level"), tier: params.get("tier") ?? undefined };
    setBusy(true);
    setError("");
    setFieldErrors({});
    const request: Promise<{ answer?: Answer; problem?: unknown; status: number }> =
      query.report === "kpis"
        ? api.GET("/api/reports/kpis", { params: { query: common } }).then((a) => ({
            answer: a.data ? { kind: "kpis" as const, data: a.data as KpiResult } : undefined, // JSON (no format=csv)
            problem: a.error,
            status: a.response.status,
          }))
        : api
            .GET("/api/reports/{name}", { params: { path: { name: query.report }, query: own } })
            .then((a) => ({
              answer: a.data ? { kind: "report" as const, data: a.data as ReportResult } : undefined,
              problem: a.error,
              status: a.response.status,
            }));
    void request
      .then((got) => {
        if (mine !== asked.current) return; // a newer question is on its way
        setBusy(false);
        if (got.answer) {
          setAnswer(got.answer);
          return;
        }
        if (got.status === 401) location.assign(`/?next=${encodeURIComponent(location.pathname + location.search)}`);
        const problem = (got.problem ?? {}) as Problem;
        const fields: Record<string, string> = {};
        for (const e of problem.errors ?? []) if (e.field && e.message) fields[e.field] = e.message;
        setFieldErrors(fields);
        setError(describe(problem));
        setAnswer(null);
      })
      .catch((e: Error) => {
        if (mine !== asked.current) return;
        setBusy(false);
        setError(e.message || t("Something went wrong"));
      });
  }, [catalog, query && JSON.stringify({ ...query, figure: "" })]);

  if (loadError) {
    return (
      <main class="reports">
        <h1>{t("Reports")}</h1>
        <ErrorText text={loadError} block />
      </main>
    );
  }
  if (!catalog || !query) {
    return (
      <main class="reports" aria-busy="true">
        <h1>{t("Reports")}</h1>
        <StatusText text={t("Loading…")} />
      </main>
    );
  }
  // another report starts from its own defaults (the KPIs per day; a business report's first choices)
  const change = (part: Partial<Query>) =>
    setQuery((q) =>
      part.report !== undefined && part.report !== q!.report
        ? { ...q!, by: [], interval: part.report === "kpis" ? "day" : "", top: "", z: "", level: "", tier: "", ...part }
        : { ...q!, ...part },
    );
  const title = query.report === "kpis" ? catalog.kpis.title : (catalog.reports.find((r) => r.name === query.report)?.title ?? query.report);
  const rows = answer ? (answer.kind === "kpis" ? answer.data.groups.length : answer.data.rows.length) : 0;
  const current = answer !== null && (answer.kind === "kpis" ? query.report === "kpis" : answer.data.name === query.report);
  return (
    <main class="reports">
      <div class="row space reports-head">
        <h1>{t("Reports")}</h1>
        <p class="muted small tz" data-testid="timezone">
          {t("Days and times of the contact center: {tz}", { tz: catalog.timezone })}
        </p>
      </div>
      <Filters catalog={catalog} query={query} change={change} errors={fieldErrors} />
      <section class="report-result" aria-labelledby="result-title" aria-busy={busy}>
        <div class="row space result-head">
          <div>
            <h2 id="result-title">{title}</h2>
            <p class="muted small">
              {query.from === query.to
                ? formatDay(query.from, { weekday: "long", day: "numeric", month: "long", year: "numeric" })
                : t("{from} to {to}", { from: formatDay(query.from), to: formatDay(query.to) })}
            </p>
          </div>
          <a class="button" href={csvHref(query, catalog)} download data-testid="csv">
            {t("Download CSV")}
          </a>
        </div>
        <ErrorText text={error} block />
        <StatusText text={busy ? t("Loading…") : answer && current && !error ? (rows === 1 ? t("1 row") : t("{n} rows", { n: rows })) : ""} />
        {answer && current && !error ? (
          answer.kind === "kpis" ? (
            <KpiView catalog={catalog} result={answer.data} figure={query.figure} setFigure={(figure) => change({ figure })} />
          ) : (
            <BusinessView result={answer.data} intervalKind={intervalOf(query, usesOf(catalog, query.report)) || null} />
          )
        ) : null}
        {answer && current && answer.kind === "report" && answer.data.notes.length ? (
          <ul class="notes small">
            {answer.data.notes.map((n) => (
              <li>{n}</li>
            ))}
          </ul>
        ) : null}
      </section>
    </main>
  );
}

void start("supervisor", "/reports", () => <Reports />);

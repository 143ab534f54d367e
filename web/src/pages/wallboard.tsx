// The supervisor wallboard: queues, agents and the day's charts, live from the WebSocket (events and
// queue figures; no polling). Renders are batched per animation frame (wallboard/store.ts), agent rows are
// keyed and memoized so one agent's change re-renders one row, and clocks tick without rendering
// (wallboard/tick.tsx).
import { memo } from "preact/compat";
import { useEffect, useLayoutEffect, useMemo, useState } from "preact/hooks";
import { api, ok } from "../lib/api";
import { t } from "../lib/i18n";
import { Realtime, type AgentRow, type ContactRow, type QueueFigures, type QueueRow } from "../lib/realtime";
import { percent, seconds, start } from "../lib/ui";
import { AgentDialog } from "../wallboard/agentDialog";
import { DayCharts, series } from "../wallboard/charts";
import { data, NAIVE, onState, onStats, refresh, rendered, setToday, subscribe, type QueueToday } from "../wallboard/store";
import { activityLabel, channelLabel } from "../lib/labels";
import { Tick } from "../wallboard/tick";

const byName = new Intl.Collator(undefined, { sensitivity: "base" });
const ACTIVITY_ORDER = ["ringing", "busy", "wrap_up", "available", "away", "offline"];

interface QueueView {
  code: string;
  name: string;
  figures: QueueFigures | undefined;
  today: QueueToday | undefined;
  target: number; // percent
  threshold: number; // s
  behind: string[]; // why it is behind its target, in words
}

function slNow(v: QueueView): number | null {
  const w = v.figures?.last_30m as { service_level?: number | null } | undefined;
  return w?.service_level ?? null;
}

function queueViews(queues: QueueRow[]): QueueView[] {
  const today = new Map((data.today?.queues ?? []).map((q) => [q.code, q]));
  const codes = new Set([...queues.filter((q) => q.active).map((q) => q.code), ...Object.keys(data.figures)]);
  const names = new Map(queues.map((q) => [q.code, q.name]));
  const now = Date.now() / 1000;
  return [...codes].sort().map((code) => {
    const figures = data.figures[code];
    const td = today.get(code);
    const target = td?.sl_percent ?? 80;
    const threshold = Number(figures?.sl_threshold_s ?? td?.sl_threshold_s ?? 20);
    const v: QueueView = { code, name: names.get(code) ?? String(figures?.name ?? code), figures, today: td, target, threshold, behind: [] };
    const sl = slNow(v);
    if (sl !== null && sl * 100 < target) v.behind.push(t("service level {sl} below the target {target}", { sl: percent(sl), target: `${target} %` }));
    const oldest = figures?.oldest_wait_s as number | null | undefined;
    if (oldest != null && figures && Number(figures.waiting) > 0 && oldest + (now - data.figuresAt) > threshold)
      v.behind.push(t("a contact has waited over {s} s", { s: threshold }));
    return v;
  });
}

function SlCell({ sl, target }: { sl: number | null | undefined; target: number }) {
  if (sl == null) return <td class="num muted">—</td>;
  const good = sl * 100 >= target;
  const near = !good && sl * 100 >= target - 10;
  return (
    <td class={`num sl ${good ? "sl-ok" : near ? "sl-warn" : "sl-bad"}`}>
      <span aria-hidden="true">{good ? "▲ " : "▼ "}</span>
      {percent(sl)}
      <span class="sr-only">{good ? t("on target") : t("below target")}</span>
    </td>
  );
}

function QueueTable({ views }: { views: QueueView[] }) {
  return (
    <section class="card" aria-labelledby="queues-title">
      <h2 id="queues-title">{t("Queues")}</h2>
      <div class="table-scroll">
        <table class="wb-queues">
          <thead>
            <tr>
              <th scope="col">{t("Queue")}</th>
              <th scope="col" class="num">{t("Waiting")}</th>
              <th scope="col" class="num">{t("Oldest wait")}</th>
              <th scope="col" class="num">{t("SL 30 min")}</th>
              <th scope="col" class="num">{t("SL today")}</th>
              <th scope="col" class="num">{t("Target")}</th>
              <th scope="col" class="num">{t("ASA")}</th>
              <th scope="col" class="num">{t("Abandoned today")}</th>
              <th scope="col" class="num">{t("Staffed")}</th>
              <th scope="col" class="num">{t("Available")}</th>
              <th scope="col" class="num">{t("Busy")}</th>
              <th scope="col" class="num">{t("Wrap-up")}</th>
              <th scope="col">{t("Status")}</th>
            </tr>
          </thead>
          <tbody>
            {views.map((v) => {
              const f = v.figures;
              const waiting = Number(f?.waiting ?? 0);
              const oldest = f?.oldest_wait_s as number | null | undefined;
              const totals = v.today?.totals;
              const ended = totals ? totals.answered + totals.abandoned : 0;
              return (
                <tr key={v.code} class={v.behind.length ? "behind" : undefined} data-queue={v.code}>
                  <th scope="row">{v.name}</th>
                  <td class={`num big ${waiting > 0 ? "strong" : ""}`} data-testid={`waiting-${v.code}`}>{f ? waiting : "—"}</td>
                  <td class="num">
                    {waiting > 0 && oldest != null ? <Tick from={(data.figuresAt - oldest) * 1000} /> : "—"}
                  </td>
                  <SlCell sl={slNow(v)} target={v.target} />
                  <SlCell sl={totals?.service_level} target={v.target} />
                  <td class="num muted">{`${v.target} % / ${v.threshold} s`}</td>
                  <td class="num">{seconds(f?.rolling_asa_s as number | null | undefined)}</td>
                  <td class="num">
                    {totals ? `${totals.abandoned} (${ended ? Math.round((100 * totals.abandoned) / ended) : 0} %)` : "—"}
                  </td>
                  <td class="num">{f?.staffed ?? "—"}</td>
                  <td class="num">{f?.available ?? "—"}</td>
                  <td class="num">{f?.busy ?? "—"}</td>
                  <td class="num">{f?.acw ?? "—"}</td>
                  <td>
                    {v.behind.length ? (
                      <span class="status bad-text">⚠ {t("Behind")}</span>
                    ) : (
                      <span class="status ok-text">✓ {t("On target")}</span>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}

interface RowProps {
  agent: AgentRow;
  activity: string;
  since: number | null;
  contact: ContactRow | undefined;
  onChange: (agent: AgentRow) => void;
}

const AgentLine = memo(
  function AgentLine({ agent, activity, since, contact, onChange }: RowProps) {
    const c = contact?.contact;
    return (
      <tr data-agent={agent.code}>
        <th scope="row">{agent.name}</th>
        <td>
          <span class={`badge ${activity}`}>{activityLabel(activity)}</span>
          {agent.away_reason && activity === "away" ? <span class="muted small"> · {agent.away_reason}</span> : null}
        </td>
        <td class="num">
          <Tick from={since} />
        </td>
        <td>
          {c ? (
            <span>
              <span class="badge channel">{channelLabel(String(c.channel))}</span>{" "}
              {c.customer_name ?? c.ani ?? t("unknown customer")}
              <span class="muted"> · {contact?.queue ?? "—"}</span>
            </span>
          ) : (
            <span class="muted">—</span>
          )}
        </td>
        <td>
          <button type="button" class="small-button" onClick={() => onChange(agent)} aria-label={t("Change {name}", { name: agent.name })}>
            {t("Change")}
          </button>
        </td>
      </tr>
    );
  },
  (a, b) =>
    !NAIVE &&
    a.activity === b.activity &&
    a.since === b.since &&
    a.agent.name === b.agent.name &&
    a.agent.away_reason === b.agent.away_reason &&
    a.contact?.contact_id === b.contact?.contact_id &&
    a.contact?.status === b.contact?.status &&
    a.onChange === b.onChange,
);

function AgentTable({ onChange }: { onChange: (a: AgentRow) => void }) {
  const [filter, setFilter] = useState("");
  const [text, setText] = useState("");
  const state = data.state!;
  const byAgent = new Map<number, ContactRow>();
  for (const c of Object.values(state.contacts)) if (!byAgent.has(c.agent_id) || c.status === "connected") byAgent.set(c.agent_id, c);
  for (const o of Object.values(state.offers)) // ringing: the contact offered
    if (!byAgent.has(o.agent_id)) byAgent.set(o.agent_id, { contact_id: o.contact_id, agent_id: o.agent_id, status: "offered", queue: o.queue, contact: o.contact });
  const agents = Object.values(state.agents).filter((a) => a.active);
  const counts: Record<string, number> = {};
  for (const a of agents) counts[a.activity ?? a.state] = (counts[a.activity ?? a.state] ?? 0) + 1;
  const needle = text.trim().toLowerCase();
  const shown = agents
    .filter((a) => (!filter || (a.activity ?? a.state) === filter) && (!needle || a.name.toLowerCase().includes(needle)))
    .sort((x, y) => byName.compare(x.name, y.name));
  return (
    <section class="card" aria-labelledby="agents-title">
      <div class="row" style="justify-content:space-between">
        <h2 id="agents-title">{t("Agents")}</h2>
        <div class="row">
          <label class="inline">
            {t("Show")}
            <select value={filter} onChange={(e) => setFilter(e.currentTarget.value)}>
              <option value="">{t("all ({n})", { n: agents.length })}</option>
              {ACTIVITY_ORDER.map((a) => (
                <option value={a}>{`${activityLabel(a)} (${counts[a] ?? 0})`}</option>
              ))}
            </select>
          </label>
          <label class="inline">
            {t("Search")}
            <input type="search" value={text} onInput={(e) => setText(e.currentTarget.value)} />
          </label>
        </div>
      </div>
      <div class="row state-summary" aria-label={t("Agents by state")}>
        {ACTIVITY_ORDER.map((a) => (
          <span class={`badge ${a}`}>
            {activityLabel(a)}: <strong>{counts[a] ?? 0}</strong>
          </span>
        ))}
      </div>
      <div class="table-scroll agents-scroll">
        <table class="wb-agents">
          <thead>
            <tr>
              <th scope="col">{t("Agent")}</th>
              <th scope="col">{t("State")}</th>
              <th scope="col" class="num">{t("Time in state")}</th>
              <th scope="col">{t("Current contact")}</th>
              <th scope="col"><span class="sr-only">{t("Actions")}</span></th>
            </tr>
          </thead>
          <tbody>
            {shown.map((a) => (
              <AgentLine
                key={a.id}
                agent={a}
                activity={a.activity ?? a.state}
                since={data.activitySince[String(a.id)] ?? null}
                contact={byAgent.get(a.id)}
                onChange={onChange}
              />
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function Alerts({ views }: { views: QueueView[] }) {
  const behind = views.filter((v) => v.behind.length);
  const words = behind.map((v) => `${v.name}: ${v.behind.join("; ")}`);
  // the live region says it only when the set of queues behind changes (not every second)
  const key = behind.map((v) => `${v.code}:${v.behind.length}`).join(",");
  const [announced, setAnnounced] = useState("");
  useEffect(() => {
    setAnnounced(behind.length ? t("Queues behind target: {list}", { list: words.join(". ") }) : "");
  }, [key]);
  return (
    <>
      <div class="sr-only" aria-live="assertive" role="status">{announced}</div>
      {behind.length ? (
        <div class="wb-banner" data-testid="alerts">
          <strong>⚠ {t("Queues behind target: {n}", { n: behind.length })}</strong>
          <ul>
            {words.slice(0, 6).map((w) => (
              <li>{w}</li>
            ))}
            {words.length > 6 ? <li>{t("and {n} more", { n: words.length - 6 })}</li> : null}
          </ul>
        </div>
      ) : null}
    </>
  );
}

function Tiles({ views }: { views: QueueView[] }) {
  const waiting = views.reduce((n, v) => n + Number(v.figures?.waiting ?? 0), 0);
  let oldestFrom: number | null = null;
  for (const v of views) {
    const o = v.figures?.oldest_wait_s as number | null | undefined;
    if (o != null && Number(v.figures?.waiting ?? 0) > 0) {
      const from = (data.figuresAt - o) * 1000;
      oldestFrom = oldestFrom === null ? from : Math.min(oldestFrom, from);
    }
  }
  let within = 0, ended = 0, abandoned = 0, offered = 0;
  for (const v of views) {
    const tt = v.today?.totals;
    if (!tt) continue;
    within += tt.answered_within_threshold;
    ended += tt.answered + tt.abandoned;
    abandoned += tt.abandoned;
    offered += tt.offered;
  }
  const agents = data.state ? Object.values(data.state.agents).filter((a) => a.active) : [];
  const available = agents.filter((a) => a.activity === "available").length;
  const busy = agents.filter((a) => a.activity === "busy" || a.activity === "ringing").length;
  const sl = ended ? within / ended : null;
  const target = Math.min(80, ...views.map((v) => v.target));
  return (
    <div class="tiles" role="group" aria-label={t("Summary")}>
      <div class="tile">
        <span class="tile-label">{t("Waiting now")}</span>
        <span class="tile-value" data-testid="total-waiting">{waiting}</span>
      </div>
      <div class="tile">
        <span class="tile-label">{t("Longest wait")}</span>
        <span class="tile-value">{oldestFrom !== null ? <Tick from={oldestFrom} /> : "—"}</span>
      </div>
      <div class={`tile ${sl === null ? "" : sl * 100 >= target ? "tile-ok" : "tile-bad"}`}>
        <span class="tile-label">{t("Service level today")}</span>
        <span class="tile-value">{percent(sl)}</span>
        <span class="tile-note">{sl === null ? "" : sl * 100 >= target ? t("on target") : t("below target")}</span>
      </div>
      <div class="tile">
        <span class="tile-label">{t("Offered today")}</span>
        <span class="tile-value">{offered}</span>
        <span class="tile-note">{t("{n} abandoned", { n: abandoned })}</span>
      </div>
      <div class="tile">
        <span class="tile-label">{t("Agents available")}</span>
        <span class="tile-value">{available}</span>
        <span class="tile-note">{t("{busy} busy of {n} logged", { busy, n: agents.filter((a) => a.activity !== "offline").length })}</span>
      </div>
    </div>
  );
}

function Wallboard() {
  const [version, setVersion] = useState(0);
  const [up, setUp] = useState(false);
  const [editing, setEditing] = useState<AgentRow | null>(null);
  const [chartQueue, setChartQueue] = useState("");
  const [loadError, setLoadError] = useState("");
  // the charts (15-minute intervals) redraw at most every 2 s, however many contacts come and go meanwhile
  const [chartVersion, setChartVersion] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => setChartVersion((v) => (v === data.todayVersion ? v : data.todayVersion)), 2000);
    return () => clearInterval(timer);
  }, []);

  useEffect(() => {
    subscribe(() => setVersion(data.version));
    const socket = new Realtime({ state: onState, stats: onStats, connection: setUp }, true);
    const clock = setInterval(refresh, 1000); // a queue falls behind by waiting alone, with no frame

    void api
      .GET("/api/queues/today")
      .then(ok)
      .then(setToday)
      .catch((e: Error) => setLoadError(e.message));
    return () => {
      clearInterval(clock);
      socket.close();
    };
  }, []);
  useLayoutEffect(() => {
    rendered();
  }, [version]);
  const change = useMemo(() => (a: AgentRow) => setEditing(a), []);
  // the charts' data change only with today's figures (or the queue picked), not with every frame
  const daySeries = useMemo(
    () =>
      series(
        (data.today?.queues ?? []).filter((q) => !chartQueue || q.code === chartQueue),
        data.today?.start ?? null,
      ),
    [chartVersion, chartQueue, data.today !== null],
  );

  if (!data.state) {
    return (
      <main aria-busy="true">
        <h1>{t("Wallboard")}</h1>
        <p class="muted">{t("Connecting…")}</p>
      </main>
    );
  }
  const queues = Object.values(data.state.queues);
  const views = queueViews(queues);
  return (
    <main class="wallboard">
      <div class="row wb-head">
        <h1>{t("Wallboard")}</h1>
        <span class={`conn ${up ? "conn-up" : "conn-down"}`} role="status">
          {up ? t("Live") : t("Reconnecting…")}
        </span>
      </div>
      {loadError ? <p class="alert" role="alert">{loadError}</p> : null}
      <Alerts views={views} />
      <Tiles views={views} />
      <QueueTable views={views} />
      <section aria-labelledby="day-title" class="day">
        <div class="row" style="justify-content:space-between">
          <h2 id="day-title">{t("Today")}</h2>
          <label class="inline">
            {t("Queue")}
            <select value={chartQueue} onChange={(e) => setChartQueue(e.currentTarget.value)}>
              <option value="">{t("All queues")}</option>
              {(data.today?.queues ?? []).map((q) => (
                <option value={q.code}>{q.name}</option>
              ))}
            </select>
          </label>
        </div>
        {data.today ? <DayCharts s={daySeries} /> : <p class="muted">{t("Loading…")}</p>}
      </section>
      <AgentTable onChange={change} />
      {editing ? (
        <AgentDialog agent={editing} queues={queues.filter((q) => q.active)} onClose={() => setEditing(null)} />
      ) : null}
    </main>
  );
}

void start("supervisor", "/wallboard", () => <Wallboard />);

// The wallboard's data, kept outside Preact: the realtime state (agents, contacts), the latest queue
// figures, and today's intervals (loaded once from GET /api/queues/today, then kept current from events).
// Every socket frame only records what changed; one render per animation frame takes it all (a burst of
// events costs one render, not one per event). `window.__wallboard` exposes counters the benchmark reads.
import type { paths } from "../api/schema";
import type { EventRecord, QueueFigures, State } from "../lib/realtime";

export type Today = paths["/api/queues/today"]["get"]["responses"]["200"]["content"]["application/json"];
export type QueueToday = Today["queues"][number];
export type Interval = QueueToday["intervals"][number];

export interface Probe {
  events: number; // socket frames applied (events and queue figures)
  renders: number;
  lags: number[]; // ms from a frame's server time to the render that showed it
}

declare global {
  interface Window {
    __wallboard?: Probe;
  }
}

/** `?render=naive`: the baseline of bench/wallboard.py — a render per socket frame and every agent row
re-rendered each time (what the page would do without its batching and memoized rows). */
export const NAIVE = new URLSearchParams(location.search).get("render") === "naive";

const probe: Probe = { events: 0, renders: 0, lags: [] };
window.__wallboard = probe;

export interface Data {
  state: State | null;
  figures: Record<string, QueueFigures>; // by queue code
  figuresAt: number; // epoch s of the figures
  today: Today | null;
  activitySince: Record<string, number>; // agent id → epoch ms its activity last changed
  version: number;
  todayVersion: number; // bumped when today's figures change (the charts redraw only then)
}

export const data: Data = { state: null, figures: {}, figuresAt: 0, today: null, activitySince: {}, version: 0, todayVersion: 0 };

let listener: (() => void) | null = null;
let scheduled = false;
let pendingTimes: number[] = []; // server times (epoch ms) of frames not yet rendered

export function subscribe(fn: () => void): void {
  listener = fn;
}

function schedule(serverMs: number | null): void {
  if (serverMs !== null) pendingTimes.push(serverMs);
  probe.events += 1;
  if (NAIVE) {
    data.version += 1;
    listener?.();
    return;
  }
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(() => {
    scheduled = false;
    data.version += 1;
    listener?.();
  });
}

/** A render with no new frame (once a second: "waited past the threshold" is a matter of time alone). */
export function refresh(): void {
  schedule(null);
  probe.events -= 1; // not a socket frame
}

/** Called by the page once the render of a version is on screen (a layout effect). */
export function rendered(): void {
  probe.renders += 1;
  const now = Date.now();
  for (const t of pendingTimes) probe.lags.push(now - t);
  if (probe.lags.length > 20_000) probe.lags.splice(0, probe.lags.length - 20_000);
  pendingTimes = [];
}

export function onState(state: State, event: EventRecord | null): void {
  const before = data.state;
  data.state = state;
  const at = event ? Date.parse(event.ts) : Date.now();
  for (const [id, agent] of Object.entries(state.agents)) {
    const old = before?.agents[id];
    if (!old || old.activity !== agent.activity || old.state_since !== agent.state_since) {
      const since = event === null || !old ? Date.parse(agent.state_since ?? "") || at : at;
      data.activitySince[id] = since;
    }
  }
  if (event) countToday(event);
  schedule(event ? at : null);
}

export function onStats(queues: QueueFigures[], at: number): void {
  const next: Record<string, QueueFigures> = {};
  for (const q of queues) next[String(q.code ?? q.queue)] = q;
  data.figures = next;
  data.figuresAt = at;
  schedule(at * 1000);
}

export function setToday(today: Today): void {
  data.today = today;
  data.todayVersion += 1;
  schedule(null);
}

/** The index of the interval holding `ms`, growing the day's lists up to it. */
function currentSlot(q: QueueToday, ms: number): Interval | null {
  const today = data.today;
  if (!today) return null;
  const start = Date.parse(today.start);
  const step = (today.interval_s ?? 900) * 1000; // 15 minutes unless the server says otherwise
  const i = Math.floor((ms - start) / step);
  if (i < 0) return null;
  while (q.intervals.length <= i) {
    q.intervals.push({
      start: new Date(start + q.intervals.length * step).toISOString(),
      offered: 0, answered: 0, abandoned: 0, other_exits: 0, answered_within_threshold: 0, service_level: null,
      max_wait_s: null, avg_wait_s: null,
    });
  }
  return q.intervals[i];
}

function bump(slot: Interval, outcome: string, wait: number, threshold: number): void {
  // the same counting as the server's engine (metrics.md): waits over every episode that left the queue
  const before = slot.answered + slot.abandoned + (slot.other_exits ?? 0);
  if (outcome === "answered") {
    slot.answered += 1;
    if (wait <= threshold) slot.answered_within_threshold += 1;
  } else if (outcome === "abandoned") {
    slot.abandoned += 1;
  } else {
    slot.other_exits = (slot.other_exits ?? 0) + 1;
  }
  const n = slot.answered + slot.abandoned;
  slot.service_level = n ? slot.answered_within_threshold / n : null;
  slot.avg_wait_s = ((slot.avg_wait_s ?? 0) * before + wait) / (before + 1);
  slot.max_wait_s = Math.max(slot.max_wait_s ?? 0, wait);
}

/** Keep today's figures current from the events (the same counting as the endpoint's). */
function countToday(event: EventRecord): void {
  const today = data.today;
  if (!today) return;
  const d = event.data ?? {};
  const code = d.queue as string | undefined;
  if (!code) return;
  const q = today.queues.find((x) => x.code === code);
  if (!q) return;
  const ms = Date.parse(event.ts);
  if (event.type === "contact.queued" && d.arrival_seq == null) {
    const slot = currentSlot(q, ms);
    if (slot) {
      slot.offered += 1;
      q.totals.offered += 1;
      data.todayVersion += 1;
    }
  } else if (event.type === "contact.dequeued" && typeof d.outcome === "string") {
    const slot = currentSlot(q, ms);
    const wait = Number(d.wait_s ?? 0);
    if (slot) bump(slot, d.outcome, wait, q.sl_threshold_s);
    bump(q.totals, d.outcome, wait, q.sl_threshold_s);
    data.todayVersion += 1;
  }
}

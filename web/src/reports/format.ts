// How the Reports area writes values (metrics.md §1.3: rates are fractions in the API and percent on
// screen, durations are seconds, null is "—"), group keys (channels, hours, days of the week, intervals),
// and the date presets, all on the contact center's local days (YYYY-MM-DD strings, no browser time zone).
import { lang, t } from "../lib/i18n";
import { channelLabel } from "../lib/labels";
import { seconds } from "../lib/ui";

export type Kind = "text" | "count" | "rate" | "seconds" | "money" | "score" | "points" | "number";
export type Value = unknown;

export const DASH = "—";

function locale(): string {
  return lang() === "es" ? "es-ES" : "en-GB";
}

function number(x: number, digits: number): string {
  return new Intl.NumberFormat(locale(), { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(x);
}

function isNumber(v: Value): v is number {
  return typeof v === "number" && Number.isFinite(v);
}

/** A figure as text for its column's kind. */
export function formatValue(kind: Kind, v: Value, currency = "EUR"): string {
  if (v === null || v === undefined) return DASH;
  switch (kind) {
    case "rate":
      return isNumber(v) ? `${number(v * 100, 1)} %` : String(v);
    case "seconds":
      return isNumber(v) ? seconds(v) : String(v);
    case "money":
      return isNumber(v)
        ? new Intl.NumberFormat(locale(), { style: "currency", currency, maximumFractionDigits: 2 }).format(v)
        : String(v);
    case "score":
      return isNumber(v) ? number(v, 2) : String(v);
    case "points":
      return isNumber(v) ? `${v > 0 ? "+" : ""}${number(v, 1)}` : String(v);
    case "count":
      return isNumber(v) ? number(v, Number.isInteger(v) ? 0 : 1) : String(v);
    case "number":
      return isNumber(v) ? new Intl.NumberFormat(locale(), { maximumFractionDigits: 2 }).format(v) : String(v);
    default:
      return String(v);
  }
}

/** The number a chart draws for a figure (rates in percent), or null. */
export function plotted(kind: Kind, v: Value): number | null {
  if (!isNumber(v)) return null;
  return kind === "rate" ? v * 100 : v;
}

/** The unit a chart's axis says for a kind. */
export function unit(kind: Kind): string {
  return kind === "rate" ? "%" : kind === "seconds" ? "s" : "";
}

const WEEKDAY_MONDAY = Date.UTC(2024, 0, 1); // a Monday

/** A group key's value as words: channels by name, hours as 09:00, ISO days of the week by name. */
export function formatKey(key: string, v: Value, intervalKind: string | null = null): string {
  if (v === null || v === undefined || v === "") return DASH;
  if (key === "interval" || key === "period") return formatInterval(String(v), intervalKind);
  if (key === "channel") return channelLabel(String(v));
  if (key === "hour" && isNumber(v)) return `${String(v).padStart(2, "0")}:00`;
  if (key === "day_of_week" && isNumber(v)) {
    const day = new Date(WEEKDAY_MONDAY + (v - 1) * 86_400_000);
    return new Intl.DateTimeFormat(locale(), { weekday: "long", timeZone: "UTC" }).format(day);
  }
  return String(v);
}

/** A local day (YYYY-MM-DD) in words, e.g. "3 nov 2026". */
export function formatDay(day: string, options: Intl.DateTimeFormatOptions = { day: "numeric", month: "short", year: "numeric" }): string {
  const ms = Date.parse(`${day}T00:00:00Z`);
  return Number.isNaN(ms) ? day : new Intl.DateTimeFormat(locale(), { ...options, timeZone: "UTC" }).format(ms);
}

/** An interval's label from the API (its local start): a time with its date, a day, a week's Monday, a month. */
export function formatInterval(label: string, kind: string | null): string {
  if (/^\d{4}-\d{2}$/.test(label)) return formatDay(`${label}-01`, { month: "long", year: "numeric" });
  if (/^\d{4}-\d{2}-\d{2}$/.test(label)) {
    return kind === "week" ? t("week of {day}", { day: formatDay(label) }) : formatDay(label, { weekday: "short", day: "numeric", month: "short", year: "numeric" });
  }
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(label); // the contact center's local time, as written
  return m ? `${formatDay(m[1])} ${m[2]}` : label;
}

/** An interval label as epoch seconds for a time axis: local times with their offset; dates as UTC midnight. */
export function intervalSeconds(label: string): number {
  const text = /^\d{4}-\d{2}$/.test(label) ? `${label}-01` : label;
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text);
  return Number.isNaN(ms) ? 0 : ms / 1000;
}

// dates as YYYY-MM-DD strings (local days of the contact center), computed in UTC so no browser zone moves them
function parts(day: string): [number, number, number] {
  const [y, m, d] = day.split("-").map(Number);
  return [y, m, d];
}

function iso(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function addDays(day: string, n: number): string {
  const [y, m, d] = parts(day);
  return iso(Date.UTC(y, m - 1, d + n));
}

export type Preset = "today" | "last7" | "thisMonth" | "lastMonth";
export const PRESETS: Preset[] = ["today", "last7", "thisMonth", "lastMonth"];

export function presetLabel(p: Preset): string {
  return { today: t("Today"), last7: t("Last 7 days"), thisMonth: t("This month"), lastMonth: t("Last month") }[p];
}

/** The days [from, to] of a preset, given the contact center's today. */
export function presetRange(p: Preset, today: string): [string, string] {
  const [y, m] = parts(today);
  switch (p) {
    case "today":
      return [today, today];
    case "last7":
      return [addDays(today, -6), today];
    case "thisMonth":
      return [iso(Date.UTC(y, m - 1, 1)), today];
    case "lastMonth":
      return [iso(Date.UTC(y, m - 2, 1)), iso(Date.UTC(y, m - 1, 0))];
  }
}

/** The preset these days are, if any. */
export function presetOf(from: string, to: string, today: string): Preset | null {
  return PRESETS.find((p) => {
    const [a, b] = presetRange(p, today);
    return a === from && b === to;
  }) ?? null;
}

/** Whether a text is a valid YYYY-MM-DD day. */
export function isDay(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const [y, m, d] = parts(text);
  return iso(Date.UTC(y, m - 1, d)) === text;
}

/** Compare two cell values for sorting: numbers by value, text by the user's collation, null last. */
const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });
export function compareValues(a: Value, b: Value): number {
  const na = a === null || a === undefined, nb = b === null || b === undefined;
  if (na || nb) return na && nb ? 0 : na ? 1 : -1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  return collator.compare(String(a), String(b));
}

/** The zone's offset from UTC at an instant, in seconds (from the browser's time-zone data). */
function zoneOffset(tz: string, epochS: number): number {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: tz,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).formatToParts(new Date(epochS * 1000));
  const n = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return Date.UTC(n("year"), n("month") - 1, n("day"), n("hour"), n("minute"), n("second")) / 1000 - epochS;
}

/** The instant (epoch s) of local midnight starting `day` in `tz`. */
export function zonedMidnight(day: string, tz: string): number {
  const [y, m, d] = parts(day);
  const wall = Date.UTC(y, m - 1, d) / 1000;
  let guess = wall - zoneOffset(tz, wall);
  guess = wall - zoneOffset(tz, guess);
  return guess;
}

const MINUTES: Record<string, number> = { "15m": 15, "30m": 30, "1h": 60 };

/** Every interval of the days from–to, as the epoch seconds a time axis uses (`intervalSeconds` of its
 *  label): so a chart shows an interval without contacts as one, not as a line jumping over it. */
export function intervalFrame(kind: string, from: string, to: string, tz: string): number[] {
  const out: number[] = [];
  const minutes = MINUTES[kind];
  if (minutes) {
    const end = zonedMidnight(addDays(to, 1), tz);
    for (let s = zonedMidnight(from, tz); s < end && out.length < 20_000; s += minutes * 60) out.push(s);
    return out;
  }
  const [fy, fm, fd] = parts(from);
  const last = Date.UTC(...(parts(to).map((v, i) => (i === 1 ? v - 1 : v)) as [number, number, number])) / 1000;
  if (kind === "day") {
    for (let s = Date.UTC(fy, fm - 1, fd) / 1000; s <= last; s += 86400) out.push(s);
  } else if (kind === "week") {
    const first = Date.UTC(fy, fm - 1, fd) / 1000;
    const monday = first - ((new Date(first * 1000).getUTCDay() + 6) % 7) * 86400;
    for (let s = monday; s <= last; s += 7 * 86400) out.push(s);
  } else if (kind === "month") {
    for (let i = 0; ; i++) {
      const s = Date.UTC(fy, fm - 1 + i, 1) / 1000;
      if (s > last) break;
      out.push(s);
    }
  }
  return out;
}

"""Two history reports over 10,000,000 contacts with the analytics engine, against pandas side by side.

    .venv/bin/python -m bench.analytics                   # 10,000,000 contacts, best of 3
    .venv/bin/python -m bench.analytics --contacts 20000 --runs 1

Builds a synthetic fact frame with the exact schema of `analytics/facts.py` (FACT_SCHEMA): 90 days in
Europe/Madrid across the end of summer time (2026-10-25, a 25-hour local day), 20 queues on five channels,
customer segments, value tiers and lifecycle stages, 60 reasons, 400 agents; queue outcomes answered,
abandoned or another exit with exponential waits, handle times with holds and after-contact work, some
surveys. Seeded and vectorised with numpy. Then, alternately, each report by the engine and by a
straightforward pandas version (what an analyst would write: `tz_convert` and `floor` for local half hours,
`groupby` with named aggregations), timed, and every group and figure compared (nulls included):

- `interval_by_queue`: `kpis(facts, KpiQuery(..., by=("queue",), interval="30m", families=("queue",
  "handle")))` — offered, answered, abandoned, abandon rate, service level (`neg`, each queue's
  threshold), ASA and AHT per local half hour and queue;
- `reason_by_segment`: `run_report("reason-mix", ...)` — contacts per segment × reason and the share.

The engine sums durations as whole microseconds and divides once, so the pandas version computes the same
quotients (Σ µs / (count × 1,000,000)): the figures must be identical, not close. Timed: the report from the
fact frame already in memory (for pandas, already a pandas frame with datetime columns) to its rows.
When the `duckdb` package is importable (it is not a dependency), the same two reports in DuckDB's SQL over
the same frame are a third column, local half hours by its ICU time zone, also checked figure by figure.
The last line printed is JSON: `contacts`, `identical` (every group and figure equal to pandas'), and per
report `<name>_s` (the engine's best run), `<name>_pandas_s`, `<name>_speedup_vs_pandas` (of the bests),
`<name>_speedup_median_of_rounds` and, with DuckDB, `<name>_duckdb_s` and `<name>_duckdb_identical`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import importlib
import json
import math
import statistics
import time
import zoneinfo
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd  # type: ignore[import-untyped]
import polars as pl

from bench._common import machine
from centralita.analytics.engine import KpiQuery, kpis, utc_offsets
from centralita.analytics.facts import FACT_SCHEMA, to_us
from centralita.analytics.reports import ReportQuery, run_report
from centralita.core.metrics_settings import MetricsSettings

US = 1_000_000
TZ = "Europe/Madrid"
FIRST_DAY = dt.date(2026, 8, 28)  # 90 local days, 2026-08-28 .. 2026-11-25, summer time ends 2026-10-25
DAYS = 90
QUEUE_FIGURES = ("offered", "answered", "abandoned", "abandon_rate", "service_level", "asa_s", "handled", "aht_s")
REASON_FIGURES = ("contacts", "share")

Rng = np.random.Generator
IntArray = np.ndarray[Any, np.dtype[np.int64]]
BoolArray = np.ndarray[Any, np.dtype[np.bool_]]


def local_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=zoneinfo.ZoneInfo(TZ)).astimezone(dt.UTC)


# -- the synthetic fact frame ----------------------------------------------------------------------------


def _pick(rng: Rng, weights: Any, n: int) -> IntArray:
    """`n` draws of 0..k-1 with the given weights, through a table of 65,536 equally likely cells (each
    weight rounded to 1/65,536: plenty for synthetic data, and many times faster than `rng.choice`)."""
    cdf = np.cumsum(np.asarray(weights, dtype=np.float64))
    table = np.searchsorted(cdf / cdf[-1], (np.arange(65536) + 0.5) / 65536, side="right").astype(np.int64)
    return np.asarray(table[rng.integers(0, 65536, n, dtype=np.int32)], dtype=np.int64)


def _exp_us(rng: Rng, mean_s: np.ndarray[Any, Any] | float, n: int) -> IntArray:
    scale = np.asarray(mean_s, dtype=np.float64) * US
    return np.asarray(rng.standard_exponential(n, dtype=np.float32) * scale, dtype=np.int64)


def _zipf(k: int, s: float) -> np.ndarray[Any, np.dtype[np.float64]]:
    w = 1.0 / np.arange(1, k + 1) ** s
    return np.asarray(w / w.sum(), dtype=np.float64)


def generate(n: int, seed: int = 13) -> pl.DataFrame:
    """`n` contacts over the 90 local days, in FACT_SCHEMA (column order and types)."""
    rng = np.random.default_rng(seed)
    # arrivals: day (fewer at weekends), local hour (a working-day profile), second within the hour
    day_weight = np.array([1.0 if (FIRST_DAY + dt.timedelta(days=d)).isoweekday() < 6 else 0.45 for d in range(DAYS)])
    hour_weight = np.array([2, 1, 1, 1, 1, 2, 4, 10, 30, 55, 60, 58, 50, 45, 50, 55, 52, 45, 35, 25, 15, 10, 6, 3.0])
    day = _pick(rng, day_weight, n)
    hour = _pick(rng, hour_weight, n)
    base = int(dt.datetime(FIRST_DAY.year, FIRST_DAY.month, FIRST_DAY.day, tzinfo=dt.UTC).timestamp()) * US
    local = base + day * 86400 * US + hour * 3600 * US + rng.integers(0, 3600 * US, n)
    lo, hi = to_us(local_midnight(FIRST_DAY)), to_us(local_midnight(FIRST_DAY + dt.timedelta(days=DAYS)))
    starts, offsets = utc_offsets(TZ, lo - 86400 * US, hi + 86400 * US)
    initiation = np.sort(local - offsets[np.searchsorted(starts, local - 3600 * US, side="right") - 1])

    # who and why: customers (8% unidentified) carry their segment, tier and stage
    customers = max(n // 4, 10)
    identified = rng.random(n) < 0.92
    customer = rng.integers(1, customers + 1, n)
    seg_of = _pick(rng, n=customers + 1, weights=[0.55, 0.2, 0.1, 0.1, 0.05])
    tier_of = _pick(rng, n=customers + 1, weights=[0.5, 0.3, 0.15, 0.05])
    stage_of = _pick(rng, n=customers + 1, weights=[0.15, 0.7, 0.1, 0.05])
    reason = _pick(rng, _zipf(60, 1.1) + _zipf(60, 0.6), n)  # a few frequent reasons, a long tail
    reason_missing = rng.random(n) < 0.04
    sub_reason = reason * 3 + rng.integers(0, 3, n)

    # the path: outbound (8%), inbound queued (85% of inbound), self-served or ended in the flow
    outbound = rng.random(n) < 0.08
    path = rng.random(n)
    queued = ~outbound & (path < 0.85)
    self_served = ~outbound & (path >= 0.85) & (path < 0.95)
    queue_weight = _zipf(20, 0.8)
    queue = _pick(rng, queue_weight, n)
    #                 voice ×11                          chat ×5        email ×2  sms social
    queue_channel = np.array([0] * 11 + [1] * 5 + [2] * 2 + [3, 4])
    threshold_s = np.array([20, 20, 20, 20, 15, 20, 30, 20, 20, 20, 10, 30, 30, 30, 60, 30, 3600, 7200, 300, 600])
    mean_wait_s = np.array([25, 40, 18, 60, 12, 35, 45, 20, 30, 22, 8, 40, 25, 50, 70, 30, 2400, 3600, 240, 500])
    abandon_p = np.array([0.08, 0.12, 0.05, 0.15, 0.04, 0.1, 0.11, 0.06, 0.09, 0.07, 0.03] + [0.06] * 5 + [0.01] * 4)
    channel = np.where(queued, queue_channel[queue], _pick(rng, [0.6, 0.25, 0.08, 0.05, 0.02], n))
    voice = channel == 0

    enqueue = initiation + _exp_us(rng, 20.0, n) + 2 * US
    outcome_draw = rng.random(n)
    abandoned = queued & (outcome_draw < abandon_p[queue])
    other = queued & ~abandoned & (outcome_draw < abandon_p[queue] + 0.03)
    answered = queued & ~abandoned & ~other
    wait = np.where(abandoned, _exp_us(rng, np.minimum(mean_wait_s[queue], 90) * 1.5, n), _exp_us(rng, 1.0, n))
    wait = np.where(answered | other, _exp_us(rng, mean_wait_s[queue], n), wait)
    dequeue = enqueue + wait
    callback = other & (rng.random(n) < 0.5)
    queue_outcome = np.where(answered, 0, np.where(abandoned, 1, np.where(callback, 2, 3)))

    # the agent leg: answered ones, and outbound calls that connected
    handled = answered | (outbound & (rng.random(n) < 0.9))
    connected = np.where(answered, dequeue, initiation + _exp_us(rng, 15.0, n))
    talk_mean = np.array([240.0, 420.0, 300.0, 180.0, 200.0])[channel]
    talk = _exp_us(rng, talk_mean, n) + 5 * US
    held = handled & voice & (rng.random(n) < 0.25)
    hold = np.where(held, _exp_us(rng, 50.0, n) + US, 0)
    agent_end = connected + talk + hold
    has_acw = handled & (rng.random(n) < 0.85)
    acw_end = agent_end + _exp_us(rng, 25.0, n) + US
    in_flow_end = initiation + np.where(self_served, _exp_us(rng, 90.0, n), _exp_us(rng, 40.0, n))
    disconnect = np.where(handled, agent_end, np.where(queued, dequeue, in_flow_end))
    agent = rng.integers(0, 400, n)
    agent_cost = np.round(18 + (np.arange(400) % 13) * 1.0, 2)
    surveyed = handled & (rng.random(n) < 0.12)

    ids = np.arange(1, n + 1, dtype=np.int64)
    transfer = handled & (rng.random(n) < 0.03)
    chained = np.zeros(n, dtype=bool)
    chained[1:] = transfer[:-1]  # the contact after a transfer continues its chain
    has_case = rng.random(n) < 0.05
    method = np.where(outbound, 1, np.where(chained, 2, np.where(rng.random(n) < 0.02, 3, 0)))

    raw: dict[str, np.ndarray[Any, Any]] = {}

    def _col(values: np.ndarray[Any, Any]) -> pl.Expr:
        raw[f"_{len(raw)}"] = values
        return pl.col(f"_{len(raw) - 1}")

    def _labels(names: list[str], codes: IntArray, missing: BoolArray | None = None) -> pl.Expr:
        """A string column from small integer codes (null where `missing`)."""
        label = pl.lit(pl.Series(names)).gather(_col(codes))
        return label if missing is None else pl.when(_col(~missing)).then(label)

    def _nullable(values: IntArray, present: BoolArray) -> pl.Expr:
        return pl.when(_col(present)).then(_col(values))

    cols: dict[str, pl.Expr] = {
        "id": _col(ids),
        "initial_contact_id": _col(np.where(chained, ids - 1, ids)),
        "customer_id": _nullable(customer, identified),
        "channel": _labels(["voice", "chat", "email", "sms", "social"], channel),
        "direction": _labels(["inbound", "outbound"], outbound.astype(np.int64)),
        "initiation_method": _labels(["INBOUND", "OUTBOUND", "TRANSFER", "CALLBACK"], method),
        "queue": _labels([f"q{k:02d}" for k in range(1, 21)], queue, ~queued),
        "agent": _labels([f"agent{k:03d}" for k in range(400)], agent, ~handled),
        "team": _labels([f"team{k:02d}" for k in range(20)], agent // 20, ~handled),
        "segment": _labels(["consumer", "smb", "enterprise", "public", "vip"], seg_of[customer], ~identified),
        "value_tier": _labels(["bronze", "silver", "gold", "platinum"], tier_of[customer], ~identified),
        "lifecycle_stage": _labels(["new", "active", "at_risk", "lapsed"], stage_of[customer], ~identified),
        "reason": _labels([f"reason{k:02d}" for k in range(60)], reason, reason_missing),
        "sub_reason": _labels([f"reason{k // 3:02d}.{k % 3}" for k in range(180)], sub_reason, reason_missing),
        "entry_point": _labels([f"+349100000{k:02d}" for k in range(8)], rng.integers(0, 8, n), outbound),
        "ani": pl.lit(None, pl.String),
        "queue_outcome": _labels(["answered", "abandoned", "other:callback", "other:max_wait"], queue_outcome, ~queued),
        "outcome": _labels(
            ["completed", "abandoned", "self_service", "hung_up_in_flow", "callback"],
            np.where(handled, 0, np.where(abandoned, 1, np.where(self_served, 2, np.where(other, 4, 3)))),
        ),
        "initiation_us": _col(initiation),
        "enqueue_us": _nullable(enqueue, queued),
        "dequeue_us": _nullable(dequeue, queued),
        "connected_us": _nullable(connected, handled),
        "agent_end_us": _nullable(agent_end, handled),
        "acw_start_us": _nullable(agent_end, has_acw),
        "acw_end_us": _nullable(acw_end, has_acw),
        "disconnect_us": _col(disconnect),
        "threshold_us": _nullable(threshold_s[queue] * US, queued),
        "hold_us": _col(hold),
        "self_service": _col(self_served),
        "in_flow": _col(~outbound),
        "resolved": pl.when(_col(handled)).then(_col(rng.random(n) < 0.8)),
        "transferred": _col(transfer),
        "csat": _nullable(_pick(rng, [0.06, 0.06, 0.13, 0.35, 0.4], n) + 1, surveyed),
        "ces": _nullable(rng.integers(1, 8, n), surveyed & (rng.random(n) < 0.5)),
        "nps": _nullable(rng.integers(0, 11, n), surveyed & (rng.random(n) < 0.5)),
        "agent_hourly_cost": pl.when(_col(handled)).then(_col(agent_cost[agent])),
        "reason_avoidable": _labels(["no", "yes"], (reason % 7 == 0).astype(np.int64), reason_missing) == "yes",
        "reason_group": _labels([f"group{k}" for k in range(8)], reason % 8, reason_missing),
        "agent_skill_level": pl.when(_col(handled)).then(_col(1 + agent % 5)),
        # a linked case on a few contacts, closed a day or two later on most of them
        "case_id": _nullable(ids, has_case),
        "case_opened_us": _nullable(initiation, has_case),
        "case_closed_us": _nullable(initiation + _exp_us(rng, 86400.0, n), has_case & (rng.random(n) < 0.8)),
    }
    return pl.DataFrame(raw).select(cols[name].cast(dtype).alias(name) for name, dtype in FACT_SCHEMA.items())


def to_pandas(facts: pl.DataFrame) -> pd.DataFrame:
    """The analyst's frame: the columns the two reports read, times as UTC datetimes (not timed)."""
    times = ("initiation_us", "enqueue_us", "dequeue_us", "connected_us", "agent_end_us", "acw_start_us", "acw_end_us")
    cols = ["queue", "segment", "reason", "queue_outcome", "threshold_us", "hold_us"]
    frame = facts.select(
        *cols,
        *(pl.from_epoch(name, time_unit="us").dt.replace_time_zone("UTC").alias(name[:-3]) for name in times),
    )
    return frame.to_pandas()


# -- the reports, by the engine and by pandas -------------------------------------------------------------


def engine_interval(facts: pl.DataFrame, start: dt.datetime, end: dt.datetime) -> list[dict[str, Any]]:
    query = KpiQuery(start, end, TZ, by=("queue",), interval="30m", families=("queue", "handle"))
    return kpis(facts, query, MetricsSettings())


def engine_reason(facts: pl.DataFrame, start: dt.datetime, end: dt.datetime) -> list[dict[str, Any]]:
    query = ReportQuery(KpiQuery(start, end, TZ))
    return run_report("reason-mix", facts, query, MetricsSettings()).rows


def _half_hour(utc: pd.Series) -> pd.Series:
    """The local half hour of each UTC instant, as its local start (the fall-back hour twice, by offset)."""
    local = utc.dt.tz_convert(TZ)
    summer = (local.dt.tz_localize(None) - utc.dt.tz_localize(None)) == pd.Timedelta(hours=2)
    return local.dt.floor("30min", ambiguous=summer.to_numpy())


def pandas_interval(df: pd.DataFrame, start: dt.datetime, end: dt.datetime) -> pd.DataFrame:
    lo, hi = pd.Timestamp(start), pd.Timestamp(end)
    q = df[df["enqueue"].notna() & df["queue_outcome"].notna() & (df["dequeue"] >= lo) & (df["dequeue"] < hi)]
    wait_us = (q["dequeue"] - q["enqueue"]).astype("int64")  # timedelta64[us] as whole microseconds
    answered = q["queue_outcome"] == "answered"
    abandoned = q["queue_outcome"] == "abandoned"
    queues = (
        q.assign(
            interval=_half_hour(q["dequeue"]),
            answered=answered,
            abandoned=abandoned,
            answered_within=answered & (wait_us <= q["threshold_us"].fillna(20 * US)),
            wait_answered_us=wait_us.where(answered, 0),
        )
        .groupby(["interval", "queue"], dropna=False)
        .agg(
            offered=("answered", "size"),
            answered=("answered", "sum"),
            abandoned=("abandoned", "sum"),
            answered_within=("answered_within", "sum"),
            wait_answered_us=("wait_answered_us", "sum"),
        )
    )
    h = df[df["connected"].notna() & df["agent_end"].notna()]
    done = h["acw_end"].fillna(h["agent_end"])  # handle figures count where after-contact work ends
    in_range = (done >= lo) & (done < hi)
    h, done = h[in_range], done[in_range]
    acw_us = (h["acw_end"] - h["acw_start"]).fillna(pd.Timedelta(0)).astype("int64")
    handles = (
        h.assign(
            interval=_half_hour(done),
            handle_us=(h["agent_end"] - h["connected"]).astype("int64") + acw_us,  # talk + hold + ACW
        )
        .groupby(["interval", "queue"], dropna=False)
        .agg(handled=("handle_us", "size"), handle_us=("handle_us", "sum"))
    )
    out = queues.reset_index().merge(handles.reset_index(), on=["interval", "queue"], how="outer")
    counts = ["offered", "answered", "abandoned", "answered_within", "wait_answered_us", "handled", "handle_us"]
    out[counts] = out[counts].fillna(0).astype("int64")
    answered_or_abandoned = out["answered"] + out["abandoned"]
    out["abandon_rate"] = (out["abandoned"] / out["offered"]).where(out["offered"] > 0)
    out["service_level"] = (out["answered_within"] / answered_or_abandoned).where(answered_or_abandoned > 0)
    out["asa_s"] = (out["wait_answered_us"] / (out["answered"] * US)).where(out["answered"] > 0)
    out["aht_s"] = (out["handle_us"] / (out["handled"] * US)).where(out["handled"] > 0)
    return out


def pandas_reason(df: pd.DataFrame, start: dt.datetime, end: dt.datetime) -> pd.DataFrame:
    lo, hi = pd.Timestamp(start), pd.Timestamp(end)
    v = df[(df["initiation"] >= lo) & (df["initiation"] < hi)]
    out = v.groupby(["segment", "reason"], dropna=False).size().rename("contacts").reset_index()
    out["share"] = out["contacts"] / out.groupby("segment", dropna=False)["contacts"].transform("sum")
    out[["segment", "reason"]] = out[["segment", "reason"]].astype(object).fillna("unknown")
    return out


def duckdb_interval(con: Any, start: dt.datetime, end: dt.datetime) -> pd.DataFrame:
    """The same report in DuckDB's SQL over the same Polars frame (registered as `facts`); local half hours
    from its ICU time zone: the UTC start of the local half hour = instant − (local wall clock mod 30 min)."""
    lo, hi = to_us(start), to_us(end)
    local = f"epoch_us(make_timestamptz({{at}}) AT TIME ZONE '{TZ}')"
    half_hour = f"{{at}} - ({local} % {30 * 60 * US})"
    w = "(dequeue_us - enqueue_us)"
    sql = f"""
    WITH q AS (
        SELECT {half_hour.format(at="dequeue_us")} AS interval, queue,
            count(*) AS offered,
            count(*) FILTER (queue_outcome = 'answered') AS answered,
            count(*) FILTER (queue_outcome = 'abandoned') AS abandoned,
            count(*) FILTER (queue_outcome = 'answered' AND {w} <= coalesce(threshold_us, {20 * US}))
                AS answered_within,
            coalesce(sum({w}) FILTER (queue_outcome = 'answered'), 0) AS wait_answered_us
        FROM facts
        WHERE enqueue_us IS NOT NULL AND queue_outcome IS NOT NULL AND dequeue_us >= {lo} AND dequeue_us < {hi}
        GROUP BY ALL
    ), h AS (
        SELECT {half_hour.format(at="coalesce(acw_end_us, agent_end_us)")} AS interval, queue,
            count(*) AS handled,
            sum(agent_end_us - connected_us + coalesce(acw_end_us - acw_start_us, 0)) AS handle_us
        FROM facts
        WHERE connected_us IS NOT NULL AND agent_end_us IS NOT NULL
            AND coalesce(acw_end_us, agent_end_us) >= {lo} AND coalesce(acw_end_us, agent_end_us) < {hi}
        GROUP BY ALL
    )
    SELECT coalesce(q.interval, h.interval) AS interval, coalesce(q.queue, h.queue) AS queue,
        coalesce(offered, 0) AS offered, coalesce(answered, 0) AS answered, coalesce(abandoned, 0) AS abandoned,
        CASE WHEN offered > 0 THEN abandoned / offered END AS abandon_rate,
        CASE WHEN answered + abandoned > 0 THEN answered_within / (answered + abandoned) END AS service_level,
        CASE WHEN answered > 0 THEN wait_answered_us / (answered * {US}) END AS asa_s,
        coalesce(handled, 0) AS handled,
        CASE WHEN handled > 0 THEN handle_us / (handled * {US}) END AS aht_s
    FROM q FULL OUTER JOIN h ON q.interval = h.interval AND q.queue IS NOT DISTINCT FROM h.queue
    """
    frame: pd.DataFrame = con.sql(sql).df()
    return frame


def duckdb_reason(con: Any, start: dt.datetime, end: dt.datetime) -> pd.DataFrame:
    lo, hi = to_us(start), to_us(end)
    sql = f"""
    SELECT coalesce(segment, 'unknown') AS segment, coalesce(reason, 'unknown') AS reason, count(*) AS contacts,
        count(*) / sum(count(*)) OVER (PARTITION BY segment) AS share
    FROM facts WHERE initiation_us >= {lo} AND initiation_us < {hi}
    GROUP BY segment, reason
    """
    frame: pd.DataFrame = con.sql(sql).df()
    return frame


# -- the comparison ----------------------------------------------------------------------------------------


def _value(v: Any) -> Any:
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    return v


def _first_mismatch(
    ours: dict[tuple[Any, ...], dict[str, Any]], theirs: dict[tuple[Any, ...], dict[str, Any]], figures: tuple[str, ...]
) -> str | None:
    if len(ours) != len(theirs) or ours.keys() != theirs.keys():
        only_ours = sorted(ours.keys() - theirs.keys(), key=repr)[:3]
        only_theirs = sorted(theirs.keys() - ours.keys(), key=repr)[:3]
        return f"groups differ: {len(ours)} vs {len(theirs)}; engine only {only_ours}, pandas only {only_theirs}"
    for key in sorted(ours, key=repr):
        for name in figures:
            a, b = _value(ours[key].get(name)), _value(theirs[key].get(name))
            if a != b:
                return f"{key} {name}: engine {a!r}, pandas {b!r}"
    return None


def compare_interval(rows: list[dict[str, Any]], frame: pd.DataFrame) -> str | None:
    ours = {(r["interval"], r["queue"]): r for r in rows}
    if not isinstance(frame["interval"].dtype, pd.DatetimeTZDtype):  # DuckDB's: the UTC start in µs
        frame = frame.assign(interval=pd.to_datetime(frame["interval"], unit="us", utc=True).dt.tz_convert(TZ))
    theirs = {
        (t.isoformat(), _value(q)): r
        for t, q, r in zip(frame["interval"], frame["queue"], frame.to_dict("records"), strict=True)
    }
    return _first_mismatch(ours, theirs, QUEUE_FIGURES)


def compare_reason(rows: list[dict[str, Any]], frame: pd.DataFrame) -> str | None:
    ours = {(r["segment"], r["reason"]): r for r in rows}
    theirs = {(r["segment"], r["reason"]): r for r in frame.to_dict("records")}
    return _first_mismatch(ours, theirs, REASON_FIGURES)


# -- timing ------------------------------------------------------------------------------------------------


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def _duckdb() -> Any | None:
    try:
        return importlib.import_module("duckdb")
    except ImportError:
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each (engine and pandas alternate)")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument(
        "--duckdb", choices=("auto", "yes", "no"), default="auto", help="also time DuckDB's SQL (when importable)"
    )
    args = parser.parse_args()

    t0 = time.perf_counter()
    facts = generate(args.contacts, args.seed)
    generate_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    df = to_pandas(facts)
    convert_s = time.perf_counter() - t0
    start, end = local_midnight(FIRST_DAY), local_midnight(FIRST_DAY + dt.timedelta(days=DAYS))
    print(f"{args.contacts:,} contacts generated in {generate_s:.1f} s, pandas frame in {convert_s:.1f} s")

    duckdb = _duckdb() if args.duckdb != "no" else None
    if args.duckdb == "yes" and duckdb is None:
        raise SystemExit("--duckdb yes: the duckdb package is not importable")
    con = None
    if duckdb is not None:
        con = duckdb.connect()
        con.register("facts", facts)  # the same Polars frame, scanned in place through Arrow

    Way = Callable[[], Any]
    reports: dict[str, tuple[Way, Way, Way | None, Callable[[Any, Any], str | None]]] = {
        "interval_by_queue": (
            lambda: engine_interval(facts, start, end),
            lambda: pandas_interval(df, start, end),
            (lambda: duckdb_interval(con, start, end)) if con is not None else None,
            compare_interval,
        ),
        "reason_by_segment": (
            lambda: engine_reason(facts, start, end),
            lambda: pandas_reason(df, start, end),
            (lambda: duckdb_reason(con, start, end)) if con is not None else None,
            compare_reason,
        ),
    }
    out: dict[str, Any] = {"contacts": args.contacts, "identical": True}
    lines = []
    for name, (ours, theirs, third, compare) in reports.items():
        times: dict[str, list[float]] = {"engine": [], "pandas": [], **({"duckdb": []} if third else {})}
        results: dict[str, Any] = {}
        for _ in range(args.runs):  # alternating, so a busy spell on the machine hits every way alike
            for way, fn in (("engine", ours), ("pandas", theirs), ("duckdb", third)):
                if fn is not None:
                    seconds, results[way] = _timed(fn)
                    times[way].append(seconds)
        best = {way: min(values) for way, values in times.items()}
        mismatch = compare(results["engine"], results["pandas"])
        out[f"{name}_s"] = round(best["engine"], 3)
        out[f"{name}_pandas_s"] = round(best["pandas"], 3)
        out[f"{name}_speedup_vs_pandas"] = round(best["pandas"] / best["engine"], 2)
        paired = statistics.median(p / e for p, e in zip(times["pandas"], times["engine"], strict=True))
        out[f"{name}_speedup_median_of_rounds"] = round(paired, 2)  # each round's ratio: steadier when noisy
        out[f"{name}_groups"] = len(results["engine"])
        out[f"{name}_runs_s"] = {way: [round(s, 3) for s in values] for way, values in times.items()}
        out["identical"] = out["identical"] and mismatch is None
        if mismatch is not None:
            out[f"{name}_first_mismatch"] = mismatch
        duck_mismatch = None
        if "duckdb" in results:
            duck_mismatch = compare(results["engine"], results["duckdb"])
            out[f"{name}_duckdb_s"] = round(best["duckdb"], 3)
            out[f"{name}_duckdb_identical"] = duck_mismatch is None
            if duck_mismatch is not None:
                out[f"{name}_duckdb_first_mismatch"] = duck_mismatch
        lines.append((name, len(results["engine"]), best, paired, mismatch, duck_mismatch))

    print()
    duck = " duckdb s" if con is not None else ""
    head = f"{'report':<20} {'groups':>8} {'engine s':>9} {'pandas s':>9} {'speedup':>8} {'(rounds)':>8}{duck}"
    print(f"{head}  identical to pandas")
    for name, groups, best, paired, mismatch, duck_mismatch in lines:
        same = "yes" if mismatch is None else f"NO: {mismatch}"
        speedup = best["pandas"] / best["engine"]
        duck_s = f" {best['duckdb']:>8.3f}" if "duckdb" in best else ""
        figures = f"{best['engine']:>9.3f} {best['pandas']:>9.3f} {speedup:>7.1f}x {paired:>7.1f}x{duck_s}"
        print(f"{name:<20} {groups:>8,} {figures}  {same}")
        if duck_mismatch is not None:
            print(f"  DuckDB differs from the engine: {duck_mismatch}")
    print(f"(best of {args.runs}, the ways alternating; speedup of the bests, and the median of each round's")
    print(f" pandas/engine ratio; load average {machine()['loadavg_1m']})")
    out.update(
        engine="polars",
        polars=pl.__version__,
        pandas=pd.__version__,
        numpy=np.__version__,
        duckdb=duckdb.__version__ if duckdb is not None else None,
        generate_s=round(generate_s, 1),
        machine=machine(),
    )
    print(json.dumps(out))


if __name__ == "__main__":
    main()

"""The history engine: KPIs of a fact table by interval and by any dimension (metrics.md), on Polars.

`kpis(facts, query, settings)` groups the contacts and reduces each group to the sufficient statistics of
`formulas.py` (column-wise: one lazy group-by per metric family, run together on Polars' streaming engine,
so the fact frame is read once per family and never copied), then computes the figures column by column
with exactly the quotients of the pure formulas the live figures use (`_rows`; checked against the
formulas row by row for every variant). Every metric family counts in the interval where it completes
(metrics.md §1.3): queue figures at `dequeue_ts`, handle figures at the end of after-contact work (or of the
agent leg), surveys and FCR with the contact's end, volume at `initiation_ts`. Only the families asked for
are computed.

Local time: intervals, hour of day and day of week are in the tenant's time zone. Rather than converting
every timestamp through a time-zone library, the engine looks up each instant's UTC offset in the zone's
transition table for the range (an expression: a comparison per transition), so local time is one integer
addition, computed only when a key needs it.
Sub-hour intervals are identified by their UTC start, so a daylight-saving day has 23 or 25 hours of them.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from types import SimpleNamespace
from typing import Any, cast

import numpy as np
import polars as pl

from centralita.analytics import formulas as f
from centralita.analytics.agent_time import agent_time
from centralita.analytics.facts import to_us
from centralita.core.metrics_settings import MetricsSettings

__all__ = [
    "AGENT_DIMENSIONS",
    "DIMENSIONS",
    "INTERVALS",
    "OFFER_DIMENSIONS",
    "KpiQuery",
    "add_local_time",
    "default_interval",
    "interval_label",
    "kpis",
    "utc_offsets",
]

US = f.US
HOUR_US = 3600 * US
DAY_US = 24 * HOUR_US
INTERVALS: dict[str, int | None] = {"15m": 15, "30m": 30, "1h": 60, "day": None, "week": None, "month": None}
# dimension → fact column (hour and day of week are derived from local time)
DIMENSIONS: dict[str, str] = {
    "queue": "queue",
    "channel": "channel",
    "agent": "agent",
    "team": "team",
    "segment": "segment",
    "value_tier": "value_tier",
    "lifecycle_stage": "lifecycle_stage",
    "reason": "reason",
    "sub_reason": "sub_reason",
    "entry_point": "entry_point",
    "direction": "direction",
    "hour": "hour",
    "day_of_week": "day_of_week",
}


@dataclass
class KpiQuery:
    """What to compute: the range `[start, end)` (aware datetimes), the groups, the interval, and a
    threshold T for every episode (None: each queue's own, or the tenant's `service_level.threshold_s`)."""

    start: dt.datetime
    end: dt.datetime
    timezone: str
    by: Sequence[str] = ()
    interval: str | None = None
    threshold_s: float | None = None
    families: Sequence[str] = field(default=("queue", "handle", "volume", "survey", "interaction"))


def default_interval(s: MetricsSettings) -> str:
    """The contact center's sub-day interval (`metrics.interval_minutes`) as an interval name."""
    return {15: "15m", 30: "30m", 60: "1h"}[s.interval_minutes]


def utc_offsets(tz: str, lo_us: int, hi_us: int) -> tuple[np.ndarray, np.ndarray]:
    """The zone's UTC offsets over [lo, hi]: instants (µs, sorted) where an offset starts, and the offsets."""
    zone = zoneinfo.ZoneInfo(tz)

    def offset(us: int) -> int:
        when = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=us)
        delta = when.astimezone(zone).utcoffset()
        return 0 if delta is None else (delta.days * 86400 + delta.seconds) * US + delta.microseconds

    starts, offsets = [lo_us], [offset(lo_us)]
    step = HOUR_US
    at = lo_us
    while at < hi_us:
        nxt = min(at + step, hi_us)
        o = offset(nxt)
        if o != offsets[-1]:  # a transition in (at, nxt]: find its exact second
            a, b = at, nxt
            while b - a > US:
                mid = (a + b) // 2 // US * US
                if mid <= a:
                    break
                if offset(mid) == offsets[-1]:
                    a = mid
                else:
                    b = mid
            starts.append(b)
            offsets.append(o)
        at = nxt
    return np.asarray(starts, dtype=np.int64), np.asarray(offsets, dtype=np.int64)


_NO_CHANGE = -(2**62)  # "no offset change before": a sub-day interval key is never clamped


def _local_expr(at: pl.Expr, tz: str, lo_us: int, hi_us: int) -> tuple[pl.Expr, pl.Expr]:
    """Local time of the instants `at` in [lo, hi] (µs): each instant plus its UTC offset, looked up in the
    zone's transition table (a few comparisons for a range with few transitions, else a sorted search); and
    the instant the offset in force began (the last change at or before `at`)."""
    starts, offsets = utc_offsets(tz, lo_us // US * US, hi_us)
    if len(starts) <= 8:
        offset = pl.lit(int(offsets[0]), pl.Int64)
        since = pl.lit(_NO_CHANGE, pl.Int64)
        for begin, value in zip(starts[1:].tolist(), offsets[1:].tolist(), strict=True):
            offset = pl.when(at >= begin).then(pl.lit(value, pl.Int64)).otherwise(offset)
            since = pl.when(at >= begin).then(pl.lit(begin, pl.Int64)).otherwise(since)
    else:
        idx = pl.lit(pl.Series(starts)).search_sorted(at, side="right").cast(pl.Int64) - 1
        offset = pl.lit(pl.Series(offsets)).gather(idx.clip(0, len(offsets) - 1))
        since = (
            pl.when(idx <= 0)
            .then(pl.lit(_NO_CHANGE, pl.Int64))
            .otherwise(pl.lit(pl.Series(starts)).gather(idx.clip(0, len(starts) - 1)))
        )
    return at + offset, since


def _local_columns(
    at: pl.Expr, local: pl.Expr, interval: str | None, wanted: Sequence[str], since: pl.Expr | None = None
) -> list[pl.Expr]:
    """From the UTC instant `at` and its local time: the `interval` key (UTC start of a sub-day interval, or
    the local day, ISO week or month number) and the local `hour` and ISO `day_of_week` when `wanted`.
    A sub-day interval never starts before the offset change that precedes `at` (`since`): in a zone whose
    clocks move by half an hour, the hour around the change is cut in two, each part its own interval."""
    day = local // DAY_US
    cols = []
    if "hour" in wanted:
        cols.append(((local // HOUR_US) % 24).cast(pl.Int8).alias("hour"))
    if "day_of_week" in wanted:
        cols.append((((day + 3) % 7) + 1).cast(pl.Int8).alias("day_of_week"))  # 1970-01-01 was a Thursday
    if interval is not None:
        minutes = INTERVALS[interval]
        if minutes is not None:
            key = at - (local % (minutes * 60 * US))  # the UTC start of the local interval
            if since is not None:
                key = pl.max_horizontal(key, since)
        elif interval == "day":
            key = day
        elif interval == "week":
            key = (day + 3) // 7  # ISO weeks start on Monday
        else:
            month = pl.from_epoch(local, time_unit="us")
            key = (month.dt.year().cast(pl.Int64) - 1970) * 12 + month.dt.month().cast(pl.Int64) - 1
        cols.append(key.cast(pl.Int64).alias("interval"))
    return cols


def add_local_time(frame: pl.DataFrame, column: str, tz: str, interval: str | None) -> pl.DataFrame:
    """Add `interval` key (UTC start, or local day/week/month number), `hour` and `day_of_week` (ISO, local)
    from the timestamp `column`."""
    values = frame[column].drop_nulls()
    if values.is_empty():
        return frame.with_columns(
            pl.lit(None, pl.Int8).alias("hour"),
            pl.lit(None, pl.Int8).alias("day_of_week"),
            *([pl.lit(None, pl.Int64).alias("interval")] if interval is not None else []),
        )
    at = pl.col(column)
    local, since = _local_expr(at, tz, int(values.min()), int(values.max()))  # type: ignore[arg-type]
    return frame.with_columns(_local_columns(at, local, interval, ("hour", "day_of_week"), since))


def interval_label(key: int, interval: str, tz: str) -> str:
    """An interval key as the local ISO start of the interval (with its UTC offset for sub-day ones)."""
    zone = zoneinfo.ZoneInfo(tz)
    if INTERVALS[interval] is not None:
        start = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=key)
        return start.astimezone(zone).isoformat()
    if interval == "day":
        return (dt.date(1970, 1, 1) + dt.timedelta(days=key)).isoformat()
    if interval == "week":
        return (dt.date(1970, 1, 1) + dt.timedelta(days=key * 7 - 3)).isoformat()  # its Monday
    return f"{1970 + key // 12:04d}-{key % 12 + 1:02d}"


def _grouped(frame: pl.DataFrame | pl.LazyFrame, attributed: pl.Expr, q: KpiQuery, aggs: list[pl.Expr]) -> pl.LazyFrame:
    """The rows whose attributed instant is in the range, grouped by the query's keys, reduced by `aggs`
    (a lazy query: only the columns it reads are touched, nothing of the fact frame is copied)."""
    lo, hi = to_us(q.start), to_us(q.end)
    lf = frame.lazy().with_columns(attributed.alias("_at"))
    lf = lf.filter(pl.col("_at").is_not_null() & (pl.col("_at") >= lo) & (pl.col("_at") < hi))
    derived = [d for d in q.by if d in ("hour", "day_of_week")]
    if q.interval is not None or derived:
        local, since = _local_expr(pl.col("_at"), q.timezone, lo, hi)
        lf = lf.with_columns(local.alias("_local"), since.alias("_since")).with_columns(
            _local_columns(pl.col("_at"), pl.col("_local"), q.interval, derived, pl.col("_since"))
        )
    keys = _keys(q)
    if not keys:
        return lf.select(aggs)
    return lf.group_by(keys).agg(aggs)


def _keys(q: KpiQuery) -> list[str]:
    return (["interval"] if q.interval else []) + [DIMENSIONS[d] for d in q.by]


def _queue_family(facts: pl.DataFrame, q: KpiQuery, s: MetricsSettings) -> pl.LazyFrame:
    w = pl.col("dequeue_us") - pl.col("enqueue_us")
    threshold = q.threshold_s if q.threshold_s is not None else s.service_level.threshold_s
    t = pl.lit(round(threshold * US)) if threshold is not None else pl.col("threshold_us").fill_null(20 * US)
    short = s.service_level.short_abandon_s * US
    a = pl.col("queue_outcome") == "answered"
    b = pl.col("queue_outcome") == "abandoned"
    within = w <= t
    frame = facts.lazy().filter(pl.col("enqueue_us").is_not_null() & pl.col("queue_outcome").is_not_null())
    return _grouped(
        frame.with_columns(w.alias("_w")),
        pl.col("dequeue_us"),
        q,
        [
            pl.len().alias("offered"),
            a.sum().alias("answered"),
            b.sum().alias("abandoned"),
            (~a & ~b).sum().alias("other"),
            (a & within).sum().alias("answered_within"),
            (b & within).sum().alias("abandoned_within"),
            ((b & (pl.col("_w") <= short)) if short > 0 else pl.lit(False)).sum().alias("abandoned_short"),
            ((pl.col("queue_outcome") == "other:callback") & within).sum().alias("callbacks_within"),
            pl.when(a).then(pl.col("_w")).otherwise(0).sum().alias("wait_answered_us"),
            pl.when(b).then(pl.col("_w")).otherwise(0).sum().alias("wait_abandoned_us"),
            pl.col("_w").sum().alias("wait_offered_us"),
            pl.col("_w").max().alias("max_wait_us"),
            pl.when(a & pl.col("connected_us").is_not_null())
            .then(pl.col("connected_us") - pl.col("initiation_us"))
            .otherwise(0)
            .sum()
            .alias("arrival_to_answer_us"),
            (a & pl.col("connected_us").is_not_null()).sum().alias("answered_connected"),
        ],
    )


def _handle_family(facts: pl.DataFrame, q: KpiQuery) -> pl.LazyFrame:
    # handled once the agent leg and its after-contact work are over (a contact still in ACW counts later)
    frame = facts.lazy().filter(
        pl.col("connected_us").is_not_null()
        & pl.col("agent_end_us").is_not_null()
        & ~(pl.col("acw_start_us").is_not_null() & pl.col("acw_end_us").is_null())
    )
    acw = (pl.col("acw_end_us") - pl.col("acw_start_us")).fill_null(0)
    talk = pl.col("agent_end_us") - pl.col("connected_us") - pl.col("hold_us").fill_null(0)
    return _grouped(
        frame,
        pl.coalesce("acw_end_us", "agent_end_us"),
        q,
        [
            pl.len().alias("handled"),
            (pl.col("hold_us").fill_null(0) > 0).sum().alias("held"),
            talk.sum().alias("talk_us"),
            pl.col("hold_us").fill_null(0).sum().alias("hold_us"),
            acw.sum().alias("acw_us"),
            pl.col("transferred").fill_null(False).sum().alias("transferred_records"),
        ],
    )


def _volume_family(facts: pl.DataFrame, q: KpiQuery) -> pl.LazyFrame:
    in_flow = pl.col("in_flow").fill_null(False) | pl.col("self_service").fill_null(False)
    served_in_flow = pl.col("self_service").fill_null(False) & pl.col("enqueue_us").is_null()
    return _grouped(
        facts,
        pl.col("initiation_us"),
        q,
        [
            pl.len().alias("contacts"),
            in_flow.sum().alias("entered_flow"),
            served_in_flow.sum().alias("self_served"),
        ],
    )


def _arrivals_family(facts: pl.DataFrame, q: KpiQuery) -> pl.LazyFrame:
    """Contacts that joined a queue, counted where they joined it (the wallboard's arrivals per interval)."""
    frame = facts.lazy().filter(pl.col("enqueue_us").is_not_null())
    return _grouped(frame, pl.col("enqueue_us"), q, [pl.len().alias("queued")])


def _survey_family(facts: pl.DataFrame, q: KpiQuery) -> pl.LazyFrame:
    frame = facts.lazy().filter(
        pl.col("csat").is_not_null() | pl.col("ces").is_not_null() | pl.col("nps").is_not_null()
    )
    aggs = [(pl.col(name) == k).sum().alias(f"{name}_{k}") for name, lo, hi in _SCALES for k in range(lo, hi + 1)]
    return _grouped(frame, pl.coalesce("disconnect_us", "agent_end_us", "initiation_us"), q, aggs)


_SCALES = (("csat", 1, 5), ("ces", 1, 7), ("nps", 0, 10))
# what an interaction is described by (its last contact's, or its first's for how it began)
_LAST_SET = ("reason", "sub_reason", "customer_id", "ani")
_CHAIN_COLUMNS = (
    "id",
    "initial_contact_id",
    "customer_id",
    "ani",
    "direction",
    "initiation_method",
    "reason",
    "sub_reason",
    "initiation_us",
    "connected_us",
    "agent_end_us",
    "disconnect_us",
    "transferred",
)


def _interaction_family(facts: pl.DataFrame, q: KpiQuery, s: MetricsSettings) -> pl.LazyFrame | None:
    """FCR, repeats and the interaction transfer rate: contacts sharing `initial_contact_id` are one
    interaction, described by its last contact (its end, reason and dimensions)."""
    if facts.is_empty():
        return None
    # only the columns the interactions need (their dimensions included): the rest of the frame is not sorted
    used = [*_CHAIN_COLUMNS, *(DIMENSIONS[d] for d in q.by if d not in ("hour", "day_of_week"))]
    contacts = facts.select(list(dict.fromkeys(used))).with_columns(
        pl.coalesce("initial_contact_id", "id").alias("_chain")
    )
    # most interactions are one contact: only chains of several are sorted and reduced to their last contact
    several = pl.col("_chain").is_duplicated()
    chains = (
        contacts.filter(several)
        .sort("_chain", "initiation_us", "id")
        .group_by("_chain", maintain_order=True)
        .agg(
            pl.all().exclude(_LAST_SET).last(),
            # the interaction's reason and customer: the last ones set (a transfer leg may have none)
            *(pl.col(name).drop_nulls().last() for name in _LAST_SET),
            pl.col("initiation_us").first().alias("_begin_us"),
            pl.len().cast(pl.Int64).alias("_size"),
            pl.col("connected_us").is_not_null().any().alias("_handled"),
            (pl.col("transferred").fill_null(False) & pl.col("connected_us").is_not_null()).any().alias("_xfer"),
            pl.col("initiation_method").first().alias("_method"),
            pl.col("direction").first().alias("_direction"),
        )
    )
    single = contacts.filter(~several).with_columns(
        pl.col("initiation_us").alias("_begin_us"),
        pl.lit(1, pl.Int64).alias("_size"),
        pl.col("connected_us").is_not_null().alias("_handled"),
        (pl.col("transferred").fill_null(False) & pl.col("connected_us").is_not_null()).alias("_xfer"),
        pl.col("initiation_method").alias("_method"),
        pl.col("direction").alias("_direction"),
    )
    chains = pl.concat([single.select(chains.columns), chains])
    # the customer key (metrics.md §4.1): the customer, else the caller's number or address
    customer = (
        pl.when(pl.col("customer_id").is_not_null())
        .then(pl.format("c{}", pl.col("customer_id")))
        .otherwise(pl.format("a{}", pl.col("ani")))
    )
    chains = chains.with_columns(
        pl.coalesce("disconnect_us", "agent_end_us").alias("_end_us"),
        ((pl.col("_direction") == "inbound") | (pl.col("_method") == "CALLBACK")).alias("_cust"),
        customer.cast(pl.Categorical).to_physical().cast(pl.Int64).alias("_customer"),
    )
    window = s.fcr.window_days * DAY_US
    fails, repeats = _repeats(chains, window, s.fcr.match)
    report_end = to_us(q.end)
    known = pl.col("_customer").is_not_null() & pl.col("_end_us").is_not_null()
    eligible = pl.col("_cust") & pl.col("_handled") & known & (pl.col("_end_us") + window <= report_end)
    frame = chains.with_columns(fails.alias("_fails"), repeats.alias("_repeat"))
    return _grouped(
        frame,
        pl.col("_end_us"),
        q,
        [
            eligible.sum().alias("fcr_eligible"),
            (eligible & ~pl.col("_fails")).sum().alias("fcr_resolved"),
            (pl.col("_cust") & known).sum().alias("repeat_eligible"),
            (pl.col("_cust") & known & pl.col("_repeat")).sum().alias("repeats"),
            pl.len().alias("interactions"),
            pl.col("_size").sum().alias("interaction_contacts"),
            pl.col("_handled").sum().alias("handled_interactions"),
            (pl.col("_handled") & pl.col("_xfer")).sum().alias("transferred_interactions"),
        ],
    )


def _repeats(chains: pl.DataFrame, window_us: int, match: str) -> tuple[pl.Series, pl.Series]:
    """Per interaction, column-wise (formulas.fcr and formulas.repeat_contacts):
    - *fails FCR*: a later customer-initiated interaction of the same customer with a matching reason began
      within the window after its end (the earliest such later one decides);
    - *is a repeat* (metrics.md §4.2): it is customer-initiated and an earlier customer-initiated, handled
      interaction of the same customer with a matching reason ended at most the window before it began (the
      latest end among the earlier ones decides)."""
    key = "sub_reason" if match == "sub_reason" else "reason"
    base = chains.select(
        pl.int_range(pl.len(), dtype=pl.Int64).alias("_row"),
        "_customer",
        # the reason as an integer code (equal reasons, equal codes): the as-of joins match on integers
        pl.col(key).cast(pl.Categorical).to_physical().cast(pl.Int64).alias("_reason"),
        (pl.col("_begin_us") + 1).alias("_after"),  # strictly later
        (pl.col("_begin_us") - 1).alias("_before"),  # strictly earlier
        "_end_us",
        "_cust",
        "_handled",
        "_begin_us",
    )
    known = base.filter(pl.col("_customer").is_not_null())
    asked = known.filter(pl.col("_cust"))  # customer-initiated
    never = np.iinfo(np.int64).max
    nearest = np.full(base.height, never, dtype=np.int64)  # the earliest later beginning found, per row
    latest = np.full(base.height, -never, dtype=np.int64)  # the latest earlier end found, per row

    def join(left: pl.DataFrame, right: pl.DataFrame, by: list[str], forward: bool) -> None:
        if left.is_empty() or right.is_empty():
            return
        on, value = ("_after", "_next") if forward else ("_before", "_prev")
        joined = (
            left.select("_row", on, *by)
            .sort(on)
            .join_asof(
                right.sort(value),
                left_on=on,
                right_on=value,
                by=by,
                strategy="forward" if forward else "backward",
                check_sortedness=False,
            )
            .drop_nulls(value)
        )
        rows = joined["_row"].to_numpy()
        if forward:
            nearest[rows] = np.minimum(nearest[rows], joined["_next"].to_numpy())  # each row once per join
        else:
            latest[rows] = np.maximum(latest[rows], joined["_max_end"].to_numpy())

    def matched(left: pl.DataFrame, right: pl.DataFrame, forward: bool) -> None:
        """Every pair of reasons that match (unknown reasons match any) for `match`."""
        if match == "customer":
            join(left, right.drop("_reason"), ["_customer"], forward)
            return
        with_reason = left.filter(pl.col("_reason").is_not_null())
        join(with_reason, right.filter(pl.col("_reason").is_not_null()), ["_customer", "_reason"], forward)
        join(with_reason, right.filter(pl.col("_reason").is_null()).drop("_reason"), ["_customer"], forward)
        join(left.filter(pl.col("_reason").is_null()), right.drop("_reason"), ["_customer"], forward)

    later = asked.select("_customer", "_reason", pl.col("_begin_us").alias("_next"))
    matched(known, later, forward=True)
    earlier = asked.filter(pl.col("_handled") & pl.col("_end_us").is_not_null())

    def running_max_end(rows: pl.DataFrame, by: list[str]) -> pl.DataFrame:
        """Per group, at each beginning: the latest end among the interactions begun so far."""
        return rows.sort(*by, "_begin_us").select(
            *by, pl.col("_begin_us").alias("_prev"), pl.col("_end_us").cum_max().over(by).alias("_max_end")
        )

    if match == "customer":
        join(asked, running_max_end(earlier, ["_customer"]), ["_customer"], forward=False)
    else:
        with_reason = asked.filter(pl.col("_reason").is_not_null())
        same = earlier.filter(pl.col("_reason").is_not_null())
        join(with_reason, running_max_end(same, ["_customer", "_reason"]), ["_customer", "_reason"], forward=False)
        unknown = earlier.filter(pl.col("_reason").is_null())
        join(with_reason, running_max_end(unknown, ["_customer"]), ["_customer"], forward=False)
        join(asked.filter(pl.col("_reason").is_null()), running_max_end(earlier, ["_customer"]), ["_customer"], False)
    flags = pl.DataFrame(
        {"_next": nearest, "_max_end": latest, "_end_us": base["_end_us"], "_begin": base["_begin_us"]}
    )
    nxt = pl.when(pl.col("_next") != never).then(pl.col("_next"))
    prev = pl.when(pl.col("_max_end") != -never).then(pl.col("_max_end"))
    fails = flags.select(((nxt - pl.col("_end_us")) <= window_us).fill_null(False).alias("_fails")).to_series()
    repeats = flags.select(((pl.col("_begin") - prev) <= window_us).fill_null(False).alias("_repeat")).to_series()
    return fails, repeats


AGENT_DIMENSIONS = frozenset({"agent", "team"})
OFFER_DIMENSIONS = frozenset({"agent", "team", "queue"})
_AGENT_TIMES = ("online_us", "handling_us", "available_idle_us", "npt_us")


def _offers_family(offers: pl.DataFrame, q: KpiQuery) -> pl.LazyFrame:
    """Offers made to agents, counted when made (metrics.md §3.5): made, and accepted."""
    return _grouped(
        offers,
        pl.col("offered_us"),
        q,
        [pl.len().alias("offers_made"), pl.col("accepted").sum().alias("offers_accepted")],
    )


def _cuts(q: KpiQuery) -> tuple[list[int], list[int | None]]:
    """The query's intervals as boundaries `[start, …, end]` (µs) and each interval's key (None: the range)."""
    lo, hi = to_us(q.start), to_us(q.end)
    if q.interval is None:
        return [lo, hi], [None]
    grid = pl.DataFrame({"_at": pl.int_range(lo, hi, 15 * 60 * US, eager=True, dtype=pl.Int64)})
    keys = add_local_time(grid, "_at", q.timezone, q.interval)["interval"].to_list()
    points = grid["_at"].to_list()
    cuts: list[int] = []
    names: list[int | None] = []
    for at, key in zip(points, keys, strict=True):
        if not names or key != names[-1]:
            cuts.append(at)
            names.append(key)
    return [*cuts, hi], names


def _agent_time_family(facts: pl.DataFrame, agent_states: pl.DataFrame, q: KpiQuery) -> pl.DataFrame:
    """Each agent's online, handling, available idle and NPT time per interval (agent_time.py), from its
    state log and its contacts (connected to the end of after-contact work; still going: to the range's end)."""
    cuts, names = _cuts(q)
    hi = cuts[-1]
    busy_end = pl.coalesce(
        "acw_end_us", pl.when(pl.col("acw_start_us").is_not_null()).then(pl.lit(hi)), "agent_end_us", pl.lit(hi)
    )
    busy = (
        facts.filter(pl.col("agent").is_not_null() & pl.col("connected_us").is_not_null())
        .select("agent", pl.col("connected_us").alias("a"), busy_end.alias("b"))
        .filter((pl.col("b") > cuts[0]) & (pl.col("a") < hi))
    )
    busy_of: dict[str, list[tuple[int, int]]] = {}
    for agent, a, b in busy.iter_rows():
        busy_of.setdefault(agent, []).append((a, b))
    states_of: dict[str, list[tuple[int, str]]] = {}
    team_of: dict[str, str | None] = {}
    for agent, team, at, state in agent_states.iter_rows():
        states_of.setdefault(agent, []).append((at, state))
        team_of[agent] = team
    rows = []
    # an agent without a state log (history imported without one) has no known available time: no figures
    for agent in sorted(states_of):
        times = agent_time(states_of.get(agent, []), busy_of.get(agent, []), cuts)
        for key, slot in zip(names, times, strict=True):
            if slot.online_us or slot.handling_us:
                rows.append((agent, team_of.get(agent), key, *(getattr(slot, n) for n in _AGENT_TIMES)))
    schema = {"agent": pl.String, "team": pl.String, "interval": pl.Int64, **dict.fromkeys(_AGENT_TIMES, pl.Int64)}
    frame = pl.DataFrame(rows, schema=schema, orient="row")
    keys = _keys(q)
    return (
        frame.group_by(keys).agg(pl.col(n).sum() for n in _AGENT_TIMES)
        if keys
        else frame.select(pl.col(n).sum() for n in _AGENT_TIMES)
    )


def kpis(
    facts: pl.DataFrame,
    q: KpiQuery,
    s: MetricsSettings | None = None,
    agent_states: pl.DataFrame | None = None,
    offers: pl.DataFrame | None = None,
) -> list[dict[str, Any]]:
    """One row per group (per interval and dimension values; one row for the whole range without either):
    the group's keys, its counts and its KPIs by the tenant's chosen variants. With `agent_states` (the
    agents' state log, facts.load_agent_states) and `offers` (facts.load_offers), the agents' time-based
    figures and answer rate too, when the groups are of agents (by agent or team, or none)."""
    s = s or MetricsSettings()
    for d in q.by:
        if d not in DIMENSIONS:
            raise ValueError(f"unknown dimension {d!r}")
    if q.interval is not None and q.interval not in INTERVALS:
        raise ValueError(f"unknown interval {q.interval!r}")
    lazy: list[pl.LazyFrame] = []
    families = set(q.families)
    if "queue" in families:
        lazy.append(_queue_family(facts, q, s))
    if "handle" in families:
        lazy.append(_handle_family(facts, q))
    if "volume" in families:
        lazy.append(_volume_family(facts, q))
    elif "contacts" in families:  # the count alone (the reason mix): one aggregation, not three
        lazy.append(_grouped(facts, pl.col("initiation_us"), q, [pl.len().alias("contacts")]))
    if "survey" in families:
        lazy.append(_survey_family(facts, q))
    if "arrivals" in families:
        lazy.append(_arrivals_family(facts, q))
    if "interaction" in families:
        part = _interaction_family(facts, q, s)
        if part is not None:
            lazy.append(part)
    if offers is not None and set(q.by) <= OFFER_DIMENSIONS:
        lazy.append(_offers_family(offers, q))
        families.add("offers")
    # the streaming engine: the group-bys run on morsels of the fact frame, never materialising a filtered copy
    parts = pl.collect_all(lazy, engine="streaming") if lazy else []
    if agent_states is not None and set(q.by) <= AGENT_DIMENSIONS:
        parts.append(_agent_time_family(facts, agent_states, q))
        families.add("agent_time")
    keys = _keys(q)
    return _rows(_join(parts, keys), keys, replace(q, families=tuple(families)), s)


def _join(parts: list[pl.DataFrame], keys: list[str]) -> pl.DataFrame:
    if not keys:
        return pl.concat(parts, how="horizontal") if parts else pl.DataFrame()
    table = parts[0]
    for part in parts[1:]:
        table = table.join(part, on=keys, how="full", coalesce=True, nulls_equal=True)
    return table.sort(keys, nulls_last=True)


_EXACT = 2**53  # integers up to this are exact as floats: one float division gives Python's int / int


def _ratio(num: np.ndarray, den: np.ndarray) -> list[float | None]:
    """`formulas.ratio` element-wise over integer columns, with the same results: a float division of two
    exactly representable integers is Python's correctly rounded `int / int`; larger ones go through Python."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out: list[float | None] = (num / den).tolist()
    for i in np.flatnonzero(den == 0).tolist():
        out[i] = None
    for i in np.flatnonzero((np.abs(num) > _EXACT) | (np.abs(den) > _EXACT)).tolist():
        out[i] = f.ratio(int(num[i]), int(den[i]))
    return out


def _rows(table: pl.DataFrame, keys: list[str], q: KpiQuery, s: MetricsSettings) -> list[dict[str, Any]]:
    """`_figures` of every row of the table, column by column: the formulas' own `*_terms` over whole
    columns of sums (numpy arrays in place of numbers: the terms only add, subtract and multiply), each
    divided once per group as `formulas.ratio` divides, so the floats are the same as row by row."""
    n = table.height
    if not n:
        return []

    def col(name: str) -> Any:  # an int64 array, passed to the formulas' terms in place of a number
        if name not in table.columns:
            return np.zeros(n, dtype=np.int64)
        return table[name].fill_null(0).cast(pl.Int64).to_numpy()

    def div(terms: tuple[Any, Any]) -> list[float | None]:
        num, den = terms
        return _ratio(
            np.broadcast_to(np.asarray(num, dtype=np.int64), n), np.broadcast_to(np.asarray(den, dtype=np.int64), n)
        )

    out: dict[str, list[Any]] = {}
    for key in keys:
        values = table[key].to_list()
        if key == "interval" and q.interval is not None:
            labels = {v: interval_label(int(v), q.interval, q.timezone) for v in set(values) if v is not None}
            values = [None if v is None else labels[v] for v in values]
        out[key] = values
    # columns in place of numbers (see the docstring): typed as the formulas' totals
    queue = cast(f.QueueTotals, SimpleNamespace(**{name: col(name) for name in _QUEUE_COUNTS}))
    handle = cast(f.HandleTotals, SimpleNamespace(**{name: col(name) for name in _HANDLE_COUNTS}))
    zero = np.zeros(n, dtype=np.int64)
    survey = cast(
        f.SurveyTotals,
        SimpleNamespace(
            csat=[zero] + [col(f"csat_{k}") for k in range(1, 6)],
            ces=[zero] + [col(f"ces_{k}") for k in range(1, 8)],
            nps=[col(f"nps_{k}") for k in range(0, 11)],
        ),
    )
    sl = s.service_level
    genesys = f.GenesysSwitches(sl.genesys.flow_outs, sl.genesys.short_abandons, sl.genesys.abandons)
    families = set(q.families)
    if "volume" in families:
        out.update(contacts=col("contacts").tolist(), self_service_rate=div((col("self_served"), col("entered_flow"))))
    elif "contacts" in families:
        out["contacts"] = col("contacts").tolist()
    if "arrivals" in families:
        out["queued"] = col("queued").tolist()
    if "queue" in families:
        max_wait = table["max_wait_us"].to_list() if "max_wait_us" in table.columns else [None] * n
        out.update(
            offered=col("offered").tolist(),
            answered=col("answered").tolist(),
            abandoned=col("abandoned").tolist(),
            other_exits=col("other").tolist(),
            answered_within_threshold=col("answered_within").tolist(),
            abandoned_within_threshold=col("abandoned_within").tolist(),
            short_abandons=col("abandoned_short").tolist(),
            service_level=div(f.service_level_terms(queue, sl.variant, genesys)),
            service_level_variant=[sl.variant] * n,
            abandon_rate=div(f.abandon_rate_terms(queue, s.abandon_rate.variant)),
            abandon_rate_variant=[s.abandon_rate.variant] * n,
            asa_s=div(f.asa_terms(queue)),
            average_wait_s=div(f.average_wait_terms(queue)),
            average_abandon_time_s=div(f.average_abandon_time_terms(queue)),
            max_wait_s=[None if m is None else m / US for m in max_wait],
            asa_from_arrival_s=div(f.asa_from_arrival_terms(col("arrival_to_answer_us"), col("answered_connected"))),
        )
    if "handle" in families:
        out.update(
            handled=col("handled").tolist(),
            aht_s=div(f.aht_terms(handle)),
            average_talk_s=div(f.average_talk_terms(handle)),
            average_hold_s=div(f.average_hold_terms(handle, s.average_hold.over)),
            average_acw_s=div(f.average_acw_terms(handle)),
        )
    if ("interaction" if s.transfer_rate.per == "interaction" else "handle") in families:
        transfer = (
            (col("transferred_interactions"), col("handled_interactions"))
            if s.transfer_rate.per == "interaction"
            else (col("transferred_records"), col("handled"))
        )
        out.update(transfer_rate=div(transfer), transfer_rate_per=[s.transfer_rate.per] * n)
    if "interaction" in families:
        resolved, eligible = col("fcr_resolved"), col("fcr_eligible")
        out.update(
            fcr=div((resolved, eligible)),
            fcr_eligible=eligible.tolist(),
            repeats=col("repeats").tolist(),
            repeat_rate=div((col("repeats"), col("repeat_eligible"))),
            interactions=col("interactions").tolist(),
            segments_per_interaction=div(
                f.segments_per_interaction_terms(col("interaction_contacts"), col("interactions"))
            ),
        )
    if "offers" in families:
        made, accepted = col("offers_made"), col("offers_accepted")
        out.update(
            offers_made=made.tolist(),
            offers_accepted=accepted.tolist(),
            answer_rate=div(f.answer_rate_terms(accepted, made)),
        )
    if "agent_time" in families:
        handling, idle = col("handling_us"), col("available_idle_us")
        out.update(
            online_s=(col("online_us") / US).tolist(),
            handling_s=(handling / US).tolist(),
            available_idle_s=(idle / US).tolist(),
            npt_s=(col("npt_us") / US).tolist(),
            occupancy=div(f.occupancy_terms(handling, idle)),
        )
    if "survey" in families:
        responses = [np.sum(np.stack(counts), axis=0) for counts in (survey.csat, survey.ces, survey.nps)]
        out.update(
            survey_responses=np.maximum(np.maximum(responses[0], responses[1]), responses[2]).tolist(),
            csat_responses=responses[0].tolist(),
            ces_responses=responses[1].tolist(),
            nps_responses=responses[2].tolist(),
            csat=div(f.csat_terms(survey, s.csat.variant)),
            csat_variant=[s.csat.variant] * n,
            ces=div(f.ces_terms(survey, s.ces.variant)),
            ces_variant=[s.ces.variant] * n,
            nps=div(f.nps_terms(survey)),
        )
    names = list(out)
    return [dict(zip(names, values, strict=True)) for values in zip(*out.values(), strict=True)]


def _int(row: dict[str, Any], name: str) -> int:
    value = row.get(name)
    return int(value) if value is not None else 0


def _figures(row: dict[str, Any], keys: list[str], q: KpiQuery, s: MetricsSettings) -> dict[str, Any]:
    """One group's figures by the pure formulas, row by row: the reference `_rows` is checked against."""
    out: dict[str, Any] = {}
    for key in keys:
        value = row.get(key)
        if key == "interval" and value is not None and q.interval is not None:
            out["interval"] = interval_label(int(value), q.interval, q.timezone)
        else:
            out[key] = value
    queue = f.QueueTotals(
        **{name: _int(row, name) for name in _QUEUE_COUNTS},
        max_wait_us=row.get("max_wait_us"),
    )
    sl = s.service_level
    genesys = f.GenesysSwitches(sl.genesys.flow_outs, sl.genesys.short_abandons, sl.genesys.abandons)
    handle = f.HandleTotals(**{name: _int(row, name) for name in _HANDLE_COUNTS})
    survey = f.SurveyTotals(
        csat=[0] + [_int(row, f"csat_{k}") for k in range(1, 6)],
        ces=[0] + [_int(row, f"ces_{k}") for k in range(1, 8)],
        nps=[_int(row, f"nps_{k}") for k in range(0, 11)],
    )
    transfer_num, transfer_den = (
        (_int(row, "transferred_interactions"), _int(row, "handled_interactions"))
        if s.transfer_rate.per == "interaction"
        else (_int(row, "transferred_records"), handle.handled)
    )
    fcr_resolved, fcr_eligible = _int(row, "fcr_resolved"), _int(row, "fcr_eligible")
    families = set(q.families)
    if "volume" in families:
        out.update(
            contacts=_int(row, "contacts"),
            self_service_rate=f.ratio(_int(row, "self_served"), _int(row, "entered_flow")),
        )
    elif "contacts" in families:
        out["contacts"] = _int(row, "contacts")
    if "arrivals" in families:
        out["queued"] = _int(row, "queued")
    if "queue" in families:
        out.update(
            offered=queue.offered,
            answered=queue.answered,
            abandoned=queue.abandoned,
            other_exits=queue.other,
            answered_within_threshold=queue.answered_within,
            abandoned_within_threshold=queue.abandoned_within,
            short_abandons=queue.abandoned_short,
            service_level=f.service_level(queue, sl.variant, genesys),
            service_level_variant=sl.variant,
            abandon_rate=f.abandon_rate(queue, s.abandon_rate.variant),
            abandon_rate_variant=s.abandon_rate.variant,
            asa_s=f.asa(queue),
            average_wait_s=f.average_wait(queue),
            average_abandon_time_s=f.average_abandon_time(queue),
            max_wait_s=queue.max_wait_s,
            asa_from_arrival_s=f.ratio(
                *f.asa_from_arrival_terms(_int(row, "arrival_to_answer_us"), _int(row, "answered_connected"))
            ),
        )
    if "handle" in families:
        out.update(
            handled=handle.handled,
            aht_s=f.aht(handle),
            average_talk_s=f.average_talk(handle),
            average_hold_s=f.average_hold(handle, s.average_hold.over),
            average_acw_s=f.average_acw(handle),
        )
    if ("interaction" if s.transfer_rate.per == "interaction" else "handle") in families:
        out.update(transfer_rate=f.ratio(transfer_num, transfer_den), transfer_rate_per=s.transfer_rate.per)
    if "interaction" in families:
        out.update(
            fcr=f.ratio(fcr_resolved, fcr_eligible),
            fcr_eligible=fcr_eligible,
            repeats=_int(row, "repeats"),
            repeat_rate=f.ratio(_int(row, "repeats"), _int(row, "repeat_eligible")),
            interactions=_int(row, "interactions"),
            segments_per_interaction=f.ratio(
                *f.segments_per_interaction_terms(_int(row, "interaction_contacts"), _int(row, "interactions"))
            ),
        )
    if "offers" in families:
        made, accepted = _int(row, "offers_made"), _int(row, "offers_accepted")
        out.update(
            offers_made=made, offers_accepted=accepted, answer_rate=f.ratio(*f.answer_rate_terms(accepted, made))
        )
    if "agent_time" in families:
        handling, idle = _int(row, "handling_us"), _int(row, "available_idle_us")
        out.update(
            online_s=_int(row, "online_us") / US,
            handling_s=handling / US,
            available_idle_s=idle / US,
            npt_s=_int(row, "npt_us") / US,
            occupancy=f.ratio(*f.occupancy_terms(handling, idle)),
        )
    if "survey" in families:
        out.update(
            survey_responses=max(sum(survey.csat), sum(survey.ces), sum(survey.nps)),
            csat_responses=sum(survey.csat),
            ces_responses=sum(survey.ces),
            nps_responses=sum(survey.nps),
            csat=f.csat(survey, s.csat.variant),
            csat_variant=s.csat.variant,
            ces=f.ces(survey, s.ces.variant),
            ces_variant=s.ces.variant,
            nps=f.nps(survey),
        )
    return out


_HANDLE_COUNTS = ("handled", "held", "talk_us", "hold_us", "acw_us")
_QUEUE_COUNTS = (
    "offered",
    "answered",
    "abandoned",
    "other",
    "answered_within",
    "abandoned_within",
    "abandoned_short",
    "callbacks_within",
    "wait_answered_us",
    "wait_abandoned_us",
    "wait_offered_us",
)

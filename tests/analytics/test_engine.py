"""The history engine on fact frames: the same figures as the pure formulas, local intervals, FCR."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import polars as pl
import pytest

from centralita.analytics import formulas as f
from centralita.analytics.engine import KpiQuery, kpis, utc_offsets
from centralita.analytics.facts import FACT_SCHEMA, to_us
from centralita.core.metrics_settings import MetricsSettings

M = 1_000_000
UTC = dt.UTC
T0 = dt.datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # a Monday


def fact(i: int, **kw: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(FACT_SCHEMA)
    row.update(id=i, channel="voice", direction="inbound", initiation_method="INBOUND", hold_us=0)
    row["initiation_us"] = to_us(T0) + i * M
    row.update(kw)
    return row


def frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=FACT_SCHEMA, orient="row")


def episode(i: int, outcome: str, wait_s: float, queue: str = "q1", **kw: Any) -> dict[str, Any]:
    enq = to_us(T0) + i * 60 * M
    return fact(
        i,
        queue=queue,
        enqueue_us=enq,
        dequeue_us=enq + round(wait_s * M),
        queue_outcome=outcome,
        **{"threshold_us": 20 * M, **kw},
    )


VECTOR = [("answered", w) for w in (5, 15, 20, 25, 40, 0)] + [("abandoned", w) for w in (3, 12, 30)]
VECTOR.append(("other:callback", 50))


def q(**kw: Any) -> KpiQuery:
    base: dict[str, Any] = dict(start=T0 - dt.timedelta(days=1), end=T0 + dt.timedelta(days=1), timezone="UTC")
    base.update(kw)
    return KpiQuery(**base)


def test_reference_vector_whole_range() -> None:
    facts = frame([episode(i, o, w) for i, (o, w) in enumerate(VECTOR)])
    (row,) = kpis(facts, q())
    assert (row["offered"], row["answered"], row["abandoned"], row["other_exits"]) == (10, 6, 3, 1)
    assert row["service_level"] == pytest.approx(4 / 9) and row["service_level_variant"] == "neg"
    assert row["asa_s"] == pytest.approx(17.5) and row["max_wait_s"] == 50
    assert row["abandon_rate"] == pytest.approx(0.3)
    s = MetricsSettings.model_validate({"service_level": {"variant": "short", "short_abandon_s": 5}})
    (row,) = kpis(facts, q(), s)
    assert row["service_level"] == pytest.approx(0.5) and row["short_abandons"] == 1


def test_engine_equals_pure_formulas_on_random_episodes() -> None:
    rng = random.Random(7)
    rows, episodes = [], []
    for i in range(500):
        outcome = rng.choice(["answered", "answered", "abandoned", "other:callback", "other:flow"])
        wait_us = rng.randrange(0, 90 * M)
        threshold = rng.choice([10, 20, 30]) * M
        rows.append(episode(i, outcome, wait_us / M, threshold_us=threshold))
        rows[-1]["dequeue_us"] = rows[-1]["enqueue_us"] + wait_us
        episodes.append(f.Episode(outcome, wait_us, threshold))
    totals = f.QueueTotals.of(episodes)
    (row,) = kpis(frame(rows), q(end=T0 + dt.timedelta(days=2)))
    assert row["service_level"] == f.service_level(totals)  # exactly: integer sums, one division
    assert row["asa_s"] == f.asa(totals) and row["average_wait_s"] == f.average_wait(totals)
    assert row["abandon_rate"] == f.abandon_rate(totals)


def test_group_by_dimension_and_threshold_override() -> None:
    facts = frame([episode(0, "answered", 10, "a"), episode(1, "answered", 25, "b"), episode(2, "abandoned", 5, "b")])
    rows = {r["queue"]: r for r in kpis(facts, q(by=["queue"]))}
    assert rows["a"]["service_level"] == 1.0 and rows["b"]["service_level"] == 0.0
    rows = {r["queue"]: r for r in kpis(facts, q(by=["queue"], threshold_s=30))}
    assert rows["b"]["service_level"] == 0.5


def test_empty_groups_give_null_not_zero() -> None:
    (row,) = kpis(frame([]), q())
    assert row["offered"] == 0 and row["service_level"] is None and row["asa_s"] is None and row["aht_s"] is None
    assert row["csat"] is None and row["fcr"] is None


def test_queue_figures_count_where_the_episode_ends() -> None:
    late = episode(0, "answered", 120)
    late["enqueue_us"] = to_us(T0) - 60 * M  # queued before the range, answered inside it
    late["dequeue_us"] = to_us(T0) + 60 * M
    (row,) = kpis(frame([late]), q(start=T0, end=T0 + dt.timedelta(hours=1)))
    assert row["answered"] == 1


def test_half_hours_on_a_daylight_saving_day_in_local_time() -> None:
    # Europe/Madrid, 2026-10-25: clocks go back at 03:00 local (01:00 UTC); the local day has 25 hours
    tz = "Europe/Madrid"
    day_start = dt.datetime(2026, 10, 24, 22, 0, tzinfo=UTC)  # local midnight (UTC+2)
    rows = [episode(i, "answered", 1) for i in range(0)]
    for k in range(50):  # one answered call in each UTC half hour of the 25-hour day
        at = to_us(day_start) + k * 1800 * M + 60 * M
        rows.append(fact(k, queue="q", enqueue_us=at, dequeue_us=at + M, queue_outcome="answered", threshold_us=20 * M))
    query = KpiQuery(start=day_start, end=day_start + dt.timedelta(hours=25), timezone=tz, interval="30m")
    result = kpis(frame(rows), query, MetricsSettings())
    assert len(result) == 50 and all(r["answered"] == 1 for r in result)
    assert result[0]["interval"] == "2026-10-25T00:00:00+02:00"
    assert [r["interval"] for r in result[4:8]] == [
        "2026-10-25T02:00:00+02:00",
        "2026-10-25T02:30:00+02:00",
        "2026-10-25T02:00:00+01:00",
        "2026-10-25T02:30:00+01:00",
    ]
    (whole_day,) = kpis(frame(rows), KpiQuery(day_start, day_start + dt.timedelta(hours=25), tz, interval="day"))
    assert whole_day["interval"] == "2026-10-25" and whole_day["answered"] == 50


def test_hour_and_iso_day_of_week_are_local() -> None:
    at = to_us(dt.datetime(2026, 3, 1, 23, 30, tzinfo=UTC))  # Sunday 23:30 UTC = Monday 01:30 in Jerusalem
    rows = [fact(1, queue="q", enqueue_us=at, dequeue_us=at, queue_outcome="answered", threshold_us=0)]
    query = KpiQuery(T0 - dt.timedelta(days=2), T0, "Asia/Jerusalem", by=["hour", "day_of_week"])
    (row,) = kpis(frame(rows), query)
    assert (row["hour"], row["day_of_week"]) == (1, 1)


def test_offsets_table_finds_exact_transitions() -> None:
    lo = to_us(dt.datetime(2026, 3, 1, tzinfo=UTC))
    hi = to_us(dt.datetime(2026, 11, 1, tzinfo=UTC))
    starts, offsets = utc_offsets("Europe/Madrid", lo, hi)
    assert list(offsets) == [3600 * M, 7200 * M, 3600 * M]
    assert starts[1] == to_us(dt.datetime(2026, 3, 29, 1, 0, tzinfo=UTC))
    assert starts[2] == to_us(dt.datetime(2026, 10, 25, 1, 0, tzinfo=UTC))


def test_handle_and_surveys() -> None:
    rows = []
    for i, (talk, hold, acw, c) in enumerate(((300, 60, 30, 5), (200, 0, 20, 3), (400, 30, 50, 4))):
        start = to_us(T0) + i * 1000 * M
        rows.append(
            fact(
                i,
                connected_us=start,
                agent_end_us=start + (talk + hold) * M,
                hold_us=hold * M,
                acw_start_us=start + (talk + hold) * M,
                acw_end_us=start + (talk + hold + acw) * M,
                disconnect_us=start + (talk + hold) * M,
                csat=c,
            )
        )
    (row,) = kpis(frame(rows), q())
    assert row["handled"] == 3 and row["aht_s"] == pytest.approx(363.333333, abs=1e-6)
    assert row["average_hold_s"] == pytest.approx(45.0) and row["csat"] == pytest.approx(2 / 3)


def _interaction_rows(rng: random.Random, n: int) -> tuple[list[dict[str, Any]], list[f.Interaction]]:
    rows, interactions = [], []
    for i in range(n):
        customer = rng.randrange(8)
        begin = rng.randrange(0, 40 * 86400) * M
        end = begin + rng.randrange(60, 900) * M
        reason = rng.choice(["a", "b", None])
        inbound = rng.random() < 0.85
        handled = rng.random() < 0.8
        rows.append(
            fact(
                i,
                customer_id=customer,
                reason=reason,
                direction="inbound" if inbound else "outbound",
                initiation_method="INBOUND" if inbound else "OUTBOUND",
                initiation_us=to_us(T0) + begin,
                connected_us=to_us(T0) + begin if handled else None,
                agent_end_us=to_us(T0) + end if handled else None,
                disconnect_us=to_us(T0) + end,
            )
        )
        interactions.append(f.Interaction(str(customer), reason, None, begin / M, end / M, inbound, handled))
    return rows, interactions


@pytest.mark.parametrize("match", ["reason", "customer"])
def test_fcr_column_wise_equals_the_pure_formula(match: str) -> None:
    rng = random.Random(11)
    rows, interactions = _interaction_rows(rng, 400)
    end = T0 + dt.timedelta(days=30)
    s = MetricsSettings.model_validate({"fcr": {"match": match}})
    (row,) = kpis(frame(rows), q(start=T0 - dt.timedelta(days=1), end=end), s)
    resolved, eligible = f.fcr(interactions, (to_us(end) - to_us(T0)) / M, 7, match)
    assert (row["fcr_eligible"], row["fcr"]) == (eligible, f.ratio(resolved, eligible))


@pytest.mark.parametrize("match", ["reason", "customer"])
def test_repeats_column_wise_equal_the_pure_formula(match: str) -> None:
    rows, interactions = _interaction_rows(random.Random(5), 400)
    s = MetricsSettings.model_validate({"fcr": {"match": match}})
    (row,) = kpis(frame(rows), q(start=T0 - dt.timedelta(days=1), end=T0 + dt.timedelta(days=60)), s)
    flags = f.repeat_contacts(interactions, 7, match)
    asked = sum(1 for it in interactions if it.customer_initiated)
    assert (row["repeats"], row["repeat_rate"]) == (sum(flags), f.ratio(sum(flags), asked))


def test_an_interaction_keeps_its_last_reason_and_customer_set() -> None:
    day = 86400 * M
    t0 = to_us(T0)
    # billing, transferred to a leg that has no reason nor customer yet; the customer calls two days later
    # about something else: the first interaction was resolved
    first = fact(1, customer_id=7, reason="billing", connected_us=t0, agent_end_us=t0 + 60 * M, transferred=True)
    first["disconnect_us"] = t0 + 60 * M
    leg = fact(2, initial_contact_id=1, initiation_method="TRANSFER", connected_us=t0 + 70 * M)
    leg.update(initiation_us=t0 + 61 * M, agent_end_us=t0 + 200 * M, disconnect_us=t0 + 200 * M)
    later = fact(3, customer_id=7, reason="tech", connected_us=t0 + 2 * day, agent_end_us=t0 + 2 * day + 60 * M)
    later.update(initiation_us=t0 + 2 * day, disconnect_us=t0 + 2 * day + 60 * M)
    (row,) = kpis(frame([first, leg, later]), q(end=T0 + dt.timedelta(days=30)))
    assert (row["fcr_eligible"], row["fcr"], row["repeats"]) == (2, 1.0, 0)
    # two interactions, three contact records: 1.5 segments per interaction (metrics.md §5 a)
    assert (row["interactions"], row["segments_per_interaction"]) == (2, 1.5)


def test_an_unidentified_caller_is_known_by_its_number() -> None:
    t0 = to_us(T0)
    calls = []
    for i, start in enumerate((t0, t0 + 3600 * M)):
        c = fact(i, ani="+34600111222", reason="card", connected_us=start, agent_end_us=start + 60 * M)
        c.update(initiation_us=start, disconnect_us=start + 60 * M)
        calls.append(c)
    (row,) = kpis(frame(calls), q(end=T0 + dt.timedelta(days=30)))
    assert (row["fcr_eligible"], row["fcr"], row["repeats"], row["repeat_rate"]) == (2, 0.5, 1, 0.5)


def test_a_contact_still_in_after_contact_work_is_not_handled_yet() -> None:
    t0 = to_us(T0)
    c = fact(1, connected_us=t0, agent_end_us=t0 + 100 * M, acw_start_us=t0 + 100 * M)
    (row,) = kpis(frame([c]), q())
    assert row["handled"] == 0 and row["aht_s"] is None


def test_hours_around_a_half_hour_clock_change() -> None:
    # Australia/Lord_Howe, 2026-04-05: 02:00 at UTC+11 becomes 01:30 at UTC+10:30 (15:00 UTC on the 4th)
    base = dt.datetime(2026, 4, 4, 13, 0, tzinfo=UTC)
    rows = []
    for k, minutes in enumerate((10, 40, 70, 100, 130, 160, 190, 220)):
        at = to_us(base + dt.timedelta(minutes=minutes))
        rows.append(fact(k, queue="q", enqueue_us=at, dequeue_us=at, queue_outcome="answered", threshold_us=0))
    query = KpiQuery(base, base + dt.timedelta(hours=4), "Australia/Lord_Howe", interval="1h")
    got = [(r["interval"], r["answered"]) for r in kpis(frame(rows), query)]
    assert got == [
        ("2026-04-05T00:00:00+11:00", 2),
        ("2026-04-05T01:00:00+11:00", 2),
        ("2026-04-05T01:30:00+10:30", 1),  # the rest of the local hour 01:00–02:00, after the change
        ("2026-04-05T02:00:00+10:30", 2),
        ("2026-04-05T03:00:00+10:30", 1),
    ]

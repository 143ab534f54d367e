"""Agents' time-based figures (metrics.md §3.2, §3.5): the state log and the contacts split by interval,
occupancy, the answer rate, and ASA from arrival."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import pytest

from centralita.analytics.agent_time import agent_time
from centralita.analytics.engine import KpiQuery, kpis
from centralita.analytics.facts import AGENT_STATES_SCHEMA, OFFERS_SCHEMA, to_us
from tests.analytics.test_engine import T0, episode, fact, frame

S = 1_000_000


def test_the_reference_agent_hour() -> None:
    # metrics.md §6: 3600 s logged in = 2700 handling + 600 available + 300 break → occupancy 0.818182
    states = [(0, "available"), (3300 * S, "away"), (3600 * S, "offline")]
    (hour,) = agent_time(states, [(0, 2700 * S)], [0, 3600 * S])
    assert (hour.online_us, hour.handling_us, hour.available_idle_us, hour.npt_us) == (
        3600 * S,
        2700 * S,
        600 * S,
        300 * S,
    )
    assert hour.handling_us / (hour.handling_us + hour.available_idle_us) == pytest.approx(0.818182, abs=1e-6)


def test_split_by_overlap_concurrency_and_the_state_before_the_range() -> None:
    # available since before the range; two chats overlapping (handling counts the wall clock once); a break
    states = [(-500 * S, "available"), (1500 * S, "away"), (1700 * S, "available")]
    busy = [(100 * S, 700 * S), (400 * S, 1100 * S), (1600 * S, 1650 * S)]
    first, second = agent_time(states, busy, [0, 1000 * S, 2000 * S])
    assert first.handling_us == 900 * S and first.available_idle_us == 100 * S and first.online_us == 1000 * S
    # 1000–1100 busy, 1100–1500 idle, 1500–1700 away (busy 1600–1650 counts as handling), 1700–2000 idle
    assert second.handling_us == 150 * S and second.available_idle_us == 700 * S and second.npt_us == 200 * S
    (never,) = agent_time([], [], [0, 10 * S])
    assert never.online_us == 0 and never.handling_us == 0


def _states(rows: list[tuple[str, str | None, int, str]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=AGENT_STATES_SCHEMA, orient="row")


def test_occupancy_and_answer_rate_by_agent_per_interval() -> None:
    t0 = to_us(T0)
    contacts = [
        fact(1, agent="ana", team="norte", connected_us=t0 + 60 * S, agent_end_us=t0 + 600 * S),
        fact(2, agent="ana", team="norte", connected_us=t0 + 1900 * S, agent_end_us=t0 + 2000 * S),
    ]
    states = _states([("ana", "norte", t0, "available"), ("bea", "sur", t0 + 900 * S, "available")])
    offers = pl.DataFrame(
        [("ana", "norte", "q1", t0 + 50 * S, True), ("ana", "norte", "q1", t0 + 1800 * S, False)],
        schema=OFFERS_SCHEMA,
        orient="row",
    )
    q = KpiQuery(T0, T0 + dt.timedelta(hours=1), "UTC", by=("agent",), interval="30m")
    rows = {(r["agent"], r["interval"]): r for r in kpis(frame(contacts), q, agent_states=states, offers=offers)}
    first = rows[("ana", "2026-03-02T08:00:00+00:00")]
    assert first["handling_s"] == 540 and first["available_idle_s"] == 1260
    assert first["occupancy"] == 540 / 1800 and first["offers_made"] == 1 and first["answer_rate"] == 1.0
    second = rows[("ana", "2026-03-02T08:30:00+00:00")]
    assert second["handling_s"] == 100 and second["answer_rate"] == 0.0
    bea = rows[("bea", "2026-03-02T08:00:00+00:00")]
    assert bea["occupancy"] == 0.0 and bea["online_s"] == 900 and bea["offers_made"] == 0
    assert bea["answer_rate"] is None  # no offer: nothing to divide by
    (team,) = [
        r
        for r in kpis(
            frame(contacts), KpiQuery(T0, T0 + dt.timedelta(hours=1), "UTC", by=("team",)), agent_states=states
        )
        if r["team"] == "norte"
    ]
    assert team["occupancy"] == 640 / 3600


def test_agent_figures_only_for_groups_of_agents() -> None:
    q = KpiQuery(T0, T0 + dt.timedelta(hours=1), "UTC", by=("queue",))
    states = _states([("ana", None, to_us(T0), "available")])
    (row,) = kpis(frame([episode(0, "answered", 5)]), q, agent_states=states)
    assert "occupancy" not in row


def test_asa_from_arrival() -> None:
    rows: list[dict[str, Any]] = []
    for i, (flow_s, wait_s) in enumerate(((10, 5), (30, 15))):
        e = episode(i, "answered", wait_s)
        e["initiation_us"] = e["enqueue_us"] - flow_s * S
        e["connected_us"] = e["dequeue_us"]
        rows.append(e)
    (row,) = kpis(frame(rows), KpiQuery(T0 - dt.timedelta(hours=1), T0 + dt.timedelta(hours=1), "UTC"))
    assert row["asa_s"] == 10 and row["asa_from_arrival_s"] == 30


def test_an_agent_without_a_state_log_has_no_occupancy() -> None:
    t0 = to_us(T0)
    contacts = [fact(1, agent="ana", connected_us=t0, agent_end_us=t0 + 600 * S)]
    q = KpiQuery(T0, T0 + dt.timedelta(hours=1), "UTC", by=("agent",))
    (ana,) = kpis(frame(contacts), q, agent_states=_states([]))
    assert ana["handled"] == 1 and ana.get("occupancy") is None

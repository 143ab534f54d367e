"""The business reports on small hand-built fact frames, with exact expected figures."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import polars as pl
import pytest

from centralita.analytics import formulas as f
from centralita.analytics.engine import KpiQuery
from centralita.analytics.facts import FACT_SCHEMA, to_us
from centralita.analytics.reports import REPORTS, ReportQuery, contact_costs, run_report
from centralita.core.metrics_settings import MetricsSettings

M = 1_000_000
UTC = dt.UTC
T0 = dt.datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # a Monday
DAY = 86400 * M


def at(seconds: float = 0, days: float = 0) -> int:
    return to_us(T0) + round(seconds * M) + round(days * DAY)


def fact(i: int, **kw: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(FACT_SCHEMA)
    row.update(id=i, channel="voice", direction="inbound", initiation_method="INBOUND", hold_us=0)
    row["initiation_us"] = at(i)
    row.update(kw)
    return row


def handled(i: int, begin: int, handle_s: float, **kw: Any) -> dict[str, Any]:
    """A contact an agent took at `begin` for `handle_s` seconds (no ACW), ending then."""
    end = begin + round(handle_s * M)
    return fact(i, initiation_us=begin, connected_us=begin, agent_end_us=end, disconnect_us=end, **kw)


def frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=FACT_SCHEMA, orient="row")


def query(days: float = 1, **kw: Any) -> ReportQuery:
    kpi = KpiQuery(T0 - dt.timedelta(days=1), T0 + dt.timedelta(days=days), "UTC")
    return ReportQuery(kpi, **kw)


def settings(**kw: Any) -> MetricsSettings:
    return MetricsSettings.model_validate(kw)


def test_registry_names_every_report() -> None:
    assert list(REPORTS) == [
        "reason-mix",
        "cost-to-serve",
        "satisfaction",
        "channel-preference",
        "avoidable-contacts",
        "agent-variability",
        "complaints",
        "value-match",
    ]
    with pytest.raises(ValueError, match="unknown by"):
        run_report("reason-mix", frame([]), query(by="channel"), settings())


def test_reason_mix_by_value_tier() -> None:
    rows = [
        fact(1, value_tier="a", reason="x"),
        fact(2, value_tier="a", reason="x"),
        fact(3, value_tier="a", reason="y"),
        fact(4, value_tier="b", reason="x"),
        fact(5),
    ]
    r = run_report("reason-mix", frame(rows), query(by="value_tier"), settings())
    assert [(x["value_tier"], x["reason"], x["contacts"]) for x in r.rows] == [
        ("a", "x", 2),
        ("a", "y", 1),
        ("b", "x", 1),
        ("unknown", "unknown", 1),
    ]
    assert [x["share"] for x in r.rows] == [pytest.approx(2 / 3), pytest.approx(1 / 3), 1.0, 1.0]
    assert r.chart.x == "value_tier" and r.columns[0].key == "value_tier"


COSTS = {
    "cost": {
        "agent_hour": 24,
        "telephony_minute": 0.01,
        "ivr_minute": 0.02,
        "per_channel": {"voice": 0.5, "chat": 0.1},
    }
}


def _cost_rows() -> list[dict[str, Any]]:
    t = at()
    voice = fact(  # 30 s in the IVR, 20 s queued, 300 s talk, 60 s ACW; the agent costs 36 an hour
        1,
        segment="A",
        customer_id=7,
        initiation_us=t,
        enqueue_us=t + 30 * M,
        dequeue_us=t + 50 * M,
        connected_us=t + 50 * M,
        agent_end_us=t + 350 * M,
        acw_start_us=t + 350 * M,
        acw_end_us=t + 410 * M,
        disconnect_us=t + 350 * M,
        agent_hourly_cost=36.0,
    )
    chat = handled(2, t, 600, channel="chat", segment="B", customer_id=8, enqueue_us=t, dequeue_us=t)
    self_served = fact(3, segment="A", customer_id=7, initiation_us=t, disconnect_us=t + 120 * M, self_service=True)
    return [voice, chat, self_served]


def test_cost_of_a_contact_by_the_cost_model() -> None:
    costed = contact_costs(frame(_cost_rows()), settings(**COSTS))
    voice, chat, self_served = costed.iter_rows(named=True)
    # 36/h × 360 s + 0.01/min × 350 s + 0.02/min × 30 s + 0.5
    assert voice["cost_agent"] == pytest.approx(3.6)
    assert voice["cost_telephony"] == pytest.approx(0.01 * 350 / 60)
    assert voice["cost_flow"] == pytest.approx(0.01)
    assert voice["cost"] == pytest.approx(3.6 + 0.01 * 350 / 60 + 0.01 + 0.5)
    assert voice["cost"] == f.contact_cost(360, 350, 30, 36, 0.01, 0.02, 0.5)
    assert chat["cost"] == pytest.approx(24 * 600 / 3600 + 0.1)  # the model's rate; no telephony, no flow
    assert self_served["cost"] == pytest.approx(0.01 * 2 + 0.02 * 2 + 0.5)  # two minutes in the IVR


def test_cost_to_serve_per_segment_and_top_customers() -> None:
    s = settings(**COSTS)
    voice = 3.6 + 0.01 * 350 / 60 + 0.01 + 0.5
    r = run_report("cost-to-serve", frame(_cost_rows()), query(), s)
    rows = {x["segment"]: x for x in r.rows}
    assert [x["segment"] for x in r.rows] == ["A", "B"]  # by total cost
    assert rows["A"]["contacts"] == 2 and rows["A"]["handled"] == 1
    assert rows["A"]["total_cost"] == pytest.approx(voice + 0.56)
    assert rows["A"]["cost_per_contact"] == pytest.approx((voice + 0.56) / 2)
    assert rows["B"]["total_cost"] == pytest.approx(4.1) and r.currency == "EUR"
    r = run_report("cost-to-serve", frame(_cost_rows()), query(by="customer", top=1), s)
    assert [(x["customer"], x["contacts"]) for x in r.rows] == [("7", 2)]


def test_satisfaction_by_channel_with_the_tenants_variants() -> None:
    rows = [
        fact(1, csat=5, ces=7, nps=10),
        fact(2, csat=4, ces=3, nps=6),
        fact(3, csat=2),
        fact(4, channel="chat", csat=3),
        fact(5, channel="email"),  # no answers: no row
    ]
    r = run_report("satisfaction", frame(rows), query(by="channel"), settings())
    assert [(x["channel"], x["responses"]) for x in r.rows] == [("voice", 3), ("chat", 1)]
    voice, chat = r.rows
    assert voice["csat"] == pytest.approx(2 / 3) and voice["ces"] == 5.0 and voice["nps"] == 0.0
    assert chat["csat"] == 0.0 and chat["ces"] is None and chat["nps"] is None
    r = run_report("satisfaction", frame(rows), query(by="channel"), settings(csat={"variant": "mean"}))
    assert r.rows[0]["csat"] == pytest.approx(11 / 3)
    assert {c.key: c.kind for c in r.columns}["csat"] == "score"


def test_channel_preference_per_month() -> None:
    t = at()
    april = at(days=31)
    rows = [
        fact(1, segment="A", initiation_us=t, self_service=True, disconnect_us=t + M),
        handled(2, t, 60, segment="A"),
        handled(3, t, 60, segment="A", channel="chat"),
        handled(4, t, 60, segment="A", channel="email"),
        fact(5, segment="A", initiation_us=t, enqueue_us=t, dequeue_us=t + M, queue_outcome="abandoned"),
        handled(6, april, 60, segment="A", channel="sms"),
    ]
    r = run_report("channel-preference", frame(rows), query(days=40), settings())
    march, april_row = r.rows
    assert march["period"] == "2026-03" and march["contacts"] == 5
    assert (march["self_service"], march["agent_voice"], march["agent_chat_email"]) == (0.2, 0.2, 0.4)
    assert (march["agent_other"], march["not_served"]) == (0.0, 0.2)
    assert april_row["period"] == "2026-04" and april_row["agent_other"] == 1.0


def test_repeat_contacts_pure_formula() -> None:
    # metrics.md §6: customer X on days 0, 3 and 12, Y on day 1, same reason → the day-3 contact repeats
    day = 86400.0
    its = [
        f.Interaction("X", "r", None, 0, 600),
        f.Interaction("X", "r", None, 3 * day, 3 * day + 600),
        f.Interaction("X", "r", None, 12 * day, 12 * day + 600),
        f.Interaction("Y", "r", None, day, day + 600),
    ]
    assert f.repeat_contacts(its) == [False, True, False, False]
    assert f.repeat_contacts(its, window_days=10) == [False, True, True, False]
    other = [its[0], f.Interaction("X", "s", None, 3 * day, 3 * day + 600)]
    assert f.repeat_contacts(other) == [False, False]
    assert f.repeat_contacts(other, match="customer") == [False, True]


def test_avoidable_contacts_count_and_cost_ranked_by_cost() -> None:
    s = settings(cost={"agent_hour": 10, "telephony_minute": 0, "ivr_minute": 0})
    rows = [
        handled(1, at(), 360, customer_id=1, reason="r"),  # 1.0
        handled(2, at(days=3), 720, customer_id=1, reason="r"),  # a repeat, 2.0
        handled(3, at(days=20), 360, customer_id=1, reason="r"),  # 17 days later: not a repeat, 1.0
        handled(4, at(100), 360, customer_id=2, reason="t", transferred=True),  # 1.0
        handled(5, at(200), 1080, customer_id=3, reason="u", reason_avoidable=True),  # 3.0
    ]
    r = run_report("avoidable-contacts", frame(rows), query(days=30), s)
    table = [(x["kind"], x["contacts"], x["cost"]) for x in r.rows]
    assert table == [
        ("any of them", 3, pytest.approx(6.0)),
        ("avoidable reason", 1, pytest.approx(3.0)),
        ("repeat contact", 1, pytest.approx(2.0)),
        ("transferred", 1, pytest.approx(1.0)),
    ]
    assert r.rows[0]["share"] == pytest.approx(3 / 5) and r.rows[0]["cost_share"] == pytest.approx(6 / 8)
    by_reason = run_report("avoidable-contacts", frame(rows), query(days=30, by="reason"), s)
    assert ("repeat contact", "r", 1) in [(x["kind"], x["reason"], x["contacts"]) for x in by_reason.rows]


def test_agent_variability_reason_adjusted_aht_and_outliers() -> None:
    rows = [
        handled(1, at(0), 100, agent="a1", reason="r"),
        handled(2, at(1000), 100, agent="a1", reason="r"),
        handled(3, at(2000), 400, agent="a2", reason="r"),
        handled(4, at(3000), 500, agent="a3", reason="s"),
        handled(5, at(4000), 700, agent="a3", reason="s"),
    ]
    r = run_report("agent-variability", frame(rows), query(), settings())
    by_agent = {x["agent"]: x for x in r.rows}
    # the center's AHT is 200 s for r, 600 s for s
    assert by_agent["a1"]["aht_s"] == 100 and by_agent["a1"]["expected_aht_s"] == 200
    assert by_agent["a2"]["aht_ratio"] == 2.0 and by_agent["a3"]["aht_ratio"] == 1.0
    assert [x["agent"] for x in r.rows] == ["a2", "a3", "a1"]  # by AHT / expected
    mean, sd = 3.5 / 3, math.sqrt(((0.5 - 3.5 / 3) ** 2 + (2 - 3.5 / 3) ** 2 + (1 - 3.5 / 3) ** 2) / 3)
    assert f.spread([0.5, 2.0, 1.0]) == pytest.approx((mean, sd))
    assert by_agent["a2"]["z_aht_ratio"] == pytest.approx((2 - mean) / sd)  # 1.336
    assert all(x["outliers"] == "" for x in r.rows)  # nobody beyond |z| > 2
    r = run_report("agent-variability", frame(rows), query(z=1.3), settings())
    assert {x["agent"]: x["outliers"] for x in r.rows} == {"a2": "AHT / expected", "a3": "", "a1": ""}


def test_zscore_rule() -> None:
    assert f.zscore(3.0, 1.0, 1.0) == 2.0 and f.zscore(1.0, 1.0, 0.0) is None and f.zscore(None, 1.0, 1.0) is None
    assert f.spread([]) == (None, None)


def test_complaints_per_week_and_time_to_resolution() -> None:
    hour = 3600 * M
    rows = [
        fact(1, reason="reclamacion", reason_group="reclamaciones", case_id=10, case_opened_us=at(),
             case_closed_us=at(days=2)),
        fact(2, reason="otra", reason_group="reclamaciones", case_id=11, case_opened_us=at() + hour,
             case_closed_us=at(days=4) + hour),
        fact(3, reason="saldo", reason_group="cuentas"),
        fact(4, initiation_us=at(days=7), reason="queja_oficina", reason_group="oficinas", case_id=12,
             case_opened_us=at(days=7)),
        fact(5, initiation_us=at(days=8), reason="saldo", reason_group="cuentas"),
    ]  # fmt: skip
    r = run_report("complaints", frame(rows), query(days=14), settings())
    first, second = r.rows
    assert (first["period"], first["contacts"], first["complaints"]) == ("2026-03-02", 3, 2)
    assert first["share"] == pytest.approx(2 / 3)
    assert (first["cases"], first["closed"], first["open"]) == (2, 2, 0)
    assert first["mean_resolution_s"] == 3 * 86400 and first["median_resolution_s"] == 3 * 86400
    assert (second["period"], second["complaints"], second["cases"], second["open"]) == ("2026-03-09", 1, 1, 1)
    assert second["mean_resolution_s"] is None and second["median_resolution_s"] is None


def test_value_match_top_tier_against_everyone_else() -> None:
    def answered(
        i: int, wait_s: float, tier: str | None, level: int | None, outcome: str = "answered"
    ) -> dict[str, Any]:
        t = at(i * 100)
        return fact(
            i,
            initiation_us=t,
            enqueue_us=t,
            dequeue_us=t + round(wait_s * M),
            queue_outcome=outcome,
            threshold_us=20 * M,
            value_tier=tier,
            agent_skill_level=level,
        )

    rows = [
        answered(1, 10, "oro", 5),
        answered(2, 30, "oro", 3),
        answered(3, 5, "plata", 5),
        answered(4, 50, "plata", 1),
        answered(5, 50, None, None),
        answered(6, 10, "plata", None, outcome="abandoned"),
    ]
    r = run_report("value-match", frame(rows), query(tier="oro"), settings())
    top, rest = r.rows
    assert (top["answered"], top["top_skill"], top["top_skill_share"], top["service_level"]) == (2, 1, 0.5, 0.5)
    assert (rest["answered"], rest["top_skill"], rest["service_level"]) == (3, 1, 0.25)
    assert rest["top_skill_share"] == pytest.approx(1 / 3)
    r = run_report("value-match", frame(rows), query(tier="oro", level=3), settings())
    assert r.rows[0]["top_skill"] == 2

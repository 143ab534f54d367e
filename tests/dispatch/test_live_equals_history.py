"""The live windows (`/api/queues/stats`), today's figures (`/api/queues/today`) and the history report
(`centralita report kpis`) count the same episodes the same way, with the tenant's chosen variant."""

from __future__ import annotations

import datetime as dt

from centralita.analytics.queries import DateRange, kpi_report
from centralita.store import tables as t
from tests.dispatch.conftest import Live
from tests.dispatch.test_lifecycle import _reasons

WRAP = {"wrap_up": {"disposition": "informed", "reason": "saldo", "resolved": True}}


def test_live_today_and_history_give_the_same_figures(live: Live) -> None:
    _reasons(live)
    admin, agent, sup = live.client("admin"), live.client("agent"), live.client("supervisor")
    resp = admin.patch(
        "/api/tenant/settings", json={"metrics": {"service_level": {"variant": "short", "short_abandon_s": 5}}}
    )
    assert resp.status_code == 200, resp.text
    live.sync()
    live.available()
    call = {"channel": "voice", "from_": "+34600000001"}
    # offered to ana at once; answered 4 s later (ringing is queue time)
    first = live.new_contact(**call)["id"]
    live.advance(4)
    assert agent.post(f"/api/contacts/{first}/accept").status_code == 200
    # ana is busy: these two wait, then hang up (3 s: a short abandon)
    short = live.new_contact(**call)["id"]
    live.advance(3)
    assert sup.post(f"/api/contacts/{short}/customer-disconnect").status_code == 200
    longer = live.new_contact(**call)["id"]
    live.advance(12)
    assert sup.post(f"/api/contacts/{longer}/customer-disconnect").status_code == 200
    late = live.new_contact(**call)["id"]
    live.advance(20)
    assert agent.post(f"/api/contacts/{first}/end", json=WRAP).status_code == 200
    live.sync()
    assert live.offered_to(late) == live.agent_id("ana")
    live.advance(5)  # answered after 25 s: not within the 20 s threshold
    assert agent.post(f"/api/contacts/{late}/accept").status_code == 200
    live.sync()

    stats = {q["code"]: q for q in sup.get("/api/queues/stats").json()}["atencion"]["last_30m"]
    today = next(q for q in sup.get("/api/queues/today").json()["queues"] if q["code"] == "atencion")["totals"]
    now = live.clock.now()
    with live.service.db.read() as s:
        tenant = s.get_one(t.Tenant, live.api.a.tenant_id)
        day = now.astimezone(dt.timezone(dt.timedelta(hours=0))).date()
        rows = kpi_report(
            s, tenant, DateRange(day - dt.timedelta(days=1), day + dt.timedelta(days=1), tenant.timezone), by=["queue"]
        )
    history = next(r for r in rows if r["queue"] == "atencion")
    # A = 2 (4 s, 25 s), A_T = 1, B = 2 (3 s short, 12 s): short SL = A_T / (A + B − B_S) = 1 / 3
    expected = (2, 2, 1, 1 / 3, "short")
    assert (
        stats["answered"],
        stats["abandoned"],
        stats["answered_within_threshold"],
        stats["service_level"],
        stats["service_level_variant"],
    ) == expected
    assert (
        history["answered"],
        history["abandoned"],
        history["answered_within_threshold"],
        history["service_level"],
        history["service_level_variant"],
    ) == expected
    assert (today["answered"], today["abandoned"], today["answered_within_threshold"], today["service_level"]) == (
        expected[:4]
    )
    assert history["short_abandons"] == 1 and history["asa_s"] == (4 + 25) / 2


def test_agents_time_and_answer_rate_from_the_live_path(live: Live) -> None:
    _reasons(live)
    agent, sup = live.client("agent"), live.client("supervisor")
    call = {"channel": "voice", "from_": "+34600000001"}
    live.available()
    live.advance(60)  # a minute available and idle
    first = live.new_contact(**call)["id"]
    live.advance(5)
    assert agent.post(f"/api/contacts/{first}/accept").status_code == 200
    live.advance(120)  # two minutes talking
    assert agent.post(f"/api/contacts/{first}/end", json=WRAP).status_code == 200
    missed = live.new_contact(**call)["id"]
    assert live.offered_to(missed) == live.agent_id("ana")
    assert agent.post(f"/api/contacts/{missed}/reject").status_code == 200
    live.sync()
    assert sup.post(f"/api/contacts/{missed}/customer-disconnect").status_code == 200
    now = live.clock.now()
    with live.service.db.read() as s:
        tenant = s.get_one(t.Tenant, live.api.a.tenant_id)
        day = now.astimezone(dt.UTC).date()
        days = DateRange(day - dt.timedelta(days=1), day + dt.timedelta(days=1), tenant.timezone)
        (ana,) = [r for r in kpi_report(s, tenant, days, by=["agent"]) if r["agent"] == "ana"]
    assert (ana["offers_made"], ana["offers_accepted"], ana["answer_rate"]) == (2, 1, 0.5)
    assert ana["handling_s"] == 120 and ana["available_idle_s"] >= 65
    assert ana["occupancy"] == ana["handling_s"] / (ana["handling_s"] + ana["available_idle_s"])

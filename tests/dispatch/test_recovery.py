"""Recovery: a new process rebuilds queues, agents and in-progress contacts from the store.

The restart is in-process: the first runner stops (its leader lock is released, as a killed process's is)
and a new Service on the same database starts routing. Waiting contacts keep their enqueue time and
order; an offer open at the crash is withdrawn (an event) and made again once; busy agents stay busy.
"""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient

from centralita.api.app import create_app
from centralita.core.clock import FakeClock
from centralita.service import Service
from tests.conftest import make_service
from tests.dispatch.conftest import Live
from tests.factories import PASSWORD


def _login(service: Service, username: str) -> TestClient:
    client = TestClient(create_app(service))
    resp = client.post("/api/auth/login", json={"username": username, "password": PASSWORD, "tenant": "norte"})
    assert resp.status_code == 200, resp.text
    client.headers["X-CSRF-Token"] = resp.json()["csrf_token"]
    return client


def test_restart_keeps_order_times_busy_agents_and_reoffers_once(live: Live, db_url: str, tmp_path: Path) -> None:
    agent = live.client("agent")
    live.available()
    busy = live.new_contact(channel="voice")["id"]
    assert agent.post(f"/api/contacts/{busy}/accept").status_code == 200
    live.clock.advance(1)
    first = live.new_contact(channel="voice")["id"]
    live.clock.advance(1)
    second = live.new_contact(channel="voice")["id"]
    chat = live.new_contact(channel="chat")["id"]  # ana has chat slots: offered now, open at the "crash"
    assert live.offered_to(chat) == live.agent_id("ana")
    before = {cid: live.contact(cid)["enqueue_ts"] for cid in (first, second, chat)}

    # the routing process dies; another one starts on the same database
    assert live.service.dispatch is not None
    live.service.dispatch.stop()
    live.service.dispatch = None
    live.clock.advance(5)
    clock = live.clock
    assert isinstance(clock, FakeClock)
    fresh = make_service(db_url, tmp_path, clock)
    try:
        fresh.start_routing().sync()
        assert fresh.dispatch is not None and fresh.dispatch.is_leader
        sup = _login(fresh, live.api.a.usernames["supervisor"])
        ana = _login(fresh, live.api.a.usernames["agent"])

        def contact(cid: int) -> dict:  # type: ignore[type-arg]
            return dict(sup.get(f"/api/contacts/{cid}").json())

        timeline = [(e["type"], e["data"].get("result")) for e in contact(chat)["timeline"]]
        assert timeline.count(("contact.offered", None)) == 2  # the open offer, then once more
        assert ("contact.offer_ended", "withdrawn") in timeline
        assert timeline.index(("contact.offer_ended", "withdrawn")) < len(timeline) - 1
        assert {cid: contact(cid)["enqueue_ts"] for cid in (first, second, chat)} == before
        assert ana.post(f"/api/contacts/{chat}/accept").status_code == 200
        # ana is still on the voice call: no voice offer until she is done
        fresh.dispatch.sync()
        stats = {q["code"]: q for q in sup.get("/api/queues/stats").json()}
        assert stats["atencion"]["waiting"] == 2 and stats["atencion"]["oldest_wait_s"] == 6.0
        assert ana.post(f"/api/contacts/{busy}/end").status_code == 200
        fresh.dispatch.sync()
        assert all(e["type"] != "contact.offered" for e in contact(first)["timeline"])
        # wrap-up needs a reason from the taxonomy
        admin = _login(fresh, live.api.a.usernames["admin"])
        admin.post("/api/reason-groups", json={"code": "g", "name_es": "G", "name_en": "G"})
        admin.post("/api/reasons", json={"code": "otro", "group": "g", "name_es": "Otro", "name_en": "Other"})
        assert (
            ana.post(f"/api/contacts/{busy}/wrap-up", json={"disposition": "ok", "reason": "otro"}).status_code == 200
        )
        fresh.dispatch.sync()
        offered = [e for e in contact(first)["timeline"] if e["type"] == "contact.offered"]
        assert len(offered) == 1 and all(e["type"] != "contact.offered" for e in contact(second)["timeline"])
    finally:
        fresh.close()


def test_one_leader_per_database(live: Live, db_url: str, tmp_path: Path) -> None:
    clock = live.clock
    assert isinstance(clock, FakeClock)
    standby = make_service(db_url, tmp_path, clock)
    try:
        runner = standby.start_routing()
        runner.retry_s = 0.05
        runner.sync()
        assert live.dispatch.is_leader and not runner.is_leader
        live.available()
        cid = live.new_contact()["id"]
        runner.sync()
        timeline = live.types(cid)
        assert timeline.count("contact.offered") == 1  # only the leader decides
        assert live.service.dispatch is not None
        live.service.dispatch.stop()  # the leader goes away: the standby takes over
        live.service.dispatch = None
        deadline = time.monotonic() + 10
        while not runner.is_leader and time.monotonic() < deadline:
            time.sleep(0.05)
        assert runner.is_leader
        runner.sync()
        assert live.types(cid).count("contact.offered") == 2  # withdrawn by the new leader, offered again
    finally:
        standby.close()

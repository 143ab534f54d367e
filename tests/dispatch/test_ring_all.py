"""ring_all live: one contact rings several agents at once; the first accept wins, a reject ends one offer only,
and a restart withdraws every open offer and rings again once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from centralita.core.clock import FakeClock
from tests.conftest import make_service
from tests.dispatch.conftest import Live
from tests.dispatch.test_recovery import _login
from tests.factories import PASSWORD


def _ring_all_team(live: Live) -> TestClient:
    """atencion rings all; ana, luis and a new agent eva serve it. Returns eva's client."""
    admin = live.client("admin")
    assert admin.patch("/api/queues/atencion", json={"agent_selection": "ring_all"}).status_code == 200
    body = {"queues": [{"queue": "cobros"}, {"queue": "atencion"}]}
    assert admin.patch("/api/agents/luis", json=body).status_code == 200
    resp = admin.post("/api/agents", json={"code": "eva", "name": "Eva", "queues": [{"queue": "atencion"}]})
    assert resp.status_code == 201, resp.text
    user = {"username": "agent3@norte", "password": PASSWORD, "role": "agent", "agent": "eva"}
    assert admin.post("/api/users", json=user).status_code == 201
    return _login(live.service, "agent3@norte")


def _next(ws: Any, wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    for _ in range(100):
        msg = ws.receive_json()
        if msg["type"] == "event" and wanted(msg["event"]):
            return dict(msg["event"])
    raise AssertionError("no such event")


def _is(kind: str, contact_id: int, agent_id: int, result: str | None = None) -> Callable[[dict[str, Any]], bool]:
    def match(e: dict[str, Any]) -> bool:
        return (
            e["type"] == kind
            and e["contact_id"] == contact_id
            and e["agent_id"] == agent_id
            and (result is None or e["data"].get("result") == result)
        )

    return match


def test_ring_all_rings_every_agent_first_accept_wins(live: Live) -> None:
    eva_client = _ring_all_team(live)
    ana, luis, eva = live.agent_id("ana"), live.agent_id("luis"), live.agent_id("eva")
    clients = {ana: live.client("agent"), luis: live.client("agent2"), eva: eva_client}
    with (
        clients[ana].websocket_connect("/api/realtime") as ws_ana,
        clients[luis].websocket_connect("/api/realtime") as ws_luis,
        clients[eva].websocket_connect("/api/realtime") as ws_eva,
    ):
        sockets = {ana: ws_ana, luis: ws_luis, eva: ws_eva}
        for ws in sockets.values():
            ws.receive_json()  # hello
        for client in clients.values():
            assert client.post("/api/agents/me/state", json={"state": "available"}).status_code == 200
        live.sync()
        cid = live.new_contact()["id"]
        for agent_id, ws in sockets.items():  # every agent gets its own offer over the WebSocket
            offered = _next(ws, _is("contact.offered", cid, agent_id))
            assert offered["data"]["queue"] == "atencion"
        assert sorted(live.offered_agents(cid)) == sorted([ana, luis, eva])

        live.clock.advance(2)
        resp = clients[luis].post(f"/api/contacts/{cid}/reject")  # luis declines: the others keep ringing
        assert resp.status_code == 200, resp.text
        assert sorted(resp.json()["offered_agents"]) == sorted([ana, eva])
        _next(ws_luis, _is("contact.offer_ended", cid, luis, "rejected"))
        live.sync()
        assert sorted(live.offered_agents(cid)) == sorted([ana, eva])
        assert clients[luis].get("/api/agents/me").json()["state"] == "missed"  # max_missed_offers = 1

        live.clock.advance(1)
        resp = clients[eva].post(f"/api/contacts/{cid}/accept")  # eva first: ana's offer is withdrawn
        assert resp.status_code == 200, resp.text
        assert resp.json()["status"] == "connected" and resp.json()["agent_id"] == eva
        _next(ws_ana, _is("contact.offer_ended", cid, ana, "withdrawn"))
        _next(ws_eva, _is("contact.offer_ended", cid, eva, "accepted"))
        late = clients[ana].post(f"/api/contacts/{cid}/accept")
        assert late.status_code in (403, 409), late.text
        live.sync()
    timeline = [(e["type"], e.get("agent_id"), e["data"].get("result")) for e in live.contact(cid)["timeline"]]
    assert [kind for kind, _, _ in timeline[:5]] == ["contact.arrived", "contact.queued", *["contact.offered"] * 3]
    assert sorted(a for _, a, _ in timeline[2:5]) == sorted([ana, luis, eva])
    assert timeline[5:] == [
        ("contact.offer_ended", luis, "rejected"),
        ("contact.offer_ended", eva, "accepted"),
        ("contact.offer_ended", ana, "withdrawn"),
        ("contact.dequeued", eva, None),
        ("contact.connected", eva, None),
    ]
    assert live.contact(cid)["queue_outcome"] == "answered"
    # ana was not missed (a withdrawal is not a miss) and rings for the next contact; luis (missed) does not
    nxt = live.new_contact()["id"]
    assert ana in live.offered_agents(nxt) and luis not in live.offered_agents(nxt)
    # luis makes himself available again: `missed` clears in the router (make_ready) and the next one rings him
    router = live.dispatch.tenants[live.api.a.tenant_id].router
    assert router.agents[luis].missed
    live.available("agent2")
    assert not router.agents[luis].missed and router.agents[luis].missed_offers == 0
    third = live.new_contact()["id"]
    assert luis in live.offered_agents(third)


def test_ring_all_restart_withdraws_every_offer_and_rings_once_more(live: Live, db_url: str, tmp_path: Path) -> None:
    eva_client = _ring_all_team(live)
    ana, luis, eva = live.agent_id("ana"), live.agent_id("luis"), live.agent_id("eva")
    for client in (live.client("agent"), live.client("agent2"), eva_client):
        assert client.post("/api/agents/me/state", json={"state": "available"}).status_code == 200
    live.sync()
    cid = live.new_contact()["id"]
    assert sorted(live.offered_agents(cid)) == sorted([ana, luis, eva])
    enqueued = live.contact(cid)["enqueue_ts"]

    assert live.service.dispatch is not None
    live.service.dispatch.stop()
    live.service.dispatch = None
    live.clock.advance(5)
    assert isinstance(live.clock, FakeClock)
    fresh = make_service(db_url, tmp_path, live.clock)
    try:
        fresh.start_routing().sync()
        sup = _login(fresh, live.api.a.usernames["supervisor"])
        row = sup.get(f"/api/contacts/{cid}").json()
        events = [(e["type"], e.get("agent_id"), e["data"].get("result")) for e in row["timeline"]]
        for agent_id in (ana, luis, eva):
            assert events.count(("contact.offered", agent_id, None)) == 2  # the open offer, then once more
            assert events.count(("contact.offer_ended", agent_id, "withdrawn")) == 1
        first_new_offer = [i for i, e in enumerate(events) if e[0] == "contact.offered"][3]
        assert all(i < first_new_offer for i, e in enumerate(events) if e[2] == "withdrawn")
        assert sorted(live.offered_agents(cid)) == sorted([ana, luis, eva]) and row["enqueue_ts"] == enqueued
        eva_fresh = _login(fresh, "agent3@norte")
        assert eva_fresh.post(f"/api/contacts/{cid}/accept").status_code == 200
        assert fresh.dispatch is not None
        fresh.dispatch.sync()
        row = sup.get(f"/api/contacts/{cid}").json()
        assert row["status"] == "connected" and live.offered_agents(cid) == []
        assert [e["type"] for e in row["timeline"]].count("contact.offered") == 6
    finally:
        fresh.close()

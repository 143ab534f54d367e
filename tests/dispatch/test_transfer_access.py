"""Transfers (to a queue, to an agent), bad input that changes nothing, roles and tenants on the new routes."""

from __future__ import annotations

from sqlalchemy import func, select

from centralita.store import tables as t
from tests.dispatch.conftest import Live


def _counts(live: Live) -> tuple[int, int]:
    with live.service.db.read() as s:
        contacts = s.scalar(select(func.count()).select_from(t.Contact)) or 0
        events = s.scalar(select(func.count()).select_from(t.Event)) or 0
    return int(contacts), int(events)


def _connected(live: Live) -> int:
    live.available()
    cid = int(live.new_contact(channel="voice")["id"])
    resp = live.client("agent").post(f"/api/contacts/{cid}/accept")
    assert resp.status_code == 200, resp.text
    live.sync()
    return cid


def test_transfer_to_queue_creates_the_next_contact_of_the_chain(live: Live) -> None:
    admin = live.client("admin")
    assert admin.patch("/api/agents/luis", json={"skills": {"banca": 3}}).status_code == 200
    live.available("agent2")
    cid = _connected(live)
    live.clock.advance(30)
    resp = live.client("agent").post(f"/api/contacts/{cid}/transfer", json={"queue": "cobros"})
    assert resp.status_code == 201, resp.text
    new = resp.json()
    assert new["previous_contact_id"] == cid and new["initial_contact_id"] == cid
    assert new["initiation_method"] == "TRANSFER" and new["status"] == "queued" and new["queues"] == ["cobros"]
    live.sync()
    old = live.contact(cid)
    assert old["status"] == "acw" and old["transferred_to"] == "queue:cobros" and old["next_contact_id"] == new["id"]
    assert old["queue_outcome"] == "answered" and old["agent_end_ts"] is not None
    assert [e["type"] for e in old["timeline"]][-2:] == ["contact.transferred", "contact.ended"]
    assert live.offered_to(new["id"]) == live.agent_id("luis")
    # the customer's side keeps the first id: a hang-up reaches the live contact of the chain
    live.clock.advance(5)
    gone = live.client("supervisor").post(f"/api/contacts/{cid}/customer-disconnect")
    assert gone.status_code == 200 and gone.json()["id"] == new["id"] and gone.json()["queue_outcome"] == "abandoned"


def test_transfer_to_agent_waits_for_that_agent_only(live: Live) -> None:
    admin = live.client("admin")
    # luis serves atencion too now, at rank 1: both agents could take an atencion contact
    body = {"queues": [{"queue": "cobros"}, {"queue": "atencion"}]}
    assert admin.patch("/api/agents/luis", json=body).status_code == 200
    cid = _connected(live)
    resp = live.client("agent").post(f"/api/contacts/{cid}/transfer", json={"agent": "luis"})
    assert resp.status_code == 201, resp.text
    new = resp.json()
    live.sync()
    assert live.offered_to(new["id"]) is None  # luis is offline: the contact waits for him, not for ana
    assert live.contact(cid)["transferred_to"] == "agent:luis"
    live.available("agent2")
    assert live.offered_to(new["id"]) == live.agent_id("luis")
    luis = live.client("agent2")
    assert luis.post(f"/api/contacts/{new['id']}/accept").status_code == 200
    # the first agent cannot act on the new contact
    assert live.client("agent").post(f"/api/contacts/{new['id']}/end").status_code == 403


def test_bad_input_is_precise_and_changes_nothing(live: Live) -> None:
    sup = live.client("supervisor")
    before = _counts(live)
    cases = [
        ({"channel": "fax", "from": "x", "queue": "atencion"}, "channel"),
        ({"channel": "chat", "from": "x", "queue": "nada"}, "queue"),
        ({"channel": "chat", "queue": "atencion"}, "from"),
        ({"channel": "chat", "from": "x", "queue": "atencion", "priority": 1000}, "priority"),
        ({"channel": "chat", "from": "x", "queue": "atencion", "color": "red"}, "color"),
    ]
    for body, field in cases:
        resp = sup.post("/api/contacts", json=body)
        assert resp.status_code == 422, (body, resp.text)
        assert resp.headers["content-type"].startswith("application/problem+json")
        assert field in [e["field"] for e in resp.json()["errors"]], (field, resp.json())
    assert live.client("admin").patch("/api/queues/cobros", json={"channels": ["voice"]}).status_code == 200
    resp = sup.post("/api/contacts", json={"channel": "email", "from": "a@b.es", "queue": "cobros"})
    assert resp.status_code == 422 and resp.json()["errors"][0]["field"] == "channel"
    assert _counts(live)[0] == before[0]
    cid = _connected(live)
    agent = live.client("agent")
    for body, field in (({}, "body"), ({"queue": "atencion", "agent": "luis"}, "body"), ({"agent": "nadie"}, "agent")):
        resp = agent.post(f"/api/contacts/{cid}/transfer", json=body)
        assert resp.status_code == 422, resp.text
        assert resp.json()["errors"][0]["field"] == field, resp.json()
    resp = agent.post(f"/api/contacts/{cid}/transfer", json={"agent": "ana"})
    assert resp.status_code == 422 and "own agent" in resp.json()["errors"][0]["message"]
    assert agent.post(f"/api/contacts/{cid}/wrap-up", json={"disposition": "x", "reason": "y"}).status_code == 422
    assert agent.post(f"/api/contacts/{cid}/resume").status_code == 409  # not on hold
    assert agent.post(f"/api/contacts/{cid}/accept").status_code == 409  # her offer ended when she accepted it
    assert agent.post("/api/contacts/999999/accept").status_code == 404
    assert live.contact(cid)["status"] == "connected"


def test_roles_and_tenants(live: Live) -> None:
    body = {"channel": "chat", "from": "chat-1", "queue": "atencion"}
    agent = live.client("agent")
    assert agent.post("/api/contacts", json=body).status_code == 403  # contacts enter through channels
    live.available()
    cid = live.new_contact()["id"]
    assert live.offered_to(cid) == live.agent_id("ana")
    assert agent.post(f"/api/contacts/{cid}/customer-disconnect").status_code == 403
    # another agent cannot take ana's offer; a supervisor may act for her
    assert live.client("agent2").post(f"/api/contacts/{cid}/accept").status_code == 403
    assert live.client("supervisor").post(f"/api/contacts/{cid}/accept").json()["agent_id"] == live.agent_id("ana")
    # the other tenant sees nothing of it
    other = live.api.client("supervisor", live.api.b)
    assert other.post(f"/api/contacts/{cid}/end").status_code == 404
    assert other.post(f"/api/contacts/{cid}/customer-disconnect").status_code == 404
    assert other.post("/api/contacts", json=body).status_code == 201  # its own atencion queue
    # an integration token (no user) may create contacts and hang up for the customer
    token = live.client("admin").post("/api/tokens", json={"name": "web-chat", "role": "agent"})
    assert token.status_code == 201, token.text
    from fastapi.testclient import TestClient

    from centralita.api.app import create_app

    bot = TestClient(create_app(live.service), headers={"Authorization": f"Bearer {token.json()['token']}"})
    created = bot.post("/api/contacts", json=body)
    assert created.status_code == 201, created.text
    assert bot.post(f"/api/contacts/{created.json()['id']}/customer-disconnect").status_code == 200
    # queue statistics: supervisors all queues, agents their own
    sup_codes = [q["code"] for q in live.client("supervisor").get("/api/queues/stats").json()]
    assert sup_codes == ["atencion", "cobros"]
    assert [q["code"] for q in agent.get("/api/queues/stats").json()] == ["atencion"]
    assert agent.get("/api/queues/cobros/stats").status_code == 403
    assert agent.get("/api/queues/atencion/stats").json()["waiting"] == 0
    assert live.api.anonymous().get("/api/queues/stats").status_code == 401
    assert other.get("/api/queues/stats").json()[0]["last_15m"]["answered"] == 0


def test_queue_stats_over_websocket(live: Live) -> None:
    sup = live.client("supervisor")
    with sup.websocket_connect("/api/realtime?stats=1") as ws:
        assert ws.receive_json()["type"] == "hello"
        live.new_contact()
        for _ in range(50):
            msg = ws.receive_json()
            if msg["type"] == "queue_stats":
                figures = {q["code"]: q for q in msg["queues"]}
                if figures["atencion"]["waiting"] == 1:
                    break
        else:
            raise AssertionError("no queue_stats with the waiting contact")
        assert figures["atencion"]["ewt_s"] is None and figures["atencion"]["staffed"] == 0
    agent = live.client("agent")
    with agent.websocket_connect("/api/realtime?stats=1") as ws:
        assert ws.receive_json()["type"] == "hello"
        msg = ws.receive_json()  # the latest figures are sent on connect
        assert msg["type"] == "queue_stats" and [q["code"] for q in msg["queues"]] == ["atencion"]

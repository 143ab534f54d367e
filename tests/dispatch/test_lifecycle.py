"""A live contact's whole life through the API: queued, offered over the WebSocket, accepted, ended, wrapped up."""

from __future__ import annotations

from typing import Any

from tests.dispatch.conftest import Live


def _reasons(live: Live) -> None:
    admin = live.client("admin")
    assert (
        admin.post(
            "/api/reason-groups", json={"code": "cuentas", "name_es": "Cuentas", "name_en": "Accounts"}
        ).status_code
        == 201
    )
    for body in (
        {"code": "saldo", "group": "cuentas", "name_es": "Saldo", "name_en": "Balance"},
        {"code": "saldo-app", "group": "cuentas", "parent": "saldo", "name_es": "En la app", "name_en": "In the app"},
        {"code": "tarjeta", "group": "cuentas", "name_es": "Tarjeta", "name_en": "Card"},
    ):
        assert admin.post("/api/reasons", json=body).status_code == 201, body


def _next_of(ws: Any, wanted: str) -> dict[str, Any]:
    for _ in range(50):
        msg = ws.receive_json()
        if msg["type"] == "event" and msg["event"]["type"] == wanted:
            return dict(msg["event"])
    raise AssertionError(f"no {wanted} event")


def test_offer_over_websocket_accept_end_wrap_up(live: Live) -> None:
    _reasons(live)
    agent = live.client("agent")
    ana = live.agent_id("ana")
    with agent.websocket_connect("/api/realtime") as ws:
        ws.receive_json()  # hello
        live.available()
        created = live.new_contact(channel="chat", attributes={"topic": "saldo"})
        assert created["status"] == "queued" and created["queues"] == ["atencion"]
        offered = _next_of(ws, "contact.offered")
        assert offered["contact_id"] == created["id"] and offered["agent_id"] == ana
        assert offered["data"]["queue"] == "atencion"
    cid = created["id"]
    live.clock.advance(4)
    resp = agent.post(f"/api/contacts/{cid}/accept")
    assert resp.status_code == 200, resp.text
    assert resp.json()["status"] == "connected" and resp.json()["agent_id"] == ana
    live.sync()
    live.clock.advance(60)
    assert agent.post(f"/api/contacts/{cid}/hold").json()["status"] == "held"
    live.clock.advance(10)
    assert agent.post(f"/api/contacts/{cid}/resume").json()["status"] == "connected"
    live.clock.advance(30)
    ended = agent.post(f"/api/contacts/{cid}/end")
    assert ended.json()["status"] == "acw", ended.text
    live.sync()
    live.clock.advance(20)
    wrapped = agent.post(
        f"/api/contacts/{cid}/wrap-up",
        json={"disposition": "informed", "reason": "saldo", "sub_reason": "saldo-app", "resolved": True, "notes": "ok"},
    )
    assert wrapped.status_code == 200, wrapped.text
    live.sync()
    row = live.contact(cid)
    assert row["status"] == "closed" and row["queue_outcome"] == "answered" and row["resolved"] is True
    assert row["disposition"] == "informed" and row["disconnect_reason"] == "AGENT_DISCONNECT"
    ts = {
        k: row[k]
        for k in (
            "initiation_ts",
            "enqueue_ts",
            "dequeue_ts",
            "agent_connected_ts",
            "agent_end_ts",
            "acw_start_ts",
            "acw_end_ts",
            "disconnect_ts",
        )
    }
    assert all(ts.values()), ts
    assert ts["initiation_ts"] == ts["enqueue_ts"] < ts["dequeue_ts"] == ts["agent_connected_ts"]
    assert ts["agent_end_ts"] == ts["acw_start_ts"] == ts["disconnect_ts"] < ts["acw_end_ts"]
    assert [e["type"] for e in row["timeline"]] == [
        "contact.arrived",
        "contact.queued",
        "contact.offered",
        "contact.offer_ended",
        "contact.dequeued",
        "contact.connected",
        "contact.held",
        "contact.resumed",
        "contact.ended",
        "contact.wrapped_up",
    ]
    dequeued = next(e for e in row["timeline"] if e["type"] == "contact.dequeued")
    assert dequeued["data"] == {"outcome": "answered", "queue": "atencion", "wait_s": 4.0}
    wrapped_event = row["timeline"][-1]
    assert wrapped_event["data"]["handle_s"] == 120.0
    # the agent is free again: the next contact is offered to it at once
    nxt = live.new_contact()
    assert live.offered_to(nxt["id"]) == ana
    stats = {q["code"]: q for q in live.client("supervisor").get("/api/queues/stats").json()}
    assert stats["atencion"]["rolling_asa_s"] == 4.0 and stats["atencion"]["last_15m"]["answered"] == 1


def test_customer_recognised_and_segment_priority(live: Live) -> None:
    admin = live.client("admin")
    assert admin.patch("/api/queues/atencion", json={"segment_priority": {"premium": 5}}).status_code == 200
    resp = admin.post(
        "/api/customers",
        json={"name": "Marta", "segment": "premium", "identities": [{"kind": "phone", "value": "+34 600 111 222"}]},
    )
    assert resp.status_code == 201, resp.text
    known = live.new_contact(channel="voice", from_="600111222")
    assert known["customer_id"] == resp.json()["id"] and known["segment"] == "premium" and known["priority"] == 5
    assert "contact.identified" in live.types(known["id"])
    unknown = live.new_contact(channel="voice", from_="not a number")
    assert unknown["customer_id"] is None and unknown["priority"] == 0
    explicit = live.new_contact(channel="voice", from_="600111222", priority=-3)
    assert explicit["priority"] == -3


def test_reject_puts_contact_back_and_marks_agent_missed(live: Live) -> None:
    agent = live.client("agent")
    ana = live.agent_id("ana")
    live.available()
    cid = live.new_contact()["id"]
    assert live.offered_to(cid) == ana
    resp = agent.post(f"/api/contacts/{cid}/reject")
    assert resp.status_code == 200, resp.text
    live.sync()
    # max_missed_offers = 1: ana is `missed`, so the contact waits (at its place) until she is back
    me = agent.get("/api/agents/me").json()
    assert me["state"] == "missed"
    assert live.offered_to(cid) is None
    live.available()
    assert live.offered_to(cid) == ana
    types = live.types(cid)
    assert types.count("contact.offered") == 2 and "contact.dequeued" not in types


def test_offer_timeout_marks_agent_missed_then_reoffered(live: Live) -> None:
    ana = live.agent_id("ana")
    live.available()
    cid = live.new_contact()["id"]
    assert live.offered_to(cid) == ana
    live.advance(19)
    assert live.offered_to(cid) == ana
    live.advance(1.5)  # the queue's offer_timeout_s is 20
    assert live.offered_to(cid) is None
    assert live.client("agent").get("/api/agents/me").json()["state"] == "missed"
    timeline = live.contact(cid)["timeline"]
    ended = [e for e in timeline if e["type"] == "contact.offer_ended"]
    assert [e["data"]["result"] for e in ended] == ["timeout"]
    late = live.client("agent").post(f"/api/contacts/{cid}/accept")
    assert late.status_code == 409  # not offered to ana any more: too late, not forbidden
    live.available()
    assert live.offered_to(cid) == ana


def test_priority_then_fifo_and_acw_blocks_offers(live: Live) -> None:
    _reasons(live)
    ana = live.agent_id("ana")
    first = live.new_contact(channel="voice")["id"]
    live.clock.advance(1)
    second = live.new_contact(channel="voice")["id"]
    live.clock.advance(1)
    urgent = live.new_contact(channel="voice", priority=3)["id"]
    live.available()
    assert live.offered_to(urgent) == ana  # higher priority first
    agent = live.client("agent")
    assert agent.post(f"/api/contacts/{urgent}/accept").status_code == 200
    assert agent.post(f"/api/contacts/{urgent}/end").status_code == 200
    live.sync()
    assert live.offered_to(first) is None  # in after-contact work: no offer
    bad = agent.post(
        f"/api/contacts/{urgent}/wrap-up", json={"disposition": "done", "reason": "nope", "sub_reason": "x"}
    )
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == ["reason", "sub_reason"]
    wrong_parent = agent.post(
        f"/api/contacts/{urgent}/wrap-up", json={"disposition": "done", "reason": "tarjeta", "sub_reason": "saldo-app"}
    )
    assert wrong_parent.status_code == 422 and wrong_parent.json()["errors"][0]["field"] == "sub_reason"
    sub_as_reason = agent.post(f"/api/contacts/{urgent}/wrap-up", json={"disposition": "done", "reason": "saldo-app"})
    assert sub_as_reason.status_code == 422 and sub_as_reason.json()["errors"][0]["field"] == "reason"
    live.sync()
    assert live.contact(urgent)["status"] == "acw" and live.offered_to(first) is None  # nothing changed
    assert (
        agent.post(f"/api/contacts/{urgent}/wrap-up", json={"disposition": "done", "reason": "saldo"}).status_code
        == 200
    )
    live.sync()
    assert live.offered_to(first) == ana and live.offered_to(second) is None  # FIFO within a priority


def test_abandon_while_queued_and_while_offered(live: Live) -> None:
    sup = live.client("supervisor")
    waiting = live.new_contact()["id"]
    live.clock.advance(7)
    resp = sup.post(f"/api/contacts/{waiting}/customer-disconnect")
    assert resp.status_code == 200, resp.text
    row = live.contact(waiting)
    assert row["status"] == "closed" and row["queue_outcome"] == "abandoned"
    assert row["disconnect_reason"] == "CUSTOMER_DISCONNECT" and row["agent_id"] is None
    assert live.types(waiting)[-2:] == ["contact.dequeued", "contact.ended"]
    # offered, then the customer leaves: the offer is withdrawn, the agent is not `missed`
    live.available()
    offered = live.new_contact()["id"]
    assert live.offered_to(offered) == live.agent_id("ana")
    assert sup.post(f"/api/contacts/{offered}/customer-disconnect").status_code == 200
    live.sync()
    results = [e["data"]["result"] for e in live.contact(offered)["timeline"] if e["type"] == "contact.offer_ended"]
    assert results == ["withdrawn"]
    assert live.client("agent").get("/api/agents/me").json()["state"] == "available"
    assert sup.post(f"/api/contacts/{offered}/customer-disconnect").status_code == 409
    stats = {q["code"]: q for q in sup.get("/api/queues/stats").json()}
    assert stats["atencion"]["last_15m"]["abandoned"] == 2 and stats["atencion"]["waiting"] == 0


def test_customer_ends_connected_contact(live: Live) -> None:
    live.available()
    cid = live.new_contact()["id"]
    assert live.client("agent").post(f"/api/contacts/{cid}/accept").status_code == 200
    resp = live.client("supervisor").post(f"/api/contacts/{cid}/customer-disconnect")
    assert resp.json()["status"] == "acw" and resp.json()["disconnect_reason"] == "CUSTOMER_DISCONNECT"
    assert resp.json()["queue_outcome"] == "answered"


def test_closed_hours_records_and_ends(live: Live) -> None:
    admin = live.client("admin")
    # the fake clock is a Monday 09:00 UTC (10:00 in Madrid); this calendar opens at 12:00
    hours = {
        "code": "tarde",
        "name": "Tarde",
        "weekly": [{"day": d, "start": "12:00", "end": "20:00"} for d in range(1, 6)],
    }
    assert admin.post("/api/hours", json=hours).status_code == 201
    assert admin.patch("/api/queues/atencion", json={"hours": "tarde"}).status_code == 200
    live.available()
    resp = live.client("supervisor").post(
        "/api/contacts", json={"channel": "voice", "from": "+34911000000", "queue": "atencion"}
    )
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["status"] == "closed" and body["outcome"] == "closed_hours" and body["enqueue_ts"] is None
    assert body["disconnect_reason"] == "CONTACT_FLOW_DISCONNECT"
    live.sync()
    assert live.offered_to(body["id"]) is None
    ended = live.contact(body["id"])["timeline"][-1]
    assert ended["type"] == "contact.ended" and ended["data"]["outcome"] == "closed_hours"
    live.clock.advance(3 * 3600)  # 13:00 in Madrid: open
    assert live.new_contact(channel="voice")["status"] == "queued"


def test_an_accept_that_reached_the_server_in_time_is_never_timed_out(live: Live) -> None:
    """The accept reached the server before the offer's timeout but took long to be applied (a loaded
    server): the router keeps the offer ringing meanwhile, and the store judges the accept by its arrival.
    Without the note the same wait times the offer out (test above)."""
    from centralita.contacts.live import do_accept_contact
    from centralita.core.actor import Actor
    from centralita.store import tables as t

    ana = live.agent_id("ana")
    live.available()
    cid = live.new_contact()["id"]
    assert live.offered_to(cid) == ana
    live.advance(19)
    received_at = live.clock.now()  # 1 s before the timeout
    tenant_id = live.api.a.tenant_id
    note = {"kind": "accept_pending", "tenant_id": tenant_id, "contact_id": cid, "agent_id": ana}
    live.service.bus.note({**note, "received_at": received_at.timestamp()})
    live.advance(5)  # past the timeout: the accept is still being applied
    assert live.offered_to(cid) == ana, "the offer timed out although its accept was on its way"
    actor = Actor(tenant_id=tenant_id, role="agent", agent_id=ana, clock=live.clock)
    with live.service.db.write() as s:
        row = s.get_one(t.Contact, cid, with_for_update=True)
        do_accept_contact(s, actor, row, received_at=received_at)
    live.sync()
    assert live.contact(cid)["status"] == "connected"
    assert "timeout" not in [e["data"].get("result") for e in live.contact(cid)["timeline"]]


def test_the_accept_route_tells_the_router_when_it_arrived(live: Live) -> None:
    notes: list[dict[str, object]] = []
    live.service.bus.on_note(notes.append)
    ana = live.agent_id("ana")
    live.available()
    cid = live.new_contact()["id"]
    live.advance(3)
    resp = live.client("agent").post(f"/api/contacts/{cid}/accept")
    assert resp.status_code == 200, resp.text
    pending = [n for n in notes if n["kind"] == "accept_pending"]
    assert len(pending) == 1
    assert {k: pending[0][k] for k in ("tenant_id", "contact_id", "agent_id")} == {
        "tenant_id": live.api.a.tenant_id,
        "contact_id": cid,
        "agent_id": ana,
    }
    received = pending[0]["received_at"]
    assert isinstance(received, float) and abs(received - live.clock.now().timestamp()) < 5


def _offered_then_accept_noted(live: Live, after_s: float) -> tuple[int, int]:
    """Ana is offered a contact; `after_s` later a note says her accept reached a server just then."""
    ana = live.agent_id("ana")
    live.available()
    cid = int(live.new_contact()["id"])
    live.advance(after_s)
    note = {"kind": "accept_pending", "tenant_id": live.api.a.tenant_id, "contact_id": cid, "agent_id": ana}
    live.service.bus.note({**note, "received_at": live.clock.now().timestamp()})
    return ana, cid


def test_an_accept_note_keeps_the_offer_only_for_the_grace(live: Live) -> None:
    from centralita.dispatch.runner import ACCEPT_GRACE_S

    ana, cid = _offered_then_accept_noted(live, after_s=10)
    live.advance(10 + ACCEPT_GRACE_S - 1)
    assert live.offered_to(cid) == ana
    live.advance(1.5)  # the accept never came (it failed): the offer times out after the grace
    assert live.offered_to(cid) is None
    ended = [e for e in live.contact(cid)["timeline"] if e["type"] == "contact.offer_ended"]
    assert [e["data"]["result"] for e in ended] == ["timeout"]


def test_an_accept_that_reached_the_server_too_late_is_refused(live: Live) -> None:
    """A note whose accept arrived after the timeout extends nothing."""
    _ana, cid = _offered_then_accept_noted(live, after_s=20.5)
    live.sync()
    assert live.offered_to(cid) is None


def test_end_with_wrap_up_is_one_write(live: Live) -> None:
    """`end` with a `wrap_up` closes the contact in the same transaction: `contact.ended` and
    `contact.wrapped_up` take consecutive numbers, and the agent is free at once. An invalid wrap-up
    writes nothing (the contact stays connected)."""
    _reasons(live)
    agent = live.client("agent")
    ana = live.agent_id("ana")
    live.available()
    cid = live.new_contact(channel="chat")["id"]
    assert live.offered_to(cid) == ana
    live.clock.advance(3)
    assert agent.post(f"/api/contacts/{cid}/accept").status_code == 200
    live.sync()
    live.clock.advance(40)
    bad = agent.post(f"/api/contacts/{cid}/end", json={"wrap_up": {"disposition": "informed", "reason": "nada"}})
    assert bad.status_code == 422, bad.text
    assert live.contact(cid)["status"] == "connected"
    ended = agent.post(
        f"/api/contacts/{cid}/end",
        json={"wrap_up": {"disposition": "informed", "reason": "tarjeta", "resolved": True}},
    )
    assert ended.status_code == 200, ended.text
    assert ended.json()["status"] == "closed"
    live.sync()
    row = live.contact(cid)
    assert row["disposition"] == "informed" and row["resolved"] is True
    last_two = row["timeline"][-2:]
    assert [e["type"] for e in last_two] == ["contact.ended", "contact.wrapped_up"]
    assert last_two[1]["seq"] == last_two[0]["seq"] + 1
    assert last_two[1]["data"]["handle_s"] == 40.0 and last_two[1]["data"]["timed_out"] is False
    assert row["acw_start_ts"] == row["acw_end_ts"]
    nxt = live.new_contact()
    assert live.offered_to(nxt["id"]) == ana  # free again without a second write

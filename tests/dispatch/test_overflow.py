"""Queue overflow live (R10): the runner records each overflow the router applies (a `contact.overflowed`
event and the contact's stored memberships), so the timeline shows it and a restart rebuilds the same
memberships without overflowing again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from centralita.contacts.queries import open_memberships, overflowed_from, queue_codes
from centralita.core.clock import FakeClock
from centralita.store import tables as t
from tests.conftest import make_service
from tests.dispatch.conftest import Live
from tests.dispatch.test_recovery import _login


def _memberships(live: Live, contact_id: int) -> list[dict[str, Any]]:
    """The contact's open memberships, as stored."""
    with live.service.db.read() as s:
        return [
            {
                "queue_id": m.queue_id,
                "enqueue_ts": m.joined_at.timestamp(),
                "priority": m.priority,
                "age_adjust_s": m.age_adjust_s,
                "overflowed": m.overflowed,
            }
            for m in open_memberships(s, contact_id)
        ]


def _data(event: dict[str, Any]) -> dict[str, Any]:
    """An overflow event's data without the memberships it carries for the router."""
    return {k: v for k, v in event["data"].items() if k != "memberships"}


def _queue_ids(live: Live) -> dict[str, int]:
    with live.service.db.read() as s:
        return {q.code: q.id for q in s.query(t.Queue).filter(t.Queue.tenant_id == live.api.a.tenant_id)}


def _waiting(client: Any) -> dict[str, int]:
    return {q["code"]: q["waiting"] + q["offered"] for q in client.get("/api/queues/stats").json()}


def test_overflow_after_wait_is_recorded_and_survives_a_restart(live: Live, db_url: str, tmp_path: Path) -> None:
    admin = live.client("admin")
    overflow = {"queue": "cobros", "after_s": 30}
    assert admin.patch("/api/queues/atencion", json={"overflow": overflow}).status_code == 200
    assert admin.patch("/api/agents/luis", json={"skills": {"banca": 3}}).status_code == 200  # cobros needs 3
    ids = _queue_ids(live)
    created = live.new_contact(channel="voice")  # nobody available: it waits in atencion
    cid = created["id"]
    live.advance(29)
    assert "contact.overflowed" not in live.types(cid)
    live.advance(2)  # 30 s in atencion: it also joins cobros, keeping its age
    timeline = live.contact(cid)["timeline"]
    overflowed = [e for e in timeline if e["type"] == "contact.overflowed"]
    assert len(overflowed) == 1
    assert _data(overflowed[0]) == {"from": "atencion", "to": "cobros", "mode": "add"}
    assert overflowed[0]["queue_id"] == ids["cobros"]
    with live.service.db.read() as s:
        assert queue_codes(s, cid) == ["atencion", "cobros"]
    first, second = _memberships(live, cid)
    assert first["queue_id"] == ids["atencion"] and first["overflowed"] is True
    assert second["queue_id"] == ids["cobros"] and second["overflowed"] is False
    assert second["enqueue_ts"] - first["enqueue_ts"] == 30.0 and second["age_adjust_s"] == 30.0
    assert second["priority"] == first["priority"]
    assert _waiting(live.client("supervisor")) == {"atencion": 1, "cobros": 1}
    before = _memberships(live, cid)

    # restart: the same memberships come back, and the overflow is not applied (nor recorded) again
    assert live.service.dispatch is not None
    live.service.dispatch.stop()
    live.service.dispatch = None
    live.clock.advance(5)
    assert isinstance(live.clock, FakeClock)
    fresh = make_service(db_url, tmp_path, live.clock)
    try:
        fresh.start_routing().sync()
        assert fresh.dispatch is not None
        sup = _login(fresh, live.api.a.usernames["supervisor"])
        assert _waiting(sup) == {"atencion": 1, "cobros": 1}
        stats = {q["code"]: q for q in sup.get("/api/queues/stats").json()}
        assert stats["cobros"]["oldest_wait_s"] == 6.0 and stats["atencion"]["oldest_wait_s"] == 36.0
        assert _memberships(live, cid) == before
        # luis (cobros) becomes available: the contact is offered to him through cobros
        luis = _login(fresh, live.api.a.usernames["agent2"])
        assert luis.post("/api/agents/me/state", json={"state": "available"}).status_code == 200
        fresh.dispatch.sync()
        assert live.offered_agents(cid) == [live.agent_id("luis")]
        row = sup.get(f"/api/contacts/{cid}").json()
        types = [e["type"] for e in row["timeline"]]
        assert types.count("contact.overflowed") == 1
        offered = [e for e in row["timeline"] if e["type"] == "contact.offered"]
        assert [e["data"]["queue"] for e in offered] == ["cobros"]
        resp = luis.post(f"/api/contacts/{cid}/accept")
        assert resp.status_code == 200, resp.text
        assert resp.json()["queue_id"] == ids["cobros"]  # the queue that answered
    finally:
        fresh.close()


def test_overflow_move_when_unstaffed(live: Live) -> None:
    admin = live.client("admin")
    overflow = {"queue": "cobros", "when_unstaffed": True, "mode": "move"}
    assert admin.patch("/api/queues/atencion", json={"overflow": overflow}).status_code == 200
    assert admin.patch("/api/agents/luis", json={"skills": {"banca": 3}}).status_code == 200
    live.available("agent2")  # luis staffs cobros; nobody staffs atencion
    ids = _queue_ids(live)
    cid = live.new_contact(channel="voice", priority=2)["id"]
    assert live.offered_agents(cid) == [live.agent_id("luis")]
    overflowed = [e for e in live.contact(cid)["timeline"] if e["type"] == "contact.overflowed"]
    assert [_data(e) for e in overflowed] == [{"from": "atencion", "to": "cobros", "mode": "move"}]
    (only,) = _memberships(live, cid)
    assert only["queue_id"] == ids["cobros"] and only["priority"] == 2 and only["age_adjust_s"] == 0.0
    types = live.types(cid)
    assert types.index("contact.overflowed") < types.index("contact.offered")
    assert "contact.dequeued" not in types  # one queue episode: a move is not an exit


def test_a_refused_overflow_cycle_is_recorded_and_stays_refused_after_a_restart(live: Live) -> None:
    """atencion moves to cobros after 30 s and cobros back to atencion after 30 s: the second move is
    refused (the contact came from there) and recorded (`stay`), with the queues it left, so a rebuilt
    router neither moves it back nor records it again."""
    admin = live.client("admin")
    for code, other in (("atencion", "cobros"), ("cobros", "atencion")):
        body = {"overflow": {"queue": other, "after_s": 30, "mode": "move"}}
        assert admin.patch(f"/api/queues/{code}", json=body).status_code == 200
    ids = _queue_ids(live)
    cid = live.new_contact(channel="voice")["id"]
    live.advance(31)
    live.advance(31)
    events = [_data(e) for e in live.contact(cid)["timeline"] if e["type"] == "contact.overflowed"]
    assert events == [
        {"from": "atencion", "to": "cobros", "mode": "move"},
        {"from": "cobros", "to": None, "mode": "stay"},
    ]
    with live.service.db.read() as s:
        rows = s.scalars(select(t.ContactMembership).where(t.ContactMembership.contact_id == cid)).all()
        assert overflowed_from(rows) == {ids["atencion"], ids["cobros"]}
    assert [(m["queue_id"], m["overflowed"]) for m in _memberships(live, cid)] == [(ids["cobros"], True)]

    assert live.service.dispatch is not None
    live.service.dispatch.stop()
    live.service.dispatch = None
    live.service.start_routing()
    live.advance(120)
    assert [e["type"] for e in live.contact(cid)["timeline"]].count("contact.overflowed") == 2
    assert [m["queue_id"] for m in _memberships(live, cid)] == [ids["cobros"]]


def test_max_contacts_counts_the_contacts_an_overflow_brought(live: Live) -> None:
    """atencion holds 2 at most. A contact that overflowed into it from cobros counts there (it arrived
    in cobros): with one more waiting, the next arrival finds the queue full and is recorded and ended."""
    admin = live.client("admin")
    assert admin.patch("/api/queues/atencion", json={"max_contacts": 2}).status_code == 200
    overflow = {"queue": "atencion", "when_unstaffed": True, "mode": "move"}
    assert admin.patch("/api/queues/cobros", json={"overflow": overflow}).status_code == 200
    ids = _queue_ids(live)
    moved = live.new_contact(queue="cobros", channel="voice")["id"]  # nobody staffs cobros: it moves
    assert [m["queue_id"] for m in _memberships(live, moved)] == [ids["atencion"]]
    second = live.new_contact(channel="voice")
    assert second["status"] == "queued"
    full = live.new_contact(channel="voice")
    assert full["status"] == "closed" and full["outcome"] == "queue_full"
    assert live.contact(full["id"])["disconnect_reason"] == "CONTACT_FLOW_DISCONNECT"
    live.client("supervisor").post(f"/api/contacts/{moved}/customer-disconnect")
    live.sync()
    assert live.new_contact(channel="voice")["status"] == "queued"  # room again


def test_max_contacts_holds_under_concurrent_arrivals(live: Live) -> None:
    """Ten arrivals at once into a queue that holds three: each arrival counts after the one before has
    committed (its first event holds the tenant's event counter), so exactly three wait."""
    from concurrent.futures import ThreadPoolExecutor

    assert live.client("admin").patch("/api/queues/atencion", json={"max_contacts": 3}).status_code == 200
    sup = live.client("supervisor")

    def arrive(n: int) -> str:
        resp = sup.post("/api/contacts", json={"channel": "voice", "from": f"+3460000000{n}", "queue": "atencion"})
        assert resp.status_code == 201, resp.text
        return str(resp.json()["status"])

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(arrive, range(10)))
    assert sorted(statuses) == ["closed"] * 7 + ["queued"] * 3

"""The typed live state: statuses move only along their table, memberships and offers are rows, and the
moments at the edge of a rule (an accept at the instant the offer expires, a wrap-up before the end)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from centralita.contacts.queries import open_memberships, open_offers, waiting_in
from centralita.contacts.status import LIVE, TRANSITIONS, ContactStatus, check_move, require
from centralita.core.errors import Conflict
from centralita.store import tables as t
from tests.dispatch.conftest import Live

S = ContactStatus


def test_the_status_table() -> None:
    assert TRANSITIONS[S.ACW] == {S.CLOSED} and TRANSITIONS[S.CLOSED] == set()
    assert S.CLOSED not in TRANSITIONS[S.CONNECTED]  # a connected contact is ended first, then wrapped up
    assert {S.QUEUED, S.CONNECTED, S.HELD, S.ACW} == LIVE
    for source, targets in TRANSITIONS.items():
        for target in ContactStatus:
            if target in targets:
                assert check_move(1, source, target) == target
            else:
                with pytest.raises(Conflict):
                    check_move(1, source, target)
    with pytest.raises(Conflict, match="this needs it on hold"):
        check_move(7, "connected", S.CONNECTED, (S.HELD,))  # resume: from held only, not from queued
    with pytest.raises(Conflict, match="contact 7 is closed; this needs it queued"):
        require(7, "closed", S.QUEUED)


def test_wrap_up_while_connected_is_a_conflict(live: Live) -> None:
    live.available()
    cid = live.new_contact()["id"]
    agent = live.client("agent")
    assert agent.post(f"/api/contacts/{cid}/accept").status_code == 200
    live.client("admin").post("/api/reason-groups", json={"code": "g", "name_es": "G", "name_en": "G"})
    body = {"code": "saldo", "group": "g", "name_es": "Saldo", "name_en": "Balance"}
    assert live.client("admin").post("/api/reasons", json=body).status_code == 201
    resp = agent.post(f"/api/contacts/{cid}/wrap-up", json={"disposition": "ok", "reason": "saldo"})
    assert resp.status_code == 409, resp.text
    assert "this needs it in after-contact work" in resp.json()["detail"]
    assert live.contact(cid)["status"] == "connected"  # nothing changed
    assert agent.post(f"/api/contacts/{cid}/end").status_code == 200
    assert agent.post(f"/api/contacts/{cid}/wrap-up", json={"disposition": "ok", "reason": "saldo"}).status_code == 200


def test_an_accept_at_the_instant_the_offer_expires_is_too_late(live: Live) -> None:
    live.available()
    cid = live.new_contact()["id"]
    assert live.offered_to(cid) == live.agent_id("ana")
    live.clock.advance(19.999)
    with live.dispatch._mutex:  # the router waits (it would time the offer out itself): the store judges
        live.clock.advance(0.001)  # exactly the queue's offer_timeout_s (20 s): the offer has expired
        resp = live.client("agent").post(f"/api/contacts/{cid}/accept")
    assert resp.status_code == 409 and "expired" in resp.json()["detail"], resp.text
    assert live.contact(cid)["status"] == "queued"


def test_a_late_accept_of_a_contact_another_agent_took_is_409_and_a_stranger_gets_403(live: Live) -> None:
    admin = live.client("admin")
    assert admin.patch("/api/queues/atencion", json={"agent_selection": "ring_all"}).status_code == 200
    body = {"queues": [{"queue": "cobros"}, {"queue": "atencion"}]}
    assert admin.patch("/api/agents/luis", json=body).status_code == 200
    live.available("agent")
    live.available("agent2")
    cid = live.new_contact(channel="voice")["id"]
    assert sorted(live.offered_agents(cid)) == sorted([live.agent_id("ana"), live.agent_id("luis")])
    assert live.client("agent2").post(f"/api/contacts/{cid}/accept").status_code == 200
    late = live.client("agent").post(f"/api/contacts/{cid}/accept")
    assert late.status_code == 409, late.text  # ana was offered it: too late, not forbidden
    other = live.new_contact(channel="voice")["id"]  # luis is on a call: only ana rings
    assert live.offered_agents(other) == [live.agent_id("ana")]
    stranger = live.client("agent2").post(f"/api/contacts/{other}/accept")
    assert stranger.status_code == 403, stranger.text  # never offered to luis


def test_memberships_and_offers_are_rows_and_waiting_counts_them(live: Live) -> None:
    cid = live.new_contact()["id"]  # nobody available: it waits
    with live.service.db.read() as s:
        (m,) = open_memberships(s, cid)
        queue = s.get_one(t.Queue, m.queue_id)
        assert queue.code == "atencion" and m.left_at is None and m.for_agent_id is None
        queued = s.scalars(select(t.Event).where(t.Event.contact_id == cid, t.Event.type == "contact.queued")).one()
        assert m.arrival_seq == queued.seq  # the arrival order is the seq of its contact.queued
        assert waiting_in(s, queue) == 1 and open_offers(s, cid) == []
    live.available()
    with live.service.db.read() as s:
        (offer,) = open_offers(s, cid)
        assert offer.agent_id == live.agent_id("ana") and offer.ended_at is None
    assert live.client("agent").post(f"/api/contacts/{cid}/accept").status_code == 200
    with live.service.db.read() as s:
        assert open_memberships(s, cid) == [] and waiting_in(s, queue) == 0
        (left,) = s.scalars(select(t.ContactMembership).where(t.ContactMembership.contact_id == cid)).all()
        assert left.left_why == "answered" and left.left_at is not None
        (ended,) = s.scalars(select(t.ContactOffer).where(t.ContactOffer.contact_id == cid)).all()
        assert ended.result == "accepted" and ended.ended_at is not None
    got = live.contact(cid)
    assert got["queues"] == ["atencion"]

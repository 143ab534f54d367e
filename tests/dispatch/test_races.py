"""Races between the store and the router, driven by hand: the routing runner's loop is not started, the
test feeds it the committed events and runs its rounds itself, in the order a race would."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from centralita.contacts.queries import open_offers
from centralita.core.clock import FakeClock
from centralita.dispatch.runner import Dispatcher
from centralita.events.log import read_events
from centralita.store import tables as t
from tests.conftest import Api


@pytest.fixture
def hand(api: Api) -> Iterator[Dispatcher]:
    """A dispatcher that holds the leader lock but runs only when the test says."""
    d = Dispatcher(api.service.db, api.service.bus, api.service.clock)
    assert d.lock.try_acquire()
    d._rebuild(api.a.tenant_id)
    yield d
    d.lock.release()


def _feed(d: Dispatcher, api: Api) -> None:
    """Apply every committed event the dispatcher has not seen, then run its round."""
    tr = d.tenants[api.a.tenant_id]
    with api.service.db.read() as s:
        events = read_events(s, api.a.tenant_id, after_seq=tr.last_seq, limit=10_000)
    for e in events:
        d._receive(e)
    d._tick()


def _agent_id(api: Api, code: str) -> int:
    with api.service.db.read() as s:
        return int(
            s.scalars(select(t.Agent.id).where(t.Agent.tenant_id == api.a.tenant_id, t.Agent.code == code)).one()
        )


def _available(client: TestClient) -> None:
    assert client.post("/api/agents/me/state", json={"state": "available"}).status_code == 200


def test_an_accept_that_beats_its_timeout_to_the_store_costs_no_other_offer(
    api: Api, hand: Dispatcher, clock: FakeClock
) -> None:
    """Ana accepts at 19.5 s; the router, late, times her offer out at 21.5 s and rings the next agent.
    The store keeps the accept and refuses the timeout; the router adopts the accept, and an unrelated
    offer ringing for Luis keeps ringing (no rebuild withdrawing the tenant's offers)."""
    admin = api.client("admin")
    body = {"queues": [{"queue": "cobros"}, {"queue": "atencion"}]}
    assert admin.patch("/api/agents/luis", json=body).status_code == 200
    assert (
        admin.post("/api/agents", json={"code": "eva", "name": "Eva", "queues": [{"queue": "atencion"}]}).status_code
        == 201
    )
    ana, luis = _agent_id(api, "ana"), _agent_id(api, "luis")
    _available(api.client("agent"))
    _feed(hand, api)
    sup = api.client("supervisor")
    first = sup.post("/api/contacts", json={"channel": "voice", "from": "c-1", "queue": "atencion"}).json()["id"]
    _feed(hand, api)
    with api.service.db.read() as s:
        assert [o.agent_id for o in open_offers(s, first)] == [ana]
    clock.advance(10)
    _available(api.client("agent2"))
    second = sup.post("/api/contacts", json={"channel": "voice", "from": "c-2", "queue": "cobros"}).json()["id"]
    _feed(hand, api)
    with api.service.db.read() as s:
        assert [o.agent_id for o in open_offers(s, second)] == [luis]
    clock.advance(9.5)  # 19.5 s into ana's offer
    assert api.client("agent").post(f"/api/contacts/{first}/accept").status_code == 200  # the store decides
    clock.advance(2)
    hand._tick()  # the router has not heard of the accept: it times ana's offer out; the store refuses
    tr = hand.tenants[api.a.tenant_id]
    assert not tr.resync
    _feed(hand, api)  # then the accept's events: adopted
    tr = hand.tenants[api.a.tenant_id]
    assert tr.router.handled_by.get(first) == ana and not tr.resync
    with api.service.db.read() as s:
        assert [o.agent_id for o in open_offers(s, second)] == [luis]  # still ringing, never withdrawn
        withdrawn = s.scalars(
            select(t.ContactOffer).where(t.ContactOffer.contact_id == second, t.ContactOffer.result == "withdrawn")
        ).all()
        assert withdrawn == []
    assert api.client("agent2").post(f"/api/contacts/{second}/accept").status_code == 200
    assert api.client("agent").get(f"/api/contacts/{first}").json()["status"] == "connected"

"""Events are numbered at commit: the tenant's counter is a transaction's last lock, so a writer never waits
for another row while holding it (the deadlocks a review found: an action holding a contact waited on the
counter while the counter's holder waited on the contact). PostgreSQL runs writers in parallel; SQLite
serialises them whole, so these run on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import select

from centralita.contacts.live import lock_contact
from centralita.core.actor import Actor
from centralita.crm.actions import do_link_case_contact, do_open_case
from centralita.crm.schemas import CaseCreate
from centralita.events.log import append_event, read_events
from centralita.service import Service
from centralita.store import tables as t
from tests.conftest import Api
from tests.factories import make_world

NOW = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)
DATA = {"code": "x"}


@pytest.fixture
def api_pg(pg_service: Service) -> Api:
    return Api(service=pg_service, a=make_world(pg_service, "norte"), b=make_world(pg_service, "sur"))


def test_an_open_transaction_does_not_hold_the_counter_and_numbers_follow_commits(pg_service: Service) -> None:
    world = make_world(pg_service, "norte")
    tenant = world.tenant_id
    appended = threading.Event()
    release = threading.Event()

    def slow() -> None:
        with pg_service.db.write() as s:
            append_event(s, tenant, "skill.created", NOW, {"code": "slow"})
            appended.set()
            assert release.wait(20)

    t1 = threading.Thread(target=slow)
    t1.start()
    assert appended.wait(20)
    done = threading.Event()

    def quick() -> None:
        with pg_service.db.write() as s:
            append_event(s, tenant, "skill.created", NOW, {"code": "quick"})
        done.set()

    t2 = threading.Thread(target=quick)
    t2.start()
    assert done.wait(10), "a writer waited for another transaction's event number"
    release.set()
    t1.join(20)
    t2.join(20)
    with pg_service.db.read() as s:
        codes = [e.data["code"] for e in read_events(s, tenant) if e.type == "skill.created"]
    assert codes[-2:] == ["quick", "slow"]  # numbered in commit order


def test_linking_a_case_to_a_contact_another_action_holds_does_not_wait(api_pg: Api) -> None:
    """A contact locked by an action (hold, end, a routing round) takes `FOR NO KEY UPDATE`: a foreign key
    to it (a case link) does not wait, and neither waits for the other's event number."""
    svc = api_pg.service
    created = api_pg.client("supervisor").post(
        "/api/contacts", json={"channel": "chat", "from": "c-1", "queue": "atencion"}
    )
    cid = created.json()["id"]
    admin = Actor(tenant_id=api_pg.a.tenant_id, role="admin", clock=svc.clock)
    holding, release, linked = threading.Event(), threading.Event(), threading.Event()

    def hold_the_contact() -> None:
        with svc.db.write() as s:
            lock_contact(s, admin, cid)
            append_event(s, admin.tenant_id, "skill.created", NOW, DATA)
            holding.set()
            assert release.wait(20)

    def link() -> None:
        with svc.db.write() as s:
            case = do_open_case(s, admin, CaseCreate(subject="Tarjeta"))
            do_link_case_contact(s, admin, case, cid)
        linked.set()

    t1 = threading.Thread(target=hold_the_contact)
    t1.start()
    assert holding.wait(20)
    t2 = threading.Thread(target=link)
    t2.start()
    assert linked.wait(10), "linking waited for the transaction holding the contact"
    release.set()
    t1.join(20)
    t2.join(20)
    with svc.db.read() as s:
        assert s.scalars(select(t.CaseContact.contact_id)).all() == [cid]

"""Access rules the mutation check (`scripts/mutate.py src/centralita/access.py`) found untested.

Each test names the rule it holds; the mutants left alive, all equivalent, are listed in docs/architecture.md
("Auth and tenancy"). Contacts come from recorded history (`do_record_contacts`, the importers' seam), which
can say who handled a contact, who was offered it and where it waited, without running the router.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from centralita import access
from centralita.contacts.history import RecordedContact, RecordedOffer, do_record_contacts
from centralita.core.actor import Actor
from centralita.core.clock import FakeClock
from centralita.core.errors import Forbidden
from centralita.events.log import EventRecord
from centralita.service import Service
from centralita.store import tables as t
from tests.conftest import Api, _truncate_pg, make_service
from tests.factories import World, make_world

T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


def _record(
    service: Service,
    world: World,
    minute: int,
    queue: str,
    *,
    waited_in: list[str] | None = None,
    agent: str | None = None,
    offered: tuple[tuple[str, str], ...] = (),
) -> int:
    """A finished contact attributed to `queue`: it waited in `waited_in` (none: it never waited, like a
    contact closed at once because the queue was closed or full), was offered to each (agent, result) and
    handled by `agent`."""
    start = T0 + dt.timedelta(minutes=minute)
    fields: dict[str, Any] = {
        "channel": "voice",
        "queue": queue,
        "agent": agent,
        "initiation_ts": start,
        "disconnect_ts": start + dt.timedelta(seconds=90 if agent else 25),
        "disconnect_reason": "AGENT_DISCONNECT" if agent else "CONTACT_FLOW_DISCONNECT",
        "offers": [
            RecordedOffer(
                agent=code,
                offered_ts=start + dt.timedelta(seconds=6 + i),
                ended_ts=start + dt.timedelta(seconds=7 + i),
                result=result,
            )
            for i, (code, result) in enumerate(offered)
        ],
    }
    if waited_in:
        fields["queues"] = waited_in
        fields["enqueue_ts"] = start + dt.timedelta(seconds=5)
        fields["dequeue_ts"] = start + dt.timedelta(seconds=25)
        fields["queue_outcome"] = "answered" if agent else "abandoned"
    if agent:
        fields["agent_connected_ts"] = start + dt.timedelta(seconds=25)
        fields["agent_end_ts"] = start + dt.timedelta(seconds=90)
    record = RecordedContact(**fields)
    with service.db.write() as s:
        (row,) = do_record_contacts(s, world.admin, [record])
        return int(row.id)


# --- contacts -----------------------------------------------------------------------------------------------


def test_an_agent_sees_what_it_handled_or_was_offered_and_where_it_waited(api: Api) -> None:
    """ana serves atencion; luis cobros. Each contact below is in cobros unless it says otherwise."""
    svc, a = api.service, api.a
    never_waited = _record(svc, a, 0, "atencion")  # closed at once: a queue, no membership
    handled = _record(svc, a, 1, "cobros", waited_in=["cobros"], agent="ana")  # no offer recorded
    offered = _record(
        svc, a, 2, "cobros", waited_in=["cobros"], agent="luis", offered=(("ana", "rejected"), ("luis", "accepted"))
    )
    overflowed = _record(svc, a, 3, "cobros", waited_in=["cobros", "atencion"], agent="luis")
    stranger = _record(svc, a, 4, "cobros", waited_in=["cobros"], agent="luis", offered=(("luis", "accepted"),))
    unassigned = _record(svc, a, 5, "cobros", waited_in=["cobros"])  # abandoned: no agent, no offer
    mine = {never_waited, handled, offered, overflowed}

    ana = api.client("agent")
    for cid in mine:
        assert ana.get(f"/api/contacts/{cid}").status_code == 200, cid
    for cid in (stranger, unassigned):
        assert ana.get(f"/api/contacts/{cid}").status_code == 403, cid
    assert {c["id"] for c in ana.get("/api/contacts").json()["items"]} == mine
    luis = api.client("agent2")
    assert {c["id"] for c in luis.get("/api/contacts").json()["items"]} == {
        handled,
        offered,
        overflowed,
        stranger,
        unassigned,
    }

    # an agent-role user with no agent profile sees none of them (nothing is "its own")
    nobody = Actor(tenant_id=a.tenant_id, role="agent")
    with svc.db.read() as s:
        served = access.served_queues(s, nobody)
        for cid in [*mine, stranger, unassigned]:
            assert not access.can_see_contact(s, nobody, served, s.get_one(t.Contact, cid)), cid
        assert list(s.scalars(select(t.Contact.id).where(access.contacts_visible(nobody, served)))) == []


def test_contact_rules_never_cross_tenants_and_supervisors_see_all_of_theirs(api: Api) -> None:
    svc, a = api.service, api.a
    cids = {_record(svc, a, 0, "cobros", waited_in=["cobros"], agent="luis"), _record(svc, a, 1, "atencion")}
    supervisor = Actor(tenant_id=a.tenant_id, role="supervisor")
    other = Actor(tenant_id=api.b.tenant_id, role="admin")
    with svc.db.read() as s:
        for cid in cids:
            row = s.get_one(t.Contact, cid)
            assert access.can_see_contact(s, supervisor, None, row)
            assert not access.can_see_contact(s, other, None, row)  # never another tenant's, whatever the role
        condition = access.contacts_visible(supervisor, None)  # a SQL condition, the tenant filtered beside it
        assert set(s.scalars(select(t.Contact.id).where(t.Contact.tenant_id == a.tenant_id, condition))) == cids


# --- cases --------------------------------------------------------------------------------------------------


def test_case_visibility_by_owner_queue_and_unassigned(api: Api) -> None:
    sup = api.client("supervisor")

    def case(subject: str, **refs: str) -> str:
        resp = sup.post("/api/cases", json={"subject": subject, **refs})
        assert resp.status_code == 201, resp.text
        return str(resp.json()["reference"])

    own_elsewhere = case("ana's, in cobros", owner="ana", queue="cobros")
    own_no_queue = case("ana's, no queue", owner="ana")
    in_queue = case("atencion's", queue="atencion")
    unassigned = case("nobody's")
    luis_no_queue = case("luis', no queue", owner="luis")
    cobros_unowned = case("cobros', no owner", queue="cobros")
    everything = {own_elsewhere, own_no_queue, in_queue, unassigned, luis_no_queue, cobros_unowned}

    ana = api.client("agent")
    listed = {c["reference"] for c in ana.get("/api/cases").json()["items"]}
    assert listed == {own_elsewhere, own_no_queue, in_queue, unassigned}
    for ref in everything:
        assert ana.get(f"/api/cases/{ref}").status_code == (200 if ref in listed else 403), ref
    assert {c["reference"] for c in sup.get("/api/cases").json()["items"]} == everything
    for ref in everything:
        assert sup.get(f"/api/cases/{ref}").status_code == 200, ref

    # an agent-role user with no agent profile: only unassigned cases
    nobody = Actor(tenant_id=api.a.tenant_id, role="agent")
    supervisor = Actor(tenant_id=api.a.tenant_id, role="supervisor")
    with api.service.db.read() as s:
        refs = select(t.Case.reference).where(t.Case.tenant_id == api.a.tenant_id)
        assert set(s.scalars(refs.where(access.cases_visible(nobody, frozenset())))) == {unassigned}
        assert set(s.scalars(refs.where(access.cases_visible(supervisor, None)))) == everything
        for row in s.scalars(select(t.Case).where(t.Case.tenant_id == api.a.tenant_id)):
            assert access.can_see_case(nobody, frozenset(), row) == (row.reference == unassigned), row.reference


def test_case_rules_for_agents_with_no_profile_and_supervisors() -> None:
    def case(owner: int | None, queue: int | None) -> t.Case:
        return t.Case(tenant_id=1, reference="K7M-42Q", owner_agent_id=owner, queue_id=queue)

    nobody = Actor(tenant_id=1, role="agent")  # no agent profile
    assert not access.can_see_case(nobody, frozenset({1}), case(None, 2))  # no owner is not "its own"
    assert not access.can_see_case(Actor(tenant_id=1, role="agent", agent_id=5), frozenset({1}), case(6, None))
    supervisor = Actor(tenant_id=1, role="supervisor")
    for owner, queue in ((6, 2), (None, 2), (6, None), (None, None)):
        assert access.can_see_case(supervisor, None, case(owner, queue))
        assert access.access_case(supervisor, None, case(owner, queue), "K7M-42Q").queue_id == queue


# --- events -------------------------------------------------------------------------------------------------


def test_events_an_agent_without_profile_or_user_does_not_see() -> None:
    def event(agent: int | None = None, queue: int | None = None, user: int | None = None) -> EventRecord:
        now = T0
        return EventRecord(
            id=1, tenant_id=1, seq=1, type="contact.held", ts=now, agent_id=agent, queue_id=queue, user_id=user
        )

    no_profile = Actor(tenant_id=1, role="agent", user_id=10)  # an agent-role user with no agent
    assert not access.can_see_event(no_profile, frozenset(), event(queue=2, user=11))  # nobody's agent event
    assert access.can_see_event(no_profile, frozenset(), event(user=10))
    no_user = Actor(tenant_id=1, role="agent", agent_id=5, token_id=3)  # a token with no user behind it
    assert not access.can_see_event(no_user, frozenset({1}), event(agent=6, queue=2))  # nobody's user event
    assert access.can_see_event(no_user, frozenset({1}), event(agent=5))


# --- customers ----------------------------------------------------------------------------------------------


def test_customer_fields_without_tenant_settings_and_every_refused_field_named(api: Api) -> None:
    agent = Actor(tenant_id=1, role="agent", agent_id=5)
    assert access.supervisor_only_customer_fields(None) == set(access.SUPERVISOR_ONLY_CUSTOMER_FIELDS)
    with pytest.raises(Forbidden):
        access.check_customer_fields(agent, None, {"segment"})
    access.check_customer_fields(agent, None, {"name"})

    created = api.client("supervisor").post("/api/customers", json={"name": "Marta"}).json()
    resp = api.client("agent").patch(f"/api/customers/{created['id']}", json={"segment": "premium", "owner": "ana"})
    assert resp.status_code == 403, resp.text
    assert sorted(e["field"] for e in resp.json()["errors"]) == ["owner", "segment"]
    named = resp.json()["detail"].removeprefix("an agent cannot change ")
    assert sorted(named.split(", ")) == ["owner", "segment"], resp.json()["detail"]


# --- the row lock of live actions (PostgreSQL: SQLite writers are serial anyway) ------------------------------


@pytest.fixture
def pg_service(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Service]:
    url: str = request.getfixturevalue("pg_url")
    _truncate_pg(url)
    svc = make_service(url, tmp_path, FakeClock())
    yield svc
    svc.close()


def test_a_live_action_locks_the_contact_and_a_read_does_not_wait(pg_service: Service) -> None:
    """The lock is FOR NO KEY UPDATE: a foreign key check on the contact (FOR KEY SHARE, what inserting an
    offer, a membership or an event of the contact takes) does not wait for it."""
    world = make_world(pg_service, "norte")
    cid = _record(pg_service, world, 0, "atencion", waited_in=["atencion"])
    supervisor = Actor(tenant_id=world.tenant_id, role="supervisor")

    def impatient(session: Session) -> Session:
        session.execute(text("SET LOCAL lock_timeout = '300ms'"))
        return session

    with pg_service.db.write() as holder:
        stale = holder.get_one(t.Contact, cid)  # loaded before another writer changes it
        priority = stale.priority
        done = threading.Event()

        def change() -> None:
            with pg_service.db.write() as other:
                other.get_one(t.Contact, cid).priority = priority + 3
            done.set()

        changer = threading.Thread(target=change)
        changer.start()
        changer.join(10)
        assert done.is_set()
        row = access.access_contact(holder, supervisor, cid, lock=True)
        assert row.priority == priority + 3  # locked, and read again: not the copy loaded before
        with pg_service.db.write() as waiting:  # another live action waits for the lock
            with pytest.raises(OperationalError, match="lock"):
                access.access_contact(impatient(waiting), supervisor, cid, lock=True)
            waiting.rollback()
        with pg_service.db.read() as reader:  # a read takes no lock
            assert access.access_contact(impatient(reader), supervisor, cid).id == cid
        with pg_service.db.write() as child:  # a row pointing at the contact does not wait either
            impatient(child).execute(text("SELECT id FROM contacts WHERE id = :id FOR KEY SHARE"), {"id": cid})

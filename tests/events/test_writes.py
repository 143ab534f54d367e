"""Cheaper writes (issue 10): on PostgreSQL a transaction's events are numbered by one statement sent with
its COMMIT, so the tenant's counter row is free during the transaction's body; numbers stay gapless and
in commit order under concurrent writers, and a reader polling `seq > n` never misses one."""

from __future__ import annotations

import datetime as dt
import threading

import psycopg
import pytest
from sqlalchemy import select

from centralita.contacts.live import do_create_live_contact
from centralita.contacts.schemas import LiveContactCreate
from centralita.core.actor import Actor
from centralita.events.log import append_event, last_seq, read_events
from centralita.service import Service
from centralita.store import tables as t
from tests.factories import make_world

NOW = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)


def test_the_counter_row_is_free_while_a_transaction_works(pg_service: Service, pg_url: str) -> None:
    """Another connection locks the counter row (and bumps it) while a writer that has appended events is
    still in its body: it does not wait; the writer's events are numbered after that bump at commit."""
    tenant = make_world(pg_service, "norte").tenant_id
    with pg_service.db.write() as s:
        append_event(s, tenant, "skill.created", NOW, {"code": "a"})
        s.add(t.Skill(tenant_id=tenant, code="zz", name="Zeta"))
        s.flush()
        append_event(s, tenant, "skill.created", NOW, {"code": "b"})
        with psycopg.connect(pg_url.replace("postgresql+psycopg://", "postgresql://")) as other:
            other.execute("SET lock_timeout = '500ms'")
            before = other.execute("SELECT event_seq FROM tenants WHERE id = %s", (tenant,)).fetchone()
            assert before is not None
            row = other.execute(
                "UPDATE tenants SET event_seq = event_seq + 0 WHERE id = %s RETURNING event_seq", (tenant,)
            ).fetchone()  # lock_timeout: raises if the writer held the row
            other.commit()
            assert row == before
    with pg_service.db.read() as s:
        events = read_events(s, tenant, after_seq=before[0])
        assert [(e.seq, e.data["code"]) for e in events] == [(before[0] + 1, "a"), (before[0] + 2, "b")]
        assert last_seq(s, tenant) == before[0] + 2


def test_concurrent_writers_number_gaplessly_and_a_polling_reader_misses_nothing(service: Service) -> None:
    """On both engines (PostgreSQL runs the writers in parallel; SQLite one after another)."""
    tenant = make_world(service, "norte").tenant_id
    with service.db.read() as s:
        start = last_seq(s, tenant)
    writers, per_writer = 6, 25
    stop = threading.Event()
    seen: list[int] = []
    errors: list[str] = []

    def reader() -> None:
        n = start
        while True:
            done = stop.is_set()  # read once more after the writers are done
            with service.db.read() as s:
                batch = [e.seq for e in read_events(s, tenant, after_seq=n)]
            if batch != list(range(n + 1, n + 1 + len(batch))):
                errors.append(f"after {n} the reader saw {batch[:5]}…")
                return
            seen.extend(batch)
            n = batch[-1] if batch else n
            if done:
                return

    def writer(w: int) -> None:
        for i in range(per_writer):
            with service.db.write() as s:
                for part in range(1 + i % 3):  # 1–3 events per transaction
                    append_event(s, tenant, "skill.created", NOW, {"code": f"w{w}-{i}-{part}"})

    r = threading.Thread(target=reader)
    r.start()
    threads = [threading.Thread(target=writer, args=(w,)) for w in range(writers)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    stop.set()
    r.join(60)
    assert not errors, errors
    total = writers * sum(1 + i % 3 for i in range(per_writer))
    assert seen == list(range(start + 1, start + 1 + total))
    with service.db.read() as s:
        events = read_events(s, tenant, after_seq=start, limit=10_000)
        assert last_seq(s, tenant) == start + total
    assert [e.seq for e in events] == seen
    # each transaction's events are contiguous and in the order they were appended
    codes = [e.data["code"] for e in events]
    for k, code in enumerate(codes):
        w, i, part = code.split("-")
        if part != "0":
            assert codes[k - 1] == f"{w}-{i}-{int(part) - 1}"


def test_a_memberships_arrival_order_is_its_queued_events_number(service: Service) -> None:
    """`number_into` stores the seq of `contact.queued` in the membership by the numbering statement(s)."""
    world = make_world(service, "norte")
    actor = Actor(tenant_id=world.tenant_id, role="admin", username="setup", clock=service.clock)
    for k in range(3):
        with service.db.write() as s:
            row = do_create_live_contact(
                s, actor, LiveContactCreate.model_validate({"channel": "chat", "from": f"c{k}", "queue": "atencion"})
            )
            membership = s.scalars(select(t.ContactMembership).where(t.ContactMembership.contact_id == row.id)).one()
        with service.db.read() as s:
            stored = s.scalars(select(t.ContactMembership).where(t.ContactMembership.contact_id == row.id)).one()
            queued = [e for e in read_events(s, world.tenant_id, types=["contact.queued"]) if e.contact_id == row.id]
        assert len(queued) == 1
        assert stored.arrival_seq == queued[0].seq == membership.arrival_seq


def test_events_of_an_unknown_tenant_roll_the_whole_transaction_back(service: Service) -> None:
    """Numbering fails before anything commits, also when the COMMIT travels with the numbering."""
    tenant = make_world(service, "norte").tenant_id
    with pytest.raises(Exception), service.db.write() as s:  # noqa: B017 — the driver's error
        s.add(t.Skill(tenant_id=tenant, code="fantasma", name="Fantasma"))
        append_event(s, tenant + 1000, "skill.created", NOW, {"code": "fantasma"})
    with service.db.read() as s:
        assert s.scalars(select(t.Skill).where(t.Skill.code == "fantasma")).all() == []
        assert all(e.data.get("code") != "fantasma" for e in read_events(s, tenant, limit=10_000))

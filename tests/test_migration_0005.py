"""Migration 0005 converts the live routing state the old code kept in `contacts.routing` (JSON) and
`contacts.queues` (codes) into membership and offer rows, on a database at revision 0004 with rows in
every shape the old code wrote; a router rebuilt from the converted store has the same waiting contacts."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, select, text

from centralita.contacts.queries import open_memberships, open_offers, queue_codes
from centralita.dispatch.snapshot import load_tenant
from centralita.store import migrate
from centralita.store import tables as t
from centralita.store.db import Database
from tests.conftest import PG_ADMIN_URL

T0 = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def old_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    name = f"centralita_old_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _ts(seconds: float) -> str:
    return (T0 + dt.timedelta(seconds=seconds)).isoformat()


def _old_rows(db: Database) -> dict[str, int]:
    """A tenant, three queues, two agents and one contact of each shape the old code stored."""
    e = db.engine
    js = json.dumps
    with e.begin() as c:
        c.execute(
            text(
                "INSERT INTO tenants (id, slug, name, timezone, language, country, event_seq, settings, created_at)"
                " VALUES (1, 'norte', 'Norte', 'Europe/Madrid', 'es', 'ES', 100, '{}', :now)"
            ),
            {"now": T0},
        )
        for qid, code in ((1, "atencion"), (2, "cobros"), (3, "ventas")):
            c.execute(
                text(
                    "INSERT INTO queues (id, tenant_id, code, name, channels, required_skills, segment_priority,"
                    " sl_threshold_s, sl_percent, priority_mode, aging_s_per_point, agent_selection, order_by,"
                    " offer_timeout_s, default_aht_s, active) VALUES (:id, 1, :code, :code, '[]', '{}', '{}', 20,"
                    " 80, 'strict', 60, 'longest_idle', '[]', 20, 300, :active)"
                ),
                {"id": qid, "code": code, "active": True},
            )
        for aid, code in ((1, "ana"), (2, "luis")):
            c.execute(
                text(
                    "INSERT INTO agents (id, tenant_id, code, name, languages, capacity, exclusive_channels,"
                    " acw_timeout_s, acw_counts_as_idle, max_missed_offers, call_selection, attributes, state, active)"
                    " VALUES (:id, 1, :code, :code, '[]', '{\"chat\": 1}', '[]', 0, :f, 1, 'queue_rank', '{}',"
                    " 'available', :t)"
                ),
                {"id": aid, "code": code, "f": False, "t": True},
            )
        rows = {
            # queued, ringing ana (the `offers` list), waiting in atencion then cobros after an overflow (add)
            "ringing": {
                "status": "queued",
                "queue_id": 1,
                "queues": js(["atencion", "cobros"]),
                "routing": js(
                    {
                        "arrival_seq": 41,
                        "memberships": [
                            {
                                "queue_id": 1,
                                "enqueue_ts": T0.timestamp(),
                                "priority": 2,
                                "agent_ids": None,
                                "after_steps": "any_agent",
                                "overflowed": True,
                            },
                            {
                                "queue_id": 2,
                                "enqueue_ts": T0.timestamp() + 30,
                                "priority": 2,
                                "agent_ids": None,
                                "after_steps": "any_agent",
                                "age_adjust_s": 30.0,
                                "overflowed": False,
                            },
                        ],
                        "offers": [
                            {
                                "agent_id": 1,
                                "queue_id": 2,
                                "offered_ts": T0.timestamp() + 31,
                                "timeout_at": T0.timestamp() + 51,
                            }
                        ],
                        "overflowed_from": [1],
                        "outcome": None,
                    }
                ),
            },
            # queued in the first live shape: a single `offer`, for luis only (a transfer to an agent)
            "legacy_offer": {
                "status": "queued",
                "queue_id": 1,
                "queues": js(["atencion"]),
                "routing": js(
                    {
                        "arrival_seq": 42,
                        "memberships": [
                            {
                                "queue_id": 1,
                                "enqueue_ts": T0.timestamp() + 5,
                                "priority": 0,
                                "agent_ids": [2],
                                "after_steps": "keep_last",
                            }
                        ],
                        "offer": {
                            "agent_id": 2,
                            "queue_id": 1,
                            "offered_ts": T0.timestamp() + 6,
                            "timeout_at": T0.timestamp() + 26,
                        },
                    }
                ),
            },
            # queued, moved by an overflow from ventas to cobros: ventas is in `queues` but left
            "moved": {
                "status": "queued",
                "queue_id": 3,
                "queues": js(["ventas", "cobros"]),
                "routing": js(
                    {
                        "arrival_seq": 43,
                        "memberships": [
                            {
                                "queue_id": 2,
                                "enqueue_ts": T0.timestamp() + 60,
                                "priority": 1,
                                "agent_ids": None,
                                "after_steps": "any_agent",
                                "age_adjust_s": 50.0,
                                "overflowed": False,
                            }
                        ],
                        "offers": [],
                        "overflowed_from": [3],
                    }
                ),
            },
            # closed at arrival: the queue was full
            "full": {"status": "closed", "queue_id": 1, "queues": "[]", "routing": js({"outcome": "queue_full"})},
            # answered and wrapped up
            "answered": {
                "status": "closed",
                "queue_id": 1,
                "queues": js(["atencion"]),
                "routing": js(
                    {
                        "arrival_seq": 30,
                        "memberships": [{"queue_id": 1, "enqueue_ts": T0.timestamp() - 100, "priority": 0}],
                        "offers": [],
                    }
                ),
            },
            # an imported past contact: codes in `queues`, no routing at all
            "recorded": {"status": "closed", "queue_id": 2, "queues": js(["cobros", "ventas"]), "routing": None},
        }
        ids = {}
        for i, (name, row) in enumerate(rows.items(), start=1):
            c.execute(
                text(
                    "INSERT INTO contacts (id, tenant_id, channel, direction, initiation_method, status, language,"
                    " self_service, queue_id, queues, priority, initiation_ts, enqueue_ts, dequeue_ts, queue_outcome,"
                    " holds, attributes, routing) VALUES (:id, 1, 'chat', 'inbound', 'API', :status, 'es', :f,"
                    " :queue_id, :queues, 0, :init, :enq, :deq, :qout, '[]', '{}', :routing)"
                ),
                {
                    "id": i,
                    "status": row["status"],
                    "f": False,
                    "queue_id": row["queue_id"],
                    "queues": row["queues"],
                    "init": T0 - dt.timedelta(seconds=200),
                    "enq": T0 - dt.timedelta(seconds=100) if name in ("answered", "recorded") else T0,
                    "deq": T0 - dt.timedelta(seconds=90) if name in ("answered", "recorded") else None,
                    "qout": {"answered": "answered", "recorded": "other:flow_disconnect"}.get(name),
                    "routing": row["routing"],
                },
            )
            ids[name] = i
        c.execute(
            text(
                "INSERT INTO cases (id, tenant_id, reference, subject, status, priority, created_at, updated_at)"
                " VALUES (1, 1, 'K7M-42Q', 'Tarjeta', 'open', 0, :now, :now)"
            ),
            {"now": T0},
        )
        c.execute(text("INSERT INTO case_contacts (case_id, contact_id) VALUES (1, :cid)"), {"cid": ids["answered"]})
    return ids


def test_old_routing_json_becomes_rows(old_db: str) -> None:
    db = Database(old_db)
    try:
        migrate.upgrade(db.engine, "0004")
        ids = _old_rows(db)
        migrate.upgrade(db.engine)
        columns = {c["name"] for c in inspect(db.engine).get_columns("contacts")}
        assert "routing" not in columns and "queues" not in columns and "outcome" in columns
        with db.read() as s:
            ringing = open_memberships(s, ids["ringing"])
            assert [(m.queue_id, m.overflowed, m.arrival_seq, m.priority, m.age_adjust_s) for m in ringing] == [
                (1, True, 41, 2, 0.0),
                (2, False, 41, 2, 30.0),
            ]
            assert ringing[1].joined_at == T0 + dt.timedelta(seconds=30)
            (offer,) = open_offers(s, ids["ringing"])
            assert (offer.agent_id, offer.queue_id, offer.timeout_at) == (1, 2, T0 + dt.timedelta(seconds=51))

            (legacy,) = open_memberships(s, ids["legacy_offer"])
            assert legacy.for_agent_id == 2 and legacy.arrival_seq == 42
            assert [(o.agent_id, o.queue_id) for o in open_offers(s, ids["legacy_offer"])] == [(2, 1)]

            assert [m.queue_id for m in open_memberships(s, ids["moved"])] == [2]
            assert queue_codes(s, ids["moved"]) == ["cobros", "ventas"]  # ventas: left, moved on
            moved_rows = s.scalars(select(t.ContactMembership).where(t.ContactMembership.contact_id == ids["moved"]))
            assert {m.queue_id: m.left_why for m in moved_rows} == {2: None, 3: "moved"}

            assert s.get_one(t.Contact, ids["full"]).outcome == "queue_full"
            assert queue_codes(s, ids["full"]) == []
            (answered,) = s.scalars(
                select(t.ContactMembership).where(t.ContactMembership.contact_id == ids["answered"])
            ).all()
            assert answered.left_why == "answered" and answered.left_at == T0 - dt.timedelta(seconds=90)
            assert queue_codes(s, ids["recorded"]) == ["cobros", "ventas"]
            recorded = s.scalars(select(t.ContactMembership).where(t.ContactMembership.contact_id == ids["recorded"]))
            assert {m.left_why for m in recorded} == {"other:flow_disconnect"}  # an outcome as long as imports allow
            # rows that refer to contacts survive (a table rebuild would have cascaded their deletion)
            links = s.scalars(select(t.CaseContact)).all()
            assert [(c.case_id, c.contact_id) for c in links] == [(1, ids["answered"])]
            assert open_memberships(s, ids["recorded"]) == []

            snap = load_tenant(s, 1, T0 + dt.timedelta(seconds=60))
        waiting = {w.id: w for w in snap.waiting}
        assert set(waiting) == {ids["ringing"], ids["legacy_offer"], ids["moved"]}
        assert [w.arrival_seq for w in snap.waiting] == [41, 42, 43]  # FIFO order kept
        assert waiting[ids["moved"]].overflowed_from == {3}
        assert waiting[ids["ringing"]].overflowed_from == {1}
        legacy_m = waiting[ids["legacy_offer"]].memberships[0]
        assert legacy_m.after_steps == "keep_last" and legacy_m.steps[0].requirement.agent_ids == frozenset({2})
        assert sorted(snap.open_offers) == [(ids["ringing"], 1), (ids["legacy_offer"], 2)]
    finally:
        db.dispose()

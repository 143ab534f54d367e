"""What the business reports add to the fact table, read from the store (SQLite and PostgreSQL): the reason
group, the answering agent's level for the queue's required skills, and the contact's linked case."""

from __future__ import annotations

import datetime as dt

from centralita.analytics.facts import load_facts, skill_levels, to_us
from centralita.analytics.queries import DateRange
from centralita.analytics.reports import tenant_report
from centralita.contacts.history import RecordedContact, do_record_contact
from centralita.core.clock import FakeClock
from centralita.crm.actions import do_link_case_contact, do_open_case, do_update_case
from centralita.crm.schemas import CaseCreate, CaseUpdate
from centralita.queues.actions import do_create_reason, do_create_reason_group
from centralita.queues.schemas import ReasonCreate, ReasonGroupCreate
from centralita.service import Service
from centralita.store import tables as t
from tests.factories import make_world

UTC = dt.UTC
DAY0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_reason_group_skill_level_and_case_in_the_facts(service: Service, clock: FakeClock) -> None:
    world = make_world(service, "norte")  # queue cobros requires banca 3; ana has banca 4, luis banca 2
    actor = world.admin
    with service.db.write() as s:
        do_create_reason_group(s, actor, ReasonGroupCreate(code="reclamaciones", name_es="Reclamaciones", name_en="C"))
        do_create_reason(s, actor, ReasonCreate(code="reclamacion", group="reclamaciones", name_es="R", name_en="C"))
        ids = []
        for i, (agent, queue) in enumerate((("ana", "cobros"), ("luis", "cobros"), ("ana", "atencion"))):
            start = DAY0 + dt.timedelta(minutes=10 * i)
            contact = do_record_contact(
                s,
                actor,
                RecordedContact(
                    channel="voice",
                    reason="reclamacion",
                    queue=queue,
                    agent=agent,
                    initiation_ts=start,
                    enqueue_ts=start,
                    dequeue_ts=start + dt.timedelta(seconds=5),
                    queue_outcome="answered",
                    agent_connected_ts=start + dt.timedelta(seconds=5),
                    agent_end_ts=start + dt.timedelta(seconds=65),
                    disconnect_ts=start + dt.timedelta(seconds=65),
                ),
            )
            ids.append(contact.id)
        clock.set(DAY0 + dt.timedelta(hours=1))
        case = do_open_case(s, actor, CaseCreate(subject="Comisiones", contact_id=ids[0]))
        do_link_case_contact(s, actor, case, ids[1])
        case_id = case.id
    with service.db.write() as s:
        clock.set(DAY0 + dt.timedelta(days=2, hours=1))
        stored = s.get(t.Case, case_id)
        assert stored is not None
        do_update_case(s, actor, stored, CaseUpdate(status="closed"))
    with service.db.read() as s:
        levels = {(r["agent"], r["queue"]): r["agent_skill_level"] for r in skill_levels(s, world.tenant_id).to_dicts()}
        assert levels == {("ana", "cobros"): 4, ("luis", "cobros"): 2}
        facts = load_facts(s, world.tenant_id, DAY0 - dt.timedelta(days=1), DAY0 + dt.timedelta(days=1)).sort("id")
        assert facts["reason_group"].to_list() == ["reclamaciones"] * 3
        assert facts["agent_skill_level"].to_list() == [4, 2, None]  # atencion requires no skill
        assert facts["case_id"].to_list() == [case_id, case_id, None]
        opened = to_us(DAY0 + dt.timedelta(hours=1))
        assert facts["case_opened_us"].to_list()[:2] == [opened, opened]
        assert facts["case_closed_us"].to_list()[0] - opened == 2 * 86400 * 1_000_000
        tenant = s.get(t.Tenant, world.tenant_id)
        assert tenant is not None
        report = tenant_report(s, tenant, "complaints", DateRange(DAY0.date(), DAY0.date(), "UTC"))
        (week,) = report.rows
        assert (week["complaints"], week["cases"], week["closed"], week["mean_resolution_s"]) == (3, 1, 1, 2 * 86400)

"""Queues, hours calendars and contact reasons."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter
from sqlalchemy.orm import Session

from centralita.agents.queries import queue_ids_of_agent
from centralita.api.auth import AdminActor, AgentActor, ServiceDep
from centralita.contacts import actions, queries
from centralita.contacts.schemas import (
    HoursCreate,
    HoursPublic,
    HoursStatus,
    HoursUpdate,
    QueueCreate,
    QueuePublic,
    QueueUpdate,
    ReasonCreate,
    ReasonGroupCreate,
    ReasonGroupPublic,
    ReasonPublic,
    ReasonUpdate,
)
from centralita.core.actor import Actor
from centralita.core.errors import Forbidden, InvalidInput
from centralita.core.i18n import _
from centralita.store import tables as t

router = APIRouter(tags=["queues, hours and reasons"])


def _queue(s: Session, actor: Actor, code: str) -> t.Queue:
    return queries.code_or_not_found(s, t.Queue, actor.tenant_id, code, "queue")


@router.get("/queues")
def list_queues(actor: AgentActor, svc: ServiceDep) -> list[QueuePublic]:
    """Supervisors see every queue; an agent sees the queues it serves."""
    with svc.db.read() as s:
        rows = queries.list_by_code(s, t.Queue, actor.tenant_id)
        if not actor.at_least("supervisor"):
            mine = set(queue_ids_of_agent(s, actor.agent_id)) if actor.agent_id else set()
            rows = [q for q in rows if q.id in mine]
        return [queries.queue_public(s, q) for q in rows]


@router.post("/queues", status_code=201)
def create_queue(body: QueueCreate, actor: AdminActor, svc: ServiceDep) -> QueuePublic:
    with svc.db.write() as s:
        return queries.queue_public(s, actions.do_create_queue(s, actor, body))


@router.get("/queues/{code}")
def get_queue(code: str, actor: AgentActor, svc: ServiceDep) -> QueuePublic:
    with svc.db.read() as s:
        row = _queue(s, actor, code)
        if not actor.at_least("supervisor") and row.id not in (
            queue_ids_of_agent(s, actor.agent_id) if actor.agent_id else []
        ):
            raise Forbidden(_("queue {code!r} is not one of yours", code=code))
        return queries.queue_public(s, row)


@router.patch("/queues/{code}")
def update_queue(code: str, body: QueueUpdate, actor: AdminActor, svc: ServiceDep) -> QueuePublic:
    with svc.db.write() as s:
        return queries.queue_public(s, actions.do_update_queue(s, actor, _queue(s, actor, code), body))


@router.delete("/queues/{code}", status_code=204)
def delete_queue(code: str, actor: AdminActor, svc: ServiceDep) -> None:
    with svc.db.write() as s:
        actions.do_delete_queue(s, actor, _queue(s, actor, code))


def _hours(s: Session, actor: Actor, code: str) -> t.HoursCalendar:
    return queries.code_or_not_found(s, t.HoursCalendar, actor.tenant_id, code, "hours calendar")


@router.get("/hours")
def list_hours(actor: AgentActor, svc: ServiceDep) -> list[HoursPublic]:
    with svc.db.read() as s:
        return [HoursPublic.model_validate(r) for r in queries.list_by_code(s, t.HoursCalendar, actor.tenant_id)]


@router.post("/hours", status_code=201)
def create_hours(body: HoursCreate, actor: AdminActor, svc: ServiceDep) -> HoursPublic:
    with svc.db.write() as s:
        return HoursPublic.model_validate(actions.do_create_hours(s, actor, body))


@router.get("/hours/{code}")
def get_hours(code: str, actor: AgentActor, svc: ServiceDep) -> HoursPublic:
    with svc.db.read() as s:
        return HoursPublic.model_validate(_hours(s, actor, code))


@router.get("/hours/{code}/status")
def hours_status(code: str, actor: AgentActor, svc: ServiceDep, at: dt.datetime | None = None) -> HoursStatus:
    """`open`, `closed` or `holiday` now (or at `at`, an ISO instant with offset)."""
    when = at or svc.clock.now()
    if when.tzinfo is None:
        raise InvalidInput.field("at", _("give an offset or Z (e.g. 2026-12-25T10:00:00+01:00)"))
    with svc.db.read() as s:
        row = _hours(s, actor, code)
        return HoursStatus(code=row.code, at=when, status=queries.hours_status_of(row, when))


@router.patch("/hours/{code}")
def update_hours(code: str, body: HoursUpdate, actor: AdminActor, svc: ServiceDep) -> HoursPublic:
    with svc.db.write() as s:
        return HoursPublic.model_validate(actions.do_update_hours(s, actor, _hours(s, actor, code), body))


@router.delete("/hours/{code}", status_code=204)
def delete_hours(code: str, actor: AdminActor, svc: ServiceDep) -> None:
    with svc.db.write() as s:
        actions.do_delete_hours(s, actor, _hours(s, actor, code))


@router.get("/reason-groups")
def list_reason_groups(actor: AgentActor, svc: ServiceDep) -> list[ReasonGroupPublic]:
    with svc.db.read() as s:
        return [ReasonGroupPublic.model_validate(r) for r in queries.list_by_code(s, t.ReasonGroup, actor.tenant_id)]


@router.post("/reason-groups", status_code=201)
def create_reason_group(body: ReasonGroupCreate, actor: AdminActor, svc: ServiceDep) -> ReasonGroupPublic:
    with svc.db.write() as s:
        return ReasonGroupPublic.model_validate(actions.do_create_reason_group(s, actor, body))


def _reason(s: Session, actor: Actor, code: str) -> t.Reason:
    return queries.code_or_not_found(s, t.Reason, actor.tenant_id, code, "reason")


@router.get("/reasons")
def list_reasons(actor: AgentActor, svc: ServiceDep, include_inactive: bool = False) -> list[ReasonPublic]:
    with svc.db.read() as s:
        return [queries.reason_public(s, r) for r in queries.list_reasons(s, actor.tenant_id, include_inactive)]


@router.post("/reasons", status_code=201)
def create_reason(body: ReasonCreate, actor: AdminActor, svc: ServiceDep) -> ReasonPublic:
    with svc.db.write() as s:
        return queries.reason_public(s, actions.do_create_reason(s, actor, body))


@router.get("/reasons/{code}")
def get_reason(code: str, actor: AgentActor, svc: ServiceDep) -> ReasonPublic:
    with svc.db.read() as s:
        return queries.reason_public(s, _reason(s, actor, code))


@router.patch("/reasons/{code}")
def update_reason(code: str, body: ReasonUpdate, actor: AdminActor, svc: ServiceDep) -> ReasonPublic:
    with svc.db.write() as s:
        return queries.reason_public(s, actions.do_update_reason(s, actor, _reason(s, actor, code), body))


@router.delete("/reasons/{code}", status_code=204)
def delete_reason(code: str, actor: AdminActor, svc: ServiceDep) -> None:
    with svc.db.write() as s:
        actions.do_delete_reason(s, actor, _reason(s, actor, code))

"""Queues (with their live figures: `GET /api/queues/stats`, `GET /api/queues/{code}/stats`, from the routing
runner; today's per interval: `GET /api/queues/today`), hours calendars and contact reasons. `/queues/stats` and
`/queues/today` are declared before `/queues/{code}`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter
from sqlalchemy.orm import Session

from centralita import access
from centralita.analytics.today import Today, today
from centralita.api.auth import AdminActor, AgentActor, ServiceDep, SupervisorActor
from centralita.api.openapi import problem_response
from centralita.core.actor import Actor
from centralita.core.errors import InvalidInput, Unavailable
from centralita.core.i18n import _
from centralita.queues import actions, queries
from centralita.queues.schemas import (
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
from centralita.service import Service
from centralita.store import tables as t
from centralita.store.lookup import code_or_not_found, list_by_code

router = APIRouter(tags=["queues, hours and reasons"])


def _queue(s: Session, actor: Actor, code: str) -> t.Queue:
    return code_or_not_found(s, t.Queue, actor.tenant_id, code, "queue")


@router.get("/queues")
def list_queues(actor: AgentActor, svc: ServiceDep) -> list[QueuePublic]:
    """Supervisors see every queue; an agent sees the queues it serves."""
    with svc.db.read() as s:
        rows = list_by_code(s, t.Queue, actor.tenant_id)
        served = access.served_queues(s, actor)
        rows = [q for q in rows if access.can_see_queue(actor, served, q.id)]
        return [queries.queue_public(s, q) for q in rows]


def _stats(svc: Service, actor: Actor, queue_ids: set[int] | None) -> list[dict[str, Any]]:
    if svc.dispatch is None or not (svc.dispatch.is_leader or svc.dispatch.hears_leader):
        raise Unavailable(_("live queue statistics come from the routing process; this one does not route"))
    return svc.dispatch.queue_stats(actor.tenant_id, queue_ids)


@router.get("/queues/stats", responses={503: problem_response("This process does not route")})
def all_queue_stats(actor: AgentActor, svc: ServiceDep) -> list[dict[str, Any]]:
    """Live figures per queue: waiting, oldest wait, EWT (null: nobody staffed), agents staffed / available /
    busy / in wrap-up, rolling ASA, AHT, and service level over the last 15 and 30 minutes. Agents get
    the queues they serve."""
    with svc.db.read() as s:
        served = access.served_queues(s, actor)
    return _stats(svc, actor, None if served is None else set(served))


@router.get("/queues/today")
def queues_today(actor: SupervisorActor, svc: ServiceDep) -> Today:
    """Today's figures since midnight in the contact center's time zone, per queue and 15-minute interval:
    offered, answered, abandoned, answered within the threshold, service level (null: none answered or
    abandoned), longest and average wait. For the wallboard (one query; issue 13's analytics engine will
    compute these)."""
    with svc.db.read() as s:
        return today(s, actor.tenant_id, svc.clock.now())


@router.get("/queues/{code}/stats", responses={503: problem_response("This process does not route")})
def queue_stats(code: str, actor: AgentActor, svc: ServiceDep) -> dict[str, Any]:
    with svc.db.read() as s:
        queue = code_or_not_found(s, t.Queue, actor.tenant_id, code, "queue")
        access.check_sees_queue(actor, access.served_queues(s, actor), queue)
    found = _stats(svc, actor, {queue.id})
    if not found:
        raise Unavailable(_("queue {code!r} is not routed yet; try again in a moment", code=code))
    return found[0]


@router.post("/queues", status_code=201)
def create_queue(body: QueueCreate, actor: AdminActor, svc: ServiceDep) -> QueuePublic:
    with svc.db.write() as s:
        return queries.queue_public(s, actions.do_create_queue(s, actor, body))


@router.get("/queues/{code}")
def get_queue(code: str, actor: AgentActor, svc: ServiceDep) -> QueuePublic:
    with svc.db.read() as s:
        row = _queue(s, actor, code)
        access.check_sees_queue(actor, access.served_queues(s, actor), row)
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
    return code_or_not_found(s, t.HoursCalendar, actor.tenant_id, code, "hours calendar")


@router.get("/hours")
def list_hours(actor: AgentActor, svc: ServiceDep) -> list[HoursPublic]:
    with svc.db.read() as s:
        return [HoursPublic.model_validate(r) for r in list_by_code(s, t.HoursCalendar, actor.tenant_id)]


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
        return [ReasonGroupPublic.model_validate(r) for r in list_by_code(s, t.ReasonGroup, actor.tenant_id)]


@router.post("/reason-groups", status_code=201)
def create_reason_group(body: ReasonGroupCreate, actor: AdminActor, svc: ServiceDep) -> ReasonGroupPublic:
    with svc.db.write() as s:
        return ReasonGroupPublic.model_validate(actions.do_create_reason_group(s, actor, body))


def _reason(s: Session, actor: Actor, code: str) -> t.Reason:
    return code_or_not_found(s, t.Reason, actor.tenant_id, code, "reason")


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

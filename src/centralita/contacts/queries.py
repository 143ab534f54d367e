"""Reads for hours, queues, reasons and contacts (search with filters, timeline)."""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeVar

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from centralita.contacts.hours import hours_status
from centralita.contacts.schemas import Overload, QueuePublic, ReasonPublic, SlTarget
from centralita.core.errors import NotFound
from centralita.core.i18n import _
from centralita.events.log import EventRecord
from centralita.store import tables as t

M = TypeVar("M")


def get_by_code(session: Session, model: type[M], tenant_id: int, code: str) -> M | None:
    """The tenant's row of `model` (any table with tenant_id and code) with that code."""
    m: Any = model
    found: M | None = session.scalar(select(m).where(m.tenant_id == tenant_id, m.code == code))
    return found


def code_or_not_found(session: Session, model: type[M], tenant_id: int, code: str, what: str) -> M:
    """Like get_by_code, but a NotFound naming `what` when there is no such row."""
    row = get_by_code(session, model, tenant_id, code)
    if row is None:
        raise NotFound(no_such(what, code))
    return row


def no_such(what: str, code: str) -> str:
    """`no <what> <code!r>`, for the kinds of row callers name (`what`: agent, skill, queue, …)."""
    messages = {
        "agent": lambda: _("no agent {code!r}", code=code),
        "skill": lambda: _("no skill {code!r}", code=code),
        "queue": lambda: _("no queue {code!r}", code=code),
        "hours calendar": lambda: _("no hours calendar {code!r}", code=code),
        "reason": lambda: _("no reason {code!r}", code=code),
    }
    message = messages.get(what)
    return message() if message is not None else _("no {what} {code!r}", what=what, code=code)


def list_by_code(session: Session, model: type[M], tenant_id: int) -> list[M]:
    m: Any = model
    return list(session.scalars(select(m).where(m.tenant_id == tenant_id).order_by(m.code)))


def hours_status_of(row: t.HoursCalendar, when: dt.datetime) -> str:
    return hours_status(row.timezone, row.weekly, row.overrides, when)


def queue_public(session: Session, row: t.Queue) -> QueuePublic:
    hours = session.get(t.HoursCalendar, row.hours_id) if row.hours_id else None
    return QueuePublic(
        id=row.id,
        code=row.code,
        name=row.name,
        channels=list(row.channels),
        required_skills=dict(row.required_skills),
        segment_priority=dict(row.segment_priority),
        sl_target=SlTarget(threshold_s=row.sl_threshold_s, percent=row.sl_percent),
        hours=hours.code if hours else None,
        overflow=row.overflow,
        max_contacts=row.max_contacts,
        priority_mode=row.priority_mode,
        aging_s_per_point=row.aging_s_per_point,
        agent_selection=row.agent_selection,
        order_by=list(row.order_by or []),
        overload=Overload.model_validate(row.overload) if row.overload else None,
        offer_timeout_s=row.offer_timeout_s,
        default_aht_s=row.default_aht_s,
        active=row.active,
    )


def reason_public(session: Session, row: t.Reason) -> ReasonPublic:
    group = session.get(t.ReasonGroup, row.group_id)
    parent = session.get(t.Reason, row.parent_id) if row.parent_id else None
    return ReasonPublic(
        id=row.id,
        code=row.code,
        group=group.code if group else "",
        parent=parent.code if parent else None,
        name_es=row.name_es,
        name_en=row.name_en,
        avoidable=row.avoidable,
        active=row.active,
    )


def list_reasons(session: Session, tenant_id: int, include_inactive: bool = False) -> list[t.Reason]:
    stmt = select(t.Reason).where(t.Reason.tenant_id == tenant_id)
    if not include_inactive:
        stmt = stmt.where(t.Reason.active.is_(True))
    return list(session.scalars(stmt.order_by(t.Reason.group_id, t.Reason.parent_id.is_not(None), t.Reason.code)))


def search_contacts(
    session: Session,
    tenant_id: int,
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    channel: str | None = None,
    queue_id: int | None = None,
    agent_id: int | None = None,
    reason_id: int | None = None,
    segment: str | None = None,
    customer_id: int | None = None,
    status: str | None = None,
    visible_to_agent: tuple[int, list[int]] | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[t.Contact], int]:
    """Contacts by time range [since, until) on initiation, and by any of the filters.

    `visible_to_agent` = (agent id, queue ids the agent serves): an agent sees its own contacts and
    those of its queues, nothing else.
    """
    stmt = select(t.Contact).where(t.Contact.tenant_id == tenant_id)
    if since is not None:
        stmt = stmt.where(t.Contact.initiation_ts >= since)
    if until is not None:
        stmt = stmt.where(t.Contact.initiation_ts < until)
    if channel:
        stmt = stmt.where(t.Contact.channel == channel)
    if queue_id is not None:
        stmt = stmt.where(t.Contact.queue_id == queue_id)
    if agent_id is not None:
        stmt = stmt.where(t.Contact.agent_id == agent_id)
    if reason_id is not None:
        stmt = stmt.where(or_(t.Contact.reason_id == reason_id, t.Contact.sub_reason_id == reason_id))
    if segment:
        stmt = stmt.where(t.Contact.segment == segment)
    if customer_id is not None:
        stmt = stmt.where(t.Contact.customer_id == customer_id)
    if status:
        stmt = stmt.where(t.Contact.status == status)
    if visible_to_agent is not None:
        own, queues = visible_to_agent
        stmt = stmt.where(or_(t.Contact.agent_id == own, t.Contact.queue_id.in_(queues or [-1])))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = list(
        session.scalars(stmt.order_by(t.Contact.initiation_ts.desc(), t.Contact.id.desc()).limit(limit).offset(offset))
    )
    return rows, int(total)


def contact_timeline(session: Session, tenant_id: int, contact_id: int) -> list[EventRecord]:
    rows = session.scalars(
        select(t.Event).where(t.Event.tenant_id == tenant_id, t.Event.contact_id == contact_id).order_by(t.Event.seq)
    )
    return [EventRecord.from_row(r) for r in rows]


def counts(session: Session, tenant_id: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, model in (
        ("customers", t.Customer),
        ("agents", t.Agent),
        ("queues", t.Queue),
        ("reasons", t.Reason),
        ("cases", t.Case),
        ("contacts", t.Contact),
        ("events", t.Event),
    ):
        out[name] = session.scalar(select(func.count()).select_from(model).where(model.tenant_id == tenant_id)) or 0
    return out

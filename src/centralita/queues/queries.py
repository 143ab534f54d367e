"""Reads for queues, hours calendars and contact reasons."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from centralita.queues.hours import hours_status
from centralita.queues.schemas import Overload, QueuePublic, ReasonPublic, SlTarget
from centralita.store import tables as t


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

"""Reading published contact flows: the list, and one flow's text at its current or any version."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from centralita.queues.hours import hours_status
from centralita.store import tables as t

__all__ = ["FlowSummary", "FlowText", "VersionInfo", "figures_now", "flow_text", "list_flows", "versions_of"]


@dataclass(frozen=True)
class FlowSummary:
    code: str
    current_version: int
    versions: int
    updated_at: dt.datetime


@dataclass(frozen=True)
class FlowText:
    code: str
    version: int
    current: bool
    source: str
    checksum: str
    published_at: dt.datetime
    published_by: str


def list_flows(session: Session, tenant_id: int) -> list[FlowSummary]:
    counts = (
        select(t.ContactFlowVersion.flow_id, func.count().label("n"))
        .where(t.ContactFlowVersion.tenant_id == tenant_id)
        .group_by(t.ContactFlowVersion.flow_id)
        .subquery()
    )
    rows = session.execute(
        select(t.ContactFlow, counts.c.n)
        .join(counts, counts.c.flow_id == t.ContactFlow.id)
        .where(t.ContactFlow.tenant_id == tenant_id)
        .order_by(t.ContactFlow.code)
    ).all()
    return [FlowSummary(f.code, f.current_version, int(n), f.updated_at) for f, n in rows]


def flow_text(session: Session, tenant_id: int, code: str, version: int | None = None) -> FlowText | None:
    """A flow's text at `version` (None: the current one); None when there is no such flow or version."""
    row = session.scalar(select(t.ContactFlow).where(t.ContactFlow.tenant_id == tenant_id, t.ContactFlow.code == code))
    if row is None:
        return None
    wanted = row.current_version if version is None else version
    found = session.scalar(
        select(t.ContactFlowVersion).where(
            t.ContactFlowVersion.flow_id == row.id, t.ContactFlowVersion.version == wanted
        )
    )
    if found is None:
        return None
    return FlowText(
        row.code,
        found.version,
        found.version == row.current_version,
        found.source,
        found.checksum,
        found.published_at,
        found.published_by,
    )


@dataclass(frozen=True)
class VersionInfo:
    version: int
    published_at: dt.datetime
    published_by: str


def versions_of(session: Session, tenant_id: int, code: str) -> list[VersionInfo]:
    """Every version of a flow, oldest first."""
    return [
        VersionInfo(v, at, by)
        for v, at, by in session.execute(
            select(t.ContactFlowVersion.version, t.ContactFlowVersion.published_at, t.ContactFlowVersion.published_by)
            .join(t.ContactFlow, t.ContactFlow.id == t.ContactFlowVersion.flow_id)
            .where(t.ContactFlow.tenant_id == tenant_id, t.ContactFlow.code == code)
            .order_by(t.ContactFlowVersion.version)
        ).all()
    ]


def figures_now(session: Session, tenant_id: int, now: dt.datetime) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """What a flow tried out of hours of the live service sees (`flow chat`): per active queue the agents
    whose profile serves it (as staffed and available; nobody waits), its capacity, segment priorities and
    hours; and the state of every hours calendar now."""
    calendars = list(session.scalars(select(t.HoursCalendar).where(t.HoursCalendar.tenant_id == tenant_id)))
    hours_code = {c.id: c.code for c in calendars}
    schedules = {c.code: hours_status(c.timezone, c.weekly, c.overrides, now) for c in calendars}
    staffed = dict(
        session.execute(
            select(t.AgentQueue.queue_id, func.count())
            .join(t.Agent, t.Agent.id == t.AgentQueue.agent_id)
            .where(t.Agent.tenant_id == tenant_id, t.Agent.active)
            .group_by(t.AgentQueue.queue_id)
        ).all()
    )
    queues: dict[str, dict[str, Any]] = {}
    for q in session.scalars(select(t.Queue).where(t.Queue.tenant_id == tenant_id, t.Queue.active)):
        people = int(staffed.get(q.id, 0))
        queues[q.code] = {
            "staffed": people,
            "available": people,
            "waiting": 0,
            "max_contacts": q.max_contacts,
            "segment_priority": dict(q.segment_priority or {}),
            "schedule": hours_code.get(q.hours_id) if q.hours_id is not None else None,
        }
    return queues, schedules

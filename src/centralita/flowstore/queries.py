"""Reading published contact flows: the list, and one flow's text at its current or any version."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from centralita.store import tables as t

__all__ = ["FlowSummary", "FlowText", "flow_text", "list_flows", "versions_of"]


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


def versions_of(session: Session, tenant_id: int, code: str) -> list[tuple[int, dt.datetime, str]]:
    """(version, published at, by) of every version of a flow, oldest first."""
    return [
        (v, at, by)
        for v, at, by in session.execute(
            select(t.ContactFlowVersion.version, t.ContactFlowVersion.published_at, t.ContactFlowVersion.published_by)
            .join(t.ContactFlow, t.ContactFlow.id == t.ContactFlowVersion.flow_id)
            .where(t.ContactFlow.tenant_id == tenant_id, t.ContactFlow.code == code)
            .order_by(t.ContactFlowVersion.version)
        ).all()
    ]

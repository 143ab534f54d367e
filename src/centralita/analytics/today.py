"""Today's figures per queue and 15-minute interval, since midnight in the contact center's time zone
(`GET /api/queues/today`, for the wallboard's charts and "today" service level), from the analytics engine:
the same definitions and variants as every report (metrics.md). Queue figures count where the episode ends
(`dequeue_ts`); `offered` here is the wallboard's arrivals, contacts that joined the queue in the interval
(`enqueue_ts`). A contact counts in the queue it is in last (`contacts.queue_id`).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import replace
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from centralita.analytics.engine import KpiQuery, kpis
from centralita.analytics.facts import load_facts
from centralita.core.metrics_settings import metrics_settings
from centralita.store import tables as t

__all__ = ["INTERVAL_S", "IntervalFigures", "QueueToday", "Today", "midnight", "today"]

INTERVAL_S = 900


class IntervalFigures(BaseModel):
    start: dt.datetime = Field(description="the interval's start, with the contact center's UTC offset")
    offered: int = Field(description="contacts that joined the queue in the interval (arrivals)")
    answered: int
    abandoned: int
    other_exits: int = Field(description="episodes that ended otherwise: overflow, flow exit, callback")
    answered_within_threshold: int
    service_level: float | None = Field(
        description="by the contact center's variant (default: answered within the threshold / (answered + abandoned))"
    )
    max_wait_s: float | None = Field(description="the longest wait of the contacts that left the queue")
    avg_wait_s: float | None = Field(description="the average wait of the contacts that left the queue")


class QueueToday(BaseModel):
    code: str
    name: str
    sl_threshold_s: int
    sl_percent: float
    totals: IntervalFigures = Field(description="the whole day so far (start: midnight)")
    intervals: list[IntervalFigures] = Field(description="every 15 minutes from midnight to the current one")


class Today(BaseModel):
    date: dt.date
    timezone: str
    interval_s: int = INTERVAL_S
    start: dt.datetime = Field(description="midnight, in the contact center's time zone")
    now: dt.datetime
    queues: list[QueueToday]


def midnight(now: dt.datetime, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    """The start of `now`'s day in `zone` (aware, in that zone)."""
    local = now.astimezone(zone)
    return dt.datetime.combine(local.date(), dt.time(0), tzinfo=zone)


def _figures(row: dict[str, Any] | None, start: dt.datetime) -> IntervalFigures:
    row = row or {}
    return IntervalFigures(
        start=start,
        offered=row.get("queued", 0),
        answered=row.get("answered", 0),
        abandoned=row.get("abandoned", 0),
        other_exits=row.get("other_exits", 0),
        answered_within_threshold=row.get("answered_within_threshold", 0),
        service_level=row.get("service_level"),
        max_wait_s=row.get("max_wait_s"),
        avg_wait_s=row.get("average_wait_s"),
    )


def today(s: Session, tenant_id: int, now: dt.datetime) -> Today:
    tenant = s.get_one(t.Tenant, tenant_id)
    zone = zoneinfo.ZoneInfo(tenant.timezone)
    start = midnight(now, zone)
    start_utc = start.astimezone(dt.UTC)
    count = max(1, int((now - start_utc).total_seconds() // INTERVAL_S) + 1)
    end_utc = start_utc + dt.timedelta(seconds=count * INTERVAL_S)
    settings = metrics_settings(tenant.settings)
    facts = load_facts(s, tenant_id, start_utc, end_utc)
    query = KpiQuery(start_utc, end_utc, tenant.timezone, by=("queue",), families=("queue", "arrivals"))
    totals = {r["queue"]: r for r in kpis(facts, query, settings)}
    per_interval: dict[tuple[str, int], dict[str, Any]] = {}
    for r in kpis(facts, replace(query, interval="15m"), settings):
        at = dt.datetime.fromisoformat(r["interval"]).astimezone(dt.UTC)
        per_interval[(r["queue"], int((at - start_utc).total_seconds() // INTERVAL_S))] = r
    queues = s.scalars(
        select(t.Queue).where(t.Queue.tenant_id == tenant_id, t.Queue.active.is_(True)).order_by(t.Queue.code)
    )
    out = [
        QueueToday(
            code=q.code,
            name=q.name,
            sl_threshold_s=q.sl_threshold_s,
            sl_percent=q.sl_percent,
            totals=_figures(totals.get(q.code), start),
            intervals=[
                _figures(
                    per_interval.get((q.code, i)), (start_utc + dt.timedelta(seconds=i * INTERVAL_S)).astimezone(zone)
                )
                for i in range(count)
            ],
        )
        for q in queues
    ]
    return Today(date=start.date(), timezone=str(zone), start=start, now=now.astimezone(zone), queues=out)

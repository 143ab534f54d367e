"""Today's figures per queue and 15-minute interval, since midnight in the contact center's time zone
(`GET /api/queues/today`, for the wallboard's charts and "today" service level).

Computed from the contacts table in one query per call: a contact counts as offered in the interval it
was queued (`enqueue_ts`), and as answered / abandoned in the interval it left the queue (`dequeue_ts`),
like the live windows of `dispatch/stats.py`: service level = answered within the threshold / (answered +
abandoned), null when neither happened; other exits (overflow elsewhere, closed, transferred) count in
neither. A contact counts in the queue it is in last (`contacts.queue_id`).

Issue 13 replaces these formulas with the analytics engine (one definition of every metric for reports
and wallboards); until then this module is the only place they live for "today".
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field

from pydantic import BaseModel, Field
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from centralita.core.clock import as_utc
from centralita.store import tables as t

__all__ = ["INTERVAL_S", "IntervalFigures", "QueueToday", "Today", "midnight", "today"]

INTERVAL_S = 900


class IntervalFigures(BaseModel):
    start: dt.datetime = Field(description="the interval's start, with the contact center's UTC offset")
    offered: int = Field(description="contacts queued in the interval")
    answered: int
    abandoned: int
    answered_within_threshold: int
    service_level: float | None = Field(description="answered within the threshold / (answered + abandoned)")
    max_wait_s: float | None = Field(description="the longest wait of the contacts that left the queue")
    avg_wait_s: float | None


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


@dataclass
class _Acc:
    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    within: int = 0
    waits: list[float] = field(default_factory=list)

    def figures(self, start: dt.datetime) -> IntervalFigures:
        total = self.answered + self.abandoned
        return IntervalFigures(
            start=start,
            offered=self.offered,
            answered=self.answered,
            abandoned=self.abandoned,
            answered_within_threshold=self.within,
            service_level=self.within / total if total else None,
            max_wait_s=max(self.waits) if self.waits else None,
            avg_wait_s=sum(self.waits) / len(self.waits) if self.waits else None,
        )


def midnight(now: dt.datetime, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    """The start of `now`'s day in `zone` (aware, in that zone)."""
    local = now.astimezone(zone)
    return dt.datetime.combine(local.date(), dt.time(0), tzinfo=zone)


def today(s: Session, tenant_id: int, now: dt.datetime) -> Today:
    tenant = s.get(t.Tenant, tenant_id)
    zone = zoneinfo.ZoneInfo(tenant.timezone if tenant else "UTC")
    start = midnight(now, zone)
    start_utc = start.astimezone(dt.UTC)
    count = max(1, int((now - start_utc).total_seconds() // INTERVAL_S) + 1)
    c = t.Contact
    # one query: every active queue of the tenant with today's contacts (none: a row of nulls)
    rows = s.execute(
        select(
            t.Queue.id,
            t.Queue.code,
            t.Queue.name,
            t.Queue.sl_threshold_s,
            t.Queue.sl_percent,
            c.enqueue_ts,
            c.dequeue_ts,
            c.queue_outcome,
        )
        .outerjoin(
            c,
            and_(
                c.queue_id == t.Queue.id,
                c.tenant_id == tenant_id,
                or_(c.enqueue_ts >= start_utc, c.dequeue_ts >= start_utc),
            ),
        )
        .where(t.Queue.tenant_id == tenant_id, t.Queue.active.is_(True))
        .order_by(t.Queue.code)
    ).all()
    queues: dict[int, tuple[tuple[str, str, int, float], list[_Acc], _Acc]] = {}

    def index(ts: dt.datetime) -> int | None:
        i = int((as_utc(ts) - start_utc).total_seconds() // INTERVAL_S)
        return i if 0 <= i < count else None

    for qid, code, name, threshold, percent, enq, deq, outcome in rows:
        if qid not in queues:
            queues[qid] = ((code, name, threshold, percent), [_Acc() for _ in range(count)], _Acc())
        _info, slots, total = queues[qid]
        if enq is not None and (i := index(enq)) is not None:
            slots[i].offered += 1
            total.offered += 1
        if deq is None or outcome not in ("answered", "abandoned") or (j := index(deq)) is None:
            continue
        wait = max(0.0, (as_utc(deq) - as_utc(enq)).total_seconds()) if enq is not None else 0.0
        for acc in (slots[j], total):
            acc.waits.append(wait)
            if outcome == "answered":
                acc.answered += 1
                acc.within += wait <= threshold
            else:
                acc.abandoned += 1
    out = []
    for info, slots, total in queues.values():
        code, name, threshold, percent = info
        out.append(
            QueueToday(
                code=code,
                name=name,
                sl_threshold_s=threshold,
                sl_percent=percent,
                totals=total.figures(start),
                intervals=[
                    acc.figures((start_utc + dt.timedelta(seconds=i * INTERVAL_S)).astimezone(zone))
                    for i, acc in enumerate(slots)
                ],
            )
        )
    return Today(date=start.date(), timezone=str(zone), start=start, now=now.astimezone(zone), queues=out)

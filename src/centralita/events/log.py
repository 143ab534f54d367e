"""The append-only event log. `append_event` is called only from `do_*` actions, inside their transaction.

Each tenant's events are numbered by `seq` without gaps and in commit order: taking the next number
locks the tenant's counter row until the transaction ends, so a reader that has seen seq N and later
sees N+2 knows N+1 exists and reads it from the log (no event is skipped by a resuming client).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from centralita.events.types import check_payload
from centralita.store.tables import Event, Tenant

__all__ = ["BUS_KEY", "PENDING_KEY", "EventRecord", "append_event", "append_events", "last_seq", "read_events"]

PENDING_KEY = "centralita_pending_events"
BUS_KEY = "centralita_bus"


@dataclass(frozen=True)
class EventRecord:
    """An event as consumers see it (the bus, the WebSocket, the API)."""

    id: int
    tenant_id: int
    seq: int
    type: str
    ts: dt.datetime
    data: dict[str, Any] = field(default_factory=dict)
    contact_id: int | None = None
    agent_id: int | None = None
    customer_id: int | None = None
    case_id: int | None = None
    queue_id: int | None = None
    user_id: int | None = None

    @classmethod
    def from_row(cls, row: Event) -> EventRecord:
        return cls(
            id=row.id,
            tenant_id=row.tenant_id,
            seq=row.seq,
            type=row.type,
            ts=row.ts,
            data=dict(row.data or {}),
            contact_id=row.contact_id,
            agent_id=row.agent_id,
            customer_id=row.customer_id,
            case_id=row.case_id,
            queue_id=row.queue_id,
            user_id=row.user_id,
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "tenant_id": self.tenant_id,
            "seq": self.seq,
            "type": self.type,
            "ts": self.ts.isoformat(),
            "data": self.data,
        }
        for key in ("contact_id", "agent_id", "customer_id", "case_id", "queue_id", "user_id"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> EventRecord:
        return cls(
            id=int(raw["id"]),
            tenant_id=int(raw["tenant_id"]),
            seq=int(raw["seq"]),
            type=str(raw["type"]),
            ts=dt.datetime.fromisoformat(raw["ts"]),
            data=dict(raw.get("data") or {}),
            **{k: raw.get(k) for k in ("contact_id", "agent_id", "customer_id", "case_id", "queue_id", "user_id")},
        )


_EVENTS: Table = Event.__table__  # type: ignore[assignment]
_TENANTS: Table = Tenant.__table__  # type: ignore[assignment]
# Built once: the per-event cost is two small statements on the transaction's connection.
_NEXT_SEQ = (
    update(_TENANTS)
    .where(_TENANTS.c.id == bindparam("tenant_id"))
    .values(event_seq=_TENANTS.c.event_seq + 1)
    .returning(_TENANTS.c.event_seq)
)
_INSERT = insert(_EVENTS).returning(_EVENTS.c.id)
_INSERT_MANY = insert(_EVENTS).returning(_EVENTS.c.id, sort_by_parameter_order=True)
_RESERVE_SEQ = (
    update(_TENANTS)
    .where(_TENANTS.c.id == bindparam("tenant_id"))
    .values(event_seq=_TENANTS.c.event_seq + bindparam("n"))
    .returning(_TENANTS.c.event_seq)
)


def append_event(
    session: Session,
    tenant_id: int,
    type: str,
    ts: dt.datetime,
    data: dict[str, Any] | None = None,
    **subjects: int | None,
) -> EventRecord:
    """Append one event in the caller's transaction; it is published only after that commits. The payload
    must match the type's declaration (`events/types.py`)."""
    payload = data or {}
    check_payload(type, payload)
    session.flush()  # rows first, so ids exist and the counter lock is held as briefly as possible
    conn = session.connection()
    seq = int(conn.execute(_NEXT_SEQ, {"tenant_id": tenant_id}).scalar_one())
    event_id = int(
        conn.execute(
            _INSERT, {"tenant_id": tenant_id, "seq": seq, "type": type, "ts": ts, "data": payload, **subjects}
        ).scalar_one()
    )
    record = EventRecord(id=event_id, tenant_id=tenant_id, seq=seq, type=type, ts=ts, data=payload, **subjects)
    session.info.setdefault(PENDING_KEY, []).append(record)
    return record


PendingEvent = tuple[str, dt.datetime, dict[str, Any], dict[str, int | None]]  # type, ts, data, subjects


def append_events(session: Session, tenant_id: int, items: Sequence[PendingEvent]) -> list[EventRecord]:
    """Append several events at once (an import): one counter update reserves their numbers, gapless, in
    the given order. Same guarantees as `append_event`: checked payloads, rows in the caller's transaction,
    published after it commits."""
    if not items:
        return []
    for type_, _ts, data, _subjects in items:
        check_payload(type_, data)
    last = int(session.execute(_RESERVE_SEQ, {"tenant_id": tenant_id, "n": len(items)}).scalar_one())
    loaded = session.identity_map.get(identity_key(Tenant, tenant_id))
    if loaded is not None:  # keep a loaded tenant row in step with the counter
        set_committed_value(loaded, "event_seq", last)
    first = last - len(items) + 1
    params: list[dict[str, Any]] = [
        {"tenant_id": tenant_id, "seq": first + i, "type": type_, "ts": ts, "data": data, **subjects}
        for i, (type_, ts, data, subjects) in enumerate(items)
    ]
    ids = session.execute(_INSERT_MANY, params).scalars()
    records = [
        EventRecord(id=int(event_id), tenant_id=tenant_id, seq=first + i, type=type_, ts=ts, data=data, **subjects)
        for i, (event_id, (type_, ts, data, subjects)) in enumerate(zip(ids, items, strict=True))
    ]
    session.info.setdefault(PENDING_KEY, []).extend(records)
    return records


def read_events(
    session: Session, tenant_id: int, after_seq: int = 0, limit: int = 1000, types: list[str] | None = None
) -> list[EventRecord]:
    stmt = select(Event).where(Event.tenant_id == tenant_id, Event.seq > after_seq)
    if types:
        stmt = stmt.where(Event.type.in_(types))
    rows = session.scalars(stmt.order_by(Event.seq).limit(limit)).all()
    return [EventRecord.from_row(r) for r in rows]


def last_seq(session: Session, tenant_id: int) -> int:
    return int(session.execute(select(Tenant.event_seq).where(Tenant.id == tenant_id)).scalar_one())


@sa_event.listens_for(Session, "after_commit")
def _publish_after_commit(session: Session) -> None:
    pending: list[EventRecord] = session.info.pop(PENDING_KEY, [])
    bus = session.info.get(BUS_KEY)
    if pending and bus is not None:
        bus.publish(pending)


@sa_event.listens_for(Session, "after_rollback")
def _drop_after_rollback(session: Session) -> None:
    session.info.pop(PENDING_KEY, None)

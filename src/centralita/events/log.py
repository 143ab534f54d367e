"""The append-only event log. `append_event` is called only from `do_*` actions, inside their transaction.

Each tenant's events are numbered by `seq` without gaps and in commit order: they are numbered and written
as the transaction commits, under the tenant's counter row, which is locked from that moment until the
commit ends (on PostgreSQL by one statement sent with the COMMIT). So a reader that has seen seq N and
later sees N+2 knows N+1 exists and reads it from the log (no event is skipped by a resuming client); and
since the counter is a transaction's last lock, no transaction waits for another row while holding it, and
the counter is free while a transaction does its work."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy import event as sa_event
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from centralita.events.types import check_payload
from centralita.store.db import COMMIT_WITH_NUMBERS_KEY
from centralita.store.tables import Event, Tenant

__all__ = [
    "BUS_KEY",
    "PENDING_KEY",
    "Appended",
    "EventRecord",
    "append_event",
    "append_events",
    "last_seq",
    "read_events",
]

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
UNNUMBERED_KEY = "centralita_unnumbered_events"
SUBJECTS = ("contact_id", "agent_id", "customer_id", "case_id", "queue_id", "user_id")


@dataclass
class Appended:
    """An event appended in a transaction not yet committed: it gets its number (and its row) at commit.
    `number_into(row, attribute)` stores the number in a column of a row written in the same transaction
    (e.g. a membership's arrival order), by the statement that numbers the event."""

    tenant_id: int
    type: str
    ts: dt.datetime
    data: dict[str, Any]
    subjects: dict[str, int | None]
    record: EventRecord | None = None
    _targets: list[tuple[Any, str]] = field(default_factory=list)

    def number_into(self, row: Any, attribute: str) -> None:
        """Set `row.attribute` (a mapped integer column of a row with a one-column primary key, flushed
        before commit) to this event's seq when it is numbered."""
        self._targets.append((row, attribute))


def append_event(
    session: Session,
    tenant_id: int,
    type: str,
    ts: dt.datetime,
    data: dict[str, Any] | None = None,
    **subjects: int | None,
) -> Appended:
    """Append one event in the caller's transaction. The payload must match the type's declaration
    (`events/types.py`), checked now. The event is numbered and written when the transaction commits
    (`_number_at_commit`), and published after that."""
    payload = data or {}
    check_payload(type, payload)
    appended = Appended(tenant_id, type, ts, payload, dict(subjects))
    session.info.setdefault(UNNUMBERED_KEY, []).append(appended)
    return appended


PendingEvent = tuple[str, dt.datetime, dict[str, Any], dict[str, int | None]]  # type, ts, data, subjects


def append_events(session: Session, tenant_id: int, items: Sequence[PendingEvent]) -> list[Appended]:
    """Append several events at once (an import), numbered in the given order at commit; the same
    guarantees as `append_event`."""
    for type_, _ts, data, _subjects in items:
        check_payload(type_, data)
    appended = [Appended(tenant_id, type_, ts, data, dict(subjects)) for type_, ts, data, subjects in items]
    session.info.setdefault(UNNUMBERED_KEY, []).extend(appended)
    return appended


@dataclass(frozen=True)
class _Target:
    """Where an event's number also goes: `table.column` of the row whose primary key is `key`."""

    table: str
    pk: str
    column: str
    key: int
    row: Any
    attribute: str


def _target(row: Any, attribute: str) -> _Target:
    state = sa_inspect(row)
    mapper = state.mapper
    table = mapper.local_table
    (pk,) = mapper.primary_key
    identity = state.identity
    if identity is None:
        raise RuntimeError(f"{mapper.class_.__name__} must be flushed before its number is stored")
    (column,) = mapper.get_property(attribute).columns
    return _Target(table.name, pk.name, column.name, int(identity[0]), row, attribute)


@sa_event.listens_for(Session, "before_commit")
def _number_at_commit(session: Session) -> None:
    """Number and write the transaction's events: the tenant's counter row is the last lock the transaction
    takes, held only from here to the commit. So each tenant's events are numbered without gaps in commit
    order, and no transaction ever waits for another row while it holds a counter (which is what made
    writers deadlock when numbers were taken as each event was appended).

    PostgreSQL: one statement per tenant bumps the counter, inserts the events and stores the numbers
    `number_into` asked for; in a `Database.write()` it goes in one pipeline with the COMMIT, so the counter
    row is locked for one round trip (and the commit's WAL flush). SQLite: the writer already holds the
    database's only write lock, so numbering is a few statements on the same connection, no round trips."""
    pending: list[Appended] = session.info.pop(UNNUMBERED_KEY, [])
    if not pending:
        return
    session.flush()  # the rows the events are about first
    by_tenant: dict[int, list[Appended]] = {}
    for item in pending:
        by_tenant.setdefault(item.tenant_id, []).append(item)
    tenants = sorted(by_tenant)  # several tenants in one transaction: always in the same order
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        with_commit = bool(session.info.get(COMMIT_WITH_NUMBERS_KEY))
        numbered = _number_pg(conn, [(tid, by_tenant[tid]) for tid in tenants], with_commit)
    else:
        numbered = [_number_sqlite(conn, tid, by_tenant[tid]) for tid in tenants]
    records: list[EventRecord] = []
    for tenant_id, last, ids in numbered:
        items = by_tenant[tenant_id]
        loaded = session.identity_map.get(identity_key(Tenant, tenant_id))
        if loaded is not None:  # keep a loaded tenant row in step with the counter
            set_committed_value(loaded, "event_seq", last)
        first = last - len(items) + 1
        for i, (event_id, a) in enumerate(zip(ids, items, strict=True)):
            a.record = EventRecord(
                id=int(event_id), tenant_id=tenant_id, seq=first + i, type=a.type, ts=a.ts, data=a.data, **a.subjects
            )
            records.append(a.record)
            for row, attribute in a._targets:  # already stored by the numbering statements
                set_committed_value(row, attribute, a.record.seq)
    records.sort(key=lambda r: (r.tenant_id, r.seq))
    session.info.setdefault(PENDING_KEY, []).extend(records)


def _targets_of(items: list[Appended]) -> dict[tuple[str, str, str], list[tuple[int, int]]]:
    """(table, pk, column) -> [(key, offset in items)], offsets from 1."""
    out: dict[tuple[str, str, str], list[tuple[int, int]]] = {}
    for k, a in enumerate(items, start=1):
        for row, attribute in a._targets:
            target = _target(row, attribute)
            out.setdefault((target.table, target.pk, target.column), []).append((target.key, k))
    return out


_SQLITE_RESERVE = "UPDATE tenants SET event_seq = event_seq + ? WHERE id = ? RETURNING event_seq"
_SQLITE_COLUMNS = ("tenant_id", "seq", "type", "ts", "data", *SUBJECTS)
_SQLITE_ROW = "(" + ", ".join("?" for _ in _SQLITE_COLUMNS) + ")"
_SQLITE_CHUNK = 500  # rows per INSERT: well under SQLite's limit of bound variables
_SQLITE_BINDS: dict[int, tuple[Callable[[Any], Any], Callable[[Any], Any]]] = {}


def _sqlite_binds(conn: Connection) -> tuple[Callable[[Any], Any], Callable[[Any], Any]]:
    """SQLAlchemy's own conversions of `ts` and `data` for this dialect, so rows read back the same."""
    key = id(conn.dialect)
    if key not in _SQLITE_BINDS:
        ts = _EVENTS.c.ts.type.bind_processor(conn.dialect)
        data = _EVENTS.c.data.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
        _SQLITE_BINDS[key] = (ts or (lambda v: v), data or (lambda v: v))
    return _SQLITE_BINDS[key]


def _number_sqlite(conn: Connection, tenant_id: int, items: list[Appended]) -> tuple[int, int, list[int]]:
    """(tenant, last seq, event ids). The writer holds SQLite's only write lock (store/db.py), so the
    counter is read and bumped by one statement and the events inserted by one statement per 500, with the
    driver's cursor on the transaction's connection: no ORM or statement compilation per event."""
    cur = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cur.execute(
            "UPDATE tenants SET event_seq = event_seq + ? WHERE id = ? RETURNING event_seq", (len(items), tenant_id)
        )
        found = cur.fetchone()
        if found is None:
            raise RuntimeError(f"tenant {tenant_id} not found: its events cannot be numbered")
        last = int(found[0])
        first = last - len(items) + 1
        bind_ts, bind_data = _sqlite_binds(conn)
        rows = [
            (tenant_id, first + i, a.type, bind_ts(a.ts), bind_data(a.data), *(a.subjects.get(s) for s in SUBJECTS))
            for i, a in enumerate(items)
        ]
        by_seq: dict[int, int] = {}
        for start in range(0, len(rows), _SQLITE_CHUNK):
            chunk = rows[start : start + _SQLITE_CHUNK]
            cur.execute(
                f"INSERT INTO events ({', '.join(_SQLITE_COLUMNS)}) VALUES {', '.join([_SQLITE_ROW] * len(chunk))}"
                " RETURNING seq, id",  # RETURNING's order is unspecified: matched by seq
                [value for row in chunk for value in row],
            )
            by_seq.update((int(seq), int(event_id)) for seq, event_id in cur.fetchall())
        for (table, pk, column), pairs in _targets_of(items).items():
            cur.executemany(
                f'UPDATE "{table}" SET "{column}" = ? WHERE "{pk}" = ?', [(first - 1 + k, key) for key, k in pairs]
            )
    finally:
        cur.close()
    return tenant_id, last, [by_seq[first + i] for i in range(len(items))]


_PG_COLUMNS = ", ".join(("type", "ts", "data", *SUBJECTS))
_PG_NUMBER = (
    "WITH c AS (UPDATE tenants SET event_seq = event_seq + %(n)s WHERE id = %(tenant_id)s"
    " RETURNING event_seq - %(n)s AS base),"
    " v AS (SELECT * FROM unnest(%(type)s::text[], %(ts)s::timestamptz[], %(data)s::text[], "
    + ", ".join(f"%({s})s::bigint[]" for s in SUBJECTS)
    + f") WITH ORDINALITY AS v({_PG_COLUMNS}, k)),"
    f" ins AS (INSERT INTO events (tenant_id, seq, {_PG_COLUMNS})"
    " SELECT %(tenant_id)s, c.base + v.k, v.type, v.ts, v.data::jsonb, "
    + ", ".join(f"v.{s}" for s in SUBJECTS)
    # LEFT JOIN: no counter row (an unknown tenant) gives seq NULL, an error that aborts the pipeline's COMMIT
    + " FROM v LEFT JOIN c ON true ORDER BY v.k RETURNING id, seq){targets}"
    " SELECT id, seq FROM ins ORDER BY seq"
)
_PG_TARGET = (
    ', t{i} AS (UPDATE "{table}" AS r SET "{column}" = c.base + x.k FROM c,'
    ' unnest(%(t{i}_keys)s::bigint[], %(t{i}_ks)s::bigint[]) AS x(key, k) WHERE r."{pk}" = x.key)'
)


def _pg_statement(tenant_id: int, items: list[Appended]) -> tuple[str, dict[str, Any]]:
    """One statement: bump the counter by n, insert the n events numbered after it, store the numbers
    asked for (data-modifying CTEs all run, whether read or not)."""
    params: dict[str, Any] = {
        "tenant_id": tenant_id,
        "n": len(items),
        "type": [a.type for a in items],
        "ts": [a.ts for a in items],
        "data": [json.dumps(a.data) for a in items],
    }
    for subject in SUBJECTS:
        params[subject] = [a.subjects.get(subject) for a in items]
    targets = []
    for i, ((table, pk, column), pairs) in enumerate(_targets_of(items).items()):
        targets.append(_PG_TARGET.format(i=i, table=table, pk=pk, column=column))
        params[f"t{i}_keys"] = [key for key, _k in pairs]
        params[f"t{i}_ks"] = [k for _key, k in pairs]
    return _PG_NUMBER.format(targets="".join(targets)), params


def _number_pg(
    conn: Connection, batches: list[tuple[int, list[Appended]]], with_commit: bool
) -> list[tuple[int, int, list[int]]]:
    """Each tenant's statement, then (`with_commit`) the COMMIT, sent in one pipeline: one round trip."""
    raw: Any = conn.connection.driver_connection  # psycopg.Connection
    statements = [_pg_statement(tenant_id, items) for tenant_id, items in batches]
    cursors = []
    with raw.pipeline():
        for sql, params in statements:
            cur = raw.cursor()
            cur.execute(sql, params)
            cursors.append(cur)
        if with_commit:
            raw.commit()  # SQLAlchemy's own COMMIT then finds the transaction over and sends nothing
    out = []
    for (tenant_id, items), cur in zip(batches, cursors, strict=True):
        rows = cur.fetchall()
        cur.close()
        if len(rows) != len(items):
            raise RuntimeError(f"tenant {tenant_id} not found: its events cannot be numbered")
        out.append((tenant_id, int(rows[-1][1]), [int(r[0]) for r in rows]))
    return out


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
    session.info.pop(UNNUMBERED_KEY, None)

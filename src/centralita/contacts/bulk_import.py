"""Call history in bulk: `centralita import calls --format anonymous-bank FILE...` (docs/analytics.md, "Importing
call history").

Each file is read and parsed whole (`contacts/anonymous_bank.py`, pure), then written in batches of
`batch_size` rows, one transaction each (`do_import_call_batch`): the batch's new customers, its contacts and
its `calls.imported` event (plus a `customer.created` per new customer) commit together. Contacts go in with
set-based INSERTs (no unit of work per row: multi-row VALUES on SQLite, `unnest` arrays on PostgreSQL),
`ON CONFLICT DO NOTHING` on the natural key `(tenant_id, external_ref)`, ids allocated by the database as
for every other row (autoincrement).

Idempotence: contacts already imported (their `external_ref` exists) are skipped, customers (`external_id`
`ab-<id>`), agents (code: the server name in lower case), the queue and the contact reasons are taken when
they exist and created otherwise. A batch that would add nothing writes nothing, not even its event: a
second run of the same files changes nothing.

Imported contacts carry their historical timestamps on the contact row; unlike `do_record_contacts`
(history.py) no per-contact timeline events are written (1.5 million events for the 9 months).
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, select, text, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from centralita.accounts.actions import do_create_tenant
from centralita.accounts.schemas import TenantCreate
from centralita.agents.actions import do_create_agent
from centralita.agents.schemas import AgentCreate
from centralita.contacts.anonymous_bank import (
    REASONS,
    SEGMENTS,
    SOURCE,
    TIMEZONE,
    BadRow,
    CallRecord,
    Phantom,
    agent_code,
    check_header,
    customer_external_id,
    parse_row,
)
from centralita.contacts.status import ContactStatus
from centralita.core.actor import Actor
from centralita.core.clock import Clock
from centralita.core.errors import InvalidInput
from centralita.core.i18n import _
from centralita.events.log import append_event, append_events
from centralita.queues.actions import do_create_queue, do_create_reason, do_create_reason_group
from centralita.queues.schemas import QueueCreate, ReasonCreate, ReasonGroupCreate, SlTarget
from centralita.store import tables as t
from centralita.store.db import Database

__all__ = [
    "BATCH_SIZE",
    "DEFAULT_TENANT",
    "FORMATS",
    "CallFileError",
    "CallImportResult",
    "FileResult",
    "RowProblem",
    "check_file",
    "do_import_call_batch",
    "ensure_tenant",
    "import_calls",
    "problem_rows",
]

FORMATS = ("anonymous-bank",)
BATCH_SIZE = 10_000
DEFAULT_TENANT = {"slug": "anonymous-bank", "name": "Anonymous Bank", "timezone": TIMEZONE, "country": "IL"}
QUEUE_CODE = "general"
QUEUE_SL_THRESHOLD_S = 20
REASON_GROUP = ("anonymous_bank", "Anonymous Bank (1999)", "Anonymous Bank (1999)")
_PREFIX = SOURCE + ":"
_LOOKUP_CHUNK = 5_000

_contacts = cast(Table, t.Contact.__table__)
_customers = cast(Table, t.Customer.__table__)

PendingEvent = tuple[str, dt.datetime, dict[str, Any], dict[str, int | None]]  # as append_events takes them
# (label, rows done, rows in the file); label is the file's name
ProgressCallback = Callable[[str, int, int], None]


class CallFileError(InvalidInput):
    """A file that cannot be imported at all (missing, not text, not the format's header)."""


@dataclass(frozen=True)
class RowProblem:
    """A rejected row: its file, line (header = 1), column ("" for the whole row), message and raw text."""

    file: str
    line: int
    column: str
    message: str
    raw: str = field(default="", compare=False)

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}"
        return f"{where}: {self.column}: {self.message}" if self.column else f"{where}: {self.message}"


@dataclass
class FileResult:
    """What the import did with one file."""

    file: str
    rows: int = 0
    imported: int = 0
    skipped: int = 0  # already imported (their external_ref exists)
    phantom: int = 0
    rejected: int = 0
    customers_created: int = 0
    agents_created: int = 0
    error: str | None = None  # the file broke while it was read: nothing of it was imported


@dataclass
class CallImportResult:
    tenant: str
    tenant_created: bool = False
    files: list[FileResult] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and all(f.error is None for f in self.files)

    def total(self, key: str) -> int:
        return sum(int(getattr(f, key)) for f in self.files)


@dataclass
class _Parsed:
    records: list[CallRecord]
    phantom_lines: list[int]
    problems: list[RowProblem]
    rows: int


@dataclass
class _Ids:
    """The ids the contacts of the import point to (created when missing)."""

    queue_id: int
    reasons: dict[str, int]
    agents: dict[str, int] = field(default_factory=dict)
    customers: dict[str, int] = field(default_factory=dict)
    known_refs: set[str] = field(default_factory=set)


# --- files --------------------------------------------------------------------------------------------------------


def _file_error(path: Path, message: str) -> CallFileError:
    return CallFileError(f"{path}: {message}")


def _open_text(path: Path) -> IO[str]:
    """The file as text: gunzipped when it is gzip (`.tsv.gz`), else as it is."""
    try:
        with path.open("rb") as probe:
            magic = probe.read(2)
        binary = cast(IO[bytes], gzip.open(path, "rb") if magic == b"\x1f\x8b" else path.open("rb"))  # noqa: SIM115
    except FileNotFoundError:
        raise _file_error(path, _("no such file")) from None
    except IsADirectoryError:
        raise _file_error(path, _("is a directory, not a file")) from None
    except OSError as exc:
        raise _file_error(path, _("cannot be read: {reason}", reason=exc.strerror or exc)) from None
    return io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")


def check_file(path: Path) -> None:
    """Raise CallFileError unless `path` opens and starts with the format's header."""
    try:
        with _open_text(path) as fh:
            header = fh.readline()
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise _file_error(path, _("cannot be read: {reason}", reason=exc)) from None
    problem = check_header(header.rstrip("\r\n").split("\t"))
    if problem is not None:
        raise _file_error(path, problem)


def _parse_file(path: Path, zone: ZoneInfo) -> _Parsed:
    records: list[CallRecord] = []
    phantoms: list[int] = []
    problems: list[RowProblem] = []
    rows = 0
    with _open_text(path) as fh:
        fh.readline()  # the header, checked before
        for line, text in enumerate(fh, start=2):
            text = text.rstrip("\r\n")
            if not text.strip():
                continue
            rows += 1
            parsed = parse_row(text.split("\t"), line, zone)
            if isinstance(parsed, CallRecord):
                records.append(parsed)
            elif isinstance(parsed, Phantom):
                phantoms.append(line)
            else:
                problems.append(_problem(path.name, parsed, text))
    return _Parsed(records, phantoms, problems, rows)


def _problem(file: str, bad: BadRow, raw: str) -> RowProblem:
    return RowProblem(file, bad.line, bad.column, bad.message, raw)


# --- what the contacts point to -----------------------------------------------------------------------------------


def ensure_tenant(db: Database, clock: Clock, slug: str | None) -> tuple[t.Tenant, bool]:
    """The contact center to import into, and whether it was created: `slug` must exist and keep the bank's
    time zone; without a slug, `anonymous-bank`, created when missing (Asia/Jerusalem, IL)."""
    with db.read() as s:
        tenant = s.scalar(select(t.Tenant).where(t.Tenant.slug == (slug or DEFAULT_TENANT["slug"])))
    if tenant is None and slug is not None:
        raise InvalidInput(_("no contact center {slug!r}", slug=slug))
    created = False
    if tenant is None:
        with db.write() as s:
            tenant = do_create_tenant(s, TenantCreate(**DEFAULT_TENANT), clock)
        created = True
    if tenant.timezone != TIMEZONE:
        raise InvalidInput(
            _(
                "contact center {slug!r} is in {timezone}; the Anonymous Bank's times are {expected} wall-clock"
                " times: import into a contact center in {expected}",
                slug=tenant.slug,
                timezone=tenant.timezone,
                expected=TIMEZONE,
            )
        )
    return tenant, created


def _codes(session: Session, model: Any, tenant_id: int, codes: Iterable[str]) -> dict[str, int]:
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    rows = session.execute(select(model.code, model.id).where(model.tenant_id == tenant_id, model.code.in_(wanted)))
    return {str(code): int(id_) for code, id_ in rows}


def do_allow_segments(session: Session, actor: Actor, segments: Sequence[str]) -> None:
    """The contact center's segments (its `segments` setting) include `segments`: the missing ones are added
    (a `tenant.updated` event with the list before and after), so the imported customers' segments are
    among those its screens and configuration offer."""
    tenant = session.get_one(t.Tenant, actor.tenant_id, with_for_update=True)
    settings = dict(tenant.settings or {})
    old = list(settings.get("segments") or [])
    new = old + [s for s in segments if s not in old]
    if new != old:
        settings["segments"] = new
        tenant.settings = settings
        append_event(
            session,
            actor.tenant_id,
            "tenant.updated",
            actor.now(),
            {"changes": {"segments": [old, new]}},
            user_id=actor.user_id,
        )


def do_prepare_call_import(session: Session, actor: Actor) -> _Ids:
    """The queue `general` (voice, SL 20 s) and the reason group and reasons of the bank's call types,
    created when missing (their own events); the bank's segments allowed in the contact center."""
    do_allow_segments(session, actor, SEGMENTS)
    queue = _codes(session, t.Queue, actor.tenant_id, [QUEUE_CODE]).get(QUEUE_CODE)
    if queue is None:
        queue = do_create_queue(
            session,
            actor,
            QueueCreate(
                code=QUEUE_CODE,
                name="General",
                channels=["voice"],
                sl_target=SlTarget(threshold_s=QUEUE_SL_THRESHOLD_S),
            ),
        ).id
    group, name_es, name_en = REASON_GROUP
    if not _codes(session, t.ReasonGroup, actor.tenant_id, [group]):
        do_create_reason_group(session, actor, ReasonGroupCreate(code=group, name_es=name_es, name_en=name_en))
    reasons = _codes(session, t.Reason, actor.tenant_id, [code for code, _es, _en in REASONS.values()])
    for code, reason_es, reason_en in REASONS.values():
        if code not in reasons:
            reasons[code] = do_create_reason(
                session, actor, ReasonCreate(code=code, group=group, name_es=reason_es, name_en=reason_en)
            ).id
    return _Ids(queue_id=queue, reasons=reasons)


def do_create_import_agents(session: Session, actor: Actor, ids: _Ids, servers: Iterable[str]) -> int:
    """The agents the servers name, created when missing (`agent.created` each); their ids go to `ids`."""
    wanted = {agent_code(s): s for s in servers}
    missing = sorted(set(wanted) - set(ids.agents))
    ids.agents.update(_codes(session, t.Agent, actor.tenant_id, missing))
    created = 0
    for code in sorted(set(wanted) - set(ids.agents)):
        ids.agents[code] = do_create_agent(session, actor, AgentCreate(code=code, name=wanted[code])).id
        created += 1
    return created


def _load_known(session: Session, tenant_id: int, ids: _Ids) -> None:
    """The keys of the contacts and customers this format imported into the tenant before (LIKE on the prefix:
    a range on the text would depend on the database's collation)."""
    refs = session.execute(
        select(_contacts.c.external_ref).where(
            _contacts.c.tenant_id == tenant_id, _contacts.c.external_ref.startswith(_PREFIX, autoescape=True)
        )
    )
    ids.known_refs = {str(ref) for (ref,) in refs}
    rows = session.execute(
        select(_customers.c.external_id, _customers.c.id).where(
            _customers.c.tenant_id == tenant_id,
            _customers.c.external_id.startswith(customer_external_id(0)[:-1], autoescape=True),
        )
    )
    ids.customers = {str(ext): int(id_) for ext, id_ in rows}


# --- writing --------------------------------------------------------------------------------------------------------


def _insert_new(
    session: Session, table: Table, rows: list[dict[str, Any]], key: Sequence[str], returning: Sequence[str]
) -> list[tuple[Any, ...]]:
    """Insert `rows` (dicts with the same keys), leaving out those whose `key` exists (ON CONFLICT DO NOTHING);
    the `returning` columns of the rows inserted. SQLite: `_insert_new_sqlite`. PostgreSQL: one statement per
    call whose parameters are one array per column (`unnest`), as the event log numbers its events: psycopg
    parses a multi-row VALUES statement's tens of thousands of placeholders in Python, which made the nine
    months take 9 minutes instead of seconds."""
    if not rows:
        return []
    if session.get_bind().dialect.name != "postgresql":
        return _insert_new_sqlite(session, table, rows, key, returning)
    names = list(rows[0])
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    arrays: dict[str, list[Any]] = {}
    columns = []
    for i, name in enumerate(names):
        column = table.c[name]
        sql_type = column.type.dialect_impl(dialect).compile(dialect=dialect)
        values = [row[name] for row in rows]
        if sql_type == "JSONB":  # sent as text, parsed by the server
            values = [None if v is None else json.dumps(v) for v in values]
            arrays[f"p{i}"] = values
            columns.append((f"CAST(:p{i} AS TEXT[])", f"CAST(v.c{i} AS JSONB)"))
        else:
            arrays[f"p{i}"] = values
            columns.append((f"CAST(:p{i} AS {sql_type}[])", f"v.c{i}"))
    quoted = ", ".join(f'"{n}"' for n in names)
    sql = (
        f'INSERT INTO "{table.name}" ({quoted})'
        f" SELECT {', '.join(select_ for _array, select_ in columns)}"
        f" FROM unnest({', '.join(array for array, _select in columns)})"
        f" AS v({', '.join(f'c{i}' for i in range(len(names)))})"
        f" ON CONFLICT ({', '.join(key)}) DO NOTHING RETURNING {', '.join(returning)}"
    )
    return [tuple(r) for r in session.execute(text(sql), arrays)]


_SQLITE_CHUNK_VARIABLES = 30_000  # bound variables per INSERT: under SQLite's limit of 32,766


def _insert_new_sqlite(
    session: Session, table: Table, rows: list[dict[str, Any]], key: Sequence[str], returning: Sequence[str]
) -> list[tuple[Any, ...]]:
    """SQLite: the values converted column by column with SQLAlchemy's own conversions for this dialect (so
    they read back as any other row's), then multi-row `INSERT … ON CONFLICT DO NOTHING RETURNING` statements
    on the transaction's own driver connection: no statement compiled and no parameter processed per row."""
    conn = session.connection()
    dialect = conn.dialect
    names = list(rows[0])
    columns: list[list[Any]] = []
    for name in names:
        values = [row[name] for row in rows]
        convert = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        columns.append(values if convert is None else [None if v is None else convert(v) for v in values])
    params = list(zip(*columns, strict=True))
    row_sql = "(" + ", ".join("?" for _ in names) + ")"
    head = f'INSERT INTO "{table.name}" (' + ", ".join(f'"{n}"' for n in names) + ") VALUES "
    tail = f" ON CONFLICT ({', '.join(key)}) DO NOTHING RETURNING {', '.join(returning)}"
    per_chunk = max(1, _SQLITE_CHUNK_VARIABLES // len(names))
    out: list[tuple[Any, ...]] = []
    cur = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        for start in range(0, len(params), per_chunk):
            chunk = params[start : start + per_chunk]
            cur.execute(head + ", ".join([row_sql] * len(chunk)) + tail, [v for p in chunk for v in p])
            out.extend(tuple(r) for r in cur.fetchall())
    finally:
        cur.close()
    return out


def _create_customers(
    session: Session, actor: Actor, ids: _Ids, records: Sequence[CallRecord], now: dt.datetime
) -> list[PendingEvent]:
    """The batch's customers not yet in the contact center, inserted at once; their `customer.created` events."""
    new: dict[str, CallRecord] = {}
    for r in records:
        if r.customer is not None:
            ext = customer_external_id(r.customer)
            if ext not in ids.customers and ext not in new:
                new[ext] = r  # the segment of its first call in the import
    if not new:
        return []
    values = [
        {
            "tenant_id": actor.tenant_id,
            "external_id": ext,
            "name": ext,
            "kind": "person",
            "segment": r.segment,
            "language": r.language,
            "attributes": {"source": SOURCE},
            "created_at": now,
            "updated_at": now,
        }
        for ext, r in new.items()
    ]
    inserted = _insert_new(session, _customers, values, ("tenant_id", "external_id"), ("id", "external_id"))
    created = {str(ext): int(id_) for id_, ext in inserted}
    ids.customers.update(created)
    missing = sorted(set(new) - set(created))  # created meanwhile by another import
    for start in range(0, len(missing), _LOOKUP_CHUNK):
        chunk = missing[start : start + _LOOKUP_CHUNK]
        found = session.execute(
            select(_customers.c.external_id, _customers.c.id).where(
                _customers.c.tenant_id == actor.tenant_id, _customers.c.external_id.in_(chunk)
            )
        )
        ids.customers.update((str(ext), int(id_)) for ext, id_ in found)
    return [
        (
            "customer.created",
            now,
            {"name": ext, "segment": new[ext].segment, "identities": []},
            {"customer_id": id_, "user_id": actor.user_id},
        )
        for ext, id_ in created.items()
    ]


def _contact_values(tenant_id: int, r: CallRecord, ids: _Ids) -> dict[str, Any]:
    customer_id = ids.customers[customer_external_id(r.customer)] if r.customer is not None else None
    queued = r.enqueue_ts is not None
    return {
        "tenant_id": tenant_id,
        "initial_contact_id": None,
        "previous_contact_id": None,
        "next_contact_id": None,
        "channel": "voice",
        "direction": "inbound",
        "initiation_method": "INBOUND",
        "status": ContactStatus.CLOSED.value,
        "ani": None,
        "dnis": r.dnis,
        "language": r.language,
        "customer_id": customer_id,
        "customer_name": customer_external_id(r.customer) if r.customer is not None else None,
        "segment": r.segment,
        "value_tier": None,
        "lifecycle_stage": None,
        "reason_id": ids.reasons[r.reason],
        "sub_reason_id": None,
        "self_service": r.self_service,
        "resolved": None,
        "queue_id": ids.queue_id if queued else None,
        "priority": r.priority,
        "agent_id": ids.agents[agent_code(r.agent)] if r.agent is not None else None,
        "initiation_ts": r.initiation_ts,
        "enqueue_ts": r.enqueue_ts,
        "dequeue_ts": r.dequeue_ts,
        "queue_outcome": r.queue_outcome,
        "agent_connected_ts": r.agent_connected_ts,
        "agent_end_ts": r.agent_end_ts,
        "holds": [],
        "acw_start_ts": None,
        "acw_end_ts": None,
        "disconnect_ts": r.disconnect_ts,
        "disconnect_reason": r.disconnect_reason,
        "transferred_to": None,
        "disposition": None,
        "notes": None,
        "csat": None,
        "ces": None,
        "nps": None,
        "survey_ts": None,
        "cost": None,
        "attributes": {"source": SOURCE, "type": r.type},
        "collected": {},
        "outcome": r.outcome,
        "external_ref": r.external_ref,
    }


@dataclass
class _Batch:
    file: str
    first_line: int
    last_line: int
    records: list[CallRecord]  # not yet imported
    rows: int
    skipped: int
    phantom: int
    rejected: int


def do_import_call_batch(session: Session, actor: Actor, ids: _Ids, batch: _Batch) -> tuple[int, int]:
    """Write one batch: its new customers, its contacts, its `calls.imported` event (rows and events in this
    one transaction). (contacts imported, customers created)."""
    now = actor.now()
    events = _create_customers(session, actor, ids, batch.records, now)
    values = [_contact_values(actor.tenant_id, r, ids) for r in batch.records]
    contact_ids: list[int] = []
    if values:
        inserted = _insert_new(session, _contacts, values, ("tenant_id", "external_ref"), ("id",))
        contact_ids = sorted(int(i) for (i,) in inserted)
    if contact_ids:  # each contact starts its own chain: the imported rows of the batch's id range
        session.execute(
            update(_contacts)
            .where(
                _contacts.c.tenant_id == actor.tenant_id,
                _contacts.c.id.between(contact_ids[0], contact_ids[-1]),
                _contacts.c.initial_contact_id.is_(None),
                _contacts.c.external_ref.is_not(None),
            )
            .values(initial_contact_id=_contacts.c.id)
        )
    ids.known_refs.update(r.external_ref for r in batch.records)
    imported = len(contact_ids)
    append_events(session, actor.tenant_id, events)
    append_event(
        session,
        actor.tenant_id,
        "calls.imported",
        now,
        {
            "file": batch.file,
            "format": SOURCE,
            "first_line": batch.first_line,
            "last_line": batch.last_line,
            "rows": batch.rows,
            "imported": imported,
            "skipped": batch.skipped + len(values) - imported,
            "phantom": batch.phantom,
            "rejected": batch.rejected,
            "customers_created": len(events),
            "first_contact_id": contact_ids[0] if contact_ids else None,
            "last_contact_id": contact_ids[-1] if contact_ids else None,
        },
        queue_id=ids.queue_id,
        user_id=actor.user_id,
    )
    return imported, len(events)


def _batches(path: Path, parsed: _Parsed, ids: _Ids, size: int) -> Iterator[_Batch]:
    """The file's lines in batches of `size` data rows (by line order), with what each holds."""
    phantom = set(parsed.phantom_lines)
    rejected = {p.line for p in parsed.problems}
    records = {r.line: r for r in parsed.records}
    lines = sorted(set(records) | phantom | rejected)
    for start in range(0, len(lines), size):
        chunk = lines[start : start + size]
        todo = [records[n] for n in chunk if n in records and records[n].external_ref not in ids.known_refs]
        in_batch = sum(1 for n in chunk if n in records)
        yield _Batch(
            file=path.name,
            first_line=chunk[0],
            last_line=chunk[-1],
            records=todo,
            rows=len(chunk),
            skipped=in_batch - len(todo),
            phantom=sum(1 for n in chunk if n in phantom),
            rejected=sum(1 for n in chunk if n in rejected),
        )


def import_calls(
    db: Database,
    actor: Actor,
    paths: Sequence[Path],
    *,
    tenant: str,
    batch_size: int = BATCH_SIZE,
    progress: ProgressCallback | None = None,
) -> CallImportResult:
    """Import call-history files of the Anonymous Bank format into the actor's contact center.

    Every file is checked first (it opens, its header is the format's): any that fails raises CallFileError
    and nothing is imported. Bad rows are reported (`problems`) and left out; the rest is imported."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    for path in paths:
        check_file(path)
    zone = ZoneInfo(TIMEZONE)
    result = CallImportResult(tenant=tenant)
    with db.write() as s:
        ids = do_prepare_call_import(s, actor)
    with db.read() as s:
        _load_known(s, actor.tenant_id, ids)
    for path in paths:
        fr = FileResult(file=path.name)
        result.files.append(fr)
        try:
            parsed = _parse_file(path, zone)
        except (OSError, EOFError, UnicodeDecodeError) as exc:
            fr.error = _("cannot be read: {reason}", reason=exc)
            continue
        fr.rows, fr.phantom, fr.rejected = parsed.rows, len(parsed.phantom_lines), len(parsed.problems)
        result.problems.extend(parsed.problems)
        servers = {r.agent for r in parsed.records if r.agent is not None and agent_code(r.agent) not in ids.agents}
        if servers:
            with db.write() as s:
                fr.agents_created = do_create_import_agents(s, actor, ids, servers)
        done = 0
        if progress is not None:
            progress(path.name, 0, fr.rows)
        for batch in _batches(path, parsed, ids, batch_size):
            if batch.records:
                with db.write() as s:
                    imported, customers = do_import_call_batch(s, actor, ids, batch)
                fr.imported += imported
                fr.customers_created += customers
                fr.skipped += batch.skipped + len(batch.records) - imported
            else:
                fr.skipped += batch.skipped
            done += batch.rows
            if progress is not None:
                progress(path.name, done, fr.rows)
    return result


def problem_rows(result: CallImportResult) -> Iterable[list[str]]:
    """The rejected rows as CSV rows: file, line, column, message, the row as read."""
    yield ["file", "line", "column", "message", "row"]
    for p in result.problems:
        yield [p.file, str(p.line), p.column, p.message, p.raw]

"""Publishing contact flows and rolling them back: one `do_*` per change, rows and event in one transaction.

A flow is published only when it has no error (flows-and-routing §4, rule 8 included: its queues,
schedules and the flows it enters must exist in the contact center). Publishing the text of the current
version again changes nothing. Every version stays; a contact keeps the version it started with.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from centralita.core.actor import Actor
from centralita.core.errors import FieldError, InvalidInput, NotFound
from centralita.core.i18n import _
from centralita.events.log import append_event
from centralita.flows.document import Catalog, Checked, check_flow
from centralita.store import tables as t

__all__ = ["MAX_SOURCE_BYTES", "Published", "check_for_tenant", "do_publish_flow", "do_rollback_flow"]

MAX_SOURCE_BYTES = 1_048_576


@dataclass(frozen=True)
class Published:
    code: str
    version: int
    changed: bool  # False: that text was already the current version
    checked: Checked


def catalog_of(session: Session, tenant_id: int, functions: Iterable[str] | None = None) -> Catalog:
    """What a flow of this contact center may name (§4 rule 8): its queues, hours calendars, flows and
    library prompts, and the functions it may invoke: the HTTP ones configured here and `functions` (the
    Python functions registered in this process; None: functions are not checked)."""
    queues = session.scalars(select(t.Queue.code).where(t.Queue.tenant_id == tenant_id, t.Queue.active))
    hours = session.scalars(select(t.HoursCalendar.code).where(t.HoursCalendar.tenant_id == tenant_id))
    flows = session.scalars(select(t.ContactFlow.code).where(t.ContactFlow.tenant_id == tenant_id))
    prompts = session.scalars(select(t.Prompt.code).where(t.Prompt.tenant_id == tenant_id))
    known: frozenset[str] | None = None
    if functions is not None:
        http = session.scalars(
            select(t.FlowFunction.code).where(t.FlowFunction.tenant_id == tenant_id, t.FlowFunction.active)
        )
        known = frozenset(functions) | frozenset(http)
    return Catalog(
        queues=frozenset(queues),
        schedules=frozenset(hours),
        flows=frozenset(flows),
        functions=known,
        prompts=frozenset(prompts),
    )


def check_for_tenant(
    session: Session, tenant_id: int, source: str, source_name: str, functions: Iterable[str] | None = None
) -> Checked:
    """Every problem of a flow's text where it would be published: rule 8 against the contact center."""
    return check_flow(source, source_name, catalog_of(session, tenant_id, functions))


def do_publish_flow(
    session: Session, actor: Actor, source: str, source_name: str, functions: Iterable[str] | None = None
) -> Published:
    """Check `source` against this contact center and publish it as the flow's next version (`functions`:
    the Python functions registered where it runs, for rule 8; None: invoked names are not checked)."""
    if len(source.encode("utf-8")) > MAX_SOURCE_BYTES:
        raise InvalidInput.field("source", _("larger than {size} bytes", size=MAX_SOURCE_BYTES))
    if "\x00" in source:
        raise InvalidInput.field("source", _("a flow's text cannot contain NUL characters"))
    checked = check_for_tenant(session, actor.tenant_id, source, source_name, functions)
    if checked.flow is None:
        errors = [
            FieldError([], d.message if d.node is None else f"node '{d.node}': {d.message}", line=d.line,
                       column=d.column, source=d.source)
            for d in checked.errors
        ]  # fmt: skip
        raise InvalidInput(_("the flow has errors; nothing was published"), errors)
    code = checked.flow.id
    checksum = hashlib.sha256(source.encode("utf-8")).hexdigest()
    now = actor.now()
    row = _locked(session, actor.tenant_id, code)
    if row is None:  # a new flow: its row, unless another publish of it got there first (then wait for it)
        values = {
            "tenant_id": actor.tenant_id,
            "code": code,
            "current_version": 0,
            "created_at": now,
            "updated_at": now,
        }
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        session.execute(insert(t.ContactFlow).values(**values).on_conflict_do_nothing())
        row = _locked(session, actor.tenant_id, code)
        assert row is not None
    if row.current_version:
        current = session.scalar(
            select(t.ContactFlowVersion.checksum).where(
                t.ContactFlowVersion.flow_id == row.id, t.ContactFlowVersion.version == row.current_version
            )
        )
        if current == checksum:
            return Published(code, row.current_version, False, checked)
    last = session.scalar(select(func.max(t.ContactFlowVersion.version)).where(t.ContactFlowVersion.flow_id == row.id))
    version = (last or 0) + 1
    session.add(
        t.ContactFlowVersion(
            tenant_id=actor.tenant_id,
            flow_id=row.id,
            version=version,
            source=source,
            checksum=checksum,
            published_at=now,
            published_by=actor.username or "?",
        )
    )
    row.current_version = version
    row.updated_at = now
    append_event(
        session,
        actor.tenant_id,
        "flow.published",
        now,
        {"code": code, "version": version, "checksum": checksum},
        user_id=actor.user_id,
    )
    return Published(code, version, True, checked)


def _locked(session: Session, tenant_id: int, code: str) -> t.ContactFlow | None:
    """The flow's row, locked until commit: publishes and rollbacks of one flow go one at a time (the
    next version number is read under the lock)."""
    return session.scalar(
        select(t.ContactFlow)
        .where(t.ContactFlow.tenant_id == tenant_id, t.ContactFlow.code == code)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def do_rollback_flow(session: Session, actor: Actor, code: str, version: int) -> t.ContactFlow:
    """Make an earlier (or later) published version current again; new contacts run it."""
    row = _locked(session, actor.tenant_id, code)
    if row is None:
        raise NotFound(_("no flow is called {id!r}", id=code))
    exists = session.scalar(
        select(t.ContactFlowVersion.id).where(
            t.ContactFlowVersion.flow_id == row.id, t.ContactFlowVersion.version == version
        )
    )
    if exists is None:
        raise NotFound(_("flow {code!r} has no version {version}", code=code, version=version))
    if row.current_version == version:
        return row
    previous = row.current_version
    row.current_version = version
    row.updated_at = actor.now()
    append_event(
        session,
        actor.tenant_id,
        "flow.rolled_back",
        actor.now(),
        {"code": code, "version": version, "previous": previous},
        user_id=actor.user_id,
    )
    return row

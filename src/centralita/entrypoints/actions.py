"""Actions for entry points and HTTP flow functions: the only writers of those tables. One `do_*` per
change; the rows and their one event in the caller's transaction.

An address (a number, a widget key, a mailbox) belongs to one contact center: one taken by any contact
center, this one or another, is a conflict naming `address` (which one holds it is not said). An entry
point's flow must be published in the contact center (flows are published with `centralita flow publish`
or `POST /api/flows`; a flow cannot be unpublished, so nothing cascades). Header values of functions may
be secrets: events name the headers, never their values.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from centralita.core.actor import Actor
from centralita.core.diff import apply_changes
from centralita.core.errors import Conflict, ErrorList, FieldError, InvalidInput
from centralita.core.i18n import _
from centralita.entrypoints.schemas import (
    EntryPointCreate,
    EntryPointUpdate,
    FunctionCreate,
    FunctionUpdate,
    normalize_address,
)
from centralita.events.log import append_event
from centralita.store import tables as t

__all__ = [
    "do_create_entry_point",
    "do_create_function",
    "do_update_entry_point",
    "do_update_function",
    "flow_is_published",
]


def flow_is_published(session: Session, tenant_id: int, flow: str) -> bool:
    """Whether the contact center has published a flow with that code (id)."""
    found = session.scalar(
        select(t.ContactFlow.id).where(
            t.ContactFlow.tenant_id == tenant_id, t.ContactFlow.code == flow, t.ContactFlow.current_version > 0
        )
    )
    return found is not None


def _not_published(flow: str) -> str:
    return _("no published flow {code!r} in this contact center; publish it first (centralita flow publish)", code=flow)


def _address_taken() -> Conflict:
    error = FieldError(["address"], _("that address is already an entry point of a contact center"))
    return Conflict(str(error), [error])


def _country(session: Session, tenant_id: int) -> str:
    tenant = session.get(t.Tenant, tenant_id)
    return tenant.country if tenant is not None and tenant.country else "ES"


def _address(session: Session, actor: Actor, kind: str, address: str, errors: ErrorList) -> str | None:
    """The stored form of `address`, or None with the problem added to `errors`."""
    try:
        return normalize_address(kind, address, _country(session, actor.tenant_id))
    except ValueError as exc:
        errors.add(["address"], str(exc))
        return None


def _check_free(session: Session, kind: str, address: str, row_id: int | None) -> None:
    """A conflict naming `address` when an entry point other than `row_id` has it, in any contact center.

    On PostgreSQL the address is first locked until commit (an advisory lock on its hash), so two
    transactions writing the same address go one after the other and the second sees the first's row: a
    conflict, never a unique-key error at commit. SQLite has one writer at a time already."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 11))"), {"key": f"entry_point:{kind}:{address}"}
        )
    stmt = select(t.EntryPoint.id).where(t.EntryPoint.kind == kind, t.EntryPoint.address == address)
    if row_id is not None:
        stmt = stmt.where(t.EntryPoint.id != row_id)
    if session.scalar(stmt) is not None:
        raise _address_taken()


# entry points --------------------------------------------------------------------------------------


def do_create_entry_point(session: Session, actor: Actor, data: EntryPointCreate) -> t.EntryPoint:
    """A new entry point; every problem (address, flow) at once, each naming its field."""
    exists = session.scalar(
        select(t.EntryPoint.id).where(t.EntryPoint.tenant_id == actor.tenant_id, t.EntryPoint.code == data.code)
    )
    if exists is not None:
        raise Conflict(_("entry point {code!r} already exists", code=data.code), [])
    errors = ErrorList()
    address = _address(session, actor, data.kind, data.address, errors)
    if not flow_is_published(session, actor.tenant_id, data.flow):
        errors.add(["flow"], _not_published(data.flow))
    errors.raise_if_any(_("the entry point is not valid"))
    assert address is not None
    _check_free(session, data.kind, address, None)
    now = actor.now()
    row = t.EntryPoint(
        tenant_id=actor.tenant_id,
        code=data.code,
        name=data.name,
        kind=data.kind,
        address=address,
        flow=data.flow,
        language=data.language,
        active=True,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    append_event(
        session,
        actor.tenant_id,
        "entry_point.created",
        now,
        {"code": row.code, "kind": row.kind, "address": row.address, "flow": row.flow},
        user_id=actor.user_id,
    )
    return row


def do_update_entry_point(session: Session, actor: Actor, row: t.EntryPoint, data: EntryPointUpdate) -> t.EntryPoint:
    """Change the fields given (`active: false` deactivates). A new kind re-reads the address as one of
    that kind (the stored one when no new address is given)."""
    values: dict[str, Any] = data.model_dump(exclude_unset=True)
    errors = ErrorList()
    for key, value in values.items():
        if value is None:
            errors.add([key], _("must not be null"))
    errors.raise_if_any(_("the entry point is not valid"))
    if "kind" in values or "address" in values:
        kind = values.get("kind", row.kind)
        address = _address(session, actor, kind, values.get("address", row.address), errors)
        if address is not None:
            values["address"] = address
    if (
        "flow" in values
        and values["flow"] != row.flow
        and not flow_is_published(session, actor.tenant_id, values["flow"])
    ):
        errors.add(["flow"], _not_published(values["flow"]))
    errors.raise_if_any(_("the entry point is not valid"))
    moved = values.get("kind", row.kind) != row.kind or values.get("address", row.address) != row.address
    if moved:
        _check_free(session, values.get("kind", row.kind), values.get("address", row.address), row.id)
    changes = apply_changes(row, values)
    if changes:
        row.updated_at = actor.now()
        if moved:
            session.flush()
        append_event(
            session,
            actor.tenant_id,
            "entry_point.updated",
            actor.now(),
            {"code": row.code, "changes": changes},
            user_id=actor.user_id,
        )
    return row


# functions -----------------------------------------------------------------------------------------


def _header_names(headers: dict[str, Any]) -> list[str]:
    return sorted(headers)


def do_create_function(session: Session, actor: Actor, data: FunctionCreate) -> t.FlowFunction:
    exists = session.scalar(
        select(t.FlowFunction.id).where(t.FlowFunction.tenant_id == actor.tenant_id, t.FlowFunction.code == data.code)
    )
    if exists is not None:
        raise Conflict(_("function {code!r} already exists", code=data.code), [])
    now = actor.now()
    row = t.FlowFunction(
        tenant_id=actor.tenant_id,
        code=data.code,
        url=data.url,
        headers=dict(data.headers),
        active=True,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    append_event(
        session,
        actor.tenant_id,
        "flow_function.created",
        now,
        {"code": row.code, "url": row.url, "headers": _header_names(row.headers)},
        user_id=actor.user_id,
    )
    return row


def do_update_function(session: Session, actor: Actor, row: t.FlowFunction, data: FunctionUpdate) -> t.FlowFunction:
    """Change the fields given (`headers` replaces them all; `active: false` deactivates). The event's
    `changes` gives the header names before and after, never their values."""
    values: dict[str, Any] = data.model_dump(exclude_unset=True)
    for key, value in values.items():
        if value is None:
            raise InvalidInput.field(key, _("must not be null"))
    changes = apply_changes(row, values)
    if changes:
        row.updated_at = actor.now()
        if "headers" in changes:
            old, new = changes["headers"]
            changes["headers"] = [_header_names(old), _header_names(new)]
        append_event(
            session,
            actor.tenant_id,
            "flow_function.updated",
            actor.now(),
            {"code": row.code, "changes": changes},
            user_id=actor.user_id,
        )
    return row

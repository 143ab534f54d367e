"""Reads for entry points and HTTP flow functions.

`find_entry_point` is what the live runtime asks when a contact arrives (the address reaches it from a
telephony, chat or mail connector, with no contact center yet): the active entry point at that address,
whichever contact center owns it. The others read within one contact center.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from centralita.entrypoints.schemas import EntryPointPublic, FunctionPublic, normalize_address
from centralita.store import tables as t

__all__ = [
    "active_functions",
    "entry_point_for",
    "entry_point_public",
    "find_entry_point",
    "function_public",
    "get_entry_point",
    "get_function",
    "list_entry_points",
    "list_functions",
]


def _lookup_address(kind: str, address: str) -> str | None:
    """`address` as stored for `kind` (a phone number must be international: E.164 or 00…); None when it
    cannot be one (then no entry point has it)."""
    try:
        return normalize_address(kind, address, "ZZ" if kind == "phone" else None)
    except ValueError:
        return None


def find_entry_point(session: Session, kind: str, address: str) -> t.EntryPoint | None:
    """The active entry point of `kind` at `address`, across every contact center (an address belongs to
    one). The address is normalised as it is stored: a phone number given in E.164, a widget key as it is,
    an e-mail address in any case. None when there is none, or it is inactive."""
    wanted = _lookup_address(kind, address)
    if wanted is None:
        return None
    return session.scalar(
        select(t.EntryPoint).where(
            t.EntryPoint.kind == kind, t.EntryPoint.address == wanted, t.EntryPoint.active.is_(True)
        )
    )


def entry_point_for(session: Session, tenant_id: int, kind: str, address: str) -> t.EntryPoint | None:
    """Like `find_entry_point`, within one contact center; a national phone number takes its country."""
    tenant = session.get(t.Tenant, tenant_id)
    if tenant is None:
        return None
    try:
        wanted = normalize_address(kind, address, tenant.country or "ES")
    except ValueError:
        return None
    return session.scalar(
        select(t.EntryPoint).where(
            t.EntryPoint.tenant_id == tenant_id,
            t.EntryPoint.kind == kind,
            t.EntryPoint.address == wanted,
            t.EntryPoint.active.is_(True),
        )
    )


def list_entry_points(session: Session, tenant_id: int, include_inactive: bool = True) -> list[t.EntryPoint]:
    stmt = select(t.EntryPoint).where(t.EntryPoint.tenant_id == tenant_id)
    if not include_inactive:
        stmt = stmt.where(t.EntryPoint.active.is_(True))
    return list(session.scalars(stmt.order_by(t.EntryPoint.code)))


def get_entry_point(session: Session, tenant_id: int, code: str) -> t.EntryPoint | None:
    return session.scalar(select(t.EntryPoint).where(t.EntryPoint.tenant_id == tenant_id, t.EntryPoint.code == code))


def entry_point_public(row: t.EntryPoint) -> EntryPointPublic:
    return EntryPointPublic(
        code=row.code,
        name=row.name,
        kind=row.kind,
        address=row.address,
        flow=row.flow,
        language=row.language,
        active=row.active,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def list_functions(session: Session, tenant_id: int, include_inactive: bool = True) -> list[t.FlowFunction]:
    stmt = select(t.FlowFunction).where(t.FlowFunction.tenant_id == tenant_id)
    if not include_inactive:
        stmt = stmt.where(t.FlowFunction.active.is_(True))
    return list(session.scalars(stmt.order_by(t.FlowFunction.code)))


def get_function(session: Session, tenant_id: int, code: str) -> t.FlowFunction | None:
    return session.scalar(
        select(t.FlowFunction).where(t.FlowFunction.tenant_id == tenant_id, t.FlowFunction.code == code)
    )


def active_functions(session: Session, tenant_id: int) -> dict[str, t.FlowFunction]:
    """The contact center's active HTTP functions by code: what its flows may `invoke` over HTTP."""
    return {f.code: f for f in list_functions(session, tenant_id, include_inactive=False)}


def function_public(row: t.FlowFunction, show_values: bool) -> FunctionPublic:
    """A function for the API: header values only with `show_values` (admins); otherwise null, since they
    may be secrets (API keys)."""
    headers = dict(row.headers or {})
    return FunctionPublic(
        code=row.code,
        url=row.url,
        headers={k: (str(v) if show_values else None) for k, v in headers.items()},
        active=row.active,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )

"""Where a contact arrives: the entry point its channel and the address it reached name, and the flow it
runs. Phone numbers compare in E.164 (the contact center's country for national numbers), e-mail
addresses without case, widget keys exactly."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from centralita.core.errors import InvalidInput
from centralita.core.i18n import _
from centralita.core.phones import normalize_identity
from centralita.store import tables as t

__all__ = ["ENTRY_KIND", "entry_point_at", "widget_entry_point"]

ENTRY_KIND = {"voice": "phone", "sms": "phone", "chat": "chat", "email": "email"}


def _address(session: Session, tenant_id: int, kind: str, address: str) -> str:
    if kind == "phone":
        tenant = session.get(t.Tenant, tenant_id)
        return normalize_identity("phone", address, tenant.country if tenant is not None else "ES")
    if kind == "email":
        return address.strip().lower()
    return address.strip()


def entry_point_at(session: Session, tenant_id: int, channel: str, to: str | None) -> t.EntryPoint:
    """The tenant's active entry point that a contact on `channel` reached at `to`; else an error naming
    `to` (a contact without a queue runs the flow of the entry point it reached)."""
    if not to:
        raise InvalidInput.field("to", _("give the queue, or the number or address reached (an entry point)"))
    kind = ENTRY_KIND.get(channel, channel)
    try:
        address = _address(session, tenant_id, kind, to)
    except InvalidInput:
        address = to
    found = session.scalar(
        select(t.EntryPoint).where(
            t.EntryPoint.tenant_id == tenant_id,
            t.EntryPoint.kind == kind,
            t.EntryPoint.address == address,
            t.EntryPoint.active,
        )
    )
    if found is None:
        raise InvalidInput.field("to", _("no entry point at {address!r} for {channel}", address=to, channel=channel))
    return found


def widget_entry_point(session: Session, widget_key: str) -> t.EntryPoint | None:
    """The active web chat entry point of `widget_key`, whichever contact center has it."""
    return session.scalar(
        select(t.EntryPoint).where(t.EntryPoint.kind == "chat", t.EntryPoint.address == widget_key, t.EntryPoint.active)
    )

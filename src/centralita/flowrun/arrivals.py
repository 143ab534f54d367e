"""Where a contact arrives: the entry point its channel and the address it reached name, and the flow it
runs (entrypoints/ keeps them; phone numbers compare in E.164, the contact center's country for national
numbers; e-mail addresses without case; widget keys exactly)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from centralita.core.errors import InvalidInput
from centralita.core.i18n import _
from centralita.entrypoints.queries import entry_point_for, find_entry_point
from centralita.store import tables as t

__all__ = ["ENTRY_KIND", "entry_point_at", "widget_entry_point"]

ENTRY_KIND = {"voice": "phone", "sms": "phone", "chat": "chat", "email": "email"}


def entry_point_at(session: Session, tenant_id: int, channel: str, to: str | None) -> t.EntryPoint:
    """The tenant's active entry point that a contact on `channel` reached at `to`; else an error naming
    `to` (a contact without a queue runs the flow of the entry point it reached)."""
    if not to:
        raise InvalidInput.field("to", _("give the queue, or the number or address reached (an entry point)"))
    found = entry_point_for(session, tenant_id, ENTRY_KIND.get(channel, channel), to)
    if found is None or not found.active:
        raise InvalidInput.field("to", _("no entry point at {address!r} for {channel}", address=to, channel=channel))
    return found


def widget_entry_point(session: Session, widget_key: str) -> t.EntryPoint | None:
    """The active web chat entry point of `widget_key`, whichever contact center has it."""
    return find_entry_point(session, "chat", widget_key)

"""Rows by their code: every configurable row (queue, agent, skill, reason, hours…) has a tenant and a code."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from centralita.core.actor import Actor
from centralita.core.errors import InvalidInput, NotFound, unknown_code
from centralita.core.i18n import _

__all__ = ["code_or_not_found", "get_by_code", "list_by_code", "no_such", "resolve_code"]

M = TypeVar("M")


def get_by_code(session: Session, model: type[M], tenant_id: int, code: str) -> M | None:
    """The tenant's row of `model` (any table with tenant_id and code) with that code."""
    m: Any = model
    found: M | None = session.scalar(select(m).where(m.tenant_id == tenant_id, m.code == code))
    return found


def code_or_not_found(session: Session, model: type[M], tenant_id: int, code: str, what: str) -> M:
    """Like get_by_code, but a NotFound naming `what` when there is no such row."""
    row = get_by_code(session, model, tenant_id, code)
    if row is None:
        raise NotFound(no_such(what, code))
    return row


def no_such(what: str, code: str) -> str:
    """`no <what> <code!r>`, for the kinds of row callers name (`what`: agent, skill, queue, …)."""
    messages = {
        "agent": lambda: _("no agent {code!r}", code=code),
        "skill": lambda: _("no skill {code!r}", code=code),
        "queue": lambda: _("no queue {code!r}", code=code),
        "hours calendar": lambda: _("no hours calendar {code!r}", code=code),
        "reason": lambda: _("no reason {code!r}", code=code),
        "entry point": lambda: _("no entry point {code!r}", code=code),
        "function": lambda: _("no function {code!r}", code=code),
    }
    message = messages.get(what)
    return message() if message is not None else _("no {what} {code!r}", what=what, code=code)


def list_by_code(session: Session, model: type[M], tenant_id: int) -> list[M]:
    m: Any = model
    return list(session.scalars(select(m).where(m.tenant_id == tenant_id).order_by(m.code)))


def resolve_code(session: Session, actor: Actor, model: Any, code: str | None, field: str) -> int | None:
    """Id of the tenant's row with `code`; a precise error naming `field` when there is none."""
    if code is None:
        return None
    found = session.scalar(select(model.id).where(model.tenant_id == actor.tenant_id, model.code == code))
    if found is None:
        raise InvalidInput.field(field, unknown_code(field, code))
    return int(found)

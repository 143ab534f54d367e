"""The only writers of the knowledge base and the agent scripts: one `do_*` per change, one event each."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from centralita.core.actor import Actor
from centralita.core.errors import Conflict, ErrorList
from centralita.core.i18n import _
from centralita.events.log import append_event
from centralita.knowledge.schemas import ArticleCreate, ScriptCreate
from centralita.store import tables as t
from centralita.store.lookup import get_by_code

__all__ = ["do_delete_article", "do_delete_script", "do_put_article", "do_put_script"]

_Row = TypeVar("_Row", t.KbArticle, t.AgentScript)


def _check_reasons(session: Session, actor: Actor, reasons: list[str], errors: ErrorList) -> None:
    known = set(
        session.scalars(select(t.Reason.code).where(t.Reason.tenant_id == actor.tenant_id, t.Reason.code.in_(reasons)))
    )
    seen: set[str] = set()
    for index, code in enumerate(reasons):
        if code not in known:
            errors.add(["reasons", index], _("unknown reason {code!r}", code=code))
        elif code in seen:
            errors.add(["reasons", index], _("reason {code!r} is listed twice", code=code))
        seen.add(code)


def _flush_new(session: Session, code: str) -> None:
    """Write a new row now: another request creating the same code at the same time is a conflict (409),
    not a server error (PostgreSQL; SQLite writers run one at a time)."""
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict(_("{code!r} was just created by another request; try again", code=code)) from exc


def _save(
    session: Session,
    actor: Actor,
    model: type[_Row],
    data: ArticleCreate | ScriptCreate,
    event: str,
    extra: dict[str, object],
) -> _Row:
    """Create or replace the tenant's row of `model` with `data.code` and append `event` (its code, whether
    it was created, active, reasons, then `extra`); the same values change nothing and write no event."""
    values = data.model_dump(exclude={"code"})
    row = get_by_code(session, model, actor.tenant_id, data.code)
    if row is not None and all(getattr(row, key) == value for key, value in values.items()):
        return row
    now = actor.now()
    created = row is None
    if row is None:
        row = model(tenant_id=actor.tenant_id, code=data.code, updated_at=now, **values)
        session.add(row)
    else:
        for key, value in values.items():
            setattr(row, key, value)
        row.updated_at = now
    _flush_new(session, data.code)
    append_event(
        session, actor.tenant_id, event, now,
        {"code": data.code, "created": created, "active": data.active, "reasons": list(data.reasons), **extra},
        user_id=actor.user_id,
    )  # fmt: skip
    return row


def _delete(session: Session, actor: Actor, model: type[_Row], row: _Row, event: str) -> None:
    """Delete `row` and append `event` with its code."""
    code = row.code
    session.execute(delete(model).where(model.id == row.id))
    append_event(session, actor.tenant_id, event, actor.now(), {"code": code}, user_id=actor.user_id)


def do_put_article(session: Session, actor: Actor, data: ArticleCreate) -> t.KbArticle:
    """Create or replace an article (`kb_article.saved`); the same values change nothing."""
    errors = ErrorList()
    _check_reasons(session, actor, data.reasons, errors)
    errors.raise_if_any(_("the article is not valid"))
    return _save(session, actor, t.KbArticle, data, "kb_article.saved", {})


def do_delete_article(session: Session, actor: Actor, row: t.KbArticle) -> None:
    _delete(session, actor, t.KbArticle, row, "kb_article.deleted")


def do_put_script(session: Session, actor: Actor, data: ScriptCreate) -> t.AgentScript:
    """Create or replace a script (`agent_script.saved`); the same values change nothing. An active script's
    reasons have no other active script (a reason shows one script)."""
    errors = ErrorList()
    _check_reasons(session, actor, data.reasons, errors)
    if data.active:
        others = session.scalars(
            select(t.AgentScript).where(
                t.AgentScript.tenant_id == actor.tenant_id,
                t.AgentScript.active.is_(True),
                t.AgentScript.code != data.code,
            )
        )
        taken = {reason: other.code for other in others for reason in other.reasons or []}
        for index, code in enumerate(data.reasons):
            if code in taken:
                errors.add(
                    ["reasons", index],
                    _("reason {code!r} already has the active script {script!r}", code=code, script=taken[code]),
                )
    errors.raise_if_any(_("the script is not valid"))
    return _save(session, actor, t.AgentScript, data, "agent_script.saved", {"steps": len(data.steps)})


def do_delete_script(session: Session, actor: Actor, row: t.AgentScript) -> None:
    _delete(session, actor, t.AgentScript, row, "agent_script.deleted")

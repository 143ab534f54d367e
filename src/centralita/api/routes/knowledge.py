"""The knowledge base and the agent scripts: search and read (agents and up), write articles (supervisors
and admins), write scripts (admins); a contact's script, filled in, and its reason's articles."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import APIRouter, Path, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

from centralita import access
from centralita.api.auth import AdminActor, AgentActor, ServiceDep, SupervisorActor
from centralita.core.actor import Actor
from centralita.core.errors import NotFound
from centralita.core.i18n import _
from centralita.core.vocabulary import CODE
from centralita.knowledge import actions, queries
from centralita.knowledge.schemas import (
    ArticleBody,
    ArticleCreate,
    ArticleHit,
    ArticlePublic,
    ContactScript,
    ScriptBody,
    ScriptCreate,
    ScriptPublic,
)
from centralita.service import Service
from centralita.store import tables as t

router = APIRouter(tags=["knowledge base and scripts"])
CodePath = Annotated[str, Path(pattern=CODE)]
_Data = TypeVar("_Data")
_Row = TypeVar("_Row")
_Out = TypeVar("_Out")


def _article(s: Session, actor: Actor, code: str) -> t.KbArticle:
    row = s.scalar(select(t.KbArticle).where(t.KbArticle.tenant_id == actor.tenant_id, t.KbArticle.code == code))
    if row is None or (not row.active and not actor.at_least("supervisor")):
        raise NotFound(_("no article {code!r}", code=code))
    return row


def _script(s: Session, actor: Actor, code: str) -> t.AgentScript:
    row = s.scalar(select(t.AgentScript).where(t.AgentScript.tenant_id == actor.tenant_id, t.AgentScript.code == code))
    if row is None:
        raise NotFound(_("no script {code!r}", code=code))
    return row


def _article_public(row: t.KbArticle) -> ArticlePublic:
    return ArticlePublic(
        code=row.code,
        title=row.title,
        body=row.body,
        tags=list(row.tags or []),
        reasons=list(row.reasons or []),
        language=row.language,
        active=row.active,
        updated_at=row.updated_at,
    )


def _script_public(row: t.AgentScript) -> ScriptPublic:
    return ScriptPublic(
        code=row.code,
        name=row.name,
        reasons=list(row.reasons or []),
        language=row.language,
        steps=[{"title": str(step["title"]), "text": str(step["text"])} for step in row.steps or []],
        active=row.active,
        updated_at=row.updated_at,
    )


def _put(
    svc: Service,
    actor: Actor,
    data: _Data,
    save: Callable[[Session, Actor, _Data], _Row],
    public: Callable[[_Row], _Out],
) -> _Out:
    """A PUT: the `do_put_*` in one write transaction, then the row as the API shows it."""
    with svc.db.write() as s:
        return public(save(s, actor, data))


def _delete(
    svc: Service,
    actor: Actor,
    code: str,
    find: Callable[[Session, Actor, str], _Row],
    delete: Callable[[Session, Actor, _Row], None],
) -> None:
    """A DELETE: the row (`find` raises NotFound) and its `do_delete_*`, in one write transaction."""
    with svc.db.write() as s:
        delete(s, actor, find(s, actor, code))


@router.get("/kb/articles")
def search_articles(
    actor: AgentActor,
    svc: ServiceDep,
    q: Annotated[str | None, Query(max_length=200, description="words to find in title, tags and body")] = None,
    reason: Annotated[str | None, Query(pattern=CODE, description="only articles about this contact reason")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[ArticleHit]:
    """Active articles with every word of `q` (case and accents ignored), title matches first; without
    `q`, all of them by title. Each with a plain-text excerpt around its first match."""
    with svc.db.read() as s:
        return queries.search_articles(s, actor.tenant_id, q, reason, limit)


@router.get("/kb/articles/{code}")
def get_article(code: CodePath, actor: AgentActor, svc: ServiceDep) -> ArticlePublic:
    """An article with its whole Markdown body (an inactive one: supervisors and admins only)."""
    with svc.db.read() as s:
        return _article_public(_article(s, actor, code))


@router.put("/kb/articles/{code}")
def put_article(code: CodePath, body: ArticleBody, actor: SupervisorActor, svc: ServiceDep) -> ArticlePublic:
    """Create or replace an article; the same values change nothing. Every reason must exist."""
    return _put(svc, actor, ArticleCreate(code=code, **body.model_dump()), actions.do_put_article, _article_public)


@router.delete("/kb/articles/{code}", status_code=204)
def delete_article(code: CodePath, actor: SupervisorActor, svc: ServiceDep) -> None:
    _delete(svc, actor, code, _article, actions.do_delete_article)


@router.get("/scripts")
def list_scripts(actor: SupervisorActor, svc: ServiceDep) -> list[ScriptPublic]:
    """Every agent script, by code, with its steps as written (placeholders not filled in)."""
    with svc.db.read() as s:
        rows = s.scalars(
            select(t.AgentScript).where(t.AgentScript.tenant_id == actor.tenant_id).order_by(t.AgentScript.code)
        )
        return [_script_public(r) for r in rows]


@router.get("/scripts/{code}")
def get_script(code: CodePath, actor: SupervisorActor, svc: ServiceDep) -> ScriptPublic:
    with svc.db.read() as s:
        return _script_public(_script(s, actor, code))


@router.put("/scripts/{code}")
def put_script(code: CodePath, body: ScriptBody, actor: AdminActor, svc: ServiceDep) -> ScriptPublic:
    """Create or replace a script; the same values change nothing. Every reason must exist and have no
    other active script; every placeholder must be known."""
    return _put(svc, actor, ScriptCreate(code=code, **body.model_dump()), actions.do_put_script, _script_public)


@router.delete("/scripts/{code}", status_code=204)
def delete_script(code: CodePath, actor: AdminActor, svc: ServiceDep) -> None:
    _delete(svc, actor, code, _script, actions.do_delete_script)


@router.get("/contacts/{contact_id}/script")
def contact_script(contact_id: int, actor: AgentActor, svc: ServiceDep) -> ContactScript:
    """The active script for the contact's reason (else the reason its flow collected), its placeholders
    filled in with the contact's data (`—` where missing), as plain text. Whoever may see the contact."""
    with svc.db.read() as s:
        return queries.contact_script(s, access.access_contact(s, actor, contact_id))


@router.get("/contacts/{contact_id}/articles")
def contact_articles(contact_id: int, actor: AgentActor, svc: ServiceDep) -> list[ArticleHit]:
    """Up to 5 active articles about the contact's reason, its most precise reason first."""
    with svc.db.read() as s:
        return queries.contact_articles(s, access.access_contact(s, actor, contact_id))

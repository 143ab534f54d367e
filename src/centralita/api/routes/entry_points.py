"""Entry points (`/api/entry-points`: a called number, a chat widget key or an e-mail address mapped to the
flow its contacts run) and HTTP flow functions (`/api/functions`).

Reading needs a supervisor, writing an admin. Header values of functions may be secrets (API keys): only
an admin reads them back; a supervisor gets each header's name with a null value.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy.orm import Session

from centralita.api.auth import AdminActor, ServiceDep, SupervisorActor
from centralita.api.openapi import problem_response
from centralita.core.actor import Actor
from centralita.core.errors import NotFound
from centralita.entrypoints import actions, queries
from centralita.entrypoints.schemas import (
    EntryPointCreate,
    EntryPointPublic,
    EntryPointUpdate,
    FunctionCreate,
    FunctionPublic,
    FunctionUpdate,
)
from centralita.store import tables as t
from centralita.store.lookup import no_such

router = APIRouter(tags=["entry points and flow functions"])

_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: problem_response("No such code in this contact center")}
_CONFLICT: dict[int | str, dict[str, Any]] = {
    409: problem_response("The code, or the entry point's address, is already taken")
}


def _entry_point(s: Session, actor: Actor, code: str) -> t.EntryPoint:
    row = queries.get_entry_point(s, actor.tenant_id, code)
    if row is None:
        raise NotFound(no_such("entry point", code))
    return row


def _function(s: Session, actor: Actor, code: str) -> t.FlowFunction:
    row = queries.get_function(s, actor.tenant_id, code)
    if row is None:
        raise NotFound(no_such("function", code))
    return row


@router.get("/entry-points")
def list_entry_points(actor: SupervisorActor, svc: ServiceDep, include_inactive: bool = True) -> list[EntryPointPublic]:
    with svc.db.read() as s:
        rows = queries.list_entry_points(s, actor.tenant_id, include_inactive)
        return [queries.entry_point_public(r) for r in rows]


@router.post("/entry-points", status_code=201, responses=_CONFLICT)
def create_entry_point(body: EntryPointCreate, actor: AdminActor, svc: ServiceDep) -> EntryPointPublic:
    """A new entry point. Its flow must be published in this contact center (422 naming `flow`); an
    address any contact center already uses is a 409 naming `address`."""
    with svc.db.write() as s:
        return queries.entry_point_public(actions.do_create_entry_point(s, actor, body))


@router.get("/entry-points/{code}", responses=_NOT_FOUND)
def get_entry_point(code: str, actor: SupervisorActor, svc: ServiceDep) -> EntryPointPublic:
    with svc.db.read() as s:
        return queries.entry_point_public(_entry_point(s, actor, code))


@router.patch("/entry-points/{code}", responses={**_NOT_FOUND, **_CONFLICT})
def update_entry_point(code: str, body: EntryPointUpdate, actor: AdminActor, svc: ServiceDep) -> EntryPointPublic:
    """Change the fields given; `{"active": false}` deactivates it (contacts no longer arrive there)."""
    with svc.db.write() as s:
        row = actions.do_update_entry_point(s, actor, _entry_point(s, actor, code), body)
        return queries.entry_point_public(row)


@router.get("/functions")
def list_functions(actor: SupervisorActor, svc: ServiceDep, include_inactive: bool = True) -> list[FunctionPublic]:
    """The HTTP functions flows may `invoke`; header values only for an admin."""
    admin = actor.at_least("admin")
    with svc.db.read() as s:
        return [queries.function_public(r, admin) for r in queries.list_functions(s, actor.tenant_id, include_inactive)]


@router.post("/functions", status_code=201, responses=_CONFLICT)
def create_function(body: FunctionCreate, actor: AdminActor, svc: ServiceDep) -> FunctionPublic:
    with svc.db.write() as s:
        return queries.function_public(actions.do_create_function(s, actor, body), True)


@router.get("/functions/{code}", responses=_NOT_FOUND)
def get_function(code: str, actor: SupervisorActor, svc: ServiceDep) -> FunctionPublic:
    with svc.db.read() as s:
        return queries.function_public(_function(s, actor, code), actor.at_least("admin"))


@router.patch("/functions/{code}", responses=_NOT_FOUND)
def update_function(code: str, body: FunctionUpdate, actor: AdminActor, svc: ServiceDep) -> FunctionPublic:
    """Change the fields given (`headers` replaces them all); `{"active": false}` deactivates it."""
    with svc.db.write() as s:
        return queries.function_public(actions.do_update_function(s, actor, _function(s, actor, code), body), True)

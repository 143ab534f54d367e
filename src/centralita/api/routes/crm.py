"""Customers, identities, the customer 360 lookup (screen pop) and cases."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from centralita import access
from centralita.api.auth import AgentActor, AgentReading, ServiceDep, SupervisorActor
from centralita.api.openapi import problem_response
from centralita.core.actor import Actor
from centralita.core.errors import InvalidInput, NotFound
from centralita.core.i18n import _
from centralita.core.vocabulary import Strict
from centralita.crm import actions, queries
from centralita.crm.schemas import (
    CaseCreate,
    CasePublic,
    CaseUpdate,
    Customer360,
    CustomerCreate,
    CustomerPublic,
    CustomerUpdate,
    IdentityCreate,
    IdentityPublic,
    NoteCreate,
    NotePublic,
)
from centralita.store import tables as t

router = APIRouter(tags=["customers and cases"])


class CustomerPage(BaseModel):
    items: list[CustomerPublic]
    total: int
    limit: int
    offset: int


class CasePage(BaseModel):
    items: list[CasePublic]
    total: int
    limit: int
    offset: int


Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0)]


def _customer(s: Session, actor: Actor, customer_id: int) -> t.Customer:
    customer = queries.get_customer(s, actor.tenant_id, customer_id)
    if customer is None:
        raise NotFound(_("no customer {id}", id=customer_id))
    return customer


@router.get("/customers")
def list_customers(
    actor: AgentActor,
    svc: ServiceDep,
    q: str | None = None,
    segment: str | None = None,
    value_tier: str | None = None,
    lifecycle_stage: str | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> CustomerPage:
    with svc.db.read() as s:
        rows, total = queries.list_customers(
            s,
            actor.tenant_id,
            q=q,
            segment=segment,
            value_tier=value_tier,
            lifecycle_stage=lifecycle_stage,
            limit=limit,
            offset=offset,
        )
        return CustomerPage(
            items=[queries.customer_public(s, c) for c in rows], total=total, limit=limit, offset=offset
        )


@router.get(
    "/customers/lookup",
    response_model=Customer360,
    responses={404: problem_response("No customer has that identity")},
)
def lookup_customer(
    gate: AgentReading,
    phone: str | None = None,
    email: str | None = None,
    chat: str | None = None,
    external: str | None = None,
    national_id: str | None = None,
) -> Response:
    """The screen pop: any one identity → the customer 360 (profile, value, open cases, last contacts).

    The hot path of every incoming contact: authentication and the lookup share one read session (and
    one worker thread), the tenant's country comes with the token, and the 360 is serialised once.
    """
    given = {
        k: v
        for k, v in {
            "phone": phone,
            "email": email,
            "chat": chat,
            "external": external,
            "national_id": national_id,
        }.items()
        if v is not None
    }
    with gate.open() as reading:
        if len(given) != 1:
            raise InvalidInput.field("query", _("give exactly one of phone, email, chat, external, national_id"))
        ((kind, value),) = given.items()
        actor, s = reading.actor, reading.session
        try:
            found = queries.customer_360(s, actor.tenant_id, reading.tenant_country(), kind, value)
        except InvalidInput as exc:
            raise InvalidInput.field(kind, exc.errors[0].message if exc.errors else exc.detail) from None
        if found is None:
            raise NotFound(queries.no_customer_with(kind, value))
    return Response(found.model_dump_json(), media_type="application/json")


@router.post("/customers", status_code=201)
def create_customer(body: CustomerCreate, actor: AgentActor, svc: ServiceDep) -> CustomerPublic:
    with svc.db.write() as s:
        return queries.customer_public(s, actions.do_create_customer(s, actor, body))


@router.get("/customers/{customer_id}")
def get_customer(customer_id: int, actor: AgentActor, svc: ServiceDep) -> CustomerPublic:
    with svc.db.read() as s:
        return queries.customer_public(s, _customer(s, actor, customer_id))


@router.patch("/customers/{customer_id}")
def update_customer(customer_id: int, body: CustomerUpdate, actor: AgentActor, svc: ServiceDep) -> CustomerPublic:
    with svc.db.write() as s:
        customer = actions.do_update_customer(s, actor, _customer(s, actor, customer_id), body)
        return queries.customer_public(s, customer)


@router.post("/customers/{customer_id}/identities", status_code=201)
def add_identity(customer_id: int, body: IdentityCreate, actor: AgentActor, svc: ServiceDep) -> IdentityPublic:
    with svc.db.write() as s:
        return IdentityPublic.model_validate(actions.do_add_identity(s, actor, _customer(s, actor, customer_id), body))


@router.delete("/customers/{customer_id}/identities/{identity_id}", status_code=204)
def remove_identity(customer_id: int, identity_id: int, actor: SupervisorActor, svc: ServiceDep) -> None:
    with svc.db.write() as s:
        actions.do_remove_identity(s, actor, _customer(s, actor, customer_id), identity_id)


def _case(s: Session, actor: Actor, case_ref: str) -> t.Case:
    case = queries.get_case(s, actor.tenant_id, case_ref)
    return access.access_case(actor, access.served_queues(s, actor), case, case_ref)


@router.get("/cases")
def list_cases(
    actor: AgentActor,
    svc: ServiceDep,
    status: str | None = None,
    customer_id: int | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> CasePage:
    with svc.db.read() as s:
        visible = access.cases_visible(actor, access.served_queues(s, actor))
        rows, total = queries.list_cases(
            s,
            actor.tenant_id,
            status=status,
            customer_id=customer_id,
            visible=visible,
            limit=limit,
            offset=offset,
        )
        return CasePage(items=[queries.case_public(s, c) for c in rows], total=total, limit=limit, offset=offset)


@router.post("/cases", status_code=201)
def open_case(body: CaseCreate, actor: AgentActor, svc: ServiceDep) -> CasePublic:
    with svc.db.write() as s:
        return queries.case_public(s, actions.do_open_case(s, actor, body))


@router.get("/cases/{case_ref}")
def get_case(case_ref: str, actor: AgentActor, svc: ServiceDep) -> CasePublic:
    """A case by id or by its reference (any case, dashes optional: `k7m42q` finds `K7M-42Q`)."""
    with svc.db.read() as s:
        return queries.case_public(s, _case(s, actor, case_ref))


@router.patch("/cases/{case_ref}")
def update_case(case_ref: str, body: CaseUpdate, actor: AgentActor, svc: ServiceDep) -> CasePublic:
    with svc.db.write() as s:
        return queries.case_public(s, actions.do_update_case(s, actor, _case(s, actor, case_ref), body))


@router.post("/cases/{case_ref}/notes", status_code=201)
def add_note(case_ref: str, body: NoteCreate, actor: AgentActor, svc: ServiceDep) -> NotePublic:
    with svc.db.write() as s:
        return NotePublic.model_validate(actions.do_add_case_note(s, actor, _case(s, actor, case_ref), body))


class LinkContact(Strict):
    contact_id: int


@router.post("/cases/{case_ref}/contacts")
def link_contact(case_ref: str, body: LinkContact, actor: AgentActor, svc: ServiceDep) -> CasePublic:
    with svc.db.write() as s:
        case = actions.do_link_case_contact(s, actor, _case(s, actor, case_ref), body.contact_id)
        return queries.case_public(s, case)

"""CRM actions: the only writers of customers, identities, cases and case notes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from centralita.access import can_see_contact, check_customer_fields, served_queues
from centralita.core.actor import Actor
from centralita.core.diff import apply_changes
from centralita.core.errors import Conflict, ErrorList, FieldError, InvalidInput, NotFound
from centralita.core.i18n import _
from centralita.core.ids import new_case_reference
from centralita.core.phones import normalize_identity
from centralita.crm.schemas import (
    CaseCreate,
    CaseUpdate,
    CustomerCreate,
    CustomerUpdate,
    IdentityCreate,
    NoteCreate,
)
from centralita.events.log import append_event
from centralita.store import tables as t
from centralita.store.lookup import resolve_code

__all__ = ["do_create_customer", "do_link_case_contact", "do_open_case", "do_update_case", "do_update_customer"]


def _tenant(session: Session, actor: Actor) -> t.Tenant:
    tenant = session.get(t.Tenant, actor.tenant_id)
    if tenant is None:
        raise NotFound(_("unknown contact center"))
    return tenant


def _check_classification(tenant: t.Tenant, values: dict[str, Any], errors: ErrorList) -> None:
    settings = tenant.settings or {}
    for key, allowed_key in (("segment", "segments"), ("value_tier", "value_tiers")):
        value = values.get(key)
        allowed = settings.get(allowed_key)
        if value is not None and allowed and value not in allowed:
            choices = ", ".join(allowed)
            if key == "segment":
                errors.add([key], _("unknown segment {value!r}; one of {choices}", value=value, choices=choices))
            else:
                errors.add([key], _("unknown value_tier {value!r}; one of {choices}", value=value, choices=choices))


def _normalized_identities(
    session: Session,
    tenant: t.Tenant,
    identities: list[IdentityCreate],
    errors: ErrorList,
    owner_id: int | None,
    conflicts: list[FieldError] | None = None,
) -> list[tuple[str, str, bool]]:
    """Canonical identities; problems go to `errors`, and those with another customer's identity to `conflicts` too."""
    out: list[tuple[str, str, bool]] = []
    seen: set[tuple[str, str]] = set()
    for i, ident in enumerate(identities):
        try:
            value = normalize_identity(ident.kind, ident.value, tenant.country)
        except InvalidInput as exc:
            errors.add(["identities", i, "value"], exc.errors[0].message if exc.errors else exc.detail)
            continue
        if (ident.kind, value) in seen:
            errors.add(["identities", i, "value"], _("{kind} {value} is listed twice", kind=ident.kind, value=value))
            continue
        seen.add((ident.kind, value))
        holder = session.scalar(
            select(t.CustomerIdentity.customer_id).where(
                t.CustomerIdentity.tenant_id == tenant.id,
                t.CustomerIdentity.kind == ident.kind,
                t.CustomerIdentity.value == value,
            )
        )
        if holder is not None and holder != owner_id:
            message = _(
                "{kind} {value} already belongs to customer {holder}", kind=ident.kind, value=value, holder=holder
            )
            errors.add(["identities", i, "value"], message)
            if conflicts is not None:
                conflicts.append(errors.errors[-1])
            continue
        out.append((ident.kind, value, ident.verified))
    return out


def do_create_customer(session: Session, actor: Actor, data: CustomerCreate) -> t.Customer:
    tenant = _tenant(session, actor)
    given = {f for f in data.model_fields_set if getattr(data, f) not in (None, {}, [])}
    check_customer_fields(actor, tenant.settings, given)
    errors = ErrorList()
    values = data.model_dump(exclude={"identities", "owner"})
    _check_classification(tenant, values, errors)
    if data.external_id is not None and session.scalar(
        select(t.Customer.id).where(t.Customer.tenant_id == actor.tenant_id, t.Customer.external_id == data.external_id)
    ):
        errors.add(
            ["external_id"], _("a customer with external_id {external_id!r} exists", external_id=data.external_id)
        )
    owner_id = None
    try:
        owner_id = resolve_code(session, actor, t.Agent, data.owner, "owner")
    except InvalidInput as exc:
        errors.errors.extend(exc.errors)
    identities = _normalized_identities(session, tenant, data.identities, errors, None)
    errors.raise_if_any(_("the customer is not valid"))
    now = actor.now()
    customer = t.Customer(tenant_id=actor.tenant_id, owner_agent_id=owner_id, created_at=now, updated_at=now, **values)
    session.add(customer)
    session.flush()
    for kind, value, verified in identities:
        session.add(
            t.CustomerIdentity(
                tenant_id=actor.tenant_id,
                customer_id=customer.id,
                kind=kind,
                value=value,
                verified=verified,
                created_at=now,
            )
        )
    append_event(
        session,
        actor.tenant_id,
        "customer.created",
        now,
        {
            "name": customer.name,
            "segment": customer.segment,
            "identities": [[k, v] for k, v, _verified in identities],
        },
        customer_id=customer.id,
        user_id=actor.user_id,
    )
    return customer


def do_update_customer(session: Session, actor: Actor, customer: t.Customer, data: CustomerUpdate) -> t.Customer:
    """Change the customer's profile. An agent corrects contact details and notes; the fields the tenant
    reserves to supervisors (segment, value tier, lifetime value, owner by default) are refused (403)."""
    tenant = _tenant(session, actor)
    check_customer_fields(actor, tenant.settings, data.model_fields_set)
    errors = ErrorList()
    values = data.model_dump(exclude_unset=True, exclude={"owner"})
    _check_classification(tenant, values, errors)
    if "owner" in data.model_fields_set:
        try:
            values["owner_agent_id"] = resolve_code(session, actor, t.Agent, data.owner, "owner")
        except InvalidInput as exc:
            errors.errors.extend(exc.errors)
    ext = values.get("external_id")
    if ext is not None and session.scalar(
        select(t.Customer.id).where(
            t.Customer.tenant_id == actor.tenant_id,
            t.Customer.external_id == ext,
            t.Customer.id != customer.id,
        )
    ):
        errors.add(["external_id"], _("a customer with external_id {external_id!r} exists", external_id=ext))
    for required in ("name", "kind", "language", "attributes"):
        if required in values and values[required] is None:
            errors.add([required], _("must not be null"))
    errors.raise_if_any(_("the update is not valid"))
    changes = apply_changes(customer, values)
    if changes:
        customer.updated_at = actor.now()
        append_event(
            session,
            actor.tenant_id,
            "customer.updated",
            actor.now(),
            {"changes": changes},
            customer_id=customer.id,
            user_id=actor.user_id,
        )
    return customer


def do_add_identity(session: Session, actor: Actor, customer: t.Customer, data: IdentityCreate) -> t.CustomerIdentity:
    tenant = _tenant(session, actor)
    errors = ErrorList()
    conflicts: list[FieldError] = []
    found = _normalized_identities(session, tenant, [data], errors, customer.id, conflicts)
    if errors.errors:
        first = errors.errors[0]
        first.loc = first.loc[2:] or ["value"]
        if conflicts:
            raise Conflict(first.message, errors.errors)
        errors.raise_if_any(_("the identity is not valid"))
    kind, value, verified = found[0]
    existing = session.scalar(
        select(t.CustomerIdentity).where(
            t.CustomerIdentity.tenant_id == actor.tenant_id,
            t.CustomerIdentity.kind == kind,
            t.CustomerIdentity.value == value,
        )
    )
    if existing is not None:  # already this customer's: nothing to do
        return existing
    ident = t.CustomerIdentity(
        tenant_id=actor.tenant_id,
        customer_id=customer.id,
        kind=kind,
        value=value,
        verified=verified,
        created_at=actor.now(),
    )
    session.add(ident)
    session.flush()
    append_event(
        session,
        actor.tenant_id,
        "customer.identity_added",
        actor.now(),
        {"kind": kind, "value": value},
        customer_id=customer.id,
        user_id=actor.user_id,
    )
    return ident


def do_remove_identity(session: Session, actor: Actor, customer: t.Customer, identity_id: int) -> None:
    ident = session.scalar(
        select(t.CustomerIdentity).where(
            t.CustomerIdentity.tenant_id == actor.tenant_id,
            t.CustomerIdentity.customer_id == customer.id,
            t.CustomerIdentity.id == identity_id,
        )
    )
    if ident is None:
        raise NotFound(_("customer {customer} has no identity {identity}", customer=customer.id, identity=identity_id))
    session.delete(ident)
    append_event(
        session,
        actor.tenant_id,
        "customer.identity_removed",
        actor.now(),
        {"kind": ident.kind, "value": ident.value},
        customer_id=customer.id,
        user_id=actor.user_id,
    )


MAX_REFERENCE_TRIES = 20


def _free_reference(session: Session, tenant_id: int) -> str:
    for _attempt in range(MAX_REFERENCE_TRIES):
        ref = new_case_reference()
        if session.scalar(select(t.Case.id).where(t.Case.tenant_id == tenant_id, t.Case.reference == ref)) is None:
            return ref
    raise Conflict(_("could not find a free case reference"))  # 33M per tenant: practically unreachable


def _case_refs(session: Session, actor: Actor, values: dict[str, Any], errors: ErrorList) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for field, model, target in (
        ("reason", t.Reason, "reason_id"),
        ("owner", t.Agent, "owner_agent_id"),
        ("queue", t.Queue, "queue_id"),
    ):
        if field in values:
            try:
                out[target] = resolve_code(session, actor, model, values[field], field)
            except InvalidInput as exc:
                errors.errors.extend(exc.errors)
    return out


def do_open_case(session: Session, actor: Actor, data: CaseCreate) -> t.Case:
    errors = ErrorList()
    refs = _case_refs(session, actor, data.model_dump(include={"reason", "owner", "queue"}), errors)
    if (
        data.customer_id is not None
        and session.scalar(
            select(t.Customer.id).where(t.Customer.tenant_id == actor.tenant_id, t.Customer.id == data.customer_id)
        )
        is None
    ):
        errors.add(["customer_id"], _("no customer {id}", id=data.customer_id))
    contact = None
    if data.contact_id is not None:
        contact = _visible_contact(session, actor, data.contact_id)
        if contact is None:
            errors.add(["contact_id"], _("no contact {id}", id=data.contact_id))
    errors.raise_if_any(_("the case is not valid"))
    now = actor.now()
    customer_id = data.customer_id if data.customer_id is not None else (contact.customer_id if contact else None)
    case = t.Case(
        tenant_id=actor.tenant_id,
        reference=_free_reference(session, actor.tenant_id),
        customer_id=customer_id,
        subject=data.subject,
        status="open",
        priority=data.priority,
        due_at=data.due_at,
        created_at=now,
        updated_at=now,
        **refs,
    )
    session.add(case)
    session.flush()
    append_event(
        session,
        actor.tenant_id,
        "case.opened",
        now,
        {"reference": case.reference, "subject": case.subject, "status": case.status},
        case_id=case.id,
        customer_id=customer_id,
        contact_id=data.contact_id,
        user_id=actor.user_id,
    )
    if contact is not None:
        _link(session, actor, case, contact.id)
    if data.note:
        do_add_case_note(session, actor, case, NoteCreate(text=data.note))
    return case


def do_update_case(session: Session, actor: Actor, case: t.Case, data: CaseUpdate) -> t.Case:
    errors = ErrorList()
    raw = data.model_dump(exclude_unset=True)
    values = {k: v for k, v in raw.items() if k not in ("reason", "owner", "queue")}
    values.update(_case_refs(session, actor, raw, errors))
    for required in ("subject", "status", "priority"):
        if required in values and values[required] is None:
            errors.add([required], _("must not be null"))
    errors.raise_if_any(_("the update is not valid"))
    changes = apply_changes(case, values)
    if "status" in changes:
        case.closed_at = actor.now() if case.status in ("resolved", "closed") else None
    if changes:
        case.updated_at = actor.now()
        append_event(
            session,
            actor.tenant_id,
            "case.updated",
            actor.now(),
            {"reference": case.reference, "changes": changes},
            case_id=case.id,
            customer_id=case.customer_id,
            user_id=actor.user_id,
        )
    return case


def do_add_case_note(session: Session, actor: Actor, case: t.Case, data: NoteCreate) -> t.CaseNote:
    note = t.CaseNote(
        tenant_id=actor.tenant_id,
        case_id=case.id,
        author_user_id=actor.user_id,
        text=data.text,
        created_at=actor.now(),
    )
    session.add(note)
    session.flush()
    case.updated_at = actor.now()
    append_event(
        session,
        actor.tenant_id,
        "case.note_added",
        actor.now(),
        {"reference": case.reference, "note_id": note.id},
        case_id=case.id,
        user_id=actor.user_id,
    )
    return note


def _link(session: Session, actor: Actor, case: t.Case, contact_id: int) -> None:
    if session.get(t.CaseContact, (case.id, contact_id)) is not None:
        return
    session.add(t.CaseContact(case_id=case.id, contact_id=contact_id))
    append_event(
        session,
        actor.tenant_id,
        "case.contact_linked",
        actor.now(),
        {"reference": case.reference},
        case_id=case.id,
        contact_id=contact_id,
        user_id=actor.user_id,
    )


def _visible_contact(session: Session, actor: Actor, contact_id: int) -> t.Contact | None:
    """The contact, when the actor may see it; one it may not see is as one that does not exist (no hint
    that the id is taken)."""
    contact = session.scalar(
        select(t.Contact).where(t.Contact.tenant_id == actor.tenant_id, t.Contact.id == contact_id)
    )
    if contact is None or not can_see_contact(session, actor, served_queues(session, actor), contact):
        return None
    return contact


def do_link_case_contact(session: Session, actor: Actor, case: t.Case, contact_id: int) -> t.Case:
    contact = _visible_contact(session, actor, contact_id)
    if contact is None:
        raise InvalidInput.field("contact_id", _("no contact {id}", id=contact_id))
    _link(session, actor, case, contact_id)
    return case

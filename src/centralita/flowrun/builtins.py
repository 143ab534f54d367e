"""The built-in flow functions (flows-and-routing.md §3): `crm.identify` and `crm.open_case`.

Both write through the features' actions in one transaction each, as the tenant's system actor `flow`
(`Call.actor`), so their events are those an agent's identical action would append.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from centralita.contacts.identification import do_identify_contact
from centralita.core.errors import InvalidInput
from centralita.core.i18n import _, using
from centralita.crm.actions import do_open_case
from centralita.crm.queries import find_identity, flow_customer
from centralita.crm.schemas import CaseCreate
from centralita.flowrun.functions import Call, FunctionFailed, flow_function
from centralita.store import tables as t

__all__ = ["crm_identify", "crm_open_case"]

SUBJECT_MAX = 300


def _contact(session: Session, call: Call) -> t.Contact:
    """The contact the call serves, locked for this transaction (PostgreSQL) against a concurrent write of
    the same row (the flow runtime merging into `collected`)."""
    contact = session.scalar(
        select(t.Contact)
        .where(t.Contact.tenant_id == call.tenant_id, t.Contact.id == call.contact_id)
        .with_for_update()
    )
    if contact is None:
        raise FunctionFailed(f"no contact {call.contact_id}")
    return contact


@flow_function("crm.identify")
def crm_identify(call: Call) -> Mapping[str, Any]:
    """`{kind, value}` → `{customer: <the customer as flows see it>}`: the customer whose identity of that
    kind (phone, email, chat, external, national_id) is `value`, normalised as the CRM stores it (a phone
    number in the tenant's country's format, a national id without spaces or dashes). A match becomes the
    contact's customer (`contacts.identification.do_identify_contact`: re-identified when it was another
    customer). No match, an unknown kind or a value that cannot be one (not a phone number…) → error."""
    kind, value = call.input.get("kind"), call.input.get("value")
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(kind, str) or not isinstance(value, str):
        raise FunctionFailed("kind and value must be strings")
    with call.db.read() as session:
        tenant = session.get(t.Tenant, call.tenant_id)
        if tenant is None:
            raise FunctionFailed(f"no tenant {call.tenant_id}")
        try:
            identity = find_identity(session, call.tenant_id, tenant.country, kind, value)
        except InvalidInput:
            identity = None  # not a possible value of that kind: no one has it
        if identity is None:
            raise FunctionFailed(f"no customer with that {kind}")
        customer_id = identity.customer_id
    actor = call.actor()
    with call.db.write() as session:
        contact = _contact(session, call)
        customer = session.get(t.Customer, customer_id)
        if customer is None or customer.tenant_id != call.tenant_id:  # deleted meanwhile
            raise FunctionFailed(f"no customer with that {kind}")
        do_identify_contact(session, actor, contact, customer, kind)
        return {"customer": flow_customer(session, customer)}


@flow_function("crm.open_case")
def crm_open_case(call: Call) -> Mapping[str, Any]:
    """`{reason}` → `{case_id, reference}`: a case opened for the contact (linked to it) and its customer
    when it has one. `reason` is a reason code: when the tenant's taxonomy has it (active), the case gets
    that reason and the reason's name (in the tenant's language) as its subject; otherwise (`clave_erronea`,
    a code a flow made up) no reason and the code as the subject; none at all gives a generic subject.
    The contact's `collected` gets `{case: {id, reference}}` merged in, so the agent who takes the contact
    sees the case the flow opened."""
    raw = call.input.get("reason")
    code = raw.strip() if isinstance(raw, str) else None
    actor = call.actor()
    with call.db.write() as session:
        contact = _contact(session, call)
        tenant = session.get(t.Tenant, call.tenant_id)
        language = tenant.language if tenant is not None else "es"
        reason = (
            session.scalar(select(t.Reason).where(t.Reason.tenant_id == call.tenant_id, t.Reason.code == code))
            if code
            else None
        )
        if reason is not None and reason.active:
            subject = reason.name_en if language == "en" else reason.name_es
            reason_code: str | None = reason.code
        else:
            with using(language):
                subject = code or _("Opened by a contact flow")
            reason_code = None
        case = do_open_case(
            session,
            actor,
            CaseCreate(subject=subject[:SUBJECT_MAX], reason=reason_code, contact_id=contact.id),
        )
        contact.collected = {**(contact.collected or {}), "case": {"id": case.id, "reference": case.reference}}
        return {"case_id": case.id, "reference": case.reference}

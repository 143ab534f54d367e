"""Identifying a live contact as a customer after it arrived (a flow's `crm.identify`: the caller typed their
national id, the chat visitor gave their e-mail). Arrival identifies by the caller's number or address
(contacts/live.py); this is the later, explicit identification."""

from __future__ import annotations

from sqlalchemy.orm import Session

from centralita.core.actor import Actor
from centralita.events.log import append_event
from centralita.store import tables as t

__all__ = ["do_identify_contact"]


def do_identify_contact(session: Session, actor: Actor, contact: t.Contact, customer: t.Customer, by: str) -> bool:
    """Make `customer` the contact's customer: its id and the snapshot the contact keeps (name, segment,
    value tier, lifecycle stage), and the event `contact.identified` {by: the identity kind, segment}.

    A contact already identified as another customer is re-identified (the number it called from may be
    shared, a family or company line: what the customer says now is who is calling) and the event is
    appended again. Already this customer's: the snapshot is refreshed, no event (nothing new is known);
    returns whether the contact's customer changed."""
    if contact.tenant_id != actor.tenant_id or customer.tenant_id != actor.tenant_id:
        raise ValueError("the contact, the customer and the actor must be of one tenant")
    changed = contact.customer_id != customer.id
    contact.customer_id = customer.id
    contact.customer_name = customer.name
    contact.segment = customer.segment
    contact.value_tier = customer.value_tier
    contact.lifecycle_stage = customer.lifecycle_stage
    if changed:
        append_event(
            session,
            actor.tenant_id,
            "contact.identified",
            actor.now(),
            {"by": by, "segment": customer.segment},
            contact_id=contact.id,
            customer_id=customer.id,
            queue_id=contact.queue_id,
            agent_id=contact.agent_id,
            user_id=actor.user_id,
        )
    return changed

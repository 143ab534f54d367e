"""Who may see and do what: every visibility and permission rule, one function per question.

Routes, actions and the realtime fan-out ask these questions and nothing else decides access.

- **Tenants are apart.** A row of another contact center is never found (404, like a row that does not
  exist), so its ids tell nothing; `access_contact` and the SQL filters check the tenant first.
- **Roles:** agent < supervisor < admin (`Actor.at_least`). Routes state their minimum role with
  `api.auth.require`; the rules here are the finer ones.
- **Agents see their own work and their queues'.** An agent sees the contacts it handles or was offered
  and those waiting (or that waited) in a queue it serves — by any of the contact's memberships, so a
  contact an overflow brought into its queue is visible too; the cases it owns, those of its queues and
  unassigned ones; its own agent profile; the figures of its queues; and the events about itself, its
  queues or its own user. Supervisors and admins see all of their tenant.
- **Agents act on their own contacts.** Answer (accept, reject) an offer made to them, and hold,
  transfer, end or wrap up a contact they handle; supervisors and admins may act for any agent.
- **Only a chat's own agent writes to its customer** (`check_writes_to_customer`): not another agent, nor a
  supervisor or an admin acting for it (they may end or transfer the contact, not speak in its name).
- **Contacts enter through channels:** a supervisor, an admin, or an integration (an API token that acts
  for no agent: `Actor.integration`) brings a contact in or hangs up for the customer.
- **Customer fields:** an agent corrects a customer's contact details (name, language, identities,
  notes, attributes), but segment, value tier, lifetime value and owner are for supervisors and up,
  unless the tenant's settings list other fields (`supervisor_only_customer_fields`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, exists, or_, select, true
from sqlalchemy.orm import Session

from centralita.core.actor import Actor
from centralita.core.errors import FieldError, Forbidden, NotFound
from centralita.core.i18n import _
from centralita.events.log import EventRecord
from centralita.store import tables as t

__all__ = [
    "CUSTOMER_FIELDS",
    "SUPERVISOR_ONLY_CUSTOMER_FIELDS",
    "Served",
    "access_case",
    "access_contact",
    "acts_for_any_agent",
    "can_act_on_contact",
    "can_answer_offer",
    "can_change_agent_state",
    "can_see_agent",
    "can_see_case",
    "can_see_contact",
    "can_see_event",
    "can_see_queue",
    "can_write_to_customer",
    "cases_visible",
    "check_acts_on_contact",
    "check_agent_fields",
    "check_brings_contacts",
    "check_customer_fields",
    "check_sees_agent",
    "check_sees_queue",
    "check_writes_to_customer",
    "contacts_visible",
    "handles_or_was_offered",
    "may_need_event",
    "own_agent_rows",
    "served_queues",
    "supervisor_only_customer_fields",
    "was_offered",
]

Served = frozenset[int] | None  # the queues an actor sees; None: every queue of its tenant


def served_queues(session: Session, actor: Actor) -> Served:
    """The queues whose contacts, cases and figures the actor sees: all (None) for supervisors and admins;
    for an agent, the queues of its routing profile, reserves included; none for an agent-role user that
    is no agent."""
    if actor.at_least("supervisor"):
        return None
    if actor.agent_id is None:
        return frozenset()
    rows = session.scalars(select(t.AgentQueue.queue_id).where(t.AgentQueue.agent_id == actor.agent_id))
    return frozenset(int(q) for q in rows)


# --- queues and agents -------------------------------------------------------------------------------


def can_see_queue(actor: Actor, served: Served, queue_id: int) -> bool:
    return served is None or queue_id in served


def check_sees_queue(actor: Actor, served: Served, queue: t.Queue) -> None:
    if not can_see_queue(actor, served, queue.id):
        raise Forbidden(_("queue {code!r} is not one of yours", code=queue.code))


def can_see_agent(actor: Actor, agent_id: int) -> bool:
    """An agent sees its own profile only."""
    return acts_for_any_agent(actor) or (actor.agent_id is not None and actor.agent_id == agent_id)


def check_sees_agent(actor: Actor, agent_id: int) -> None:
    if not can_see_agent(actor, agent_id):
        raise Forbidden(_("agents see only their own profile"))


def can_change_agent_state(actor: Actor, agent_id: int) -> bool:
    """An agent changes its own state; a supervisor anyone's (e.g. logs off a forgotten seat)."""
    return can_see_agent(actor, agent_id)


# --- contacts ----------------------------------------------------------------------------------------


def _contact_queues(session: Session, contact: t.Contact) -> set[int]:
    queues = set(
        session.scalars(select(t.ContactMembership.queue_id).where(t.ContactMembership.contact_id == contact.id))
    )
    if contact.queue_id is not None:
        queues.add(contact.queue_id)
    return queues


def was_offered(session: Session, contact_id: int, agent_id: int) -> bool:
    """Whether the contact was ever offered to the agent (an offer open or ended)."""
    found = session.scalar(
        select(t.ContactOffer.id).where(t.ContactOffer.contact_id == contact_id, t.ContactOffer.agent_id == agent_id)
    )
    return found is not None


def can_see_contact(session: Session, actor: Actor, served: Served, contact: t.Contact) -> bool:
    """Its tenant's supervisors and admins; the agent that handles it or was offered it; the agents of any
    queue it waits or waited in."""
    if contact.tenant_id != actor.tenant_id:
        return False
    if served is None:
        return True
    if actor.agent_id is not None and (
        contact.agent_id == actor.agent_id or was_offered(session, contact.id, actor.agent_id)
    ):
        return True
    return bool(_contact_queues(session, contact) & served)


def handles_or_was_offered(session: Session, actor: Actor, contact: t.Contact) -> bool:
    """What only the contact's own agent sees (its screen pop): the agent handling it or offered it; its
    tenant's supervisors and admins. Not the other agents of its queues (`can_see_contact` lets them read it)."""
    if contact.tenant_id != actor.tenant_id:
        return False
    if acts_for_any_agent(actor):
        return True
    return actor.agent_id is not None and (
        contact.agent_id == actor.agent_id or was_offered(session, contact.id, actor.agent_id)
    )


def access_contact(session: Session, actor: Actor, contact_id: int, *, lock: bool = False) -> t.Contact:
    """The contact, when the actor may see it: another tenant's (or none) is 404, one not visible 403.
    With `lock`, the row is locked for the caller's transaction."""
    stmt = select(t.Contact).where(t.Contact.tenant_id == actor.tenant_id, t.Contact.id == contact_id)
    if lock:
        stmt = stmt.with_for_update(key_share=True).execution_options(populate_existing=True)
    row = session.scalar(stmt)
    if row is None:
        raise NotFound(_("no contact {id}", id=contact_id))
    if not can_see_contact(session, actor, served_queues(session, actor), row):
        raise Forbidden(_("contact {id} is not yours nor in your queues", id=contact_id))
    return row


def contacts_visible(actor: Actor, served: Served) -> ColumnElement[bool]:
    """`can_see_contact` as a SQL condition on `contacts` (the tenant is filtered by the caller)."""
    if served is None:
        return true()
    own = actor.agent_id if actor.agent_id is not None else -1
    wanted = sorted(served) or [-1]
    in_queues = exists().where(t.ContactMembership.contact_id == t.Contact.id, t.ContactMembership.queue_id.in_(wanted))
    offered = exists().where(t.ContactOffer.contact_id == t.Contact.id, t.ContactOffer.agent_id == own)
    return or_(t.Contact.agent_id == own, t.Contact.queue_id.in_(wanted), in_queues, offered)


def acts_for_any_agent(actor: Actor) -> bool:
    """Supervisors and admins act for any agent (answer its offer, end its contact); an agent for itself."""
    return actor.at_least("supervisor")


def own_agent_rows(actor: Actor, column: Any) -> ColumnElement[bool]:
    """Rows about agents (an agent column) the actor sees: every agent's for supervisors and admins, an
    agent its own (none for a user that is no agent)."""
    if acts_for_any_agent(actor):
        return true()
    return column == (actor.agent_id if actor.agent_id is not None else -1)  # type: ignore[no-any-return]


def can_act_on_contact(actor: Actor, agent_id: int | None) -> bool:
    """Hold, resume, transfer, end, wrap up: the contact's own agent; supervisors and admins for any."""
    return acts_for_any_agent(actor) or (actor.agent_id is not None and actor.agent_id == agent_id)


def check_acts_on_contact(actor: Actor, agent_id: int | None) -> None:
    if not can_act_on_contact(actor, agent_id):
        raise Forbidden(_("this contact is not yours"))


def can_write_to_customer(actor: Actor, agent_id: int | None) -> bool:
    """A message (or typing) to a chat's customer: the contact's own agent only, whatever the role."""
    return actor.agent_id is not None and actor.agent_id == agent_id


def check_writes_to_customer(actor: Actor, contact_id: int, agent_id: int | None) -> None:
    if not can_write_to_customer(actor, agent_id):
        raise Forbidden(_("only the agent handling contact {id} writes to its customer", id=contact_id))


def can_answer_offer(actor: Actor, offered_agent_id: int) -> bool:
    """Accept or reject: the agent the offer rings; supervisors and admins for any agent."""
    return can_act_on_contact(actor, offered_agent_id)


def check_brings_contacts(actor: Actor) -> None:
    """Contacts enter (and customers hang up) through supervisors, admins or integration tokens."""
    if not (actor.at_least("supervisor") or actor.integration):
        raise Forbidden(_("this needs the supervisor role or an integration token"))


# --- cases -------------------------------------------------------------------------------------------


def can_see_case(actor: Actor, served: Served, case: t.Case) -> bool:
    """Agents see the cases they own, those of their queues and unassigned ones; supervisors all."""
    if case.tenant_id != actor.tenant_id:
        return False
    if served is None:
        return True
    if case.owner_agent_id is not None and case.owner_agent_id == actor.agent_id:
        return True
    if case.queue_id is None and case.owner_agent_id is None:
        return True
    return case.queue_id is not None and case.queue_id in served


def access_case(actor: Actor, served: Served, case: t.Case | None, ref: str) -> t.Case:
    if case is None or case.tenant_id != actor.tenant_id:
        raise NotFound(_("no case {case}", case=ref))
    if not can_see_case(actor, served, case):
        raise Forbidden(_("case {reference} belongs to another agent's queue", reference=case.reference))
    return case


def cases_visible(actor: Actor, served: Served) -> ColumnElement[bool]:
    """`can_see_case` as a SQL condition on `cases`."""
    if served is None:
        return true()
    own = actor.agent_id if actor.agent_id is not None else -1
    return or_(
        t.Case.owner_agent_id == own,
        t.Case.queue_id.in_(sorted(served) or [-1]),
        (t.Case.queue_id.is_(None) & t.Case.owner_agent_id.is_(None)),
    )


# --- events (the realtime fan-out) ----------------------------------------------------------------------


def can_see_event(actor: Actor, served: Served, e: EventRecord) -> bool:
    """Its tenant's events for supervisors and admins; for an agent those about itself, its queues or its
    own user. Never another tenant's."""
    if e.tenant_id != actor.tenant_id:
        return False
    if served is None:
        return True
    if actor.agent_id is not None and e.agent_id == actor.agent_id:
        return True
    if e.queue_id is not None and e.queue_id in served:
        return True
    return actor.user_id is not None and e.user_id == actor.user_id


def may_need_event(actor: Actor, served: Served, e: EventRecord) -> bool:
    """Whether the actor's realtime socket sends the event: the lean fan-out (issue 10). A supervisor or
    admin gets every event of its tenant; an agent those about itself (its state, its offers, the contacts
    it handles), those its own user caused, and its queues' own changes (`queue.*`), which is all its
    screen (`realtime/state.py`) draws; its queues' figures come as `queue_stats`. Always a subset of
    `can_see_event`, and cheap: a few comparisons, no I/O (it runs for every socket on every event)."""
    if e.tenant_id != actor.tenant_id:
        return False
    if served is None:
        return True
    if actor.agent_id is not None and e.agent_id == actor.agent_id:
        return True
    if actor.user_id is not None and e.user_id == actor.user_id:
        return True
    return e.queue_id is not None and e.queue_id in served and e.type.startswith("queue.")


# --- customers: field-level permissions -------------------------------------------------------------------

CUSTOMER_FIELDS = (
    "name",
    "kind",
    "external_id",
    "segment",
    "value_tier",
    "lifecycle_stage",
    "lifetime_value",
    "owner",
    "language",
    "notes",
    "attributes",
    "identities",
)
SUPERVISOR_ONLY_CUSTOMER_FIELDS = ("segment", "value_tier", "lifetime_value", "owner")


def supervisor_only_customer_fields(settings: dict[str, Any] | None) -> frozenset[str]:
    """The customer fields only supervisors and admins set: the tenant's `supervisor_only_customer_fields`,
    else segment, value tier, lifetime value and owner."""
    chosen = (settings or {}).get("supervisor_only_customer_fields")
    return frozenset(SUPERVISOR_ONLY_CUSTOMER_FIELDS if chosen is None else chosen)


# what a supervisor may change on an agent live (the wallboard); everything else about an agent is the admin's
SUPERVISOR_AGENT_FIELDS = frozenset({"skills", "queues"})


def check_agent_fields(actor: Actor, fields: Iterable[str]) -> None:
    """Forbidden, naming each field, when a supervisor changes an agent beyond its skills and queues (an
    admin changes anything; agents never reach this: the route needs a supervisor)."""
    if actor.at_least("admin"):
        return
    refused = sorted(f for f in fields if f not in SUPERVISOR_AGENT_FIELDS)
    if refused:
        errors = [FieldError([f], _("only admins change this field")) for f in refused]
        raise Forbidden(
            _("a supervisor changes an agent's skills and queues only, not {fields}", fields=", ".join(refused)), errors
        )


def check_customer_fields(actor: Actor, settings: dict[str, Any] | None, fields: Iterable[str]) -> None:
    """Forbidden, naming each field, when an agent sets a field reserved to supervisors."""
    if actor.at_least("supervisor"):
        return
    reserved = supervisor_only_customer_fields(settings)
    refused = [f for f in fields if f in reserved]
    if refused:
        errors = [FieldError([f], _("only supervisors and admins change this field")) for f in refused]
        raise Forbidden(_("an agent cannot change {fields}", fields=", ".join(refused)), errors)

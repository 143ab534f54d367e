"""Every event type, in one place. Names are `<noun>.<past verb>`; `data` keys are listed per type.

Consumers rely on this list: add a type here before any action emits it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EventType:
    name: str
    description: str
    data: tuple[str, ...] = ()


_ALL = [
    # tenants and users
    EventType("tenant.created", "A contact center was created", ("slug", "name", "timezone")),
    EventType("tenant.updated", "A contact center's settings changed", ("changes",)),
    EventType("user.created", "A user was created", ("username", "role")),
    EventType("user.updated", "A user's role, password or status changed", ("changes",)),
    EventType("user.logged_in", "A user logged in", ("username", "via")),
    EventType("user.logged_out", "A user logged out", ("username",)),
    EventType("api_token.created", "An API token was issued", ("name", "role")),
    EventType("api_token.revoked", "An API token was revoked", ("name",)),
    # configuration
    EventType("hours.created", "An hours calendar was created", ("code",)),
    EventType("hours.updated", "An hours calendar changed", ("code", "changes")),
    EventType("hours.deleted", "An hours calendar was removed", ("code",)),
    EventType("skill.created", "A skill was created", ("code",)),
    EventType("skill.updated", "A skill changed", ("code", "changes")),
    EventType("skill.deleted", "A skill was removed", ("code",)),
    EventType("queue.created", "A queue was created", ("code",)),
    EventType("queue.updated", "A queue's settings changed", ("code", "changes")),
    EventType("queue.deleted", "A queue was deactivated", ("code",)),
    EventType("reason.created", "A contact reason or group was created", ("code", "kind")),
    EventType("reason.updated", "A contact reason or group changed", ("code", "kind", "changes")),
    EventType("reason.deleted", "A contact reason was deactivated", ("code",)),
    EventType("away_reason.created", "An away reason was created", ("code",)),
    EventType("away_reason.updated", "An away reason changed", ("code", "changes")),
    EventType("config.applied", "A configuration file was applied", ("source", "summary")),
    # agents
    EventType("agent.created", "An agent was created", ("code", "name")),
    EventType("agent.updated", "An agent's profile, skills or queues changed", ("code", "changes")),
    EventType("agent.deleted", "An agent was deactivated", ("code",)),
    EventType(
        "agent.state_changed",
        "An agent's state changed (`missed`: set by routing after too many unanswered offers)",
        ("code", "from", "to", "away_reason"),
    ),
    # customers and cases
    EventType("customer.created", "A customer was created", ("name", "segment")),
    EventType("customer.updated", "A customer's profile changed", ("changes",)),
    EventType("customer.identity_added", "An identity was linked to a customer", ("kind", "value")),
    EventType("customer.identity_removed", "An identity was unlinked", ("kind", "value")),
    EventType(
        "customers.imported", "A customer file was imported", ("source", "created", "updated", "unchanged", "rejected")
    ),
    EventType("case.opened", "A case was opened", ("reference", "subject", "status")),
    EventType("case.updated", "A case's status, owner or due date changed", ("reference", "changes")),
    EventType("case.note_added", "A note was added to a case", ("reference", "note_id")),
    EventType("case.contact_linked", "A contact was linked to a case", ("reference",)),
    # contacts (the timeline; live contacts: contacts/live.py)
    EventType(
        "contact.arrived",
        "A contact reached Centralita",
        ("channel", "direction", "ani", "dnis", "initiation_method", "previous_contact_id"),
    ),
    EventType("contact.identified", "A contact was matched to a customer", ("by", "segment")),
    EventType("contact.queued", "A contact joined a queue", ("queue", "priority", "arrival_seq", "for_agent")),
    EventType("contact.dequeued", "A contact left its queues", ("outcome", "queue", "wait_s")),
    EventType(
        "contact.overflowed",
        "Queue overflow (R10): after `after_s` in `from`, or at once when `from` is unstaffed, the waiting contact"
        " also joined (`add`) or moved to (`move`) `to` (null: it was there already or in 3 queues), keeping its age",
        ("from", "to", "mode"),
    ),
    EventType("contact.offered", "A contact was offered to an agent", ("agent", "queue", "timeout_at")),
    EventType(
        "contact.offer_ended",
        "An offer ended: accepted, rejected, timeout (no answer) or withdrawn (the contact left, or a restart)",
        ("agent", "result"),
    ),
    EventType("contact.connected", "An agent connected to the contact", ("agent",)),
    EventType("contact.held", "The contact was put on hold", ()),
    EventType("contact.resumed", "The contact was taken off hold", ()),
    EventType("contact.transferred", "The contact was transferred", ("to", "next_contact_id")),
    EventType("contact.ended", "The contact ended", ("reason", "acw", "outcome")),
    EventType(
        "contact.wrapped_up",
        "The agent wrapped the contact up, or its ACW timed out (`timed_out`: no disposition or reason)",
        ("disposition", "reason", "sub_reason", "resolved", "handle_s", "timed_out"),
    ),
    EventType("contact.surveyed", "The customer answered the survey", ("csat", "ces", "nps")),
    EventType("contact.recorded", "A past contact was imported with its timeline", ("channel", "source")),
]

EVENT_TYPES: dict[str, EventType] = {e.name: e for e in _ALL}


"""A chat with an agent: what the customer and the agent say to each other once the contact is connected,
and the survey the customer answers when it is over. One `do_*` per change, the row and its event together.

A chat conversation is the transfer chain of its first contact (the visitor keeps the first contact's id;
`next_contact_id` leads to the contact an agent handles now). Each message is stored on the contact the
agent handled when it was said (`contact_messages`, sender `customer` or `agent`), with a `contact.message`
event carrying the contact's `agent_id`, so the handling agent's realtime socket (and its supervisors')
gets it. An agent message's author is that contact's agent: a contact has one agent leg (a transfer makes
the next contact of the chain).

The survey is offered once the conversation reached an agent and has ended (the contact that had the last
agent is in after-contact work or closed); it is answered once, on that contact (`csat`, `ces`, `nps`,
`survey_ts`, and `contact.surveyed`), by the channel-agnostic `contacts.surveys.do_answer_survey`: this
module only says which contact a chat's survey is about (`survey_contact`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from centralita.contacts.live import _event
from centralita.contacts.status import ContactStatus
from centralita.core.actor import Actor
from centralita.core.errors import Conflict
from centralita.core.i18n import _
from centralita.store import tables as t

__all__ = [
    "ENDED",
    "WITH_AGENT",
    "agent_names",
    "chain",
    "chain_back",
    "customer_messages_since",
    "do_send_message",
    "served_contact",
    "survey_contact",
    "survey_offered",
]

S = ContactStatus
ENDED = frozenset({S.ACW, S.CLOSED})  # the customer is gone
WITH_AGENT = frozenset({S.CONNECTED, S.HELD})
MAX_CHAIN = 50


def chain(session: Session, first: t.Contact) -> list[t.Contact]:
    """The contacts of `first`'s conversation, first to live (the transfers it went through)."""
    out = [first]
    while out[-1].next_contact_id is not None and len(out) <= MAX_CHAIN:
        nxt = session.get(t.Contact, out[-1].next_contact_id)
        if nxt is None or nxt.tenant_id != first.tenant_id:
            break
        out.append(nxt)
    return out


def chain_back(session: Session, row: t.Contact) -> list[t.Contact]:
    """`row` and the contacts of its chain before it, first to `row` (what its agent may read of the
    conversation: what was said before the transfer, never after)."""
    out = [row]
    while out[0].previous_contact_id is not None and len(out) <= MAX_CHAIN:
        prev = session.get(t.Contact, out[0].previous_contact_id)
        if prev is None or prev.tenant_id != row.tenant_id:
            break
        out.insert(0, prev)
    return out


def agent_names(session: Session, contacts: Sequence[t.Contact]) -> dict[int, str]:
    """The name of each contact's agent, by contact id (contacts without an agent left out)."""
    agent_ids = {c.agent_id for c in contacts if c.agent_id is not None}
    if not agent_ids:
        return {}
    names = {
        row[0]: row[1] for row in session.execute(select(t.Agent.id, t.Agent.name).where(t.Agent.id.in_(agent_ids)))
    }
    return {c.id: names[c.agent_id] for c in contacts if c.agent_id is not None and c.agent_id in names}


def customer_messages_since(session: Session, contact_ids: Sequence[int], since: dt.datetime | None) -> int:
    """How many messages the customer sent on these contacts (since `since`, when given)."""
    stmt = (
        select(func.count())
        .select_from(t.ContactMessage)
        .where(t.ContactMessage.contact_id.in_(list(contact_ids)), t.ContactMessage.sender == "customer")
    )
    if since is not None:
        stmt = stmt.where(t.ContactMessage.created_at > since)
    return int(session.scalar(stmt) or 0)


def served_contact(contacts: Sequence[t.Contact]) -> t.Contact | None:
    """The last contact of a conversation that reached an agent (None: no agent ever served it)."""
    return next((c for c in reversed(contacts) if c.agent_connected_ts is not None), None)


def survey_offered(contacts: Sequence[t.Contact]) -> bool:
    """Whether the customer may answer the survey: the conversation reached an agent and has ended."""
    return served_contact(contacts) is not None and contacts[-1].status in ENDED


def do_send_message(
    session: Session, actor: Actor, row: t.Contact, sender: str, text: str, author: str | None = None
) -> t.ContactMessage:
    """`sender` (customer or agent) says `text` on `row`, a chat with its agent: the message and its
    `contact.message` event (with the contact's agent, for the agent's socket). The caller checked who
    may say it; the contact must be with its agent."""
    if row.status not in WITH_AGENT:
        raise Conflict(_("contact {id} is not with an agent", id=row.id))
    message = t.ContactMessage(
        tenant_id=row.tenant_id, contact_id=row.id, sender=sender, text=text, options=[], created_at=actor.now()
    )
    session.add(message)
    session.flush()
    _event(
        session,
        actor,
        row,
        "contact.message",
        {"message_id": message.id, "sender": sender, "text": text, "author": author},
    )
    return message


def survey_contact(contacts: Sequence[t.Contact]) -> t.Contact:
    """The contact the survey of the conversation `contacts` (its chain) is about: the one that had the last
    agent, once the conversation ended and while it is unanswered; else a 409 naming the conversation."""
    served = served_contact(contacts)
    if served is None or contacts[-1].status not in ENDED:
        raise Conflict(_("the survey of contact {id} is not offered yet", id=contacts[0].id))
    if served.survey_ts is not None:
        raise Conflict(_("the survey of contact {id} was answered already", id=contacts[0].id))
    return served

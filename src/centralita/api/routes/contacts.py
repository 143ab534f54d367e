"""Contact search, a contact with its timeline, and the event log."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from centralita import access
from centralita.api.auth import AgentActor, ServiceDep, SupervisorActor
from centralita.api.openapi import problem_response
from centralita.contacts import live, queries
from centralita.contacts.schemas import ContactPublic
from centralita.core.errors import Forbidden, InvalidInput, unknown_code
from centralita.core.i18n import _
from centralita.core.vocabulary import CHANNELS, Stored, unknown_choice
from centralita.crm import queries as crm_queries
from centralita.crm.schemas import CustomerView
from centralita.events.log import read_events
from centralita.store import tables as t
from centralita.store.lookup import get_by_code

router = APIRouter(tags=["contacts and events"])


class ContactPage(BaseModel):
    items: list[ContactPublic]
    total: int
    limit: int
    offset: int


class ContactDetail(ContactPublic):
    queues: list[str]  # every queue it waited in, in the order it joined them
    timeline: list[Stored]


def _aware(name: str, value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and value.tzinfo is None:
        raise InvalidInput.field(name, _("give an offset or Z (e.g. 2026-11-23T08:00:00Z)"))
    return value


@router.get("/contacts")
def search_contacts(
    actor: AgentActor,
    svc: ServiceDep,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    channel: str | None = None,
    queue: str | None = None,
    agent: str | None = None,
    reason: str | None = None,
    segment: str | None = None,
    customer_id: int | None = None,
    status: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ContactPage:
    """Contacts started in [since, until), filtered; an agent sees its own contacts and its queues'."""
    _aware("since", since)
    _aware("until", until)
    if since and until and until <= since:
        raise InvalidInput.field("until", _("must be after since"))
    if channel is not None and channel not in CHANNELS:
        raise InvalidInput.field("channel", unknown_choice("channel", channel, CHANNELS))
    with svc.db.read() as s:
        ids: dict[str, int | None] = {}
        for name, model, code in (("queue", t.Queue, queue), ("agent", t.Agent, agent), ("reason", t.Reason, reason)):
            row: Any = get_by_code(s, model, actor.tenant_id, code) if code else None
            if code and row is None:
                raise InvalidInput.field(name, unknown_code(name, code))
            ids[name] = row.id if row is not None else None
        visible = access.contacts_visible(actor, access.served_queues(s, actor))
        rows, total = queries.search_contacts(
            s,
            actor.tenant_id,
            since=since,
            until=until,
            channel=channel,
            queue_id=ids["queue"],
            agent_id=ids["agent"],
            reason_id=ids["reason"],
            segment=segment,
            customer_id=customer_id,
            status=status,
            visible=visible,
            limit=limit,
            offset=offset,
        )
        return ContactPage(
            items=[ContactPublic.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
        )


@router.get("/contacts/{contact_id}")
def get_contact(contact_id: int, actor: AgentActor, svc: ServiceDep) -> ContactDetail:
    with svc.db.read() as s:
        row = access.access_contact(s, actor, contact_id)
        timeline = [e.to_dict() for e in queries.contact_timeline(s, actor.tenant_id, contact_id)]
        queues = queries.queue_codes(s, contact_id)
        return ContactDetail(timeline=timeline, queues=queues, **ContactPublic.model_validate(row).model_dump())


class ScreenPop(BaseModel):
    """What the agent sees before saying a word: the contact as recognised, with everything its flow
    collected, and its customer's profile, open cases and last contacts on every channel."""

    contact: Stored = Field(description="the contact's summary (`contacts.live.contact_summary`), `collected` included")
    customer: CustomerView | None = Field(description="null: the customer is not known")
    reason: str | None = Field(description="the contact's reason code: the flow's or the agent's")


@router.get(
    "/contacts/{contact_id}/screen-pop",
    responses={403: problem_response("Only the agent offered or handling the contact, or a supervisor")},
)
def screen_pop(contact_id: int, actor: AgentActor, svc: ServiceDep) -> ScreenPop:
    """The screen pop for the contact in hand: for the agent it was offered to or who handles it (not the
    other agents of its queues), and supervisors."""
    with svc.db.read() as s:
        row = access.access_contact(s, actor, contact_id)
        if not access.handles_or_was_offered(s, actor, row):
            raise Forbidden(_("only the agent offered or handling contact {id} sees its screen pop", id=contact_id))
        customer = (
            crm_queries.customer_view(s, actor.tenant_id, row.customer_id, leave_out=row.id)
            if row.customer_id is not None
            else None
        )
        reason = s.get(t.Reason, row.reason_id) if row.reason_id is not None else None
        collected_reason = (row.collected or {}).get("reason")
        return ScreenPop(
            contact=live.contact_summary(s, row),
            customer=customer,
            reason=reason.code if reason is not None else (str(collected_reason) if collected_reason else None),
        )


class EventPage(BaseModel):
    items: list[Stored]
    last_seq: int


@router.get("/events")
def list_events(
    actor: SupervisorActor,
    svc: ServiceDep,
    after: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    type: Annotated[list[str] | None, Query()] = None,
) -> EventPage:
    """The tenant's event log after `after` (a `seq`), oldest first."""
    with svc.db.read() as s:
        events = read_events(s, actor.tenant_id, after_seq=after, limit=limit, types=type)
        return EventPage(items=[e.to_dict() for e in events], last_seq=events[-1].seq if events else after)

"""Live contacts (issue 4): arrive, offers answered, held, transferred, ended, wrapped up.

- `POST /api/contacts`: a contact enters now (chat, e-mail or a simulated call) — supervisors, admins or an
  integration token (an API token not bound to a user): queued in `queue`, or, without one, running the flow
  of the entry point it reached (`to`).
- `POST /api/contacts/{id}/accept|reject|hold|resume|end|transfer|wrap-up`: the agent's side; an agent acts
  only on its own offers and contacts, supervisors and admins for any agent of their contact center
  (`?agent=CODE` says whose offer, when a ring_all contact rings several).
- `POST /api/contacts/{id}/customer-disconnect`: the customer's side (channel connectors, simulators): an
  abandon while queued, the end of the conversation while connected. Same roles as creating a contact.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session

from centralita import access
from centralita.api.access_log import RECEIVED_KEY
from centralita.api.auth import ActGate, AgentActing, AgentActor, ServiceDep
from centralita.contacts import live
from centralita.contacts.schemas import EndRequest, LiveContactCreate, LiveContactPublic, TransferRequest, WrapUp
from centralita.core.actor import Actor
from centralita.flowrun.advance import advance, start_at_entry
from centralita.flowrun.arrivals import entry_point_at
from centralita.service import Service
from centralita.store import tables as t
from centralita.store.lookup import code_or_not_found

router = APIRouter(tags=["live contacts"])


@router.post("/contacts", status_code=201)
def create_contact(body: LiveContactCreate, actor: AgentActor, svc: ServiceDep) -> LiveContactPublic:
    """A contact arrives now: recognised by `from`, then queued in `queue` (or ended when it is closed); without
    a queue, it runs the flow of the entry point `to` names (its messages: `GET /api/contacts/{id}/messages`)."""
    access.check_brings_contacts(actor)
    if body.queue is not None:
        with svc.db.write() as s:
            return live.live_public(s, live.do_create_live_contact(s, actor, body))
    with svc.db.write() as s:
        entry = entry_point_at(s, actor.tenant_id, body.channel, body.to)
        row, moved = start_at_entry(
            s,
            actor,
            channel=body.channel,
            ani=body.from_,
            dnis=body.to,
            language=body.language if "language" in body.model_fields_set else entry.language,
            attributes=dict(body.attributes),
            flow_code=entry.flow,
            entry_point=entry.code,
            figures=svc.queue_figures,
        )
        public = live.live_public(s, row)
    svc.flow_moved(moved)
    return public


def _act(
    svc: Service, actor: Actor, contact_id: int, action: Callable[[Session, Actor, t.Contact], t.Contact]
) -> LiveContactPublic:
    """The agent's side: the contact, visible to the actor and locked, then the action (which checks that
    the actor may act on it). Urgent: it drains the load, so it goes before new contacts waiting to write."""
    with svc.db.write(urgent=True) as s:
        row = access.access_contact(s, actor, contact_id, lock=True)
        return live.live_public(s, action(s, actor, row))


async def _lane(
    gate: ActGate, contact_id: int, action: Callable[[Session, Actor, t.Contact], t.Contact]
) -> LiveContactPublic:
    """An agent's action on the agents' lane (api/auth.py `ActGate`): authenticate, then `_act`."""
    return await gate.run(lambda actor: _act(gate.svc, actor, contact_id, action))


def _offered_agent_id(s: Session, actor: Actor, code: str | None) -> int | None:
    if code is None:
        return None
    return code_or_not_found(s, t.Agent, actor.tenant_id, code, "agent").id


def _received_at(request: Request, actor: Actor) -> dt.datetime:
    """When the request reached the server (the access log stamps it first thing, on the service's clock)."""
    stamp = getattr(request.state, RECEIVED_KEY, None)
    return stamp if isinstance(stamp, dt.datetime) else actor.now()


@router.post("/contacts/{contact_id}/accept")
async def accept_contact(
    contact_id: int, request: Request, gate: AgentActing, agent: str | None = None
) -> LiveContactPublic:
    """Accept the offer: the contact connects to the agent. With ring_all the first accept wins and the other
    agents' offers are withdrawn. `agent` (a code) says whose offer a supervisor accepts; by default the
    caller's own, else the first one. The accept counts from when it reached the server: one that arrived
    before the offer's timeout is not refused because the server was slow to apply it."""

    def work(actor: Actor) -> LiveContactPublic:
        received_at = _received_at(request, actor)
        if agent is None and actor.agent_id is not None:
            # the router keeps the agent's offer ringing until this accept is applied (dispatch/runner.py)
            note = {
                "kind": "accept_pending",
                "tenant_id": actor.tenant_id,
                "contact_id": contact_id,
                "agent_id": actor.agent_id,
                "received_at": received_at.timestamp(),
            }
            gate.svc.bus.note(note)
        return _act(
            gate.svc,
            actor,
            contact_id,
            lambda s, a, row: live.do_accept_contact(
                s, a, row, _offered_agent_id(s, a, agent), received_at=received_at
            ),
        )

    return await gate.run(work)


@router.post("/contacts/{contact_id}/reject")
async def reject_contact(contact_id: int, gate: AgentActing, agent: str | None = None) -> LiveContactPublic:
    """Decline the offer: the contact goes back to its place in the queue (with ring_all, once nobody else is
    ringing). `agent` as for accept."""
    return await _lane(
        gate, contact_id, lambda s, a, row: live.do_reject_contact(s, a, row, _offered_agent_id(s, a, agent))
    )


@router.post("/contacts/{contact_id}/hold")
async def hold_contact(contact_id: int, gate: AgentActing) -> LiveContactPublic:
    return await _lane(gate, contact_id, live.do_hold_contact)


@router.post("/contacts/{contact_id}/resume")
async def resume_contact(contact_id: int, gate: AgentActing) -> LiveContactPublic:
    return await _lane(gate, contact_id, live.do_resume_contact)


@router.post("/contacts/{contact_id}/end")
async def end_contact(contact_id: int, gate: AgentActing, body: EndRequest | None = None) -> LiveContactPublic:
    """The agent ends the conversation: after-contact work starts — or, with `wrap_up` in the body, the
    contact is wrapped up in the same write."""
    wrap_up = body.wrap_up if body is not None else None
    return await _lane(gate, contact_id, lambda s, a, row: live.do_end_contact(s, a, row, wrap_up))


@router.post("/contacts/{contact_id}/transfer", status_code=201)
async def transfer_contact(contact_id: int, body: TransferRequest, gate: AgentActing) -> LiveContactPublic:
    """Blind transfer to a queue or an agent; returns the new contact of the chain."""
    return await _lane(gate, contact_id, lambda s, a, row: live.do_transfer_contact(s, a, row, body))


@router.post("/contacts/{contact_id}/wrap-up")
async def wrap_up_contact(contact_id: int, body: WrapUp, gate: AgentActing) -> LiveContactPublic:
    """Disposition and contact reason: the contact is closed and the agent free again."""
    return await _lane(gate, contact_id, lambda s, a, row: live.do_wrap_up_contact(s, a, row, body))


@router.post("/contacts/{contact_id}/customer-disconnect")
def customer_disconnect(contact_id: int, actor: AgentActor, svc: ServiceDep) -> LiveContactPublic:
    """The customer hung up or left: an abandon while queued, else the end of the conversation."""
    access.check_brings_contacts(actor)
    with svc.db.write(urgent=True) as s:
        row = live.lock_contact(s, actor, contact_id)  # the channel's side sees every contact of its tenant
        row = live.do_customer_disconnect(s, actor, row)
        moved = advance(s, actor, row.id, None)  # its flow, if one runs, ends with it
        public = live.live_public(s, row)
    svc.flow_moved(moved)
    return public

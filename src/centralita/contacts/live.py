"""Live contacts: the only writers of a contact's routing life, one `do_*` per change, rows and events together.

A live contact goes `queued` → (offered: `routing.offer`, still queued) → `connected` ⇄ `held` → `acw` →
`closed`; a customer disconnect while queued is an abandon (`closed`, outcome `abandoned`). A transfer ends
the agent's leg (the agent wraps its part up) and creates the next contact of the chain (initiation method
`TRANSFER`, `previous_contact_id`), queued in the target queue or for the target agent: metrics.md §1.2
("a transfer creates a new contact with its own episode"); the chain shares `initial_contact_id`.

`contacts.routing` keeps what recovery needs (dispatch/snapshot.py reads it back):
`{"arrival_seq", "memberships": [{queue_id, enqueue_ts, priority, agent_ids, after_steps, age_adjust_s,
overflowed}], "offers": [{agent_id, queue_id, offered_ts, timeout_at}], "outcome"}`; times are epoch
seconds. `arrival_seq` is the seq of the contact's first `contact.queued` event (per tenant, increasing:
FIFO within a priority). `offers` holds every open offer: one, or several for a `ring_all` queue (one
round: same queue, same timeout); the first accept withdraws the others. Rows written before `offers`
carry one `offer` (or null), read as a one-offer list.

Decisions (offer, timeout, withdrawal, `missed`) come from the routing runner (dispatch/); the agent's and
the customer's side (accept, reject, hold, transfer, end, wrap-up) from the API. Every action locks the
contact row (`FOR UPDATE` on PostgreSQL, `BEGIN IMMEDIATE` on SQLite), so an accept and an offer timeout
racing on one contact are decided by the store: the second one gets a Conflict and changes nothing.
"""

from __future__ import annotations

import datetime as dt
from functools import reduce
from typing import Any

from sqlalchemy import String, cast, select
from sqlalchemy.orm import Session

from centralita.agents.actions import record_state
from centralita.contacts.schemas import LiveContactCreate, LiveContactPublic, TransferRequest, WrapUp
from centralita.core.actor import Actor
from centralita.core.errors import Conflict, ErrorList, Forbidden, InvalidInput, NotFound
from centralita.core.i18n import _
from centralita.crm.queries import find_identity
from centralita.events.log import append_event
from centralita.queues.hours import OPEN, hours_status
from centralita.store import tables as t

IDENTITY_BY_CHANNEL = {"voice": "phone", "sms": "phone", "email": "email", "chat": "chat"}
LIVE = ("queued", "connected", "held", "acw")


def _ts(value: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(value, dt.UTC)


def _epoch(value: dt.datetime) -> float:
    return value.timestamp()


def lock_contact(session: Session, actor: Actor, contact_id: int) -> t.Contact:
    """The tenant's contact, locked for this transaction."""
    row = session.scalar(
        select(t.Contact)
        .where(t.Contact.tenant_id == actor.tenant_id, t.Contact.id == contact_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if row is None:
        raise NotFound(_("no contact {id}", id=contact_id))
    return row


def open_offers(row: t.Contact) -> list[dict[str, Any]]:
    """The contact's open offers (several for a ring_all queue), oldest first; none unless it is queued."""
    if row.status != "queued":
        return []
    routing = row.routing or {}
    offers = routing.get("offers")
    if offers is None:  # written before `offers`: one `offer` or none
        offers = [routing["offer"]] if routing.get("offer") else []
    return [dict(o) for o in offers]


def live_public(row: t.Contact) -> LiveContactPublic:
    routing = row.routing or {}
    offered = [int(o["agent_id"]) for o in open_offers(row)]
    base = LiveContactPublic.model_validate(row, from_attributes=True)
    return base.model_copy(
        update={
            "outcome": routing.get("outcome"),
            "offered_to": offered[0] if offered else None,
            "offered_agents": offered,
            "queues": list(row.queues or []),
        }
    )


def _subjects(actor: Actor, row: t.Contact, **extra: int | None) -> dict[str, int | None]:
    out: dict[str, int | None] = {
        "contact_id": row.id,
        "customer_id": row.customer_id,
        "queue_id": row.queue_id,
        "agent_id": row.agent_id,
        "user_id": actor.user_id,
    }
    out.update(extra)
    return out


def _event(session: Session, actor: Actor, row: t.Contact, type_: str, data: dict[str, Any], **subjects: Any) -> int:
    return append_event(session, actor.tenant_id, type_, actor.now(), data, **_subjects(actor, row, **subjects)).seq


def _set_routing(row: t.Contact, **changes: Any) -> None:
    routing = dict(row.routing or {})
    legacy = routing.pop("offer", None)  # the one-offer form of older rows: `offers` replaces it
    if "offers" not in routing:
        routing["offers"] = [legacy] if legacy else []
    routing.update(changes)
    row.routing = routing  # a new dict: the JSON column sees the change


def _require(row: t.Contact, *statuses: str) -> None:
    if row.status not in statuses:
        needed = reduce(lambda a, b: _("{a} or {b}", a=a, b=b), statuses)
        raise Conflict(
            _("contact {id} is {status}; this needs it {needed}", id=row.id, status=row.status, needed=needed)
        )


def _queue_by_code(session: Session, actor: Actor, code: str, field: str, errors: ErrorList) -> t.Queue | None:
    row = session.scalar(select(t.Queue).where(t.Queue.tenant_id == actor.tenant_id, t.Queue.code == code))
    if row is None:
        errors.add([field], _("unknown queue {code!r}", code=code))
    elif not row.active:
        errors.add([field], _("queue {code!r} is deactivated", code=code))
    return row


def _closed_outcome(session: Session, queue: t.Queue, when: dt.datetime) -> str | None:
    """`closed_hours` or `holiday` when the queue's calendar is not open; `queue_full` at max_contacts."""
    if queue.hours_id is not None:
        hours = session.get(t.HoursCalendar, queue.hours_id)
        if hours is not None:
            status = hours_status(hours.timezone, hours.weekly, hours.overrides, when)
            if status != OPEN:
                return "holiday" if status == "holiday" else "closed_hours"
    if queue.max_contacts is not None and waiting_in(session, queue) >= queue.max_contacts:
        return "queue_full"
    return None


def waiting_in(session: Session, queue: t.Queue) -> int:
    """Contacts queued in `queue` now, by membership: those that arrived there and those an overflow
    brought (not those it moved away). Concurrent arrivals count one after the other: the arrival's first
    event already holds the tenant's event counter until commit (and SQLite writers are serial), so
    `max_contacts` holds exactly."""
    text_queues = cast(t.Contact.queues, String)
    rows = session.execute(
        select(t.Contact.queue_id, t.Contact.routing).where(
            t.Contact.tenant_id == queue.tenant_id,
            t.Contact.status == "queued",
            (t.Contact.queue_id == queue.id) | text_queues.contains(f'"{queue.code}"', autoescape=True),
        )
    )
    count = 0
    for first_queue, routing in rows:
        memberships = (routing or {}).get("memberships")
        if memberships is None:
            count += first_queue == queue.id
        else:
            count += any(int(m["queue_id"]) == queue.id for m in memberships)
    return count


def _enqueue(
    session: Session,
    actor: Actor,
    row: t.Contact,
    queue: t.Queue,
    priority: int,
    for_agent: t.Agent | None = None,
) -> None:
    """Start the contact's queue episode in `queue` (for one agent only when `for_agent`)."""
    now = actor.now()
    row.status = "queued"
    row.queue_id = queue.id
    row.queues = [queue.code]
    row.priority = priority
    row.enqueue_ts = now
    membership = {
        "queue_id": queue.id,
        "enqueue_ts": _epoch(now),
        "priority": priority,
        "agent_ids": [for_agent.id] if for_agent is not None else None,
        "after_steps": "keep_last" if for_agent is not None else "any_agent",
    }
    _set_routing(row, memberships=[membership], offers=[])
    seq = _event(
        session,
        actor,
        row,
        "contact.queued",
        {
            "queue": queue.code,
            "priority": priority,
            "for_agent": for_agent.code if for_agent is not None else None,
        },
        queue_id=queue.id,
        agent_id=for_agent.id if for_agent is not None else None,
    )
    _set_routing(row, arrival_seq=seq)


def do_create_live_contact(session: Session, actor: Actor, data: LiveContactCreate) -> t.Contact:
    """A contact arrives now: recognised by its identity, then queued — or recorded and ended when the
    queue is closed (hours calendar) or full (`max_contacts`)."""
    errors = ErrorList()
    queue = _queue_by_code(session, actor, data.queue, "queue", errors)
    if queue is not None and queue.channels and data.channel not in queue.channels:
        errors.add(
            ["channel"],
            _(
                "queue {code!r} takes {channels}, not {channel}",
                code=data.queue,
                channels=", ".join(queue.channels),
                channel=data.channel,
            ),
        )
    errors.raise_if_any(_("the contact is not valid"))
    assert queue is not None
    tenant = session.get(t.Tenant, actor.tenant_id)
    assert tenant is not None
    now = actor.now()
    customer: t.Customer | None = None
    kind = IDENTITY_BY_CHANNEL[data.channel]
    try:
        identity = find_identity(session, actor.tenant_id, tenant.country, kind, data.from_)
    except InvalidInput:
        identity = None  # an unparsable number is an unknown caller, not a bad request
    if identity is not None:
        customer = session.get(t.Customer, identity.customer_id)
    priority = data.priority
    if priority is None:
        segment = customer.segment if customer is not None else None
        priority = int((queue.segment_priority or {}).get(segment, 0)) if segment else 0
    row = t.Contact(
        tenant_id=actor.tenant_id,
        channel=data.channel,
        direction="inbound",
        initiation_method="API",
        status="arrived",
        ani=data.from_,
        dnis=data.to,
        language=data.language,
        customer_id=customer.id if customer else None,
        segment=customer.segment if customer else None,
        value_tier=customer.value_tier if customer else None,
        lifecycle_stage=customer.lifecycle_stage if customer else None,
        queue_id=queue.id,
        queues=[],
        priority=priority,
        initiation_ts=now,
        holds=[],
        attributes=dict(data.attributes),
        routing={},
    )
    session.add(row)
    session.flush()
    row.initial_contact_id = row.id
    _event(
        session,
        actor,
        row,
        "contact.arrived",
        {
            "channel": row.channel,
            "direction": row.direction,
            "ani": row.ani,
            "dnis": row.dnis,
            "initiation_method": row.initiation_method,
        },
    )
    if customer is not None:
        _event(session, actor, row, "contact.identified", {"by": kind, "segment": customer.segment})
    outcome = _closed_outcome(session, queue, now)
    if outcome is not None:
        row.status = "closed"
        row.disconnect_ts = now
        row.disconnect_reason = "CONTACT_FLOW_DISCONNECT"
        _set_routing(row, outcome=outcome)
        _event(
            session,
            actor,
            row,
            "contact.ended",
            {"reason": row.disconnect_reason, "acw": False, "outcome": outcome},
            queue_id=queue.id,
        )
        return row
    _enqueue(session, actor, row, queue, priority)
    return row


# routing decisions (the runner) ---------------------------------------------------------------------


def do_offer_contact(
    session: Session, actor: Actor, row: t.Contact, agent_id: int, queue_id: int, timeout_at: float
) -> None:
    """The runner offers the waiting contact to an agent (R6): the contact stays in its queues, locked.
    A `ring_all` queue rings several agents for one contact: one such offer each, in the same round (same
    queue and timeout); any other second offer is a Conflict."""
    _require(row, "queued")
    offers = open_offers(row)
    queue = session.get(t.Queue, queue_id)
    if any(int(o["agent_id"]) == agent_id for o in offers):
        raise Conflict(_("contact {id} is already offered to agent {agent}", id=row.id, agent=agent_id))
    same_round = all(o["queue_id"] == queue_id and o["timeout_at"] == timeout_at for o in offers)
    if offers and not (same_round and queue is not None and queue.agent_selection == "ring_all"):
        raise Conflict(_("contact {id} is already offered", id=row.id))
    agent = session.get(t.Agent, agent_id)
    if agent is None or agent.tenant_id != actor.tenant_id or not agent.active or agent.state != "available":
        raise Conflict(_("agent {agent} is not available", agent=agent_id))
    now = actor.now()
    offer = {"agent_id": agent_id, "queue_id": queue_id, "offered_ts": _epoch(now), "timeout_at": timeout_at}
    _set_routing(row, offers=[*offers, offer])
    _event(
        session,
        actor,
        row,
        "contact.offered",
        {"agent": agent.code, "queue": queue.code if queue else None, "timeout_at": _ts(timeout_at).isoformat()},
        agent_id=agent_id,
        queue_id=queue_id,
    )


def _open_offer(row: t.Contact, agent_id: int) -> dict[str, Any]:
    offers = open_offers(row)
    if not offers:
        raise Conflict(_("contact {id} has no open offer", id=row.id))
    for offer in offers:
        if int(offer["agent_id"]) == agent_id:
            return offer
    raise Conflict(_("contact {id} is not offered to agent {agent}", id=row.id, agent=agent_id))


def _record_offer_end(session: Session, actor: Actor, row: t.Contact, offer: dict[str, Any], result: str) -> None:
    """Drop one open offer from the row and record its `contact.offer_ended`."""
    agent_id = int(offer["agent_id"])
    _set_routing(row, offers=[o for o in open_offers(row) if int(o["agent_id"]) != agent_id])
    agent = session.get(t.Agent, agent_id)
    _event(
        session,
        actor,
        row,
        "contact.offer_ended",
        {"agent": agent.code if agent else None, "result": result},
        agent_id=agent_id,
        queue_id=offer["queue_id"],
    )


def do_end_offer(session: Session, actor: Actor, row: t.Contact, agent_id: int, result: str) -> None:
    """The offer to `agent_id` ended without an accept: `rejected` (the agent), `timeout` or `withdrawn`
    (the runner). Other agents' offers (ring_all) keep ringing; once none is left the contact is back at its
    original place."""
    if result not in ("rejected", "timeout", "withdrawn"):
        raise InvalidInput.field("result", _("unknown offer result {result!r}", result=result))
    offer = _open_offer(row, agent_id)
    if result == "rejected" and offer["timeout_at"] <= actor.now().timestamp():
        raise Conflict(_("the offer of contact {id} has expired", id=row.id))
    _record_offer_end(session, actor, row, offer, result)


def do_overflow_contact(
    session: Session, actor: Actor, row: t.Contact, from_queue: int, to_queue: int | None, mode: str, at: float
) -> None:
    """R10 as the router applied it at `at`: the waiting contact also joins (`add`) or moves to (`move`)
    `to_queue` (None: it could not), or stays (`stay`: refused, a cycle), and its stored memberships and
    the queues it overflowed out of follow, so recovery rebuilds the same ones.
    The new membership starts at `at` with the old one's priority and keeps the contact's earliest ordering
    time (`age_adjust_s`, as the engine's `_apply_overflow`); with `add` the old one is marked `overflowed`."""
    _require(row, "queued")
    if mode not in ("add", "move", "stay"):
        raise InvalidInput.field("mode", _("unknown overflow mode {mode!r}", mode=mode))
    routing = row.routing or {}
    memberships = [dict(m) for m in routing.get("memberships") or []]
    source = next((m for m in memberships if int(m["queue_id"]) == from_queue), None)
    if source is None or source.get("overflowed"):
        raise Conflict(_("contact {id} is not waiting to overflow from queue {queue}", id=row.id, queue=from_queue))
    earliest = min(float(m["enqueue_ts"]) - float(m.get("age_adjust_s") or 0.0) for m in memberships)
    if mode == "move":
        memberships.remove(source)
    else:
        source["overflowed"] = True
    old_queue = session.get(t.Queue, from_queue)
    new_queue = session.get(t.Queue, to_queue) if to_queue is not None and mode != "stay" else None
    if new_queue is not None and all(int(m["queue_id"]) != new_queue.id for m in memberships):
        memberships.append(
            {
                "queue_id": new_queue.id,
                "enqueue_ts": at,
                "priority": int(source.get("priority") or 0),
                "agent_ids": None,
                "after_steps": "any_agent",
                "age_adjust_s": at - earliest,
                "overflowed": False,
            }
        )
        if new_queue.code not in (row.queues or []):
            row.queues = [*(row.queues or []), new_queue.code]
    overflowed_from = sorted({*(int(q) for q in routing.get("overflowed_from") or []), from_queue})
    _set_routing(row, memberships=memberships, overflowed_from=overflowed_from)
    _event(
        session,
        actor,
        row,
        "contact.overflowed",
        {
            "from": old_queue.code if old_queue else None,
            "to": new_queue.code if new_queue else None,
            "mode": mode,
        },
        queue_id=new_queue.id if new_queue is not None else from_queue,
    )


def do_mark_agent_missed(session: Session, actor: Actor, agent: t.Agent) -> None:
    """R6: after `max_missed_offers` consecutive offers without an answer the agent is `missed`: no offers
    until it makes itself available again (an agent state, like Genesys' "not responding")."""
    if agent.state == "available":
        record_state(session, actor, agent, "missed", None)


# the agent's side ---------------------------------------------------------------------------------


def check_agent_acts(actor: Actor, agent_id: int | None) -> None:
    """An agent acts only on its own offers and contacts; supervisors and admins for any agent."""
    if actor.at_least("supervisor"):
        return
    if actor.agent_id is None or actor.agent_id != agent_id:
        raise Forbidden(_("this contact is not yours"))


def offered_agent(row: t.Contact, actor: Actor | None = None, agent_id: int | None = None) -> int | None:
    """Whose offer an accept or reject acts on: `agent_id` when given, else the acting agent's own offer,
    else (a supervisor acting for an agent) the first open offer. None when the contact has no open offer."""
    offered = [int(o["agent_id"]) for o in open_offers(row)]
    if agent_id is not None:
        return agent_id
    if actor is not None and actor.agent_id is not None and actor.agent_id in offered:
        return actor.agent_id
    return offered[0] if offered else None


def do_accept_contact(session: Session, actor: Actor, row: t.Contact, agent_id: int | None = None) -> t.Contact:
    """The agent accepts its offer: the contact leaves every queue (answered) and connects; with ring_all
    the other agents' offers are withdrawn (first accept wins)."""
    agent_id = offered_agent(row, actor, agent_id)
    check_agent_acts(actor, agent_id)
    if agent_id is None:
        raise Conflict(_("contact {id} has no open offer", id=row.id))
    offer = _open_offer(row, agent_id)
    now = actor.now()
    if offer["timeout_at"] <= now.timestamp():
        raise Conflict(_("the offer of contact {id} has expired", id=row.id))
    others = [o for o in open_offers(row) if int(o["agent_id"]) != agent_id]
    agent = session.get(t.Agent, agent_id)
    assert agent is not None
    queue = session.get(t.Queue, offer["queue_id"])
    wait = (now - row.enqueue_ts).total_seconds() if row.enqueue_ts else 0.0
    _set_routing(row, offers=[])
    _event(
        session,
        actor,
        row,
        "contact.offer_ended",
        {"agent": agent.code, "result": "accepted"},
        agent_id=agent.id,
        queue_id=offer["queue_id"],
    )
    for other in others:
        _record_offer_end(session, actor, row, other, "withdrawn")
    row.status = "connected"
    row.agent_id = agent.id
    row.queue_id = offer["queue_id"]  # the queue that answered (metrics.md §1.2)
    if queue is not None and queue.code not in (row.queues or []):
        row.queues = [*(row.queues or []), queue.code]
    row.dequeue_ts = now
    row.queue_outcome = "answered"
    row.agent_connected_ts = now
    _event(
        session,
        actor,
        row,
        "contact.dequeued",
        {"outcome": "answered", "queue": queue.code if queue else None, "wait_s": wait},
    )
    _event(session, actor, row, "contact.connected", {"agent": agent.code})
    return row


def do_reject_contact(session: Session, actor: Actor, row: t.Contact, agent_id: int | None = None) -> t.Contact:
    """The agent declines its offer; with ring_all the others keep ringing."""
    agent_id = offered_agent(row, actor, agent_id)
    check_agent_acts(actor, agent_id)
    if agent_id is None:
        raise Conflict(_("contact {id} has no open offer", id=row.id))
    do_end_offer(session, actor, row, agent_id, "rejected")
    return row


def _close_hold(row: t.Contact, now: dt.datetime) -> None:
    holds = [list(h) for h in row.holds or []]
    if holds and holds[-1][1] is None:
        holds[-1][1] = now.isoformat()
        row.holds = holds


def do_hold_contact(session: Session, actor: Actor, row: t.Contact) -> t.Contact:
    check_agent_acts(actor, row.agent_id)
    _require(row, "connected")
    row.status = "held"
    row.holds = [*(row.holds or []), [actor.now().isoformat(), None]]
    _event(session, actor, row, "contact.held", {})
    return row


def do_resume_contact(session: Session, actor: Actor, row: t.Contact) -> t.Contact:
    check_agent_acts(actor, row.agent_id)
    _require(row, "held")
    row.status = "connected"
    _close_hold(row, actor.now())
    _event(session, actor, row, "contact.resumed", {})
    return row


def _end_agent_leg(session: Session, actor: Actor, row: t.Contact, reason: str, outcome: str | None = None) -> None:
    """The agent's leg ends; the agent goes to after-contact work on this contact."""
    now = actor.now()
    _close_hold(row, now)
    row.status = "acw"
    row.agent_end_ts = now
    row.disconnect_ts = now
    row.disconnect_reason = reason
    row.acw_start_ts = now
    if outcome is not None:
        _set_routing(row, outcome=outcome)
    _event(session, actor, row, "contact.ended", {"reason": reason, "acw": True, "outcome": outcome})


def do_end_contact(session: Session, actor: Actor, row: t.Contact) -> t.Contact:
    """The agent hangs up (or closes the chat / e-mail): after-contact work starts."""
    check_agent_acts(actor, row.agent_id)
    _require(row, "connected", "held")
    _end_agent_leg(session, actor, row, "AGENT_DISCONNECT")
    return row


def live_in_chain(session: Session, actor: Actor, row: t.Contact) -> t.Contact:
    """The live contact of a transfer chain (the customer keeps the first contact's id)."""
    seen = 0
    while row.next_contact_id is not None and seen < 50:
        row = lock_contact(session, actor, row.next_contact_id)
        seen += 1
    return row


def do_customer_disconnect(session: Session, actor: Actor, row: t.Contact) -> t.Contact:
    """The customer hangs up or leaves the chat: an abandon while queued (R11), else the end of the leg."""
    row = live_in_chain(session, actor, row)
    if row.status == "queued":
        now = actor.now()
        for offer in open_offers(row):
            _record_offer_end(session, actor, row, offer, "withdrawn")
        wait = (now - row.enqueue_ts).total_seconds() if row.enqueue_ts else 0.0
        queue = session.get(t.Queue, row.queue_id) if row.queue_id else None
        row.status = "closed"
        row.dequeue_ts = now
        row.queue_outcome = "abandoned"
        row.disconnect_ts = now
        row.disconnect_reason = "CUSTOMER_DISCONNECT"
        _set_routing(row, outcome="abandoned")
        _event(
            session,
            actor,
            row,
            "contact.dequeued",
            {"outcome": "abandoned", "queue": queue.code if queue else None, "wait_s": wait},
        )
        _event(session, actor, row, "contact.ended", {"reason": "CUSTOMER_DISCONNECT", "acw": False})
        return row
    _require(row, "connected", "held")
    _end_agent_leg(session, actor, row, "CUSTOMER_DISCONNECT")
    return row


def do_transfer_contact(session: Session, actor: Actor, row: t.Contact, data: TransferRequest) -> t.Contact:
    """Blind transfer: the agent's leg ends (it wraps its part up) and the next contact of the chain is
    queued in `data.queue`, or for `data.agent` only (in a queue that agent serves). Returns the new contact."""
    check_agent_acts(actor, row.agent_id)
    _require(row, "connected", "held")
    errors = ErrorList()
    target_agent: t.Agent | None = None
    queue: t.Queue | None = None
    if data.queue is not None:
        queue = _queue_by_code(session, actor, data.queue, "queue", errors)
        if queue is not None and queue.channels and row.channel not in queue.channels:
            errors.add(
                ["queue"], _("queue {code!r} does not take {channel} contacts", code=data.queue, channel=row.channel)
            )
    else:
        assert data.agent is not None
        target_agent = session.scalar(
            select(t.Agent).where(t.Agent.tenant_id == actor.tenant_id, t.Agent.code == data.agent)
        )
        if target_agent is None or not target_agent.active:
            errors.add(["agent"], _("unknown agent {code!r}", code=data.agent))
        elif target_agent.id == row.agent_id:
            errors.add(["agent"], _("a contact cannot be transferred to its own agent"))
        else:
            served = {
                q.queue_id: q
                for q in session.scalars(select(t.AgentQueue).where(t.AgentQueue.agent_id == target_agent.id))
            }
            qid = row.queue_id if row.queue_id in served else None
            if qid is None and served:
                qid = min(served.values(), key=lambda e: (e.rank, e.queue_id)).queue_id
            if qid is None:
                errors.add(["agent"], _("agent {code!r} serves no queue", code=data.agent))
            else:
                queue = session.get(t.Queue, qid)
    errors.raise_if_any(_("the transfer is not valid"))
    assert queue is not None
    target = f"agent:{target_agent.code}" if target_agent is not None else f"queue:{queue.code}"
    now = actor.now()
    new = t.Contact(
        tenant_id=actor.tenant_id,
        initial_contact_id=row.initial_contact_id or row.id,
        previous_contact_id=row.id,
        channel=row.channel,
        direction=row.direction,
        initiation_method="TRANSFER",
        status="arrived",
        ani=row.ani,
        dnis=row.dnis,
        language=row.language,
        customer_id=row.customer_id,
        segment=row.segment,
        value_tier=row.value_tier,
        lifecycle_stage=row.lifecycle_stage,
        reason_id=row.reason_id,
        sub_reason_id=row.sub_reason_id,
        queue_id=queue.id,
        queues=[],
        priority=row.priority,
        initiation_ts=now,
        holds=[],
        attributes=dict(row.attributes or {}),
        routing={},
    )
    session.add(new)
    session.flush()
    row.next_contact_id = new.id
    row.transferred_to = target
    _event(session, actor, row, "contact.transferred", {"to": target, "next_contact_id": new.id})
    _end_agent_leg(session, actor, row, "OTHER", outcome="transferred")
    _event(
        session,
        actor,
        new,
        "contact.arrived",
        {
            "channel": new.channel,
            "direction": new.direction,
            "ani": new.ani,
            "dnis": new.dnis,
            "initiation_method": "TRANSFER",
            "previous_contact_id": row.id,
        },
    )
    _enqueue(session, actor, new, queue, new.priority, for_agent=target_agent)
    return new


def _reason(session: Session, actor: Actor, code: str) -> t.Reason | None:
    return session.scalar(select(t.Reason).where(t.Reason.tenant_id == actor.tenant_id, t.Reason.code == code))


def _close_acw(row: t.Contact, now: dt.datetime) -> float:
    """After-contact work ends: the contact closes. Returns its handle time (talk + hold + ACW)."""
    row.status = "closed"
    row.acw_end_ts = now
    return (now - row.agent_connected_ts).total_seconds() if row.agent_connected_ts else 0.0


def do_time_out_acw(session: Session, actor: Actor, row: t.Contact, deadline: dt.datetime) -> t.Contact:
    """The agent's `acw_timeout_s` passed without a wrap-up: after-contact work ends at `deadline` (not
    later, however late the runner gets to it: ACW and handle time stay true) and the contact closes with
    no disposition or reason (the routing runner's action; the agent gets offers again)."""
    _require(row, "acw")
    handle = _close_acw(row, min(actor.now(), deadline))
    _event(
        session,
        actor,
        row,
        "contact.wrapped_up",
        {
            "disposition": None,
            "reason": None,
            "sub_reason": None,
            "resolved": None,
            "handle_s": handle,
            "timed_out": True,
        },
    )
    return row


def do_wrap_up_contact(session: Session, actor: Actor, row: t.Contact, data: WrapUp) -> t.Contact:
    """After-contact work done: disposition and contact reason (taxonomy), resolved, notes."""
    check_agent_acts(actor, row.agent_id)
    errors = ErrorList()
    reason = _reason(session, actor, data.reason)
    if reason is None or not reason.active:
        errors.add(["reason"], _("unknown reason {code!r}", code=data.reason))
    elif reason.parent_id is not None:
        errors.add(["reason"], _("{code!r} is a sub-reason; give its parent as reason", code=data.reason))
    sub = None
    if data.sub_reason is not None:
        sub = _reason(session, actor, data.sub_reason)
        if sub is None or not sub.active:
            errors.add(["sub_reason"], _("unknown sub-reason {code!r}", code=data.sub_reason))
        elif reason is not None and sub.parent_id != reason.id:
            errors.add(
                ["sub_reason"],
                _("{sub_reason!r} is not a sub-reason of {reason!r}", sub_reason=data.sub_reason, reason=data.reason),
            )
    errors.raise_if_any(_("the wrap-up is not valid"))
    _require(row, "acw")
    assert reason is not None
    handle = _close_acw(row, actor.now())
    row.disposition = data.disposition
    row.reason_id = reason.id
    row.sub_reason_id = sub.id if sub is not None else None
    row.resolved = data.resolved
    row.notes = data.notes
    _event(
        session,
        actor,
        row,
        "contact.wrapped_up",
        {
            "disposition": data.disposition,
            "reason": data.reason,
            "sub_reason": data.sub_reason,
            "resolved": data.resolved,
            "handle_s": handle,
        },
    )
    return row

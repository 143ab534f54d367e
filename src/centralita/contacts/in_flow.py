"""A contact's life while its flow runs: joining, re-prioritising and leaving queues, ending in the flow,
and the callback that keeps its place. One `do_*` per change, rows and events together; the flow runtime
(flowrun/) calls them with the interpreter's actions.

A contact in its flow is `arrived` until its first `queue` node, then `queued` while the flow goes on
(flows-and-routing §2: later nodes run while it waits). Every change of its memberships is a
`contact.queued` event carrying all its open memberships (the routing runner replaces what it had); leaving
its last queue is `contact.dequeued` with the outcome `other:flow` (an exit key, `max_wait`) and the
contact is `arrived` again. Ending in the flow is not an abandon: the outcome is `self_service` when the
flow served the request, `hung_up_in_flow` when the customer left before any queue, `callback` when a
callback took its place, else `flow_disconnect`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from centralita.contacts.live import _event, _lock_queue, _move, close_without_agent, customer_snapshot, queued_event
from centralita.contacts.queries import open_memberships, open_offers
from centralita.contacts.status import ContactStatus
from centralita.core.actor import Actor
from centralita.core.errors import Conflict
from centralita.core.i18n import _
from centralita.store import tables as t

__all__ = [
    "do_create_callback",
    "do_end_in_flow",
    "do_join_queue",
    "do_leave_queues",
    "do_requeue",
    "outcome_in_flow",
    "queue_by_code",
]

S = ContactStatus
FLOW_EXIT = "other:flow"


def queue_by_code(session: Session, tenant_id: int, code: str) -> t.Queue | None:
    """An active queue of the tenant by its code."""
    return session.scalar(select(t.Queue).where(t.Queue.tenant_id == tenant_id, t.Queue.code == code, t.Queue.active))


def _queued_event(session: Session, actor: Actor, row: t.Contact, queue: t.Queue, priority: int) -> Any:
    """`contact.queued` with every open membership; the arrival order they keep, unless it is this
    event's (a first queue: numbered at commit)."""
    memberships = open_memberships(session, row.id)
    kept = next((m.arrival_seq for m in memberships if m.arrival_seq), None)
    return queued_event(session, actor, row, queue, priority, memberships, arrival_seq=kept)


def do_join_queue(
    session: Session,
    actor: Actor,
    row: t.Contact,
    queue: t.Queue,
    priority: int,
    age_adjust_s: float = 0.0,
    keep_age: bool = False,
    routing: dict[str, Any] | None = None,
) -> t.ContactMembership:
    """The contact joins `queue` (its first queue: it becomes `queued` and the queue is its working queue;
    a further one: `keep_age` orders it there by its earliest joining time). A queue it left earlier is
    joined anew (the same membership row, reopened). `routing`: the flow's routing steps there (which
    agents may take it, for how long: `contact_memberships.routing`)."""
    _lock_queue(session, queue)
    now = actor.now()
    current = open_memberships(session, row.id)
    if any(m.queue_id == queue.id for m in current):
        raise Conflict(_("contact {id} already waits in queue {code!r}", id=row.id, code=queue.code))
    joined = now
    if keep_age and current:
        joined = min(m.joined_at for m in current)
    first = row.status == S.ARRIVED
    if first:
        _move(row, S.QUEUED, S.ARRIVED)
        row.queue_id = queue.id
        row.priority = priority
        row.enqueue_ts = now
        row.dequeue_ts = None
        row.queue_outcome = None
    elif row.status != S.QUEUED:
        raise Conflict(_("contact {id} can no longer join a queue", id=row.id))
    arrival_seq = current[0].arrival_seq if current else 0
    membership = session.scalar(
        select(t.ContactMembership).where(
            t.ContactMembership.contact_id == row.id, t.ContactMembership.queue_id == queue.id
        )
    )
    if membership is None:
        membership = t.ContactMembership(
            tenant_id=actor.tenant_id,
            contact_id=row.id,
            queue_id=queue.id,
            arrival_seq=arrival_seq,
            overflowed=False,
        )
        session.add(membership)
    membership.joined_at = joined
    membership.priority = priority
    membership.age_adjust_s = float(age_adjust_s)
    membership.for_agent_id = None
    membership.routing = routing
    membership.left_at = None
    membership.left_why = None
    if not current:
        membership.arrival_seq = 0  # the seq of this contact.queued, given at commit
    session.flush()
    queued = _queued_event(session, actor, row, queue, priority)
    if not current:
        queued.number_into(membership, "arrival_seq")
    return membership


def do_requeue(
    session: Session, actor: Actor, row: t.Contact, queue: t.Queue, priority: int, age_adjust_s: float
) -> None:
    """A `queue` node run again for a queue the contact waits in, with another priority: only its priority
    and age adjustment change (flows-and-routing §7.5: the enqueue time is kept)."""
    for m in open_memberships(session, row.id):
        if m.queue_id == queue.id:
            m.priority = priority
            m.age_adjust_s = float(age_adjust_s)
            if row.queue_id == queue.id:
                row.priority = priority
            session.flush()
            _queued_event(session, actor, row, queue, priority)
            return
    raise Conflict(_("contact {id} does not wait in queue {code!r}", id=row.id, code=queue.code))


def _withdraw_offers(session: Session, actor: Actor, row: t.Contact) -> None:
    from centralita.contacts.live import _close_offer

    for offer in open_offers(session, row.id):
        _close_offer(session, actor, row, offer, "withdrawn")


def _dequeue(session: Session, actor: Actor, row: t.Contact, now: dt.datetime, outcome: str, why: str) -> None:
    """Leave every queue: the episode ends with `outcome` (not an abandon)."""
    _withdraw_offers(session, actor, row)
    for m in open_memberships(session, row.id):
        m.left_at, m.left_why = now, why
    queue = session.get(t.Queue, row.queue_id) if row.queue_id else None
    wait = (now - row.enqueue_ts).total_seconds() if row.enqueue_ts else 0.0
    row.dequeue_ts = now
    row.queue_outcome = outcome
    _event(
        session,
        actor,
        row,
        "contact.dequeued",
        {"outcome": outcome, "queue": queue.code if queue else None, "wait_s": wait},
    )


def do_leave_queues(session: Session, actor: Actor, row: t.Contact, codes: list[str] | None = None) -> None:
    """The flow takes the contact out of `codes` (None: all its queues). Out of its last queue it is
    `arrived` again, its episode ended as `other:flow`; out of some, the rest are what it waits in."""
    if row.status != S.QUEUED:
        return
    now = actor.now()
    current = open_memberships(session, row.id)
    leaving = [m for m in current if codes is None or _code(session, m.queue_id) in codes]
    if not leaving:
        return
    if len(leaving) == len(current):
        _dequeue(session, actor, row, now, FLOW_EXIT, "flow")
        _move(row, S.ARRIVED, S.QUEUED)
        return
    for m in leaving:
        m.left_at, m.left_why = now, "flow"
    rest = [m for m in current if m not in leaving]
    if row.queue_id not in {m.queue_id for m in rest}:
        row.queue_id = rest[0].queue_id
    session.flush()
    queue = session.get(t.Queue, row.queue_id)
    assert queue is not None
    _queued_event(session, actor, row, queue, row.priority)


def _code(session: Session, queue_id: int) -> str:
    queue = session.get(t.Queue, queue_id)
    return queue.code if queue is not None else ""


def outcome_in_flow(row: t.Contact, customer_left: bool) -> str:
    if row.self_service:
        return "self_service"
    return "hung_up_in_flow" if customer_left else "flow_disconnect"


def do_end_in_flow(session: Session, actor: Actor, row: t.Contact, reason: str, outcome: str) -> None:
    """The contact ends while its flow runs (`disconnect`, the end of the flow, the customer leaving
    before any queue, a callback taking its place): closed with `reason` and `outcome`. A queued contact
    leaves its queues first (not an abandon: that is `do_customer_disconnect`'s)."""
    if row.status not in (S.ARRIVED, S.QUEUED):
        return
    now = actor.now()
    if row.status == S.QUEUED:
        _dequeue(session, actor, row, now, f"other:{outcome}", outcome)
    close_without_agent(session, actor, row, reason, outcome, S.ARRIVED, S.QUEUED)


def do_create_callback(
    session: Session,
    actor: Actor,
    row: t.Contact,
    number: str,
    queue: t.Queue,
    keep_place: bool,
    settings: dict[str, Any],
) -> t.Contact:
    """A callback for `row`'s customer: a new outbound voice contact (initiation method `CALLBACK`, the
    number to dial as `dnis`) queued in `queue` for an agent to take and dial. With `keep_place` it keeps
    the place the original had in that queue, if it waited there (still, or until the exit key or
    `max_wait` that led to the callback): its ordering time is the original's enqueue time there and its
    arrival order the original's. The original leaves its queues as
    `other:callback` and ends with the outcome `callback`: not an abandon (flows-and-routing §7.14)."""
    now = actor.now()
    place: t.ContactMembership | None = None
    if keep_place:  # it waited there: still, or until the exit key or time-out that led to the callback
        place = session.scalar(
            select(t.ContactMembership).where(
                t.ContactMembership.contact_id == row.id, t.ContactMembership.queue_id == queue.id
            )
        )
    _lock_queue(session, queue)
    call = t.Contact(
        tenant_id=actor.tenant_id,
        initial_contact_id=row.initial_contact_id or row.id,
        previous_contact_id=row.id,
        channel="voice",
        direction="outbound",
        initiation_method="CALLBACK",
        status=S.ARRIVED,
        ani=None,
        dnis=number,
        **customer_snapshot(row),
        queue_id=queue.id,
        priority=place.priority if place is not None else row.priority,
        initiation_ts=now,
        holds=[],
        attributes={**(row.attributes or {}), "callback": settings},
        collected=dict(row.collected or {}),
    )
    session.add(call)
    session.flush()
    _event(
        session,
        actor,
        call,
        "contact.arrived",
        {
            "channel": call.channel,
            "direction": call.direction,
            "ani": call.ani,
            "dnis": call.dnis,
            "initiation_method": call.initiation_method,
            "previous_contact_id": row.id,
        },
    )
    do_end_in_flow(session, actor, row, "CONTACT_FLOW_DISCONNECT", "callback")
    row.next_contact_id = call.id
    _move(call, S.QUEUED, S.ARRIVED)
    call.enqueue_ts = place.joined_at if place is not None else now
    membership = t.ContactMembership(
        tenant_id=actor.tenant_id,
        contact_id=call.id,
        queue_id=queue.id,
        joined_at=call.enqueue_ts,
        arrival_seq=place.arrival_seq if place is not None else 0,
        priority=call.priority,
        age_adjust_s=place.age_adjust_s if place is not None else 0.0,
        for_agent_id=None,
        overflowed=False,
    )
    session.add(membership)
    session.flush()
    queued = _queued_event(session, actor, call, queue, call.priority)
    if place is None:
        queued.number_into(membership, "arrival_seq")
    return call

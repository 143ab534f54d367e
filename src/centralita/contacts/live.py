"""Live contacts: the only writers of a contact's routing life, one `do_*` per change, rows and events together.

A live contact moves along `contacts/status.py` (`arrived` → `queued` → `connected` ⇄ `held` → `acw` →
`closed`; a customer disconnect while queued is an abandon). While queued it has one to three open
**memberships** (`contact_memberships`: queue, joined at, arrival order, priority, for one agent only,
overflowed, left at / why) and, while an agent's phone rings, open **offers** (`contact_offers`: several
only for a ring_all round). A transfer ends the agent's leg (the agent wraps its part up) and creates the
next contact of the chain (initiation method `TRANSFER`, `previous_contact_id`), queued in the target
queue or for the target agent: metrics.md §1.2 ("a transfer creates a new contact with its own episode");
the chain shares `initial_contact_id`.

Decisions (offers, timeouts, withdrawals, overflows, `missed` agents, ACW time-outs) come from the routing
runner (dispatch/), one routing round per transaction (`do_route_round`); the agent's and the customer's
side (accept, reject, hold, transfer, end, wrap-up) from the API. Every action locks the contact row
(`FOR UPDATE` on PostgreSQL, `BEGIN IMMEDIATE` on SQLite), so an accept and an offer timeout racing on one
contact are decided by the store: the second one gets a Conflict and changes nothing.

Events carry what their consumers need (the routing runner never reads a row back to learn what an event
should have said): `contact.queued` and `contact.overflowed` the contact's open memberships,
`contact.ended` the channel and the ACW deadline, `contact.offer_ended` how many offers still ring.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from centralita.access import acts_for_any_agent, check_acts_on_contact, was_offered
from centralita.agents.actions import record_state
from centralita.contacts import holds
from centralita.contacts.queries import open_memberships, open_offers, queue_codes, waiting_in
from centralita.contacts.schemas import FollowUp, LiveContactCreate, LiveContactPublic, TransferRequest, WrapUp
from centralita.contacts.status import ContactStatus, check_move, require
from centralita.core.actor import Actor
from centralita.core.errors import CentralitaError, Conflict, ErrorList, Forbidden, InvalidInput, NotFound
from centralita.core.i18n import _
from centralita.crm.actions import do_open_case
from centralita.crm.queries import find_identity
from centralita.crm.schemas import CaseCreate
from centralita.events.log import Appended, append_event
from centralita.queues.hours import OPEN, hours_status
from centralita.routing.lifecycle import Overflowed
from centralita.routing.model import Offer, OfferEnded
from centralita.store import tables as t

__all__ = [
    "RoundResult",
    "arrive",
    "close_without_agent",
    "contact_summary",
    "customer_snapshot",
    "do_route_round",
    "do_withdraw_offers",
    "lock_contact",
    "queued_event",
]

IDENTITY_BY_CHANNEL = {"voice": "phone", "sms": "phone", "email": "email", "chat": "chat"}
OFFER_RESULTS = ("accepted", "rejected", "timeout", "withdrawn")
S = ContactStatus


def _ts(value: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(value, dt.UTC)


# reads ----------------------------------------------------------------------------------------------


def lock_contact(session: Session, actor: Actor, contact_id: int) -> t.Contact:
    """The tenant's contact, locked for this transaction."""
    row = session.scalar(
        select(t.Contact)
        .where(t.Contact.tenant_id == actor.tenant_id, t.Contact.id == contact_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    if row is None:
        raise NotFound(_("no contact {id}", id=contact_id))
    return row


def _lock_contacts(session: Session, actor: Actor, ids: Iterable[int]) -> dict[int, t.Contact]:
    """The tenant's contacts among `ids`, locked in id order (two rounds never wait on each other)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = session.scalars(
        select(t.Contact)
        .where(t.Contact.tenant_id == actor.tenant_id, t.Contact.id.in_(wanted))
        .order_by(t.Contact.id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    return {row.id: row for row in rows}


def live_public(session: Session, row: t.Contact) -> LiveContactPublic:
    offered = [o.agent_id for o in open_offers(session, row.id)]
    base = LiveContactPublic.model_validate(row, from_attributes=True)
    return base.model_copy(
        update={
            "outcome": row.outcome,
            "offered_to": offered[0] if offered else None,
            "offered_agents": offered,
            "queues": queue_codes(session, row.id),
        }
    )


def contact_summary(session: Session, row: t.Contact, queue: t.Queue | None = None) -> dict[str, Any]:
    """What an agent's screen shows of a contact before a second request (`contact.offered`,
    `contact.connected` and the realtime snapshot): its channel, queue, priority, caller, and the customer
    as recognised at arrival (name, segment, value tier, lifecycle stage), and everything its flow collected
    (`collected`: what was asked, checked and served, the case and its reference): never asked twice."""
    if queue is None and row.queue_id is not None:
        queue = session.get(t.Queue, row.queue_id)
    return {
        "id": row.id,
        "channel": row.channel,
        "queue": queue.code if queue is not None else None,
        "priority": row.priority,
        "ani": row.ani,
        "customer_id": row.customer_id,
        "customer_name": row.customer_name,
        "segment": row.segment,
        "value_tier": row.value_tier,
        "lifecycle_stage": row.lifecycle_stage,
        "language": row.language,
        "self_service": row.self_service,
        "collected": dict(row.collected or {}),
    }


def membership_payload(m: t.ContactMembership) -> dict[str, Any]:
    """A membership as events carry it (the routing runner builds its waiting contact from these)."""
    return {
        "queue_id": m.queue_id,
        "joined_at": m.joined_at.isoformat(),
        "priority": m.priority,
        "age_adjust_s": m.age_adjust_s,
        "for_agent_id": m.for_agent_id,
        "overflowed": m.overflowed,
        "routing": m.routing,
    }


# events ---------------------------------------------------------------------------------------------


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


def _event(
    session: Session, actor: Actor, row: t.Contact, type_: str, data: dict[str, Any], **subjects: Any
) -> Appended:
    return append_event(session, actor.tenant_id, type_, actor.now(), data, **_subjects(actor, row, **subjects))


def customer_snapshot(row: t.Contact) -> dict[str, Any]:
    """What the next contact of a chain (a transfer, a callback) takes from `row`: its language, the
    customer as recognised, and the reason."""
    return {
        "language": row.language,
        "customer_id": row.customer_id,
        "customer_name": row.customer_name,
        "segment": row.segment,
        "value_tier": row.value_tier,
        "lifecycle_stage": row.lifecycle_stage,
        "reason_id": row.reason_id,
    }


def close_without_agent(
    session: Session, actor: Actor, row: t.Contact, reason: str, outcome: str, *needs: ContactStatus, **subjects: int
) -> None:
    """The contact ends without an agent's leg (no after-contact work): closed, from one of `needs`, with
    `reason` and `outcome` (`contact.ended`)."""
    _move(row, S.CLOSED, *needs)
    row.disconnect_ts = actor.now()
    row.disconnect_reason = reason
    row.outcome = outcome
    _event(
        session,
        actor,
        row,
        "contact.ended",
        {"reason": reason, "acw": False, "outcome": outcome, "channel": row.channel, "acw_due": None},
        **subjects,
    )


def queued_event(
    session: Session,
    actor: Actor,
    row: t.Contact,
    queue: t.Queue,
    priority: int,
    memberships: list[t.ContactMembership],
    for_agent: t.Agent | None = None,
    arrival_seq: int | None = None,
) -> Appended:
    """`contact.queued` with every membership the contact now waits in; `arrival_seq` when it keeps an
    earlier arrival order (None: this event's seq, numbered at commit)."""
    return _event(
        session,
        actor,
        row,
        "contact.queued",
        {
            "queue": queue.code,
            "priority": priority,
            "for_agent": for_agent.code if for_agent is not None else None,
            "channel": row.channel,
            "memberships": [membership_payload(m) for m in memberships],
            "arrival_seq": arrival_seq,
        },
        queue_id=queue.id,
        agent_id=for_agent.id if for_agent is not None else None,
    )


def _move(row: t.Contact, to: ContactStatus, *needs: ContactStatus) -> None:
    """Change the status along `contacts/status.py` (a Conflict naming what is needed, else)."""
    row.status = check_move(row.id, row.status, to, needs or None)


def _leave_queues(session: Session, row: t.Contact, when: dt.datetime, why: str) -> None:
    for m in open_memberships(session, row.id):
        m.left_at, m.left_why = when, why


# arrival --------------------------------------------------------------------------------------------


def _queue_by_code(session: Session, actor: Actor, code: str, field: str, errors: ErrorList) -> t.Queue | None:
    row = session.scalar(select(t.Queue).where(t.Queue.tenant_id == actor.tenant_id, t.Queue.code == code))
    if row is None:
        errors.add([field], _("unknown queue {code!r}", code=code))
    elif not row.active:
        errors.add([field], _("queue {code!r} is deactivated", code=code))
    return row


def _lock_queue(session: Session, queue: t.Queue) -> None:
    """With `max_contacts`, concurrent arrivals in the queue take turns from here to commit, so each counts
    the others' memberships and the limit holds exactly (SQLite writers are serial anyway). Taken before
    anything else is written: `FOR NO KEY UPDATE` does not wait on the key-share locks that other
    transactions' foreign keys to the queue hold, and no writer holds the tenant's event counter yet."""
    if queue.max_contacts is not None:
        session.execute(select(t.Queue.id).where(t.Queue.id == queue.id).with_for_update(key_share=True))


def _closed_outcome(session: Session, queue: t.Queue, when: dt.datetime) -> str | None:
    """`closed_hours` or `holiday` when the queue's calendar is not open; `queue_full` at max_contacts (the
    caller holds the queue's lock: `_lock_queue`)."""
    if queue.hours_id is not None:
        hours = session.get(t.HoursCalendar, queue.hours_id)
        if hours is not None:
            status = hours_status(hours.timezone, hours.weekly, hours.overrides, when)
            if status != OPEN:
                return "holiday" if status == "holiday" else "closed_hours"
    if queue.max_contacts is not None and waiting_in(session, queue) >= queue.max_contacts:
        return "queue_full"
    return None


def _enqueue(
    session: Session,
    actor: Actor,
    row: t.Contact,
    queue: t.Queue,
    priority: int,
    for_agent: t.Agent | None = None,
) -> None:
    """Start the contact's queue episode in `queue` (for one agent only when `for_agent`). Its arrival
    order is the seq of this `contact.queued` event."""
    now = actor.now()
    _move(row, S.QUEUED, S.ARRIVED)
    row.queue_id = queue.id
    row.priority = priority
    row.enqueue_ts = now
    membership = t.ContactMembership(
        tenant_id=actor.tenant_id,
        contact_id=row.id,
        queue_id=queue.id,
        joined_at=now,
        arrival_seq=0,  # the seq of its contact.queued, given at commit
        priority=priority,
        age_adjust_s=0.0,
        for_agent_id=for_agent.id if for_agent is not None else None,
        overflowed=False,
    )
    session.add(membership)
    session.flush()
    queued = queued_event(session, actor, row, queue, priority, [membership], for_agent)
    queued.number_into(membership, "arrival_seq")


def identify_caller(session: Session, tenant_id: int, channel: str, address: str) -> tuple[str, t.Customer | None]:
    """The customer whose identity of the channel's kind (phone for voice and SMS, e-mail, chat id) is
    `address`, and that kind; an unparsable number is an unknown caller."""
    tenant = session.get(t.Tenant, tenant_id)
    assert tenant is not None
    kind = IDENTITY_BY_CHANNEL[channel]
    try:
        identity = find_identity(session, tenant_id, tenant.country, kind, address)
    except InvalidInput:
        identity = None
    return kind, session.get(t.Customer, identity.customer_id) if identity is not None else None


def arrive(
    session: Session,
    actor: Actor,
    channel: str,
    ani: str,
    dnis: str | None,
    language: str,
    attributes: dict[str, Any],
    queue: t.Queue | None = None,
    initiation_method: str = "API",
) -> tuple[t.Contact, t.Customer | None]:
    """A contact's arrival (status `arrived`): its row, recognised by its caller number or sender, with
    `contact.arrived` and, when recognised, `contact.identified` (flows-and-routing §3: before the first
    node of a flow). The caller queues it or runs its flow."""
    kind, customer = identify_caller(session, actor.tenant_id, channel, ani)
    row = t.Contact(
        tenant_id=actor.tenant_id,
        channel=channel,
        direction="inbound",
        initiation_method=initiation_method,
        status=S.ARRIVED,
        ani=ani,
        dnis=dnis,
        language=language,
        customer_id=customer.id if customer else None,
        customer_name=customer.name if customer else None,
        segment=customer.segment if customer else None,
        value_tier=customer.value_tier if customer else None,
        lifecycle_stage=customer.lifecycle_stage if customer else None,
        queue_id=queue.id if queue is not None else None,
        priority=0,
        initiation_ts=actor.now(),
        holds=[],
        attributes=attributes,
        collected={},
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
            "previous_contact_id": None,
        },
    )
    if customer is not None:
        _event(session, actor, row, "contact.identified", {"by": kind, "segment": customer.segment})
    return row, customer


def do_create_live_contact(session: Session, actor: Actor, data: LiveContactCreate) -> t.Contact:
    """A contact arrives now: recognised by its identity, then queued — or recorded and ended when the
    queue is closed (hours calendar) or full (`max_contacts`)."""
    errors = ErrorList()
    if data.queue is None:
        raise InvalidInput.field("queue", _("give the queue the contact joins"))
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
    _lock_queue(session, queue)
    now = actor.now()
    row, customer = arrive(
        session, actor, data.channel, data.from_, data.to, data.language, dict(data.attributes), queue=queue
    )
    priority = data.priority
    if priority is None:
        segment = customer.segment if customer is not None else None
        priority = int((queue.segment_priority or {}).get(segment, 0)) if segment else 0
    row.priority = priority
    outcome = _closed_outcome(session, queue, now)
    if outcome is not None:
        close_without_agent(session, actor, row, "CONTACT_FLOW_DISCONNECT", outcome, S.ARRIVED, queue_id=queue.id)
        return row
    _enqueue(session, actor, row, queue, priority)
    return row


# routing decisions (the runner) ---------------------------------------------------------------------


@dataclass
class RoundResult:
    """What a routing round could not write, each with the store's reason (the runner corrects the router)."""

    offers_made: list[Offer] = field(default_factory=list)
    # (offer, why: not_waiting | already_offered | agent_unavailable, message)
    offers_refused: list[tuple[Offer, str, str]] = field(default_factory=list)
    ends_refused: list[tuple[OfferEnded, str]] = field(default_factory=list)
    overflows_refused: list[tuple[Overflowed, str]] = field(default_factory=list)
    acw_refused: list[tuple[int, str]] = field(default_factory=list)


def do_route_round(
    session: Session,
    actor: Actor,
    *,
    ended: Sequence[OfferEnded] = (),
    missed: Sequence[int] = (),
    overflows: Sequence[Overflowed] = (),
    offers: Sequence[Offer] = (),
    acw_due: Sequence[tuple[int, dt.datetime]] = (),
) -> RoundResult:
    """One routing round, in one transaction: offers that ended (timeout, withdrawn), agents that missed too
    many offers (R6), overflows applied (R10), new offers (R5; a ring_all round rings several agents for
    one contact), and after-contact work past its deadline. Each item is checked against the store before
    it writes anything; one that no longer fits (the contact was answered or abandoned meanwhile, the agent
    went away) is left out and reported, the others are written. Contacts are locked in id order."""
    result = RoundResult()
    involved = [e.offer.contact_id for e in ended] + [o.contact_id for o in overflows]
    involved += [o.contact_id for o in offers] + [cid for cid, _due in acw_due]
    rows = _lock_contacts(session, actor, involved)

    def contact(contact_id: int) -> t.Contact:
        row = rows.get(contact_id)
        if row is None:
            raise NotFound(_("no contact {id}", id=contact_id))
        return row

    for end in ended:
        try:
            _end_offer(session, actor, contact(end.offer.contact_id), end.offer.agent_id, end.result)
        except CentralitaError as exc:
            result.ends_refused.append((end, exc.detail))
    for agent_id in sorted(set(missed)):
        agent = session.get(t.Agent, agent_id, with_for_update=True)
        if agent is not None and agent.tenant_id == actor.tenant_id:
            do_mark_agent_missed(session, actor, agent)
    for overflow in overflows:
        try:
            _overflow(session, actor, contact(overflow.contact_id), overflow)
        except CentralitaError as exc:
            result.overflows_refused.append((overflow, exc.detail))
    by_contact: dict[int, list[Offer]] = {}
    for offer in offers:
        by_contact.setdefault(offer.contact_id, []).append(offer)
    for contact_id, round_ in by_contact.items():
        try:
            made, refused = _offer(session, actor, contact(contact_id), round_)
        except OfferRefused as exc:
            result.offers_refused.extend((o, exc.kind, exc.detail) for o in round_)
        except CentralitaError as exc:
            result.offers_refused.extend((o, "not_waiting", exc.detail) for o in round_)
        else:
            result.offers_made.extend(made)
            result.offers_refused.extend(refused)
    for contact_id, deadline in acw_due:
        try:
            do_time_out_acw(session, actor, contact(contact_id), deadline)
        except CentralitaError as exc:
            result.acw_refused.append((contact_id, exc.detail))
    return result


class OfferRefused(Conflict):
    """The store refuses a routing round's offer; `kind` says why (the runner corrects its router by it)."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind


def _offer(
    session: Session, actor: Actor, row: t.Contact, round_: Sequence[Offer]
) -> tuple[list[Offer], list[tuple[Offer, str, str]]]:
    """Ring the waiting contact's agents (one, or several for a ring_all queue: same queue, same timeout).
    The contact stays in its queues. An agent no longer available is left out; when none is left, the
    whole round is refused (a Conflict)."""
    _require_status(row, S.QUEUED)
    if open_offers(session, row.id):
        raise OfferRefused("already_offered", _("contact {id} is already offered", id=row.id))
    first = round_[0]
    queue = session.get(t.Queue, first.queue_id)
    if queue is None or queue.tenant_id != actor.tenant_id:
        raise Conflict(_("contact {id} is not waiting in queue {queue}", id=row.id, queue=first.queue_id))
    if len(round_) > 1 and (
        queue.agent_selection != "ring_all"
        or any(o.queue_id != first.queue_id or o.timeout_at != first.timeout_at for o in round_)
        or len({o.agent_id for o in round_}) != len(round_)
    ):
        raise OfferRefused("already_offered", _("contact {id} is already offered", id=row.id))
    waiting = {m.queue_id for m in open_memberships(session, row.id)}
    if first.queue_id not in waiting:
        raise Conflict(_("contact {id} is not waiting in queue {queue}", id=row.id, queue=queue.code))
    made: list[Offer] = []
    refused: list[tuple[Offer, str, str]] = []
    now = actor.now()
    summary = contact_summary(session, row)
    for offer in round_:
        agent = session.get(t.Agent, offer.agent_id)
        if agent is None or agent.tenant_id != actor.tenant_id or not agent.active or agent.state != "available":
            refused.append((offer, "agent_unavailable", _("agent {agent} is not available", agent=offer.agent_id)))
            continue
        session.add(
            t.ContactOffer(
                tenant_id=actor.tenant_id,
                contact_id=row.id,
                agent_id=agent.id,
                queue_id=queue.id,
                offered_at=now,
                timeout_at=_ts(offer.timeout_at),
            )
        )
        _event(
            session,
            actor,
            row,
            "contact.offered",
            {
                "agent": agent.code,
                "queue": queue.code,
                "timeout_at": _ts(offer.timeout_at).isoformat(),
                "contact": summary,
            },
            agent_id=agent.id,
            queue_id=queue.id,
        )
        made.append(offer)
    if not made:
        raise OfferRefused("agent_unavailable", refused[0][2])
    return made, refused


def _open_offer(session: Session, row: t.Contact, agent_id: int) -> t.ContactOffer:
    offers = open_offers(session, row.id)
    if not offers:
        raise Conflict(_("contact {id} has no open offer", id=row.id))
    for offer in offers:
        if offer.agent_id == agent_id:
            return offer
    raise Conflict(_("contact {id} is not offered to agent {agent}", id=row.id, agent=agent_id))


def _close_offer(session: Session, actor: Actor, row: t.Contact, offer: t.ContactOffer, result: str) -> None:
    """End one open offer and record its `contact.offer_ended` (with how many still ring)."""
    offer.ended_at, offer.result = actor.now(), result
    session.flush()
    agent = session.get(t.Agent, offer.agent_id)
    left = len(open_offers(session, row.id))
    _event(
        session,
        actor,
        row,
        "contact.offer_ended",
        {"agent": agent.code if agent else None, "result": result, "offers_left": left},
        agent_id=offer.agent_id,
        queue_id=offer.queue_id,
    )


def _end_offer(session: Session, actor: Actor, row: t.Contact, agent_id: int, result: str) -> None:
    """The offer to `agent_id` ended without an accept: `rejected` (the agent), `timeout` or `withdrawn`
    (the runner). Other agents' offers (ring_all) keep ringing; once none is left the contact is back at its
    original place."""
    if result not in ("rejected", "timeout", "withdrawn"):
        raise InvalidInput.field("result", _("unknown offer result {result!r}", result=result))
    _require_status(row, S.QUEUED)
    offer = _open_offer(session, row, agent_id)
    if result == "rejected" and offer.timeout_at <= actor.now():
        raise Conflict(_("the offer of contact {id} has expired", id=row.id))
    _close_offer(session, actor, row, offer, result)


def do_withdraw_offers(session: Session, actor: Actor, row: t.Contact) -> None:
    """Every open offer of the contact ends as `withdrawn` (recovery: the router that made them is gone)."""
    for offer in open_offers(session, row.id):
        _close_offer(session, actor, row, offer, "withdrawn")


def _overflow(session: Session, actor: Actor, row: t.Contact, overflow: Overflowed) -> None:
    """R10 as the router applied it at `overflow.at`: the waiting contact also joins (`add`) or moves to
    (`move`) `to_queue` (None: it could not), or stays (`stay`: refused, a cycle), and its stored
    memberships follow, so recovery rebuilds the same ones. The new membership starts at `at` with the old
    one's priority and keeps the contact's earliest ordering time (`age_adjust_s`, as the engine's
    `_apply_overflow`); with `add` and `stay` the old one is marked `overflowed`, with `move` it is left."""
    _require_status(row, S.QUEUED)
    mode, at = overflow.mode, _ts(overflow.at)
    if mode not in ("add", "move", "stay"):
        raise InvalidInput.field("mode", _("unknown overflow mode {mode!r}", mode=mode))
    memberships = open_memberships(session, row.id)
    source = next((m for m in memberships if m.queue_id == overflow.from_queue), None)
    if source is None or source.overflowed:
        raise Conflict(
            _("contact {id} is not waiting to overflow from queue {queue}", id=row.id, queue=overflow.from_queue)
        )
    earliest = min(m.joined_at.timestamp() - m.age_adjust_s for m in memberships)
    old_queue = session.get(t.Queue, overflow.from_queue)
    new_queue = session.get(t.Queue, overflow.to_queue) if overflow.to_queue is not None and mode != "stay" else None
    remaining = [m for m in memberships if not (mode == "move" and m is source)]
    joins = new_queue is not None and all(m.queue_id != new_queue.id for m in remaining)
    if (
        joins
        and new_queue is not None
        and session.scalar(
            select(t.ContactMembership.id).where(
                t.ContactMembership.contact_id == row.id, t.ContactMembership.queue_id == new_queue.id
            )
        )
    ):  # a queue it left (moved on from): never back (R10); the router would not send it there
        raise Conflict(_("contact {id} is not waiting to overflow from queue {queue}", id=row.id, queue=new_queue.code))
    # checked: now write
    if mode == "move":
        source.left_at, source.left_why = at, "moved"
    else:
        source.overflowed = True
    memberships = remaining
    if joins and new_queue is not None:
        added = t.ContactMembership(
            tenant_id=actor.tenant_id,
            contact_id=row.id,
            queue_id=new_queue.id,
            joined_at=at,
            arrival_seq=source.arrival_seq,
            priority=source.priority,
            age_adjust_s=overflow.at - earliest,
            for_agent_id=None,
            overflowed=False,
        )
        session.add(added)
        memberships.append(added)
    session.flush()
    _event(
        session,
        actor,
        row,
        "contact.overflowed",
        {
            "from": old_queue.code if old_queue else None,
            "to": new_queue.code if new_queue else None,
            "mode": mode,
            "memberships": [membership_payload(m) for m in memberships],
        },
        queue_id=new_queue.id if new_queue is not None else overflow.from_queue,
    )


def do_mark_agent_missed(session: Session, actor: Actor, agent: t.Agent) -> None:
    """R6: after `max_missed_offers` consecutive offers without an answer the agent is `missed`: no offers
    until it makes itself available again (an agent state, like Genesys' "not responding")."""
    if agent.state == "available":
        record_state(session, actor, agent, "missed", None)


# the agent's side ---------------------------------------------------------------------------------


def _require_status(row: t.Contact, *statuses: ContactStatus) -> None:
    require(row.id, row.status, *statuses)


def offered_agent(
    session: Session, row: t.Contact, actor: Actor | None = None, agent_id: int | None = None
) -> int | None:
    """Whose offer an accept or reject acts on: `agent_id` when given, else the acting agent's own offer
    (an agent with none gets a Conflict: the offer ended, or another agent took the contact), else (a
    supervisor acting for an agent) the first open offer. None when the contact has no open offer."""
    if agent_id is not None:
        return agent_id
    offered = [o.agent_id for o in open_offers(session, row.id)]
    if actor is not None and not acts_for_any_agent(actor) and actor.agent_id is not None:
        if actor.agent_id in offered:
            return actor.agent_id
        if not was_offered(session, row.id, actor.agent_id):
            raise Forbidden(_("contact {id} was never offered to you", id=row.id))
        raise Conflict(
            _("your offer of contact {id} has ended (answered elsewhere, timed out or withdrawn)", id=row.id)
        )
    return offered[0] if offered else None


def do_accept_contact(
    session: Session,
    actor: Actor,
    row: t.Contact,
    agent_id: int | None = None,
    received_at: dt.datetime | None = None,
) -> t.Contact:
    """The agent accepts its offer: the contact leaves every queue (answered) and connects; with ring_all
    the other agents' offers are withdrawn (first accept wins). An accept that reached the server
    (`received_at`, default now) at or after the offer's timeout is too late; one that reached it before
    is in time however long it waited to be applied, as long as the offer is still open."""
    agent_id = offered_agent(session, row, actor, agent_id)
    check_acts_on_contact(actor, agent_id)
    if agent_id is None:
        raise Conflict(_("contact {id} has no open offer", id=row.id))
    _require_status(row, S.QUEUED)
    offer = _open_offer(session, row, agent_id)
    now = actor.now()
    if offer.timeout_at <= min(now, received_at or now):
        raise Conflict(_("the offer of contact {id} has expired", id=row.id))
    agent = session.get(t.Agent, agent_id)
    assert agent is not None
    queue = session.get(t.Queue, offer.queue_id)
    wait = (now - row.enqueue_ts).total_seconds() if row.enqueue_ts else 0.0
    _close_offer(session, actor, row, offer, "accepted")
    for other in open_offers(session, row.id):
        _close_offer(session, actor, row, other, "withdrawn")
    _move(row, S.CONNECTED, S.QUEUED)
    row.agent_id = agent.id
    row.queue_id = offer.queue_id  # the queue that answered (metrics.md §1.2)
    row.dequeue_ts = now
    row.queue_outcome = "answered"
    row.agent_connected_ts = now
    _leave_queues(session, row, now, "answered")
    _event(
        session,
        actor,
        row,
        "contact.dequeued",
        {"outcome": "answered", "queue": queue.code if queue else None, "wait_s": wait},
    )
    connected = {"agent": agent.code, "queue": queue.code if queue else None, "contact": contact_summary(session, row)}
    _event(session, actor, row, "contact.connected", connected)
    return row


def do_reject_contact(session: Session, actor: Actor, row: t.Contact, agent_id: int | None = None) -> t.Contact:
    """The agent declines its offer; with ring_all the others keep ringing."""
    agent_id = offered_agent(session, row, actor, agent_id)
    check_acts_on_contact(actor, agent_id)
    if agent_id is None:
        raise Conflict(_("contact {id} has no open offer", id=row.id))
    _end_offer(session, actor, row, agent_id, "rejected")
    return row


def _close_hold(row: t.Contact, now: dt.datetime) -> None:
    row.holds = holds.end_hold(row.holds, now)


def do_hold_contact(session: Session, actor: Actor, row: t.Contact) -> t.Contact:
    check_acts_on_contact(actor, row.agent_id)
    _move(row, S.HELD, S.CONNECTED)
    row.holds = holds.start_hold(row.holds, actor.now())
    _event(session, actor, row, "contact.held", {})
    return row


def do_resume_contact(session: Session, actor: Actor, row: t.Contact) -> t.Contact:
    check_acts_on_contact(actor, row.agent_id)
    _move(row, S.CONNECTED, S.HELD)
    _close_hold(row, actor.now())
    _event(session, actor, row, "contact.resumed", {})
    return row


def _end_agent_leg(session: Session, actor: Actor, row: t.Contact, reason: str, outcome: str | None = None) -> None:
    """The agent's leg ends; the agent goes to after-contact work on this contact (until it wraps up, or
    its `acw_timeout_s` passes: the deadline travels on `contact.ended`)."""
    now = actor.now()
    _move(row, S.ACW, S.CONNECTED, S.HELD)
    _close_hold(row, now)
    row.agent_end_ts = now
    row.disconnect_ts = now
    row.disconnect_reason = reason
    row.acw_start_ts = now
    if outcome is not None:
        row.outcome = outcome
    agent = session.get(t.Agent, row.agent_id) if row.agent_id is not None else None
    timeout_s = agent.acw_timeout_s if agent is not None else 0
    due = (now + dt.timedelta(seconds=timeout_s)).isoformat() if timeout_s > 0 else None
    _event(
        session,
        actor,
        row,
        "contact.ended",
        {"reason": reason, "acw": True, "outcome": outcome, "channel": row.channel, "acw_due": due},
    )


def do_end_contact(session: Session, actor: Actor, row: t.Contact, wrap_up: WrapUp | None = None) -> t.Contact:
    """The agent hangs up (or closes the chat / e-mail): after-contact work starts — or, with `wrap_up`,
    the contact is wrapped up at once, in the same transaction (`contact.ended` then `contact.wrapped_up`,
    consecutive numbers; one write instead of two). An invalid wrap-up rolls the end back too."""
    check_acts_on_contact(actor, row.agent_id)
    _end_agent_leg(session, actor, row, "AGENT_DISCONNECT")
    if wrap_up is not None:
        do_wrap_up_contact(session, actor, row, wrap_up)
    return row


def live_in_chain(session: Session, actor: Actor, row: t.Contact) -> t.Contact:
    """The live contact of a transfer chain (the customer keeps the first contact's id)."""
    seen = 0
    while row.next_contact_id is not None and seen < 50:
        row = lock_contact(session, actor, row.next_contact_id)
        seen += 1
    return row


def do_customer_disconnect(session: Session, actor: Actor, row: t.Contact) -> t.Contact:
    """The customer hangs up or leaves the chat: an abandon while queued (R11), the end of the contact while
    its flow runs before any queue (`self_service` when the flow served it, else `hung_up_in_flow`), else
    the end of the agent's leg."""
    row = live_in_chain(session, actor, row)
    if row.status == S.ARRIVED:  # in its flow, in no queue: not an abandon
        outcome = "self_service" if row.self_service else "hung_up_in_flow"
        close_without_agent(session, actor, row, "CUSTOMER_DISCONNECT", outcome, S.ARRIVED)
        return row
    if row.status != S.QUEUED:
        _end_agent_leg(session, actor, row, "CUSTOMER_DISCONNECT")
        return row
    now = actor.now()
    for offer in open_offers(session, row.id):
        _close_offer(session, actor, row, offer, "withdrawn")
    wait = (now - row.enqueue_ts).total_seconds() if row.enqueue_ts else 0.0
    queue = session.get(t.Queue, row.queue_id) if row.queue_id else None
    row.dequeue_ts = now
    row.queue_outcome = "abandoned"
    _leave_queues(session, row, now, "abandoned")
    _event(
        session,
        actor,
        row,
        "contact.dequeued",
        {"outcome": "abandoned", "queue": queue.code if queue else None, "wait_s": wait},
    )
    close_without_agent(session, actor, row, "CUSTOMER_DISCONNECT", "abandoned", S.QUEUED)
    return row


def _transfer_note(session: Session, row: t.Contact, note: str | None) -> dict[str, Any]:
    agent = session.get(t.Agent, row.agent_id) if row.agent_id is not None else None
    return {"from_contact_id": row.id, "from_agent": agent.name if agent is not None else None, "note": note}


def do_transfer_contact(session: Session, actor: Actor, row: t.Contact, data: TransferRequest) -> t.Contact:
    """Blind transfer: the agent's leg ends (it wraps its part up) and the next contact of the chain is
    queued in `data.queue`, or for `data.agent` only (in a queue that agent serves). Returns the new contact."""
    check_acts_on_contact(actor, row.agent_id)
    _require_status(row, S.CONNECTED, S.HELD)
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
        status=S.ARRIVED,
        ani=row.ani,
        dnis=row.dnis,
        **customer_snapshot(row),
        sub_reason_id=row.sub_reason_id,
        queue_id=queue.id,
        priority=row.priority,
        initiation_ts=now,
        holds=[],
        attributes=dict(row.attributes or {}),
        # never asked twice: what the flow collected travels on, with who transferred it and their note
        collected={**(row.collected or {}), "transfer": _transfer_note(session, row, data.note)},
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
    _move(row, S.CLOSED, S.ACW)
    row.acw_end_ts = now
    return (now - row.agent_connected_ts).total_seconds() if row.agent_connected_ts else 0.0


def do_time_out_acw(session: Session, actor: Actor, row: t.Contact, deadline: dt.datetime) -> t.Contact:
    """The agent's `acw_timeout_s` passed without a wrap-up: after-contact work ends at `deadline` (not
    later, however late the runner gets to it: ACW and handle time stay true) and the contact closes with
    no disposition or reason (the routing runner's action; the agent gets offers again)."""
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


def _open_follow_up(session: Session, actor: Actor, row: t.Contact, follow: FollowUp, reason: str) -> None:
    """The wrap-up's follow-up as an open case owned by the contact's agent, linked to the contact."""
    agent = session.get(t.Agent, row.agent_id) if row.agent_id is not None else None
    label = _("Call the customer back") if follow.kind == "callback" else _("Follow-up")
    subject = f"{label}: {follow.note}" if follow.note else label
    do_open_case(
        session,
        actor,
        CaseCreate(
            subject=subject[:300],
            customer_id=row.customer_id,
            reason=reason,
            owner=agent.code if agent is not None else None,
            due_at=follow.due_at,
            contact_id=row.id,
            note=follow.note,
        ),
    )


def do_wrap_up_contact(session: Session, actor: Actor, row: t.Contact, data: WrapUp) -> t.Contact:
    """After-contact work done: disposition and contact reason (taxonomy), resolved, notes. Only in
    after-contact work (a connected contact is ended first)."""
    check_acts_on_contact(actor, row.agent_id)
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
    assert reason is not None
    handle = _close_acw(row, actor.now())
    row.disposition = data.disposition
    row.reason_id = reason.id
    row.sub_reason_id = sub.id if sub is not None else None
    row.resolved = data.resolved
    row.notes = data.notes
    if data.follow_up is not None:
        _open_follow_up(session, actor, row, data.follow_up, reason.code)
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
            "timed_out": False,
        },
    )
    return row

"""Events → router: one handler per event type, in a table.

Contact events and agent state changes carry what the router needs (`events/types.py`): the handlers
never read a contact or an agent row back. `contact.queued` and `contact.overflowed` carry the contact's
open memberships, kept here as `TenantRouting.queued` (a projection of the waiting contacts, from the
events), so a contact the router let go can be put back as the store has it without a read.
Configuration events (a queue, an agent's profile, a skill, a configuration file changed) carry a diff,
not the whole configuration: their handlers reload the changed configuration rows from the store
(`ConfigSource`), which are rare and small.

A handler that finds the router out of step with the event (a `RoutingError`: an accept the router
missed, a release of a contact it never connected) marks the tenant for a rebuild from the store.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from centralita.dispatch.snapshot import membership, routing_of, routing_text
from centralita.dispatch.stats import ServiceLevelWindow
from centralita.events.log import EventRecord
from centralita.routing.engine import Router, RoutingError
from centralita.routing.model import Membership, WaitingContact

__all__ = ["HANDLERS", "ConfigSource", "Queued", "TenantRouting", "apply_event", "router_status_of"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Queued:
    """A waiting contact as the events (or the store) describe it: what the router is given when it
    (re)enqueues the contact. Memberships: (queue id, joined at, priority, age adjust, for agent, overflowed,
    a flow's routing steps as JSON text)."""

    contact_id: int
    channel: str
    arrival_seq: int
    memberships: tuple[tuple[int, float, int, float, int | None, bool, str | None], ...]
    overflowed_from: frozenset[int] = frozenset()

    @classmethod
    def from_payload(
        cls, contact_id: int, channel: str, arrival_seq: int, raw: list[dict[str, Any]], moved: frozenset[int]
    ) -> Queued:
        memberships = tuple(
            (
                int(m["queue_id"]),
                dt.datetime.fromisoformat(m["joined_at"]).timestamp(),
                int(m["priority"]),
                float(m["age_adjust_s"]),
                None if m["for_agent_id"] is None else int(m["for_agent_id"]),
                bool(m["overflowed"]),
                routing_text(m.get("routing")),
            )
            for m in raw
        )
        applied = frozenset(m[0] for m in memberships if m[5])
        return cls(contact_id, channel, arrival_seq, memberships, moved | applied)

    @classmethod
    def from_waiting(cls, w: WaitingContact) -> Queued:
        memberships = tuple(
            (
                m.queue_id,
                m.enqueue_ts,
                m.priority,
                m.age_adjust_s,
                _for_agent(m),
                m.overflowed,
                routing_of(m),
            )
            for m in w.memberships
        )
        return cls(w.id, w.channel, w.arrival_seq, memberships, frozenset(w.overflowed_from))

    def waiting(self) -> WaitingContact:
        """A fresh router value (the router mutates the ones it holds)."""
        return WaitingContact(
            id=self.contact_id,
            channel=self.channel,
            arrival_seq=self.arrival_seq,
            memberships=[membership(*m) for m in self.memberships],
            overflowed_from=set(self.overflowed_from),
        )


def _for_agent(m: Membership) -> int | None:
    """The one agent a transfer's membership is for (one step, kept for ever, a single agent)."""
    if m.after_steps != "keep_last" or len(m.steps) != 1 or m.steps[0].duration_s is not None:
        return None
    ids = m.steps[0].requirement.agent_ids
    return next(iter(ids)) if ids is not None and len(ids) == 1 else None


@dataclass
class TenantRouting:
    """One tenant's router and what the runner keeps beside it."""

    tenant_id: int
    router: Router
    last_seq: int
    queue_names: dict[int, tuple[str, str]] = field(default_factory=dict)  # id → (code, name)
    window: ServiceLevelWindow = field(default_factory=ServiceLevelWindow)
    changed: bool = True  # the figures may have moved: publish them
    stats_at: float = float("-inf")  # when (time.monotonic) the figures were last published
    acw_due: dict[int, float] = field(default_factory=dict)  # contact id → when its ACW times out
    queued: dict[int, Queued] = field(default_factory=dict)  # waiting contacts, as their events say
    check_missed: set[int] = field(default_factory=set)  # agents that rejected: `missed` now? (next round)
    resync: bool = False  # out of step with the store: rebuild before the next round


class ConfigSource(Protocol):
    """Reads the committed configuration of one queue, one agent, or everything, into the router."""

    def reload_queue(self, tr: TenantRouting, queue_id: int, now: float) -> None: ...

    def reload_agent(self, tr: TenantRouting, agent_id: int, now: float) -> None: ...

    def reload_all(self, tr: TenantRouting, now: float) -> None: ...


Handler = Callable[[TenantRouting, EventRecord, float, ConfigSource], None]


def router_status_of(state: str, away_reason: str | None) -> str:
    """An agent state as the router's status: offline, available, or custom:<away reason | missed>."""
    if state == "offline":
        return "offline"
    if state == "available":
        return "available"
    if state == "away":
        return f"custom:{away_reason or 'away'}"
    return f"custom:{state}"


def ensure_waiting(tr: TenantRouting, contact_id: int, now: float) -> None:
    """Enqueue the contact as its events describe it, when the router has neither it nor an offer of it."""
    r = tr.router
    queued = tr.queued.get(contact_id)
    if queued is None or contact_id in r.contacts or r.offers_of(contact_id):
        return
    if queued.memberships and all(m[0] in r.queues for m in queued.memberships):
        r.enqueue(queued.waiting(), now)


# --- handlers ----------------------------------------------------------------------------------------


def _queue_changed(tr: TenantRouting, e: EventRecord, now: float, config: ConfigSource) -> None:
    if e.queue_id is not None:
        config.reload_queue(tr, e.queue_id, now)


def _agent_changed(tr: TenantRouting, e: EventRecord, now: float, config: ConfigSource) -> None:
    if e.agent_id is not None:
        config.reload_agent(tr, e.agent_id, now)


def _config_changed(tr: TenantRouting, e: EventRecord, now: float, config: ConfigSource) -> None:
    config.reload_all(tr, now)


def _agent_state_changed(tr: TenantRouting, e: EventRecord, now: float, config: ConfigSource) -> None:
    """The new state is in the event: the router's copy of the agent takes it (a login, a break, `missed`);
    available again clears `missed` (R6)."""
    r, agent_id = tr.router, e.agent_id
    if agent_id is None:
        return
    current = r.agents.get(agent_id)
    if current is None:  # not routed yet (or deactivated): its configuration comes from the store
        config.reload_agent(tr, agent_id, now)
        return
    r.set_agent(replace(current, status=router_status_of(e.data["to"], e.data["away_reason"])), now)
    if e.data["to"] == "available":
        r.make_ready(agent_id, now)


def _contact_queued(tr: TenantRouting, e: EventRecord, now: float, config: ConfigSource) -> None:
    """A contact joined a queue, or its flow changed its queues: what it waits in is replaced (while an
    offer of it rings, the new memberships wait for that offer to end)."""
    assert e.contact_id is not None
    r = tr.router
    before = tr.queued.get(e.contact_id)
    tr.queued[e.contact_id] = Queued.from_payload(
        e.contact_id,
        e.data["channel"],
        int(e.data.get("arrival_seq") or e.seq),
        e.data["memberships"],
        before.overflowed_from if before is not None else frozenset(),
    )
    if e.contact_id in r.contacts and not r.offers_of(e.contact_id):
        r.remove(e.contact_id, now)
    ensure_waiting(tr, e.contact_id, now)


def _contact_overflowed(tr: TenantRouting, e: EventRecord, now: float, config: ConfigSource) -> None:
    """The router applied it itself; the projection follows (queues it left or overflowed out of)."""
    assert e.contact_id is not None
    before = tr.queued.get(e.contact_id)
    if before is None:
        return
    after = Queued.from_payload(e.contact_id, before.channel, before.arrival_seq, e.data["memberships"], frozenset())
    left = {m[0] for m in before.memberships} - {m[0] for m in after.memberships}
    tr.queued[e.contact_id] = replace(after, overflowed_from=after.overflowed_from | before.overflowed_from | left)


def _offer_ended(tr: TenantRouting, e: EventRecord, now: float, config: ConfigSource) -> None:
    assert e.contact_id is not None
    r, result = tr.router, e.data["result"]
    if result == "rejected" and e.agent_id is not None and r.open_offer(e.contact_id, e.agent_id):
        r.reject(e.contact_id, e.agent_id, now)  # with ring_all the others keep ringing
        tr.check_missed.add(e.agent_id)
    elif result != "accepted" and e.data["offers_left"] == 0:
        # a contact the router let go (an offer it could not write) waits again once its last offer ended
        ensure_waiting(tr, e.contact_id, now)


def _dequeued(tr: TenantRouting, e: EventRecord, now: float, config: ConfigSource) -> None:
    assert e.contact_id is not None
    r = tr.router
    outcome, wait = str(e.data["outcome"]), float(e.data["wait_s"] or 0.0)
    if e.queue_id is not None:
        tr.window.add(e.queue_id, e.ts.timestamp(), outcome, wait)
    tr.queued.pop(e.contact_id, None)
    if outcome == "answered":
        if e.queue_id in r.queues:
            r.record_answer(e.queue_id, wait)
    else:
        r.remove(e.contact_id, now)


def _connected(tr: TenantRouting, e: EventRecord, now: float, config: ConfigSource) -> None:
    """The accept the store took. When the router had already let that offer go (it timed out here while
    the accept was on its way, and the store refused the timeout), it adopts the connection as the store
    has it instead of rebuilding the tenant."""
    assert e.contact_id is not None
    r = tr.router
    tr.queued.pop(e.contact_id, None)
    if e.agent_id is None:
        return
    if r.open_offer(e.contact_id, e.agent_id) is not None:
        r.accept(e.contact_id, e.agent_id, now)
    else:
        r.adopt(e.contact_id, e.agent_id, e.data["contact"]["channel"], now)


def _ended(tr: TenantRouting, e: EventRecord, now: float, config: ConfigSource) -> None:
    """The agent's leg ended: its slot frees (the router knows the contact's channel), after-contact work
    starts, and times out at the event's `acw_due`."""
    assert e.contact_id is not None
    if not e.data["acw"] or e.agent_id is None:
        return
    due = e.data["acw_due"]
    if due is not None:
        tr.acw_due[e.contact_id] = dt.datetime.fromisoformat(due).timestamp()
    tr.router.release(e.contact_id, now, acw=True)


def _wrapped_up(tr: TenantRouting, e: EventRecord, now: float, config: ConfigSource) -> None:
    assert e.contact_id is not None
    r = tr.router
    tr.acw_due.pop(e.contact_id, None)
    if e.agent_id is not None and e.agent_id in r.agents:
        r.end_acw(e.agent_id, now)
    if e.queue_id in r.queues:
        r.record_handle(e.queue_id, float(e.data["handle_s"] or 0.0))


HANDLERS: Mapping[str, Handler] = {
    "queue.created": _queue_changed,
    "queue.updated": _queue_changed,
    "queue.deleted": _queue_changed,
    "agent.created": _agent_changed,
    "agent.updated": _agent_changed,
    "agent.deleted": _agent_changed,
    "agent.state_changed": _agent_state_changed,
    "config.applied": _config_changed,
    "tenant.updated": _config_changed,  # the metric variants of the live windows
    "skill.updated": _config_changed,
    "skill.deleted": _config_changed,
    "contact.queued": _contact_queued,
    "contact.overflowed": _contact_overflowed,
    "contact.offer_ended": _offer_ended,
    "contact.dequeued": _dequeued,
    "contact.connected": _connected,
    "contact.ended": _ended,
    "contact.wrapped_up": _wrapped_up,
}


def apply_event(tr: TenantRouting, e: EventRecord, now: float, config: ConfigSource) -> None:
    """Feed one committed event to the tenant's router (events no handler lists change nothing)."""
    handler = HANDLERS.get(e.type)
    if handler is None:
        return
    tr.changed = True
    try:
        handler(tr, e, now, config)
    except (RoutingError, KeyError) as exc:
        log.info("router out of step with the store on %s #%s (%s): resynchronising", e.type, e.seq, exc)
        tr.resync = True

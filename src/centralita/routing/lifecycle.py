"""What both routers share: the routing state, the offer lifecycle (R6), triggers (R13), overflow (R10)
and overload levels (R9). Pure: every call takes `now`; nothing reads a clock or does I/O.

A router is fed what happened (an agent changed, a contact queued, an offer accepted…) and decides at
once, by the rules in `rules.py`; `step(now)` also runs the wake-ups due by `now` (offer timeouts, step
and delay boundaries, overflow timers, overload thresholds) and hands back every decision made since the
last call. The two subclasses differ only in how they find candidates: `reference.ReferenceRouter`
re-scans everything (the semantics, and the benchmark baseline); `engine.Router` keeps indexes.

Triggers (R13), in event order: a freed agent takes the best contact by its `call_selection` (R4); a
contact made eligible (enqueue, unlock, step or delay boundary, overflow, a risen overload level) takes
the best agent by its queue's `agent_selection` (R5), trying its queues in id order. After every event
the router settles: contacts in unstaffed queues with `overflow.when_unstaffed` overflow, then overload
levels are recomputed and every queue whose level rose offers its contacts again, in R1 order.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from centralita.routing.model import AgentState, Membership, Offer, OfferEnded, QueueConfig, WaitingContact
from centralita.routing.rules import (
    busy,
    contact_choice_key,
    eligible,
    has_free_slot,
    occupancy_state,
    order_key,
    overload_ewt,
    overload_level,
    routable,
    serving_entry,
    skip_unstaffed,
    staffs,
    wait_level,
)

__all__ = ["Overflowed"]

MAX_QUEUES_PER_CONTACT = 3  # R10
MAX_SETTLE_PASSES = 10  # a guard: the settle stands after two passes (a risen level's offers only lock)
ALPHA = 0.25  # weight of the newest value in the AHT and rolling ASA averages (R7)

# Wake-up keys: (time, kind, a, b, extra), processed in ascending order.
TIMEOUT, OVERFLOW, STEP, DELAY, OVERLOAD, REST = range(6)
WakeKey = tuple[float, int, int, int, float]
_AFTER_ALL = 99  # cursor kind after an event at `now`: every wake-up at or before `now` is past


class RoutingError(Exception):
    """A call that does not fit the state (unknown contact, offer to someone else…)."""


@dataclass(frozen=True)
class QueueStats:
    """A queue's live figures (flows-and-routing §3 functions, R7)."""

    queue_id: int
    waiting: int  # being offered excluded
    offered: int
    oldest_wait_s: float
    ewt_s: float
    staffed: int
    available: int
    busy: int
    acw: int
    overload_level: int
    rolling_asa_s: float | None
    aht_s: float


@dataclass(frozen=True)
class Overflowed:
    """R10 applied: the contact left `from_queue` (mode move) and/or joined `to_queue` (None: it could
    not, being there already or in 3 queues). Mode `stay`: refused (a cycle back to a queue the contact
    overflowed out of, or an unknown queue); the contact stays where it is. Every application is reported,
    so the store can mirror `overflowed` and `overflowed_from` for recovery."""

    contact_id: int
    from_queue: int
    to_queue: int | None
    mode: str
    at: float


class RouterBase:
    def __init__(self, queues: Mapping[int, QueueConfig] | None = None) -> None:
        self.queues: dict[int, QueueConfig] = {}
        self.agents: dict[int, AgentState] = {}
        self.contacts: dict[int, WaitingContact] = {}
        self.offered: dict[int, dict[int, Offer]] = {}  # contact id → agent id → open offer (several: ring_all)
        self.agent_offer: dict[int, int] = {}  # agent id → contact id offered to it
        self.handled_by: dict[int, int] = {}  # contact id → agent id, connected or on hold (until `release`)
        self.levels: dict[int, int] = {}  # R9 overload level per queue, as of the last settle
        self.aht_s: dict[int, float] = {}
        self.rolling_asa_s: dict[int, float | None] = {}
        self.last_picked: dict[int, int] = {}  # queue id → last agent offered one of its contacts
        self._cursor: WakeKey = (-math.inf, 0, 0, 0, 0.0)
        self._new_offers: list[Offer] = []
        self._ended: list[OfferEnded] = []
        self._overflows: list[Overflowed] = []
        for queue in (queues or {}).values():
            self._install_queue(queue)

    # --- configuration ---------------------------------------------------------------------------

    def set_queue(self, queue: QueueConfig, now: float) -> None:
        """Add or change a queue. Its waiting contacts are offered again under the new settings."""
        now = self._advance(now)
        self._install_queue(queue)
        for c in self._queue_waiting(queue.id):
            self._contact_ready(c.id, now)
        self._settle(now)

    def set_agent(self, agent: AgentState, now: float) -> None:
        """Add or replace an agent (login, status, skills, profile, limits). For an agent it knows the
        router keeps its own bookkeeping (offer, misses, active contacts, ACW, idle since, occupancy).
        Becoming available clears `missed` (R6) and starts the idle time. An open offer is withdrawn when
        the agent could no longer take it: not `available`, no free slot on its channel (capacity cut), or
        no longer serving its queue. Coming online is a login: routing occupancy (R8) counts from there."""
        now = self._advance(now)
        old = self.agents.get(agent.id)
        if old is not None:
            self._account(old, now)
            agent.offered, agent.missed, agent.missed_offers = old.offered, old.missed, old.missed_offers
            agent.active, agent.acw, agent.idle_since = old.active, old.acw, old.idle_since
            agent.contacts = old.contacts
            agent.logged_in_since, agent.busy_s, agent.busy_mark = old.logged_in_since, old.busy_s, old.busy_mark
            if agent.status == "available" and old.status != "available":
                agent.missed, agent.missed_offers, agent.idle_since = False, 0, now
        else:
            if agent.contacts:
                agent.active = {}
                for channel in agent.contacts.values():
                    agent.active[channel] = agent.active.get(channel, 0) + 1
            for contact_id in agent.contacts:
                self.handled_by[contact_id] = agent.id
        if agent.status == "offline":
            agent.logged_in_since, agent.busy_s = None, 0.0
        elif agent.logged_in_since is None:  # a login
            agent.logged_in_since, agent.busy_s, agent.busy_mark = now, 0.0, now
        elif old is None:  # recovery: busy time and login come from the store, counted up to now
            agent.busy_mark = now
        self._judge_occupancy(agent, now)
        self.agents[agent.id] = agent
        self._agent_config_changed(old, agent)
        offered = self.agent_offer.get(agent.id)
        if offered is not None:
            offer = self.offered[offered][agent.id]
            queue = self.queues[offer.queue_id]
            if (
                agent.status != "available"
                or not has_free_slot(agent, self.contacts[offered].channel)
                or serving_entry(agent, queue, self.levels[queue.id]) is None
            ):  # it could not take the contact any more: the ring stops (accepting would break R3)
                self._end_offer(offer, "withdrawn", now)
        self._agent_free(agent.id, now)
        self._settle(now)

    def remove_agent(self, agent_id: int, now: float) -> None:
        now = self._advance(now)
        agent = self.agents.pop(agent_id, None)
        if agent is None:
            return
        self._agent_config_changed(agent, None)
        offered = self.agent_offer.get(agent_id)
        if offered is not None:
            self._end_offer(self.offered[offered][agent_id], "withdrawn", now)
        self._settle(now)

    # --- contacts --------------------------------------------------------------------------------

    def enqueue(self, contact: WaitingContact, now: float) -> None:
        """A contact joins its queues (1 to 3, R10). Memberships may carry an enqueue time in the past
        (recovery keeps the original one)."""
        now = self._advance(now)
        if contact.id in self.contacts:
            raise RoutingError(f"contact {contact.id} is already waiting")
        queue_ids = [m.queue_id for m in contact.memberships]
        if not queue_ids or len(queue_ids) > MAX_QUEUES_PER_CONTACT or len(set(queue_ids)) != len(queue_ids):
            raise RoutingError(f"contact {contact.id} must wait in 1 to {MAX_QUEUES_PER_CONTACT} distinct queues")
        for qid in queue_ids:
            if qid not in self.queues:
                raise RoutingError(f"unknown queue {qid}")
        contact.locked = False
        self.contacts[contact.id] = contact
        for m in contact.memberships:
            if m.skip_unstaffed_steps:
                skip_unstaffed(m, now, list(self._staff(m.queue_id)))
            self._membership_added(contact, m)
        self._contact_ready(contact.id, now)
        self._settle(now)

    def remove(self, contact_id: int, now: float) -> None:
        """The contact left every queue (abandon, flow exit, transfer): an open offer is withdrawn."""
        now = self._advance(now)
        contact = self.contacts.pop(contact_id, None)
        if contact is None:
            return
        for m in contact.memberships:
            self._membership_removed(contact, m)
        for offer in list(self.offered.get(contact_id, {}).values()):
            self._end_offer(offer, "withdrawn", now)
        self._settle(now)

    def accept(self, contact_id: int, agent_id: int, now: float) -> None:
        """R6: the contact leaves all queues and the agent takes a slot on its channel; with ring_all the
        other agents' offers are withdrawn (first accept wins)."""
        now = self._advance(now)
        self._offer(contact_id, agent_id)
        contact = self.contacts.pop(contact_id)
        for m in contact.memberships:
            self._membership_removed(contact, m)
        ringing = self.offered[contact_id]
        del self.agent_offer[agent_id], ringing[agent_id]
        for other in list(ringing.values()):
            self._end_offer(other, "withdrawn", now)
        self.offered.pop(contact_id, None)
        agent = self.agents[agent_id]
        self._account(agent, now)
        agent.offered, agent.missed_offers = False, 0
        agent.active[contact.channel] = agent.active.get(contact.channel, 0) + 1
        agent.contacts[contact_id] = contact.channel
        self.handled_by[contact_id] = agent_id
        self._judge_occupancy(agent, now)
        self._agent_touched(agent)
        self._agent_free(agent_id, now)  # a chat agent may take another one
        self._settle(now)

    def adopt(self, contact_id: int, agent_id: int, channel: str, now: float) -> None:
        """The contact is connected to the agent although this router no longer had that offer open (the
        agent's accept reached the store before the offer's timeout did): the contact leaves its queues,
        any newer offer of it is withdrawn, and the agent takes a slot on `channel`."""
        now = self._advance(now)
        if contact_id in self.handled_by:
            raise RoutingError(f"contact {contact_id} is already connected")
        agent = self._agent(agent_id)
        contact = self.contacts.pop(contact_id, None)
        if contact is not None:
            for m in contact.memberships:
                self._membership_removed(contact, m)
        for offer in list(self.offered.get(contact_id, {}).values()):
            self._end_offer(offer, "withdrawn", now)
        self._account(agent, now)
        agent.active[channel] = agent.active.get(channel, 0) + 1
        agent.contacts[contact_id] = channel
        self.handled_by[contact_id] = agent_id
        self._judge_occupancy(agent, now)
        self._agent_touched(agent)
        self._agent_free(agent_id, now)
        self._settle(now)

    def reject(self, contact_id: int, agent_id: int, now: float) -> OfferEnded:
        """R6: the contact goes back to its original place; the miss counts against the agent."""
        now = self._advance(now)
        ended = self._end_offer(self._offer(contact_id, agent_id), "rejected", now, report=False)
        self._settle(now)
        return ended

    def release(self, contact_id: int, now: float, acw: bool = False) -> None:
        """The contact's conversation ended: its agent's slot on its channel frees up; with `acw` the agent
        goes into after-contact work and gets nothing until `end_acw`. An agent removed meanwhile has
        nothing to free."""
        now = self._advance(now)
        agent_id = self.handled_by.pop(contact_id, None)
        if agent_id is None:
            raise RoutingError(f"contact {contact_id} is not connected to an agent")
        agent = self.agents.get(agent_id)
        if agent is None or contact_id not in agent.contacts:
            return
        channel = agent.contacts.pop(contact_id)
        self._account(agent, now)
        agent.active[channel] -= 1
        if acw:
            agent.acw += 1
        else:
            agent.idle_since = now
        self._judge_occupancy(agent, now)
        self._agent_touched(agent)
        self._agent_free(agent_id, now)
        self._settle(now)

    def make_ready(self, agent_id: int, now: float) -> None:
        """The agent makes itself available again after missing offers (R6): `missed` clears."""
        now = self._advance(now)
        agent = self._agent(agent_id)
        if agent.missed:
            agent.missed, agent.missed_offers, agent.idle_since = False, 0, now
            self._agent_touched(agent)
            self._agent_free(agent_id, now)
        self._settle(now)

    def end_acw(self, agent_id: int, now: float) -> None:
        now = self._advance(now)
        agent = self._agent(agent_id)
        if agent.acw <= 0:
            raise RoutingError(f"agent {agent_id} is not in after-contact work")
        self._account(agent, now)
        agent.acw -= 1
        agent.idle_since = now
        self._judge_occupancy(agent, now)
        self._agent_touched(agent)
        self._agent_free(agent_id, now)
        self._settle(now)

    # --- estimates (R7) --------------------------------------------------------------------------

    def record_answer(self, queue_id: int, wait_s: float) -> None:
        """An answered contact's wait: the first sets rolling ASA, later ones move it by ALPHA."""
        asa = self.rolling_asa_s.get(queue_id)
        self.rolling_asa_s[queue_id] = wait_s if asa is None else asa + ALPHA * (wait_s - asa)

    def record_handle(self, queue_id: int, handle_s: float) -> None:
        """A completed contact's handle time (talk + hold + ACW) moves the queue's AHT by ALPHA."""
        self.aht_s[queue_id] += ALPHA * (handle_s - self.aht_s[queue_id])
        self._mark_dirty(queue_id)

    # --- decisions -------------------------------------------------------------------------------

    def step(self, now: float) -> tuple[list[Offer], list[OfferEnded]]:
        """Run the wake-ups due by `now`, then hand back the offers made and the offers ended (timeout,
        withdrawn) since the last call, in decision order."""
        self._advance(now)
        offers, ended = self._new_offers, self._ended
        self._new_offers, self._ended = [], []
        return offers, ended

    def take_overflows(self) -> list[Overflowed]:
        """The overflows applied since the last call (for the caller to record), in order."""
        out, self._overflows = self._overflows, []
        return out

    def next_wakeup(self, now: float | None = None) -> float | None:
        """The next instant a decision may change without any event (R13)."""
        key = self._peek_wakeup()
        return None if key is None else key[0]

    # --- reading ---------------------------------------------------------------------------------

    def queue_size(self, queue_id: int, min_priority: int | None = None) -> int:
        return len(self._waiting_memberships(queue_id, min_priority))

    def oldest_wait(self, queue_id: int, now: float, min_priority: int | None = None) -> float:
        waits = [now - m.enqueue_ts for _, m in self._waiting_memberships(queue_id, min_priority)]
        return max(waits, default=0.0)

    def position(self, contact_id: int, queue_id: int) -> int | None:
        """1-based R1 rank among the contacts waiting in the queue (None if it is not waiting there)."""
        for i, c in enumerate(self._queue_waiting(queue_id), 1):
            if c.id == contact_id:
                return i
        return None

    def agents_staffed(self, queue_id: int) -> int:
        """Agents serving q (profile, skills or an active reserve), online and not in a custom status."""
        return sum(1 for _ in self._staff(queue_id))

    def agents_available(self, queue_id: int, now: float, channel: str = "voice", priority: int = 0) -> int:
        """Staffed agents able to take a new q contact on `channel` now (R3 items 1 to 3)."""
        probe, m = self._probe(queue_id, priority, now, channel)
        queue, level = self.queues[queue_id], self.levels.get(queue_id, 0)
        return sum(eligible(a, queue, probe, m, now, level) for a in self._staff(queue_id))

    def ewt(self, queue_id: int, now: float, priority: int = 0, channel: str = "voice") -> float:
        """R7: 0 if an agent is eligible now for a new contact at `priority`, `+inf` with no staffed
        agent, else (contacts ahead + 1) × AHT / staffed (busy agents included)."""
        staffed = self.agents_staffed(queue_id)
        if staffed == 0:
            return math.inf
        if self.agents_available(queue_id, now, channel, priority) > 0:
            return 0.0
        queue = self.queues[queue_id]
        mine = order_key(queue, Membership(queue_id, now, priority), 2**62)
        ahead = sum(order_key(queue, m, c.arrival_seq) < mine for c, m in self._waiting_memberships(queue_id, None))
        return (ahead + 1) * self.aht_s[queue_id] / staffed

    def stats(self, queue_id: int, now: float, channel: str = "voice") -> QueueStats:
        if queue_id not in self.queues:
            raise RoutingError(f"unknown queue {queue_id}")
        staff = list(self._staff(queue_id))
        return QueueStats(
            queue_id=queue_id,
            waiting=self.queue_size(queue_id),
            offered=sum(1 for c in self.contacts.values() if c.locked and c.membership(queue_id) is not None),
            oldest_wait_s=self.oldest_wait(queue_id, now),
            ewt_s=self.ewt(queue_id, now, channel=channel),
            staffed=len(staff),
            available=self.agents_available(queue_id, now, channel),
            busy=sum(1 for a in staff if a.offered or any(a.active.values())),
            acw=sum(1 for a in staff if a.acw > 0),
            overload_level=self.levels.get(queue_id, 0),
            rolling_asa_s=self.rolling_asa_s.get(queue_id),
            aht_s=self.aht_s[queue_id],
        )

    # --- the shared machinery --------------------------------------------------------------------

    def _install_queue(self, queue: QueueConfig) -> None:
        old = self.queues.get(queue.id)
        self.queues[queue.id] = queue
        self.levels.setdefault(queue.id, 0)
        self.aht_s.setdefault(queue.id, float(queue.default_aht_s))
        self.rolling_asa_s.setdefault(queue.id, None)
        self._queue_config_changed(old, queue)
        self._mark_dirty(queue.id)

    def _advance(self, now: float) -> float:
        """Run every wake-up due by `now`, in key order, each followed by a settle. Returns `now`
        (never earlier than the last instant processed)."""
        now = max(now, self._cursor[0])
        while (key := self._pop_due(now)) is not None:
            self._cursor = key
            self._fire(key)
            self._settle(key[0])
        self._cursor = max(self._cursor, (now, _AFTER_ALL, 0, 0, 0.0))
        return now

    def _fire(self, key: WakeKey) -> None:
        t, kind, a, b, _ = key
        if kind == TIMEOUT:
            offer = self.offered.get(a, {}).get(b)
            if offer is not None and offer.timeout_at == t:
                self._end_offer(offer, "timeout", t)
        elif kind == OVERFLOW:
            contact = self.contacts.get(a)
            m = contact.membership(b) if contact is not None else None
            if contact is not None and m is not None and not m.overflowed:
                self._apply_overflow(contact, m, t)
                self._contact_ready(contact.id, t)
        elif kind == STEP:
            contact = self.contacts.get(a)
            m = contact.membership(b) if contact is not None else None
            if m is not None and m.skip_unstaffed_steps and skip_unstaffed(m, t, list(self._staff(b))):
                assert contact is not None
                self._steps_moved(contact, m)
            self._contact_ready(a, t)
        elif kind == DELAY:
            self._contact_ready(a, t)
        elif kind == REST:
            agent = self.agents.get(a)
            if agent is not None and agent.occupancy_turn == t:
                self._account(agent, t)
                # R8 at the limit: a busy agent reaches it (over), an idle one is back at it
                agent.over_occupancy, agent.occupancy_turn = busy(agent), None
                self._agent_touched(agent)
                self._agent_free(a, t)
        else:
            self._mark_dirty(a)  # OVERLOAD: a threshold crossed by time; the settle re-reads the level

    def _settle(self, now: float) -> None:
        """Overflow when unstaffed, then overload levels, until nothing moves: the offers a risen level
        leads to lock contacts, which changes the levels' inputs (a reserve that took the only waiting
        contact brings its queue back to 0), so the levels are read again until they stand."""
        for _pass in range(MAX_SETTLE_PASSES):
            self._overflow_unstaffed(now)
            # R9: levels; a risen level lets reserves in, so the queue's contacts are offered again
            risen = []
            for qid in sorted(self._level_candidates(now)):
                config = self.queues.get(qid)
                if config is None or config.overload is None:
                    continue
                new = self._level(config, now)
                if new > self.levels[qid]:
                    risen.append(qid)
                self.levels[qid] = new
            for qid in risen:
                for contact in self._queue_waiting(qid):
                    self._contact_ready(contact.id, now)
            if not risen:
                break
        else:  # offers only lock contacts, so levels can only fall after the first pass: never reached
            raise RoutingError(f"overload levels still rising after {MAX_SETTLE_PASSES} passes")
        self._after_settle()

    def _overflow_unstaffed(self, now: float) -> None:
        """R10: contacts waiting in an unstaffed queue that overflows when unstaffed."""
        work = list(self._overflow_candidates())
        heapq.heapify(work)
        while work:
            qid = heapq.heappop(work)
            queue = self.queues[qid]
            if queue.overflow is None or not queue.overflow.when_unstaffed or self._staffed_count(qid) > 0:
                continue
            for contact in self._queue_waiting(qid):
                m = contact.membership(qid)
                if m is None or m.overflowed or contact.locked:
                    continue
                target = self._apply_overflow(contact, m, now)
                if target is not None:
                    heapq.heappush(work, target)
                self._contact_ready(contact.id, now)

    def _level(self, queue: QueueConfig, now: float) -> int:
        assert queue.overload is not None
        if queue.overload.metric == "oldest_wait":
            return wait_level(queue.overload, self._oldest_enqueue(queue.id), now)
        value = overload_ewt(self._waiting_count(queue.id), self.aht_s[queue.id], self._staffed_count(queue.id))
        return overload_level(queue.overload, value)

    def _apply_overflow(self, contact: WaitingContact, m: Membership, now: float) -> int | None:
        """R10: also join (add) or move to the overflow queue, keeping the contact's ordering age."""
        overflow = self.queues[m.queue_id].overflow
        m.overflowed = True
        contact.overflowed_from.add(m.queue_id)
        if overflow is None:
            return None
        if overflow.queue_id not in self.queues or overflow.queue_id in contact.overflowed_from:
            # refused (an unknown queue, or a cycle of overflows back where the contact came from): it stays
            self._overflows.append(Overflowed(contact.id, m.queue_id, None, "stay", now))
            return None
        earliest = min(x.enqueue_ts - x.age_adjust_s for x in contact.memberships)
        if overflow.mode == "move":
            contact.memberships.remove(m)
            self._membership_removed(contact, m)
        if contact.membership(overflow.queue_id) is not None or len(contact.memberships) >= MAX_QUEUES_PER_CONTACT:
            self._overflows.append(Overflowed(contact.id, m.queue_id, None, overflow.mode, now))
            return None
        new = Membership(overflow.queue_id, now, m.priority, age_adjust_s=now - earliest)
        contact.memberships.append(new)
        self._membership_added(contact, new)
        self._overflows.append(Overflowed(contact.id, m.queue_id, overflow.queue_id, overflow.mode, now))
        return overflow.queue_id

    def _contact_ready(self, contact_id: int, now: float) -> None:
        """R5: a contact made eligible takes the best agent, trying its queues in id order; a `ring_all`
        queue offers it to every eligible agent at once."""
        contact = self.contacts.get(contact_id)
        if contact is None or contact.locked:
            return
        for m in sorted(contact.memberships, key=lambda x: x.queue_id):
            if self.queues[m.queue_id].agent_selection == "ring_all":
                agents = self._eligible_agents(contact, m, now)
                if agents:
                    self._make_offers(contact, agents, m.queue_id, now)
                    return
                continue
            agent = self._pick_agent(contact, m, now)
            if agent is not None:
                self._make_offers(contact, [agent], m.queue_id, now)
                return

    def _agent_free(self, agent_id: int, now: float) -> None:
        """R4: a freed agent takes the best contact by its `call_selection`."""
        agent = self.agents.get(agent_id)
        if agent is None or not routable(agent):
            return
        best = None
        for queue, contact, m, rank in self._first_contacts(agent, now):
            key = contact_choice_key(agent, queue, contact, m, rank, now)
            if best is None or key < best[0]:
                best = (key, contact, queue.id)
        if best is not None:
            self._make_offers(best[1], [agent], best[2], now)

    def _make_offers(self, contact: WaitingContact, agents: list[AgentState], queue_id: int, now: float) -> None:
        contact.locked = True
        self._contact_locked(contact)
        ringing = self.offered[contact.id] = {}
        timeout_at = now + self.queues[queue_id].offer_timeout_s
        for agent in agents:
            offer = Offer(contact.id, agent.id, queue_id, timeout_at)
            ringing[agent.id] = offer
            self.agent_offer[agent.id] = contact.id
            self._account(agent, now)
            agent.offered = True
            self._judge_occupancy(agent, now)
            self._agent_touched(agent)
            self.last_picked[queue_id] = agent.id
            self._offer_made(offer)
            self._new_offers.append(offer)

    def _end_offer(self, offer: Offer, result: str, now: float, report: bool = True) -> OfferEnded:
        """Reject, timeout or withdrawal: once no offer is left, the contact is unlocked at its original
        place; a reject or a timeout counts as a miss (R6), and `max_missed_offers` misses in a row make the
        agent `missed`."""
        ringing = self.offered[offer.contact_id]
        del ringing[offer.agent_id], self.agent_offer[offer.agent_id]
        last = not ringing
        if last:
            del self.offered[offer.contact_id]
        agent = self.agents.get(offer.agent_id)
        if agent is not None:
            self._account(agent, now)
            agent.offered = False
            if result != "withdrawn":
                agent.missed_offers += 1
                agent.missed = agent.missed or agent.missed_offers >= agent.max_missed_offers
            self._judge_occupancy(agent, now)
            self._agent_touched(agent)
        contact = self.contacts.get(offer.contact_id) if last else None
        if contact is not None:
            contact.locked = False
            if result != "withdrawn":
                contact.last_missed_by = offer.agent_id
            self._contact_unlocked(contact)
        ended = OfferEnded(offer, result)
        if report:
            self._ended.append(ended)
        self._contact_ready(offer.contact_id, now)
        self._agent_free(offer.agent_id, now)
        return ended

    @property
    def offers(self) -> dict[int, Offer]:
        """Contact id → its open offer (with ring_all, the first of them)."""
        return {cid: next(iter(ringing.values())) for cid, ringing in self.offered.items()}

    def offers_of(self, contact_id: int) -> list[Offer]:
        return list(self.offered.get(contact_id, {}).values())

    def open_offer(self, contact_id: int, agent_id: int) -> Offer | None:
        return self.offered.get(contact_id, {}).get(agent_id)

    def extend_offer(self, contact_id: int, agent_id: int, until: float) -> Offer | None:
        """The agent's accept is on its way (it reached the server before the timeout): the offer rings until
        `until` unless it is answered first, so that a slow server never times out an offer the agent took.
        Returns the extended offer; None when there is no such open offer or it already rings that long."""
        offer = self.offered.get(contact_id, {}).get(agent_id)
        if offer is None or until <= offer.timeout_at:
            return None
        extended = replace(offer, timeout_at=until)
        self.offered[contact_id][agent_id] = extended
        self._new_offers = [extended if o == offer else o for o in self._new_offers]
        self._offer_made(extended)
        return extended

    def _offer(self, contact_id: int, agent_id: int) -> Offer:
        offer = self.offered.get(contact_id, {}).get(agent_id)
        if offer is None:
            raise RoutingError(f"contact {contact_id} is not offered to agent {agent_id}")
        return offer

    def _account(self, agent: AgentState, now: float) -> None:
        """R8: bring the agent's busy time up to `now`, before what it does changes."""
        if agent.logged_in_since is None:
            return
        if busy(agent):
            agent.busy_s += now - agent.busy_mark
        agent.busy_mark = now

    def _judge_occupancy(self, agent: AgentState, now: float) -> None:
        """R8 after the change: over the limit, no offers; a wake-up when that flips by time alone."""
        agent.over_occupancy, agent.occupancy_turn = occupancy_state(agent, now)
        if agent.occupancy_turn is not None:
            self._occupancy_turns(agent)

    def _agent(self, agent_id: int) -> AgentState:
        agent = self.agents.get(agent_id)
        if agent is None:
            raise RoutingError(f"unknown agent {agent_id}")
        return agent

    def _probe(self, queue_id: int, priority: int, now: float, channel: str) -> tuple[WaitingContact, Membership]:
        m = Membership(queue_id, now, priority)
        return WaitingContact(id=-1, channel=channel, arrival_seq=2**62, memberships=[m]), m

    def _waiting_memberships(self, queue_id: int, min_priority: int | None) -> list[tuple[WaitingContact, Membership]]:
        out = []
        for c in self._queue_waiting(queue_id):
            m = c.membership(queue_id)
            if m is not None and (min_priority is None or m.priority >= min_priority):
                out.append((c, m))
        return out

    def _staff(self, queue_id: int) -> Iterable[AgentState]:
        """Staffed agents of q: profile or skills, or a reserve active at q's level."""
        queue, level = self.queues[queue_id], self.levels.get(queue_id, 0)
        for agent in self._queue_agents(queue_id):
            if agent.status == "available" and serving_entry(agent, queue, level) is not None:
                yield agent

    def _staffed_count(self, queue_id: int) -> int:
        """Staffed agents of q without reserves (what the overload level and unstaffed overflow read)."""
        queue = self.queues[queue_id]
        return sum(1 for a in self._queue_agents(queue_id) if staffs(a, queue))

    # --- what each router implements -------------------------------------------------------------

    def _queue_waiting(self, queue_id: int) -> list[WaitingContact]:
        """Unlocked contacts waiting in q, in R1 order (a copy: callers may change the state)."""
        raise NotImplementedError

    def _queue_agents(self, queue_id: int) -> Iterable[AgentState]:
        """Every agent that may serve q (profile, skills or reserve), in any status."""
        raise NotImplementedError

    def _waiting_count(self, queue_id: int) -> int:
        raise NotImplementedError

    def _oldest_enqueue(self, queue_id: int) -> float | None:
        raise NotImplementedError

    def _pick_agent(self, contact: WaitingContact, m: Membership, now: float) -> AgentState | None:
        """R5 among the agents eligible for the contact in m's queue."""
        raise NotImplementedError

    def _eligible_agents(self, contact: WaitingContact, m: Membership, now: float) -> list[AgentState]:
        """Every agent eligible for the contact in m's queue, longest idle first (ring_all)."""
        raise NotImplementedError

    def _first_contacts(
        self, agent: AgentState, now: float
    ) -> Iterable[tuple[QueueConfig, WaitingContact, Membership, int]]:
        """R4 candidates: per queue the agent serves now, the first contact in R1 order eligible for it,
        with the agent's rank there."""
        raise NotImplementedError

    def _pop_due(self, now: float) -> WakeKey | None:
        """The smallest wake-up key after the cursor and at or before `now`, consumed."""
        raise NotImplementedError

    def _peek_wakeup(self) -> WakeKey | None:
        raise NotImplementedError

    def _overflow_candidates(self) -> Iterable[int]:
        raise NotImplementedError

    def _level_candidates(self, now: float) -> Iterable[int]:
        """Queues whose level may have changed: every one (reference), or those marked or whose
        `oldest_wait` threshold time has come by `now`, its wake-up maybe not run yet (indexed)."""
        raise NotImplementedError

    # hooks for indexes: the reference router keeps none
    def _queue_config_changed(self, old: QueueConfig | None, new: QueueConfig) -> None:
        pass

    def _agent_config_changed(self, old: AgentState | None, new: AgentState | None) -> None:
        pass

    def _agent_touched(self, agent: AgentState) -> None:
        pass

    def _membership_added(self, contact: WaitingContact, m: Membership) -> None:
        pass

    def _membership_removed(self, contact: WaitingContact, m: Membership) -> None:
        pass

    def _contact_locked(self, contact: WaitingContact) -> None:
        pass

    def _contact_unlocked(self, contact: WaitingContact) -> None:
        pass

    def _offer_made(self, offer: Offer) -> None:
        pass

    def _occupancy_turns(self, agent: AgentState) -> None:
        """The agent reaches (busy) or is back at (idle) max occupancy at `agent.occupancy_turn`."""

    def _steps_moved(self, contact: WaitingContact, m: Membership) -> None:
        pass

    def _mark_dirty(self, queue_id: int) -> None:
        pass

    def _after_settle(self) -> None:
        pass

"""The router: the same decisions as `reference.ReferenceRouter`, found through indexes.

Indexes, all updated as the state changes, none rebuilt per decision:
- per queue, the unlocked waiting contacts in R1 order, and by enqueue time (oldest wait, R9);
- per (queue, channel), the routable agents with a free slot on that channel, in the queue's R5 order
  (by agent id for `round_robin` and `random`, which depend on more than the agent);
- per agent, the queues it may serve (profile, required skills, reserve); per queue, its staffed count
  and the distinct profile delays;
- a heap of wake-ups, checked against the state when popped (a stale one is dropped, never run).

So an event costs O(log n) index updates plus a scan that stops at the first eligible candidate: the
contact-surplus case (a freed agent, R4) reads the head of each queue it serves, the agent-surplus case
(a new contact, R5) the head of its queues' agent lists.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterable, Iterator
from itertools import chain
from typing import Any

from sortedcontainers import SortedList

from centralita.routing.lifecycle import (
    DELAY,
    OVERFLOW,
    OVERLOAD,
    REST,
    STEP,
    TIMEOUT,
    RouterBase,
    RoutingError,
    WakeKey,
)
from centralita.routing.model import AgentState, Membership, Offer, OfferEnded, QueueConfig, WaitingContact
from centralita.routing.rules import (
    agent_key,
    eligible,
    has_free_slot,
    holds_skills,
    mix,
    order_key,
    routable,
    serving_entry,
    staffs,
    step_boundaries,
)

__all__ = ["OfferEnded", "Router", "RoutingError"]

# selections whose order depends on more than the agent (the contact, earlier picks, the time: occupancy
# changes as time passes): indexed by agent id and chosen by a scan of the free agents
_BY_ID = ("random", "round_robin", "least_occupied", "skill_then_least_occupied")
_BY_OCCUPANCY = ("least_occupied", "skill_then_least_occupied")


class Router(RouterBase):
    def __init__(self, queues: dict[int, QueueConfig] | None = None) -> None:
        self._waiting: dict[int, SortedList] = {}  # queue → (R1 key…, contact id)
        self._by_enqueue: dict[int, SortedList] = {}  # queue → (enqueue ts, contact id)
        self._entry: dict[tuple[int, int], tuple[tuple[float, ...], float]] = {}  # (contact, queue) → keys
        self._members: dict[int, set[int]] = {}  # queue → contacts with a membership there, locked or not
        self._free: dict[tuple[int, str], SortedList] = {}  # (queue, channel) → (R5 key…, agent id)
        self._agent_entries: dict[int, list[tuple[tuple[int, str], tuple[float, ...]]]] = {}
        self._served: dict[int, set[int]] = {}  # agent → queues it may serve (profile, skills, reserve)
        self._queue_agent_ids: dict[int, set[int]] = {}
        self._staffed: Counter[int] = Counter()
        self._delays: dict[int, Counter[float]] = {}
        self._by_first_skill: dict[str, list[int]] = {}
        self._heap: list[WakeKey] = []
        self._dirty_levels: set[int] = set()
        self._dirty_overflow: set[int] = set()
        self._dirty_wake: set[int] = set()
        self._thresholds: list[tuple[float, int]] = []  # (instant, queue): oldest_wait level thresholds
        super().__init__(queues)

    # --- reading the indexes ---------------------------------------------------------------------

    def _queue_waiting(self, queue_id: int) -> list[WaitingContact]:
        contacts = self.contacts
        return [contacts[k[-1]] for k in self._waiting.get(queue_id, ())]

    def _queue_agents(self, queue_id: int) -> Iterable[AgentState]:
        agents = self.agents
        return [agents[a] for a in self._queue_agent_ids.get(queue_id, ())]

    def _waiting_count(self, queue_id: int) -> int:
        return len(self._waiting.get(queue_id, ()))

    def _oldest_enqueue(self, queue_id: int) -> float | None:
        lst = self._by_enqueue.get(queue_id)
        return lst[0][0] if lst else None

    def _staffed_count(self, queue_id: int) -> int:
        return self._staffed[queue_id]

    def _pick_agent(self, contact: WaitingContact, m: Membership, now: float) -> AgentState | None:
        lst = self._free.get((m.queue_id, contact.channel))
        if not lst:
            return None
        queue, level, agents = self.queues[m.queue_id], self.levels[m.queue_id], self.agents
        mode, missed_by = queue.agent_selection, contact.last_missed_by
        if mode == "random" or mode in _BY_OCCUPANCY:
            best = None
            for key in lst:
                agent = agents[key[-1]]
                if eligible(agent, queue, contact, m, now, level):
                    order = (
                        (mix(contact.id, agent.id), agent.id) if mode == "random" else agent_key(queue, agent, 1, now)
                    )
                    rank = (agent.id == missed_by, *order)
                    if best is None or rank < best[0]:
                        best = (rank, agent)
            return None if best is None else best[1]
        keys: Iterable[Any] = lst
        if mode == "round_robin":
            last = self.last_picked.get(queue.id)
            start = 0 if last is None else lst.bisect_right((last,))
            keys = chain(lst.islice(start), lst.islice(0, start))
        fallback = None
        for key in keys:
            agent = agents[key[-1]]
            if eligible(agent, queue, contact, m, now, level):
                if agent.id != missed_by:
                    return agent
                fallback = agent
        return fallback

    def _eligible_agents(self, contact: WaitingContact, m: Membership, now: float) -> list[AgentState]:
        queue, level, agents = self.queues[m.queue_id], self.levels[m.queue_id], self.agents
        candidates = (agents[key[-1]] for key in self._free.get((m.queue_id, contact.channel), ()))
        return [a for a in candidates if eligible(a, queue, contact, m, now, level)]

    def _first_contacts(
        self, agent: AgentState, now: float
    ) -> Iterator[tuple[QueueConfig, WaitingContact, Membership, int]]:
        contacts = self.contacts
        for queue_id in self._served.get(agent.id, ()):
            queue, level = self.queues[queue_id], self.levels[queue_id]
            entry = serving_entry(agent, queue, level)
            if entry is None:
                continue
            for key in self._waiting.get(queue_id, ()):
                contact = contacts[key[-1]]
                m = contact.membership(queue_id)
                assert m is not None
                if eligible(agent, queue, contact, m, now, level):
                    yield queue, contact, m, entry.rank
                    break

    def _overflow_candidates(self) -> Iterable[int]:
        dirty, self._dirty_overflow = self._dirty_overflow, set()
        queues = self.queues
        return [q for q in dirty if q in queues and (ov := queues[q].overflow) is not None and ov.when_unstaffed]

    def _level_candidates(self, now: float) -> Iterable[int]:
        dirty, self._dirty_levels = self._dirty_levels, set()
        # a threshold crossed by time at or before `now` counts even before its own wake-up runs (another
        # wake-up of the same instant may settle first: the reference reads every level at every settle)
        due = self._thresholds
        while due and due[0][0] <= now:
            dirty.add(heapq.heappop(due)[1])
        return dirty

    # --- wake-ups --------------------------------------------------------------------------------

    def _push(self, key: WakeKey) -> None:
        if key > self._cursor:
            heapq.heappush(self._heap, key)

    def _valid(self, key: WakeKey) -> bool:
        t, kind, a, b, extra = key
        if kind == TIMEOUT:
            offer = self.offered.get(a, {}).get(b)
            return offer is not None and offer.timeout_at == t
        if kind == REST:
            agent = self.agents.get(a)
            return agent is not None and agent.occupancy_turn == t
        if kind == OVERLOAD:
            queue = self.queues.get(a)
            if queue is None or queue.overload is None or queue.overload.metric != "oldest_wait":
                return False
            oldest = self._oldest_enqueue(a)
            threshold = queue.overload.level1_s if b == 1 else queue.overload.level2_s
            return oldest is not None and oldest + threshold == t
        contact = self.contacts.get(a)
        m = contact.membership(b) if contact is not None else None
        if m is None:
            return False
        if kind == STEP:
            return t in step_boundaries(m)
        if kind == DELAY:
            return m.enqueue_ts + extra == t and self._delays.get(b, Counter())[extra] > 0
        overflow = self.queues[b].overflow
        assert kind == OVERFLOW
        return (
            not m.overflowed
            and overflow is not None
            and overflow.after_s is not None
            and m.enqueue_ts + overflow.after_s == t
        )

    def _pop_due(self, now: float) -> WakeKey | None:
        heap = self._heap
        while heap and heap[0][0] <= now:
            key = heapq.heappop(heap)
            if key > self._cursor and self._valid(key):
                return key
        return None

    def _peek_wakeup(self) -> WakeKey | None:
        heap = self._heap
        while heap and not (heap[0] > self._cursor and self._valid(heap[0])):
            heapq.heappop(heap)
        return heap[0] if heap else None

    def _schedule_membership(self, contact: WaitingContact, m: Membership) -> None:
        for t in step_boundaries(m):
            self._push((t, STEP, contact.id, m.queue_id, 0.0))
        for d in self._delays.get(m.queue_id, ()):
            self._push((m.enqueue_ts + d, DELAY, contact.id, m.queue_id, d))
        overflow = self.queues[m.queue_id].overflow
        if overflow is not None and overflow.after_s is not None and not m.overflowed:
            self._push((m.enqueue_ts + overflow.after_s, OVERFLOW, contact.id, m.queue_id, 0.0))

    def _after_settle(self) -> None:
        dirty, self._dirty_wake = self._dirty_wake, set()
        for qid in dirty:
            queue = self.queues.get(qid)
            if queue is None or queue.overload is None or queue.overload.metric != "oldest_wait":
                continue
            oldest = self._oldest_enqueue(qid)
            if oldest is not None:
                for level, threshold in ((1, queue.overload.level1_s), (2, queue.overload.level2_s)):
                    self._push((oldest + threshold, OVERLOAD, qid, level, 0.0))
                    heapq.heappush(self._thresholds, (oldest + threshold, qid))

    def _steps_moved(self, contact: WaitingContact, m: Membership) -> None:
        for t in step_boundaries(m):
            self._push((t, STEP, contact.id, m.queue_id, 0.0))

    def _occupancy_turns(self, agent: AgentState) -> None:
        assert agent.occupancy_turn is not None
        self._push((agent.occupancy_turn, REST, agent.id, 0, 0.0))

    def _offer_made(self, offer: Offer) -> None:
        self._push((offer.timeout_at, TIMEOUT, offer.contact_id, offer.agent_id, 0.0))

    def _mark_dirty(self, queue_id: int) -> None:
        self._dirty_levels.add(queue_id)
        self._dirty_overflow.add(queue_id)
        self._dirty_wake.add(queue_id)

    # --- contacts --------------------------------------------------------------------------------

    def _insert(self, contact: WaitingContact, m: Membership) -> None:
        key = (*order_key(self.queues[m.queue_id], m, contact.arrival_seq), contact.id)
        self._entry[(contact.id, m.queue_id)] = (key, m.enqueue_ts)
        self._waiting.setdefault(m.queue_id, SortedList()).add(key)
        self._by_enqueue.setdefault(m.queue_id, SortedList()).add((m.enqueue_ts, contact.id))
        self._mark_dirty(m.queue_id)

    def _discard(self, contact_id: int, queue_id: int) -> None:
        entry = self._entry.pop((contact_id, queue_id), None)
        if entry is not None:
            self._waiting[queue_id].remove(entry[0])
            self._by_enqueue[queue_id].remove((entry[1], contact_id))
        self._mark_dirty(queue_id)

    def _membership_added(self, contact: WaitingContact, m: Membership) -> None:
        self._members.setdefault(m.queue_id, set()).add(contact.id)
        if not contact.locked:
            self._insert(contact, m)
        self._schedule_membership(contact, m)

    def _membership_removed(self, contact: WaitingContact, m: Membership) -> None:
        self._members.get(m.queue_id, set()).discard(contact.id)
        self._discard(contact.id, m.queue_id)

    def _contact_locked(self, contact: WaitingContact) -> None:
        for m in contact.memberships:
            self._discard(contact.id, m.queue_id)

    def _contact_unlocked(self, contact: WaitingContact) -> None:
        for m in contact.memberships:
            self._insert(contact, m)

    # --- agents ----------------------------------------------------------------------------------

    def _served_queues(self, agent: AgentState) -> set[int]:
        served = {q for q in agent.profile if q in self.queues}
        served.update(q for q in agent.reserve if q in self.queues)
        for skill in agent.skills:
            for qid in self._by_first_skill.get(skill, ()):
                if holds_skills(agent, self.queues[qid].required_skills):
                    served.add(qid)
        return served

    def _agent_config_changed(self, old: AgentState | None, new: AgentState | None) -> None:
        if old is not None:
            self._unindex_agent(old.id)
            for qid in self._served.pop(old.id, set()):
                self._queue_agent_ids[qid].discard(old.id)
                if staffs(old, self.queues[qid]):
                    self._staffed[qid] -= 1
                self._mark_dirty(qid)
            for qid, entry in old.profile.items():
                if entry.delay_s > 0 and qid in self._delays:
                    self._delays[qid][entry.delay_s] -= 1
        if new is None:
            return
        served = self._served_queues(new)
        self._served[new.id] = served
        for qid in served:
            self._queue_agent_ids.setdefault(qid, set()).add(new.id)
            if staffs(new, self.queues[qid]):
                self._staffed[qid] += 1
            self._mark_dirty(qid)
        for qid, entry in new.profile.items():
            if entry.delay_s > 0 and qid in self.queues:
                delays = self._delays.setdefault(qid, Counter())
                delays[entry.delay_s] += 1
                if delays[entry.delay_s] == 1:  # a new delay: a boundary for every contact of the queue
                    for cid in self._members.get(qid, ()):
                        m = self.contacts[cid].membership(qid)
                        assert m is not None
                        self._push((m.enqueue_ts + entry.delay_s, DELAY, cid, qid, entry.delay_s))
        self._index_agent(new)

    def _agent_touched(self, agent: AgentState) -> None:
        self._unindex_agent(agent.id)
        self._index_agent(agent)

    def _unindex_agent(self, agent_id: int) -> None:
        for where, key in self._agent_entries.pop(agent_id, ()):
            self._free[where].remove(key)

    def _index_agent(self, agent: AgentState) -> None:
        if not routable(agent):
            return
        channels = [ch for ch in agent.capacity if has_free_slot(agent, ch)]
        if not channels:
            return
        entries = []
        for qid in self._served[agent.id]:
            queue = self.queues[qid]
            if queue.agent_selection in _BY_ID:
                key: tuple[float, ...] = (agent.id,)
            else:
                entry = serving_entry(agent, queue, 2)
                assert entry is not None
                key = agent_key(queue, agent, entry.rank)
            for ch in channels:
                where = (qid, ch)
                self._free.setdefault(where, SortedList()).add(key)
                entries.append((where, key))
        self._agent_entries[agent.id] = entries

    # --- queues ----------------------------------------------------------------------------------

    def _queue_config_changed(self, old: QueueConfig | None, new: QueueConfig) -> None:
        """Rare: rebuild every index that depends on queue settings."""
        self._by_first_skill = {}
        for q in self.queues.values():
            if q.required_skills:
                self._by_first_skill.setdefault(q.required_skills[0][0], []).append(q.id)
        self._members.setdefault(new.id, set())
        for qid in chain.from_iterable(self._served.values()):
            self._mark_dirty(qid)
        self._served, self._queue_agent_ids, self._staffed = {}, {}, Counter()
        self._free, self._agent_entries, self._delays = {}, {}, {}
        for agent in self.agents.values():
            self._agent_config_changed(None, agent)
        self._waiting.pop(new.id, None)
        self._by_enqueue.pop(new.id, None)
        for cid in self._members[new.id]:
            contact = self.contacts[cid]
            m = contact.membership(new.id)
            assert m is not None
            self._entry.pop((cid, new.id), None)
            if not contact.locked:
                self._insert(contact, m)
            self._schedule_membership(contact, m)

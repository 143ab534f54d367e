"""The reference router: no index, every question answered by re-scanning everything.

Slow and obviously right: it defines the decisions the indexed `engine.Router` must reproduce one for
one (a differential property test checks it), and it is the baseline of `bench/routing.py`.
"""

from __future__ import annotations

from collections.abc import Iterable

from centralita.routing.lifecycle import DELAY, OVERFLOW, OVERLOAD, REST, STEP, TIMEOUT, RouterBase, WakeKey
from centralita.routing.model import AgentState, Membership, QueueConfig, WaitingContact
from centralita.routing.rules import agent_key, eligible, order_key, pick_agent, serving_entry, step_boundaries


class ReferenceRouter(RouterBase):
    def _queue_waiting(self, queue_id: int) -> list[WaitingContact]:
        queue = self.queues[queue_id]
        members = [
            (order_key(queue, m, c.arrival_seq), c.id, c)
            for c in self.contacts.values()
            if not c.locked
            for m in c.memberships
            if m.queue_id == queue_id
        ]
        members.sort(key=lambda x: (x[0], x[1]))
        return [c for _, _, c in members]

    def _queue_agents(self, queue_id: int) -> Iterable[AgentState]:
        queue = self.queues[queue_id]
        return [a for a in self.agents.values() if serving_entry(a, queue, 2) is not None]

    def _waiting_count(self, queue_id: int) -> int:
        return len(self._queue_waiting(queue_id))

    def _oldest_enqueue(self, queue_id: int) -> float | None:
        times = [
            m.enqueue_ts
            for c in self.contacts.values()
            if not c.locked
            for m in c.memberships
            if m.queue_id == queue_id
        ]
        return min(times, default=None)

    def _pick_agent(self, contact: WaitingContact, m: Membership, now: float) -> AgentState | None:
        queue, level = self.queues[m.queue_id], self.levels[m.queue_id]
        candidates = []
        for agent in self.agents.values():
            if eligible(agent, queue, contact, m, now, level):
                entry = serving_entry(agent, queue, level)
                assert entry is not None
                candidates.append((agent, entry))
        if not candidates:
            return None
        return pick_agent(queue, contact, candidates, self.last_picked.get(queue.id), now)

    def _eligible_agents(self, contact: WaitingContact, m: Membership, now: float) -> list[AgentState]:
        queue, level = self.queues[m.queue_id], self.levels[m.queue_id]
        agents = [a for a in self.agents.values() if eligible(a, queue, contact, m, now, level)]
        return sorted(agents, key=lambda a: agent_key(queue, a, 1))

    def _first_contacts(
        self, agent: AgentState, now: float
    ) -> Iterable[tuple[QueueConfig, WaitingContact, Membership, int]]:
        out = []
        for queue_id in sorted(self.queues):
            queue, level = self.queues[queue_id], self.levels[queue_id]
            entry = serving_entry(agent, queue, level)
            if entry is None:
                continue
            for contact in self._queue_waiting(queue_id):
                m = contact.membership(queue_id)
                assert m is not None
                if eligible(agent, queue, contact, m, now, level):
                    out.append((queue, contact, m, entry.rank))
                    break
        return out

    def _wakeups(self) -> list[WakeKey]:
        keys: list[WakeKey] = [
            (o.timeout_at, TIMEOUT, o.contact_id, o.agent_id, 0.0)
            for ring in self.offered.values()
            for o in ring.values()
        ]
        keys += [(a.occupancy_turn, REST, a.id, 0, 0.0) for a in self.agents.values() if a.occupancy_turn is not None]
        delays: dict[int, set[float]] = {}
        for agent in self.agents.values():
            for queue_id, entry in agent.profile.items():
                if entry.delay_s > 0:
                    delays.setdefault(queue_id, set()).add(entry.delay_s)
        for contact in self.contacts.values():
            for m in contact.memberships:
                overflow = self.queues[m.queue_id].overflow
                if overflow is not None and overflow.after_s is not None and not m.overflowed:
                    keys.append((m.enqueue_ts + overflow.after_s, OVERFLOW, contact.id, m.queue_id, 0.0))
                keys += [(t, STEP, contact.id, m.queue_id, 0.0) for t in step_boundaries(m)]
                keys += [(m.enqueue_ts + d, DELAY, contact.id, m.queue_id, d) for d in delays.get(m.queue_id, ())]
        for queue in self.queues.values():
            if queue.overload is not None and queue.overload.metric == "oldest_wait":
                oldest = self._oldest_enqueue(queue.id)
                if oldest is not None:
                    keys.append((oldest + queue.overload.level1_s, OVERLOAD, queue.id, 1, 0.0))
                    keys.append((oldest + queue.overload.level2_s, OVERLOAD, queue.id, 2, 0.0))
        return [k for k in keys if k > self._cursor]

    def _pop_due(self, now: float) -> WakeKey | None:
        due = [k for k in self._wakeups() if k[0] <= now]
        return min(due, default=None)

    def _peek_wakeup(self) -> WakeKey | None:
        return min(self._wakeups(), default=None)

    def _overflow_candidates(self) -> Iterable[int]:
        return [q.id for q in self.queues.values() if q.overflow is not None and q.overflow.when_unstaffed]

    def _level_candidates(self, now: float) -> Iterable[int]:
        return list(self.queues)

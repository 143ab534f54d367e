"""Queue figures the flows and the wallboard read (R7 and flows-and-routing §3 functions). Pure.

`ewt(q, p)` is 0 when an agent is eligible now for a new contact at priority p, `+inf` when q has no
staffed agent, else `(n_ahead + 1) × AHT_q / staffed_q`. AHT and rolling ASA are exponential averages
with weight 0.25 (the last 10 answers carry ≈ 94 % of the weight).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from centralita.routing.engine import Router
from centralita.routing.model import AgentState, Membership, QueueConfig, WaitingContact
from centralita.routing.rules import eligible, order_key

ALPHA = 0.25


@dataclass
class QueueEstimates:
    aht_s: float  # seeded with the queue's default_aht_s
    rolling_asa_s: float | None = None

    def on_answered(self, wait_s: float) -> None:
        """An accepted offer: the first sets rolling ASA, later ones move it by ALPHA."""
        self.rolling_asa_s = (
            wait_s if self.rolling_asa_s is None else self.rolling_asa_s + ALPHA * (wait_s - self.rolling_asa_s)
        )

    def on_completed(self, handle_s: float) -> None:
        """A finished contact (talk + hold + ACW) moves AHT by ALPHA."""
        self.aht_s += ALPHA * (handle_s - self.aht_s)


def _staffed(agent: AgentState, queue: QueueConfig) -> bool:
    """Serves q (profile or required skills), online and not in a custom status; busy or not."""
    if agent.status != "available":
        return False
    if queue.id in agent.profile:
        return True
    return bool(queue.required_skills) and all(agent.skills.get(s, 0) >= lvl for s, lvl in queue.required_skills)


def agents_staffed(router: Router, queue_id: int) -> int:
    queue = router.queues[queue_id]
    return sum(_staffed(a, queue) for a in router.agents.values())


def _probe(queue_id: int, priority: int, now: float, channel: str) -> tuple[WaitingContact, Membership]:
    m = Membership(queue_id, now, priority)
    return WaitingContact(id=-1, channel=channel, arrival_seq=2**62, memberships=[m]), m


def agents_available(router: Router, queue_id: int, now: float, channel: str = "voice") -> int:
    """Staffed agents able to take a new q contact now (R3 items 1–3)."""
    queue = router.queues[queue_id]
    probe, m = _probe(queue_id, 0, now, channel)
    return sum(eligible(a, queue, probe, m, now) for a in router.agents.values())


def waiting_in(
    router: Router, queue_id: int, min_priority: int | None = None
) -> list[tuple[WaitingContact, Membership]]:
    """Contacts waiting in q (being offered excluded), with their membership."""
    out = []
    for c in router.contacts.values():
        if c.locked:
            continue
        for m in c.memberships:
            if m.queue_id == queue_id and (min_priority is None or m.priority >= min_priority):
                out.append((c, m))
    return out


def queue_size(router: Router, queue_id: int, min_priority: int | None = None) -> int:
    return len(waiting_in(router, queue_id, min_priority))


def oldest_wait(router: Router, queue_id: int, now: float, min_priority: int | None = None) -> float:
    waits = [now - m.enqueue_ts for _, m in waiting_in(router, queue_id, min_priority)]
    return max(waits) if waits else 0.0


def ewt(
    router: Router, queue_id: int, estimates: QueueEstimates, now: float, priority: int = 0, channel: str = "voice"
) -> float:
    """Estimated wait for a new contact at `priority` (R7)."""
    staffed = agents_staffed(router, queue_id)
    if staffed == 0:
        return math.inf
    if agents_available(router, queue_id, now, channel) > 0 and queue_size(router, queue_id) == 0:
        return 0.0
    queue = router.queues[queue_id]
    probe, pm = _probe(queue_id, priority, now, channel)
    mine = order_key(queue, pm, probe.arrival_seq)
    ahead = sum(order_key(queue, m, c.arrival_seq) < mine for c, m in waiting_in(router, queue_id))
    return (ahead + 1) * estimates.aht_s / staffed

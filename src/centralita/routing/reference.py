"""The reference router: re-scan everything on every call. Slow, obviously right by construction.

It defines the semantics the incremental engine must reproduce decision for decision, and it is the
baseline of bench/routing.py. Queues are taken in id order, contacts in R1 order within each queue, and
each contact goes to the R5 choice among the agents eligible for it (R3) at `now`.
"""

from __future__ import annotations

from centralita.routing.model import AgentState, Offer, QueueConfig, WaitingContact
from centralita.routing.rules import eligible, order_key, pick_agent


def decide(
    queues: dict[int, QueueConfig], agents: list[AgentState], contacts: list[WaitingContact], now: float
) -> list[Offer]:
    """Offers to make now. Mutates nothing: the caller applies offers (agent offered, contact locked)."""
    offered_agents: set[int] = set()
    offered_contacts: set[int] = set()
    offers: list[Offer] = []
    for queue_id in sorted(queues):
        queue = queues[queue_id]
        members = [
            (order_key(queue, m, c.arrival_seq), c, m)
            for c in contacts
            if not c.locked
            for m in c.memberships
            if m.queue_id == queue_id
        ]
        members.sort(key=lambda x: x[0])
        for _, contact, m in members:
            if contact.id in offered_contacts:
                continue
            candidates = [a for a in agents if a.id not in offered_agents and eligible(a, queue, contact, m, now)]
            if not candidates:
                continue
            agent = pick_agent(queue, candidates)
            offers.append(Offer(contact.id, agent.id, queue_id, now + queue.offer_timeout_s))
            offered_agents.add(agent.id)
            offered_contacts.add(contact.id)
    return offers

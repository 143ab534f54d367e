"""The router: routing state plus the clock-driven offer lifecycle (R6), pure and deterministic.

Live, a runner feeds it what happened (contact queued, agent available, offer accepted…) and turns the
offers it returns into `do_*` actions; in simulation the same object runs on a simulated clock. Every
call takes `now`; nothing reads a clock or does I/O. Decisions come from the reference rules
(`reference.decide`); the incremental indexes for speed come next without changing a decision.
"""

from __future__ import annotations

from dataclasses import dataclass

from centralita.routing.model import AgentState, Offer, QueueConfig, WaitingContact
from centralita.routing.reference import decide
from centralita.routing.rules import next_step_boundary


class RoutingError(Exception):
    """A call that does not fit the state (unknown contact, offer to someone else…)."""


@dataclass(frozen=True)
class OfferEnded:
    offer: Offer
    result: str  # rejected | timeout


class Router:
    def __init__(self, queues: dict[int, QueueConfig]) -> None:
        self.queues = dict(queues)
        self.agents: dict[int, AgentState] = {}
        self.contacts: dict[int, WaitingContact] = {}
        self.offers: dict[int, Offer] = {}  # contact id → its open offer

    # --- what happened ---------------------------------------------------------------------------

    def set_agent(self, agent: AgentState) -> None:
        """Add or replace an agent (login, state or profile change). An agent with an open offer keeps it."""
        old = self.agents.get(agent.id)
        if old is not None:
            agent.offered = old.offered
        if agent.status == "available" and old is not None and old.status != "available":
            agent.missed = False  # making oneself available clears `missed` (R6)
            agent.missed_offers = 0
        self.agents[agent.id] = agent

    def enqueue(self, contact: WaitingContact) -> None:
        if contact.id in self.contacts:
            raise RoutingError(f"contact {contact.id} is already waiting")
        for m in contact.memberships:
            if m.queue_id not in self.queues:
                raise RoutingError(f"unknown queue {m.queue_id}")
        self.contacts[contact.id] = contact

    def remove(self, contact_id: int) -> None:
        """The contact left every queue (abandon, flow exit, callback): its open offer is withdrawn."""
        self.contacts.pop(contact_id, None)
        offer = self.offers.pop(contact_id, None)
        if offer is not None:
            self.agents[offer.agent_id].offered = False

    def accept(self, contact_id: int, agent_id: int, now: float) -> None:
        """R6: on accept the contact leaves all queues and the agent takes a slot on its channel."""
        offer = self._offer(contact_id, agent_id)
        contact = self.contacts.pop(contact_id)
        del self.offers[contact_id]
        agent = self.agents[offer.agent_id]
        agent.offered = False
        agent.missed_offers = 0
        agent.active[contact.channel] = agent.active.get(contact.channel, 0) + 1

    def reject(self, contact_id: int, agent_id: int, now: float) -> OfferEnded:
        return self._end_offer(self._offer(contact_id, agent_id), "rejected")

    def release(self, agent_id: int, channel: str, now: float) -> None:
        """The agent finished a contact (after ACW): its slot frees up."""
        agent = self.agents[agent_id]
        if agent.active.get(channel, 0) <= 0:
            raise RoutingError(f"agent {agent_id} has no {channel} contact to release")
        agent.active[channel] -= 1
        if not any(agent.active.values()):
            agent.idle_since = now

    # --- decisions ---------------------------------------------------------------------------------

    def step(self, now: float) -> tuple[list[Offer], list[OfferEnded]]:
        """Expire offers due at `now` (R6 timeout), then make every offer the rules allow."""
        ended = [
            self._end_offer(o, "timeout")
            for o in sorted(self.offers.values(), key=lambda o: o.contact_id)
            if o.timeout_at <= now
        ]
        offers = decide(self.queues, list(self.agents.values()), list(self.contacts.values()), now)
        for offer in offers:
            self.offers[offer.contact_id] = offer
            self.contacts[offer.contact_id].locked = True
            self.agents[offer.agent_id].offered = True
        return offers, ended

    def next_wakeup(self, now: float) -> float | None:
        """The next instant a decision may change without any event: an offer timeout, a step boundary,
        a profile delay ending (R13)."""
        times = [o.timeout_at for o in self.offers.values()]
        for c in self.contacts.values():
            for m in c.memberships:
                boundary = next_step_boundary(m, now)
                if boundary is not None:
                    times.append(boundary)
                for a in self.agents.values():
                    entry = a.profile.get(m.queue_id)
                    if entry is not None and entry.delay_s > 0 and m.enqueue_ts + entry.delay_s > now:
                        times.append(m.enqueue_ts + entry.delay_s)
        return min(times) if times else None

    # --- internals ---------------------------------------------------------------------------------

    def _offer(self, contact_id: int, agent_id: int) -> Offer:
        offer = self.offers.get(contact_id)
        if offer is None or offer.agent_id != agent_id:
            raise RoutingError(f"contact {contact_id} is not offered to agent {agent_id}")
        return offer

    def _end_offer(self, offer: Offer, result: str) -> OfferEnded:
        """Reject or timeout: the contact is unlocked at its original place; the miss counts (R6)."""
        del self.offers[offer.contact_id]
        self.contacts[offer.contact_id].locked = False
        agent = self.agents[offer.agent_id]
        agent.offered = False
        agent.missed_offers += 1
        if agent.missed_offers >= agent.max_missed_offers:
            agent.missed = True
        return OfferEnded(offer, result)

"""The router's offer lifecycle (R6) and random event sequences (hypothesis state machine)."""

from __future__ import annotations

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from centralita.routing.engine import Router, RoutingError
from centralita.routing.model import AgentState, Membership, ProfileEntry, QueueConfig, WaitingContact
from centralita.routing.rules import eligible

QUEUES = {1: QueueConfig(id=1), 2: QueueConfig(id=2)}


def waiting(cid: int, t: float, queues: tuple[int, ...] = (1,), priority: int = 0) -> WaitingContact:
    return WaitingContact(cid, "voice", cid, [Membership(q, t, priority) for q in queues])


def test_offer_timeout_marks_missed_and_keeps_the_place_behaviour_9() -> None:
    r = Router(QUEUES)
    r.set_agent(AgentState(7, profile={1: ProfileEntry()}))
    r.enqueue(waiting(1, 0.0))
    r.enqueue(waiting(2, 5.0))
    offers, _ = r.step(10.0)
    assert [(o.contact_id, o.agent_id, o.timeout_at) for o in offers] == [(1, 7, 30.0)]
    assert r.next_wakeup(10.0) == 30.0
    offers, ended = r.step(30.0)
    assert [(e.offer.contact_id, e.result) for e in ended] == [(1, "timeout")]
    assert offers == [] and r.agents[7].missed  # unroutable until it makes itself available
    r.set_agent(AgentState(7, status="custom:descanso", profile={1: ProfileEntry()}))
    r.set_agent(AgentState(7, profile={1: ProfileEntry()}))
    offers, _ = r.step(31.0)
    assert [o.contact_id for o in offers] == [1]  # still first: its original place


def test_accept_takes_the_contact_out_of_every_queue() -> None:
    r = Router(QUEUES)
    r.set_agent(AgentState(7, profile={1: ProfileEntry()}))
    r.set_agent(AgentState(8, profile={2: ProfileEntry()}, status="offline"))
    r.enqueue(waiting(1, 0.0, queues=(1, 2)))
    (offer,), _ = r.step(1.0)
    assert (offer.contact_id, offer.agent_id) == (1, 7)
    r.accept(1, 7, 2.0)
    assert 1 not in r.contacts and r.agents[7].active == {"voice": 1}
    r.set_agent(AgentState(8, profile={2: ProfileEntry()}))
    assert r.step(3.0) == ([], [])
    with pytest.raises(RoutingError):
        r.accept(1, 7, 4.0)
    r.release(7, "voice", 100.0)
    assert r.agents[7].idle_since == 100.0


def test_abandon_withdraws_the_offer() -> None:
    r = Router(QUEUES)
    r.set_agent(AgentState(7, profile={1: ProfileEntry()}))
    r.enqueue(waiting(1, 0.0))
    r.step(1.0)
    r.remove(1)
    assert not r.agents[7].offered and r.offers == {}


class RouterMachine(RuleBasedStateMachine):
    """Random sequences of arrivals, abandons, agent changes, accepts, rejects, releases and time."""

    def __init__(self) -> None:
        super().__init__()
        self.router = Router(QUEUES)
        self.now = 0.0
        self.next_id = 0
        self.final: dict[int, str] = {}  # contact → accepted | abandoned

    @rule(queues=st.sampled_from([(1,), (2,), (1, 2)]), priority=st.integers(0, 2))
    def arrive(self, queues: tuple[int, ...], priority: int) -> None:
        self.next_id += 1
        self.router.enqueue(waiting(self.next_id, self.now, queues, priority))

    @rule(
        aid=st.integers(1, 4),
        serves=st.sampled_from([(1,), (2,), (1, 2)]),
        status=st.sampled_from(["available", "available", "offline", "custom:descanso"]),
    )
    def agent_changes(self, aid: int, serves: tuple[int, ...], status: str) -> None:
        old = self.router.agents.get(aid)
        agent = AgentState(
            aid,
            status=status,
            profile={q: ProfileEntry() for q in serves},
            idle_since=old.idle_since if old else self.now,
            active=dict(old.active) if old else {},
        )
        agent.missed, agent.missed_offers = (old.missed, old.missed_offers) if old else (False, 0)
        self.router.set_agent(agent)

    @precondition(lambda self: bool(self.router.contacts))
    @rule(data=st.data())
    def abandon(self, data: st.DataObject) -> None:
        cid = data.draw(st.sampled_from(sorted(self.router.contacts)))
        self.router.remove(cid)
        self.final[cid] = "abandoned" if cid not in self.final else "twice!"

    @precondition(lambda self: bool(self.router.offers))
    @rule(data=st.data(), accept=st.booleans())
    def answer_offer(self, data: st.DataObject, accept: bool) -> None:
        cid = data.draw(st.sampled_from(sorted(self.router.offers)))
        offer = self.router.offers[cid]
        if accept:
            self.router.accept(cid, offer.agent_id, self.now)
            self.final[cid] = "accepted" if cid not in self.final else "twice!"
        else:
            self.router.reject(cid, offer.agent_id, self.now)

    @rule(aid=st.integers(1, 4))
    def release(self, aid: int) -> None:
        agent = self.router.agents.get(aid)
        if agent is not None and agent.active.get("voice", 0) > 0:
            self.router.release(aid, "voice", self.now)

    @rule(dt=st.floats(0.5, 30.0))
    def time_passes(self, dt: float) -> None:
        self.now += dt
        self.router.step(self.now)

    @invariant()
    def never_two_offers_for_one_contact_or_agent(self) -> None:
        offers = list(self.router.offers.values())
        assert len({o.agent_id for o in offers}) == len(offers)
        assert all(self.router.agents[o.agent_id].offered for o in offers)
        assert sum(a.offered for a in self.router.agents.values()) == len(offers)

    @invariant()
    def never_above_capacity(self) -> None:
        for a in self.router.agents.values():
            for channel, n in a.active.items():
                assert 0 <= n <= a.capacity.get(channel, 0)

    @invariant()
    def every_contact_ends_once(self) -> None:
        assert "twice!" not in self.final.values()
        assert not set(self.final) & set(self.router.contacts)

    @invariant()
    def no_starvation_after_a_step(self) -> None:
        r = self.router
        r.step(self.now)
        for c in r.contacts.values():
            if c.locked:
                continue
            for a in r.agents.values():
                assert not any(eligible(a, r.queues[m.queue_id], c, m, self.now) for m in c.memberships)


RouterMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
TestRouterMachine = RouterMachine.TestCase

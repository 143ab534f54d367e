"""The router over random event sequences (hypothesis state machines): the indexed Router and the
ReferenceRouter take the same calls and must decide alike at every step, and the decisions keep the
invariants of issue 4 point 5."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from centralita.routing.engine import Router, RoutingError
from centralita.routing.model import (
    AgentState,
    Membership,
    Overflow,
    Overload,
    ProfileEntry,
    QueueConfig,
    Requirement,
    Step,
    WaitingContact,
)
from centralita.routing.rules import AGENT_SELECTIONS, CALL_SELECTIONS, eligible, has_free_slot, order_key
from tests.routing.both import Both

QUEUE_IDS = (1, 2, 3, 4)
SKILLS = ("a", "b", "c")
CHANNELS = ("voice", "chat")
SELECTIONS = AGENT_SELECTIONS


def waiting(cid: int, t: float, queues: tuple[int, ...] = (1,), priority: int = 0) -> WaitingContact:
    return WaitingContact(cid, "voice", cid, [Membership(q, t, priority) for q in queues])


def test_accept_takes_the_contact_out_of_every_queue() -> None:
    r = Both([QueueConfig(id=1), QueueConfig(id=2)])
    r.set_agent(AgentState(7, profile={1: ProfileEntry()}), 0.0)
    r.set_agent(AgentState(8, profile={2: ProfileEntry()}, status="offline"), 0.0)
    r.enqueue(waiting(1, 0.0, queues=(1, 2)), 0.0)
    assert r.offers(1.0) == [(1, 7)]
    r.accept(1, 7, 2.0)
    assert 1 not in r.fast.contacts and r.fast.agents[7].active == {"voice": 1}
    r.set_agent(AgentState(8, profile={2: ProfileEntry()}), 3.0)
    assert r.step(3.0) == ([], [])
    with pytest.raises(RoutingError):
        r.fast.accept(1, 7, 4.0)
    r.release(1, 100.0)
    assert r.fast.agents[7].idle_since == 100.0


def test_abandon_withdraws_the_offer() -> None:
    r = Both([QueueConfig(id=1)])
    r.set_agent(AgentState(7, profile={1: ProfileEntry()}), 0.0)
    r.enqueue(waiting(1, 0.0), 0.0)
    r.step(1.0)
    r.remove(1, 2.0)
    _, ended = r.step(2.0)
    assert [e.result for e in ended] == ["withdrawn"]
    assert not r.fast.agents[7].offered and not r.fast.agents[7].missed


def test_recovery_keeps_the_original_enqueue_time() -> None:
    """A router rebuilt from the store (contacts enqueued with their original times) orders them as
    before and fires the boundaries still ahead, not the past ones."""
    steps = (Step(Requirement(min_skills=(("a", 4),)), 30.0), Step(Requirement(min_skills=(("a", 2),)), 60.0))
    r = Both([QueueConfig(id=1)])
    r.enqueue(WaitingContact(2, "voice", 2, [Membership(1, 950.0, steps=steps)]), 1000.0)
    r.enqueue(WaitingContact(1, "voice", 1, [Membership(1, 900.0, steps=steps)]), 1000.0)
    assert (r.fast.position(1, 1), r.fast.position(2, 1)) == (1, 2)
    assert r.fast.next_wakeup() == 1040.0  # 2's second step ends at 950 + 90; the past boundaries are gone
    r.set_agent(AgentState(7, profile={1: ProfileEntry()}, skills={"a": 1}), 1000.0)
    assert r.offers(1000.0) == [(1, 7)]  # 1 is past its steps: any agent


@st.composite
def queue_configs(draw: st.DrawFn, qid: int) -> QueueConfig:
    required = draw(st.sampled_from(((), (("a", 1),), (("b", 2),), (("a", 2), ("c", 1)))))
    overflow = None
    if draw(st.booleans()):
        overflow = Overflow(
            queue_id=draw(st.sampled_from(QUEUE_IDS)),
            after_s=draw(st.sampled_from((None, 10.0, 45.0))),
            when_unstaffed=draw(st.booleans()),
            mode=draw(st.sampled_from(("add", "move"))),
        )
    overload = None
    if draw(st.booleans()):
        overload = Overload(
            metric=draw(st.sampled_from(("ewt", "oldest_wait"))),
            level1_s=draw(st.sampled_from((5.0, 30.0))),
            level2_s=draw(st.sampled_from((40.0, 300.0))),
        )
    return QueueConfig(
        id=qid,
        required_skills=required,
        priority_mode=draw(st.sampled_from(("strict", "aged"))),
        aging_s_per_point=draw(st.sampled_from((10.0, 60.0))),
        agent_selection=draw(st.sampled_from(SELECTIONS)),
        order_by=(("seniority", draw(st.booleans())),),
        offer_timeout_s=draw(st.sampled_from((5.0, 20.0))),
        sl_threshold_s=draw(st.sampled_from((10.0, 20.0))),
        default_aht_s=draw(st.sampled_from((30.0, 300.0))),
        overflow=overflow,
        overload=overload,
    )


class RouterMachine(RuleBasedStateMachine):
    """Random configurations and events; both routers must agree on every call."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0
        self.next_id = 1
        self.ended: dict[int, int] = {}  # contact → times it left for good
        self.connected: dict[int, tuple[int, str]] = {}  # contact → (agent, channel)
        # contacts an agent kept when a change lowered its capacity below them: allowed until they end
        self.kept: dict[tuple[int, str], int] = {}
        self.rung_before_change: set[int] = set()  # contacts rung by a queue that then left ring_all
        self.changed_at: dict[int, float] = {}  # agent → when its settings last changed
        self.r: Both

    @initialize(data=st.data())
    def configure(self, data: st.DataObject) -> None:
        self.r = Both([data.draw(queue_configs(q)) for q in QUEUE_IDS])

    @rule(
        queues=st.lists(st.sampled_from(QUEUE_IDS), min_size=1, max_size=3, unique=True),
        priority=st.integers(0, 3),
        channel=st.sampled_from(CHANNELS),
        steps=st.sampled_from(
            (
                (),
                (Step(Requirement(min_skills=(("a", 4),)), 15.0),),
                (Step(Requirement(agent_ids=frozenset({2})), 10.0), Step(Requirement(min_skills=(("b", 3),)), 20.0)),
            )
        ),
        age_adjust=st.sampled_from((0.0, 30.0)),
        skip=st.booleans(),
    )
    def arrive(
        self, queues: list[int], priority: int, channel: str, steps: tuple[Step, ...], age_adjust: float, skip: bool
    ) -> None:
        cid = self.next_id
        self.next_id += 1
        memberships = [Membership(q, self.now, priority, age_adjust, steps, skip_unstaffed_steps=skip) for q in queues]
        self.r.enqueue(WaitingContact(cid, channel, cid, memberships), self.now)
        self.ended[cid] = 0

    @rule(
        aid=st.integers(1, 6),
        profile=st.dictionaries(
            st.sampled_from(QUEUE_IDS),
            st.builds(ProfileEntry, st.integers(1, 3), st.sampled_from((0.0, 0.0, 20.0))),
            max_size=3,
        ),
        reserve=st.dictionaries(st.sampled_from(QUEUE_IDS), st.integers(1, 2), max_size=2),
        skills=st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 5), max_size=3),
        status=st.sampled_from(("available", "available", "offline", "custom:descanso")),
        chat=st.integers(0, 3),
        exclusive=st.booleans(),
        selection=st.sampled_from(CALL_SELECTIONS),
        max_occupancy=st.sampled_from((None, 0.5, 0.9)),
        acw_idle=st.booleans(),
        misses=st.integers(1, 2),
        seniority=st.one_of(st.none(), st.integers(0, 9)),
    )
    def agent_changes(
        self,
        aid: int,
        profile: dict[int, ProfileEntry],
        reserve: dict[int, int],
        skills: dict[str, int],
        status: str,
        chat: int,
        exclusive: bool,
        selection: str,
        max_occupancy: float | None,
        acw_idle: bool,
        misses: int,
        seniority: int | None,
    ) -> None:
        agent = AgentState(
            aid,
            status=status,
            skills=skills,
            profile=profile,
            reserve=reserve,
            capacity={"voice": 1, "chat": chat},
            exclusive_channels=frozenset({"voice"}) if exclusive else frozenset(),
            idle_since=self.now,
            max_missed_offers=misses,
            max_occupancy=max_occupancy,
            acw_counts_as_idle=acw_idle,
            call_selection=selection,
            talk_time_s=float(aid * 37 % 11),
            attributes={} if seniority is None else {"seniority": seniority},
        )
        self.r.set_agent(agent, self.now)
        self.changed_at[aid] = self.now
        for channel, n in self.r.fast.agents[aid].active.items():
            self.kept[(aid, channel)] = n

    @precondition(lambda self: bool(self.r.fast.contacts))
    @rule(data=st.data())
    def abandon(self, data: st.DataObject) -> None:
        cid = data.draw(st.sampled_from(sorted(self.r.fast.contacts)))
        self.r.remove(cid, self.now)
        self.ended[cid] += 1

    @precondition(lambda self: bool(self.r.fast.offers))
    @rule(data=st.data(), accept=st.booleans())
    def answer_offer(self, data: st.DataObject, accept: bool) -> None:
        ringing = [o for ring in self.r.fast.offered.values() for o in ring.values()]
        offer = data.draw(st.sampled_from(sorted(ringing, key=lambda o: (o.contact_id, o.agent_id))))
        if accept:
            channel = self.r.fast.contacts[offer.contact_id].channel
            self.r.accept(offer.contact_id, offer.agent_id, self.now)
            self.ended[offer.contact_id] += 1
            self.connected[offer.contact_id] = (offer.agent_id, channel)
        else:
            self.r.reject(offer.contact_id, offer.agent_id, self.now)

    @precondition(lambda self: bool(self.connected))
    @rule(data=st.data(), acw=st.booleans())
    def hang_up(self, data: st.DataObject, acw: bool) -> None:
        cid = data.draw(st.sampled_from(sorted(self.connected)))
        self.connected.pop(cid)
        self.r.release(cid, self.now, acw=acw)

    @precondition(lambda self: any(a.acw for a in self.r.fast.agents.values()))
    @rule(data=st.data())
    def wrap_up(self, data: st.DataObject) -> None:
        aid = data.draw(st.sampled_from(sorted(a.id for a in self.r.fast.agents.values() if a.acw)))
        self.r.end_acw(aid, self.now)

    @rule(aid=st.integers(1, 6))
    def agent_ready(self, aid: int) -> None:
        if aid in self.r.fast.agents:
            self.r.make_ready(aid, self.now)

    @rule(aid=st.integers(1, 6))
    def agent_deleted(self, aid: int) -> None:
        if aid in self.r.fast.agents and not any(a == aid for a, _ in self.connected.values()):
            self.r.remove_agent(aid, self.now)

    @rule(qid=st.sampled_from(QUEUE_IDS), data=st.data())
    def queue_changes(self, qid: int, data: st.DataObject) -> None:
        rung = {cid for cid, ring in self.r.fast.offered.items() if len(ring) > 1}
        self.rung_before_change = (self.rung_before_change & set(self.r.fast.offered)) | rung
        self.r.set_queue(data.draw(queue_configs(qid)), self.now)

    @rule(qid=st.sampled_from(QUEUE_IDS), handle=st.sampled_from((10.0, 600.0)))
    def handled(self, qid: int, handle: float) -> None:
        self.r.record_handle(qid, handle)

    @rule(dt=st.sampled_from((0.0, 1.0, 5.0, 14.9, 15.0, 20.0, 45.0, 120.0)))
    def time_passes(self, dt: float) -> None:
        self.now += dt
        self.r.step(self.now)
        assert self.r.fast.next_wakeup() == self.r.ref.next_wakeup()

    # --- invariants --------------------------------------------------------------------------

    @invariant()
    def never_two_offers_for_one_contact_or_agent(self) -> None:
        """One open offer per agent; one per contact, except that ring_all rings every eligible agent."""
        offers = [o for ring in self.r.fast.offered.values() for o in ring.values()]
        assert len({o.agent_id for o in offers}) == len(offers)
        for o in offers:
            assert self.r.fast.agents[o.agent_id].offered and self.r.fast.contacts[o.contact_id].locked
        for ring in self.r.fast.offered.values():
            queues = {o.queue_id for o in ring.values()}
            assert len(queues) == 1
            # rings already open when their queue left ring_all run out (first accept wins)
            qid = queues.pop()
            assert (
                len(ring) == 1
                or self.r.fast.queues[qid].agent_selection == "ring_all"
                or (next(iter(ring.values())).contact_id in self.rung_before_change)
            )

    @invariant()
    def never_above_capacity(self) -> None:
        """No offer takes an agent above capacity. A supervisor may lower the capacity of a busy agent,
        who keeps the contacts already held (and gets no new one until below the new capacity)."""
        for a in self.r.fast.agents.values():
            for channel, n in a.active.items():
                kept = self.kept.get((a.id, channel), 0)
                assert n <= max(a.capacity.get(channel, 0), kept)
                self.kept[(a.id, channel)] = min(kept, n)

    @invariant()
    def no_offer_above_max_occupancy(self) -> None:
        """R8: at the instant of an offer the agent's occupancy (busy / logged-in time, recomputed here
        from its bookkeeping) is within its max_occupancy."""
        for ring in self.r.fast.offered.values():
            for o in ring.values():
                a = self.r.fast.agents[o.agent_id]
                made = o.timeout_at - self.r.fast.queues[o.queue_id].offer_timeout_s
                if a.max_occupancy is None or a.logged_in_since is None or abs(a.busy_mark - made) > 1e-9:
                    continue  # bookkept since (another chat ended, a status change): no longer the offer's instant
                if made <= self.changed_at.get(a.id, -1.0):
                    continue  # made under the agent's earlier settings
                if made > a.logged_in_since:
                    assert a.busy_s / (made - a.logged_in_since) <= a.max_occupancy + 1e-6, (o, a)

    @invariant()
    def every_contact_ends_once(self) -> None:
        for cid, times in self.ended.items():
            assert times == (0 if cid in self.r.fast.contacts else 1)

    @invariant()
    def no_waiting_contact_while_an_eligible_agent_is_free(self) -> None:
        router: Router = self.r.fast
        for c in router.contacts.values():
            if c.locked:
                continue
            for m in c.memberships:
                queue, level = router.queues[m.queue_id], router.levels[m.queue_id]
                for a in router.agents.values():
                    assert not eligible(a, queue, c, m, self.now, level), (c.id, a.id, m.queue_id)


TestRouterMachine = RouterMachine.TestCase
TestRouterMachine.settings = settings(
    max_examples=150, stateful_step_count=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


class FifoMachine(RuleBasedStateMachine):
    """One queue, interchangeable agents: every offer goes to the first waiting contact in R1 order, so
    within one priority contacts are served first come, first served."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0
        self.next_id = 1
        self.r = Both([QueueConfig(id=1)])
        self.queue = QueueConfig(id=1)
        self.offered: set[int] = set()

    def _check(self, call: str, *args: object) -> None:
        getattr(self.r, call)(*args)
        made, _ = self.r.step(self.now)
        for offer in made:
            self.fifo_within_a_priority()
            self.offered.add(offer.contact_id)

    @rule(priority=st.integers(0, 2))
    def arrive(self, priority: int) -> None:
        cid = self.next_id
        self.next_id += 1
        self._check("enqueue", WaitingContact(cid, "voice", cid, [Membership(1, self.now, priority)]), self.now)

    @rule(aid=st.integers(1, 3), status=st.sampled_from(("available", "offline")))
    def agent(self, aid: int, status: str) -> None:
        self._check(
            "set_agent", AgentState(aid, status=status, profile={1: ProfileEntry()}, max_missed_offers=9), self.now
        )

    @precondition(lambda self: bool(self.r.fast.offers))
    @rule(data=st.data(), accept=st.booleans())
    def answer(self, data: st.DataObject, accept: bool) -> None:
        offer = data.draw(st.sampled_from(sorted(self.r.fast.offers.values(), key=lambda o: o.contact_id)))
        if accept:
            self._check("accept", offer.contact_id, offer.agent_id, self.now)
            self._check("release", offer.contact_id, self.now)
        else:
            self._check("reject", offer.contact_id, offer.agent_id, self.now)

    @rule(dt=st.sampled_from((1.0, 25.0)))
    def wait(self, dt: float) -> None:
        self.now += dt
        self.r.step(self.now)

    @invariant()
    def fifo_within_a_priority(self) -> None:
        """No contact is offered for the first time while one ahead of it at its priority (R1) waits
        never offered. (A contact back from a miss or a withdrawal keeps its place and may wait
        behind one already offered: that is its original position, not a jump.)"""
        router = self.r.fast
        for offer in router.offers.values():
            self.offered.add(offer.contact_id)
        for offer in router.offers.values():
            c = router.contacts[offer.contact_id]
            key = order_key(self.queue, c.memberships[0], c.arrival_seq)
            for w in router._queue_waiting(1):
                if w.id not in self.offered and w.memberships[0].priority == c.memberships[0].priority:
                    assert key < order_key(self.queue, w.memberships[0], w.arrival_seq)


TestFifoMachine = FifoMachine.TestCase
TestFifoMachine.settings = settings(max_examples=100, stateful_step_count=40, deadline=None)


def test_has_free_slot_is_what_the_index_uses() -> None:
    a = AgentState(1, capacity={"voice": 1, "chat": 2}, active={"chat": 2})
    assert has_free_slot(a, "voice") and not has_free_slot(a, "chat")

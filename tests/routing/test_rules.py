"""Routing rules, one test each (flows-and-routing.md §6.2 and the behaviours of §7). Every test runs on
the indexed Router and the ReferenceRouter at once (tests/routing/both.py) and checks they agree."""

from __future__ import annotations

import math
from typing import Any

import pytest

from centralita.routing.engine import RoutingError
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
from centralita.routing.rules import mix, occupancy_at
from tests.routing.both import Both

Q1 = QueueConfig(id=1)


def agent(aid: int, *, queues: dict[int, ProfileEntry] | None = None, idle_since: float = 0.0, **kw: Any) -> AgentState:
    return AgentState(
        id=aid, profile=queues if queues is not None else {1: ProfileEntry()}, idle_since=idle_since, **kw
    )


def contact(
    cid: int,
    enqueue_ts: float,
    priority: int = 0,
    queue_id: int = 1,
    channel: str = "voice",
    steps: tuple[Step, ...] = (),
    seq: int | None = None,
    queues: tuple[int, ...] | None = None,
) -> WaitingContact:
    memberships = [Membership(q, enqueue_ts, priority, steps=steps) for q in (queues or (queue_id,))]
    return WaitingContact(id=cid, channel=channel, arrival_seq=seq if seq is not None else cid, memberships=memberships)


def waiting_then_agent(queues: list[QueueConfig], contacts: list[WaitingContact], a: AgentState, now: float) -> Both:
    """Contacts wait with nobody staffed; then the agent logs in at `now` (R4 picks for it)."""
    r = Both(queues)
    for c in contacts:
        r.enqueue(c, c.memberships[0].enqueue_ts)
    r.set_agent(a, now)
    return r


def first(r: Both, now: float) -> tuple[int, int] | None:
    offers = r.offers(now)
    return offers[0] if offers else None


# --- R1 / R12 -----------------------------------------------------------------------------------


def test_r1_strict_priority_beats_age_then_fifo_behaviour_8() -> None:
    r = waiting_then_agent(
        [Q1], [contact(1, 0.0, priority=1), contact(2, 50.0, priority=3), contact(3, 60.0, 3)], agent(9), 100.0
    )
    assert first(r, 100.0) == (2, 9)  # later priority-3 beats earlier priority-1; FIFO within 3


def test_r1_aged_a_point_buys_sixty_seconds_behaviour_8() -> None:
    aged = QueueConfig(id=1, priority_mode="aged", aging_s_per_point=60)
    r = waiting_then_agent([aged], [contact(1, 0.0, priority=1), contact(2, 181.0, priority=4)], agent(9), 181.0)
    assert first(r, 181.0) == (1, 9)  # 181 s of waiting beat 3 points (180 s)
    r = waiting_then_agent([aged], [contact(1, 0.0, priority=1), contact(2, 179.0, priority=4)], agent(9), 179.0)
    assert first(r, 179.0) == (2, 9)


def test_r12_segment_priority_lets_a_premium_contact_outrank() -> None:
    """The caller turns the queue's segment_priority into the membership priority (R12)."""
    segment_priority = {"premium": 3, "mass": 0}
    r = waiting_then_agent(
        [Q1],
        [contact(1, 0.0, priority=segment_priority["mass"]), contact(2, 30.0, priority=segment_priority["premium"])],
        agent(9),
        40.0,
    )
    assert first(r, 40.0) == (2, 9)


# --- R2 -----------------------------------------------------------------------------------------


def test_r2_steps_widen_the_pool_and_keep_the_place_behaviour_6() -> None:
    steps = (Step(Requirement(min_skills=(("banca", 4),)), 30.0),)
    r = Both([Q1])
    r.set_agent(agent(9, skills={"banca": 2}), 0.0)
    r.enqueue(contact(1, 0.0, steps=steps), 0.0)
    assert r.offers(29.9) == []
    assert r.fast.next_wakeup() == 30.0
    assert r.offers(30.0) == [(1, 9)]  # the step ended exactly at 30 s


def test_r2_keep_last_keeps_the_last_requirement() -> None:
    steps = (Step(Requirement(min_skills=(("banca", 4),)), 30.0),)
    c = contact(1, 0.0, steps=steps)
    c.memberships[0].after_steps = "keep_last"
    r = Both([Q1])
    r.set_agent(agent(9, skills={"banca": 2}), 0.0)
    r.enqueue(c, 0.0)
    assert r.offers(1000.0) == []


def test_r2_a_requirement_can_name_the_agent() -> None:
    steps = (Step(Requirement(agent_ids=frozenset({8})), 30.0),)
    r = Both([Q1])
    r.set_agent(agent(9), 0.0)
    r.set_agent(agent(8, status="offline"), 0.0)
    r.enqueue(contact(1, 0.0, steps=steps), 0.0)
    r.set_agent(agent(8), 10.0)
    assert r.offers(10.0) == [(1, 8)]  # the customer's own manager first, though 9 idles longer


def test_r2_skip_unstaffed_steps_expire_at_once() -> None:
    """Step 1 wants the customer's manager (logged out), step 2 skill 4 for 60 s (nobody has it), then
    anyone: with skip_unstaffed_steps both expire on activation and the skill-2 agent gets it at once."""
    steps = (
        Step(Requirement(agent_ids=frozenset({8})), 30.0),
        Step(Requirement(min_skills=(("banca", 4),)), 60.0),
    )
    c = contact(1, 0.0, steps=steps)
    c.memberships[0].skip_unstaffed_steps = True
    r = Both([Q1])
    r.set_agent(agent(9, skills={"banca": 2}, capacity={"voice": 1}, status="offline"), 0.0)
    r.set_agent(agent(7, skills={"banca": 2}), 0.0)
    r.set_agent(agent(8, status="offline"), 0.0)
    r.enqueue(c, 0.0)
    assert r.offers(0.0) == [(1, 7)]
    r.accept(1, 7, 0.0)
    plain = contact(2, 0.0, steps=steps)
    r.enqueue(plain, 0.0)
    r.set_agent(agent(9, skills={"banca": 2}), 1.0)
    assert r.offers(89.0) == []  # without the flag the steps run their full 90 s
    assert r.offers(90.0) == [(2, 9)]


def test_r2_a_skipped_step_is_judged_when_it_starts() -> None:
    """Step 2 (skill 4) is judged at 30 s: the skill-4 agent logged in meanwhile, so it stays."""
    steps = (Step(Requirement(agent_ids=frozenset({8})), 30.0), Step(Requirement(min_skills=(("banca", 4),)), 60.0))
    c = contact(1, 0.0, steps=steps)
    c.memberships[0].skip_unstaffed_steps = True
    r = Both([Q1])
    r.set_agent(agent(8), 0.0)
    r.set_agent(agent(5, skills={"banca": 5}, status="offline"), 0.0)
    r.set_agent(agent(7, skills={"banca": 2}, capacity={"voice": 1}, idle_since=-1.0), 0.0)
    r.enqueue(contact(9, 0.0, steps=(Step(Requirement(agent_ids=frozenset({8})), None),)), 0.0)  # keeps 8 busy
    r.enqueue(c, 0.0)
    assert r.offers(0.0) == [(9, 8)]
    r.accept(9, 8, 1.0)
    r.set_agent(agent(5, skills={"banca": 5}, status="custom:descanso"), 10.0)  # staffed? no: custom status
    r.set_agent(agent(5, skills={"banca": 5}), 20.0)
    assert r.offers(30.0) == [(1, 5)]


# --- R3 -----------------------------------------------------------------------------------------


def test_r3_capacity_and_exclusive_voice() -> None:
    r = Both([Q1])
    r.set_agent(agent(9, capacity={"voice": 1, "chat": 3}, exclusive_channels=frozenset({"voice"})), 0.0)
    r.enqueue(contact(1, 0.0, channel="chat"), 0.0)
    r.accept(1, 9, 1.0)
    r.enqueue(contact(2, 2.0, channel="voice"), 2.0)  # voice is exclusive: not while a chat is open
    r.enqueue(contact(3, 3.0, channel="chat"), 3.0)
    assert r.offers(3.0) == [(1, 9), (3, 9)]
    r.accept(3, 9, 4.0)
    r.release(1, 5.0)
    r.release(3, 6.0)
    assert r.offers(6.0) == [(2, 9)]  # empty again: the call gets through
    r.accept(2, 9, 7.0)
    r.enqueue(contact(4, 8.0, channel="chat"), 8.0)
    assert r.offers(8.0) == []  # a call blocks chats


def test_r3_after_contact_work_blocks_offers() -> None:
    r = Both([Q1])
    r.set_agent(agent(9), 0.0)
    r.enqueue(contact(1, 0.0), 0.0)
    r.accept(1, 9, 1.0)
    r.release(1, 10.0, acw=True)
    r.enqueue(contact(2, 11.0), 11.0)
    assert r.offers(11.0) == [(1, 9)]
    r.end_acw(9, 40.0)
    assert r.offers(40.0) == [(2, 9)]
    assert r.fast.agents[9].idle_since == 40.0  # idle since the ACW ended


def test_r3_profile_delay_and_rank_behaviour_7() -> None:
    """tier1 and tier2 at rank 1, tier3 at rank 2 after 20 s: a tier3 contact reaches the agent only
    after ≥ 20 s and with no tier1 or tier2 contact waiting."""
    queues = [QueueConfig(id=q) for q in (1, 2, 3)]
    profile = {1: ProfileEntry(1), 2: ProfileEntry(1), 3: ProfileEntry(2, delay_s=20.0)}
    r = Both(queues)
    r.set_agent(agent(9, queues=profile), 0.0)
    r.enqueue(contact(1, 0.0, queue_id=3), 0.0)
    assert r.offers(19.0) == []
    assert r.offers(20.0) == [(1, 9)]
    r.accept(1, 9, 21.0)
    r.enqueue(contact(2, 22.0, queue_id=3), 22.0)
    r.enqueue(contact(3, 50.0, queue_id=2), 50.0)
    r.release(1, 60.0)
    assert r.offers(60.0) == [(3, 9)]  # rank beats age


def test_required_skills_make_an_agent_serve_a_queue() -> None:
    q = QueueConfig(id=1, required_skills=(("hipotecas", 3),))
    r = Both([q])
    r.set_agent(agent(8, queues={}, skills={"hipotecas": 2}), 0.0)
    r.set_agent(agent(9, queues={}, skills={"hipotecas": 3}, idle_since=5.0), 0.0)
    r.enqueue(contact(1, 0.0), 1.0)
    assert r.offers(1.0) == [(1, 9)]


def test_r8_maximum_occupancy_behaviour_13() -> None:
    """Routing occupancy = busy (offered, connected, ACW) / logged-in time, kept by the router from the
    login. Above max_occupancy the agent gets nothing; idle, it is back at the limit at login + busy / max
    (a wake-up), when the waiting contact reaches it."""
    r = Both([Q1])
    r.set_agent(agent(9, max_occupancy=0.5), 0.0)  # login at 0
    r.enqueue(contact(1, 0.0), 0.0)
    assert r.offers(0.0) == [(1, 9)]
    r.accept(1, 9, 10.0)
    r.release(1, 60.0, acw=True)
    r.end_acw(9, 80.0)  # busy 80 s of 80: occupancy 1.0
    assert occupancy_at(r.fast.agents[9], 80.0) == 1.0 and r.fast.agents[9].over_occupancy
    r.enqueue(contact(2, 90.0), 90.0)
    assert r.fast.next_wakeup() == 160.0  # 80 / 0.5
    assert r.offers(159.0) == []
    assert r.offers(160.0) == [(2, 9)]
    assert occupancy_at(r.fast.agents[9], 160.0) == 0.5


def test_r8_a_busy_chat_agent_reaches_the_limit_while_busy() -> None:
    """Busy, occupancy only rises: logged in at 0, chatting from 100, the agent reaches 0.5 at 200 and
    gets no further chat from then, though it has free slots; idle from 300 (busy 200 of 300), it is back
    at the limit at 200 / 0.5 = 400."""
    r = Both([Q1])
    r.set_agent(agent(9, capacity={"chat": 3}, max_occupancy=0.5), 0.0)
    r.enqueue(contact(1, 100.0, channel="chat"), 100.0)
    assert r.offers(100.0) == [(1, 9)]
    r.accept(1, 9, 100.0)
    assert r.fast.next_wakeup() == 200.0
    r.enqueue(contact(2, 150.0, channel="chat"), 150.0)
    assert r.offers(150.0) == [(2, 9)]  # 50 of 150: under the limit
    r.accept(2, 9, 150.0)
    r.enqueue(contact(3, 250.0, channel="chat"), 250.0)
    assert r.offers(250.0) == [] and r.fast.agents[9].over_occupancy
    r.release(1, 300.0)
    r.release(2, 300.0)
    assert r.offers(399.0) == []
    assert r.offers(400.0) == [(3, 9)]


def test_r8_acw_counts_as_idle_and_a_new_login_starts_again() -> None:
    r = Both([Q1])
    r.set_agent(agent(9, max_occupancy=0.5, acw_counts_as_idle=True), 0.0)
    r.enqueue(contact(1, 0.0), 0.0)
    r.offers(0.0)
    r.accept(1, 9, 0.0)
    r.release(1, 40.0, acw=True)
    r.end_acw(9, 100.0)  # busy 40 s of 100
    assert occupancy_at(r.fast.agents[9], 100.0) == 0.4 and not r.fast.agents[9].over_occupancy
    r.enqueue(contact(2, 100.0), 100.0)
    assert r.offers(100.0) == [(2, 9)]
    r.accept(2, 9, 100.0)
    r.release(2, 400.0)  # busy 340 of 400
    assert r.fast.agents[9].over_occupancy
    r.set_agent(agent(9, max_occupancy=0.5, status="offline"), 410.0)
    r.set_agent(agent(9, max_occupancy=0.5), 500.0)  # logs in again: occupancy starts from zero
    assert occupancy_at(r.fast.agents[9], 500.0) == 0.0 and not r.fast.agents[9].over_occupancy
    r.enqueue(contact(3, 500.0), 500.0)
    assert r.offers(500.0) == [(3, 9)]


# --- R4 -----------------------------------------------------------------------------------------


def _two_queue_backlog(selection: str, **q2: object) -> Both:
    queues = [QueueConfig(id=1, required_skills=(("a", 1),)), QueueConfig(id=2, required_skills=(("b", 1),), **q2)]  # type: ignore[arg-type]
    contacts = [contact(1, 0.0, priority=0, queue_id=1), contact(2, 10.0, priority=2, queue_id=2)]
    return waiting_then_agent(
        queues,
        contacts,
        agent(9, queues={1: ProfileEntry(1), 2: ProfileEntry(2)}, skills={"a": 2, "b": 5}, call_selection=selection),
        30.0,
    )


def test_r4_queue_rank_rank_beats_priority_and_age() -> None:
    assert first(_two_queue_backlog("queue_rank"), 30.0) == (1, 9)


def test_r4_greatest_need_highest_priority_first() -> None:
    assert first(_two_queue_backlog("greatest_need"), 30.0) == (2, 9)


def test_r4_skill_level_the_queue_where_the_agent_is_best() -> None:
    assert first(_two_queue_backlog("skill_level"), 30.0) == (2, 9)


def test_r4_service_objective_the_queue_furthest_behind() -> None:
    queues = [QueueConfig(id=1, sl_threshold_s=60.0), QueueConfig(id=2, sl_threshold_s=10.0)]
    contacts = [contact(1, 0.0, queue_id=1), contact(2, 15.0, queue_id=2)]
    a = agent(9, queues={1: ProfileEntry(), 2: ProfileEntry()}, call_selection="service_objective")
    r = waiting_then_agent(queues, contacts, a, 30.0)
    assert first(r, 30.0) == (2, 9)  # 15 s / 10 s behind beats 30 s / 60 s


# --- R5 -----------------------------------------------------------------------------------------


def _agent_surplus(queue: QueueConfig, agents: list[AgentState], cid: int = 1) -> tuple[int, int] | None:
    r = Both([queue])
    for a in agents:
        r.set_agent(a, 0.0)
    r.enqueue(contact(cid, 100.0), 100.0)
    return first(r, 100.0)


def test_r5_longest_idle_then_agent_id() -> None:
    assert _agent_surplus(Q1, [agent(9, idle_since=50.0), agent(8, idle_since=50.0), agent(7, idle_since=60.0)]) == (
        1,
        8,
    )


def test_r5_most_or_least_skilled_first() -> None:
    agents = [agent(7, skills={"banca": 5}, idle_since=60.0), agent(8, skills={"banca": 2}, idle_since=10.0)]
    most = QueueConfig(id=1, required_skills=(("banca", 1),), agent_selection="skill_then_longest_idle")
    least = QueueConfig(id=1, required_skills=(("banca", 1),), agent_selection="least_skill_then_longest_idle")
    assert _agent_surplus(most, agents) == (1, 7)
    assert _agent_surplus(least, agents) == (1, 8)  # keeps the expert free


def test_r5_occupancy_contacts_talk_time() -> None:
    def q(mode: str) -> QueueConfig:
        return QueueConfig(id=1, agent_selection=mode, required_skills=(("banca", 1),))

    agents = [  # logged in 100 s before, busy 100 s and 40 s: occupancy 0.5 and 0.2 at the arrival (t = 100)
        agent(7, skills={"banca": 5}, logged_in_since=-100.0, busy_s=100.0, talk_time_s=900.0, idle_since=10.0),
        agent(8, skills={"banca": 2}, logged_in_since=-100.0, busy_s=40.0, talk_time_s=100.0, idle_since=20.0),
    ]
    assert _agent_surplus(q("least_occupied"), agents) == (1, 8)
    assert _agent_surplus(q("skill_then_least_occupied"), agents) == (1, 7)
    assert _agent_surplus(q("least_talk_time"), agents) == (1, 8)
    chat = [
        agent(7, capacity={"chat": 3}, active={"chat": 2}),
        agent(8, capacity={"chat": 3}, active={"chat": 1}, idle_since=5.0),
    ]
    r = Both([QueueConfig(id=1, agent_selection="fewest_contacts")])
    for a in chat:
        r.set_agent(a, 0.0)
    r.enqueue(contact(1, 1.0, channel="chat"), 1.0)
    assert r.offers(1.0) == [(1, 8)]


def test_r5_least_occupied_reads_occupancy_now() -> None:
    """An idle agent's occupancy falls as time passes: 7 was busy 0–90 (1.0 when it went idle, 0.009 at
    10,000 s), 8 was busy 9,000–9,900 (0.09 then and at 10,000 s); the next contact goes to 7."""
    r = Both([QueueConfig(id=1, agent_selection="least_occupied")])
    r.set_agent(agent(7), 0.0)
    r.set_agent(agent(8), 0.0)
    r.enqueue(contact(1, 0.0), 0.0)
    assert r.offers(0.0) == [(1, 7)]  # both 0: longest idle, then agent id
    r.accept(1, 7, 0.0)
    r.release(1, 90.0)
    r.enqueue(contact(2, 9000.0), 9000.0)
    assert r.offers(9000.0) == [(2, 8)]  # 8 at 0, 7 at 0.01
    r.accept(2, 8, 9000.0)
    r.release(2, 9900.0)
    r.enqueue(contact(3, 10000.0), 10000.0)
    assert r.offers(10000.0) == [(3, 7)]


def test_r5_linear_random_order_by() -> None:
    agents = [
        agent(9, queues={1: ProfileEntry(rank=1)}, attributes={"seniority": 3}),
        agent(8, queues={1: ProfileEntry(rank=2)}),
        agent(7, queues={1: ProfileEntry(rank=1)}, attributes={"seniority": 7}),
    ]
    assert _agent_surplus(QueueConfig(id=1, agent_selection="linear"), agents) == (1, 7)
    by_seniority = QueueConfig(id=1, agent_selection="order_by", order_by=(("seniority", True),))
    assert _agent_surplus(by_seniority, agents) == (1, 7)
    ascending = QueueConfig(id=1, agent_selection="order_by", order_by=(("seniority", False),))
    assert _agent_surplus(ascending, agents) == (1, 9)  # agents lacking the attribute come last
    rnd = QueueConfig(id=1, agent_selection="random")
    for cid in range(1, 20):
        expected = min((7, 8, 9), key=lambda a: (mix(cid, a), a))
        assert _agent_surplus(rnd, agents, cid=cid) == (cid, expected)  # seeded by the contact


def test_r5_round_robin_goes_round() -> None:
    r = Both([QueueConfig(id=1, agent_selection="round_robin")])
    for aid in (3, 1, 2):
        r.set_agent(agent(aid, capacity={"chat": 5}), 0.0)
    picked = []
    for cid in range(1, 7):
        r.enqueue(contact(cid, float(cid), channel="chat"), float(cid))
        ((c, a),) = r.offers(float(cid))
        r.accept(c, a, float(cid))
        picked.append(a)
    assert picked == [1, 2, 3, 1, 2, 3]


def test_r5_ring_all_rings_everyone_and_the_first_accept_wins() -> None:
    r = Both([QueueConfig(id=1, agent_selection="ring_all")])
    for aid, idle in ((7, 5.0), (8, 1.0), (9, 3.0)):
        r.set_agent(agent(aid, idle_since=idle), 0.0)
    r.enqueue(contact(1, 10.0), 10.0)
    assert r.offers(10.0) == [(1, 8), (1, 9), (1, 7)]  # longest idle first
    r.reject(1, 9, 11.0)  # the others still ring
    assert r.fast.contacts[1].locked and r.fast.agents[9].missed
    r.accept(1, 7, 12.0)
    _, ended = r.step(12.0)
    assert [(e.offer.agent_id, e.result) for e in ended] == [(8, "withdrawn")]
    assert not r.fast.agents[8].offered and not r.fast.agents[8].missed


# --- R6 -----------------------------------------------------------------------------------------


def test_r6_timeout_marks_missed_and_keeps_the_place_behaviour_9() -> None:
    r = Both([Q1])
    r.set_agent(agent(7), 0.0)
    r.enqueue(contact(1, 0.0), 0.0)
    r.enqueue(contact(2, 5.0), 5.0)
    offers, _ = r.step(10.0)
    assert [(o.contact_id, o.agent_id, o.timeout_at) for o in offers] == [(1, 7, 20.0)]
    offers, ended = r.step(20.0)
    assert [(e.offer.contact_id, e.result) for e in ended] == [(1, "timeout")]
    assert offers == [] and r.fast.agents[7].missed
    r.set_agent(agent(7, status="custom:descanso"), 30.0)
    r.set_agent(agent(7), 31.0)
    assert r.offers(31.0) == [(1, 7)]  # still first: its original place


def test_r6_an_accept_that_beat_the_timeout_to_the_store_is_adopted() -> None:
    """The router timed the offer out (and offered the contact to the next agent) while the first agent's
    accept was on its way: the store took the accept, and the router adopts it as the store has it."""
    r = Both([Q1])
    r.set_agent(agent(7), 0.0)
    r.set_agent(agent(8, idle_since=1.0), 0.0)
    r.enqueue(contact(1, 0.0), 0.0)
    assert r.offers(0.0) == [(1, 7)]
    offers, ended = r.step(20.0)
    assert [(e.offer.agent_id, e.result) for e in ended] == [(7, "timeout")] and [o.agent_id for o in offers] == [8]
    r.adopt(1, 7, "voice", 20.5)
    assert r.fast.agents[7].active == {"voice": 1} and r.fast.handled_by[1] == 7
    assert 1 not in r.fast.contacts and r.fast.offers_of(1) == []
    _, ended = r.step(20.5)
    assert [(e.offer.agent_id, e.result) for e in ended] == [(8, "withdrawn")]  # the newer ring stops
    r.release(1, 60.0)
    assert r.fast.agents[7].active == {"voice": 0}
    with pytest.raises(RoutingError):
        r.fast.adopt(2, 99, "voice", 61.0)  # an agent the router does not know


def test_r6_an_offer_extended_for_an_accept_on_its_way_rings_until_then() -> None:
    """The agent's accept reached a server before the timeout: the router keeps the offer ringing (no
    timeout, no offer to the next agent) until the accept is applied, or until the extension runs out."""
    r = Both([Q1])
    r.set_agent(agent(7), 0.0)
    r.set_agent(agent(8, idle_since=1.0), 0.0)
    r.enqueue(contact(1, 0.0), 0.0)
    r.enqueue(contact(2, 0.5), 0.5)
    assert r.offers(0.0) == [(1, 7), (2, 8)]
    assert r.extend_offer(1, 7, 35.0).timeout_at == 35.0
    assert r.extend_offer(1, 7, 30.0) is None  # never shortened
    assert r.extend_offer(1, 99, 40.0) is None and r.extend_offer(5, 7, 40.0) is None  # no such offer
    _, ended = r.step(25.0)
    assert [(e.offer.contact_id, e.result) for e in ended] == [(2, "timeout")]  # only the other one
    assert r.fast.open_offer(1, 7) is not None and not r.fast.agents[7].missed
    r.accept(1, 7, 26.0)  # applied at last: answered
    assert r.fast.handled_by[1] == 7
    # an extension that runs out times the offer out then
    r.set_agent(agent(9), 30.0)
    assert r.offers(30.0) == [(2, 9)]
    r.extend_offer(2, 9, 60.0)
    _, ended = r.step(59.0)
    assert ended == []
    _, ended = r.step(60.0)
    assert [(e.offer.contact_id, e.result) for e in ended] == [(2, "timeout")]


def test_r6_a_missed_agent_makes_itself_ready() -> None:
    r = Both([Q1])
    r.set_agent(agent(7), 0.0)
    r.enqueue(contact(1, 0.0), 0.0)
    assert r.offers(0.0) == [(1, 7)]
    r.reject(1, 7, 1.0)
    assert r.fast.agents[7].missed and r.offers(5.0) == []
    r.make_ready(7, 6.0)
    assert r.offers(6.0) == [(1, 7)]


def test_r6_reject_and_max_missed_offers() -> None:
    r = Both([Q1])
    r.set_agent(agent(7, max_missed_offers=2, idle_since=0.0), 0.0)
    r.set_agent(agent(8, idle_since=5.0), 0.0)
    r.enqueue(contact(1, 10.0), 10.0)
    assert r.offers(10.0) == [(1, 7)]
    ended = r.reject(1, 7, 12.0)
    assert ended.result == "rejected" and not r.fast.agents[7].missed
    assert r.offers(12.0) == [(1, 8)]  # unlocked and offered on at once


def test_r6_an_agent_leaving_withdraws_its_offer() -> None:
    r = Both([Q1])
    r.set_agent(agent(7), 0.0)
    r.enqueue(contact(1, 1.0), 1.0)
    r.set_agent(agent(7, status="offline"), 2.0)
    _, ended = r.step(2.0)
    assert [(e.offer.agent_id, e.result) for e in ended] == [(7, "withdrawn")]
    assert not r.fast.agents[7].missed and 1 in r.fast.contacts and not r.fast.contacts[1].locked


# --- R7 -----------------------------------------------------------------------------------------


def test_r6_a_change_that_leaves_no_room_withdraws_the_offer() -> None:
    """Ringing, the agent's chat capacity is cut to 0 (or it leaves the queue): it could not take the
    contact any more, so the offer is withdrawn (not a miss) and the contact goes to the next agent."""
    r = Both([Q1])
    r.set_agent(agent(7, capacity={"chat": 1}), 0.0)
    r.set_agent(agent(8, capacity={"chat": 1}, idle_since=5.0), 0.0)
    r.enqueue(contact(1, 10.0, channel="chat"), 10.0)
    assert r.offers(10.0) == [(1, 7)]
    r.set_agent(agent(7, capacity={"chat": 0}), 11.0)
    made, ended = r.step(11.0)
    assert [(e.offer.agent_id, e.result) for e in ended] == [(7, "withdrawn")]
    assert [(o.contact_id, o.agent_id) for o in made] == [(1, 8)]
    assert r.fast.agents[7].missed_offers == 0
    r.set_agent(agent(8, capacity={"chat": 1}, queues={}), 12.0)  # 8 leaves the queue while ringing
    _, ended = r.step(12.0)
    assert [(e.offer.agent_id, e.result) for e in ended] == [(8, "withdrawn")] and 1 in r.fast.contacts


def test_r7_ewt_and_rolling_asa_behaviour_12() -> None:
    r = Both([Q1])
    assert r.ewt(1, 0.0) == math.inf  # nobody staffed
    r.set_agent(agent(7), 0.0)
    assert r.ewt(1, 0.0) == 0.0  # a free eligible agent
    r.enqueue(contact(1, 0.0), 0.0)
    r.enqueue(contact(2, 1.0), 1.0)
    r.enqueue(contact(3, 2.0, priority=5), 2.0)
    # 7 is offered contact 1; 2 and 3 wait; a new priority-0 contact has both ahead; 1 staffed agent
    assert r.ewt(1, 3.0) == 3 * 300.0
    assert r.ewt(1, 3.0, priority=5) == 2 * 300.0  # only contact 3 is ahead
    assert r.fast.rolling_asa_s[1] is None
    r.record_answer(1, 40.0)
    r.record_answer(1, 20.0)
    assert r.fast.rolling_asa_s[1] == 35.0
    r.record_handle(1, 500.0)
    assert r.fast.aht_s[1] == 350.0
    stats = r.stats(1, 3.0)
    assert (stats.waiting, stats.offered, stats.staffed, stats.busy, stats.oldest_wait_s) == (2, 1, 1, 1, 2.0)


# --- R9 -----------------------------------------------------------------------------------------


def test_r9_reserve_agent_only_while_overloaded_behaviour_10() -> None:
    q = QueueConfig(id=1, overload=Overload(metric="oldest_wait", level1_s=30.0, level2_s=90.0))
    r = Both([q, QueueConfig(id=2)])
    r.set_agent(agent(5, queues={2: ProfileEntry()}, reserve={1: 1}), 0.0)
    r.set_agent(agent(6, queues={2: ProfileEntry()}, reserve={1: 2}), 0.0)
    r.enqueue(contact(1, 0.0), 0.0)
    assert r.fast.next_wakeup() == 30.0
    assert r.offers(29.0) == []
    assert r.offers(30.0) == [(1, 5)]  # level 1: reserve-1 agents join
    r.accept(1, 5, 31.0)
    r.enqueue(contact(2, 31.0), 31.0)
    assert r.offers(120.9) == []  # level 1 from 61 s, but reserve 5 is busy
    assert r.offers(121.0) == [(2, 6)]  # 90 s: level 2, reserve-2 agents join
    assert r.fast.levels[1] == 0  # the level is read again after the offer: the queue is empty


def test_r9_and_r3_thresholds_hold_at_the_instant_of_their_wake_up() -> None:
    """14.9 + 5.0 - 14.9 rounds below 5.0: the level and the profile delay are judged as instants
    (enqueue + threshold <= now), the sums their wake-ups are scheduled at, so a step to exactly that
    instant raises the level and opens the delay (the indexed router settles only then)."""
    q = QueueConfig(id=1, overload=Overload(metric="oldest_wait", level1_s=5.0, level2_s=40.0))
    r = Both([q, QueueConfig(id=2)])
    r.step(14.9)
    r.enqueue(contact(1, 14.9), 14.9)
    r.enqueue(contact(2, 14.9, queue_id=2), 14.9)
    r.set_agent(agent(5, queues={2: ProfileEntry(delay_s=5.0)}, idle_since=14.9), 14.9)
    assert r.fast.next_wakeup() == 14.9 + 5.0
    assert r.offers(14.9 + 5.0) == [(2, 5)]
    assert r.fast.levels[1] == 1


def test_r9_two_levels_rising_at_one_instant_are_both_read_at_the_first_settle() -> None:
    """Queues 3 and 4 both reach level 1 at t = 5. Queue 3's wake-up settles first, and queue 4's level
    has risen by then too: contact 1 (waiting in 3 and 4) reaches the queue-4 reserve at that settle,
    though contact 2 is ahead of it in queue 4 (R1 per queue; the first queue to rise offers first)."""
    overload = Overload(metric="oldest_wait", level1_s=5.0, level2_s=40.0)
    r = Both(
        [
            QueueConfig(id=1),
            QueueConfig(id=2),
            QueueConfig(id=3, overload=overload),
            QueueConfig(id=4, overload=overload),
        ]
    )
    r.enqueue(WaitingContact(1, "voice", 1, [Membership(q, 0.0) for q in (1, 3, 4)]), 0.0)
    r.enqueue(WaitingContact(2, "voice", 2, [Membership(q, 0.0, age_adjust_s=30.0) for q in (4, 1, 2)]), 0.0)
    r.set_agent(agent(1, queues={}, reserve={2: 1, 4: 1}), 0.0)
    assert r.offers(5.0) == [(1, 1)]


def test_r9_ewt_metric_and_back_to_zero() -> None:
    q = QueueConfig(id=1, default_aht_s=100.0, overload=Overload(metric="ewt", level1_s=150.0, level2_s=1000.0))
    r = Both([q])
    r.set_agent(agent(4), 0.0)  # staffed by profile
    r.set_agent(agent(5, queues={}, reserve={1: 1}), 0.0)
    r.enqueue(contact(1, 0.0), 0.0)  # offered to 4 at once
    r.enqueue(contact(2, 1.0), 1.0)  # 1 waiting: (1 + 1) × 100 / 1 = 200 ≥ 150 → level 1 → reserve 5 takes it
    assert r.offers(1.0) == [(1, 4), (2, 5)]
    assert r.fast.levels[1] == 0  # read again after the offer it led to: nobody waits any more
    r.enqueue(contact(3, 2.0), 2.0)
    r.accept(1, 4, 3.0)
    r.accept(2, 5, 3.0)
    assert r.fast.levels[1] == 1  # contact 3 waits: (1 + 1) × 100 / 1
    r.release(2, 4.0)
    assert r.offers(4.0) == [(3, 5)]  # the reserve, free again, takes it while the level is 1
    r.enqueue(contact(4, 5.0), 5.0)
    r.release(1, 6.0)
    assert r.offers(6.0) == [(4, 4)]
    assert r.fast.levels[1] == 0  # nobody waits: (0 + 1) × 100 / 1 < 150


# --- R10 ----------------------------------------------------------------------------------------


def test_r10_overflow_after_a_wait_keeps_the_age() -> None:
    queues = [QueueConfig(id=1, overflow=Overflow(queue_id=2, after_s=60.0)), QueueConfig(id=2)]
    r = Both(queues)
    r.set_agent(agent(8, queues={2: ProfileEntry()}, status="offline"), 0.0)
    r.enqueue(contact(1, 0.0, queue_id=1), 0.0)
    r.enqueue(contact(2, 30.0, queue_id=2), 30.0)
    assert r.fast.next_wakeup() == 60.0
    r.step(60.0)
    assert [m.queue_id for m in r.fast.contacts[1].memberships] == [1, 2]  # added, still in 1
    moved = r.take_overflows()
    assert [(o.contact_id, o.from_queue, o.to_queue, o.mode, o.at) for o in moved] == [(1, 1, 2, "add", 60.0)]
    r.set_agent(agent(8, queues={2: ProfileEntry()}), 70.0)
    assert r.offers(70.0) == [(1, 8)]  # ordered by its original age: ahead of contact 2


def test_r10_overflow_move_and_when_unstaffed() -> None:
    queues = [QueueConfig(id=1, overflow=Overflow(queue_id=2, when_unstaffed=True, mode="move")), QueueConfig(id=2)]
    r = Both(queues)
    r.set_agent(agent(8, queues={2: ProfileEntry()}), 0.0)
    r.enqueue(contact(1, 5.0, queue_id=1), 5.0)  # queue 1 has nobody: moves to 2 at once
    assert r.offers(5.0) == [(1, 8)]
    assert [m.queue_id for m in r.fast.contacts[1].memberships] == [2]


def test_r10_an_overflow_cycle_stops() -> None:
    """Two unstaffed queues that move contacts to each other: the contact moves once and stays."""
    queues = [
        QueueConfig(id=1, overflow=Overflow(queue_id=2, when_unstaffed=True, mode="move")),
        QueueConfig(id=2, overflow=Overflow(queue_id=1, when_unstaffed=True, mode="move")),
    ]
    r = Both(queues)
    r.enqueue(contact(1, 0.0, queue_id=1), 0.0)
    assert [m.queue_id for m in r.fast.contacts[1].memberships] == [2]
    r.step(10.0)
    assert [m.queue_id for m in r.fast.contacts[1].memberships] == [2]


def test_r10_three_queues_at_most() -> None:
    r = Both([QueueConfig(id=q) for q in (1, 2, 3, 4)])
    from centralita.routing.engine import RoutingError

    with pytest.raises(RoutingError):
        r.fast.enqueue(contact(1, 0.0, queues=(1, 2, 3, 4)), 0.0)
    r.enqueue(contact(1, 0.0, queues=(1, 2, 3)), 0.0)
    assert r.fast.position(1, 3) == 1


def test_one_offer_per_contact_and_per_agent() -> None:
    r = Both([QueueConfig(id=1), QueueConfig(id=2)])
    r.enqueue(contact(1, 0.0, queues=(1, 2)), 0.0)
    r.enqueue(contact(2, 1.0, queue_id=2), 1.0)
    r.set_agent(agent(7, queues={1: ProfileEntry(), 2: ProfileEntry()}), 2.0)
    r.set_agent(agent(8, queues={2: ProfileEntry()}), 2.0)
    assert r.offers(2.0) == [(1, 7), (2, 8)]

"""Routing rules, one test each (flows-and-routing.md §6.2 and the behaviours of §7), on the reference router."""

from __future__ import annotations

from centralita.routing.model import (
    AgentState,
    Membership,
    ProfileEntry,
    QueueConfig,
    Requirement,
    Step,
    WaitingContact,
)
from centralita.routing.reference import decide

Q1 = QueueConfig(id=1)


def agent(
    aid: int, *, queues: dict[int, ProfileEntry] | None = None, idle_since: float = 0.0, **kw: object
) -> AgentState:
    return AgentState(
        id=aid, profile=queues if queues is not None else {1: ProfileEntry()}, idle_since=idle_since, **kw
    )  # type: ignore[arg-type]


def contact(
    cid: int,
    enqueue_ts: float,
    priority: int = 0,
    queue_id: int = 1,
    channel: str = "voice",
    steps: tuple[Step, ...] = (),
    seq: int | None = None,
) -> WaitingContact:
    return WaitingContact(
        id=cid,
        channel=channel,
        arrival_seq=seq if seq is not None else cid,
        memberships=[Membership(queue_id, enqueue_ts, priority, steps=steps)],
    )


def first_offer(
    queues: dict[int, QueueConfig], agents: list[AgentState], contacts: list[WaitingContact], now: float
) -> tuple[int, int] | None:
    offers = decide(queues, agents, contacts, now)
    return (offers[0].contact_id, offers[0].agent_id) if offers else None


def test_r1_strict_priority_beats_age_then_fifo() -> None:
    contacts = [contact(1, 0.0, priority=1), contact(2, 50.0, priority=3), contact(3, 10.0, priority=1)]
    assert first_offer({1: Q1}, [agent(7)], contacts, 60.0) == (2, 7)  # later priority-3 beats earlier 1
    assert first_offer({1: Q1}, [agent(7)], contacts[::2], 60.0) == (1, 7)  # FIFO within a priority


def test_r1_aged_a_point_buys_sixty_seconds() -> None:
    aged = {1: QueueConfig(id=1, priority_mode="aged", aging_s_per_point=60)}
    low_old = contact(1, 0.0, priority=1)  # waited 181 s
    high_new = contact(2, 181.0, priority=4)  # waited 0 s
    assert first_offer(aged, [agent(7)], [low_old, high_new], 181.0) == (1, 7)  # 181 > 3 × 60
    high_newer = contact(3, 179.0, priority=4)
    assert first_offer(aged, [agent(7)], [low_old, high_newer], 181.0) == (3, 7)


def test_r2_steps_widen_the_pool_and_keep_the_place() -> None:
    steps = (Step(Requirement(min_skills=(("banca", 4),)), 30.0),)
    c = contact(1, 0.0, steps=steps)
    novice = agent(7, skills={"banca": 2})
    assert first_offer({1: Q1}, [novice], [c], 29.9) is None
    assert first_offer({1: Q1}, [novice], [c], 30.0) == (1, 7)  # after the last step: any agent
    expert = agent(8, skills={"banca": 4}, idle_since=5.0)
    assert first_offer({1: Q1}, [novice, expert], [c], 10.0) == (1, 8)


def test_profile_delay_and_rank_behaviour_7() -> None:
    queues = {1: QueueConfig(id=1), 2: QueueConfig(id=2), 3: QueueConfig(id=3)}
    a = agent(7, queues={1: ProfileEntry(1), 2: ProfileEntry(1), 3: ProfileEntry(2, delay_s=20)})
    tier3 = contact(1, 0.0, queue_id=3)
    assert first_offer(queues, [a], [tier3], 19.0) is None
    assert first_offer(queues, [a], [tier3], 20.0) == (1, 7)
    tier1 = contact(2, 15.0, queue_id=1)
    assert first_offer(queues, [a], [tier3, tier1], 25.0) == (2, 7)  # tier1 waiting goes first


def test_required_skills_make_an_agent_serve_a_queue() -> None:
    q = {1: QueueConfig(id=1, required_skills=(("cobros", 3),))}
    assert first_offer(q, [agent(7, queues={}, skills={"cobros": 2})], [contact(1, 0.0)], 5.0) is None
    assert first_offer(q, [agent(7, queues={}, skills={"cobros": 3})], [contact(1, 0.0)], 5.0) == (1, 7)


def test_r5_longest_idle_then_agent_id() -> None:
    agents = [agent(9, idle_since=10.0), agent(8, idle_since=5.0), agent(7, idle_since=5.0)]
    assert first_offer({1: Q1}, agents, [contact(1, 0.0)], 20.0) == (1, 7)


def test_r5_most_or_least_skilled_first() -> None:
    agents = [agent(7, skills={"banca": 5}, idle_since=9.0), agent(8, skills={"banca": 2}, idle_since=1.0)]
    most = {1: QueueConfig(id=1, required_skills=(("banca", 1),), agent_selection="skill_then_longest_idle")}
    least = {1: QueueConfig(id=1, required_skills=(("banca", 1),), agent_selection="least_skill_then_longest_idle")}
    assert first_offer(most, agents, [contact(1, 0.0)], 20.0) == (1, 7)
    assert first_offer(least, agents, [contact(1, 0.0)], 20.0) == (1, 8)  # keeps the expert free


def test_r3_capacity_and_exclusive_voice() -> None:
    chatty = agent(7, capacity={"voice": 1, "chat": 3}, active={"chat": 3})
    assert first_offer({1: Q1}, [chatty], [contact(1, 0.0, channel="chat")], 1.0) is None  # 3 chats: full
    chatty.active = {"chat": 2}
    assert first_offer({1: Q1}, [chatty], [contact(1, 0.0, channel="chat")], 1.0) == (1, 7)
    on_call = agent(8, capacity={"voice": 1, "chat": 3}, active={"voice": 1}, exclusive_channels=frozenset({"voice"}))
    assert first_offer({1: Q1}, [on_call], [contact(1, 0.0, channel="chat")], 1.0) is None  # a call blocks chats
    chatting = agent(9, capacity={"voice": 1, "chat": 3}, active={"chat": 1}, exclusive_channels=frozenset({"voice"}))
    assert first_offer({1: Q1}, [chatting], [contact(1, 0.0, channel="voice")], 1.0) is None


def test_r8_maximum_occupancy_behaviour_13() -> None:
    busy = agent(7, occupancy=0.9, max_occupancy=0.85)
    assert first_offer({1: Q1}, [busy], [contact(1, 0.0)], 1.0) is None
    busy.occupancy = 0.85  # back at the limit
    assert first_offer({1: Q1}, [busy], [contact(1, 0.0)], 1.0) == (1, 7)


def test_offer_never_goes_to_unavailable_offered_or_missed_agents() -> None:
    agents = [
        agent(7, status="offline"),
        agent(8, offered=True),
        agent(9, missed=True),
        agent(10, status="custom:descanso"),
    ]
    assert first_offer({1: Q1}, agents, [contact(1, 0.0)], 1.0) is None


def test_one_offer_per_contact_and_per_agent_in_a_round() -> None:
    contacts = [contact(1, 0.0), contact(2, 1.0), contact(3, 2.0)]
    offers = decide({1: Q1}, [agent(7), agent(8, idle_since=1.0)], contacts, 5.0)
    assert [(o.contact_id, o.agent_id) for o in offers] == [(1, 7), (2, 8)]
    assert offers[0].timeout_at == 25.0  # default 20 s offer timeout
    contacts[0].locked = True  # being offered elsewhere
    assert [o.contact_id for o in decide({1: Q1}, [agent(7)], contacts, 5.0)] == [2]

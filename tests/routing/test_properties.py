"""Properties of one routing round over random snapshots (hypothesis)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from centralita.routing.model import AgentState, Membership, ProfileEntry, QueueConfig, WaitingContact
from centralita.routing.reference import decide
from centralita.routing.rules import eligible, has_free_slot

QUEUES = {q: QueueConfig(id=q) for q in (1, 2, 3)}
CHANNELS = ("voice", "chat")


@st.composite
def snapshots(draw: st.DrawFn) -> tuple[list[AgentState], list[WaitingContact]]:
    agents = []
    for aid in range(draw(st.integers(0, 6))):
        queues = draw(st.sets(st.sampled_from((1, 2, 3)), max_size=3))
        agents.append(
            AgentState(
                id=aid,
                status=draw(st.sampled_from(("available", "available", "offline"))),
                profile={q: ProfileEntry() for q in queues},
                capacity={"voice": 1, "chat": draw(st.integers(1, 3))},
                active={"chat": draw(st.integers(0, 2))},
                idle_since=draw(st.floats(0, 100)),
            )
        )
    contacts = []
    for cid in range(draw(st.integers(0, 10))):
        queues = draw(st.lists(st.sampled_from((1, 2, 3)), min_size=1, max_size=3, unique=True))
        contacts.append(
            WaitingContact(
                id=cid,
                channel=draw(st.sampled_from(CHANNELS)),
                arrival_seq=cid,
                memberships=[Membership(q, draw(st.floats(0, 100)), draw(st.integers(0, 3))) for q in queues],
            )
        )
    return agents, contacts


@settings(max_examples=300, deadline=None)
@given(snapshots())
def test_round_properties(snapshot: tuple[list[AgentState], list[WaitingContact]]) -> None:
    agents, contacts = snapshot
    now = 200.0
    offers = decide(QUEUES, agents, contacts, now)
    by_agent = {a.id: a for a in agents}
    by_contact = {c.id: c for c in contacts}
    # never two offers for one contact, nor for one agent
    assert len({o.contact_id for o in offers}) == len(offers)
    assert len({o.agent_id for o in offers}) == len(offers)
    for o in offers:
        a, c = by_agent[o.agent_id], by_contact[o.contact_id]
        m = next(m for m in c.memberships if m.queue_id == o.queue_id)
        assert eligible(a, QUEUES[o.queue_id], c, m, now)  # so never above capacity
        assert has_free_slot(a, c.channel)
    # no waiting contact starves while an eligible agent stays idle
    taken_agents = {o.agent_id for o in offers}
    taken_contacts = {o.contact_id for o in offers}
    for c in contacts:
        if c.id in taken_contacts:
            continue
        for a in agents:
            if a.id in taken_agents:
                continue
            assert not any(eligible(a, QUEUES[m.queue_id], c, m, now) for m in c.memberships)

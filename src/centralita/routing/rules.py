"""The routing rules as pure functions (R1 ordering, R2 steps, R3 eligibility, R5 agent selection)."""

from __future__ import annotations

from centralita.routing.model import ANY_AGENT, AgentState, Membership, QueueConfig, Requirement, WaitingContact

AGENT_SELECTIONS = (
    "longest_idle",
    "skill_then_longest_idle",
    "least_skill_then_longest_idle",
    "least_occupied",
    "fewest_contacts",
)


def order_key(queue: QueueConfig, m: Membership, arrival_seq: int) -> tuple[float, ...]:
    """R1: ascending key = served first. `strict`: priority, then age; `aged`: a point buys aging_s."""
    effective = m.enqueue_ts - m.age_adjust_s
    if queue.priority_mode == "aged":
        return (effective - m.priority * queue.aging_s_per_point, arrival_seq)
    return (-m.priority, effective, arrival_seq)


def active_requirement(m: Membership, now: float) -> Requirement:
    """R2: the step active at the contact's age in this queue; widening never moves the contact."""
    age = now - m.enqueue_ts
    elapsed = 0.0
    for step in m.steps:
        if step.duration_s is None:
            return step.requirement
        elapsed += step.duration_s
        if age < elapsed:
            return step.requirement
    if m.steps and m.after_steps == "keep_last":
        return m.steps[-1].requirement
    return ANY_AGENT


def next_step_boundary(m: Membership, now: float) -> float | None:
    """The instant the active step ends (a wake-up), or None."""
    boundary = m.enqueue_ts
    for step in m.steps:
        if step.duration_s is None:
            return None
        boundary += step.duration_s
        if boundary > now:
            return boundary
    return None


def has_free_slot(agent: AgentState, channel: str) -> bool:
    """R3.1, the channel part: a free slot, no contact on an exclusive channel, and an exclusive-channel
    contact only to an agent with nothing else."""
    if agent.active.get(channel, 0) >= agent.capacity.get(channel, 0):
        return False
    busy = {c for c, n in agent.active.items() if n > 0}
    if busy & agent.exclusive_channels:
        return False
    return not (channel in agent.exclusive_channels and busy)


def serves(agent: AgentState, queue: QueueConfig, m: Membership, now: float) -> bool:
    """R3.3 (without reserves): by profile once the delay has passed, or by the queue's required skills."""
    entry = agent.profile.get(queue.id)
    if entry is not None:
        return now - m.enqueue_ts >= entry.delay_s
    if queue.required_skills:
        return all(agent.skills.get(s, 0) >= lvl for s, lvl in queue.required_skills)
    return False


def eligible(agent: AgentState, queue: QueueConfig, contact: WaitingContact, m: Membership, now: float) -> bool:
    """R3: may `agent` get `contact` from `queue` now?"""
    if agent.status != "available" or agent.offered or agent.missed:
        return False
    if not has_free_slot(agent, contact.channel):
        return False
    if agent.max_occupancy is not None and agent.occupancy > agent.max_occupancy:
        return False
    if not serves(agent, queue, m, now):
        return False
    return active_requirement(m, now).allows(agent)


def pick_agent(queue: QueueConfig, candidates: list[AgentState]) -> AgentState:
    """R5 agent surplus; final tie-break: agent id."""
    mode = queue.agent_selection
    first_skill = queue.required_skills[0][0] if queue.required_skills else None
    if mode in ("skill_then_longest_idle", "least_skill_then_longest_idle") and first_skill is not None:
        sign = -1 if mode == "skill_then_longest_idle" else 1
        return min(candidates, key=lambda a: (sign * a.skills.get(first_skill, 0), a.idle_since, a.id))
    if mode == "least_occupied":
        return min(candidates, key=lambda a: (a.occupancy, a.idle_since, a.id))
    if mode == "fewest_contacts":
        return min(candidates, key=lambda a: (sum(a.active.values()), a.idle_since, a.id))
    return min(candidates, key=lambda a: (a.idle_since, a.id))  # longest_idle

"""The routing rules as pure functions (flows-and-routing.md §6.2): R1 ordering, R2 steps, R3
eligibility, R4 contact choice, R5 agent choice, R9 overload levels. Both routers call these, so a
rule lives in exactly one place."""

from __future__ import annotations

import math

from centralita.routing.model import (
    ANY_AGENT,
    AgentState,
    Membership,
    Overload,
    ProfileEntry,
    QueueConfig,
    Requirement,
    WaitingContact,
)

__all__ = ["AGENT_SELECTIONS", "CALL_SELECTIONS"]

AGENT_SELECTIONS = (
    "longest_idle",
    "skill_then_longest_idle",
    "least_skill_then_longest_idle",
    "least_occupied",
    "skill_then_least_occupied",
    "fewest_contacts",
    "least_talk_time",
    "round_robin",
    "linear",
    "random",
    "ring_all",
    "order_by",
)
CALL_SELECTIONS = ("queue_rank", "greatest_need", "skill_level", "service_objective")
RESERVE_RANK = 100  # a queue served only as a reserve ranks after every profile rank (R4 queue_rank)
SKILL_SERVED = ProfileEntry(rank=1, delay_s=0.0)  # holding a queue's required skills: rank 1, no delay


def order_key(queue: QueueConfig, m: Membership, arrival_seq: int) -> tuple[float, ...]:
    """R1: ascending key = served first. `strict`: priority, then age; `aged`: a point buys aging_s."""
    effective = m.enqueue_ts - m.age_adjust_s
    if queue.priority_mode == "aged":
        return (effective - m.priority * queue.aging_s_per_point, arrival_seq)
    return (-m.priority, effective, arrival_seq)


def _schedule(m: Membership) -> tuple[int, float]:
    return m.step_index, m.enqueue_ts if m.step_started is None else m.step_started


def active_step(m: Membership, now: float) -> tuple[int, float]:
    """R2: the index of the step active at `now` (len(steps) once past the last finite one) and when it
    started. Steps run back to back from the enqueue time, or from the last skipped step."""
    index, start = _schedule(m)
    while index < len(m.steps):
        duration = m.steps[index].duration_s
        if duration is None or now < start + duration:
            break
        start += duration
        index += 1
    return index, start


def active_requirement(m: Membership, now: float) -> Requirement:
    """R2: the step active at the contact's age in this queue; widening never moves the contact."""
    if not m.steps:
        return ANY_AGENT
    index, _ = active_step(m, now)
    if index < len(m.steps):
        return m.steps[index].requirement
    return m.steps[-1].requirement if m.after_steps == "keep_last" else ANY_AGENT


def step_boundaries(m: Membership) -> list[float]:
    """The instants a step ends (wake-ups, R13)."""
    out: list[float] = []
    index, t = _schedule(m)
    for step in m.steps[index:]:
        if step.duration_s is None:
            break
        t += step.duration_s
        out.append(t)
    return out


def skip_unstaffed(m: Membership, now: float, staffed: list[AgentState]) -> bool:
    """R2 `skip_unstaffed_steps`: from the step active at `now`, every step no staffed agent meets
    expires at once (the next one starts now). True if the schedule moved."""
    if not m.skip_unstaffed_steps or not m.steps:
        return False
    index, start = active_step(m, now)
    moved = False
    while index < len(m.steps) and not any(m.steps[index].requirement.allows(a) for a in staffed):
        index, start, moved = index + 1, now, True
    if moved:
        m.step_index, m.step_started = index, start
    return moved


def has_free_slot(agent: AgentState, channel: str) -> bool:
    """R3.1, the channel part: a free slot, no contact on an exclusive channel, and an exclusive-channel
    contact only to an agent with nothing else."""
    if agent.active.get(channel, 0) >= agent.capacity.get(channel, 0):
        return False
    if not agent.exclusive_channels:
        return True
    busy = {c for c, n in agent.active.items() if n > 0}
    if busy & agent.exclusive_channels:
        return False
    return not (channel in agent.exclusive_channels and busy)


def routable(agent: AgentState) -> bool:
    """R3.1 and R3.2 without the channel: available, not offered, in ACW or missed, under max occupancy."""
    if agent.status != "available" or agent.offered or agent.missed or agent.acw > 0:
        return False
    return not agent.over_occupancy


def busy(agent: AgentState) -> bool:
    """R8: time that counts towards routing occupancy: offered, connected or on hold, or in ACW (unless
    `acw_counts_as_idle`)."""
    if agent.offered or any(n > 0 for n in agent.active.values()):
        return True
    return agent.acw > 0 and not agent.acw_counts_as_idle


OCCUPANCY_TOLERANCE_S = 1e-6  # busy time is a sum of differences: a rounding step is not a breach


def occupancy_at(agent: AgentState, now: float) -> float:
    """R8 routing occupancy at `now`: busy time (up to `busy_mark`, plus since then if busy) over the time
    logged in; 0 before any logged-in time."""
    if agent.logged_in_since is None or now <= agent.logged_in_since:
        return 0.0
    busy_s = agent.busy_s + (now - agent.busy_mark if busy(agent) else 0.0)
    return busy_s / (now - agent.logged_in_since)


def occupancy_state(agent: AgentState, now: float) -> tuple[bool, float | None]:
    """R8 after a change of the agent (its busy time brought up to `now`): (above max_occupancy, the
    instant that flips by time alone). Idle, occupancy busy / (t - login) only falls: the agent is back at
    the limit at login + busy / max. Busy, it only rises: it reaches the limit when busy + (t - now) =
    max × (t - login), at t = (now - busy - max × login) / (1 - max) (never, with max 1). Both judged as
    instants, the sums the wake-ups are scheduled at."""
    cap = agent.max_occupancy
    login = agent.logged_in_since
    if cap is None or cap <= 0 or login is None:
        return False, None
    if busy(agent):
        if cap >= 1:
            return False, None
        reach = (now - agent.busy_s - cap * login) / (1 - cap)
        return (True, None) if reach <= now + OCCUPANCY_TOLERANCE_S else (False, reach)
    back = login + agent.busy_s / cap
    return (True, back) if back > now + OCCUPANCY_TOLERANCE_S else (False, None)


def holds_skills(agent: AgentState, required: tuple[tuple[str, int], ...]) -> bool:
    return bool(required) and all(agent.skills.get(s, 0) >= lvl for s, lvl in required)


def staffs(agent: AgentState, queue: QueueConfig) -> bool:
    """Serves q by profile or required skills (reserves aside) and is online, not in a custom status."""
    return agent.status == "available" and (queue.id in agent.profile or holds_skills(agent, queue.required_skills))


def serving_entry(agent: AgentState, queue: QueueConfig, level: int) -> ProfileEntry | None:
    """R3.3: how the agent serves q now: its profile entry, the required skills (rank 1, no delay), or a
    reserve level ≤ q's overload level (rank after all profile ranks). None: it does not serve q."""
    entry = agent.profile.get(queue.id)
    if entry is not None:
        return entry
    if holds_skills(agent, queue.required_skills):
        return SKILL_SERVED
    reserve = agent.reserve.get(queue.id)
    if reserve is not None and level > 0 and reserve <= level:
        return ProfileEntry(rank=RESERVE_RANK)
    return None


def eligible(
    agent: AgentState, queue: QueueConfig, contact: WaitingContact, m: Membership, now: float, level: int = 0
) -> bool:
    """R3: may `agent` get `contact` from `queue` now? `level` is q's overload level (R9)."""
    if not routable(agent) or not has_free_slot(agent, contact.channel):
        return False
    entry = serving_entry(agent, queue, level)
    if entry is None or now < m.enqueue_ts + entry.delay_s:  # the sum the wake-up is scheduled at
        return False
    return active_requirement(m, now).allows(agent)


def first_skill_level(agent: AgentState, queue: QueueConfig) -> int:
    return agent.skills.get(queue.required_skills[0][0], 0) if queue.required_skills else 0


def mix(contact_id: int, agent_id: int) -> int:
    """`random` agent selection, seeded by the contact: a 64-bit hash of (contact, agent)."""
    x = (contact_id * 0x9E3779B97F4A7C15 + agent_id) & 0xFFFFFFFFFFFFFFFF
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return x ^ (x >> 31)


def agent_key(queue: QueueConfig, agent: AgentState, rank: int, now: float | None = None) -> tuple[float, ...]:
    """R5 for every selection that does not depend on the contact or on earlier picks: ascending key =
    chosen first; the final tie-break is the agent id. `random` and `round_robin` are in `pick_agent`."""
    mode = queue.agent_selection
    if mode in ("skill_then_longest_idle", "least_skill_then_longest_idle", "skill_then_least_occupied"):
        if queue.required_skills:
            level = first_skill_level(agent, queue)
            if mode == "skill_then_least_occupied":
                return (-level, _occupancy(agent, now), agent.idle_since, agent.id)
            sign = -1 if mode == "skill_then_longest_idle" else 1
            return (sign * level, agent.idle_since, agent.id)
    elif mode == "least_occupied":
        return (_occupancy(agent, now), agent.idle_since, agent.id)
    elif mode == "fewest_contacts":
        return (sum(agent.active.values()), agent.idle_since, agent.id)
    elif mode == "least_talk_time":
        return (agent.talk_time_s, agent.idle_since, agent.id)
    elif mode == "linear":
        return (rank, agent.id)
    elif mode == "order_by":
        key: list[float] = []
        for attr, descending in queue.order_by:
            value = agent.attributes.get(attr)
            key += [1, 0] if value is None else [0, -value if descending else value]  # lacking it: last
        return (*key, agent.id)
    return (agent.idle_since, agent.id)  # longest_idle; ring_all orders its offers the same way


def _occupancy(agent: AgentState, now: float | None) -> float:
    return occupancy_at(agent, agent.busy_mark if now is None else now)


def round_robin_key(agent_id: int, last: int | None) -> tuple[int, int]:
    """`round_robin`: the next agent id after the last one picked in this queue, wrapping round."""
    return (0 if last is None or agent_id > last else 1, agent_id)


def pick_agent(
    queue: QueueConfig,
    contact: WaitingContact,
    candidates: list[tuple[AgentState, ProfileEntry]],
    last_picked: int | None = None,
    now: float | None = None,
) -> AgentState:
    """R5 agent surplus among eligible (agent, serving entry) pairs. The agent who let this contact's
    last offer go is tried last (R6)."""
    others = [c for c in candidates if c[0].id != contact.last_missed_by]
    candidates = others or candidates
    mode = queue.agent_selection
    if mode == "random":
        return min(candidates, key=lambda c: (mix(contact.id, c[0].id), c[0].id))[0]
    if mode == "round_robin":
        return min(candidates, key=lambda c: round_robin_key(c[0].id, last_picked))[0]
    return min(candidates, key=lambda c: agent_key(queue, c[0], c[1].rank, now))[0]


def contact_choice_key(
    agent: AgentState,
    queue: QueueConfig,
    contact: WaitingContact,
    m: Membership,
    rank: int,
    now: float,
) -> tuple[float, ...]:
    """R4 contact surplus: among the first eligible contact of each queue the agent serves, the one with
    the smallest key wins, by the agent's `call_selection`; the final tie-break is the queue id."""
    effective = m.enqueue_ts - m.age_adjust_s  # earlier = older
    mode = agent.call_selection
    if mode == "greatest_need":
        return (-m.priority, effective, contact.arrival_seq, queue.id)
    if mode == "skill_level":
        return (-first_skill_level(agent, queue), -m.priority, effective, contact.arrival_seq, queue.id)
    if mode == "service_objective":
        behind = (now - effective) / queue.sl_threshold_s if queue.sl_threshold_s > 0 else math.inf
        return (-m.priority, -behind, contact.arrival_seq, queue.id)
    return (rank, effective, contact.arrival_seq, queue.id)  # queue_rank


def overload_level(overload: Overload, value: float) -> int:
    """R9: 0 below level1_s, 1 from level1_s, 2 from level2_s."""
    if value >= overload.level2_s:
        return 2
    return 1 if value >= overload.level1_s else 0


def wait_level(overload: Overload, oldest: float | None, now: float) -> int:
    """R9 by `oldest_wait`: the level once the oldest contact, enqueued at `oldest`, has waited each
    threshold. Compared as instants (`oldest + threshold <= now`), the same sums the wake-ups are
    scheduled at: `now - oldest` can round below the threshold at the very instant of its wake-up."""
    if oldest is None:
        return 0
    if oldest + overload.level2_s <= now:
        return 2
    return 1 if oldest + overload.level1_s <= now else 0


def overload_ewt(waiting: int, aht_s: float, staffed: int) -> float:
    """The R9 `ewt` metric for a new contact: (waiting + 1) × AHT / staffed; `+inf` when unstaffed.
    (Reserves are left out of `staffed` here: they are what the level switches on.)"""
    return math.inf if staffed == 0 else (waiting + 1) * aht_s / staffed

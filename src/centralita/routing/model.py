"""The routing snapshot: queues, agents and waiting contacts, as plain immutable-ish values.

Times are seconds on the engine's clock (UTC epoch live, simulated time in the simulator).
Skill levels are 1..5, 5 = most proficient. Priority: higher is served first.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Requirement:
    """A step's agent requirement: all listed skills at least at their level, and (optionally) one of
    the listed agents. The empty requirement is true for every agent."""

    min_skills: tuple[tuple[str, int], ...] = ()
    agent_ids: frozenset[int] | None = None

    def allows(self, agent: AgentState) -> bool:
        if self.agent_ids is not None and agent.id not in self.agent_ids:
            return False
        return all(agent.skills.get(skill, 0) >= level for skill, level in self.min_skills)


ANY_AGENT = Requirement()


@dataclass(frozen=True)
class Step:
    requirement: Requirement
    duration_s: float | None  # None only on the last step: it lasts for ever


@dataclass(frozen=True)
class QueueConfig:
    id: int
    required_skills: tuple[tuple[str, int], ...] = ()
    priority_mode: str = "strict"  # strict | aged (R1)
    aging_s_per_point: float = 60.0
    agent_selection: str = "longest_idle"  # R5
    offer_timeout_s: float = 20.0
    sl_threshold_s: float = 20.0


@dataclass(frozen=True)
class ProfileEntry:
    rank: int = 1
    delay_s: float = 0.0


@dataclass
class AgentState:
    id: int
    status: str = "available"  # offline | available | custom:<name>
    skills: dict[str, int] = field(default_factory=dict)
    profile: dict[int, ProfileEntry] = field(default_factory=dict)  # queue id → entry
    capacity: dict[str, int] = field(default_factory=lambda: {"voice": 1, "chat": 1})
    active: dict[str, int] = field(default_factory=dict)  # channel → contacts connected, on hold or in ACW
    exclusive_channels: frozenset[str] = frozenset()
    idle_since: float = 0.0
    offered: bool = False
    missed: bool = False
    missed_offers: int = 0  # consecutive offers not accepted (R6)
    max_missed_offers: int = 1
    occupancy: float = 0.0
    max_occupancy: float | None = None


@dataclass
class Membership:
    """A contact's place in one queue."""

    queue_id: int
    enqueue_ts: float
    priority: int = 0
    age_adjust_s: float = 0.0
    steps: tuple[Step, ...] = ()
    after_steps: str = "any_agent"  # any_agent | keep_last


@dataclass
class WaitingContact:
    id: int
    channel: str
    arrival_seq: int
    memberships: list[Membership]
    locked: bool = False  # being offered (R6)


@dataclass(frozen=True)
class Offer:
    contact_id: int
    agent_id: int
    queue_id: int
    timeout_at: float

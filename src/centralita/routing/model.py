"""The routing snapshot: queues, agents and waiting contacts, as plain values.

Times are seconds on the engine's clock (UTC epoch live, simulated time in the simulator).
Skill levels are 1..5, 5 = most proficient. Priority: higher is served first.
Field meanings and defaults: flows-and-routing.md §6.1.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "AgentState",
    "Membership",
    "Offer",
    "OfferEnded",
    "Overflow",
    "Overload",
    "ProfileEntry",
    "QueueConfig",
    "Requirement",
    "Step",
    "WaitingContact",
]


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
class Overflow:
    """R10: after `after_s` in the queue (or at once when it has no staffed agent and `when_unstaffed`),
    the contact also joins (`add`) or moves to (`move`) `queue_id`, keeping its age for ordering."""

    queue_id: int
    after_s: float | None = None
    when_unstaffed: bool = False
    mode: str = "add"  # add | move


@dataclass(frozen=True)
class Overload:
    """R9: the queue's overload level (0, 1, 2) compares `metric` with the two thresholds."""

    metric: str = "ewt"  # ewt | oldest_wait
    level1_s: float = 60.0
    level2_s: float = 120.0


@dataclass(frozen=True)
class QueueConfig:
    id: int
    required_skills: tuple[tuple[str, int], ...] = ()
    priority_mode: str = "strict"  # strict | aged (R1)
    aging_s_per_point: float = 60.0
    agent_selection: str = "longest_idle"  # R5
    order_by: tuple[tuple[str, bool], ...] = ()  # R5 `order_by`: (agent attribute, descending)
    offer_timeout_s: float = 20.0
    sl_threshold_s: float = 20.0
    default_aht_s: float = 300.0
    overflow: Overflow | None = None
    overload: Overload | None = None


@dataclass(frozen=True)
class ProfileEntry:
    rank: int = 1
    delay_s: float = 0.0


@dataclass
class AgentState:
    """An agent as routing sees it. `offered`, `missed`, `missed_offers`, `active`, `contacts` and `acw` are
    the router's own bookkeeping: `set_agent` keeps them for an agent it already knows. A new agent may
    bring the contacts it is handling (recovery): `active` is then counted from them."""

    id: int
    status: str = "available"  # offline | available | custom:<name>
    skills: dict[str, int] = field(default_factory=dict)
    profile: dict[int, ProfileEntry] = field(default_factory=dict)  # queue id → entry
    reserve: dict[int, int] = field(default_factory=dict)  # queue id → reserve level 1 | 2 (R9)
    capacity: dict[str, int] = field(default_factory=lambda: {"voice": 1, "chat": 1})
    active: dict[str, int] = field(default_factory=dict)  # channel → contacts connected or on hold
    contacts: dict[int, str] = field(default_factory=dict)  # those contacts: id → channel (`release` reads it)
    acw: int = 0  # contacts in after-contact work: the agent gets no offer meanwhile (R3.1)
    exclusive_channels: frozenset[str] = frozenset()
    idle_since: float = 0.0  # max(available since, last contact or ACW end)
    offered: bool = False
    missed: bool = False
    missed_offers: int = 0  # consecutive offers not accepted (R6)
    max_missed_offers: int = 1
    max_occupancy: float | None = None
    acw_counts_as_idle: bool = False  # R8: after-contact work left out of the busy time
    # R8 bookkeeping, kept by the router from login: busy time (offered, connected, on hold, ACW) up to
    # `busy_mark`; routing occupancy at t = busy / (t - login) (`rules.occupancy_at`)
    logged_in_since: float | None = None  # None: offline (a new agent may bring it with busy_s: recovery)
    busy_s: float = 0.0
    busy_mark: float = 0.0
    over_occupancy: bool = False  # above max_occupancy: no offers
    occupancy_turn: float | None = None  # when `over_occupancy` flips by time alone (a wake-up)
    call_selection: str = "queue_rank"  # R4
    talk_time_s: float = 0.0  # for `least_talk_time`
    attributes: dict[str, int] = field(default_factory=dict)  # for `order_by`


@dataclass
class Membership:
    """A contact's place in one queue."""

    queue_id: int
    enqueue_ts: float
    priority: int = 0
    age_adjust_s: float = 0.0
    steps: tuple[Step, ...] = ()
    after_steps: str = "any_agent"  # any_agent | keep_last
    skip_unstaffed_steps: bool = False  # R2: a step no staffed agent meets expires on activation
    overflowed: bool = False  # its queue's overflow already applied (R10)
    step_index: int = 0  # the step the schedule starts from (moves only when a step is skipped)
    step_started: float | None = None  # when that step started; None: at enqueue_ts


@dataclass
class WaitingContact:
    id: int
    channel: str
    arrival_seq: int
    memberships: list[Membership]
    locked: bool = False  # being offered (R6)
    last_missed_by: int | None = None  # the agent who let its last offer go: tried last (R6)
    overflowed_from: set[int] = field(default_factory=set)  # queues it overflowed out of: never back (R10)

    def membership(self, queue_id: int) -> Membership | None:
        for m in self.memberships:
            if m.queue_id == queue_id:
                return m
        return None


@dataclass(frozen=True)
class Offer:
    contact_id: int
    agent_id: int
    queue_id: int
    timeout_at: float


@dataclass(frozen=True)
class OfferEnded:
    offer: Offer
    result: str  # rejected | timeout | withdrawn

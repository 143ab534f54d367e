"""KPI formulas of metrics.md, pure: sufficient statistics in, figures out (no I/O, no clock, no engine).

The history engine (`analytics/engine.py`, Polars) and the live figures (`dispatch/stats.py`) both reduce
contacts to the same sufficient statistics (`QueueTotals`, `HandleTotals`, survey counts) and call these
functions, so the same events give the same numbers wherever they are shown. Every function returns
`None` for an empty denominator (metrics.md §1.3), never 0.

Variants and their ids are those of metrics.md §2–§4; `MetricsSettings` (settings.py) picks one of each.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from typing import Literal

__all__ = [
    "ABANDON_VARIANTS",
    "CES_VARIANTS",
    "CSAT_VARIANTS",
    "SL_VARIANTS",
    "US",
    "Episode",
    "GenesysSwitches",
    "HandleTotals",
    "Interaction",
    "QueueTotals",
    "SurveyTotals",
    "abandon_rate",
    "abandon_rate_terms",
    "aht",
    "aht_terms",
    "answer_rate_terms",
    "asa",
    "asa_from_arrival_terms",
    "asa_terms",
    "average_abandon_time",
    "average_abandon_time_terms",
    "average_acw",
    "average_acw_terms",
    "average_hold",
    "average_hold_terms",
    "average_talk",
    "average_talk_terms",
    "average_wait",
    "average_wait_terms",
    "ces",
    "ces_terms",
    "contact_cost",
    "csat",
    "csat_terms",
    "fcr",
    "finite",
    "nps",
    "nps_terms",
    "occupancy",
    "occupancy_terms",
    "productive_ratio",
    "ratio",
    "repeat_contacts",
    "segments_per_interaction_terms",
    "service_level",
    "service_level_terms",
    "spread",
    "utilization",
    "zscore",
]

SlVariant = Literal["ans", "neg", "pos", "ign", "short", "amazon", "genesys"]
AbandonVariant = Literal["queued", "answered_abandoned", "adjusted"]
CsatVariant = Literal["top2", "mean"]
CesVariant = Literal["mean", "agree", "index"]
SL_VARIANTS: tuple[SlVariant, ...] = ("ans", "neg", "pos", "ign", "short", "amazon", "genesys")
ABANDON_VARIANTS: tuple[AbandonVariant, ...] = ("queued", "answered_abandoned", "adjusted")
CSAT_VARIANTS: tuple[CsatVariant, ...] = ("top2", "mean")
CES_VARIANTS: tuple[CesVariant, ...] = ("mean", "agree", "index")


US = 1_000_000  # microseconds in a second: durations are summed as whole microseconds


def ratio(num: float, den: float) -> float | None:
    """num / den, or None when there is nothing to divide by."""
    return num / den if den else None


@dataclass(frozen=True)
class Episode:
    """One queue episode (metrics.md §1.2): outcome `answered`, `abandoned` or `other:<cause>`, its wait
    and the threshold T that applies to it (its attributed queue's, unless a report sets one), both in
    whole microseconds: sums stay exact, so every engine that adds them gives the same figures."""

    outcome: str
    wait_us: int
    threshold_us: int


@dataclass
class QueueTotals:
    """Sufficient statistics of a set of queue episodes: every queue KPI is a function of these."""

    offered: int = 0  # Q
    answered: int = 0  # A
    abandoned: int = 0  # B
    other: int = 0  # O
    answered_within: int = 0  # A_T
    abandoned_within: int = 0  # B_T
    abandoned_short: int = 0  # B_S
    callbacks_within: int = 0  # O_T: callbacks requested within T (the `amazon` variant)
    wait_answered_us: int = 0  # Σ w over A
    wait_abandoned_us: int = 0  # Σ w over B
    wait_offered_us: int = 0  # Σ w over Q
    max_wait_us: int | None = None  # max w over Q

    @property
    def max_wait_s(self) -> float | None:
        return None if self.max_wait_us is None else self.max_wait_us / US

    @classmethod
    def of(cls, episodes: Iterable[Episode], short_abandon_us: int = 0) -> QueueTotals:
        """Reduce episodes one by one (the live path; the engine computes the same sums column-wise)."""
        q = cls()
        for e in episodes:
            q.add(e, short_abandon_us)
        return q

    def add(self, e: Episode, short_abandon_us: int = 0) -> None:
        within = e.wait_us <= e.threshold_us  # inclusive, on the exact wait (§1.3)
        self.offered += 1
        self.wait_offered_us += e.wait_us
        self.max_wait_us = e.wait_us if self.max_wait_us is None else max(self.max_wait_us, e.wait_us)
        if e.outcome == "answered":
            self.answered += 1
            self.answered_within += within
            self.wait_answered_us += e.wait_us
        elif e.outcome == "abandoned":
            self.abandoned += 1
            self.abandoned_within += within
            self.abandoned_short += short_abandon_us > 0 and e.wait_us <= short_abandon_us
            self.wait_abandoned_us += e.wait_us
        else:
            self.other += 1
            self.callbacks_within += within and e.outcome == "other:callback"

    def __add__(self, other: QueueTotals) -> QueueTotals:
        out = QueueTotals()
        for f in fields(self):
            a, b = getattr(self, f.name), getattr(other, f.name)
            if f.name == "max_wait_us":
                setattr(out, f.name, b if a is None else a if b is None else max(a, b))
            else:
                setattr(out, f.name, a + b)
        return out


@dataclass(frozen=True)
class GenesysSwitches:
    """The brackets of Genesys Cloud's service level (metrics.md §2.1), all off by default."""

    flow_outs: bool = False  # + O in the denominator
    short_abandons: bool = False  # − B_S
    abandons: bool = False  # − B


def service_level_terms(
    q: QueueTotals, variant: SlVariant = "neg", genesys: GenesysSwitches | None = None
) -> tuple[int, int]:
    """Service level's (numerator, denominator) by variant id (metrics.md §2.1); `neg` is A_T / (A + B).

    Every `*_terms` function only adds, subtracts and multiplies its inputs, so the engine may pass whole
    columns of sums in place of numbers and divide once per group: one definition of every formula."""
    a, b = q.answered, q.abandoned
    if variant == "ans":
        return q.answered_within, a
    if variant == "neg":
        return q.answered_within, a + b
    if variant == "pos":
        return q.answered_within + q.abandoned_within, a + b
    if variant == "ign":
        return q.answered_within, a + b - q.abandoned_within
    if variant == "short":
        return q.answered_within, a + b - q.abandoned_short
    if variant == "amazon":
        return q.answered_within + q.abandoned_within + q.callbacks_within, q.offered
    if variant == "genesys":
        g = genesys or GenesysSwitches()
        den = a + b + (q.other if g.flow_outs else 0) - (q.abandoned_short if g.short_abandons else 0)
        return q.answered_within, den - (b if g.abandons else 0)  # A − A_{>T} = A_T
    raise ValueError(f"unknown service level variant {variant!r}")


def service_level(q: QueueTotals, variant: SlVariant = "neg", genesys: GenesysSwitches | None = None) -> float | None:
    """Service level by variant id (metrics.md §2.1); the default `neg` is A_T / (A + B)."""
    return ratio(*service_level_terms(q, variant, genesys))


def abandon_rate_terms(q: QueueTotals, variant: AbandonVariant = "queued") -> tuple[int, int]:
    if variant == "queued":
        return q.abandoned, q.offered
    if variant == "answered_abandoned":
        return q.abandoned, q.answered + q.abandoned
    if variant == "adjusted":
        return q.abandoned - q.abandoned_short, q.offered - q.abandoned_short
    raise ValueError(f"unknown abandonment variant {variant!r}")


def abandon_rate(q: QueueTotals, variant: AbandonVariant = "queued") -> float | None:
    """Abandonment rate by variant id (metrics.md §2.3); the default `queued` is B / Q."""
    return ratio(*abandon_rate_terms(q, variant))


def asa_terms(q: QueueTotals) -> tuple[int, int]:
    return q.wait_answered_us, q.answered * US


def asa(q: QueueTotals) -> float | None:
    """Average speed of answer in seconds: Σ w over answered / A (queue time, ringing included)."""
    return ratio(*asa_terms(q))


def average_wait_terms(q: QueueTotals) -> tuple[int, int]:
    return q.wait_offered_us, q.offered * US


def average_wait(q: QueueTotals) -> float | None:
    return ratio(*average_wait_terms(q))


def average_abandon_time_terms(q: QueueTotals) -> tuple[int, int]:
    return q.wait_abandoned_us, q.abandoned * US


def average_abandon_time(q: QueueTotals) -> float | None:
    return ratio(*average_abandon_time_terms(q))


@dataclass
class HandleTotals:
    """Sufficient statistics of handled contacts (metrics.md §3.1): sums of talk, hold and ACW, in whole
    microseconds."""

    handled: int = 0
    held: int = 0  # handled contacts with some hold
    talk_us: int = 0
    hold_us: int = 0
    acw_us: int = 0

    def add(self, talk_us: int, hold_us: int, acw_us: int) -> None:
        self.handled += 1
        self.held += hold_us > 0
        self.talk_us += talk_us
        self.hold_us += hold_us
        self.acw_us += acw_us


def aht_terms(h: HandleTotals) -> tuple[int, int]:
    return h.talk_us + h.hold_us + h.acw_us, h.handled * US


def aht(h: HandleTotals) -> float | None:
    """Average handle time in seconds: Σ (talk + hold + ACW) / handled."""
    return ratio(*aht_terms(h))


def average_hold_terms(h: HandleTotals, over: Literal["held", "handled"] = "held") -> tuple[int, int]:
    return h.hold_us, (h.held if over == "held" else h.handled) * US


def average_hold(h: HandleTotals, over: Literal["held", "handled"] = "held") -> float | None:
    return ratio(*average_hold_terms(h, over))


def average_acw_terms(h: HandleTotals) -> tuple[int, int]:
    return h.acw_us, h.handled * US


def average_acw(h: HandleTotals) -> float | None:
    return ratio(*average_acw_terms(h))


def average_talk_terms(h: HandleTotals) -> tuple[int, int]:
    return h.talk_us, h.handled * US


def average_talk(h: HandleTotals) -> float | None:
    return ratio(*average_talk_terms(h))


def occupancy_terms(handling: int, available_idle: int) -> tuple[int, int]:
    return handling, handling + available_idle


def asa_from_arrival_terms(arrival_to_answer_us: int, answered: int) -> tuple[int, int]:
    """ASA from arrival (metrics.md §2.2 variant): Σ over answered of (agent connected − initiation) / A."""
    return arrival_to_answer_us, answered * US


def segments_per_interaction_terms(contact_records: int, interactions: int) -> tuple[int, int]:
    """Segments per interaction (metrics.md §5 a): contact records / interactions (chains sharing
    `initial_contact_id`); each transfer adds a segment."""
    return contact_records, interactions


def answer_rate_terms(accepted: int, made: int) -> tuple[int, int]:
    """Agent answer rate (metrics.md §3.5): offers accepted / offers made to the agent."""
    return accepted, made


def occupancy(handling_s: float, available_idle_s: float) -> float | None:
    """Handling / (handling + available idle) (metrics.md §3.2)."""
    return ratio(handling_s, handling_s + available_idle_s)


def utilization(handling_s: float, available_idle_s: float, paid_s: float) -> float | None:
    return ratio(handling_s + available_idle_s, paid_s)


def productive_ratio(handling_s: float, paid_s: float) -> float | None:
    return ratio(handling_s, paid_s)


@dataclass
class SurveyTotals:
    """Counts of survey answers by score: `csat[k]` answers of k (1–5), `ces[k]` (1–7), `nps[k]` (0–10)."""

    csat: list[int] = field(default_factory=lambda: [0] * 6)
    ces: list[int] = field(default_factory=lambda: [0] * 8)
    nps: list[int] = field(default_factory=lambda: [0] * 11)

    def add(self, csat_score: int | None, ces_score: int | None, nps_score: int | None) -> None:
        if csat_score is not None:
            self.csat[csat_score] += 1
        if ces_score is not None:
            self.ces[ces_score] += 1
        if nps_score is not None:
            self.nps[nps_score] += 1


def _total(counts: Sequence[int]) -> int:
    total = 0
    for n in counts:
        total = total + n
    return total


def csat_terms(s: SurveyTotals, variant: CsatVariant = "top2") -> tuple[int, int]:
    """CSAT (metrics.md §4.3): share of answers 4 or 5 (default), or the mean rating."""
    if variant == "top2":
        return s.csat[4] + s.csat[5], _total(s.csat)
    return _total([k * n for k, n in enumerate(s.csat)]), _total(s.csat)


def csat(s: SurveyTotals, variant: CsatVariant = "top2") -> float | None:
    return ratio(*csat_terms(s, variant))


def ces_terms(s: SurveyTotals, variant: CesVariant = "mean") -> tuple[int, int]:
    """Customer effort: mean (default), share agreeing (5–7), or index = % easy (6–7) − % hard (1–3) in
    points, as one quotient: 100 × (easy − hard) / answers."""
    n = _total(s.ces)
    if variant == "mean":
        return _total([k * c for k, c in enumerate(s.ces)]), n
    if variant == "agree":
        return _total(s.ces[5:8]), n
    return 100 * (_total(s.ces[6:8]) - _total(s.ces[1:4])), n


def ces(s: SurveyTotals, variant: CesVariant = "mean") -> float | None:
    return ratio(*ces_terms(s, variant))


def nps_terms(s: SurveyTotals) -> tuple[int, int]:
    """Net promoter score in points: 100 × (promoters (9–10) − detractors (0–6)) / answers."""
    return 100 * (_total(s.nps[9:11]) - _total(s.nps[0:7])), _total(s.nps)


def nps(s: SurveyTotals) -> float | None:
    return ratio(*nps_terms(s))


@dataclass(frozen=True)
class Interaction:
    """One customer interaction for FCR (metrics.md §4.1): the chain's customer key, reason and times (in
    seconds on any common clock), and whether it counts (customer-initiated and handled)."""

    customer: str
    reason: str | None
    sub_reason: str | None
    initiation_s: float
    end_s: float
    customer_initiated: bool = True  # inbound, or a callback the customer asked for
    handled: bool = True  # an agent connected to it


def _matches(a: Interaction, b: Interaction, match: str) -> bool:
    if match == "customer":
        return True
    key = "sub_reason" if match == "sub_reason" else "reason"
    x, y = getattr(a, key), getattr(b, key)
    return x is None or y is None or x == y  # unknown reasons are taken to match


def fcr(
    interactions: Sequence[Interaction], report_end_s: float, window_days: float = 7.0, match: str = "reason"
) -> tuple[int, int]:
    """(resolved, eligible) interactions. Eligible: customer-initiated, handled, and its window elapsed by
    the report's end. Resolved unless a later interaction of the same customer with a matching reason began
    within `window_days` of its end. FCR = resolved / eligible; repeat rate = 1 − FCR over the same set."""
    window = window_days * 86400.0
    by_customer: dict[str, list[Interaction]] = {}
    for it in interactions:
        by_customer.setdefault(it.customer, []).append(it)
    resolved = eligible = 0
    for items in by_customer.values():
        items.sort(key=lambda it: it.initiation_s)
        for i, it in enumerate(items):
            if not (it.customer_initiated and it.handled) or it.end_s + window > report_end_s:
                continue
            eligible += 1
            repeat = False
            for later in items[i + 1 :]:
                if later.initiation_s - it.end_s > window:
                    break  # sorted by initiation: no later one can be within the window
                if later.customer_initiated and later.initiation_s > it.initiation_s and _matches(it, later, match):
                    repeat = True
                    break
            resolved += not repeat
    return resolved, eligible


def finite(value: float | None) -> float | None:
    """A figure safe for JSON: None stays None, NaN becomes None."""
    return None if value is None or math.isnan(value) else value


def repeat_contacts(interactions: Sequence[Interaction], window_days: float = 7.0, match: str = "reason") -> list[bool]:
    """Per interaction (in the given order): is it a **repeat** (metrics.md §4.2)? It is when it is
    customer-initiated and an earlier interaction of the same customer, customer-initiated and handled, with
    a matching reason (as in `fcr`), ended at most `window_days` before it began. It is the other side of
    `fcr`: interaction j is a repeat exactly when it makes some earlier interaction i fail FCR."""
    window = window_days * 86400.0
    flags = [False] * len(interactions)
    by_customer: dict[str, list[int]] = {}
    for k, it in enumerate(interactions):
        by_customer.setdefault(it.customer, []).append(k)
    for indexes in by_customer.values():
        indexes.sort(key=lambda k: interactions[k].initiation_s)
        for pos, j in enumerate(indexes):
            later = interactions[j]
            if not later.customer_initiated:
                continue
            for i in indexes[:pos]:
                it = interactions[i]
                if (
                    it.customer_initiated
                    and it.handled
                    and later.initiation_s > it.initiation_s
                    and later.initiation_s - it.end_s <= window
                    and _matches(it, later, match)
                ):
                    flags[j] = True
                    break
    return flags


def contact_cost(
    handle_s: float,
    call_s: float,
    flow_s: float,
    agent_hour: float,
    telephony_minute: float,
    ivr_minute: float,
    fixed: float = 0.0,
) -> float:
    """One contact's cost from its own activity (metrics.md §5): agent cost per hour × handle time +
    telephony per minute × call minutes + IVR per minute × flow minutes + the channel's fixed cost. Minutes
    are exact (not rounded up); pass `call_s = 0` for contacts that are not calls."""
    return agent_hour * handle_s / 3600.0 + telephony_minute * call_s / 60.0 + ivr_minute * flow_s / 60.0 + fixed


def spread(values: Sequence[float]) -> tuple[float | None, float | None]:
    """(mean, population standard deviation) of the values; (None, None) when there are none."""
    if not values:
        return None, None
    mean = sum(values) / len(values)
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))


def zscore(value: float | None, mean: float | None, sd: float | None) -> float | None:
    """(value − mean) / sd; None when any is missing or the spread is zero."""
    if value is None or mean is None or not sd:
        return None
    return (value - mean) / sd

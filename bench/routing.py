"""Routing engine: decision latency of the incremental `Router`, and its speed-up over the re-scan router.

    .venv/bin/python -m bench.routing                      # 10,000 agents, 5,000 waiting, 1,000,000 events
    .venv/bin/python -m bench.routing --agents 500 --skills 20 --waiting 250 --events 20000 --naive-events 2000

A discrete-event simulation on a simulated clock, seeded, generated online (what happens next depends on
the offers the router makes). The contact center: one queue per skill, some with required skills, some
whose contacts widen their agent requirement after 30 s and 60 s (R2), strict and aged priority modes,
several agent selections (R5), priorities 0–2; agents with 2–6 skills at levels 1–5 and a routing profile
over their queues (ranks, a few delays), voice-only, chat-only (3 chats) and blended (voice exclusive).

Setup puts the center directly in a steady state (no warm-up through the routers): agents logged in,
most of them busy (`AgentState.active`, each contact with a release already scheduled), a few on a break
or logged out, and the waiting contacts (`--waiting`) enqueued with ages spread over the last minutes, so
there is a contact surplus: a freed agent takes the next contact at once (R4). Arrivals are Poisson at a
rate steered to keep the number waiting near `--waiting`.

Then the event stream: arrivals (enqueue), accepts, rejects and offer timeouts (a few %), releases with and
without after-call work and the end of ACW, abandons, breaks, logouts and logins, agents making themselves
available after a missed offer, and wake-ups (`next_wakeup()`: offer timeouts, step and delay boundaries)
where only time moves. After every event the router is stepped. Decision latency = the mutation call plus
`step(now)` for one event, timed with perf_counter_ns, every event. `next_wakeup()` is timed apart.

Baseline: `ReferenceRouter` (re-scans everything on every step) gets the same calls in lockstep for the
first `--naive-events` events, and its decisions (offers, ended offers, in order) must be identical at
every event, else the run stops at the first divergence and prints both. speedup_vs_naive = mean time per
event of the reference / of the fast router, over those same events (alternating which runs first).
The last line printed on stdout is JSON; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import array
import dataclasses
import gc
import heapq
import itertools
import json
import math
import os
import random
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench._common import machine, summarize_ns
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
from centralita.routing.reference import ReferenceRouter

try:
    from centralita.routing.engine import Router as _Fast

    FAST_IMPL = "centralita.routing.engine.Router"
except ImportError:  # the fast engine is being rewritten: run the reference against itself
    _Fast = ReferenceRouter  # type: ignore[misc, assignment]
    FAST_IMPL = "centralita.routing.reference.ReferenceRouter (engine.Router did not import: speedup meaningless)"
NAIVE_IMPL = "centralita.routing.reference.ReferenceRouter"

T0 = 36_000.0  # simulated clock at setup: 10:00
SELECTIONS = (  # R5
    "longest_idle",
    "skill_then_longest_idle",
    "least_skill_then_longest_idle",
    "fewest_contacts",
    "least_occupied",
    "round_robin",
    "linear",
    "random",
)
SELECTION_WEIGHTS = (8.0, 2.0, 2.0, 2.0, 1.0, 1.0, 1.0, 1.0)
CALL_SELECTIONS = ("queue_rank", "greatest_need", "skill_level", "service_objective")  # R4
CALL_SELECTION_WEIGHTS = (8.0, 1.0, 1.0, 1.0)

# the center's behaviour (simulated seconds)
VOICE_AHT_S = 240.0
CHAT_AHT_S = 480.0
HANDLE_SIGMA = 0.6
ACW_SHARE = 0.6  # voice contacts followed by after-call work
ACW_RANGE_S = (5.0, 45.0)
ANSWER_RANGE_S = (1.0, 6.0)
P_REJECT = 0.015
P_NO_ANSWER = 0.015  # the offer times out
MISSED_NOTICED_S = (1.0, 5.0)  # the agent's desktop shows the missed offer and puts the agent not ready…
READY_AFTER_MISS_S = (5.0, 30.0)  # …until the agent makes itself available again (R6)
PATIENCE_MEAN_S = 1800.0
BREAK_EVERY_S = 3600.0  # per logged-in agent
BREAK_MEAN_S = 600.0
P_BREAK_THEN_LOGOUT = 0.2
LOGGED_OUT_S = (600.0, 2400.0)

# router operations (what both routers are fed)
OP_STEP, OP_ENQUEUE, OP_ACCEPT, OP_REJECT, OP_RELEASE, OP_END_ACW, OP_REMOVE, OP_SET_AGENT = range(8)
OP_NAMES = ("step", "enqueue", "accept", "reject", "release", "end_acw", "remove", "set_agent")

# simulation events (the heap)
(
    EV_ARRIVAL,
    EV_ANSWER,
    EV_RELEASE,
    EV_END_ACW,
    EV_ABANDON,
    EV_BREAK,
    EV_BREAK_END,
    EV_LOGOUT,
    EV_LOGIN,
    EV_MISSED,
    EV_READY,
) = range(11)


# ----------------------------------------------------------------------------------------- the center


@dataclass(frozen=True)
class AgentSpec:
    id: int
    kind: str  # voice | chat | blended
    skills: tuple[tuple[str, int], ...]
    profile: tuple[tuple[int, int, float], ...]  # (queue, rank, delay_s)
    reserve: tuple[tuple[int, int], ...]  # (queue, level 1|2): serves it only while it is overloaded (R9)
    serves: tuple[int, ...]  # queues it serves by profile or by required skills
    max_missed_offers: int
    call_selection: str


@dataclass
class Center:
    queues: dict[int, QueueConfig]
    widening: dict[int, tuple[Step, ...]]  # queue → the steps its contacts get (R2)
    agents: list[AgentSpec]
    agent_weights: list[float]  # arrivals follow the agents' throughput, so supply and demand match per queue


def skill_name(q: int) -> str:
    return f"s{q}"


def make_center(n_agents: int, n_skills: int, rng: random.Random) -> Center:
    queues: dict[int, QueueConfig] = {}
    widening: dict[int, tuple[Step, ...]] = {}
    for q in range(1, n_skills + 1):
        s = skill_name(q)
        r = rng.random()
        queues[q] = QueueConfig(
            id=q,
            required_skills=((s, 2),) if rng.random() < 0.3 else (),
            priority_mode="aged" if rng.random() < 0.2 else "strict",
            agent_selection=rng.choices(SELECTIONS, SELECTION_WEIGHTS)[0],
            offer_timeout_s=rng.choice((20.0, 20.0, 20.0, 15.0, 30.0)),
            # R10: a few queues overflow into another after 90 s; R9: a few call in reserves when behind
            overflow=Overflow(rng.randint(1, n_skills), after_s=90.0) if r < 0.1 and n_skills > 1 else None,
            overload=Overload("oldest_wait", 90.0, 150.0) if 0.1 <= r < 0.15 else None,
        )
        if rng.random() < 0.3:  # level ≥ 4 for 30 s, then ≥ 3 for 30 s, then any agent of the queue
            widening[q] = (Step(Requirement(min_skills=((s, 4),)), 30.0), Step(Requirement(min_skills=((s, 3),)), 30.0))
    popularity = [1.0 / (1.0 + i / 20.0) for i in range(n_skills)]
    skill_ids = list(range(1, n_skills + 1))
    overloadable = [q for q, c in queues.items() if c.overload is not None]
    agents: list[AgentSpec] = []
    weights: list[float] = []
    voice_rate = 1.0 / (VOICE_AHT_S + ACW_SHARE * sum(ACW_RANGE_S) / 2 + sum(ANSWER_RANGE_S) / 2)
    chat_rate = 3.0 / (CHAT_AHT_S + sum(ANSWER_RANGE_S) / 2)
    for aid in range(1, n_agents + 1):
        held: list[int] = []
        for _ in range(rng.randint(2, 6)):
            q = rng.choices(skill_ids, popularity)[0]
            if q not in held:
                held.append(q)
        skills = tuple((skill_name(q), rng.randint(1, 5)) for q in held)
        profile = []
        serves = []
        for i, q in enumerate(held):
            if rng.random() < 0.85:
                delay = 20.0 if rng.random() < 0.1 else 0.0
                profile.append((q, 1 if i == 0 else rng.randint(1, 3), delay))
                serves.append(q)
            elif queues[q].required_skills and dict(skills)[skill_name(q)] >= queues[q].required_skills[0][1]:
                serves.append(q)
        if not serves:  # everyone serves at least their first skill
            profile.append((held[0], 1, 0.0))
            serves.append(held[0])
        reserve = []
        if overloadable and rng.random() < 0.05:
            q = rng.choice(overloadable)
            if q not in held:
                reserve.append((q, rng.randint(1, 2)))
        kind = rng.choices(("voice", "chat", "blended"), (0.4, 0.3, 0.3))[0]
        agents.append(
            AgentSpec(
                aid,
                kind,
                skills,
                tuple(profile),
                tuple(reserve),
                tuple(serves),
                2 if rng.random() < 0.2 else 1,
                rng.choices(CALL_SELECTIONS, CALL_SELECTION_WEIGHTS)[0],
            )
        )
        weights.append(voice_rate if kind == "voice" else chat_rate if kind == "chat" else (voice_rate + chat_rate) / 2)
    return Center(queues, widening, agents, weights)


_AGENT_FIELDS = {f.name for f in dataclasses.fields(AgentState)}


def has_room(spec: AgentSpec, contacts: dict[int, str]) -> bool:
    active = Counter(contacts.values())
    if spec.kind == "voice":
        return not active
    return not active.get("voice") and active.get("chat", 0) < 3


def build_agent(spec: AgentSpec, status: str, contacts: dict[int, str], idle_since: float) -> AgentState:
    """A fresh AgentState (each router gets its own objects: the routers mutate them)."""
    capacity = {"voice": {"voice": 1}, "chat": {"chat": 3}, "blended": {"voice": 1, "chat": 3}}[spec.kind]
    kwargs: dict[str, Any] = {
        "status": status,
        "skills": dict(spec.skills),
        "profile": {q: ProfileEntry(rank=rank, delay_s=delay) for q, rank, delay in spec.profile},
        "reserve": dict(spec.reserve),
        "capacity": capacity,
        "contacts": dict(contacts),
        "exclusive_channels": frozenset({"voice"}) if spec.kind == "blended" else frozenset(),
        "idle_since": idle_since,
        "max_missed_offers": spec.max_missed_offers,
    }
    if "call_selection" in _AGENT_FIELDS:
        kwargs["call_selection"] = spec.call_selection
    return AgentState(spec.id, **kwargs)


# one contact: (id, channel, arrival_seq, ((queue, enqueue_ts, priority), ...))
ContactSpec = tuple[int, str, int, tuple[tuple[int, float, int], ...]]


def build_contact(spec: ContactSpec, widening: dict[int, tuple[Step, ...]]) -> WaitingContact:
    cid, channel, seq, ms = spec
    return WaitingContact(cid, channel, seq, [Membership(q, ts, prio, steps=widening.get(q, ())) for q, ts, prio in ms])


# ----------------------------------------------------------------------------------------- the router API


class Api:
    """One router's calls, bound once (no wrapper in the timing)."""

    def __init__(self, router: Any) -> None:
        self.router = router
        self.set_agent: Callable[[AgentState, float], Any] = router.set_agent
        self.enqueue: Callable[[WaitingContact, float], Any] = router.enqueue
        self.remove: Callable[[int, float], Any] = router.remove
        self.accept: Callable[[int, int, float], Any] = router.accept
        self.reject: Callable[[int, int, float], Any] = router.reject
        self.step: Callable[[float], tuple[list[Any], list[Any]]] = router.step
        self.release: Callable[[int, float, bool], Any] = router.release
        self.end_acw: Callable[[int, float], Any] = router.end_acw
        self.next_wakeup: Callable[[float], float | None] = router.next_wakeup


def decisions(offers: list[Any], ended: list[Any], ret: Any) -> tuple[Any, ...]:
    """A router's answer to one event as plain values (the two routers may use different classes)."""

    def offer(o: Any) -> tuple[Any, ...]:
        return (o.contact_id, o.agent_id, o.queue_id, o.timeout_at)

    def end(e: Any) -> tuple[Any, ...]:
        return (*offer(e.offer), e.result) if hasattr(e, "offer") else offer(e)

    returned = None if ret is None else end(ret) if hasattr(ret, "offer") or hasattr(ret, "contact_id") else repr(ret)
    return ([offer(o) for o in offers], [end(e) for e in ended], returned)


class Divergence(Exception):
    pass


# ----------------------------------------------------------------------------------------- the simulation


@dataclass
class Stats:
    events: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)  # stale sim events (the offer or contact had gone)
    offers: int = 0
    ended: Counter[str] = field(default_factory=Counter)  # timeout | rejected | withdrawn
    rejects: int = 0
    accepts: int = 0
    abandons: int = 0
    waiting_samples: list[int] = field(default_factory=list)
    idle_samples: list[int] = field(default_factory=list)
    stale_wakeups: int = 0


class Sim:
    """The contact center around the routers: it decides what happens next from the fast router's offers."""

    def __init__(self, center: Center, args: argparse.Namespace, rng: random.Random) -> None:
        self.c = center
        self.rng = rng
        self.target = args.waiting
        self.now = T0
        self.heap: list[tuple[float, int, int, Any, Any]] = []
        self.seq = 0
        self.next_cid = 0
        self.arrival_seq = 0
        self.waiting: set[int] = set()
        self.channel: dict[int, str] = {}
        n = len(center.agents) + 1
        self.status = ["offline"] * n
        self.busy = [0] * n
        self.acw = [False] * n
        self.stats = Stats()
        self.base_rate = sum(center.agent_weights) * 0.93  # completions per second with the staffing below
        self.agent_ids = [a.id for a in center.agents]
        self._cum = list(itertools.accumulate(center.agent_weights))

    def at(self, t: float, ev: int, a: Any = None, b: Any = None) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (t, self.seq, ev, a, b))

    def handle_time(self, channel: str) -> float:
        mean = VOICE_AHT_S if channel == "voice" else CHAT_AHT_S
        return self.rng.lognormvariate(math.log(mean) - HANDLE_SIGMA**2 / 2, HANDLE_SIGMA)

    def new_contact(self, enqueue_ts: float) -> ContactSpec:
        """A contact for a queue some agent serves, picked by agent throughput: demand follows supply."""
        rng = self.rng
        spec = self.c.agents[rng.choices(range(len(self.c.agents)), cum_weights=self._cum)[0]]
        channel = ("voice" if rng.random() < 0.5 else "chat") if spec.kind == "blended" else spec.kind
        queues = [rng.choice(spec.serves)]
        if len(spec.serves) > 1 and rng.random() < 0.1:  # also a second queue (R10)
            queues.append(rng.choice([q for q in spec.serves if q != queues[0]]))
        r = rng.random()
        priority = 0 if r < 0.85 else 1 if r < 0.95 else 2
        self.next_cid += 1
        self.arrival_seq += 1
        return (self.next_cid, channel, self.arrival_seq, tuple((q, enqueue_ts, priority) for q in queues))

    # --- the initial steady state -------------------------------------------------------------------

    def setup(self) -> tuple[list[tuple[AgentSpec, str, dict[int, str], float]], list[ContactSpec]]:
        rng, now = self.rng, self.now
        agents = []
        for spec in self.c.agents:
            r = rng.random()
            status = "offline" if r < 0.03 else "custom:break" if r < 0.07 else "available"
            active: dict[int, str] = {}  # contacts in progress: id → channel
            n_voice = n_chat = 0
            if status != "offline":
                if spec.kind == "voice" or (spec.kind == "blended" and rng.random() < 0.5):
                    n_voice = 1 if rng.random() < 0.92 else 0
                elif spec.kind == "chat" or rng.random() < 0.8:
                    n_chat = rng.choices((0, 1, 2, 3), (0.05, 0.15, 0.3, 0.5))[0]
            for channel in ["voice"] * n_voice + ["chat"] * n_chat:
                self.next_cid += 1
                active[self.next_cid] = channel
                self.channel[self.next_cid] = channel
                # a contact in progress: its residual handle time
                self.at(now + rng.random() * self.handle_time(channel), EV_RELEASE, spec.id, self.next_cid)
            self.busy[spec.id] = len(active)
            self.status[spec.id] = status
            if status == "offline":
                self.at(now + rng.uniform(0, LOGGED_OUT_S[1]), EV_LOGIN, spec.id)
            elif status == "custom:break":
                self.at(now + rng.uniform(0, 2 * BREAK_MEAN_S), EV_BREAK_END, spec.id)
            agents.append((spec, status, active, now - rng.uniform(0, 600)))
        free = sum(1 for spec, status, active, _ in agents if status == "available" and has_room(spec, active))
        ages = sorted((rng.uniform(0, 240) for _ in range(self.target + free)), reverse=True)
        contacts = []
        for age in ages:
            spec_c = self.new_contact(now - age)
            contacts.append(spec_c)
            self.waiting.add(spec_c[0])
            self.channel[spec_c[0]] = spec_c[1]
            self.at(now + rng.expovariate(1 / PATIENCE_MEAN_S), EV_ABANDON, spec_c[0])
        self.at(now + rng.expovariate(self.base_rate), EV_ARRIVAL)
        self.at(now + rng.expovariate(len(self.c.agents) / BREAK_EVERY_S), EV_BREAK)
        return agents, contacts

    # --- events ----------------------------------------------------------------------------------------

    def next_op(self, fast: Api) -> tuple[int, Any, Any, str] | None:
        """Pop the next simulation event and turn it into a router operation (None: nothing to tell the
        router, e.g. an answer to an offer that was withdrawn). Updates the simulation's own view."""
        t, _, ev, a, b = heapq.heappop(self.heap)
        self.now = t
        rng, stats = self.rng, self.stats
        if ev == EV_ARRIVAL:
            waiting = len(self.waiting)
            factor = min(3.0, max(0.2, 1.0 + 2.0 * (self.target - waiting) / self.target))
            self.at(t + rng.expovariate(self.base_rate * factor), EV_ARRIVAL)
            spec = self.new_contact(t)
            self.waiting.add(spec[0])
            self.channel[spec[0]] = spec[1]
            self.at(t + rng.expovariate(1 / PATIENCE_MEAN_S), EV_ABANDON, spec[0])
            return OP_ENQUEUE, spec, None, "arrival"
        if ev == EV_ANSWER:
            offer, accept = a, b
            if fast.router.open_offer(offer.contact_id, offer.agent_id) != offer:
                stats.skipped["answer"] += 1
                return None
            aid = offer.agent_id
            if accept and self.status[aid] == "available":
                self.waiting.discard(offer.contact_id)
                channel = self.channel[offer.contact_id]
                self.busy[aid] += 1
                stats.accepts += 1
                self.at(t + self.handle_time(channel), EV_RELEASE, aid, offer.contact_id)
                return OP_ACCEPT, offer.contact_id, aid, "accept"
            stats.rejects += 1
            return OP_REJECT, offer.contact_id, aid, "reject"
        if ev == EV_RELEASE:  # a: the agent, b: the contact
            self.busy[a] -= 1
            if self.channel.pop(b) == "voice" and rng.random() < ACW_SHARE:
                self.acw[a] = True
                self.at(t + rng.uniform(*ACW_RANGE_S), EV_END_ACW, a)
                return OP_RELEASE, b, True, "release_acw"
            return OP_RELEASE, b, False, "release"
        if ev == EV_END_ACW:
            self.acw[a] = False
            return OP_END_ACW, a, None, "end_acw"
        if ev == EV_ABANDON:
            if a not in self.waiting:
                stats.skipped["abandon"] += 1
                return None
            self.waiting.discard(a)
            del self.channel[a]
            stats.abandons += 1
            return OP_REMOVE, a, None, "abandon"
        if ev == EV_BREAK:
            self.at(t + rng.expovariate(len(self.c.agents) / BREAK_EVERY_S), EV_BREAK)
            aid = rng.choice(self.agent_ids)
            if self.status[aid] != "available":
                stats.skipped["break"] += 1
                return None
            self.status[aid] = "custom:break"
            if rng.random() < P_BREAK_THEN_LOGOUT:
                self.at(t + rng.expovariate(1 / BREAK_MEAN_S), EV_LOGOUT, aid)
            else:
                self.at(t + rng.expovariate(1 / BREAK_MEAN_S), EV_BREAK_END, aid)
            return OP_SET_AGENT, aid, "custom:break", "break"
        if ev == EV_BREAK_END:
            self.status[a] = "available"
            return OP_SET_AGENT, a, "available", "break_end"
        if ev == EV_LOGOUT:
            if self.busy[a] or self.acw[a]:  # finishes its contacts first
                self.at(t + 30.0, EV_LOGOUT, a)
                stats.skipped["logout_busy"] += 1
                return None
            self.status[a] = "offline"
            self.at(t + rng.uniform(*LOGGED_OUT_S), EV_LOGIN, a)
            return OP_SET_AGENT, a, "offline", "logout"
        if ev == EV_LOGIN:
            self.status[a] = "available"
            return OP_SET_AGENT, a, "available", "login"
        if ev == EV_MISSED:
            agent = fast.router.agents.get(a)
            if agent is None or not agent.missed or self.status[a] != "available":
                stats.skipped["missed"] += 1
                return None
            self.status[a] = "custom:missed"
            self.at(t + rng.uniform(*READY_AFTER_MISS_S), EV_READY, a)
            return OP_SET_AGENT, a, "custom:missed", "missed_not_ready"
        if ev == EV_READY:
            if self.status[a] != "custom:missed":
                stats.skipped["ready"] += 1
                return None
            self.status[a] = "available"
            return OP_SET_AGENT, a, "available", "ready_after_miss"
        raise AssertionError(f"unknown event {ev}")

    def after(self, fast: Api, offers: list[Any], ended: list[Any], ret: Any) -> None:
        """What agents do about the decisions: answer offers (accept, reject, or let them time out); an
        agent left `missed` by a reject or a timeout is noticed by its desktop (R6)."""
        rng, t = self.rng, self.now
        for o in offers:
            self.stats.offers += 1
            r = rng.random()
            if r < P_NO_ANSWER:
                continue
            self.at(t + rng.uniform(*ANSWER_RANGE_S), EV_ANSWER, o, r >= P_NO_ANSWER + P_REJECT)
        for e in [*ended, ret] if ret is not None else ended:
            self.stats.ended[e.result] += 1
            if e.result != "withdrawn":
                agent = fast.router.agents.get(e.offer.agent_id)
                if agent is not None and agent.missed:
                    self.at(t + rng.uniform(*MISSED_NOTICED_S), EV_MISSED, agent.id)


# ----------------------------------------------------------------------------------------- the run


def prepare(op: int, a: Any, b: Any, now: float, center: Center) -> Any:
    """Fresh argument objects for one router (the routers keep and mutate them), built outside the timing.
    A status change passes the agent's configuration with the new status: the router keeps its own
    bookkeeping (offer, misses, active contacts, ACW, idle since) for an agent it knows."""
    if op == OP_ENQUEUE:
        return build_contact(a, center.widening)
    if op == OP_SET_AGENT:
        return build_agent(center.agents[a - 1], b, {}, now)
    return None


def execute(api: Api, op: int, a: Any, b: Any, arg: Any, now: float) -> tuple[int, list[Any], list[Any], Any]:
    """One event on one router: the mutation and step(now), timed together."""
    clock = time.perf_counter_ns
    ret = None
    t0 = clock()
    if op == OP_STEP:
        pass
    elif op == OP_ENQUEUE:
        api.enqueue(arg, now)
    elif op == OP_ACCEPT:
        api.accept(a, b, now)
    elif op == OP_RELEASE:
        api.release(a, now, b)
    elif op == OP_SET_AGENT:
        api.set_agent(arg, now)
    elif op == OP_REMOVE:
        api.remove(a, now)
    elif op == OP_END_ACW:
        api.end_acw(a, now)
    else:
        ret = api.reject(a, b, now)
    offers, ended = api.step(now)
    t1 = clock()
    return t1 - t0, offers, ended, ret


def describe(op: int, a: Any, b: Any) -> str:
    if op == OP_ENQUEUE:
        cid, channel, seq, ms = a
        return f"enqueue(contact {cid}, {channel}, arrival_seq {seq}, memberships (queue, enqueue_ts, priority) {ms})"
    if op == OP_STEP:
        return "step (a wake-up: time only)"
    if op == OP_RELEASE:
        return f"release(agent {a}, {b[0]!r}, acw={b[1]})"
    if op in (OP_ACCEPT, OP_REJECT):
        return f"{OP_NAMES[op]}(contact {a}, agent {b})"
    if op == OP_SET_AGENT:
        return f"set_agent(agent {a}, status {b!r})"
    return f"{OP_NAMES[op]}({'contact' if op == OP_REMOVE else 'agent'} {a})"


def run(args: argparse.Namespace, log: Callable[[str], None]) -> tuple[dict[str, Any], int]:
    rng = random.Random(args.seed)
    center = make_center(args.agents, args.skills, rng)
    sim = Sim(center, args, rng)
    fast = Api(_Fast(center.queues))
    naive = Api(ReferenceRouter(center.queues)) if args.naive_events > 0 else None

    setup_started = time.perf_counter()
    agents, contacts = sim.setup()
    setup_steps: list[tuple[Any, ...]] = []
    setup_s: list[float] = []
    for api in (fast, naive):
        if api is None:
            continue
        t_setup = time.perf_counter()
        for spec, status, active, idle_since in agents:
            api.set_agent(build_agent(spec, status, active, idle_since), T0)
        for c in contacts:
            api.enqueue(build_contact(c, center.widening), T0)
        t0 = time.perf_counter()
        offers, ended = api.step(T0)
        setup_steps.append((decisions(offers, ended, None), time.perf_counter() - t0))
        setup_s.append(time.perf_counter() - t_setup)
        if api is fast:
            sim.after(fast, offers, ended, None)
    log(
        f"setup: {len(agents):,} agents, {len(contacts):,} waiting, {len(center.queues)} queues in "
        f"{time.perf_counter() - setup_started:.1f} s (fast router {setup_s[0]:.1f} s"
        + (f", reference {setup_s[1]:.1f} s)" if naive else ")")
        + f"; {len(setup_steps[0][0][0])} offers made"
    )
    if naive is not None and setup_steps[0][0] != setup_steps[1][0]:
        raise Divergence(
            f"the first step after setup differs:\n fast:  {setup_steps[0][0]}\n naive: {setup_steps[1][0]}"
        )

    gc.collect()
    if args.gc_freeze:
        gc.freeze()
    gc_pauses: list[int] = []
    gc_started = [0]
    gc_total = [0]  # ns spent collecting so far: the part of an event's time that was the collector

    def on_gc(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            gc_started[0] = time.perf_counter_ns()
        else:
            pause = time.perf_counter_ns() - gc_started[0]
            gc_pauses.append(pause)
            gc_total[0] += pause

    gc.callbacks.append(on_gc)

    n = args.events
    lat = array.array("q", bytes(8 * n))  # no int object per sample: the figures do not allocate
    kinds: list[str] = []
    kind_of = array.array("B", bytes(n))
    naive_lat: list[int] = []
    in_gc: list[tuple[int, int]] = []  # (event, ns of collection inside its timing)
    g0 = g1 = 0
    kind_index: dict[str, int] = {}
    blocks_start = sys.getallocatedblocks()
    wake_ns = array.array("q")
    wake_every = max(1, args.wakeup_sample)
    done = 0
    now = T0
    wake = fast.next_wakeup(now)
    stats = sim.stats
    clock = time.perf_counter_ns
    started = time.perf_counter()
    last_log = started
    progress_every = max(1, n // 20)
    try:
        while done < n:
            if wake is not None and wake <= now:
                stats.stale_wakeups += 1
                wake = None
            if wake is not None and wake < sim.heap[0][0]:
                now = sim.now = wake
                op, a, b, kind = OP_STEP, None, None, "wakeup"
            else:
                got = sim.next_op(fast)
                if got is None:
                    continue
                op, a, b, kind = got
                now = sim.now
            stats.events[kind] += 1
            if naive is not None and done < args.naive_events:
                results: dict[bool, tuple[int, list[Any], list[Any], Any]] = {}
                refused: dict[bool, str] = {}
                for is_fast in (True, False) if done % 2 else (False, True):
                    which = fast if is_fast else naive
                    arg = prepare(op, a, b, now, center)
                    if is_fast:
                        g0 = gc_total[0]
                    try:
                        results[is_fast] = execute(which, op, a, b, arg, now)
                    except Exception as exc:  # a router refused the call: both must refuse it
                        results[is_fast] = (0, [], [], f"raised {type(exc).__name__}")
                        refused[is_fast] = traceback.format_exc()
                    if is_fast:
                        g1 = gc_total[0]
                ns, offers, ended, ret = results[True]
                n_ns, n_offers, n_ended, n_ret = results[False]
                mine, theirs = decisions(offers, ended, ret), decisions(n_offers, n_ended, n_ret)
                if mine != theirs:
                    raise Divergence(
                        f"event {done:,} at t={now:.3f} ({kind}): {describe(op, a, b)}\n"
                        f" fast  (offers, ended, returned): {mine}\n naive (offers, ended, returned): {theirs}"
                        + "".join(f"\n{'fast' if k else 'naive'} raised:\n{tb}" for k, tb in refused.items())
                    )
                if refused:
                    raise RuntimeError(
                        f"both routers refused event {done:,} ({kind}) {describe(op, a, b)}:\n{refused[True]}"
                    )
                naive_lat.append(n_ns)
                if done + 1 == args.naive_events:
                    log(f"{args.naive_events:,} events compared with the reference router: identical decisions")
            else:
                arg = prepare(op, a, b, now, center)
                g0 = gc_total[0]
                try:
                    ns, offers, ended, ret = execute(fast, op, a, b, arg, now)
                    g1 = gc_total[0]
                except Exception as exc:
                    raise RuntimeError(
                        f"the router refused event {done:,} ({kind}) at t={now:.3f}: {describe(op, a, b)}"
                    ) from exc
            lat[done] = ns
            k = kind_index.get(kind)
            if k is None:
                k = kind_index[kind] = len(kinds)
                kinds.append(kind)
            kind_of[done] = k
            if g1 != g0:
                in_gc.append((done, g1 - g0))
            done += 1
            sim.after(fast, offers, ended, ret)
            t0 = clock()
            wake = fast.next_wakeup(now)
            t1 = clock()
            if done % wake_every == 0:
                wake_ns.append(t1 - t0)
            if done % 1000 == 0:
                stats.waiting_samples.append(len(sim.waiting))
            if done % 20_000 == 0:
                stats.idle_samples.append(count_idle(fast, sim))
            if done % progress_every == 0 or time.perf_counter() - last_log > 30:
                last_log = time.perf_counter()
                el = time.perf_counter() - started
                log(
                    f"{done:,}/{n:,} events, sim t+{now - T0:,.0f} s, waiting {len(sim.waiting):,}, "
                    f"engine {sum(lat[:done]) / 1e3 / done:.1f} µs/event, "
                    f"{sys.getallocatedblocks() - blocks_start:+,} memory blocks, wall {el:.0f} s"
                )
    finally:
        gc.callbacks.remove(on_gc)
    wall = time.perf_counter() - started
    blocks_end = sys.getallocatedblocks()
    if args.gc_freeze:
        gc.unfreeze()

    lat_list = lat.tolist()
    s = summarize_ns(lat_list)
    per_kind: dict[str, list[int]] = {k: [] for k in kinds}
    for i, ns in enumerate(lat_list):
        per_kind[kinds[kind_of[i]]].append(ns)
    by_kind = {
        k: {x: v for x, v in summarize_ns(v).items() if x in ("n", "p50_us", "p99_us", "max_us")}
        for k, v in sorted(per_kind.items(), key=lambda kv: -len(kv[1]))
    }
    del per_kind
    no_gc = list(lat_list)
    for i, g in in_gc:
        no_gc[i] -= g
    s_no_gc = summarize_ns(no_gc)
    del no_gc
    engine_s = sum(lat) / 1e9
    compared = len(naive_lat)
    speedup = speedup_whole = None
    naive_summary = fast_compared = None
    if compared:
        naive_summary = summarize_ns(naive_lat)
        fast_compared = summarize_ns(lat_list[:compared])
        speedup = round(sum(naive_lat) / max(1, sum(lat[:compared])), 1)
        speedup_whole = round((sum(naive_lat) / compared) / (sum(lat) / n), 1)
    ws = stats.waiting_samples or [len(sim.waiting)]
    out: dict[str, Any] = {
        "bench": "routing",
        "p50_us": s["p50_us"],
        "p99_us": s["p99_us"],
        "max_us": s["max_us"],
        "mean_us": s["mean_us"],
        "p999_us": round(sorted(lat_list)[min(n - 1, int(n * 0.999))] / 1e3, 1) if n else None,
        "events": n,
        "events_per_s": round(n / engine_s) if engine_s else None,
        "engine_s": round(engine_s, 2),
        "wall_s": round(wall, 1),
        "events_per_s_wall": round(n / wall) if wall else None,
        "by_tenth": [  # p50/p99/mean per tenth of the stream: drift shows here
            {
                k: v
                for k, v in summarize_ns(lat_list[i * n // 10 : (i + 1) * n // 10]).items()
                if k in ("p50_us", "p99_us", "mean_us")
            }
            for i in range(10)
        ]
        if n >= 10
        else [],
        "by_event": by_kind,
        "next_wakeup": {**summarize_ns(wake_ns.tolist()), "sampled_every": wake_every},
        "speedup_vs_naive": speedup,
        # the reference's mean on the compared events ÷ the fast router's mean over the whole stream: running
        # side by side with the reference (which walks all the state) makes the fast router's caches cold
        "speedup_vs_naive_whole_stream": speedup_whole,
        "naive_events_compared": compared,
        "identical_decisions": True if compared else None,
        "fast_impl": FAST_IMPL,
        "naive": {
            "impl": NAIVE_IMPL,
            "on_compared": naive_summary,
            "fast_on_compared": fast_compared,
            "setup_s": round(setup_s[1], 2) if naive else None,
        },
        "fast_setup_s": round(setup_s[0], 2),
        "setup_offers": len(setup_steps[0][0][0]),
        "sizes": {
            "agents": args.agents,
            "skills": args.skills,
            "queues": len(center.queues),
            "waiting_target": args.waiting,
            "events": n,
        },
        "steady_state": {
            "waiting_min": min(ws),
            "waiting_mean": round(sum(ws) / len(ws)),
            "waiting_max": max(ws),
            "idle_available_agents_mean": round(sum(stats.idle_samples) / len(stats.idle_samples), 1)
            if stats.idle_samples
            else None,
            "sim_time_s": round(now - T0, 1),
        },
        "event_mix": dict(stats.events.most_common()),
        "decisions": {
            "offers": stats.offers,
            "accepts": stats.accepts,
            "abandons": stats.abandons,
            "offers_ended": dict(stats.ended),
        },
        "skipped_sim_events": dict(stats.skipped),
        "stale_wakeups": stats.stale_wakeups,
        # sys.getallocatedblocks() over the event stream, the simulation included (its heap holds an abandon
        # timer per contact for ~30 simulated minutes, so it grows during the first simulated hour)
        "memory_blocks_growth": blocks_end - blocks_start,
        "gc": {
            "frozen_after_setup": args.gc_freeze,
            "collections": len(gc_pauses),
            "pause_ms_total": round(sum(gc_pauses) / 1e6, 1),
            "pause_max_ms": round(max(gc_pauses) / 1e6, 2) if gc_pauses else 0.0,
            "events_with_a_collection": len(in_gc),
            # the same latencies less the collector's pauses inside them (a diagnostic, not the figure)
            "without_gc_p50_us": s_no_gc["p50_us"],
            "without_gc_p99_us": s_no_gc["p99_us"],
            "without_gc_max_us": s_no_gc["max_us"],
        },
        "seed": args.seed,
        "python": sys.version.split()[0],
        "machine": machine(),
        "loadavg": [round(x, 2) for x in os.getloadavg()],
    }
    return out, 0


def count_idle(fast: Api, sim: Sim) -> int:
    """Agents available, not offered, not missed and with nothing in progress (few under a contact surplus)."""
    n = 0
    for aid, a in fast.router.agents.items():
        if sim.status[aid] == "available" and not a.offered and not a.missed and not sim.busy[aid] and not sim.acw[aid]:
            n += 1
    return n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--agents", type=int, default=10_000)
    parser.add_argument("--skills", type=int, default=200, help="skills, one queue each")
    parser.add_argument("--waiting", type=int, default=5_000, help="waiting contacts in the steady state")
    parser.add_argument("--events", type=int, default=1_000_000, help="measured events")
    parser.add_argument(
        "--naive-events",
        type=int,
        default=2_000,
        help="the first events also run through the reference router, decisions compared",
    )
    parser.add_argument("--wakeup-sample", type=int, default=1, help="time next_wakeup() every N events")
    parser.add_argument(
        "--no-gc-freeze",
        dest="gc_freeze",
        action="store_false",
        help="do not gc.freeze() the setup objects (gc stays enabled either way)",
    )
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    log(
        f"routing bench: {args.agents:,} agents, {args.skills} skills, {args.waiting:,} waiting, "
        f"{args.events:,} events ({args.naive_events:,} compared with {NAIVE_IMPL}); load {os.getloadavg()[0]:.2f}"
    )
    try:
        out, code = run(args, log)
    except Divergence as exc:
        log(f"DIVERGENCE: the fast and the reference routers decided differently\n{exc}")
        print(json.dumps({"bench": "routing", "identical_decisions": False, "divergence": str(exc)}))
        return 2
    print(json.dumps(out))
    return code


if __name__ == "__main__":
    sys.exit(main())

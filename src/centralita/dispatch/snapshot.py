"""The store, as the routing engine sees it: queues, agents and waiting contacts as `centralita.routing` values.

Used on start (recovery), on every configuration event (a queue or an agent changed) and when the runner
has to resynchronise a tenant. Reads only.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from centralita.contacts.status import LIVE, ContactStatus
from centralita.core.metrics_settings import ServiceLevelSettings, metrics_settings
from centralita.queues.schemas import parse_order_by
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
from centralita.store import tables as t

S = ContactStatus
SL_WINDOW_S = 30 * 60  # the longest live service-level window


def router_status(agent: t.Agent) -> str:
    """offline | available | custom:<away reason> (a `missed` agent is `custom:missed` until it is available)."""
    if not agent.active or agent.state == "offline":
        return "offline"
    if agent.state == "available":
        return "available"
    if agent.state == "away":
        return f"custom:{agent.away_reason or 'away'}"
    return f"custom:{agent.state}"


def queue_config(session: Session, row: t.Queue, codes: dict[str, int] | None = None) -> QueueConfig:
    overflow = None
    if row.overflow:
        target = (codes or {}).get(row.overflow["queue"])
        if target is None:
            target = session.scalar(
                select(t.Queue.id).where(t.Queue.tenant_id == row.tenant_id, t.Queue.code == row.overflow["queue"])
            )
        if target is not None:
            overflow = Overflow(
                queue_id=int(target),
                after_s=None if row.overflow.get("after_s") is None else float(row.overflow["after_s"]),
                when_unstaffed=bool(row.overflow.get("when_unstaffed")),
                mode=row.overflow.get("mode") or "add",
            )
    return QueueConfig(
        id=row.id,
        required_skills=tuple(sorted((str(k), int(v)) for k, v in (row.required_skills or {}).items())),
        priority_mode=row.priority_mode,
        aging_s_per_point=float(row.aging_s_per_point),
        agent_selection=row.agent_selection,
        order_by=parse_order_by(row.order_by or []),
        offer_timeout_s=float(row.offer_timeout_s),
        sl_threshold_s=float(row.sl_threshold_s),
        default_aht_s=float(row.default_aht_s),
        overflow=overflow,
        overload=_overload(row.overload),
    )


def _overload(raw: dict[str, Any] | None) -> Overload | None:
    if not raw:
        return None
    return Overload(metric=str(raw["metric"]), level1_s=float(raw["level1_s"]), level2_s=float(raw["level2_s"]))


def load_queues(session: Session, tenant_id: int) -> dict[int, QueueConfig]:
    rows = list(session.scalars(select(t.Queue).where(t.Queue.tenant_id == tenant_id)))
    codes = {q.code: q.id for q in rows}
    return {q.id: queue_config(session, q, codes) for q in rows}


def _int_attributes(raw: dict[str, Any]) -> dict[str, int]:
    return {k: int(v) for k, v in (raw or {}).items() if isinstance(v, int) and not isinstance(v, bool)}


def _skill_codes(session: Session, tenant_id: int) -> dict[int, str]:
    rows = session.execute(select(t.Skill.id, t.Skill.code).where(t.Skill.tenant_id == tenant_id))
    return {int(skill_id): str(code) for skill_id, code in rows}


def agent_state(session: Session, row: t.Agent, skill_codes: dict[int, str] | None = None) -> AgentState:
    """The agent's configuration and status (the router keeps its own offer/active/ACW bookkeeping)."""
    if skill_codes is None:
        skill_codes = _skill_codes(session, row.tenant_id)
    skills = {
        skill_codes[s.skill_id]: s.level
        for s in session.scalars(select(t.AgentSkill).where(t.AgentSkill.agent_id == row.id))
        if s.skill_id in skill_codes
    }
    profile: dict[int, ProfileEntry] = {}
    reserve: dict[int, int] = {}
    for entry in session.scalars(select(t.AgentQueue).where(t.AgentQueue.agent_id == row.id)):
        if entry.reserve_level:
            reserve[entry.queue_id] = entry.reserve_level
        else:
            profile[entry.queue_id] = ProfileEntry(rank=entry.rank, delay_s=float(entry.delay_s))
    status = router_status(row)
    return AgentState(
        id=row.id,
        status=status,
        skills=skills,
        profile=profile,
        reserve=reserve,
        capacity={str(k): int(v) for k, v in (row.capacity or {}).items()},
        exclusive_channels=frozenset(row.exclusive_channels or ()),
        idle_since=row.state_since.timestamp() if row.state_since else 0.0,
        max_missed_offers=max(1, row.max_missed_offers),
        max_occupancy=row.max_occupancy,
        acw_counts_as_idle=row.acw_counts_as_idle,
        logged_in_since=row.logged_in_at.timestamp() if row.logged_in_at and status != "offline" else None,
        call_selection=row.call_selection,
        attributes=_int_attributes(row.attributes),
    )


def membership(
    queue_id: int,
    joined_at: float,
    priority: int,
    age_adjust_s: float,
    for_agent_id: int | None,
    overflowed: bool,
    routing: str | None = None,
) -> Membership:
    """A stored (or event-carried) membership as the router's value: a membership for one agent is one
    step only that agent meets, kept for ever (a transfer to an agent); `routing` (JSON text) a flow's
    steps there."""
    steps: tuple[Step, ...] = ()
    after_steps, skip = "any_agent", False
    if for_agent_id is not None:
        steps = (Step(Requirement(agent_ids=frozenset({for_agent_id})), None),)
        after_steps = "keep_last"
    elif routing:
        spec = json.loads(routing)
        steps = tuple(
            Step(
                Requirement(
                    min_skills=tuple((str(k), int(v)) for k, v in step["skills"]),
                    agent_ids=frozenset(int(a) for a in step["agents"]) if step["agents"] is not None else None,
                ),
                None if step["duration_s"] is None else float(step["duration_s"]),
            )
            for step in spec["steps"]
        )
        after_steps, skip = str(spec["after_steps"]), bool(spec["skip_unstaffed_steps"])
    return Membership(
        queue_id=queue_id,
        enqueue_ts=joined_at,
        priority=priority,
        steps=steps,
        after_steps=after_steps,
        skip_unstaffed_steps=skip,
        age_adjust_s=age_adjust_s,
        overflowed=overflowed,
    )


def routing_text(routing: dict[str, Any] | None) -> str | None:
    """A membership's stored routing steps as the key the router projection keeps (JSON text)."""
    return None if not routing else json.dumps(routing, sort_keys=True)


def routing_of(m: Membership) -> str | None:
    """The routing steps of a router membership, as stored (None: any agent, or one agent's transfer)."""
    if not m.steps or (m.after_steps == "keep_last" and len(m.steps) == 1 and m.steps[0].duration_s is None):
        return None
    return routing_text(
        {
            "steps": [
                {
                    "skills": [list(pair) for pair in st.requirement.min_skills],
                    "agents": sorted(st.requirement.agent_ids) if st.requirement.agent_ids is not None else None,
                    "duration_s": st.duration_s,
                }
                for st in m.steps
            ],
            "after_steps": m.after_steps,
            "skip_unstaffed_steps": m.skip_unstaffed_steps,
        }
    )


def waiting_contact(contact_id: int, channel: str, rows: list[t.ContactMembership]) -> WaitingContact:
    """A queued contact as it was queued, from its membership rows (open and left): original enqueue
    times, priority, arrival order, and the queues it overflowed out of."""
    open_rows = [m for m in rows if m.left_at is None]
    return WaitingContact(
        id=contact_id,
        channel=channel,
        arrival_seq=min((m.arrival_seq for m in open_rows or rows), default=contact_id) or contact_id,
        memberships=[
            membership(
                m.queue_id,
                m.joined_at.timestamp(),
                m.priority,
                m.age_adjust_s,
                m.for_agent_id,
                m.overflowed,
                routing_text(m.routing),
            )
            for m in open_rows
        ],
        overflowed_from={m.queue_id for m in rows if m.overflowed or m.left_why == "moved"},
    )


@dataclass
class TenantSnapshot:
    """Everything routing needs for one tenant, read in one consistent transaction."""

    tenant_id: int
    last_seq: int
    queues: dict[int, QueueConfig]
    agents: list[AgentState]
    waiting: list[WaitingContact]
    open_offers: list[tuple[int, int]]  # (contact id, agent id), several per ring_all contact: withdrawn on recovery
    answers: list[tuple[int, float]] = field(default_factory=list)  # (queue, wait) oldest first: rolling ASA
    handles: list[tuple[int, float]] = field(default_factory=list)  # (queue, handle) oldest first: AHT
    dequeued: list[tuple[int, float, str, float]] = field(default_factory=list)  # (queue, ts, outcome, wait)
    acw_due: dict[int, float] = field(default_factory=dict)  # contact id → when its ACW times out
    service_level: ServiceLevelSettings = field(default_factory=ServiceLevelSettings)  # the live windows' variant


def busy_intervals(row: t.Contact, acw_counts: bool, now: dt.datetime) -> tuple[dt.datetime, dt.datetime] | None:
    """The time the contact kept its agent busy (R8): connected or on hold, then in ACW unless it counts as
    idle; up to `now` while it lasts. (Offers, seconds long, are left out.)"""
    if row.agent_connected_ts is None:
        return None
    end = row.agent_end_ts
    if acw_counts and row.acw_start_ts is not None:
        end = row.acw_end_ts
    return row.agent_connected_ts, end or now


def busy_since(intervals: list[tuple[dt.datetime, dt.datetime]], login: dt.datetime, now: dt.datetime) -> float:
    """Seconds between `login` and `now` covered by at least one interval (busy with any contact)."""
    total, reach = 0.0, login
    for start, end in sorted(intervals):
        start, end = max(start, reach), min(end, now)
        if end > start:
            total += (end - start).total_seconds()
            reach = end
    return total


def acw_deadline(row: t.Contact, timeout_s: int) -> float | None:
    """When the contact's after-contact work times out (the agent's `acw_timeout_s`; 0: never)."""
    if timeout_s <= 0 or row.acw_start_ts is None:
        return None
    return row.acw_start_ts.timestamp() + timeout_s


def _secs(a: dt.datetime | None, b: dt.datetime | None) -> float:
    return (b - a).total_seconds() if a is not None and b is not None else 0.0


def _busy_by_agent(session: Session, tenant_id: int, agents: list[t.Agent], now: dt.datetime) -> dict[int, float]:
    """R8: each online agent's busy seconds since its login, from its contacts (a rebuilt router keeps
    routing occupancy)."""
    logins = {a.id: a.logged_in_at for a in agents if a.active and a.state != "offline" and a.logged_in_at}
    if not logins:
        return {}
    acw_counts = {a.id: not a.acw_counts_as_idle for a in agents}
    intervals: dict[int, list[tuple[dt.datetime, dt.datetime]]] = {}
    rows = session.scalars(
        select(t.Contact).where(
            t.Contact.tenant_id == tenant_id,
            t.Contact.agent_id.in_(list(logins)),
            t.Contact.agent_connected_ts.is_not(None),
            (t.Contact.agent_end_ts.is_(None))  # connected or on hold now
            | (t.Contact.agent_end_ts >= min(logins.values()))
            | (t.Contact.acw_end_ts >= min(logins.values())),
        )
    )
    for c in rows:
        assert c.agent_id is not None
        span = busy_intervals(c, acw_counts[c.agent_id], now)
        if span is not None:
            intervals.setdefault(c.agent_id, []).append(span)
    return {aid: busy_since(intervals.get(aid, []), login, now) for aid, login in logins.items()}


def load_tenant(session: Session, tenant_id: int, now: dt.datetime, history: int = 10) -> TenantSnapshot:
    """Read the tenant's routing state. Call inside a snapshot transaction (REPEATABLE READ on PostgreSQL)
    so `last_seq` and the rows agree."""
    seq, tenant_settings = session.execute(
        select(t.Tenant.event_seq, t.Tenant.settings).where(t.Tenant.id == tenant_id)
    ).one()
    seq = int(seq or 0)
    queues = load_queues(session, tenant_id)
    skill_codes = _skill_codes(session, tenant_id)
    live = list(
        session.scalars(select(t.Contact).where(t.Contact.tenant_id == tenant_id, t.Contact.status.in_(sorted(LIVE))))
    )
    queued = {c.id: c for c in live if c.status == S.QUEUED}
    memberships: dict[int, list[t.ContactMembership]] = {}
    for m in session.scalars(
        select(t.ContactMembership)
        .join(t.Contact, t.Contact.id == t.ContactMembership.contact_id)
        .where(t.Contact.tenant_id == tenant_id, t.Contact.status == S.QUEUED)
        .order_by(t.ContactMembership.id)
    ):
        memberships.setdefault(m.contact_id, []).append(m)
    offers = [
        (o.contact_id, o.agent_id)
        for o in session.scalars(
            select(t.ContactOffer)
            .where(t.ContactOffer.tenant_id == tenant_id, t.ContactOffer.ended_at.is_(None))
            .order_by(t.ContactOffer.id)
        )
        if o.contact_id in queued
    ]
    handling: dict[int, dict[int, str]] = {}  # agent id → its connected or held contacts: id → channel
    acw: dict[int, int] = {}
    in_acw: list[t.Contact] = []
    waiting: list[WaitingContact] = []
    for c in live:
        if c.status == S.QUEUED:
            w = waiting_contact(c.id, c.channel, memberships.get(c.id, []))
            if w.memberships and all(m.queue_id in queues for m in w.memberships):
                waiting.append(w)
        elif c.agent_id is not None and c.status in (S.CONNECTED, S.HELD):
            handling.setdefault(c.agent_id, {})[c.id] = c.channel
        elif c.agent_id is not None and c.status == S.ACW:
            acw[c.agent_id] = acw.get(c.agent_id, 0) + 1
            in_acw.append(c)
    agents = []
    rows = list(session.scalars(select(t.Agent).where(t.Agent.tenant_id == tenant_id)))
    busy = _busy_by_agent(session, tenant_id, rows, now)
    for row in rows:
        if not row.active:
            continue
        state = agent_state(session, row, skill_codes)
        state.contacts = handling.get(row.id, {})
        state.acw = acw.get(row.id, 0)
        state.busy_s = busy.get(row.id, 0.0)
        agents.append(state)
    acw_timeouts = {row.id: row.acw_timeout_s for row in rows}  # deactivated agents' ACW times out too
    acw_due = {}
    for c in in_acw:
        due = acw_deadline(c, acw_timeouts.get(c.agent_id or 0, 0))
        if due is not None:
            acw_due[c.id] = due
    waiting.sort(key=lambda w: w.arrival_seq)
    recent = now - dt.timedelta(seconds=SL_WINDOW_S)
    dequeued = []
    for c in session.scalars(
        select(t.Contact)
        .where(
            t.Contact.tenant_id == tenant_id,
            t.Contact.dequeue_ts >= recent,
            t.Contact.queue_outcome.is_not(None),
            t.Contact.queue_id.is_not(None),
        )
        .order_by(t.Contact.dequeue_ts)
    ):
        assert c.queue_id is not None and c.dequeue_ts is not None and c.queue_outcome is not None
        dequeued.append((c.queue_id, c.dequeue_ts.timestamp(), c.queue_outcome, _secs(c.enqueue_ts, c.dequeue_ts)))
    answers: list[tuple[int, float]] = []
    handles: list[tuple[int, float]] = []
    for qid in queues:
        answered = session.scalars(
            select(t.Contact)
            .where(t.Contact.tenant_id == tenant_id, t.Contact.queue_id == qid, t.Contact.queue_outcome == "answered")
            .order_by(t.Contact.dequeue_ts.desc())
            .limit(history)
        ).all()
        answers.extend((qid, _secs(c.enqueue_ts, c.dequeue_ts)) for c in reversed(answered))
        handled = session.scalars(
            select(t.Contact)
            .where(t.Contact.tenant_id == tenant_id, t.Contact.queue_id == qid, t.Contact.acw_end_ts.is_not(None))
            .order_by(t.Contact.acw_end_ts.desc())
            .limit(history)
        ).all()
        handles.extend((qid, _secs(c.agent_connected_ts, c.acw_end_ts)) for c in reversed(handled))
    return TenantSnapshot(
        tenant_id=tenant_id,
        last_seq=seq,
        queues=queues,
        agents=agents,
        waiting=waiting,
        open_offers=offers,
        answers=answers,
        handles=handles,
        dequeued=dequeued,
        acw_due=acw_due,
        service_level=metrics_settings(tenant_settings).service_level,
    )

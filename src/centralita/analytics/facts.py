"""The fact table: one row per contact, read from the store into a Polars frame, every time as whole
microseconds since the epoch (UTC), every duration the engine needs derivable exactly.

Columns (`FACT_SCHEMA`): ids; the dimensions (codes, not names: queue, agent, team, segment, value tier,
lifecycle stage, reason, sub-reason, entry point = the number or address called); the timestamps of
metrics.md §1.1; the queue's service-level threshold; hold time; flags and survey answers. The engine
(`engine.py`) and the benchmark build the same frame, so a report never depends on where facts came from.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import polars as pl
from sqlalchemy import BigInteger, ColumnElement, String, and_, cast, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from centralita.contacts import holds
from centralita.store import tables as t

__all__ = [
    "AGENT_STATES_SCHEMA",
    "FACT_SCHEMA",
    "OFFERS_SCHEMA",
    "TIMES",
    "TOP_SKILL_LEVEL",
    "empty_facts",
    "load_agent_states",
    "load_cases",
    "load_facts",
    "load_offers",
    "skill_levels",
    "to_us",
]

TIMES = (
    "initiation_us",
    "enqueue_us",
    "dequeue_us",
    "connected_us",
    "agent_end_us",
    "acw_start_us",
    "acw_end_us",
    "disconnect_us",
)
FACT_SCHEMA: dict[str, Any] = {
    "id": pl.Int64,
    "initial_contact_id": pl.Int64,
    "customer_id": pl.Int64,
    "channel": pl.String,
    "direction": pl.String,
    "initiation_method": pl.String,
    "queue": pl.String,
    "agent": pl.String,
    "team": pl.String,
    "segment": pl.String,
    "value_tier": pl.String,
    "lifecycle_stage": pl.String,
    "reason": pl.String,
    "sub_reason": pl.String,
    "entry_point": pl.String,
    "ani": pl.String,  # the caller's number or sender's address: FCR's customer key when unidentified
    "queue_outcome": pl.String,
    "outcome": pl.String,
    **{name: pl.Int64 for name in TIMES},
    "threshold_us": pl.Int64,
    "hold_us": pl.Int64,
    "self_service": pl.Boolean,
    "in_flow": pl.Boolean,
    "resolved": pl.Boolean,
    "transferred": pl.Boolean,
    "csat": pl.Int64,
    "ces": pl.Int64,
    "nps": pl.Int64,
    "agent_hourly_cost": pl.Float64,
    "reason_avoidable": pl.Boolean,
    "reason_group": pl.String,
    "agent_skill_level": pl.Int64,
    "case_id": pl.Int64,
    "case_opened_us": pl.Int64,
    "case_closed_us": pl.Int64,
}
TOP_SKILL_LEVEL = 5  # agent skill levels run 1..5, 5 = most proficient
# the columns `load_facts` adds after the contact query: skill level and the linked case
_LATER = ("agent_skill_level", "case_id", "case_opened_us", "case_closed_us")


class _EpochMicros(FunctionElement[int]):
    """A stored UTC timestamp as whole microseconds since the epoch, computed by the database."""

    type = BigInteger()
    inherit_cache = True


@compiles(_EpochMicros, "sqlite")
def _epoch_sqlite(element: _EpochMicros, compiler: SQLCompiler, **kw: Any) -> str:
    # stored as 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC, naive): whole seconds from strftime, micros from the text
    col = compiler.process(next(iter(element.clauses)), **kw)
    return f"(CAST(strftime('%s', {col}) AS INTEGER) * 1000000 + CAST(substr({col}, 21, 6) AS INTEGER))"


@compiles(_EpochMicros, "postgresql")
def _epoch_pg(element: _EpochMicros, compiler: SQLCompiler, **kw: Any) -> str:
    col = compiler.process(next(iter(element.clauses)), **kw)
    return f"CAST(EXTRACT(EPOCH FROM {col}) * 1000000 AS BIGINT)"


def to_us(value: dt.datetime) -> int:
    """An aware datetime as whole microseconds since the epoch."""
    delta = value.astimezone(dt.UTC) - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def empty_facts() -> pl.DataFrame:
    return pl.DataFrame(schema=FACT_SCHEMA)


def _hold_us(raw: Any) -> int:
    """Σ of the contact's ended holds (a hold still open has no length yet)."""
    stored = json.loads(raw) if isinstance(raw, str) else raw
    return sum(to_us(h.end) - to_us(h.start) for h in holds.parse(stored) if h.end is not None)


def _team() -> ColumnElement[Any]:
    """An agent's team: its `team` attribute, else `equipo` (the demo's)."""
    return func.coalesce(t.Agent.attributes["team"].as_string(), t.Agent.attributes["equipo"].as_string())


def load_facts(session: Session, tenant_id: int, start: dt.datetime, end: dt.datetime) -> pl.DataFrame:
    """The tenant's contacts that may count in `[start, end)`: begun before `end`, and not over before
    `start` (an open contact, or one whose last timestamp is at or after `start`)."""
    c = t.Contact
    reason, sub = aliased(t.Reason), aliased(t.Reason)
    team = _team()
    last: ColumnElement[Any] = func.coalesce(c.acw_end_ts, c.disconnect_ts, c.agent_end_ts)
    stmt = (
        select(
            c.id,
            c.initial_contact_id,
            c.customer_id,
            c.channel,
            c.direction,
            c.initiation_method,
            t.Queue.code,
            t.Agent.code,
            team,
            c.segment,
            c.value_tier,
            c.lifecycle_stage,
            reason.code,
            sub.code,
            c.dnis,
            c.ani,
            c.queue_outcome,
            c.outcome,
            *(
                _EpochMicros(col)
                for col in (
                    c.initiation_ts,
                    c.enqueue_ts,
                    c.dequeue_ts,
                    c.agent_connected_ts,
                    c.agent_end_ts,
                    c.acw_start_ts,
                    c.acw_end_ts,
                    c.disconnect_ts,
                )
            ),
            cast(t.Queue.sl_threshold_s, BigInteger) * 1_000_000,
            cast(c.holds, String),
            c.self_service,
            c.collected["flow"].as_string().is_not(None),
            c.resolved,
            c.transferred_to.is_not(None),
            c.csat,
            c.ces,
            c.nps,
            t.Agent.hourly_cost,
            reason.avoidable,
            t.ReasonGroup.code,
        )
        .outerjoin(t.Queue, t.Queue.id == c.queue_id)
        .outerjoin(t.Agent, t.Agent.id == c.agent_id)
        .outerjoin(reason, reason.id == c.reason_id)
        .outerjoin(t.ReasonGroup, t.ReasonGroup.id == reason.group_id)
        .outerjoin(sub, sub.id == c.sub_reason_id)
        .where(
            c.tenant_id == tenant_id,
            c.initiation_ts < end,
            or_(last.is_(None), and_(last >= start)),
        )
        .order_by(c.id)
    )
    rows = session.connection().execute(stmt).all()  # Core rows: no ORM loading (a third of the time)
    schema = {name: kind for name, kind in FACT_SCHEMA.items() if name not in _LATER}
    columns: list[tuple[Any, ...]] = list(zip(*rows, strict=True)) if rows else [() for _ in schema]
    hold_at = list(schema).index("hold_us")
    columns[hold_at] = tuple(_hold_us(v) if v not in (None, "[]", "null") else 0 for v in columns[hold_at])
    facts = pl.DataFrame(
        {
            name: pl.Series(name, values, dtype=kind)
            for (name, kind), values in zip(schema.items(), columns, strict=True)
        }
    )
    levels = skill_levels(session, tenant_id)
    cases = load_cases(session, tenant_id, start, end)
    facts = facts.join(levels, on=["agent", "queue"], how="left").join(cases, on="id", how="left")
    return facts.select(pl.col(name).cast(kind) for name, kind in FACT_SCHEMA.items())


def skill_levels(session: Session, tenant_id: int) -> pl.DataFrame:
    """Per agent and queue (codes): the agent's level for the queue's required skills, the lowest of its
    levels over them (0 for a required skill it lacks); queues that require no skill are left out. These
    are the current skills: a skill changed since is not historical."""
    agent_levels: dict[str, dict[str, int]] = {}
    stmt = (
        select(t.Agent.code, t.Skill.code, t.AgentSkill.level)
        .join(t.AgentSkill, t.AgentSkill.agent_id == t.Agent.id)
        .join(t.Skill, t.Skill.id == t.AgentSkill.skill_id)
        .where(t.Agent.tenant_id == tenant_id)
    )
    for agent, skill, level in session.execute(stmt):
        agent_levels.setdefault(agent, {})[skill] = level
    agents = [code for (code,) in session.execute(select(t.Agent.code).where(t.Agent.tenant_id == tenant_id))]
    queues = session.execute(select(t.Queue.code, t.Queue.required_skills).where(t.Queue.tenant_id == tenant_id))
    rows = []
    for queue, required in queues:
        if not required:
            continue
        for agent in agents:
            mine = agent_levels.get(agent, {})
            rows.append((agent, queue, min(mine.get(skill, 0) for skill in required)))
    schema = {"agent": pl.String, "queue": pl.String, "agent_skill_level": pl.Int64}
    return pl.DataFrame(rows, schema=schema, orient="row")


def load_cases(session: Session, tenant_id: int, start: dt.datetime, end: dt.datetime) -> pl.DataFrame:
    """Per contact of `load_facts` linked to a case: its case (the first linked, by id), when the case was
    opened and when it was closed (null while open), as whole microseconds."""
    c, k, link = t.Contact, t.Case, t.CaseContact
    last: ColumnElement[Any] = func.coalesce(c.acw_end_ts, c.disconnect_ts, c.agent_end_ts)
    stmt = (
        select(link.contact_id, k.id, _EpochMicros(k.created_at), _EpochMicros(k.closed_at))
        .join(k, k.id == link.case_id)
        .join(c, c.id == link.contact_id)
        .where(k.tenant_id == tenant_id, c.tenant_id == tenant_id, c.initiation_ts < end)
        .where(or_(last.is_(None), last >= start))
        .order_by(link.contact_id, k.id)
    )
    schema = {"id": pl.Int64, "case_id": pl.Int64, "case_opened_us": pl.Int64, "case_closed_us": pl.Int64}
    frame = pl.DataFrame(session.execute(stmt).all(), schema=schema, orient="row")
    return frame.unique("id", keep="first", maintain_order=True)


AGENT_STATES_SCHEMA: dict[str, Any] = {"agent": pl.String, "team": pl.String, "at_us": pl.Int64, "state": pl.String}
OFFERS_SCHEMA: dict[str, Any] = {
    "agent": pl.String,
    "team": pl.String,
    "queue": pl.String,
    "offered_us": pl.Int64,
    "accepted": pl.Boolean,
}


def load_agent_states(session: Session, tenant_id: int, start: dt.datetime, end: dt.datetime) -> pl.DataFrame:
    """Every agent's state changes in `[start, end)`, each agent's last one before `start` first (its state
    then), sorted by agent and time: columns agent (code), at_us, state (`offline`, `available`, `away`,
    `missed`)."""
    e = t.Event
    before = (
        select(e.agent_id, func.max(e.seq).label("seq"))
        .where(e.tenant_id == tenant_id, e.type == "agent.state_changed", e.ts < start)
        .group_by(e.agent_id)
        .subquery()
    )
    state = e.data["to"].as_string()
    rows = [
        *session.execute(
            select(t.Agent.code, _team(), _EpochMicros(e.ts), state)
            .join(before, and_(before.c.agent_id == e.agent_id, before.c.seq == e.seq))
            .join(t.Agent, t.Agent.id == e.agent_id)
            .where(e.tenant_id == tenant_id)
        ),
        *session.execute(
            select(t.Agent.code, _team(), _EpochMicros(e.ts), state)
            .join(t.Agent, t.Agent.id == e.agent_id)
            .where(e.tenant_id == tenant_id, e.type == "agent.state_changed", e.ts >= start, e.ts < end)
        ),
    ]
    frame = pl.DataFrame([tuple(r) for r in rows], schema=AGENT_STATES_SCHEMA, orient="row")
    return frame.sort("agent", "at_us", maintain_order=True)


def load_offers(session: Session, tenant_id: int, start: dt.datetime, end: dt.datetime) -> pl.DataFrame:
    """The offers made in `[start, end)`: agent and queue codes, when, and whether the agent accepted."""
    o = t.ContactOffer
    rows = session.execute(
        select(t.Agent.code, _team(), t.Queue.code, _EpochMicros(o.offered_at), o.result == "accepted")
        .join(t.Agent, t.Agent.id == o.agent_id)
        .join(t.Queue, t.Queue.id == o.queue_id)
        .where(o.tenant_id == tenant_id, o.offered_at >= start, o.offered_at < end)
    )
    return pl.DataFrame([tuple(r) for r in rows], schema=OFFERS_SCHEMA, orient="row")

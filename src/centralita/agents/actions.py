"""Agent actions: the only writers of agents, skills, profiles, away reasons and agent states."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from centralita.agents.schemas import (
    AgentCreate,
    AgentFields,
    AgentStateChange,
    AgentUpdate,
    AwayReasonCreate,
    SkillCreate,
    SkillUpdate,
)
from centralita.core.actor import Actor
from centralita.core.diff import apply_changes
from centralita.core.errors import Conflict, ErrorList, InvalidInput
from centralita.core.i18n import _
from centralita.events.log import append_event
from centralita.store import tables as t

__all__ = [
    "DEFAULT_CAPACITY",
    "do_create_agent",
    "do_create_away_reason",
    "do_create_skill",
    "do_delete_agent",
    "do_update_agent",
    "do_update_away_reason",
    "do_update_skill",
    "record_state",
]

DEFAULT_CAPACITY = {"voice": 1, "chat": 3, "email": 5}


def do_create_skill(session: Session, actor: Actor, data: SkillCreate) -> t.Skill:
    if session.scalar(select(t.Skill.id).where(t.Skill.tenant_id == actor.tenant_id, t.Skill.code == data.code)):
        raise Conflict(_("skill {code!r} already exists", code=data.code))
    row = t.Skill(tenant_id=actor.tenant_id, code=data.code, name=data.name)
    session.add(row)
    session.flush()
    append_event(session, actor.tenant_id, "skill.created", actor.now(), {"code": row.code}, user_id=actor.user_id)
    return row


def do_update_skill(session: Session, actor: Actor, row: t.Skill, data: SkillUpdate) -> t.Skill:
    changes = apply_changes(row, data.model_dump(exclude_unset=True))
    if changes:
        append_event(
            session,
            actor.tenant_id,
            "skill.updated",
            actor.now(),
            {"code": row.code, "changes": changes},
            user_id=actor.user_id,
        )
    return row


def do_delete_skill(session: Session, actor: Actor, row: t.Skill) -> None:
    queues = [
        q.code
        for q in session.scalars(select(t.Queue).where(t.Queue.tenant_id == actor.tenant_id))
        if row.code in (q.required_skills or {})
    ]
    if queues:
        raise Conflict(_("skill {code!r} is required by queue(s) {queues}", code=row.code, queues=", ".join(queues)))
    session.delete(row)
    append_event(session, actor.tenant_id, "skill.deleted", actor.now(), {"code": row.code}, user_id=actor.user_id)


def do_create_away_reason(session: Session, actor: Actor, data: AwayReasonCreate) -> t.AwayReason:
    if session.scalar(
        select(t.AwayReason.id).where(t.AwayReason.tenant_id == actor.tenant_id, t.AwayReason.code == data.code)
    ):
        raise Conflict(_("away reason {code!r} already exists", code=data.code))
    row = t.AwayReason(tenant_id=actor.tenant_id, **data.model_dump())
    session.add(row)
    session.flush()
    append_event(
        session,
        actor.tenant_id,
        "away_reason.created",
        actor.now(),
        {"code": row.code},
        user_id=actor.user_id,
    )
    return row


def do_update_away_reason(session: Session, actor: Actor, row: t.AwayReason, data: AwayReasonCreate) -> t.AwayReason:
    """Replace an away reason's names and productive flag (its code stays)."""
    if data.code != row.code:
        raise InvalidInput.field("code", _("the code of an away reason cannot change"))
    changes = apply_changes(row, data.model_dump(exclude={"code"}))
    if changes:
        append_event(
            session,
            actor.tenant_id,
            "away_reason.updated",
            actor.now(),
            {"code": row.code, "changes": changes},
            user_id=actor.user_id,
        )
    return row


def _resolve_profile(
    session: Session, actor: Actor, data: AgentFields, errors: ErrorList
) -> tuple[dict[int, int] | None, list[tuple[int, Any]] | None]:
    skills: dict[int, int] | None = None
    if data.skills is not None:
        skills = {}
        for code, level in data.skills.items():
            skill_id = session.scalar(
                select(t.Skill.id).where(t.Skill.tenant_id == actor.tenant_id, t.Skill.code == code)
            )
            if skill_id is None:
                errors.add(["skills", code], _("unknown skill {code!r}", code=code))
            else:
                skills[skill_id] = level
    queues: list[tuple[int, Any]] | None = None
    if data.queues is not None:
        queues = []
        seen: set[str] = set()
        for i, entry in enumerate(data.queues):
            if entry.queue in seen:
                errors.add(["queues", i, "queue"], _("queue {code!r} is listed twice", code=entry.queue))
                continue
            seen.add(entry.queue)
            queue_id = session.scalar(
                select(t.Queue.id).where(t.Queue.tenant_id == actor.tenant_id, t.Queue.code == entry.queue)
            )
            if queue_id is None:
                errors.add(["queues", i, "queue"], _("unknown queue {code!r}", code=entry.queue))
            else:
                queues.append((queue_id, entry))
    return skills, queues


def _write_profile(
    session: Session, agent: t.Agent, skills: dict[int, int] | None, queues: list[tuple[int, Any]] | None
) -> None:
    if skills is not None:
        session.execute(delete(t.AgentSkill).where(t.AgentSkill.agent_id == agent.id))
        for skill_id, level in skills.items():
            session.add(t.AgentSkill(agent_id=agent.id, skill_id=skill_id, level=level))
    if queues is not None:
        session.execute(delete(t.AgentQueue).where(t.AgentQueue.agent_id == agent.id))
        for queue_id, entry in queues:
            session.add(
                t.AgentQueue(
                    agent_id=agent.id,
                    queue_id=queue_id,
                    rank=entry.rank,
                    delay_s=entry.delay_s,
                    reserve_level=entry.reserve,
                )
            )


_PLAIN = (
    "email",
    "languages",
    "capacity",
    "exclusive_channels",
    "max_occupancy",
    "acw_timeout_s",
    "acw_counts_as_idle",
    "max_missed_offers",
    "call_selection",
    "hourly_cost",
    "attributes",
    "name",
    "active",
)
_NOT_NULL = (
    "languages",
    "capacity",
    "exclusive_channels",
    "acw_timeout_s",
    "acw_counts_as_idle",
    "max_missed_offers",
    "call_selection",
    "attributes",
    "name",
    "active",
)


def do_create_agent(session: Session, actor: Actor, data: AgentCreate) -> t.Agent:
    if session.scalar(select(t.Agent.id).where(t.Agent.tenant_id == actor.tenant_id, t.Agent.code == data.code)):
        raise Conflict(_("agent {code!r} already exists", code=data.code))
    errors = ErrorList()
    skills, queues = _resolve_profile(session, actor, data, errors)
    errors.raise_if_any(_("the agent is not valid"))
    values = {k: v for k, v in data.model_dump(include=set(_PLAIN)).items() if v is not None}
    values.setdefault("capacity", dict(DEFAULT_CAPACITY))
    values.setdefault("languages", ["es"])
    now = actor.now()  # the row's state_since is the event's time (realtime clients rebuild it from there)
    agent = t.Agent(tenant_id=actor.tenant_id, code=data.code, state="offline", state_since=now, **values)
    session.add(agent)
    session.flush()
    _write_profile(session, agent, skills, queues)
    append_event(
        session,
        actor.tenant_id,
        "agent.created",
        now,
        {"code": agent.code, "name": agent.name},
        agent_id=agent.id,
        user_id=actor.user_id,
    )
    return agent


def do_update_agent(session: Session, actor: Actor, agent: t.Agent, data: AgentUpdate) -> t.Agent:
    errors = ErrorList()
    given = data.model_fields_set
    for key in _NOT_NULL:
        if key in given and getattr(data, key) is None:
            errors.add([key], _("must not be null"))
    skills, queues = _resolve_profile(session, actor, data, errors)
    errors.raise_if_any(_("the update is not valid"))
    values = {k: getattr(data, k) for k in _PLAIN if k in given}
    changes = apply_changes(agent, values)
    if skills is not None:
        changes["skills"] = [None, data.skills]
    if queues is not None:
        changes["queues"] = [None, [e.model_dump() for e in data.queues or []]]
    _write_profile(session, agent, skills, queues)
    if changes:
        append_event(
            session,
            actor.tenant_id,
            "agent.updated",
            actor.now(),
            {"code": agent.code, "changes": changes},
            agent_id=agent.id,
            user_id=actor.user_id,
        )
    return agent


def do_delete_agent(session: Session, actor: Actor, agent: t.Agent) -> None:
    """Agents are deactivated (and logged off), never removed: their contacts stay attributed."""
    if agent.state != "offline":
        do_change_agent_state(session, actor, agent, AgentStateChange(state="offline"))
    if agent.active:
        agent.active = False
        append_event(
            session,
            actor.tenant_id,
            "agent.deleted",
            actor.now(),
            {"code": agent.code},
            agent_id=agent.id,
            user_id=actor.user_id,
        )


def do_change_agent_state(session: Session, actor: Actor, agent: t.Agent, data: AgentStateChange) -> t.Agent:
    if data.state == "away":
        if data.away_reason is None:
            raise InvalidInput.field("away_reason", _("required when the state is away"))
        if (
            session.scalar(
                select(t.AwayReason.id).where(
                    t.AwayReason.tenant_id == actor.tenant_id, t.AwayReason.code == data.away_reason
                )
            )
            is None
        ):
            raise InvalidInput.field("away_reason", _("unknown away reason {code!r}", code=data.away_reason))
    elif data.away_reason is not None:
        raise InvalidInput.field("away_reason", _("only with the state away"))
    if not agent.active and data.state != "offline":
        raise Conflict(_("agent {code!r} is deactivated", code=agent.code))
    if agent.state == data.state and agent.away_reason == data.away_reason:
        return agent
    record_state(session, actor, agent, data.state, data.away_reason)
    return agent


def record_state(session: Session, actor: Actor, agent: t.Agent, state: str, away_reason: str | None) -> None:
    """Set the agent's state and append `agent.state_changed` (callers have validated the change)."""
    before = agent.state
    agent.state = state
    agent.away_reason = away_reason
    now = actor.now()  # state_since is the event's time (realtime clients rebuild it from there)
    agent.state_since = now
    if state == "offline":
        agent.logged_in_at = None
    elif before == "offline" or agent.logged_in_at is None:
        agent.logged_in_at = agent.state_since  # a login: routing occupancy counts from here (R8)
    append_event(
        session,
        actor.tenant_id,
        "agent.state_changed",
        now,
        {"code": agent.code, "from": before, "to": state, "away_reason": away_reason},
        agent_id=agent.id,
        user_id=actor.user_id,
    )

"""Agent reads: the public view with skills and profile, the queues an agent serves."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from centralita.agents.schemas import AgentPublic, ProfileEntry
from centralita.store import tables as t

__all__ = ["agent_public", "list_agents"]


def agent_public(session: Session, agent: t.Agent) -> AgentPublic:
    skills = {
        code: level
        for code, level in session.execute(
            select(t.Skill.code, t.AgentSkill.level)
            .join(t.AgentSkill, t.AgentSkill.skill_id == t.Skill.id)
            .where(t.AgentSkill.agent_id == agent.id)
            .order_by(t.Skill.code)
        )
    }
    queues = [
        ProfileEntry(queue=code, rank=rank, delay_s=delay, reserve=reserve)
        for code, rank, delay, reserve in session.execute(
            select(t.Queue.code, t.AgentQueue.rank, t.AgentQueue.delay_s, t.AgentQueue.reserve_level)
            .join(t.AgentQueue, t.AgentQueue.queue_id == t.Queue.id)
            .where(t.AgentQueue.agent_id == agent.id)
            .order_by(t.AgentQueue.rank, t.Queue.code)
        )
    ]
    return AgentPublic(
        id=agent.id,
        code=agent.code,
        name=agent.name,
        email=agent.email,
        languages=list(agent.languages),
        skills=skills,
        queues=queues,
        capacity=dict(agent.capacity),
        exclusive_channels=list(agent.exclusive_channels),
        max_occupancy=agent.max_occupancy,
        acw_timeout_s=agent.acw_timeout_s,
        acw_counts_as_idle=agent.acw_counts_as_idle,
        max_missed_offers=agent.max_missed_offers,
        call_selection=agent.call_selection,
        hourly_cost=agent.hourly_cost,
        attributes=dict(agent.attributes),
        state=agent.state,
        away_reason=agent.away_reason,
        state_since=agent.state_since,
        active=agent.active,
    )


def list_agents(session: Session, tenant_id: int, include_inactive: bool = False) -> list[t.Agent]:
    stmt = select(t.Agent).where(t.Agent.tenant_id == tenant_id)
    if not include_inactive:
        stmt = stmt.where(t.Agent.active.is_(True))
    return list(session.scalars(stmt.order_by(t.Agent.code)))

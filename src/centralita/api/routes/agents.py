"""Agents, skills, away reasons and agent states."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.orm import Session

from centralita import access
from centralita.agents import actions, queries
from centralita.agents.schemas import (
    AgentCreate,
    AgentPublic,
    AgentStateChange,
    AgentUpdate,
    AwayReasonCreate,
    AwayReasonPublic,
    SkillCreate,
    SkillPublic,
    SkillUpdate,
)
from centralita.api.auth import AdminActor, AgentActing, AgentActor, ServiceDep, SupervisorActor
from centralita.api.openapi import problem_response
from centralita.core.actor import Actor
from centralita.core.errors import Forbidden, NotFound
from centralita.core.i18n import _
from centralita.store import tables as t
from centralita.store.lookup import code_or_not_found, list_by_code

router = APIRouter(tags=["agents"])


def _agent(s: Session, actor: Actor, code: str) -> t.Agent:
    return code_or_not_found(s, t.Agent, actor.tenant_id, code, "agent")


def _own_agent(s: Session, actor: Actor) -> t.Agent:
    if actor.agent_id is None:
        raise NotFound(_("this user is not an agent"))
    agent = s.get(t.Agent, actor.agent_id)
    if agent is None or agent.tenant_id != actor.tenant_id:
        raise NotFound(_("this user's agent no longer exists"))
    return agent


@router.get("/agents")
def list_agents(actor: SupervisorActor, svc: ServiceDep, include_inactive: bool = False) -> list[AgentPublic]:
    with svc.db.read() as s:
        return [queries.agent_public(s, a) for a in queries.list_agents(s, actor.tenant_id, include_inactive)]


@router.post("/agents", status_code=201)
def create_agent(body: AgentCreate, actor: AdminActor, svc: ServiceDep) -> AgentPublic:
    with svc.db.write() as s:
        return queries.agent_public(s, actions.do_create_agent(s, actor, body))


@router.get("/agents/me", responses={404: problem_response("This user is not an agent")})
def my_agent(actor: AgentActor, svc: ServiceDep) -> AgentPublic:
    with svc.db.read() as s:
        return queries.agent_public(s, _own_agent(s, actor))


@router.post("/agents/me/state", responses={404: problem_response("This user is not an agent")})
async def change_my_state(body: AgentStateChange, gate: AgentActing) -> AgentPublic:
    """On the agents' lane (api/auth.py `ActGate`), written before new contacts waiting to write."""

    def work(actor: Actor) -> AgentPublic:
        with gate.svc.db.write(urgent=True) as s:
            return queries.agent_public(s, actions.do_change_agent_state(s, actor, _own_agent(s, actor), body))

    return await gate.run(work)


@router.get("/agents/{code}")
def get_agent(code: str, actor: AgentActor, svc: ServiceDep) -> AgentPublic:
    with svc.db.read() as s:
        agent = _agent(s, actor, code)
        access.check_sees_agent(actor, agent.id)
        return queries.agent_public(s, agent)


@router.patch("/agents/{code}")
def update_agent(code: str, body: AgentUpdate, actor: SupervisorActor, svc: ServiceDep) -> AgentPublic:
    """An admin changes anything; a supervisor an agent's skills and queues (live, from the wallboard)."""
    access.check_agent_fields(actor, body.model_fields_set)
    with svc.db.write() as s:
        return queries.agent_public(s, actions.do_update_agent(s, actor, _agent(s, actor, code), body))


@router.delete("/agents/{code}", status_code=204)
def delete_agent(code: str, actor: AdminActor, svc: ServiceDep) -> None:
    with svc.db.write() as s:
        actions.do_delete_agent(s, actor, _agent(s, actor, code))


@router.post("/agents/{code}/state")
async def change_state(code: str, body: AgentStateChange, gate: AgentActing) -> AgentPublic:
    """An agent changes its own state; a supervisor may change anyone's (e.g. log off a forgotten seat)."""

    def work(actor: Actor) -> AgentPublic:
        with gate.svc.db.write(urgent=True) as s:
            agent = _agent(s, actor, code)
            if not access.can_change_agent_state(actor, agent.id):
                raise Forbidden(_("agents change only their own state"))
            return queries.agent_public(s, actions.do_change_agent_state(s, actor, agent, body))

    return await gate.run(work)


@router.get("/skills")
def list_skills(actor: SupervisorActor, svc: ServiceDep) -> list[SkillPublic]:
    with svc.db.read() as s:
        return [SkillPublic.model_validate(r) for r in list_by_code(s, t.Skill, actor.tenant_id)]


@router.post("/skills", status_code=201)
def create_skill(body: SkillCreate, actor: AdminActor, svc: ServiceDep) -> SkillPublic:
    with svc.db.write() as s:
        return SkillPublic.model_validate(actions.do_create_skill(s, actor, body))


def _skill(s: Session, actor: Actor, code: str) -> t.Skill:
    return code_or_not_found(s, t.Skill, actor.tenant_id, code, "skill")


@router.patch("/skills/{code}")
def update_skill(code: str, body: SkillUpdate, actor: AdminActor, svc: ServiceDep) -> SkillPublic:
    with svc.db.write() as s:
        return SkillPublic.model_validate(actions.do_update_skill(s, actor, _skill(s, actor, code), body))


@router.delete("/skills/{code}", status_code=204)
def delete_skill(code: str, actor: AdminActor, svc: ServiceDep) -> None:
    with svc.db.write() as s:
        actions.do_delete_skill(s, actor, _skill(s, actor, code))


@router.get("/away-reasons")
def list_away_reasons(actor: AgentActor, svc: ServiceDep) -> list[AwayReasonPublic]:
    with svc.db.read() as s:
        return [AwayReasonPublic.model_validate(r) for r in list_by_code(s, t.AwayReason, actor.tenant_id)]


@router.post("/away-reasons", status_code=201)
def create_away_reason(body: AwayReasonCreate, actor: AdminActor, svc: ServiceDep) -> AwayReasonPublic:
    with svc.db.write() as s:
        return AwayReasonPublic.model_validate(actions.do_create_away_reason(s, actor, body))

"""Builders for test data through the real actions (never by writing rows directly)."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi.testclient import TestClient

from centralita.accounts.actions import do_create_tenant, do_create_user
from centralita.accounts.schemas import TenantCreate, UserCreate
from centralita.agents.actions import do_create_agent, do_create_away_reason, do_create_skill
from centralita.agents.schemas import AgentCreate, AwayReasonCreate, ProfileEntry, SkillCreate
from centralita.core.actor import Actor
from centralita.queues.actions import do_create_queue
from centralita.queues.schemas import QueueCreate
from centralita.service import Service

PASSWORD = "correct horse battery"


@dataclass
class World:
    """One tenant with a skill, two queues, two agents and a user per role."""

    slug: str
    tenant_id: int
    admin: Actor
    usernames: dict[str, str]
    agent_codes: list[str]
    _clients: dict[str, TestClient] = field(default_factory=dict)

    def client(self, service: Service, role: str) -> TestClient:
        if role not in self._clients:
            from centralita.api.app import create_app

            client = TestClient(create_app(service))
            resp = client.post(
                "/api/auth/login", json={"username": self.usernames[role], "password": PASSWORD, "tenant": self.slug}
            )
            assert resp.status_code == 200, resp.text
            client.headers["X-CSRF-Token"] = resp.json()["csrf_token"]
            self._clients[role] = client
        return self._clients[role]


def make_world(service: Service, slug: str) -> World:
    with service.db.write() as s:
        tenant = do_create_tenant(s, TenantCreate(slug=slug, name=f"Banco {slug}"), service.clock)
        admin = Actor(tenant_id=tenant.id, role="admin", username="setup", clock=service.clock)
        do_create_skill(s, admin, SkillCreate(code="banca", name="Banca"))
        do_create_away_reason(s, admin, AwayReasonCreate(code="descanso", name_es="Descanso", name_en="Break"))
        do_create_queue(s, admin, QueueCreate(code="atencion", name="Atención"))
        do_create_queue(s, admin, QueueCreate(code="cobros", name="Cobros", required_skills={"banca": 3}))
        do_create_agent(
            s, admin, AgentCreate(code="ana", name="Ana", skills={"banca": 4}, queues=[ProfileEntry(queue="atencion")])
        )
        do_create_agent(
            s, admin, AgentCreate(code="luis", name="Luis", skills={"banca": 2}, queues=[ProfileEntry(queue="cobros")])
        )
        usernames = {}
        for role, agent in (("admin", None), ("supervisor", None), ("agent", "ana"), ("agent2", "luis")):
            name = f"{role}@{slug}"
            do_create_user(s, admin, UserCreate(username=name, password=PASSWORD, role=role.rstrip("2"), agent=agent))
            usernames[role] = name
        return World(slug=slug, tenant_id=tenant.id, admin=admin, usernames=usernames, agent_codes=["ana", "luis"])

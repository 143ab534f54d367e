"""Fixtures for live routing: the API world with the routing runner started (on SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from centralita.dispatch.runner import Dispatcher
from tests.conftest import Api


class Live:
    """The API plus helpers to drive contacts and wait for the router."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.service = api.service
        self.clock: Any = api.service.clock

    @property
    def dispatch(self) -> Dispatcher:
        assert self.service.dispatch is not None
        return self.service.dispatch

    def sync(self) -> None:
        self.dispatch.sync()

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)
        self.sync()

    def client(self, role: str) -> TestClient:
        return self.api.client(role)

    def available(self, role: str = "agent") -> None:
        resp = self.client(role).post("/api/agents/me/state", json={"state": "available"})
        assert resp.status_code == 200, resp.text
        self.sync()

    def new_contact(self, queue: str = "atencion", channel: str = "chat", **extra: Any) -> dict[str, Any]:
        body = {"channel": channel, "from": extra.pop("from_", "chat-42"), "queue": queue, **extra}
        resp = self.client("supervisor").post("/api/contacts", json=body)
        assert resp.status_code == 201, resp.text
        self.sync()
        return dict(resp.json())

    def contact(self, contact_id: int) -> dict[str, Any]:
        resp = self.client("supervisor").get(f"/api/contacts/{contact_id}")
        assert resp.status_code == 200, resp.text
        return dict(resp.json())

    def offered_to(self, contact_id: int) -> int | None:
        offered = self.offered_agents(contact_id)
        assert len(offered) <= 1, offered
        return offered[0] if offered else None

    def offered_agents(self, contact_id: int) -> list[int]:
        """The agents the contact rings now, as stored (several for a ring_all queue)."""
        from centralita.contacts.queries import open_offers
        from centralita.store import tables as t

        with self.service.db.read() as s:
            assert s.get(t.Contact, contact_id) is not None
            return [o.agent_id for o in open_offers(s, contact_id)]

    def agent_id(self, code: str) -> int:
        from sqlalchemy import select

        from centralita.store import tables as t

        with self.service.db.read() as s:
            found = s.scalar(select(t.Agent.id).where(t.Agent.tenant_id == self.api.a.tenant_id, t.Agent.code == code))
            assert found is not None
            return int(found)

    def types(self, contact_id: int) -> list[str]:
        return [e["type"] for e in self.contact(contact_id)["timeline"]]


@pytest.fixture
def live(api: Api) -> Live:
    for world in (api.a, api.b):  # log in first: logins are events, and some tests count events
        for role in ("admin", "supervisor", "agent", "agent2"):
            api.client(role, world)
    api.service.start_routing()
    out = Live(api)
    out.sync()
    return out

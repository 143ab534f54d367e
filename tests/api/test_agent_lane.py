"""The agents' lane (api/auth.py `ActGate`): an agent's action (state, accept, end, wrap-up…) runs on the
lane's own threads, so it goes through while every thread of the default pool, the one FastAPI's sync
routes and dependencies take, is in use: under a burst of new contacts the actions that drain the load
never wait behind it."""

from __future__ import annotations

import threading
from typing import Any

import anyio.to_thread
from fastapi.testclient import TestClient

from tests.conftest import Api
from tests.factories import PASSWORD


def test_an_agents_action_goes_through_while_the_default_thread_pool_is_full(api: Api) -> None:
    from centralita.api.app import create_app

    with TestClient(create_app(api.service)) as client:  # one event loop for every request below
        login = {"username": api.a.usernames["agent"], "password": PASSWORD, "tenant": api.a.slug}
        resp = client.post("/api/auth/login", json=login)
        assert resp.status_code == 200, resp.text
        client.headers["X-CSRF-Token"] = resp.json()["csrf_token"]
        assert client.portal is not None
        limiter = client.portal.call(anyio.to_thread.current_default_thread_limiter)
        holders = [object() for _ in range(int(limiter.total_tokens))]
        for holder in holders:  # every thread of the default pool is taken
            client.portal.call(limiter.acquire_on_behalf_of, holder)
        answered: list[Any] = []
        ordinary = threading.Thread(target=lambda: answered.append(client.get("/api/health")))
        try:
            ordinary.start()
            ordinary.join(0.5)
            assert ordinary.is_alive() and not answered  # a sync route waits for a thread of the pool
            acted: list[Any] = []
            action = threading.Thread(
                target=lambda: acted.append(client.post("/api/agents/me/state", json={"state": "available"}))
            )
            action.start()
            action.join(10)
            assert acted, "the agent's action waited for the default thread pool"
            assert acted[0].status_code == 200, acted[0].text
            assert acted[0].json()["state"] == "available"
            assert ordinary.is_alive() and not answered  # the pool is still full: the action did not use it
        finally:
            for holder in holders:
                client.portal.call(limiter.release_on_behalf_of, holder)
        ordinary.join(10)
        action.join(10)
        assert answered and answered[0].status_code == 200

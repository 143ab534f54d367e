"""Authentication and one test per role boundary."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from starlette.routing import BaseRoute

from tests.conftest import Api
from tests.factories import PASSWORD


def test_anonymous_gets_401_problem(api: Api) -> None:
    resp = api.anonymous().get("/api/customers")
    assert resp.status_code == 401
    assert resp.json()["type"].endswith("/unauthorized")


def test_wrong_password_is_401_and_rate_limited(api: Api) -> None:
    client = api.anonymous()
    body = {"username": api.a.usernames["admin"], "password": "nope-nope", "tenant": "norte"}
    codes = [client.post("/api/auth/login", json=body).status_code for _ in range(6)]
    assert codes[:5] == [401] * 5 and codes[5] == 429
    # even the right password is refused while limited
    ok = dict(body, password=PASSWORD)
    resp = client.post("/api/auth/login", json=ok)
    assert resp.status_code == 429 and int(resp.headers["retry-after"]) >= 1


def test_password_hash_is_argon2(api: Api) -> None:
    from sqlalchemy import select

    from centralita.store.tables import User

    with api.service.db.read() as s:
        hashes = list(s.scalars(select(User.password_hash)))
    assert hashes and all(h.startswith("$argon2id$") for h in hashes)
    assert not any(PASSWORD in h for h in hashes)


def test_cookie_session_needs_csrf_header_for_writes(api: Api) -> None:
    client = api.client("agent")
    token = client.headers.pop("X-CSRF-Token")
    resp = client.post("/api/customers", json={"name": "Sin CSRF"})
    assert resp.status_code == 403 and "X-CSRF-Token" in resp.json()["detail"]
    client.headers["X-CSRF-Token"] = token
    assert client.post("/api/customers", json={"name": "Con CSRF"}).status_code == 201


def test_logout_ends_session(api: Api) -> None:
    client = api.client("supervisor")
    assert client.post("/api/auth/logout").status_code == 204
    assert client.get("/api/customers").status_code == 401


def test_agent_cannot_administer(api: Api) -> None:
    agent = api.client("agent")
    assert agent.post("/api/queues", json={"code": "nueva", "name": "Nueva"}).status_code == 403
    assert agent.get("/api/agents").status_code == 403
    assert agent.get("/api/users").status_code == 403
    assert agent.get("/api/events").status_code == 403
    assert agent.post("/api/agents/luis/state", json={"state": "available"}).status_code == 403
    assert agent.get("/api/agents/luis").status_code == 403


def test_agent_manages_own_state(api: Api) -> None:
    agent = api.client("agent")
    resp = agent.post("/api/agents/me/state", json={"state": "away", "away_reason": "descanso"})
    assert resp.status_code == 200 and resp.json()["state"] == "away"
    resp = agent.post("/api/agents/me/state", json={"state": "away"})
    assert resp.status_code == 422 and resp.json()["errors"][0]["field"] == "away_reason"


def test_supervisor_reads_and_changes_states_but_cannot_configure(api: Api) -> None:
    sup = api.client("supervisor")
    assert sup.get("/api/agents").status_code == 200
    assert sup.post("/api/agents/luis/state", json={"state": "available"}).json()["state"] == "available"
    assert sup.post("/api/queues", json={"code": "nueva", "name": "Nueva"}).status_code == 403
    assert sup.post("/api/users", json={"username": "x1", "password": PASSWORD, "role": "admin"}).status_code == 403


def test_admin_configures(api: Api) -> None:
    admin = api.client("admin")
    assert admin.post("/api/queues", json={"code": "nueva", "name": "Nueva"}).status_code == 201
    resp = admin.post("/api/users", json={"username": "sup2", "password": PASSWORD, "role": "supervisor"})
    assert resp.status_code == 201


def test_agent_sees_only_its_queues(api: Api) -> None:
    queues = api.client("agent").get("/api/queues").json()
    assert [q["code"] for q in queues] == ["atencion"]
    assert api.client("agent").get("/api/queues/cobros").status_code == 403
    assert len(api.client("supervisor").get("/api/queues").json()) == 2


def test_api_token_acts_with_its_role(api: Api) -> None:
    admin = api.client("admin")
    issued = admin.post("/api/tokens", json={"name": "crm-sync", "role": "supervisor"}).json()
    bearer = api.anonymous()
    bearer.headers["Authorization"] = f"Bearer {issued['token']}"
    assert bearer.get("/api/agents").status_code == 200  # supervisor may read
    assert bearer.post("/api/queues", json={"code": "q9", "name": "Q9"}).status_code == 403  # not admin
    assert admin.delete(f"/api/tokens/{issued['id']}").status_code == 200
    assert bearer.get("/api/agents").status_code == 401


def test_every_route_has_an_access_check(api: Api) -> None:
    from fastapi.routing import APIRoute, APIWebSocketRoute

    from centralita.api.auth import ACCESS_MARK
    from centralita.webui.pages import PAGES

    app = api.anonymous().app
    assert isinstance(app, FastAPI)
    checked = 0
    for route in _routes(app.routes):
        if isinstance(route, APIRoute):
            marks = [getattr(d.call, ACCESS_MARK, None) for d in _walk(route.dependant)]
            assert any(marks), f"{route.methods} {route.path} has no access check"
            # open on purpose: login, health, the web chat (its visitors are anonymous) and the browser's
            # pages and files (static code; every datum behind them comes from the API, which checks)
            static = set(PAGES) | {"/assets/{name}", "/widget.js"}
            if route.path not in ("/auth/login", "/api/health", *static) and "/chat/" not in route.path:
                assert "public" not in marks, f"{route.path} is public"
            checked += 1
        elif isinstance(route, APIWebSocketRoute):
            checked += 1  # authenticates in its handler (tests/api/test_realtime.py)
    assert checked > 40


def _routes(routes: Iterable[BaseRoute]) -> Iterator[BaseRoute]:
    """Routes, descending into included routers (FastAPI keeps them as wrappers)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _routes(inner.routes)
        else:
            yield route


def _walk(dep: Dependant) -> Iterator[Dependant]:
    yield dep
    for sub in dep.dependencies:
        yield from _walk(sub)

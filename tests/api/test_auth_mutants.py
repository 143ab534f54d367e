"""Authentication rules the mutation check (`scripts/mutate.py src/centralita/api/auth.py`) found untested.

Each test names the rule it holds; the mutants left alive are listed in docs/architecture.md ("Auth and
tenancy"). The login limiter is tested the same way in memory and in Redis (`limited` runs each test on
both), each test from a client address of its own so that Redis keys left by other tests and workers never
count.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient

from centralita.api import auth
from centralita.api.app import create_app
from centralita.core.clock import FakeClock
from centralita.core.errors import Forbidden, TooManyRequests
from centralita.core.settings import Settings
from centralita.events.bus import LocalBus
from centralita.service import Service
from centralita.store.db import Database
from tests.conftest import REDIS_URL, Api
from tests.factories import PASSWORD, World, make_world

WRONG = "not the password"

# --- session cookie and CSRF token ------------------------------------------------------------------------


def test_login_sets_the_session_cookie_and_a_readable_csrf_cookie(api: Api) -> None:
    resp = api.anonymous().post(
        "/api/auth/login", json={"username": api.a.usernames["agent"], "password": PASSWORD, "tenant": "norte"}
    )
    assert resp.status_code == 200, resp.text
    cookies = {c.split("=", 1)[0]: c for c in resp.headers.get_list("set-cookie")}
    assert set(cookies) == {"centralita_session", "centralita_csrf"}
    assert "httponly" in cookies["centralita_session"].lower()
    assert "httponly" not in cookies["centralita_csrf"].lower()  # the page's script reads it
    assert resp.cookies["centralita_csrf"] == resp.json()["csrf_token"]


def test_reads_need_only_the_session_cookie(api: Api) -> None:
    client = api.client("supervisor")
    token = client.headers.pop("X-CSRF-Token")
    try:
        assert client.get("/api/customers").status_code == 200
        assert client.get("/api/auth/me").json()["role"] == "supervisor"
        assert client.post("/api/customers", json={"name": "Sin CSRF"}).status_code == 403
    finally:
        client.headers["X-CSRF-Token"] = token


def test_a_closed_or_expired_session_is_refused(api: Api, clock: FakeClock) -> None:
    client = api.client("agent")
    cookie = client.cookies["centralita_session"]
    assert client.post("/api/auth/logout").status_code == 204
    kept = api.anonymous()  # the cookie kept by hand after the logout
    kept.cookies.set("centralita_session", cookie)
    resp = kept.get("/api/customers")
    assert resp.status_code == 401 and "log in again" in resp.json()["detail"], resp.text

    sup = api.client("supervisor")
    assert sup.get("/api/customers").status_code == 200
    clock.advance(8 * 86400)  # sessions last 7 days
    resp = sup.get("/api/customers")
    assert resp.status_code == 401 and "log in again" in resp.json()["detail"], resp.text


@dataclass
class _Request:
    """What `authenticate` reads of a request (the WebSocket handshake passes such an object too)."""

    method: str
    headers: dict[str, str]
    cookies: dict[str, str]
    state: SimpleNamespace


def test_safe_methods_need_no_csrf_token_and_every_other_method_does(api: Api) -> None:
    client = api.client("agent")
    cookie = client.cookies["centralita_session"]
    csrf = client.headers["X-CSRF-Token"]

    def request(method: str, headers: dict[str, str] | None = None) -> _Request:
        return _Request(method, headers or {}, {"centralita_session": cookie}, SimpleNamespace())

    for method in ("GET", "HEAD", "OPTIONS"):
        actor = auth.authenticate(request(method), api.service)  # type: ignore[arg-type]
        assert (actor.tenant_id, actor.role, actor.username) == (api.a.tenant_id, "agent", api.a.usernames["agent"])
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        with pytest.raises(Forbidden):
            auth.authenticate(request(method), api.service)  # type: ignore[arg-type]
        with pytest.raises(Forbidden):
            auth.authenticate(request(method, {"X-CSRF-Token": csrf[:-1]}), api.service)  # type: ignore[arg-type]
        actor = auth.authenticate(request(method, {"X-CSRF-Token": csrf}), api.service)  # type: ignore[arg-type]
        assert actor.role == "agent"


# --- the login limiter ---------------------------------------------------------------------------------------


@dataclass
class Limited:
    service: Service
    world: World

    def client(self, host: str | None = None) -> TestClient:
        """A client at an address of its own (or the one given)."""
        return TestClient(create_app(self.service), client=(host or f"client-{uuid.uuid4().hex}", 50000))

    def login(self, client: TestClient, role: str = "admin", password: str = WRONG, **body: Any) -> httpx.Response:
        username = body.pop("username", None) or self.world.usernames[role]
        return client.post("/api/auth/login", json={"username": username, "password": password, "tenant": "norte"})


def _limited(url: str, data_dir: Path, kind: str, per_minute: int) -> Iterator[Limited]:
    settings = Settings(
        data_dir=data_dir,
        database_url=url,
        secret_key="test-secret",
        login_attempts_per_minute=per_minute,
        redis_url=REDIS_URL if kind == "redis" else None,
    )
    bus = LocalBus()  # the limiter follows settings.redis_url; events stay in this process
    service = Service(settings=settings, db=Database(url, bus=bus), bus=bus, clock=FakeClock())
    try:
        yield Limited(service, make_world(service, "norte"))
    finally:
        service.close()


@pytest.fixture(params=["memory", "redis"])
def limited(request: pytest.FixtureRequest, sqlite_url: str, tmp_path: Path) -> Iterator[Limited]:
    yield from _limited(sqlite_url, tmp_path, request.param, per_minute=5)


@pytest.fixture
def limited_in_memory(sqlite_url: str, tmp_path: Path) -> Iterator[Limited]:
    yield from _limited(sqlite_url, tmp_path, "memory", per_minute=5)


@pytest.fixture(params=["memory", "redis"])
def limited_to_one(request: pytest.FixtureRequest, sqlite_url: str, tmp_path: Path) -> Iterator[Limited]:
    yield from _limited(sqlite_url, tmp_path, request.param, per_minute=1)


def test_the_limit_is_per_client_and_username(limited: Limited) -> None:
    client = limited.client()
    assert [limited.login(client).status_code for _ in range(6)] == [401] * 5 + [429]
    refused = limited.login(client, password=PASSWORD)  # even the right password, meanwhile
    assert refused.status_code == 429 and "too many login attempts" in refused.json()["detail"], refused.text
    assert limited.login(client, "supervisor", PASSWORD).status_code == 200  # another user from that client
    assert limited.login(limited.client(), password=PASSWORD).status_code == 200  # that user from elsewhere


def test_the_client_and_the_username_are_counted_apart(limited: Limited) -> None:
    """("c-…", "1admin@norte") and ("c-…1", "admin@norte") are different pairs, though they read alike run
    together."""
    host = f"client-{uuid.uuid4().hex}"
    admin = limited.world.usernames["admin"]
    first = limited.client(host)
    assert [limited.login(first, username="1" + admin).status_code for _ in range(6)] == [401] * 5 + [429]
    assert limited.login(limited.client(host + "1"), password=PASSWORD).status_code == 200


def test_a_client_gets_five_times_the_limit_across_usernames(limited: Limited) -> None:
    client = limited.client()
    codes = [limited.login(client, username=f"nadie{i}").status_code for i in range(26)]
    assert codes == [401] * 25 + [429]
    assert limited.login(client, "supervisor", PASSWORD).status_code == 429  # the client is limited
    assert limited.login(limited.client(), "supervisor", PASSWORD).status_code == 200  # another one is not


def test_a_limit_of_one_lets_one_failure_through(limited_to_one: Limited) -> None:
    client = limited_to_one.client()
    assert [limited_to_one.login(client).status_code for _ in range(2)] == [401, 429]


def test_retry_after_counts_down_from_the_first_failure(limited: Limited) -> None:
    client = limited.client()
    started = time.monotonic()
    assert limited.login(client).status_code == 401
    time.sleep(1.1)
    assert [limited.login(client).status_code for _ in range(4)] == [401] * 4
    resp = limited.login(client)
    elapsed = time.monotonic() - started  # at least the time between the first failure and the refusal
    assert resp.status_code == 429
    retry = int(resp.headers["retry-after"])
    # the first failure leaves the one-minute window in 60 - (1.1 s or more) seconds: never 60 or more, and
    # never sooner than the whole elapsed time says
    assert int(60 - elapsed) <= retry <= 59, (retry, elapsed)


def test_failures_leave_the_window_one_minute_after_each(
    limited_in_memory: Limited, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In memory each failure counts for 60 s (a sliding window); Redis keeps its own time, so there the
    window is checked by the test above only."""
    limited = limited_in_memory
    now = [1000.0]
    monkeypatch.setattr(auth, "time", SimpleNamespace(monotonic=lambda: now[0]))
    client = limited.client()
    for _ in range(5):  # failures at 1000, 1001, ..., 1004
        assert limited.login(client).status_code == 401
        now[0] += 1
    now[0] = 1059.5
    resp = limited.login(client)
    assert resp.status_code == 429 and resp.headers["retry-after"] == "1"  # the first failure leaves at 1060
    now[0] = 1060.0
    assert limited.login(client).status_code == 401  # it has left: one more attempt (failed again)
    resp = limited.login(client)
    assert resp.status_code == 429 and resp.headers["retry-after"] == "2"  # the next leaves at 1061
    now[0] = 1061.0
    assert limited.login(client, password=PASSWORD).status_code == 200  # so it has: four failures in the window


def test_the_memory_limiter_forgets_idle_keys_but_never_a_live_count(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past 10,000 keys (clients and client|username pairs) it drops those whose last attempt is a minute
    old, or that a successful login left empty; a count still in its window is kept."""
    now = [1000.0]
    monkeypatch.setattr(auth, "time", SimpleNamespace(monotonic=lambda: now[0]))
    limiter = auth.LoginRateLimiter(5)
    for _ in range(5):
        limiter.reserve("attacker", "admin")
    limiter.reserve("friend", "ana")
    limiter.give_back("friend", "ana")  # a successful login: its windows are left empty
    now[0] = 1030.0
    for i in range(5_000):  # 10,000 more keys
        limiter.reserve(f"client-{i}", "nadie")
    with pytest.raises(TooManyRequests):
        limiter.reserve("attacker", "admin")  # still counted: its attempts are 30 s old
    assert "friend" not in limiter._hits  # empty: forgotten
    now[0] = 1090.0  # every attempt so far is a minute old
    limiter.reserve("late", "nadie")
    assert sorted(limiter._hits) == ["late", "late|nadie"]

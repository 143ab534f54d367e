"""The login limit is taken before the password is checked: parallel bursts cannot overshoot it, in memory
and in Redis (real Redis), and cannot pile up password hashing."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient

from centralita.accounts import passwords
from centralita.api import auth
from centralita.api.app import create_app
from centralita.api.routes import accounts
from tests.conftest import REDIS_URL, Api
from tests.factories import PASSWORD

LIMIT = 5  # tests.conftest.make_service: login_attempts_per_minute=5


@pytest.fixture(params=["memory", "redis"])
def make_limiter(request: pytest.FixtureRequest) -> Iterator[Callable[[], auth.LoginRateLimiter]]:
    """Limiters that share their counts (one per app, as one per process); in Redis under a fresh prefix."""
    namespace = f"centralita-test:{uuid.uuid4().hex}:"
    memory = auth.LoginRateLimiter(LIMIT)

    def make() -> auth.LoginRateLimiter:
        if request.param == "memory":
            return memory
        return auth.RedisLoginRateLimiter(LIMIT, REDIS_URL, namespace=namespace)

    yield make
    if request.param == "redis":
        r = redis.Redis.from_url(REDIS_URL)
        keys = list(r.scan_iter(match=namespace + "*"))
        if keys:
            r.delete(*keys)
        r.close()


@pytest.fixture
def hashes(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Counts password checks (and makes each take 50 ms, so parallel requests really overlap)."""
    seen: Counter[str] = Counter()
    lock = threading.Lock()
    real_verify, real_burn = passwords.verify_password, passwords.burn_verification_time

    def verify(stored: str, password: str) -> bool:
        with lock:
            seen[threading.current_thread().name.split("_")[0]] += 1
        time.sleep(0.05)
        return real_verify(stored, password)

    def burn(password: str) -> None:
        with lock:
            seen[threading.current_thread().name.split("_")[0]] += 1
        time.sleep(0.05)
        real_burn(password)

    monkeypatch.setattr(accounts, "verify_password", verify)
    monkeypatch.setattr(accounts, "burn_verification_time", burn)
    return seen


def _app(api: Api, limiter: auth.LoginRateLimiter) -> FastAPI:
    app = create_app(api.service)
    app.state.login_limiter = limiter
    return app


def _burst(client: TestClient, bodies: list[dict[str, str]]) -> Counter[int]:
    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return Counter(pool.map(lambda b: client.post("/api/auth/login", json=b).status_code, bodies))


def test_fifty_parallel_wrong_passwords_get_exactly_the_limit(
    api: Api, make_limiter: Callable[[], auth.LoginRateLimiter], hashes: Counter[str]
) -> None:
    body = {"username": api.a.usernames["admin"], "password": "wrong-wrong", "tenant": "norte"}
    with TestClient(_app(api, make_limiter())) as client:
        codes = _burst(client, [body] * 50)
        assert codes == Counter({401: LIMIT, 429: 50 - LIMIT})
        assert sum(hashes.values()) == LIMIT  # the refused ones never reached the password hash
        assert set(hashes) == {"centralita-login"}  # on the login threads, not the shared pool
        right = client.post("/api/auth/login", json=dict(body, password=PASSWORD))
        assert right.status_code == 429 and int(right.headers["retry-after"]) >= 1


def test_many_usernames_from_one_client_hit_the_client_limit(
    api: Api, make_limiter: Callable[[], auth.LoginRateLimiter], hashes: Counter[str]
) -> None:
    bodies = [{"username": f"guess-{i}", "password": "wrong-wrong"} for i in range(50)]
    with TestClient(_app(api, make_limiter())) as client:
        codes = _burst(client, bodies)
    assert codes == Counter({401: 5 * LIMIT, 429: 50 - 5 * LIMIT})
    assert sum(hashes.values()) == 5 * LIMIT


def test_successful_logins_give_their_attempt_back(
    api: Api, make_limiter: Callable[[], auth.LoginRateLimiter], hashes: Counter[str]
) -> None:
    good = {"username": api.a.usernames["supervisor"], "password": PASSWORD, "tenant": "norte"}
    bad = dict(good, password="wrong-wrong")
    client = TestClient(_app(api, make_limiter()))
    for _ in range(LIMIT - 1):
        assert client.post("/api/auth/login", json=bad).status_code == 401
    for _ in range(2 * LIMIT):
        assert client.post("/api/auth/login", json=good).status_code == 200
    assert client.post("/api/auth/login", json=bad).status_code == 401  # the fifth failure
    assert client.post("/api/auth/login", json=good).status_code == 429


def test_the_limit_is_shared_by_every_process(
    api: Api, make_limiter: Callable[[], auth.LoginRateLimiter], hashes: Counter[str]
) -> None:
    """Two apps (as two server processes) with their own limiter objects count together."""
    first, second = TestClient(_app(api, make_limiter())), TestClient(_app(api, make_limiter()))
    bad = {"username": api.a.usernames["admin"], "password": "wrong-wrong", "tenant": "norte"}
    codes = [c.post("/api/auth/login", json=bad).status_code for c in (first, second) * 3]
    assert codes == [401] * LIMIT + [429]

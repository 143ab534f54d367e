"""Authentication (session cookie with CSRF token, or Bearer API token) and the access check.

Every route depends on `require(<minimum role>)`, or for a hot read route `require_reading(<minimum role>)`
(a `ReadGate`: authentication and the route's reads share one session); a test walks the app's routes to
keep it so. Credentials are read from the database on every request: nothing about a token is cached.
Browser sessions: the cookie is HttpOnly and SameSite=Lax; unsafe methods must also send the session's
CSRF token in `X-CSRF-Token` (double submit), so a cross-site form cannot act for the user.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import threading
import time
import weakref
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import anyio.to_thread
from anyio import CapacityLimiter
from fastapi import Depends, Request
from sqlalchemy.orm import Session

from centralita.accounts import actions as account_actions
from centralita.accounts import queries as account_queries
from centralita.core.actor import Actor, role_at_least
from centralita.core.errors import Forbidden, TooManyRequests, Unauthorized
from centralita.core.i18n import _
from centralita.service import Service

__all__ = ["MinuteWindows", "authenticate", "public"]

SESSION_COOKIE = "centralita_session"
CSRF_COOKIE = "centralita_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
ACCESS_MARK = "__centralita_access__"


async def get_service(request: Request) -> Service:
    """Async, like every dependency that does no I/O: FastAPI runs a plain `def` one on a worker thread,
    a hop (and a wait for a thread) per request for nothing."""
    svc: Service = request.app.state.service
    return svc


ServiceDep = Annotated[Service, Depends(get_service)]


def authenticate(request: Request, svc: Service, session: Session | None = None) -> Actor:
    """The request's actor, from its Bearer API token or its session cookie; checked against the database
    every time (a revoked token or closed session is refused at once). Reads with `session` when given."""
    return _authenticate(request, svc, session)[0]


def _authenticate(request: Request, svc: Service, session: Session | None) -> tuple[Actor, str | None]:
    """The actor and, when the same read gave it, its tenant's country."""
    if session is None:
        try:
            with svc.db.quick_read() as s:
                return _authenticate(request, svc, s)
        finally:
            _touch_token(request, svc)
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return _token_actor(request, svc, header[7:].strip(), session)
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise Unauthorized(_("log in first (session cookie or Bearer token)"))
    found = account_queries.session_user(session, cookie, svc.clock.now())
    if found is None:
        raise Unauthorized(_("the session has expired or was closed; log in again"))
    user, session_row = found
    if request.method not in SAFE_METHODS and request.headers.get(CSRF_HEADER) != session_row.csrf_token:
        raise Forbidden(_("missing or wrong {header} header", header=CSRF_HEADER))
    request.state.session_row = session_row
    request.state.who = user.username  # for the access log
    actor = Actor(
        tenant_id=user.tenant_id,
        role=user.role,
        user_id=user.id,
        agent_id=user.agent_id,
        username=user.username,
        clock=svc.clock,
    )
    return actor, None


def _token_actor(request: Request, svc: Service, token: str, session: Session) -> tuple[Actor, str]:
    """An API token's actor, with its effective role (accounts.queries.token_access); notes its use."""
    now = svc.clock.now()
    access = account_queries.token_access(session, token, now)
    last = access.last_used_at
    if last is None or now - last >= dt.timedelta(seconds=account_actions.TOKEN_TOUCH_S):
        request.state.token_touch = (access.token_id, now)  # written once the read session is closed
    request.state.who = f"token:{access.name}"  # for the access log
    actor = Actor(
        tenant_id=access.tenant_id,
        role=access.role,
        user_id=access.user_id,
        agent_id=access.agent_id,
        username=f"token:{access.name}",
        clock=svc.clock,
        token_id=access.token_id,
    )
    return actor, access.tenant_country


def _touch_token(request: Request, svc: Service) -> None:
    """Note a token's use, when due, after the read that authenticated it closed its session: a write while
    holding a pooled read connection could wait for SQLite's writer while the writer waits for a
    connection (40 sockets authenticating at once exhausted the pool that way)."""
    due = getattr(request.state, "token_touch", None)
    if due is not None:
        request.state.token_touch = None
        with svc.db.write() as s:
            account_actions.record_token_use(s, *due)


def require(minimum: str) -> Callable[..., Actor]:
    """Dependency: the authenticated actor, with at least the `minimum` role."""

    def dependency(request: Request, svc: ServiceDep) -> Actor:
        actor = authenticate(request, svc)
        _check_role(actor, minimum)
        return actor

    setattr(dependency, ACCESS_MARK, minimum)
    return dependency


def _check_role(actor: Actor, minimum: str) -> None:
    if not role_at_least(actor.role, minimum):
        raise Forbidden(_("this needs the {role} role or higher", role=minimum))


@dataclass
class Reading:
    """An authenticated actor and the read session that authenticated it, for the rest of the request."""

    actor: Actor
    session: Session
    _country: str | None

    def tenant_country(self) -> str:
        """The actor's tenant's country (phone numbers are normalised with it); read with the token when
        the request came with one, else read now."""
        if self._country is None:
            self._country = account_queries.tenant_country(self.session, self.actor.tenant_id)
        return self._country


@dataclass(frozen=True)
class ReadGate:
    """A read route's door: `with gate.open() as reading:` authenticates the request and checks its role
    with the one read session the route then reads with (one session and one pooled connection per
    request, not one to authenticate and another to read). The route has no actor until it opens it."""

    request: Request
    svc: Service
    minimum: str

    @contextlib.contextmanager
    def open(self) -> Iterator[Reading]:
        try:
            with self.svc.db.quick_read() as s:
                actor, country = _authenticate(self.request, self.svc, s)
                _check_role(actor, self.minimum)
                yield Reading(actor=actor, session=s, _country=country)
        finally:
            _touch_token(self.request, self.svc)


def require_reading(minimum: str) -> Callable[..., Awaitable[ReadGate]]:
    """Dependency for a hot read route: a `ReadGate` that authenticates (at least the `minimum` role) in the
    route's own worker thread and read session. Marked like `require`, so the route counts as checked."""

    async def dependency(request: Request) -> ReadGate:
        return ReadGate(request=request, svc=request.app.state.service, minimum=minimum)

    setattr(dependency, ACCESS_MARK, minimum)
    return dependency


T = TypeVar("T")
AGENT_LANE_THREADS = 16
_lanes: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, CapacityLimiter] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class ActGate:
    """An agent's action's door (accept, reject, end, wrap-up, state…): `await gate.run(work)` authenticates
    the request, checks its role and calls `work(actor)`, all on the agents' own worker threads
    (`AGENT_LANE_THREADS` per process). The actions that drain the load never wait for a thread behind a
    burst of new contacts (a sync route waits for any of the pool's 40), and pay one thread hop, not two
    (dependency, then route); and no action runs without its actor."""

    request: Request
    svc: Service
    minimum: str

    def _authorized(self, work: Callable[[Actor], T]) -> T:
        actor = authenticate(self.request, self.svc)
        _check_role(actor, self.minimum)
        return work(actor)

    async def run(self, work: Callable[[Actor], T]) -> T:
        loop = asyncio.get_running_loop()
        lane = _lanes.get(loop)
        if lane is None:
            lane = _lanes[loop] = CapacityLimiter(AGENT_LANE_THREADS)
        return await anyio.to_thread.run_sync(self._authorized, work, limiter=lane)


def require_acting(minimum: str) -> Callable[..., Awaitable[ActGate]]:
    """Dependency for an agent's action: an `ActGate` that authenticates (at least the `minimum` role) on the
    agents' lane. Marked like `require`, so the route counts as checked."""

    async def dependency(request: Request) -> ActGate:
        return ActGate(request=request, svc=request.app.state.service, minimum=minimum)

    setattr(dependency, ACCESS_MARK, minimum)
    return dependency


def public() -> Callable[..., Awaitable[None]]:
    """Dependency marking a route as deliberately open (login, health)."""

    async def dependency() -> None:
        return None

    setattr(dependency, ACCESS_MARK, "public")
    return dependency


AgentActor = Annotated[Actor, Depends(require("agent"))]
SupervisorActor = Annotated[Actor, Depends(require("supervisor"))]
AdminActor = Annotated[Actor, Depends(require("admin"))]
AgentReading = Annotated[ReadGate, Depends(require_reading("agent"))]
AgentActing = Annotated[ActGate, Depends(require_acting("agent"))]


class MinuteWindows:
    """Per key, the times of its hits in the last minute, under one lock: `_take_hits` checks every key's limit and
    takes one hit on each at once (or raises TooManyRequests, with the seconds until the oldest hit leaves
    the window, and takes nothing); idle keys are forgotten now and then, so memory stays bounded. In-process.
    """

    def __init__(self) -> None:
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _window(self, key: str, now: float) -> deque[float]:
        window = self._hits.setdefault(key, deque())
        while window and window[0] <= now - 60:
            window.popleft()
        return window

    def _take_hits(self, keys: tuple[tuple[str, int], ...], message: Callable[[], str]) -> None:
        now = time.monotonic()
        with self._lock:
            windows = [(self._window(key, now), limit) for key, limit in keys]
            for window, limit in windows:
                if len(window) >= limit:
                    raise TooManyRequests(message(), max(1, int(60 - (now - window[0])) + 1))
            for window, _limit in windows:
                window.append(now)
            if len(self._hits) > 10_000:  # forget idle keys now and then (memory stays bounded)
                for key in [k for k, w in self._hits.items() if not w or w[-1] <= now - 60]:
                    del self._hits[key]

    def _return_hits(self, keys: tuple[tuple[str, int], ...]) -> None:
        with self._lock:
            for key, _limit in keys:
                window = self._hits.get(key)
                if window:
                    window.pop()


class LoginRateLimiter(MinuteWindows):
    """At most `per_minute` login attempts per (client, username) and 5x that per client, per minute.

    An attempt is reserved before its password is checked (`reserve`: both counts are checked and taken
    at once, under a lock), so a burst of parallel attempts cannot overshoot the limit nor pile up
    password hashing; a successful login gives its attempt back (`give_back`): only failures count.
    In-process; with several processes the Redis-backed limiter below shares the counts.
    """

    def __init__(self, per_minute: int) -> None:
        super().__init__()
        self.per_minute = per_minute

    def _keys(self, client: str, username: str) -> tuple[tuple[str, int], tuple[str, int]]:
        return (f"{client}|{username}", self.per_minute), (client, self.per_minute * 5)

    def reserve(self, client: str, username: str) -> None:
        """Take one attempt for (client, username), or raise TooManyRequests and take nothing."""
        self._take_hits(self._keys(client, username), _too_many)

    def give_back(self, client: str, username: str) -> None:
        """Return the attempt a successful login reserved."""
        self._return_hits(self._keys(client, username))


def _too_many() -> str:
    return _("too many login attempts; wait before trying again")


# KEYS: the (client, username) counter, the client counter; ARGV: their limits, the window in seconds.
# Both are checked and taken in one step; a counter's window starts with its first attempt.
_RESERVE = """
for i = 1, 2 do
  if tonumber(redis.call('GET', KEYS[i]) or '0') >= tonumber(ARGV[i]) then
    return {i, redis.call('TTL', KEYS[i])}
  end
end
for i = 1, 2 do
  redis.call('INCR', KEYS[i])
  if redis.call('TTL', KEYS[i]) < 0 then redis.call('EXPIRE', KEYS[i], ARGV[3]) end
end
return {0, 0}
"""
_GIVE_BACK = """
for i = 1, 2 do
  if tonumber(redis.call('GET', KEYS[i]) or '0') > 0 then redis.call('DECR', KEYS[i]) end
end
return 0
"""


class RedisLoginRateLimiter(LoginRateLimiter):
    """The same limits, counted in Redis (one atomic script per reservation) so every process shares them."""

    def __init__(self, per_minute: int, url: str, namespace: str = "centralita:login:") -> None:
        super().__init__(per_minute)
        import redis

        self.namespace = namespace
        self._redis: Any = redis.Redis.from_url(url)
        self._reserve = self._redis.register_script(_RESERVE)
        self._give_back = self._redis.register_script(_GIVE_BACK)

    def reserve(self, client: str, username: str) -> None:
        (user_key, user_limit), (client_key, client_limit) = self._keys(client, username)
        keys = [self.namespace + user_key, self.namespace + client_key]
        refused, ttl = self._reserve(keys=keys, args=[user_limit, client_limit, 60])
        if int(refused):
            raise TooManyRequests(_too_many(), max(1, int(ttl)))

    def give_back(self, client: str, username: str) -> None:
        (user_key, _l1), (client_key, _l2) = self._keys(client, username)
        self._give_back(keys=[self.namespace + user_key, self.namespace + client_key])


class RelayLoginRateLimiter(LoginRateLimiter):
    """The same limits, counted by the supervisor's relay (events/relay.py) so that the worker processes of
    one `centralita up` without Redis share them."""

    def __init__(self, per_minute: int, relay: Any) -> None:
        super().__init__(per_minute)
        self._relay = relay

    def reserve(self, client: str, username: str) -> None:
        (user_key, user_limit), (client_key, client_limit) = self._keys(client, username)
        refused, ttl = self._relay.reserve([user_key, client_key], [user_limit, client_limit], 60.0)
        if refused:
            raise TooManyRequests(_too_many(), max(1, ttl))

    def give_back(self, client: str, username: str) -> None:
        (user_key, _l1), (client_key, _l2) = self._keys(client, username)
        self._relay.give_back([user_key, client_key])

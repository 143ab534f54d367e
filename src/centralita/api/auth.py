"""Authentication (session cookie with CSRF token, or Bearer API token) and the access check.

Every route depends on `require(<minimum role>)`; a test walks the app's routes to keep it so.
Browser sessions: the cookie is HttpOnly and SameSite=Lax; unsafe methods must also send the session's
CSRF token in `X-CSRF-Token` (double submit), so a cross-site form cannot act for the user.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request

from centralita.accounts import actions as account_actions
from centralita.accounts import queries as account_queries
from centralita.core.actor import Actor, role_at_least
from centralita.core.errors import Forbidden, TooManyRequests, Unauthorized
from centralita.core.i18n import _
from centralita.service import Service

SESSION_COOKIE = "centralita_session"
CSRF_COOKIE = "centralita_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
ACCESS_MARK = "__centralita_access__"


def get_service(request: Request) -> Service:
    svc: Service = request.app.state.service
    return svc


ServiceDep = Annotated[Service, Depends(get_service)]


def authenticate(request: Request, svc: Service) -> Actor:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return _token_actor(request, svc, header[7:].strip())
    with svc.db.read() as s:
        cookie = request.cookies.get(SESSION_COOKIE)
        if not cookie:
            raise Unauthorized(_("log in first (session cookie or Bearer token)"))
        found = account_queries.session_user(s, cookie, svc.clock.now())
        if found is None:
            raise Unauthorized(_("the session has expired or was closed; log in again"))
        user, session_row = found
        if request.method not in SAFE_METHODS and request.headers.get(CSRF_HEADER) != session_row.csrf_token:
            raise Forbidden(_("missing or wrong {header} header", header=CSRF_HEADER))
        request.state.session_row = session_row
        request.state.who = f"user:{user.username}"  # for the access log
        return Actor(
            tenant_id=user.tenant_id,
            role=user.role,
            user_id=user.id,
            agent_id=user.agent_id,
            username=user.username,
            clock=svc.clock,
        )


def _token_actor(request: Request, svc: Service, token: str) -> Actor:
    """An API token's actor, with its effective role (accounts.queries.token_access); notes its use."""
    now = svc.clock.now()
    with svc.db.read() as s:
        access = account_queries.token_access(s, token, now)
    row = access.row
    if row.last_used_at is None or now - row.last_used_at >= dt.timedelta(seconds=account_actions.TOKEN_TOUCH_S):
        with svc.db.write() as s:
            account_actions.record_token_use(s, row.id, now)
    request.state.who = f"token:{row.name}"  # for the access log
    return Actor(
        tenant_id=row.tenant_id,
        role=access.role,
        user_id=row.user_id,
        agent_id=access.agent_id,
        username=f"token:{row.name}",
        clock=svc.clock,
        token_id=row.id,
    )


def require(minimum: str) -> Callable[..., Actor]:
    """Dependency: the authenticated actor, with at least the `minimum` role."""

    def dependency(request: Request, svc: ServiceDep) -> Actor:
        actor = authenticate(request, svc)
        if not role_at_least(actor.role, minimum):
            raise Forbidden(_("this needs the {role} role or higher", role=minimum))
        return actor

    setattr(dependency, ACCESS_MARK, minimum)
    return dependency


def public() -> Callable[..., None]:
    """Dependency marking a route as deliberately open (login, health)."""

    def dependency() -> None:
        return None

    setattr(dependency, ACCESS_MARK, "public")
    return dependency


AgentActor = Annotated[Actor, Depends(require("agent"))]
SupervisorActor = Annotated[Actor, Depends(require("supervisor"))]
AdminActor = Annotated[Actor, Depends(require("admin"))]


class LoginRateLimiter:
    """At most `per_minute` failed attempts per (client, username) and 5× that per client, per minute.

    In-process; with several processes behind a balancer the Redis-backed limiter is used instead.
    """

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _count(self, key: str, now: float) -> deque[float]:
        window = self._hits.setdefault(key, deque())
        while window and window[0] <= now - 60:
            window.popleft()
        return window

    def check(self, client: str, username: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key, limit in ((f"{client}|{username}", self.per_minute), (client, self.per_minute * 5)):
                window = self._count(key, now)
                if len(window) >= limit:
                    retry = max(1, int(60 - (now - window[0])) + 1)
                    raise TooManyRequests(_("too many login attempts; wait before trying again"), retry)

    def failed(self, client: str, username: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in (f"{client}|{username}", client):
                self._count(key, now).append(now)


class RedisLoginRateLimiter(LoginRateLimiter):
    """The same limits, counted in Redis so every process shares them."""

    def __init__(self, per_minute: int, url: str) -> None:
        super().__init__(per_minute)
        import redis

        self._redis: Any = redis.Redis.from_url(url)

    def check(self, client: str, username: str) -> None:
        for key, limit in ((f"{client}|{username}", self.per_minute), (client, self.per_minute * 5)):
            count = int(self._redis.get(f"centralita:login:{key}") or 0)
            if count >= limit:
                ttl = int(self._redis.ttl(f"centralita:login:{key}"))
                raise TooManyRequests(_("too many login attempts; wait before trying again"), max(1, ttl))

    def failed(self, client: str, username: str) -> None:
        pipe = self._redis.pipeline()
        for key in (f"{client}|{username}", client):
            pipe.incr(f"centralita:login:{key}")
            pipe.expire(f"centralita:login:{key}", 60, nx=True)
        pipe.execute()

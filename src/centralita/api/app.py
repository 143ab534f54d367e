"""The FastAPI application: routes under /api, OpenAPI at /docs, problems for every error."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from pydantic import BaseModel
from starlette.types import ASGIApp
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

import centralita
from centralita.api import openapi, problems
from centralita.api.access_log import AccessLog
from centralita.api.admission import AdmissionMiddleware
from centralita.api.auth import (
    LoginRateLimiter,
    RedisLoginRateLimiter,
    RelayLoginRateLimiter,
    ServiceDep,
    public,
)
from centralita.api.cors import ChatCorsMiddleware
from centralita.api.language import LanguageMiddleware
from centralita.api.limits import BodyLimitMiddleware
from centralita.api.params import check_parameters
from centralita.api.routes import (
    accounts,
    agents,
    contacts,
    conversations,
    crm,
    entry_points,
    flows,
    knowledge,
    live,
    queues,
    reports,
)
from centralita.events.bus import namespace_of
from centralita.events.relay import RelayBus
from centralita.realtime.typing import ChatTyping
from centralita.service import Service
from centralita.webui import pages

__all__ = ["create_app"]


class Health(BaseModel):
    status: str
    version: str
    database: str


class CentralitaApp(FastAPI):
    """FastAPI with the request id and access log (and, when trusted proxies are named, the client address
    they forward) around the whole stack, error handler included: a 500 gets its id and its log line too."""

    access_log = False
    trusted_proxies: tuple[str, ...] = ()

    def build_middleware_stack(self) -> ASGIApp:
        clock = self.state.service.clock
        app: ASGIApp = AccessLog(super().build_middleware_stack(), enabled=self.access_log, clock=clock)
        if self.trusted_proxies:
            # the client address and scheme from X-Forwarded-For / -Proto, believed only from these proxies
            # (the rightmost address not one of them); without any, the TCP peer is the client
            proxied: Any = ProxyHeadersMiddleware(app, trusted_hosts=list(self.trusted_proxies))  # type: ignore[arg-type]
            app = proxied
        return app


def create_app(service: Service, close_on_shutdown: bool = False, access_log: bool = False) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        if close_on_shutdown:
            service.close()

    app = CentralitaApp(
        title="Centralita",
        version=centralita.__version__,
        description="Contact center and customer record. Every error is an RFC 9457 problem document.",
        lifespan=lifespan,
        docs_url=None,  # served from local assets by webui.pages (works offline)
        redoc_url=None,
    )
    app.state.service = service
    per_minute = service.settings.login_attempts_per_minute
    limiter: LoginRateLimiter
    settings = service.settings
    if settings.redis_url:
        space = settings.redis_namespace or namespace_of(settings.database_url)
        limiter = RedisLoginRateLimiter(per_minute, settings.redis_url, namespace=f"centralita:{space}:login:")
    elif isinstance(service.bus, RelayBus):  # a worker of `centralita up`: the workers share the counts
        limiter = RelayLoginRateLimiter(per_minute, service.bus)
    else:
        limiter = LoginRateLimiter(per_minute)
    app.state.login_limiter = limiter
    app.state.chat_starts = conversations.ChatStartLimiter(conversations.CHAT_STARTS_PER_MINUTE)
    app.state.chat_typing = ChatTyping(service.bus)  # listens from the start: no note of another process missed
    app.access_log = access_log
    app.trusted_proxies = service.settings.trusted_proxies
    problems.install(app)
    openapi.install(app)
    app.add_middleware(AdmissionMiddleware, max_pending_requests=service.settings.max_pending_requests)
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=service.settings.max_body_bytes)
    app.add_middleware(ChatCorsMiddleware)  # the web chat widget calls from the company's own site
    app.add_middleware(LanguageMiddleware)  # outermost: the body limit's answer is in the request's language
    checked = [Depends(check_parameters)]  # query and path parameters: storable text, 64-bit integers
    routes = (accounts, crm, agents, queues, flows, entry_points, knowledge, live, contacts, conversations, reports)
    for module in routes:
        app.include_router(module.router, prefix="/api", dependencies=checked)

    @app.get("/api/health", dependencies=[Depends(public()), *checked], tags=["service"])
    def health(svc: ServiceDep) -> Health:
        from sqlalchemy import text

        with svc.db.read() as s:
            s.execute(text("SELECT 1"))
        return Health(status="ok", version=centralita.__version__, database=svc.db.engine.dialect.name)

    _add_realtime(app)
    pages.install(app)
    return app


def _add_realtime(app: FastAPI) -> Any:
    from centralita.realtime import ws

    ws.install(app)

"""The FastAPI application: routes under /api, OpenAPI at /docs, problems for every error."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.responses import RedirectResponse
from pydantic import BaseModel
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

import centralita
from centralita.api import problems
from centralita.api.auth import LoginRateLimiter, RedisLoginRateLimiter, ServiceDep, public
from centralita.api.language import LanguageMiddleware
from centralita.api.routes import accounts, agents, contacts, crm, live, queues
from centralita.service import Service


class Health(BaseModel):
    status: str
    version: str
    database: str


def create_app(service: Service, close_on_shutdown: bool = False) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        if close_on_shutdown:
            service.close()

    app = FastAPI(
        title="Centralita",
        version=centralita.__version__,
        description="Contact center and customer record. Every error is an RFC 9457 problem document.",
        lifespan=lifespan,
    )
    app.state.service = service
    per_minute = service.settings.login_attempts_per_minute
    app.state.login_limiter = (
        RedisLoginRateLimiter(per_minute, service.settings.redis_url)
        if service.settings.redis_url
        else LoginRateLimiter(per_minute)
    )
    problems.install(app)
    app.add_middleware(LanguageMiddleware)
    if service.settings.trusted_proxies:
        # the client address and scheme from X-Forwarded-For / -Proto, believed only from these proxies
        # (the rightmost address not one of them); without any, the TCP peer is the client
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(service.settings.trusted_proxies))
    for module in (accounts, crm, agents, queues, live, contacts):
        app.include_router(module.router, prefix="/api")

    @app.get("/", dependencies=[Depends(public())], include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/docs")  # the browser product arrives with its own issue

    @app.get("/api/health", dependencies=[Depends(public())], tags=["service"])
    def health(svc: ServiceDep) -> Health:
        from sqlalchemy import text

        with svc.db.read() as s:
            s.execute(text("SELECT 1"))
        return Health(status="ok", version=centralita.__version__, database=svc.db.engine.dialect.name)

    _add_realtime(app)
    return app


def _add_realtime(app: FastAPI) -> Any:
    from centralita.realtime import ws

    ws.install(app)

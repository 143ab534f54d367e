"""Admission under overload: new contacts are refused at once with 503 and `Retry-After` when this worker
already has too many requests under way, instead of queueing until every request is slow.

A pure ASGI middleware counts the worker's HTTP requests under way (WebSockets apart). When a new contact
(`POST /api/contacts`) comes while `max_pending_requests` are under way, it is answered 503 with a
problem document and `Retry-After: 1` before any work: nothing was written, the channel connector (or the
caller's phone system) tries again. Only new work is shed: accepts, ends and wrap-ups, which free agents
and so drain the overload, always go through, as do reads.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from centralita.api.problems import problem
from centralita.core.errors import title
from centralita.core.i18n import _

__all__ = ["RETRY_AFTER_S", "AdmissionMiddleware"]

RETRY_AFTER_S = 1
NEW_WORK = {("POST", "/api/contacts")}


class AdmissionMiddleware:
    def __init__(self, app: ASGIApp, max_pending_requests: int) -> None:
        self.app = app
        self.limit = max_pending_requests
        self.pending = 0  # one event loop per worker: no lock needed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.pending >= self.limit and (scope.get("method"), scope.get("path")) in NEW_WORK:
            response = problem(
                503,
                "unavailable",
                title("unavailable", ""),
                _("the service is at capacity; try again in {seconds} s", seconds=RETRY_AFTER_S),
                scope.get("path", ""),
                headers={"Retry-After": str(RETRY_AFTER_S)},
            )
            await response(scope, receive, send)
            return
        self.pending += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.pending -= 1

"""The request body limit (`max_body_bytes`): a pure ASGI middleware that never holds the body.

A declared `Content-Length` above the limit is answered 413 at once, before the route runs. A body sent
without one (chunked) is counted as it is read: the read that passes the limit raises an HTTPException(413),
which the app's handler turns into the problem document (nothing was done: routes read their body before
acting). Requests below the limit pass through untouched, chunk by chunk.
"""

from __future__ import annotations

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from centralita.api.problems import problem
from centralita.core.errors import title
from centralita.core.i18n import _


def too_large(limit: int) -> str:
    return _("the request body is larger than {limit} bytes", limit=limit)


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.limit = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.strip().isdigit() and int(declared) > self.limit:
            response = problem(
                413,
                "content-too-large",
                title("content-too-large", ""),
                too_large(self.limit),
                scope.get("path", ""),
                headers={"Connection": "close"},
            )
            await response(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise HTTPException(413, too_large(self.limit), headers={"Connection": "close"})
            return message

        await self.app(scope, counted, send)

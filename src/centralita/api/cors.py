"""Cross-origin access for the public web chat only (`/api/chat/...`): the widget runs on the company's own
site and calls Centralita from there. Those routes take no cookie (a conversation's token travels in the
`X-Chat-Token` header), so any origin may call them; every other route stays same-origin (no CORS
headers: a browser refuses the cross-site read)."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["ChatCorsMiddleware"]

PREFIX = "/api/chat/"
ALLOW = {
    "access-control-allow-origin": "*",
    "access-control-allow-methods": "GET, POST, OPTIONS",
    "access-control-allow-headers": "Content-Type, X-Chat-Token, Accept-Language",
    "access-control-expose-headers": "Retry-After, Content-Language",
    "access-control-max-age": "600",
}


class ChatCorsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        if scope["method"] == "OPTIONS" and b"access-control-request-method" in headers:
            await send(
                {
                    "type": "http.response.start",
                    "status": 204,
                    "headers": [(k.encode(), v.encode()) for k, v in ALLOW.items()],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = MutableHeaders(scope=message)
                for key, value in ALLOW.items():
                    out[key] = value
            await send(message)

        await self.app(scope, receive, send_with_cors)

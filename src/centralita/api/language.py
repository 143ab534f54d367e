"""The language of one request's messages: `?lang=es|en`, else the Accept-Language header, else the
server's (CENTRALITA_LANGUAGE, Spanish by default).

A pure ASGI middleware, so it holds for HTTP and WebSocket alike and for sync routes run in threads
(the language lives in a context variable, copied with the request's context). Responses say which
language they speak (`Content-Language`).
"""

from __future__ import annotations

from urllib.parse import parse_qs

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from centralita.core import i18n


def request_language(scope: Scope) -> str:
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    asked = str((query.get("lang") or [""])[0])
    if asked in i18n.LANGUAGES:
        return asked
    headers = dict(scope.get("headers") or [])
    accept = headers.get(b"accept-language", b"").decode("latin-1")
    return i18n.negotiate(accept, default=i18n.language())  # the server's: CENTRALITA_LANGUAGE, Spanish


class LanguageMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        lang = request_language(scope)

        async def send_with_language(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    *message.get("headers", []),
                    (b"content-language", lang.encode()),
                    (b"vary", b"Accept-Language"),
                ]
                message = {**message, "headers": headers}
            await send(message)

        with i18n.using(lang):
            await self.app(scope, receive, send_with_language)

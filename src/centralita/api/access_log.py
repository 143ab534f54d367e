"""Request ids and the access log: one line per request (and per WebSocket, when it ends).

Every request gets an id: the caller's `X-Request-ID` when it is sane (1–128 characters of letters,
digits and `._:+=/@-`), else a new random one; it is returned in `X-Request-ID` and available to the
code that serves the request (`request_id()`). With the access log on (`centralita up`, unless
CENTRALITA_ACCESS_LOG=false) the logger `centralita.access` writes, in logfmt:

    request_id=3f2a… client=203.0.113.7 method=WS path=/api/realtime?token=*** status=101 duration_ms=51.4 user=ana

`path` is the raw path and query as sent, with the values of secret-looking parameters (`token`,
`password`, `api_key`, …) replaced by `***`; `user` is the username, `token:<name>` for an API token,
`-` when nobody authenticated. The client address is the TCP peer's, or the one a trusted proxy named.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from contextvars import ContextVar
from typing import Any
from urllib.parse import unquote

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from centralita.core.clock import Clock

log = logging.getLogger("centralita.access")

HEADER = "X-Request-ID"
RECEIVED_KEY = "received_at"  # request.state: the clock's time when the request reached the app
_SANE_ID = re.compile(r"^[A-Za-z0-9._:+=/@-]{1,128}$")
_PLAIN = re.compile(r"^[\x21-\x7e]+$")
_SECRET_PARAMS = {"token", "access_token", "api_key", "apikey", "key", "password", "secret", "csrf_token", "session"}
_current: ContextVar[str | None] = ContextVar("centralita_request_id", default=None)


def request_id() -> str | None:
    """The id of the request being served (None outside a request)."""
    return _current.get()


def redact_query(query: str) -> str:
    """The query string with the values of secret-looking parameters replaced by `***`."""
    parts = []
    for part in query.split("&"):
        name, eq, _value = part.partition("=")
        key = unquote(name).lower()
        secret = key in _SECRET_PARAMS or key.endswith(("token", "password", "secret"))
        parts.append(f"{name}=***" if eq and secret else part)
    return "&".join(parts)


def _value(text: str) -> str:
    """A logfmt value: as it is when plain, else quoted with every control or non-ASCII character escaped."""
    return text if _PLAIN.match(text) and '"' not in text else json.dumps(text)


def _target(scope: Scope) -> str:
    raw = scope.get("raw_path")
    path = raw.decode("latin-1") if isinstance(raw, bytes | bytearray) else scope.get("path", "")
    query = scope.get("query_string", b"").decode("latin-1")
    return path + ("?" + redact_query(query) if query else "")


class AccessLog:
    """ASGI middleware around the whole app (the error handler included, so a 500 has its id and line too)."""

    def __init__(self, app: ASGIApp, enabled: bool, clock: Clock | None = None) -> None:
        self.app = app
        self.enabled = enabled
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        incoming = next((v for k, v in scope.get("headers", []) if k == b"x-request-id"), b"").decode("latin-1")
        rid = incoming if _SANE_ID.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})  # the request's `request.state` (auth.py notes who authenticated)
        status: int | None = None
        header = (HEADER.lower().encode(), rid.encode())

        async def send_with_id(message: Message) -> None:
            nonlocal status
            kind = message["type"]
            if kind in ("http.response.start", "websocket.accept", "websocket.http.response.start"):
                status = 101 if kind == "websocket.accept" else int(message.get("status", 200))
                message = {**message, "headers": [*message.get("headers", []), header]}
            elif kind == "websocket.close" and status is None:
                status = 403  # refused before the handshake completed
            elif kind == "websocket.close" and status == 101 and int(message.get("code") or 1000) >= 4000:
                status = int(message["code"])  # accepted, then closed with our code (4401, 4403, 4422)
            await send(message)

        token = _current.set(rid)
        start = time.perf_counter()
        if self.clock is not None:
            # when the request reached the server, before any queue in it (routes/live.py judges accepts by it)
            scope.setdefault("state", {})[RECEIVED_KEY] = self.clock.now()
        try:
            await self.app(scope, receive, send_with_id)
        except BaseException:
            status = status or 500
            raise
        finally:
            _current.reset(token)
            if self.enabled:
                self._log(scope, rid, status, (time.perf_counter() - start) * 1000)

    def _log(self, scope: Scope, rid: str, status: int | None, duration_ms: float) -> None:
        client = scope.get("client")
        state: dict[str, Any] = scope.get("state") or {}
        fields = {
            "request_id": rid,
            "client": client[0] if client else "-",
            "method": scope.get("method", "WS") if scope["type"] == "http" else "WS",
            "path": _target(scope),
            "status": str(status or 0),  # 0: the client went away before any answer
            "duration_ms": f"{duration_ms:.1f}",
            "user": str(state.get("who") or "-"),
        }
        log.info(" ".join(f"{k}={_value(v)}" for k, v in fields.items()))


def configure(enabled: bool) -> None:
    """Send the access log to standard output, one line per request with its UTC time (for `centralita up`)."""
    if not enabled or any(getattr(h, "_centralita", False) for h in log.handlers):
        return
    handler = logging.StreamHandler(sys.stdout)
    formatter = logging.Formatter("%(asctime)s.%(msecs)03dZ %(message)s", datefmt="%Y-%m-%dT%H:%M:%S")
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    handler._centralita = True  # type: ignore[attr-defined]
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False

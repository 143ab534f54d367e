"""Serving the app with uvicorn, guarded against slow clients.

uvicorn (0.54) has a keep-alive time-out between requests and a size limit on headers, but no limit on
the time a client takes to send a request: a client that opens a connection and sends nothing, sends
its headers a byte at a time, or announces a Content-Length body and trickles it, holds the connection
(and, for a body, the request's task) for as long as it likes. `GuardedHttpProtocol` adds the missing
deadlines, counted from the request's first byte (headers) and from its last header (body):

- headers not complete within `header_timeout` → `408` (an RFC 9457 problem document) and the connection
  closes; a connection that sent no byte at all is just closed;
- body not complete within `body_timeout` after the headers → `408` when no response has started, the
  application sees the client disconnect, and the connection closes.

X-Forwarded-For is never read by uvicorn here (`proxy_headers=False`): the app believes it only from the
proxies named in `trusted_proxies` (api/app.py), so a client cannot pick its own address for the login limit.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from centralita.api.problems import MEDIA_TYPE, TYPE_BASE
from centralita.core.errors import title
from centralita.core.i18n import _
from centralita.core.settings import Settings


def _timeout_response(detail: str) -> bytes:
    body = json.dumps(
        {"type": TYPE_BASE + "request-timeout", "title": title("request-timeout", ""), "status": 408, "detail": detail},
        ensure_ascii=False,
    ).encode()
    head = (
        "HTTP/1.1 408 Request Timeout\r\n"
        f"content-type: {MEDIA_TYPE}\r\n"
        f"content-length: {len(body)}\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


class GuardedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with header and body deadlines (see the module's docstring)."""

    header_timeout: float = 10.0
    body_timeout: float = 30.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None
        self._request_bytes = False  # some byte of the current request's head has arrived
        self._upgraded = False

    # -- deadlines

    def _arm_header(self) -> None:
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(self.header_timeout, self._header_expired)

    def _cancel(self) -> None:
        for timer in (self._header_timer, self._body_timer):
            if timer is not None:
                timer.cancel()
        self._header_timer = self._body_timer = None

    def _header_expired(self) -> None:
        self._header_timer = None
        if self.transport.is_closing():
            return
        if self._request_bytes:
            seconds = f"{self.header_timeout:g}"
            self.transport.write(
                _timeout_response(_("the request headers did not arrive within {seconds} s", seconds=seconds))
            )
        self.transport.close()

    def _body_expired(self) -> None:
        self._body_timer = None
        if self.transport.is_closing():
            return
        cycle = self.cycle
        if cycle is not None and not cycle.response_started:
            seconds = f"{self.body_timeout:g}"
            self.transport.write(
                _timeout_response(_("the request body did not arrive within {seconds} s", seconds=seconds))
            )
        if cycle is not None:
            cycle.disconnected = True  # the application's receive() answers http.disconnect
            cycle.message_event.set()
        self.transport.close()

    # -- uvicorn's hooks

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header()  # a connection that never sends a request does not stay open either

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        idle = self.cycle is None or self.cycle.response_complete
        if (
            not self._upgraded
            and idle
            and self._body_timer is None
            and self.timeout_keep_alive_task is None
            and not self.transport.is_closing()
        ):
            # bytes between requests that begin none (blank lines): the next request's deadline runs
            self._request_bytes = True
            self._arm_header()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._request_bytes = True
        self._arm_header()

    def on_headers_complete(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None
        self._request_bytes = False
        if not (self.parser.should_upgrade() and self._should_upgrade()):
            self._body_timer = self.loop.call_later(self.body_timeout, self._body_expired)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None
        super().on_message_complete()

    def handle_websocket_upgrade(self) -> None:
        self._upgraded = True
        self._cancel()
        super().handle_websocket_upgrade()


def guarded_protocol(header_timeout: float, body_timeout: float) -> type[GuardedHttpProtocol]:
    """The protocol class with these deadlines (uvicorn builds one instance per connection)."""
    return type(
        "GuardedHttpProtocol",
        (GuardedHttpProtocol,),
        {"header_timeout": header_timeout, "body_timeout": body_timeout},
    )


def uvicorn_config(app: Any, settings: Settings, **overrides: Any) -> uvicorn.Config:
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": "warning",
        "ws": "websockets-sansio",
        "http": guarded_protocol(settings.header_timeout, settings.body_timeout),
        "proxy_headers": False,  # api/app.py reads X-Forwarded-* from the trusted proxies only
        "access_log": False,  # ours (api/access.py) names the user and the request id
        "server_header": False,
    }
    options.update(overrides)
    return uvicorn.Config(app, **options)


def serve(app: Any, settings: Settings) -> None:
    uvicorn.Server(uvicorn_config(app, settings)).run()

"""Serving the app with uvicorn, guarded against slow clients.

uvicorn (0.54) has a keep-alive time-out between requests and a size limit on headers, but no limit on
the time a client takes to send a request: a client that opens a connection and sends nothing, sends
its headers a byte at a time, or announces a Content-Length body and trickles it, holds the connection
(and, for a body, the request's task) for as long as it likes. `GuardedHttpProtocol` adds the missing
deadlines, counted from the request's first byte (headers) and from its last header (body):

- headers not complete within `header_timeout` → `408` (an RFC 9457 problem document) and the connection
  closes; a connection that sent no byte at all is just closed;
- body not complete within `body_timeout` after the headers → `408` when no response has started, the
  application sees the client disconnect, and the connection closes;
- and, since httptools reads headers without a size limit: request line and headers over 64 KiB → `431`.

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

__all__ = ["serve"]

MAX_HEAD_BYTES = 64 * 1024  # request line and headers; uvicorn's httptools protocol has no limit
LINGER_S = 2.0  # after refusing a request: reading and discarding before the close


def _problem_response(status: int, reason: str, slug: str, detail: str) -> bytes:
    """A whole HTTP response carrying an RFC 9457 problem document, closing the connection."""
    body = json.dumps(
        {"type": TYPE_BASE + slug, "title": title(slug, reason), "status": status, "detail": detail},
        ensure_ascii=False,
    ).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        f"content-type: {MEDIA_TYPE}\r\n"
        f"content-length: {len(body)}\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


def _timeout_response(detail: str) -> bytes:
    return _problem_response(408, "Request Timeout", "request-timeout", detail)


class _HeadTooLarge(Exception):
    """Raised from a parser callback to stop parsing a request whose head is too large."""


class GuardedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with header and body deadlines (see the module's docstring)."""

    header_timeout: float = 10.0
    body_timeout: float = 30.0
    max_head_bytes: int = MAX_HEAD_BYTES

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None
        self._request_bytes = False  # some byte of the current request's head has arrived
        self._head_bytes = 0
        self._refused = False
        self._upgraded = False

    # -- the size of the request's head

    def _count_head(self, size: int) -> None:
        self._head_bytes += size
        if self._head_bytes > self.max_head_bytes and not self._refused:
            kib = self.max_head_bytes // 1024
            detail = _("the request line and headers are larger than {kib} KiB", kib=kib)
            self._refuse(_problem_response(431, "Request Header Fields Too Large", "headers-too-large", detail))
            raise _HeadTooLarge  # httptools stops parsing; uvicorn calls send_400_response, below

    def _refuse(self, response: bytes | None) -> None:
        """Answer (when `response`) and end the connection. Closing a socket with unread input makes the
        kernel reset it, and a reset can destroy the answer before the client reads it: so, as nginx's
        lingering close does, send the answer and FIN, then discard what still arrives for a moment."""
        self._refused = True
        self._cancel()
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            if cycle.response_started:
                response = None  # an answer is under way (pipelining): no second one in its middle
            cycle.disconnected = True  # the application's receive() answers http.disconnect, send() nothing
            cycle.message_event.set()
        if response is not None:
            self.transport.write(response)
        if self.transport.can_write_eof():
            self.transport.write_eof()
            self.loop.call_later(LINGER_S, self.transport.close)
        else:
            self.transport.close()

    def send_400_response(self, msg: str) -> None:
        if self._refused:
            return  # answered 431 already
        super().send_400_response(msg)

    def on_url(self, url: bytes) -> None:
        self._count_head(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count_head(len(name) + len(value) + 4)
        super().on_header(name, value)

    # -- deadlines

    def _arm_header(self) -> None:
        if self._header_timer is None and not self._refused:
            self._header_timer = self.loop.call_later(self.header_timeout, self._header_expired)

    def _cancel(self) -> None:
        for timer in (self._header_timer, self._body_timer):
            if timer is not None:
                timer.cancel()
        self._header_timer = self._body_timer = None

    def _header_expired(self) -> None:
        self._header_timer = None
        if self._refused or self.transport.is_closing():
            return
        response = None
        if self._request_bytes:
            seconds = f"{self.header_timeout:g}"
            response = _timeout_response(_("the request headers did not arrive within {seconds} s", seconds=seconds))
        self._refuse(response)

    def _body_expired(self) -> None:
        self._body_timer = None
        if self._refused or self.transport.is_closing():
            return
        seconds = f"{self.body_timeout:g}"
        self._refuse(_timeout_response(_("the request body did not arrive within {seconds} s", seconds=seconds)))

    # -- uvicorn's hooks

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header()  # a connection that never sends a request does not stay open either

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return  # lingering before the close: discarded
        super().data_received(data)
        idle = self.cycle is None or self.cycle.response_complete
        if (
            not self._upgraded
            and not self._refused
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
        self._head_bytes = 0
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
        "access_log": False,  # ours (api/access_log.py) names the user and the request id
        "server_header": False,
        # realtime frames are small and each socket would compress its own copy: measured (bench/fanout.py,
        # docs/performance.md "Fan-out"), deflate cost ~15x the CPU of sending for bytes a LAN does not miss
        "ws_per_message_deflate": False,
    }
    options.update(overrides)
    return uvicorn.Config(app, **options)


def serve(app: Any, settings: Settings) -> None:
    uvicorn.Server(uvicorn_config(app, settings)).run()

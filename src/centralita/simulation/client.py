"""The simulator's connection to a running server: HTTP (httpx2) for actions, the WebSocket for events.

Authentication is an API token (`Authorization: Bearer`) or a login (session cookie plus the CSRF header on
every unsafe request). The WebSocket sends the same credentials; a non-browser client sends no `Origin`.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

import httpx2 as httpx
from websockets.exceptions import ConnectionClosed, InvalidStatus, InvalidURI
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect as ws_connect

from centralita.core.i18n import _, language

__all__ = ["ApiError", "Connection"]

SESSION_COOKIE = "centralita_session"  # api/auth.py (the simulator is a client: it does not import the API)


class ApiError(Exception):
    """The server answered with an error (problem document) or could not be reached (status 0)."""

    def __init__(self, status: int, detail: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(f"{status}: {detail}" if status else detail)
        self.status = status
        self.detail = detail
        self.errors = errors or []


class StreamClosed(Exception):
    """The WebSocket closed; reconnect with `after=<last seq>` to miss nothing."""


class EventStream:
    """The realtime WebSocket: `receive(timeout)` gives the next message, or None after `timeout` seconds."""

    def __init__(self, conn: ClientConnection) -> None:
        self._stack = contextlib.ExitStack()
        self._conn = self._stack.enter_context(conn)  # websockets ≥ 17.1 wants the context-manager form

    def receive(self, timeout: float) -> dict[str, Any] | None:
        try:
            raw = self._conn.recv(timeout=max(0.0, timeout))
        except TimeoutError:
            return None
        except ConnectionClosed as exc:
            raise StreamClosed(str(exc)) from None
        message: dict[str, Any] = json.loads(raw)
        return message

    def close(self) -> None:
        self._stack.close()


class Connection:
    """One authenticated client of the server's API and realtime socket."""

    def __init__(self, base_url: str, timeout: float = 15.0) -> None:
        self.base_url = base_url.rstrip("/")
        # the server's messages in the simulator's language (--lang)
        self.http = httpx.Client(base_url=self.base_url, timeout=timeout, headers={"Accept-Language": language()})
        self.token: str | None = None
        self.csrf: str | None = None

    @classmethod
    def open(
        cls,
        base_url: str,
        *,
        token: str | None = None,
        username: str | None = None,
        password: str | None = None,
        tenant: str | None = None,
    ) -> Connection:
        conn = cls(base_url)
        try:
            if token:
                conn.token = token
                conn.http.headers["Authorization"] = f"Bearer {token}"
            else:
                if not username or not password:
                    raise ApiError(0, _("give --token, or --user and --password"))
                body = {"username": username, "password": password, "tenant": tenant}
                result = conn.call("POST", "/api/auth/login", body)
                conn.csrf = str(result["csrf_token"])
                conn.http.headers["X-CSRF-Token"] = conn.csrf
        except BaseException:
            conn.close()
            raise
        return conn

    def call(self, method: str, path: str, body: Any = None, params: dict[str, Any] | None = None) -> Any:
        """The JSON answer of one request; raises ApiError on an error status or when the server is down."""
        try:
            resp = self.http.request(method, path, json=body, params=params)
        except httpx.HTTPError as exc:
            raise ApiError(
                0, _("cannot reach {url}: {error}", url=self.base_url, error=str(exc) or type(exc).__name__)
            ) from None
        if resp.status_code >= 400:
            detail, errors = resp.reason_phrase, []
            try:
                doc = resp.json()
                detail = str(doc.get("detail") or doc.get("title") or detail)
                errors = list(doc.get("errors") or [])
            except ValueError:
                pass
            raise ApiError(resp.status_code, detail, errors)
        if resp.status_code == 204 or not resp.content:
            return None
        return resp.json()

    def events(self, after: int | None = None) -> EventStream:
        """Open the realtime socket (`after`: resume after that event seq)."""
        url = self.base_url.replace("https://", "wss://", 1).replace("http://", "ws://", 1) + "/api/realtime"
        if after is not None:
            url += f"?after={after}"
        headers: dict[str, str] = {"Accept-Language": language()}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        else:
            cookie = self.http.cookies.get(SESSION_COOKIE)
            if cookie:
                headers["Cookie"] = f"{SESSION_COOKIE}={cookie}"
        try:
            return EventStream(ws_connect(url, additional_headers=headers, open_timeout=15, max_size=None))
        except (OSError, InvalidStatus, InvalidURI, TimeoutError) as exc:
            raise ApiError(0, _("cannot open the realtime socket at {url}: {error}", url=url, error=str(exc))) from None

    def close(self) -> None:
        self.http.close()

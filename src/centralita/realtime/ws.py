"""WebSocket fan-out at /api/realtime.

Protocol (JSON text frames, server → client):
1. `{"type": "hello", "last_seq": N, "snapshot": {...}, "queue_stats": [...] | null}` on a fresh register
   (no `after`): everything the client needs to draw its screen (`realtime/state.py`: the agents it sees
   with their state and activity, the open offers and live contacts with their customer summary, its
   queues; an agent sees its own, a supervisor everyone's) and, from the routing process, its queues'
   live figures. Or `{"type": "hello", "last_seq": N, "resumed_from": A}` followed by every event it gets
   (see Lean fan-out) with seq in (A, N].
2. `{"type": "event", "event": {...}}` for each later event, in seq order, each exactly once. Applying
   them to the snapshot (`state.apply`) gives what a fresh snapshot would.
3. A new `hello` with a snapshot when what the client may see changed (its agent's queues changed):
   the client replaces its state.
A client that reconnects passes `?after=<last seq it processed>` and misses nothing: the server
subscribes to the bus before reading the log, and fills any seq gap from the log, page by page.

With `?stats=1` the socket also gets `{"type": "queue_stats", "at": <epoch s>, "queues": [...]}` whenever
the routing runner's figures change (ephemeral wallboard messages: not events, no seq, never replayed;
the latest one is sent on connect). Agents get the queues they serve. Only the routing process has them.
An agent's socket also gets `{"type": "typing", "contact_id": N, "who": "customer"}` while the visitor of
a chat it handles types (ephemeral too: `realtime/typing.py`).

Lean fan-out: a socket gets the events its user needs (`access.may_need_event`: a supervisor all of its
tenant, an agent its own and its queues' changes), live and on resume alike; the bus subscription drops
the others before the socket's loop wakes, without making a gap look filtered or a filter look like a gap
(`events/bus.Subscription`). Each frame is encoded once for all sockets (`FRAMES`, `STATS_FRAMES`).

Auth: the session cookie (the Origin must match the host, against cross-site hijacking) or an API
token in `?token=` / `Authorization: Bearer`.

Close codes (the socket is accepted first, so a client always reads the code and a reason in the
request's language): 4401 not authenticated (no or bad cookie or token; also later, when its credentials
stop working or change: a user deactivated or its role changed, a token revoked or expired, a logout —
checked at once after such an event and every minute), 4403 cross-origin cookie socket, 4422 a bad
`after` (not a non-negative integer in ASCII digits, or beyond the last event).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import threading
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlparse

from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from centralita import access
from centralita.api.auth import authenticate, public
from centralita.core.actor import Actor
from centralita.core.errors import CentralitaError
from centralita.core.i18n import _
from centralita.events.log import EventRecord, last_seq, read_events
from centralita.realtime import state
from centralita.realtime.typing import ChatTyping
from centralita.service import Service

BACKLOG_PAGE = 1000
RECHECK_S = 60.0  # how often an open socket's credentials are checked again (an expired token, a session ended)
# events after which the socket's credentials are checked at once (a user deactivated or its role
# lowered, a token revoked, a logout)
ACCESS_EVENTS = frozenset({"user.updated", "user.logged_out", "api_token.revoked"})
CLOSE_UNAUTHENTICATED, CLOSE_FORBIDDEN, CLOSE_INVALID = 4401, 4403, 4422
MAX_SEQ_DIGITS = 18  # below 2**63


class _Filter:
    """What this socket's actor gets (`access.may_need_event`): its queues, as of its last hello."""

    def __init__(self, actor: Actor, served: access.Served) -> None:
        self.actor = actor
        self.served = served

    def allows(self, e: EventRecord) -> bool:
        return access.may_need_event(self.actor, self.served, e)

    def queues_changed(self, e: EventRecord) -> bool:
        """The actor's own agent's queues changed: it sees other queues from now on."""
        return (
            not access.acts_for_any_agent(self.actor)
            and e.type == "agent.updated"
            and e.agent_id is not None
            and e.agent_id == self.actor.agent_id
            and "queues" in (e.data.get("changes") or {})
        )

    def wants(self, e: EventRecord) -> bool:
        """What the socket's bus subscription lets through: what it sends, and what it must look at."""
        return e.type in ACCESS_EVENTS or self.allows(e) or self.queues_changed(e)


class FrameCache:
    """Each event's text frame, encoded once however many sockets send it. The bus hands one record to
    every subscription, so the record itself is the key (kept with its frame, so its id stays its own);
    bounded to the latest events."""

    SIZE = 4096

    def __init__(self) -> None:
        self._frames: dict[int, tuple[EventRecord, str]] = {}
        self._lock = threading.Lock()
        self.encoded = 0  # how many frames were encoded (tests and benchmarks count them)

    def frame(self, e: EventRecord) -> str:
        with self._lock:
            hit = self._frames.get(id(e))
        if hit is not None and hit[0] is e:
            return hit[1]
        text = _dumps({"type": "event", "event": e.to_dict()})
        with self._lock:
            self.encoded += 1
            self._frames[id(e)] = (e, text)
            while len(self._frames) > self.SIZE:
                del self._frames[next(iter(self._frames))]
        return text


FRAMES = FrameCache()


def _dumps(message: dict[str, Any]) -> str:
    """JSON as Starlette's `send_json` writes it."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


def _snapshot(svc: Service, actor: Actor) -> tuple[int, state.State, access.Served]:
    with svc.db.read() as s:
        seq = last_seq(s, actor.tenant_id)
        served = access.served_queues(s, actor)
        return seq, state.snapshot(s, actor, served), served


def _queue_stats(svc: Service, actor: Actor, served: access.Served) -> list[dict[str, Any]] | None:
    """The latest figures of the queues the actor sees, when this process routes (else None)."""
    if svc.dispatch is None or not (svc.dispatch.is_leader or svc.dispatch.hears_leader):
        return None
    return svc.dispatch.queue_stats(actor.tenant_id, None if served is None else set(served))


class _Pages:
    """Log reads shared by the sockets of this process. When the bus skips a seq (an event published late,
    past the relay's wait), every socket of the tenant sees the same gap at once and fills it from the log:
    one read serves them all (the others wait for it), instead of one per socket — forty reads for one
    late event, measured on PostgreSQL under load. Exact: events up to `upto` are committed and never
    change (numbers are gapless in commit order), so a read of (after, upto] is the same for everyone."""

    KEEP_S = 5.0
    MOST = 256

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # keyed by the Database object itself (held while cached), not its id, which a new one may reuse
        self._pages: dict[tuple[object, int, int, int], tuple[float, concurrent.futures.Future[list[EventRecord]]]] = {}

    def read(self, svc: Service, tenant_id: int, after: int, upto: int) -> list[EventRecord]:
        key: tuple[object, int, int, int] = (svc.db, tenant_id, after, upto)
        now = time.monotonic()
        with self._lock:
            found = self._pages.get(key)
            mine = found is None or now - found[0] > self.KEEP_S
            if mine:
                if len(self._pages) >= self.MOST:
                    for old in [k for k, (at, _f) in self._pages.items() if now - at > self.KEEP_S] or list(
                        self._pages
                    )[: self.MOST // 2]:
                        del self._pages[old]
                future: concurrent.futures.Future[list[EventRecord]] = concurrent.futures.Future()
                self._pages[key] = (now, future)
            else:
                assert found is not None
                future = found[1]
        if mine:
            try:
                with svc.db.read() as s:
                    events = read_events(s, tenant_id, after_seq=after, limit=BACKLOG_PAGE)
                future.set_result([e for e in events if e.seq <= upto])
            except BaseException as error:
                future.set_exception(error)
                with self._lock:
                    if self._pages.get(key, (0.0, None))[1] is future:
                        del self._pages[key]  # a failed read is not shared with later ones
        return future.result()


PAGES = _Pages()


def _page(svc: Service, tenant_id: int, after: int, upto: int) -> list[EventRecord]:
    return PAGES.read(svc, tenant_id, after, upto)


async def _backlog(svc: Service, tenant_id: int, after: int, upto: int) -> AsyncIterator[EventRecord]:
    """The tenant's events with seq in (after, upto], from the log, page by page (any gap size)."""
    cursor = after
    while cursor < upto:
        page = await run_in_threadpool(_page, svc, tenant_id, cursor, upto)
        if not page:
            return
        for e in page:
            yield e
        cursor = page[-1].seq


def _close_reason(text: str) -> str:
    """A close reason, cut to fit a close frame (123 bytes of UTF-8; Spanish text has multi-byte letters)."""
    return text.encode("utf-8")[:120].decode("utf-8", errors="ignore")


def _origin_ok(ws: WebSocket) -> bool:
    origin = ws.headers.get("origin")
    if origin is None:  # not a browser
        return True
    return urlparse(origin).netloc == ws.headers.get("host")


def _parse_after(raw: str | None) -> int | None:
    """`after` as a seq; ValueError unless it is ASCII digits of a 64-bit integer (not "²", "١٢٣", "-1")."""
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= MAX_SEQ_DIGITS):
        raise ValueError(raw)
    return int(raw)


class _WsRequest:
    """Adapts the WebSocket handshake to `authenticate` (headers, cookies, a safe method)."""

    def __init__(self, ws: WebSocket) -> None:
        self.method = "GET"
        token = ws.query_params.get("token")
        headers = dict(ws.headers)
        if token:
            headers["authorization"] = f"Bearer {token}"
        self.headers = headers
        self.cookies = ws.cookies
        self.state = ws.state


def _still_valid(svc: Service, request: _WsRequest, actor: Actor) -> bool:
    """Whether the socket's credentials still give the same actor (role, user, agent)."""
    try:
        now = authenticate(request, svc)  # type: ignore[arg-type]
    except CentralitaError:
        return False
    return (now.tenant_id, now.role, now.user_id, now.agent_id) == (
        actor.tenant_id,
        actor.role,
        actor.user_id,
        actor.agent_id,
    )


async def _refuse(ws: WebSocket, code: int, reason: str) -> None:
    """Accept, then close with `code`: a close before accepting would reach the client as a bare 403."""
    await ws.accept()
    await ws.close(code=code, reason=_close_reason(reason))


def install(app: FastAPI) -> None:
    @app.websocket("/api/realtime", dependencies=[])
    async def realtime(ws: WebSocket) -> None:
        svc: Service = ws.app.state.service
        request = _WsRequest(ws)
        try:
            actor = await run_in_threadpool(authenticate, request, svc)  # type: ignore[arg-type]
        except CentralitaError as exc:
            await _refuse(ws, CLOSE_UNAUTHENTICATED, exc.detail)
            return
        by_cookie = "authorization" not in {k.lower() for k in ws.headers} and not ws.query_params.get("token")
        if by_cookie and not _origin_ok(ws):
            await _refuse(ws, CLOSE_FORBIDDEN, _("cross-origin WebSocket refused"))
            return
        try:
            after = _parse_after(ws.query_params.get("after"))
        except ValueError:
            await _refuse(ws, CLOSE_INVALID, _("after must be a non-negative integer (an event seq)"))
            return
        want_stats = ws.query_params.get("stats") in ("1", "true")
        stats_queue: asyncio.Queue[dict[str, Any]] | None = None
        typing_queue: asyncio.Queue[dict[str, Any]] | None = None
        typing_hub: ChatTyping | None = None
        await ws.accept()
        sub = svc.bus.subscribe(actor.tenant_id, asyncio.get_running_loop())
        try:
            seq, snapshot, served = await run_in_threadpool(_snapshot, svc, actor)
            flt = _Filter(actor, served)
            sent = seq
            if after is None:
                figures = await run_in_threadpool(_queue_stats, svc, actor, served)
                await ws.send_json({"type": "hello", "last_seq": seq, "snapshot": snapshot, "queue_stats": figures})
            else:
                if after > seq:
                    reason = _("after={after} is beyond the last event {seq}", after=after, seq=seq)
                    await ws.close(code=CLOSE_INVALID, reason=_close_reason(reason))
                    return
                await ws.send_json({"type": "hello", "last_seq": seq, "resumed_from": after})
                async for e in _backlog(svc, actor.tenant_id, after, seq):
                    if flt.allows(e):
                        await ws.send_text(FRAMES.frame(e))
            sub.seen(actor.tenant_id, sent)
            sub.wants = flt.wants
            receiver = asyncio.create_task(_drain_client(ws))
            if want_stats and svc.dispatch is not None:
                stats_queue = svc.dispatch.hub.subscribe(actor.tenant_id, asyncio.get_running_loop())
            stats_getter: asyncio.Task[dict[str, Any]] | None = None
            if actor.agent_id is not None:  # the visitors of its chats typing
                typing_hub = ws.app.state.chat_typing
                typing_queue = typing_hub.subscribe(actor.tenant_id, actor.agent_id, asyncio.get_running_loop())
            typing_getter: asyncio.Task[dict[str, Any]] | None = None
            # One pending `sub.next()` at a time, kept across turns until its event is sent: a getter that
            # finished while this loop awaited something else (the access recheck, a figures frame) must
            # not be dropped — its event is already accounted for in the subscription, so dropping it
            # would lose it with no gap to show (offers lost that way under load, found by bench/e2e).
            getter: asyncio.Task[tuple[int, EventRecord]] | None = None
            checked_at = time.monotonic()
            while True:
                if getter is None:
                    getter = asyncio.create_task(sub.next())
                waiting: set[asyncio.Task[Any]] = {getter, receiver}
                if stats_queue is not None:
                    stats_getter = stats_getter or asyncio.create_task(stats_queue.get())
                    waiting.add(stats_getter)
                if typing_queue is not None:
                    typing_getter = typing_getter or asyncio.create_task(typing_queue.get())
                    waiting.add(typing_getter)
                due = max(0.0, RECHECK_S - (time.monotonic() - checked_at))
                done, _pending = await asyncio.wait(waiting, timeout=due, return_when=asyncio.FIRST_COMPLETED)
                recheck = time.monotonic() - checked_at >= RECHECK_S  # busy or idle: every RECHECK_S
                if recheck:
                    checked_at = time.monotonic()
                if recheck and not await run_in_threadpool(_still_valid, svc, request, actor):
                    for task in waiting:
                        task.cancel()
                    reason = _close_reason(_("your access changed; log in again"))
                    await ws.close(code=CLOSE_UNAUTHENTICATED, reason=reason)
                    return
                if receiver in done:
                    getter.cancel()
                    for extra in (stats_getter, typing_getter):
                        if extra is not None:
                            extra.cancel()
                    return
                if typing_getter is not None and typing_getter in done:
                    frame = typing_getter.result()
                    typing_getter = None
                    await ws.send_json(frame)
                if stats_getter is not None and stats_getter in done:
                    message = stats_getter.result()
                    stats_getter = None
                    await ws.send_text(STATS_FRAMES.frame(message, flt))
                if not getter.done():
                    continue  # the same getter waits on next turn
                before, record = getter.result()
                getter = None
                if record.seq <= sent:
                    continue
                # seqs up to `before` were dropped by the subscription as not needed; past it, a real gap
                start = max(sent, before)
                pending = [e async for e in _backlog(svc, actor.tenant_id, start, record.seq - 1)]
                for e in [*pending, record]:
                    if e.type in ACCESS_EVENTS and not await run_in_threadpool(_still_valid, svc, request, actor):
                        receiver.cancel()
                        for extra in (stats_getter, typing_getter):
                            if extra is not None:
                                extra.cancel()
                        reason = _close_reason(_("your access changed; log in again"))
                        await ws.close(code=CLOSE_UNAUTHENTICATED, reason=reason)
                        return
                    if flt.queues_changed(e):
                        # what the agent sees changed: a fresh snapshot as of this event replaces the state;
                        # nothing is dropped unseen until the new filter is in place
                        sub.wants = None
                        seq, snapshot, served = await run_in_threadpool(_snapshot, svc, actor)
                        flt = _Filter(actor, served)
                        await ws.send_json(
                            {"type": "hello", "last_seq": seq, "snapshot": snapshot, "queue_stats": None}
                        )
                        sent = seq
                        sub.seen(actor.tenant_id, sent)
                        sub.wants = flt.wants
                        break
                    if flt.allows(e):
                        await ws.send_text(FRAMES.frame(e))
                    sent = e.seq
        except WebSocketDisconnect:
            return
        finally:
            sub.close()
            if stats_queue is not None and svc.dispatch is not None:
                svc.dispatch.hub.unsubscribe(stats_queue)
            if typing_queue is not None and typing_hub is not None:
                typing_hub.unsubscribe(typing_queue)


def _stats_for(message: dict[str, Any], flt: _Filter) -> dict[str, Any]:
    visible = [q for q in message["queues"] if access.can_see_queue(flt.actor, flt.served, q["queue_id"])]
    return dict(message, queues=visible)


class StatsFrames:
    """Each `queue_stats` message's text frame, encoded once per set of visible queues (a supervisor's
    sockets share one; an agent's, those with the same queues)."""

    SIZE = 256

    def __init__(self) -> None:
        # keyed by the message's identity; the message is kept with its frame so the id stays its own
        self._frames: dict[tuple[int, access.Served], tuple[dict[str, Any], str]] = {}
        self._lock = threading.Lock()
        self.encoded = 0

    def frame(self, message: dict[str, Any], flt: _Filter) -> str:
        key = (id(message), flt.served)
        with self._lock:
            hit = self._frames.get(key)
        if hit is not None and hit[0] is message:
            return hit[1]
        text = _dumps(_stats_for(message, flt))
        with self._lock:
            self.encoded += 1
            self._frames[key] = (message, text)
            while len(self._frames) > self.SIZE:
                del self._frames[next(iter(self._frames))]
        return text


STATS_FRAMES = StatsFrames()


async def _drain_client(ws: WebSocket) -> None:
    """Read (and ignore) client frames until it disconnects; pings keep proxies awake."""
    try:
        while True:
            message = await ws.receive_text()
            if message == "ping":
                await ws.send_text("pong")
    except (WebSocketDisconnect, RuntimeError):
        return


__all__ = ["install", "public"]

"""WebSocket fan-out at /api/realtime.

Protocol (JSON text frames, server → client):
1. `{"type": "hello", "last_seq": N, "snapshot": {...}}` on a fresh register (no `after`), or
   `{"type": "hello", "last_seq": N, "resumed_from": A}` followed by every event with seq in (A, N].
2. `{"type": "event", "event": {...}}` for each later event, in seq order, each exactly once.
A client that reconnects passes `?after=<last seq it processed>` and misses nothing: the server
subscribes to the bus before reading the log, and fills any seq gap from the log.

With `?stats=1` the socket also gets `{"type": "queue_stats", "at": <epoch s>, "queues": [...]}` whenever
the routing runner's figures change (ephemeral wallboard messages: not events, no seq, never replayed;
the latest one is sent on connect). Agents get the queues they serve. Only the routing process has them.

Auth: the session cookie (the Origin must match the host, against cross-site hijacking) or an API
token in `?token=` / `Authorization: Bearer`. Agents receive only events about themselves or their
queues; supervisors and admins receive all of their tenant's events, never another tenant's.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlparse

from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from centralita import access
from centralita.api.auth import authenticate, public
from centralita.core.actor import Actor
from centralita.core.errors import CentralitaError
from centralita.core.i18n import _
from centralita.events.log import EventRecord, last_seq, read_events
from centralita.service import Service
from centralita.store import tables as t

BACKLOG_PAGE = 1000
MAX_BACKLOG = 100_000


class _Filter:
    """What this socket's actor may see (`access`): its queues, fixed at connect."""

    def __init__(self, actor: Actor, served: access.Served) -> None:
        self.actor = actor
        self.served = served

    def allows(self, e: EventRecord) -> bool:
        return access.can_see_event(self.actor, self.served, e)


def _snapshot(svc: Service, actor: Actor) -> tuple[int, dict[str, Any], access.Served]:
    with svc.db.read() as s:
        seq = last_seq(s, actor.tenant_id)
        served = access.served_queues(s, actor)
        agents_stmt = select(t.Agent).where(t.Agent.tenant_id == actor.tenant_id, t.Agent.active.is_(True))
        if not actor.at_least("supervisor"):
            agents_stmt = agents_stmt.where(t.Agent.id == (actor.agent_id or -1))
        agents = [
            {
                "id": a.id,
                "code": a.code,
                "name": a.name,
                "state": a.state,
                "away_reason": a.away_reason,
                "state_since": a.state_since.isoformat() if a.state_since else None,
            }
            for a in s.scalars(agents_stmt.order_by(t.Agent.code))
        ]
        queues_stmt = select(t.Queue).where(t.Queue.tenant_id == actor.tenant_id, t.Queue.active.is_(True))
        queues = [
            {"id": q.id, "code": q.code, "name": q.name}
            for q in s.scalars(queues_stmt.order_by(t.Queue.code))
            if access.can_see_queue(actor, served, q.id)
        ]
        return seq, {"agents": agents, "queues": queues}, served


def _backlog(svc: Service, tenant_id: int, after: int, upto: int | None) -> list[EventRecord]:
    with svc.db.read() as s:
        events = read_events(s, tenant_id, after_seq=after, limit=BACKLOG_PAGE)
    return [e for e in events if upto is None or e.seq <= upto]


def _close_reason(text: str) -> str:
    """A close reason, cut to fit a close frame (123 bytes of UTF-8; Spanish text has multi-byte letters)."""
    return text.encode("utf-8")[:120].decode("utf-8", errors="ignore")


def _origin_ok(ws: WebSocket) -> bool:
    origin = ws.headers.get("origin")
    if origin is None:  # not a browser
        return True
    return urlparse(origin).netloc == ws.headers.get("host")


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


def install(app: FastAPI) -> None:
    @app.websocket("/api/realtime", dependencies=[])
    async def realtime(ws: WebSocket) -> None:
        svc: Service = ws.app.state.service
        try:
            actor = await run_in_threadpool(authenticate, _WsRequest(ws), svc)  # type: ignore[arg-type]
        except CentralitaError as exc:
            await ws.close(code=4401, reason=_close_reason(exc.detail))
            return
        by_cookie = "authorization" not in {k.lower() for k in ws.headers} and not ws.query_params.get("token")
        if by_cookie and not _origin_ok(ws):
            await ws.close(code=4403, reason=_close_reason(_("cross-origin WebSocket refused")))
            return
        after_raw = ws.query_params.get("after")
        after: int | None = None
        if after_raw is not None:
            if not (after_raw.isascii() and after_raw.isdigit() and len(after_raw) <= 18):  # not "²", "١٢٣"
                reason = _("after must be a non-negative integer (an event seq)")
                await ws.close(code=4422, reason=_close_reason(reason))
                return
            after = int(after_raw)
        want_stats = ws.query_params.get("stats") in ("1", "true")
        stats_queue: asyncio.Queue[dict[str, Any]] | None = None
        await ws.accept()
        sub = svc.bus.subscribe(actor.tenant_id, asyncio.get_running_loop())
        try:
            seq, snapshot, served = await run_in_threadpool(_snapshot, svc, actor)
            flt = _Filter(actor, served)
            sent = seq
            if after is None:
                await ws.send_json({"type": "hello", "last_seq": seq, "snapshot": snapshot})
            else:
                if after > seq:
                    reason = _("after={after} is beyond the last event {seq}", after=after, seq=seq)
                    await ws.close(code=4422, reason=_close_reason(reason))
                    return
                await ws.send_json({"type": "hello", "last_seq": seq, "resumed_from": after})
                cursor = after
                while cursor < seq:
                    page = await run_in_threadpool(_backlog, svc, actor.tenant_id, cursor, seq)
                    if not page:
                        break
                    for e in page:
                        if flt.allows(e):
                            await ws.send_json({"type": "event", "event": e.to_dict()})
                    cursor = page[-1].seq
            sub.seen(actor.tenant_id, sent)
            receiver = asyncio.create_task(_drain_client(ws))
            if want_stats and svc.dispatch is not None:
                stats_queue = svc.dispatch.hub.subscribe(actor.tenant_id, asyncio.get_running_loop())
            stats_getter: asyncio.Task[dict[str, Any]] | None = None
            while True:
                getter = asyncio.create_task(sub.queue.get())
                waiting: set[asyncio.Task[Any]] = {getter, receiver}
                if stats_queue is not None:
                    stats_getter = stats_getter or asyncio.create_task(stats_queue.get())
                    waiting.add(stats_getter)
                done, _pending = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                if receiver in done:
                    getter.cancel()
                    if stats_getter is not None:
                        stats_getter.cancel()
                    return
                if stats_getter is not None and stats_getter in done:
                    message = stats_getter.result()
                    stats_getter = None
                    await ws.send_json(_stats_for(message, flt))
                if getter not in done:
                    getter.cancel()
                    continue
                record = getter.result()
                if record.seq <= sent:
                    continue
                if record.seq > sent + 1:  # a gap: events committed elsewhere; read them from the log
                    for e in await run_in_threadpool(_backlog, svc, actor.tenant_id, sent, record.seq - 1):
                        if flt.allows(e):
                            await ws.send_json({"type": "event", "event": e.to_dict()})
                if flt.allows(record):
                    await ws.send_json({"type": "event", "event": record.to_dict()})
                sent = record.seq
        except WebSocketDisconnect:
            return
        finally:
            sub.close()
            if stats_queue is not None and svc.dispatch is not None:
                svc.dispatch.hub.unsubscribe(stats_queue)


def _stats_for(message: dict[str, Any], flt: _Filter) -> dict[str, Any]:
    if flt.served is None:
        return message
    return dict(
        message, queues=[q for q in message["queues"] if access.can_see_queue(flt.actor, flt.served, q["queue_id"])]
    )


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

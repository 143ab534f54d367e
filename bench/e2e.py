"""The live path end to end: a real `centralita up`, driven over real HTTP and WebSocket connections.

    .venv/bin/python -m bench.e2e                       # both engines, 10 contacts/s for 30 s
    .venv/bin/python -m bench.e2e --engine sqlite --rate 100 --seconds 60

Per engine: a fresh database (a SQLite file, or a PostgreSQL database created for the run and dropped
after it) gets one contact center through the real actions: one chat queue without an hours calendar,
`--agents` agents serving it (chat capacity `--capacity`), a user and an API token for each, and an
integration token that brings contacts in. PostgreSQL is vacuumed (`VACUUM ANALYZE`) before the load:
this machine's server runs with autovacuum off. Then `python -m centralita up --no-demo` starts on a free
port (`--server-env KEY=VALUE` adds settings, e.g. `CENTRALITA_WORKERS=2`; `--server-src DIR` runs the server
from another checkout, e.g. a git worktree of the commit before a change, to compare side by side), and the
load runs:

- each bot agent opens its realtime WebSocket (permessage-deflate offered, as browsers do), goes
  available and, for every `contact.offered` frame naming it, accepts, waits `--handle-ms` (a random
  time in that range), ends and wraps up;
- contacts are posted at a fixed rate (open loop: the n-th at t0 + n / rate, however late the server is)
  for `--seconds`; arrival → offer is measured from the POST's send time to the offer frame's arrival;
- the baseline, in the same run and over the same connection pool: `GET /api/health` at the same rate,
  so POST latency reads as a ratio against a trivial round trip on the same machine at the same moment;
- CPU: of the server's process tree, of this client and of the whole machine, over the load window.

After the load the run waits (up to `--drain` s) until every acknowledged contact is wrapped up, stops the
server and checks the event log: `lost` counts contacts that were acknowledged (201) but are missing from
the store or not wrapped up by then; `duplicated` counts contacts offered more than once (every bot
accepts at once, so any second offer is an offer that expired or was made twice), by the log or on the
sockets; `seq_gaps` counts holes in the tenant's event numbers; `overtaken` counts contacts that, while
waiting, saw a later arrival offered first (waiting contacts keep their order: 0). The last line printed is JSON:
`{"engines": {"sqlite": {...}, "postgresql": {...}}, ...}` with, per engine, `rate_per_s`, `seconds`,
`p99_offer_ms`, `lost`, `duplicated` and the rest.

The client is asyncio on uvloop with a small HTTP/1.1 keep-alive client of its own (httpx costs about a
millisecond of CPU per request, which at hundreds of requests a second would measure the client); it
shares the machine's two cores with the server, so its own CPU is reported too.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import itertools
import json
import os
import random
import resource
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench._common import (
    DEFAULT_PG_ADMIN,
    free_port,
    libpq_conninfo,
    machine,
    percentile,
    pg_create_database,
    pg_drop_database,
    pg_server_version,
    ratio,
    start_server,
    stop_server,
)

TENANT = "bench"
QUEUE = "chat"
REASON = "consulta"
PG_DATABASE = "centralita_bench_e2e"
MAX_CONNECTIONS = 256  # the channel side's HTTP connections for new contacts (one request at a time each)


# -- a small HTTP/1.1 keep-alive client -------------------------------------------------------------


class HttpError(Exception):
    pass


class _Conn:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.idle_since = time.monotonic()


class Http:
    """JSON requests over a pool of keep-alive connections to one host (Content-Length bodies only).

    A connection idle for longer than `max_idle_s` is not reused (the server closes idle connections after
    its keep-alive time-out, uvicorn's is 5 s); a request on a reused connection that the server closed
    before answering (no byte of a response) is sent again once on a new connection, as browsers do."""

    def __init__(self, host: str, port: int, size: int = MAX_CONNECTIONS, max_idle_s: float = 3.0) -> None:
        self.host, self.port = host, port
        self.max_idle_s = max_idle_s
        self._idle: list[_Conn] = []
        self._slots = asyncio.Semaphore(size)

    async def _connect(self) -> _Conn:
        reader, writer = await asyncio.open_connection(self.host, self.port)
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return _Conn(reader, writer)

    def _reusable(self) -> _Conn | None:
        now = time.monotonic()
        while self._idle:
            conn = self._idle.pop()
            if now - conn.idle_since < self.max_idle_s and not conn.writer.is_closing():
                return conn
            conn.writer.close()
        return None

    async def request(
        self, method: str, path: str, body: Any = None, token: str | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        async with self._slots:
            conn = self._reusable()
            reused = conn is not None
            if conn is None:
                conn = await self._connect()
            try:
                status, headers, data = await self._exchange(conn, method, path, body, token)
            except (OSError, asyncio.IncompleteReadError, HttpError) as exc:
                conn.writer.close()
                stale = isinstance(exc, asyncio.IncompleteReadError | ConnectionResetError) and not getattr(
                    exc, "partial", b""
                )
                if not (reused and stale):
                    raise
                conn = await self._connect()  # the server had closed the idle connection: once more, on a new one
                status, headers, data = await self._exchange(conn, method, path, body, token)
            if headers.get("connection", "").lower() == "close":
                conn.writer.close()
            else:
                conn.idle_since = time.monotonic()
                self._idle.append(conn)
            return status, headers, data

    async def _exchange(
        self, conn: _Conn, method: str, path: str, body: Any, token: str | None
    ) -> tuple[int, dict[str, str], bytes]:
        payload = b"" if body is None else json.dumps(body).encode()
        head = [f"{method} {path} HTTP/1.1", f"host: {self.host}:{self.port}", f"content-length: {len(payload)}"]
        if body is not None:
            head.append("content-type: application/json")
        if token:
            head.append(f"authorization: Bearer {token}")
        conn.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + payload)
        await conn.writer.drain()
        status_line = await conn.reader.readuntil(b"\r\n")
        parts = status_line.split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
            raise HttpError(f"bad status line {status_line!r}")
        status = int(parts[1])
        headers: dict[str, str] = {}
        while True:
            line = await conn.reader.readuntil(b"\r\n")
            if line == b"\r\n":
                break
            name, _sep, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        if "chunked" in headers.get("transfer-encoding", ""):
            chunks = []
            while True:
                size = int((await conn.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                chunk = await conn.reader.readexactly(size + 2)
                if size == 0:
                    break
                chunks.append(chunk[:-2])
            data = b"".join(chunks)
        else:
            data = await conn.reader.readexactly(int(headers.get("content-length", "0")))
        return status, headers, data

    def close(self) -> None:
        for conn in self._idle:
            conn.writer.close()
        self._idle.clear()


# -- the contact center under test --------------------------------------------------------------------


@dataclass
class Setup:
    integration_token: str
    agents: list[tuple[int, str]]  # (agent id, API token of its user)


def _config(agents: int, capacity: int) -> str:
    lines = [
        "version: 1",
        "queues:",
        f"  - {{code: {QUEUE}, name: Chat, channels: [chat]}}",
        "reason_groups:",
        "  - {code: general, name_es: General, name_en: General}",
        "reasons:",
        f"  - {{code: {REASON}, group: general, name_es: Consulta, name_en: Enquiry}}",
        "agents:",
    ]
    for i in range(agents):
        lines.append(
            f"  - {{code: a{i:03d}, name: Bot {i:03d}, queues: [{{queue: {QUEUE}}}], capacity: {{chat: {capacity}}}}}"
        )
    return "\n".join(lines) + "\n"


def prepare(database_url: str, data_dir: Path, agents: int, capacity: int) -> Setup:
    """The contact center, through the real actions, in this process (before the server starts)."""
    os.environ["CENTRALITA_ARGON2_PROFILE"] = "test"  # the bots log in with tokens: their passwords are never used
    from centralita.accounts.actions import do_create_api_token, do_create_tenant, do_create_user
    from centralita.accounts.schemas import ApiTokenCreate, TenantCreate, UserCreate
    from centralita.configuration.plan import do_apply_config
    from centralita.core.actor import Actor
    from centralita.core.settings import load_settings
    from centralita.service import Service

    env = {"CENTRALITA_DATA_DIR": str(data_dir), "CENTRALITA_DATABASE_URL": database_url}
    svc = Service.start(load_settings({}, env=env))
    try:
        with svc.db.write() as s:
            tenant = do_create_tenant(s, TenantCreate(slug=TENANT, name="Bench"), svc.clock)
            admin = Actor(tenant_id=tenant.id, role="admin", username="bench", clock=svc.clock)
            do_apply_config(s, admin, _config(agents, capacity), "bench.yaml")
            integration, _row = do_create_api_token(s, admin, ApiTokenCreate(name="arrivals", role="supervisor"))
            bots: list[tuple[int, str]] = []
            for i in range(agents):
                user = do_create_user(
                    s,
                    admin,
                    UserCreate(username=f"bot{i:03d}", password="bench-password", role="agent", agent=f"a{i:03d}"),
                )
                assert user.agent_id is not None
                actor = Actor(
                    tenant_id=tenant.id, role="agent", user_id=user.id, agent_id=user.agent_id, clock=svc.clock
                )
                token, _row = do_create_api_token(s, actor, ApiTokenCreate(name="bot", role="agent"))
                bots.append((user.agent_id, token))
    finally:
        svc.close()
    return Setup(integration, bots)


# -- CPU ------------------------------------------------------------------------------------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _tree_ticks(root: int) -> int:
    """utime + stime of `root` and every descendant now alive (clock ticks)."""
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        ticks[int(entry)] = int(fields[11]) + int(fields[12])
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += ticks.get(pid, 0)
        todo.extend(child for child, parent in parents.items() if parent == pid)
    return total


def _machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def _self_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# -- the load --------------------------------------------------------------------------------------------


@dataclass
class Tally:
    sent_at: dict[int, float] = field(default_factory=dict)  # contact id → POST send time
    offered_at: dict[int, float] = field(default_factory=dict)  # contact id → first offer frame
    offers_seen: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    wrapped: set[int] = field(default_factory=set)
    post_ms: list[float] = field(default_factory=list)
    health_ms: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    action_errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    retry_after: int = 0


async def _bot(
    http: Http,
    url: str,
    agent_id: int,
    token: str,
    tally: Tally,
    handle_ms: tuple[int, int],
    end_with_wrap_up: bool,
    ready: asyncio.Event,
    stop: asyncio.Event,
    rng: random.Random,
) -> None:
    from websockets.asyncio.client import connect

    tasks: set[asyncio.Task[None]] = set()

    async def act(path: str, body: Any = None) -> int:
        try:
            status, _h, _d = await http.request("POST", path, body, token)
        except (OSError, asyncio.IncompleteReadError, HttpError):
            status = 0
        if status >= 400 or status == 0:
            tally.action_errors[f"{path.rsplit('/', 1)[-1]}:{status}"] += 1
        return status

    async def handle(contact_id: int) -> None:
        if await act(f"/api/contacts/{contact_id}/accept") != 200:
            return
        await asyncio.sleep(rng.uniform(*handle_ms) / 1000)
        body = {"disposition": "resuelto", "reason": REASON}
        if end_with_wrap_up:  # one request, one transaction (the end carries the wrap-up)
            if await act(f"/api/contacts/{contact_id}/end", {"wrap_up": body}) == 200:
                tally.wrapped.add(contact_id)
            return
        if await act(f"/api/contacts/{contact_id}/end") != 200:
            return
        if await act(f"/api/contacts/{contact_id}/wrap-up", body) == 200:
            tally.wrapped.add(contact_id)

    async with connect(
        url, additional_headers={"Authorization": f"Bearer {token}"}, max_size=None, open_timeout=30
    ) as ws:
        hello = json.loads(await ws.recv())
        assert hello["type"] == "hello", hello
        if await act("/api/agents/me/state", {"state": "available"}) != 200:
            raise RuntimeError(f"agent {agent_id} could not go available")
        ready.set()
        # no timeout around recv(): on Python 3.11 `asyncio.wait_for` can drop a result that arrives just as
        # the timeout fires (gh-86296), which would lose an offer in the client. One receive at a time,
        # waited for beside the stop signal, never cancelled mid-way.
        stopping = asyncio.create_task(stop.wait())
        try:
            await _listen(ws, stopping, agent_id, tally, handle, tasks)
        finally:
            stopping.cancel()
        for task in list(tasks):
            task.cancel()


async def _listen(
    ws: Any,
    stopping: asyncio.Task[Any],
    agent_id: int,
    tally: Tally,
    handle: Any,
    tasks: set[asyncio.Task[None]],
) -> None:
    """A bot's socket: every offer to its agent starts `handle`, until `stopping` is done."""
    receiving: asyncio.Task[Any] | None = None
    while True:
        if receiving is None:
            receiving = asyncio.create_task(ws.recv())
        await asyncio.wait({receiving, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if not receiving.done():
            receiving.cancel()
            break
        raw, receiving = receiving.result(), None
        now = time.monotonic()
        message = json.loads(raw)
        if message.get("type") != "event":
            continue
        event = message["event"]
        if event["type"] != "contact.offered" or event.get("agent_id") != agent_id:
            continue
        contact_id = int(event["contact_id"])
        tally.offers_seen[contact_id] += 1
        tally.offered_at.setdefault(contact_id, now)
        task = asyncio.create_task(handle(contact_id))
        tasks.add(task)
        task.add_done_callback(tasks.discard)


async def _arrivals(http: Http, token: str, rate: float, seconds: float, tally: Tally) -> None:
    inflight: set[asyncio.Task[None]] = set()

    async def post(n: int) -> None:
        body = {"channel": "chat", "from": f"web-visitor-{n}", "queue": QUEUE}
        started = time.monotonic()
        try:
            status, headers, data = await http.request("POST", "/api/contacts", body, token)
        except (OSError, asyncio.IncompleteReadError, HttpError):
            tally.statuses["error"] += 1
            return
        tally.post_ms.append((time.monotonic() - started) * 1000)
        tally.statuses[str(status)] += 1
        if status == 201:
            tally.sent_at[int(json.loads(data)["id"])] = started
        elif status == 503 and "retry-after" in headers:
            tally.retry_after += 1

    async def health() -> None:
        started = time.monotonic()
        with contextlib.suppress(OSError, asyncio.IncompleteReadError, HttpError):
            status, _h, _d = await http.request("GET", "/api/health")
            if status == 200:
                tally.health_ms.append((time.monotonic() - started) * 1000)

    t0 = time.monotonic()
    total = int(rate * seconds)
    for n in range(total):
        due = t0 + n / rate
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        for coro in (post(n), health()):
            task = asyncio.create_task(coro)
            inflight.add(task)
            task.add_done_callback(inflight.discard)
    if inflight:
        await asyncio.gather(*inflight)


async def _wait_healthy(http: Http, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited ({proc.returncode}):\n{log.read_text(errors='replace')[-3000:]}")
        with contextlib.suppress(OSError, asyncio.IncompleteReadError, HttpError):
            status, _h, _d = await http.request("GET", "/api/health")
            if status == 200:
                return
        await asyncio.sleep(0.2)
    raise RuntimeError(f"the server did not start:\n{log.read_text(errors='replace')[-3000:]}")


async def drive(
    port: int, proc: subprocess.Popen[bytes], log: Path, setup: Setup, args: argparse.Namespace
) -> dict[str, Any]:
    # the channel side (new contacts, health) and the agents are separate clients, as in life: an agent's
    # accept never waits for a connection behind the channel's requests (each agent has its own)
    http = Http("127.0.0.1", port)
    desks = Http("127.0.0.1", port, size=len(setup.agents))
    tally = Tally()
    try:
        await _wait_healthy(http, proc, log)
        stop = asyncio.Event()
        rng = random.Random(args.seed)
        url = f"ws://127.0.0.1:{port}/api/realtime"
        readies = [asyncio.Event() for _ in setup.agents]
        bots = [
            asyncio.create_task(
                _bot(
                    desks,
                    url,
                    agent_id,
                    token,
                    tally,
                    args.handle_ms,
                    args.end_with_wrap_up,
                    ready,
                    stop,
                    random.Random(rng.random()),
                )
            )
            for (agent_id, token), ready in zip(setup.agents, readies, strict=True)
        ]
        await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), timeout=60)
        await asyncio.sleep(1.0)  # every agent available before the first contact
        cpu0 = (_tree_ticks(proc.pid), _machine_ticks(), _self_cpu_s(), time.monotonic())
        await _arrivals(http, setup.integration_token, args.rate, args.seconds, tally)
        cpu1 = (_tree_ticks(proc.pid), _machine_ticks(), _self_cpu_s(), time.monotonic())
        arrivals_s = cpu1[3] - cpu0[3]
        deadline = time.monotonic() + args.drain
        while time.monotonic() < deadline and not set(tally.sent_at) <= tally.wrapped:
            await asyncio.sleep(0.2)
        finished_at = time.monotonic()
        stop.set()
        for bot in bots:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(bot, timeout=5)
        for bot in bots:
            if bot.done() and not bot.cancelled() and bot.exception() is not None:
                raise RuntimeError(f"a bot agent failed: {bot.exception()!r}")
    finally:
        http.close()
        desks.close()
    wall = cpu1[3] - cpu0[3]
    busy = cpu1[1][0] - cpu0[1][0]
    total = cpu1[1][1] - cpu0[1][1]
    offer_ms = sorted((tally.offered_at[c] - s) * 1000 for c, s in tally.sent_at.items() if c in tally.offered_at)
    post = sorted(tally.post_ms)
    health = sorted(tally.health_ms)
    first_sent = min(tally.sent_at.values(), default=cpu0[3])
    return {
        "tally": tally,
        "figures": {
            "arrivals_s": round(arrivals_s, 2),
            "posted": int(args.rate * args.seconds),
            "statuses": dict(tally.statuses),
            "retry_after": tally.retry_after,
            "created": len(tally.sent_at),
            "offered": len(offer_ms),
            "completed": len(tally.wrapped),
            "completed_per_s": round(len(tally.wrapped) / max(0.001, finished_at - first_sent), 2),
            "action_errors": dict(tally.action_errors),
            "post_ms": {"p50": _r(percentile(post, 50)), "p99": _r(percentile(post, 99))},
            "health_ms": {"p50": _r(percentile(health, 50)), "p99": _r(percentile(health, 99))},
            "post_vs_health_p50": ratio(percentile(post, 50), percentile(health, 50)),
            "post_vs_health_p99": ratio(percentile(post, 99), percentile(health, 99)),
            "p50_offer_ms": _r(percentile(offer_ms, 50)),
            "p99_offer_ms": _r(percentile(offer_ms, 99)),
            "max_offer_ms": _r(offer_ms[-1]) if offer_ms else None,
            "server_cpu_pct": round(100 * (cpu1[0] - cpu0[0]) / CLOCK_TICKS / wall, 1),
            "client_cpu_pct": round(100 * (cpu1[2] - cpu0[2]) / wall, 1),
            "machine_cpu_pct": round(100 * busy / total * (os.cpu_count() or 1), 1) if total else None,
        },
    }


def _r(value: float) -> float | None:
    return None if value != value else round(value, 1)  # NaN → null


# -- after the run: the event log -------------------------------------------------------------------------


def check_log(database_url: str, tally: Tally) -> dict[str, Any]:
    from sqlalchemy import select

    from centralita.store import tables as t
    from centralita.store.db import Database

    db = Database(database_url)
    try:
        with db.read() as s:
            tenant_id = s.scalar(select(t.Tenant.id).where(t.Tenant.slug == TENANT))
            seqs = list(s.scalars(select(t.Event.seq).where(t.Event.tenant_id == tenant_id).order_by(t.Event.seq)))
            offered: dict[int, int] = defaultdict(int)
            for cid in s.scalars(
                select(t.Event.contact_id).where(t.Event.tenant_id == tenant_id, t.Event.type == "contact.offered")
            ):
                if cid is not None:
                    offered[int(cid)] += 1
            first_seq: dict[str, dict[int, int]] = {"contact.queued": {}, "contact.offered": {}}
            first_offer: dict[int, tuple[int, float]] = {}
            for kind, cid, seq, ts in s.execute(
                select(t.Event.type, t.Event.contact_id, t.Event.seq, t.Event.ts)
                .where(t.Event.tenant_id == tenant_id, t.Event.type.in_(list(first_seq)))
                .order_by(t.Event.seq)
            ):
                if cid is not None:
                    first_seq[kind].setdefault(int(cid), int(seq))
                    if kind == "contact.offered":
                        first_offer.setdefault(int(cid), (int(seq), ts.timestamp()))
            enqueued = {
                int(cid): ts.timestamp()
                for cid, ts in s.execute(
                    select(t.Contact.id, t.Contact.enqueue_ts).where(
                        t.Contact.tenant_id == tenant_id, t.Contact.enqueue_ts.is_not(None)
                    )
                )
                if ts is not None
            }
            statuses: dict[int, str] = dict(
                s.execute(select(t.Contact.id, t.Contact.status).where(t.Contact.tenant_id == tenant_id)).all()
            )
    finally:
        db.dispose()
    acknowledged = set(tally.sent_at)
    missing = acknowledged - set(statuses)
    unfinished = {c for c in acknowledged - missing if statuses[c] != "closed"}
    gaps = sum(1 for a, b in itertools.pairwise(seqs) if b != a + 1) + (1 if seqs and seqs[0] != 1 else 0)
    duplicated_log = {c for c, n in offered.items() if n > 1}
    duplicated_ws = {c for c, n in tally.offers_seen.items() if n > 1}
    return {
        "overtaken": overtaken(enqueued, first_seq["contact.queued"], first_offer),
        "lost": len(missing | unfinished),
        "missing_in_store": len(missing),
        "not_wrapped_up": len(unfinished),
        "duplicated": len(duplicated_log | duplicated_ws),
        "duplicated_log": len(duplicated_log),
        "duplicated_ws": len(duplicated_ws),
        "events": len(seqs),
        "seq_gaps": gaps,
    }


SAME_MOMENT_S = 0.1  # offers this close together are the same moment to a customer (and to a race)


def overtaken(enqueued: dict[int, float], queued: dict[int, int], offered: dict[int, tuple[int, float]]) -> int:
    """How many contacts were overtaken while they waited: a contact that arrived later (`enqueued`:
    arrival times) was offered first, more than SAME_MOMENT_S before them, when they were already in
    the log (`queued`: seq of their `contact.queued`; `offered`: seq and time of their first
    `contact.offered`). One queue, agents alike: the router offers the longest waiting first, so this is
    0 when waiting contacts keep their order. (A contact committed after a later arrival's offer was not
    waiting yet; one committed a moment before it may not have reached the router yet: not counted.)"""
    later_offers: list[tuple[int, float]] = []  # (seq, time) of the first offers of later arrivals
    count = 0
    for cid in sorted(enqueued, key=lambda c: (enqueued[c], c), reverse=True):
        if cid not in offered or cid not in queued:
            continue
        waiting_from, (offered_seq, offered_at) = queued[cid], offered[cid]
        i = bisect.bisect_right(later_offers, (waiting_from, float("inf")))
        while i < len(later_offers) and later_offers[i][0] < offered_seq:
            if later_offers[i][1] < offered_at - SAME_MOMENT_S:
                count += 1
                break
            i += 1
        bisect.insort(later_offers, offered[cid])
    return count


# -- one engine -------------------------------------------------------------------------------------------


def run_engine(engine: str, args: argparse.Namespace, extra_env: dict[str, str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"centralita-e2e-{engine}-") as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir(mode=0o700)
        log = Path(tmp) / "server.log"
        if engine == "sqlite":
            database_url = f"sqlite:///{data_dir / 'centralita.db'}"
            version = None
        else:
            database_url = pg_create_database(args.pg_url, PG_DATABASE)
            version = pg_server_version(args.pg_url)
        try:
            setup = prepare(database_url, data_dir, args.agents, args.capacity)
            if engine == "postgresql":
                import psycopg

                with psycopg.connect(libpq_conninfo(database_url), autocommit=True) as conn:
                    conn.execute("VACUUM ANALYZE")
            port = free_port()
            proc = start_server(database_url, data_dir, port, extra_env, log, args.server_src)
            try:
                result = asyncio.run(drive(port, proc, log, setup, args))
            finally:
                stop_server(proc)
            figures: dict[str, Any] = {
                "rate_per_s": args.rate,
                "seconds": args.seconds,
                "agents": args.agents,
                "end_with_wrap_up": args.end_with_wrap_up,
                **result["figures"],
                **check_log(database_url, result["tally"]),
                "vacuumed": engine == "postgresql",
            }
            if version:
                figures["server_version"] = version
            if args.show_log:
                print(log.read_text(errors="replace")[-5000:], file=sys.stderr)
            return figures
        finally:
            if engine == "postgresql" and not args.keep:
                pg_drop_database(args.pg_url, PG_DATABASE)


def _print_engine(engine: str, f: dict[str, Any]) -> None:
    print(
        f"{engine:>10}  rate {f['rate_per_s']}/s × {f['seconds']} s: created {f['created']}, completed"
        f" {f['completed']} ({f['completed_per_s']}/s); POST p50/p99 {f['post_ms']['p50']}/{f['post_ms']['p99']} ms"
        f" (health {f['health_ms']['p50']}/{f['health_ms']['p99']} ms, ×{f['post_vs_health_p99']} at p99);"
        f" arrival→offer p50/p99/max {f['p50_offer_ms']}/{f['p99_offer_ms']}/{f['max_offer_ms']} ms;"
        f" lost {f['lost']}, duplicated {f['duplicated']}, seq gaps {f['seq_gaps']}, overtaken {f['overtaken']};"
        f" CPU server {f['server_cpu_pct']} %, client {f['client_cpu_pct']} %, machine {f['machine_cpu_pct']} %",
        flush=True,
    )


def _handle_range(text: str) -> tuple[int, int]:
    low, _sep, high = text.partition("-")
    lo, hi = int(low), int(high or low)
    if not 0 <= lo <= hi:
        raise argparse.ArgumentTypeError("--handle-ms: LOW-HIGH milliseconds, LOW <= HIGH")
    return lo, hi


def _env_pair(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError("--server-env: KEY=VALUE")
    return key, value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--rate", type=float, default=10.0, help="contacts posted per second")
    parser.add_argument("--seconds", type=float, default=30.0, help="how long contacts arrive")
    parser.add_argument("--agents", type=int, default=40)
    parser.add_argument("--capacity", type=int, default=3, help="chat contacts an agent handles at once")
    parser.add_argument("--handle-ms", type=_handle_range, default=(500, 1000), help="LOW-HIGH")
    parser.add_argument(
        "--end-with-wrap-up",
        action="store_true",
        help="bots end and wrap up in one request (POST …/end with a wrap_up body) instead of two",
    )
    parser.add_argument("--drain", type=float, default=60.0, help="seconds to wait for the last wrap-ups")
    parser.add_argument("--server-env", type=_env_pair, action="append", default=[], help="KEY=VALUE for the server")
    parser.add_argument(
        "--server-src", type=Path, default=None, help="run the server from this checkout (e.g. a git worktree)"
    )
    parser.add_argument("--pg-url", default=DEFAULT_PG_ADMIN)
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    parser.add_argument("--show-log", action="store_true", help="print the end of the server's log")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        pass
    engines = ("sqlite", "postgresql") if args.engine == "both" else (args.engine,)
    out: dict[str, Any] = {
        "engines": {},
        "machine": machine(),
        "server_env": dict(args.server_env),
        "server_src": str(args.server_src or Path(__file__).resolve().parents[1]),
    }
    for engine in engines:
        figures = run_engine(engine, args, dict(args.server_env))
        out["engines"][engine] = figures
        _print_engine(engine, figures)
    out["loadavg_1m_after"] = round(os.getloadavg()[0], 2)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

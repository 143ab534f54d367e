"""`centralita up` with several worker processes (api/workers.py), for real: a WebSocket on any worker sees
what any worker wrote, the leader's death hands routing to another worker without losing a contact, a
dead worker is replaced, the login limit holds across workers, queue figures come from any worker, and
the workers end with their supervisor."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from bench.e2e import QUEUE, Setup, prepare
from websockets.sync.client import ClientConnection, connect

from tests.conftest import REDIS_URL
from tests.e2e.real_server import Up, base_env, start_up

pytestmark = pytest.mark.slow

WORKERS = 2


def _until(what: str, check: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _children(pid: int) -> set[int]:
    out = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.add(int(entry))
            except OSError:
                continue
    return out


def _workers(up: Up) -> set[int]:
    """The supervisor's spawned processes, its API workers and its routing process (the spawn start also
    leaves a resource tracker: not one of them)."""
    found = set()
    for pid in _children(up.proc.pid):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"spawn_main" in cmdline:
            found.add(pid)
    return found


def _socket_owners(port: int) -> dict[int, int]:
    """Established TCP connections to `port` on the server's side: socket inode → pid that holds it."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].split(":")[1], 16)
        if local_port == port and fields[3] == "01":  # ESTABLISHED
            inodes.add(int(fields[9]))
    owners = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            for fd in os.listdir(f"/proc/{entry}/fd"):
                target = os.readlink(f"/proc/{entry}/fd/{fd}")
                if target.startswith("socket:[") and int(target[8:-1]) in inodes:
                    owners[int(target[8:-1])] = int(entry)
        except OSError:
            continue
    return owners


@pytest.fixture
def up(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[Up, Setup, str]]:
    """`up` with its workers; the events between them go through the built-in relay, or through Redis when
    the test asks for "redis"."""
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    db_url = f"sqlite:///{data / 'centralita.db'}"
    setup = prepare(db_url, data, agents=3, capacity=1)
    fanout = {"redis_url": REDIS_URL} if getattr(request, "param", "relay") == "redis" else {}
    env = base_env(data, db_url, workers=str(WORKERS), login_attempts_per_minute="3", **fanout)
    server = start_up(env, tmp_path / "server.log")
    _until("the workers", lambda: len(_workers(server)) == WORKERS + 1)  # and the routing process
    assert (data / "relay.sock").exists() == (not fanout), "the relay runs only without Redis"
    try:
        yield server, setup, db_url
    finally:
        server.stop()


def _ws(stack: contextlib.ExitStack, server: Up, token: str) -> ClientConnection:
    conn = stack.enter_context(
        connect(f"ws://127.0.0.1:{server.port}/api/realtime", additional_headers={"Authorization": f"Bearer {token}"})
    )
    hello = json.loads(conn.recv(timeout=10))
    assert hello["type"] == "hello"
    return conn


def _events(conn: ClientConnection, want: Callable[[dict[str, Any]], bool], timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        message = json.loads(conn.recv(timeout=left))
        if message.get("type") == "event" and want(message["event"]):
            event: dict[str, Any] = message["event"]
            return event
    raise AssertionError("the event did not come")


def _arrival_of(contact_id: int) -> Callable[[dict[str, Any]], bool]:
    return lambda e: e["type"] == "contact.arrived" and e["contact_id"] == contact_id


def _post_contact(server: Up, setup: Setup, n: int) -> int:
    resp = httpx.post(
        f"{server.url}/api/contacts",
        json={"channel": "chat", "from": f"visitor-{n}", "queue": QUEUE},
        headers={"Authorization": f"Bearer {setup.integration_token}"},
        timeout=10,
    )
    assert resp.status_code == 201, resp.text
    return int(resp.json()["id"])


def _available(server: Up, token: str) -> None:
    resp = httpx.post(
        f"{server.url}/api/agents/me/state",
        json={"state": "available"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert resp.status_code == 200, resp.text


@pytest.mark.parametrize("up", ["relay", "redis"], indirect=True)
def test_every_socket_sees_what_any_worker_wrote(up: tuple[Up, Setup, str]) -> None:
    server, setup, _db = up
    with contextlib.ExitStack() as stack:
        sockets = [_ws(stack, server, setup.integration_token) for _ in range(4)]
        while len(set(_socket_owners(server.port).values())) < WORKERS and len(sockets) < 60:
            sockets.append(_ws(stack, server, setup.integration_token))  # the kernel picks the worker
        holders = set(_socket_owners(server.port).values())
        assert holders <= _workers(server)
        assert len(holders) == WORKERS, "the sockets all landed on one worker: the test would prove nothing"
        ids = [_post_contact(server, setup, n) for n in range(4)]  # each POST on a new connection
        for conn in sockets:
            seen = [_events(conn, _arrival_of(cid)) for cid in ids]
            assert [e["seq"] for e in seen] == sorted(e["seq"] for e in seen)  # in order


def test_the_leaders_death_hands_routing_to_another_worker(up: tuple[Up, Setup, str]) -> None:
    server, setup, db_url = up
    lock_file = Path(db_url.removeprefix("sqlite:///") + ".routing.lock")
    leader = _until("a routing leader", lambda: int(lock_file.read_text() or 0))
    assert leader in _workers(server)
    waiting = [_post_contact(server, setup, n) for n in range(3)]  # nobody available: they wait
    os.kill(leader, signal.SIGKILL)
    _until("a new routing process", lambda: len(_workers(server)) == WORKERS + 1 and leader not in _workers(server))

    def other_leader() -> int:
        pid = int(lock_file.read_text() or 0)
        return pid if pid != leader else 0

    new_leader = _until("a new leader", other_leader)
    assert new_leader in _workers(server)
    agent_id, token = setup.agents[0]
    with contextlib.ExitStack() as stack:
        conn = _ws(stack, server, token)
        _available(server, token)
        offered = _events(conn, lambda e: e["type"] == "contact.offered" and e["agent_id"] == agent_id)
        assert offered["contact_id"] == waiting[0]  # the oldest first, as it waited


@pytest.mark.parametrize("up", ["relay", "redis"], indirect=True)
def test_the_login_limit_holds_across_workers(up: tuple[Up, Setup, str]) -> None:
    server, _setup, _db = up
    codes = []
    for _ in range(5):  # each on a new connection: they spread over the workers
        resp = httpx.post(
            f"{server.url}/api/auth/login",
            json={"username": "bot000", "password": "wrong-password", "tenant": "bench"},
            timeout=10,
        )
        codes.append(resp.status_code)
    assert codes[:3] == [401, 401, 401] and codes[3:] == [429, 429]


@pytest.mark.parametrize("up", ["relay", "redis"], indirect=True)
def test_queue_figures_come_from_every_worker(up: tuple[Up, Setup, str]) -> None:
    server, setup, _db = up
    _post_contact(server, setup, 0)

    def figures() -> list[list[dict[str, Any]]] | None:
        answers = [
            httpx.get(
                f"{server.url}/api/queues/stats",
                headers={"Authorization": f"Bearer {setup.integration_token}"},
                timeout=10,
            )
            for _ in range(6)
        ]
        if any(r.status_code != 200 for r in answers):
            return None
        found: list[list[dict[str, Any]]] = [r.json() for r in answers]
        return found if all(f and f[0]["waiting"] == 1 for f in found) else None

    assert _until("the figures on every worker", figures)


def test_an_api_worker_that_dies_is_replaced_and_routing_goes_on(up: tuple[Up, Setup, str]) -> None:
    server, setup, db_url = up
    lock_file = Path(db_url.removeprefix("sqlite:///") + ".routing.lock")
    leader = _until("a routing leader", lambda: int(lock_file.read_text() or 0))
    api_workers = _workers(server) - {leader}
    assert len(api_workers) == WORKERS
    victim = min(api_workers)
    os.kill(victim, signal.SIGKILL)
    _until(
        "a new API worker",
        lambda: len(_workers(server)) == WORKERS + 1 and victim not in _workers(server),
    )
    assert int(lock_file.read_text() or 0) == leader, "routing stayed where it was"
    agent_id, token = setup.agents[0]
    with contextlib.ExitStack() as stack:
        conn = _ws(stack, server, token)
        _available(server, token)
        cid = _post_contact(server, setup, 0)
        offered = _events(conn, lambda e: e["type"] == "contact.offered" and e["agent_id"] == agent_id)
        assert offered["contact_id"] == cid


def test_the_workers_end_with_their_supervisor(up: tuple[Up, Setup, str]) -> None:
    server, _setup, _db = up
    workers = _workers(server)
    server.proc.send_signal(signal.SIGKILL)
    server.proc.wait(timeout=10)

    def gone() -> bool:
        return not any(Path(f"/proc/{pid}").exists() and b"spawn_main" in _cmdline(pid) for pid in workers)

    _until("the workers to end", gone, timeout=10)


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""

"""SIGKILL during a write load: after restart no committed contact data or event is lost or duplicated."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx2 as httpx
import pytest
from sqlalchemy import func, select

from centralita.store import tables as t
from centralita.store.db import Database

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cli(env: dict[str, str], *args: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "centralita", *args], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def _start(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "centralita", "up", "--no-demo", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError(f"server did not start: {log.read_text()}")


def test_sigkill_under_write_load_loses_and_duplicates_nothing(db_url: str, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "CENTRALITA_DATA_DIR": str(tmp_path / "data"),
        "CENTRALITA_DATABASE_URL": db_url,
        "CENTRALITA_LANGUAGE": "en",
    }
    _cli(env, "tenant", "create", "crash", "--name", "Crash test")
    token = _cli(env, "token", "create", "load", "--role", "admin").strip()
    port = _free_port()
    log = tmp_path / "server.log"
    proc = _start(env, port, log)

    acknowledged: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def load(worker: int) -> None:
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"}, timeout=5
        ) as client:
            i = 0
            while not stop.is_set():
                name = f"w{worker}-{i}"
                i += 1
                try:
                    resp = client.post(
                        "/api/customers",
                        json={"name": name, "identities": [{"kind": "email", "value": f"{name}@example.es"}]},
                    )
                except httpx.HTTPError:
                    return  # the server died mid-request: this one may or may not have committed
                if resp.status_code == 201:
                    with lock:
                        acknowledged.append(name)

    threads = [threading.Thread(target=load, args=(w,)) for w in range(4)]
    for th in threads:
        th.start()
    time.sleep(2.0)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    stop.set()
    for th in threads:
        th.join(timeout=10)
    assert len(acknowledged) > 20, "the load did not get going"

    proc = _start(env, port, log)  # restart on the same database
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"}) as c:
            assert c.get("/api/customers", params={"q": acknowledged[0]}).json()["total"] == 1
            resp = c.post("/api/customers", json={"name": "after-restart"})
            assert resp.status_code == 201
    finally:
        proc.terminate()
        proc.wait(timeout=10)

    db = Database(db_url)
    with db.read() as s:
        names = list(s.scalars(select(t.Customer.name)))
        created_events = list(s.scalars(select(t.Event).where(t.Event.type == "customer.created")))
        seqs = list(s.scalars(select(t.Event.seq).order_by(t.Event.seq)))
        identities = s.scalar(select(func.count()).select_from(t.CustomerIdentity))
    db.dispose()
    assert set(acknowledged) <= set(names), "an acknowledged write was lost"
    assert len(names) == len(set(names)), "a customer was written twice"
    assert sorted(e.customer_id for e in created_events) == sorted(  # type: ignore[type-var]
        {e.customer_id for e in created_events}
    ), "a customer.created event is duplicated"
    assert len(created_events) == len(names), "rows and events disagree: a partial write survived"
    assert identities == len(names) - 1  # every loaded customer kept its identity; 'after-restart' has none
    assert seqs == list(range(1, len(seqs) + 1)), "the event sequence has a gap or a duplicate"

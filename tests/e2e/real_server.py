"""Real `centralita` processes for end-to-end tests: the CLI, and `centralita up` on a free port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx2 as httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def base_env(data_dir: Path, database_url: str | None = None, **settings: str) -> dict[str, str]:
    """The environment of a process on its own data directory, in English, without Redis unless given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CENTRALITA_") or k == "CENTRALITA_ARGON2_PROFILE"}
    env.update({"CENTRALITA_DATA_DIR": str(data_dir), "CENTRALITA_LANGUAGE": "en", "COLUMNS": "200"})
    if database_url:
        env["CENTRALITA_DATABASE_URL"] = database_url
    env.update({f"CENTRALITA_{k.upper()}": v for k, v in settings.items()})
    return env


def cli(env: dict[str, str], *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    out = subprocess.run(
        [sys.executable, "-m", "centralita", *args], env=env, capture_output=True, text=True, timeout=90
    )
    if ok:
        assert out.returncode == 0, out.stderr
    return out


@dataclass
class Up:
    proc: subprocess.Popen[bytes]
    port: int
    log: Path
    token: str = ""  # an API token for it, when the test made one

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


def start_up(env: dict[str, str], log: Path, port: int | None = None, wait: bool = True) -> Up:
    """`centralita up --no-demo` on `port` (a free one by default); waits until /api/health answers."""
    port = port or free_port()
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "centralita", "up", "--no-demo", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    up = Up(proc=proc, port=port, log=log)
    if not wait:
        return up
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the server exited ({proc.returncode}): {up.output()}")
        try:
            if httpx.get(f"{up.url}/api/health", timeout=1).status_code == 200:
                return up
        except httpx.HTTPError:
            time.sleep(0.1)
    up.stop()
    raise AssertionError(f"the server did not start: {up.output()}")


def prepare(env: dict[str, str], tenant: str = "norte", users: tuple[str, ...] = (), password: str = "") -> str:
    """Create a contact center and supervisors through the real actions, in this process (quicker than
    one `centralita` process per command), on the database `env` names; returns a supervisor API token."""
    from centralita.accounts.actions import do_create_api_token, do_create_tenant, do_create_user
    from centralita.accounts.schemas import ApiTokenCreate, TenantCreate, UserCreate
    from centralita.core.actor import Actor
    from centralita.core.settings import load_settings
    from centralita.service import Service

    settings = load_settings({}, env={k: v for k, v in env.items() if k != "CENTRALITA_REDIS_URL"})
    svc = Service.start(settings)
    try:
        with svc.db.write() as s:
            row = do_create_tenant(s, TenantCreate(slug=tenant, name=tenant.title()), svc.clock)
            actor = Actor(tenant_id=row.id, role="admin", username="setup", clock=svc.clock)
            for username in users:
                do_create_user(s, actor, UserCreate(username=username, password=password, role="supervisor"))
            token, _row = do_create_api_token(s, actor, ApiTokenCreate(name="e2e", role="supervisor"))
    finally:
        svc.close()
    return token

"""Two real servers on one database: without Redis the second refuses to start (its events would never
reach the first), with Redis both run; CLI commands work beside a running server. SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import httpx2 as httpx
import pytest
from sqlalchemy import select

from centralita.store import tables as t
from centralita.store.db import Database
from tests.conftest import REDIS_URL
from tests.e2e.real_server import Up, base_env, cli, prepare, start_up

pytestmark = pytest.mark.slow


def _refused(up: Up) -> str:
    assert up.proc.wait(timeout=90) == 2, up.output()
    said = " ".join(up.output().split())
    assert "Traceback" not in said
    return said


def test_a_second_server_without_redis_refuses_to_start(db_url: str, tmp_path: Path) -> None:
    env = base_env(tmp_path / "data", db_url, access_log="false")
    prepare(env)
    first = start_up(env, tmp_path / "first.log")
    try:
        second = start_up(base_env(tmp_path / "data2", db_url), tmp_path / "second.log", wait=False)
        with_redis = start_up(base_env(tmp_path / "data3", db_url, redis_url=REDIS_URL), tmp_path / "r.log", wait=False)
        said = _refused(second)
        assert "another Centralita server" in said and "already runs on this database" in said
        assert "give every one the same CENTRALITA_REDIS_URL" in said
        said = _refused(with_redis)  # nor does a server with Redis start beside one without
        assert "runs on this database without Redis" in said and "CENTRALITA_REDIS_URL" in said

        # the first one goes on, and the CLI administers beside it
        assert httpx.get(f"{first.url}/api/health", timeout=5).status_code == 200
        cli(env, "user", "create", "ana", "--role", "admin", "--password", "correct horse battery")
        db = Database(db_url)
        with db.read() as s:
            assert list(s.scalars(select(t.User.username))) == ["ana"]
        db.dispose()
    finally:
        first.stop()
    assert "request_id=" not in first.output()  # CENTRALITA_ACCESS_LOG=false


def test_servers_sharing_redis_run_side_by_side(db_url: str, tmp_path: Path) -> None:
    env = base_env(tmp_path / "data", db_url, redis_url=REDIS_URL)
    prepare(env)
    first = start_up(env, tmp_path / "first.log")
    second = start_up(base_env(tmp_path / "data2", db_url, redis_url=REDIS_URL), tmp_path / "second.log")
    try:
        for up in (first, second):
            assert httpx.get(f"{up.url}/api/health", timeout=5).status_code == 200
        lone = start_up(base_env(tmp_path / "data3", db_url), tmp_path / "lone.log", wait=False)
        assert "already runs on this database" in _refused(lone)
    finally:
        first.stop()
        second.stop()

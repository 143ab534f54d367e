"""Shared helpers for the benchmarks: statistics, the machine's description, PostgreSQL databases.

The benchmarks print ratios against a baseline measured side by side in the same loop, because the
machine is shared and noisy: absolute numbers drift from run to run, ratios much less.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import platform
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

DEFAULT_PG_ADMIN = os.environ.get("CENTRALITA_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of an already sorted list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), round(q / 100 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


def summarize_ns(samples_ns: list[int]) -> dict[str, float]:
    """p50, p99, mean, min and max of nanosecond samples, in microseconds."""
    values = sorted(s / 1000 for s in samples_ns)
    n = len(values)
    return {
        "n": n,
        "p50_us": round(percentile(values, 50), 1),
        "p99_us": round(percentile(values, 99), 1),
        "mean_us": round(sum(values) / n, 1) if n else float("nan"),
        "min_us": round(values[0], 1) if n else float("nan"),
        "max_us": round(values[-1], 1) if n else float("nan"),
    }


def ratio(ours: float, baseline: float) -> float:
    return round(ours / baseline, 2) if baseline else float("nan")


def machine() -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "sqlite": sqlite3.sqlite_version,
        "loadavg_1m": round(os.getloadavg()[0], 2),  # others share this machine: read figures with it
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def libpq_conninfo(sqlalchemy_url: str) -> str:
    """A psycopg connection string for a SQLAlchemy `postgresql+psycopg://` URL."""
    url = make_url(sqlalchemy_url)
    parts = {
        "host": url.host or "127.0.0.1",
        "port": str(url.port or 5432),
        "user": url.username or "postgres",
        "dbname": url.database or "postgres",
    }
    if url.password:
        parts["password"] = str(url.password)
    return " ".join(f"{k}={v}" for k, v in parts.items())


def pg_database_url(admin_url: str, name: str) -> str:
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def pg_server_version(admin_url: str) -> str:
    with psycopg.connect(libpq_conninfo(admin_url)) as conn:
        row = conn.execute("SHOW server_version").fetchone()
        return str(row[0]) if row else "?"


def pg_database_exists(admin_url: str, name: str) -> bool:
    with psycopg.connect(libpq_conninfo(admin_url), autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def pg_create_database(admin_url: str, name: str) -> str:
    """Create (dropping any leftover of the same name) and return its SQLAlchemy URL."""
    with psycopg.connect(libpq_conninfo(admin_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return pg_database_url(admin_url, name)


def pg_drop_database(admin_url: str, name: str) -> None:
    with psycopg.connect(libpq_conninfo(admin_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# -- a real server, for the benchmarks that go over HTTP -------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(
    database_url: str, data_dir: Path, port: int, extra_env: dict[str, str], log: Path, src: Path | None = None
) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CENTRALITA_")}
    if src is not None:  # another checkout's code (e.g. the commit before a change), side by side
        env["PYTHONPATH"] = str(src / "src")
    env.update(
        {
            "CENTRALITA_DATA_DIR": str(data_dir),
            "CENTRALITA_DATABASE_URL": database_url,
            "CENTRALITA_LANGUAGE": "en",
            **extra_env,
        }
    )
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "centralita", "up", "--no-demo", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, 15)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, 9)
            proc.wait(timeout=5)

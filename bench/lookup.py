"""Customer lookup by phone (the screen pop) at N customers, on SQLite and PostgreSQL.

    .venv/bin/python -m bench.lookup --engine both --customers 1000000

Builds (or reuses) a database of N customers, each with a phone and an e-mail identity; every 10th
customer has a case (every 20th an open one) and every 5th has three past contacts. The schema comes
from `centralita.store.migrate.upgrade`; the rows are bulk-loaded with the raw driver (executemany on
SQLite, COPY on PostgreSQL) since this is only bench data. SQLite files are cached under --cache-dir;
the PostgreSQL database is dropped at the end unless --keep is given (then it is reused next time).

Measures `centralita.crm.queries.customer_360` by phone in a fresh read session per lookup (as the API
does), with numbers written in national and international formats (so normalisation is included) and
10% misses. Baseline, interleaved in the same loop: the minimal indexed query, one SELECT on
customer_identities by (tenant_id, kind, value) with the canonical value on a raw driver cursor.
Then the HTTP route `GET /api/customers/lookup?phone=…` as a desktop gets it: `centralita up` serving
the bench database (its own processes, real TCP on 127.0.0.1), one keep-alive connection, a Bearer API
token; interleaved with the same baseline and with `GET /api/health` (the HTTP floor: no
authentication, one `SELECT 1`). `--server-src` serves another checkout's code, for a before/after
side by side. (Until 2026-12-07 this went through FastAPI's TestClient, whose own in-process hops cost
p50 2.6 / p99 4.9 ms for a route that returns a constant: it measured the harness more than the route.)
The last line printed is JSON with every figure; `engines.<engine>.http.ours.p99_us` is the screen pop
over HTTP (issue 10: under 5 ms, `http_p99_under_5ms`).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.client
import json
import os
import random
import secrets
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
from sqlalchemy import delete, select

from bench._common import (
    DEFAULT_PG_ADMIN,
    free_port,
    libpq_conninfo,
    machine,
    pg_create_database,
    pg_database_exists,
    pg_database_url,
    pg_drop_database,
    pg_server_version,
    ratio,
    start_server,
    stop_server,
    summarize_ns,
)
from centralita.accounts.passwords import token_hash
from centralita.core.phones import normalize_identity
from centralita.crm.queries import customer_360
from centralita.store import migrate
from centralita.store import tables as t
from centralita.store.db import Database

LIMIT_P99_US = 5000.0
PHONE_BASE = 600_000_000  # customer i has the Spanish mobile +34 6xx xxx xxx = PHONE_BASE + i
TENANT_SLUG = "bench"
SEGMENTS = ("particulares", "premium", "empresas")
TIERS = ("bajo", "medio", "alto", "muy_alto")
STAGES = ("new", "active", "at_risk", "lapsed")
CASE_EVERY = 10  # customers with a case; every 2 * CASE_EVERY-th has it open
CONTACT_EVERY = 5  # customers with CONTACTS_EACH past contacts
CONTACTS_EACH = 3
CHUNK = 50_000
EPOCH = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)

# Ways callers' numbers arrive: national, E.164, 00-prefixed, spaced, dashed, dotted.
FORMATS: tuple[Callable[[str], str], ...] = (
    lambda d: d,
    lambda d: f"+34{d}",
    lambda d: f"0034{d}",
    lambda d: f"+34 {d[:3]} {d[3:6]} {d[6:]}",
    lambda d: f"{d[:3]}-{d[3:5]}-{d[5:7]}-{d[7:]}",
    lambda d: f"{d[:3]}.{d[3:6]}.{d[6:]}",
    lambda d: f" 0034 {d[:3]} {d[3:5]} {d[5:7]} {d[7:]} ",
)


# ----------------------------------------------------------------------------------------- bench data


def phone_of(i: int) -> str:
    return f"+34{PHONE_BASE + i}"


class Rows:
    """Row tuples for each bulk-loaded table; `sqlite` turns datetimes, booleans and JSON into text."""

    def __init__(self, customers: int, tenant_id: int, sqlite: bool) -> None:
        self.n = customers
        self.tenant_id = tenant_id
        self.sqlite = sqlite

    def ts(self, value: dt.datetime) -> Any:
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f") if self.sqlite else value

    def flag(self, value: bool) -> Any:
        return int(value) if self.sqlite else value

    customers_cols = (
        "id, tenant_id, external_id, name, kind, segment, value_tier, lifecycle_stage, lifetime_value, "
        "language, attributes, created_at, updated_at"
    )

    def customers(self) -> Iterator[tuple[Any, ...]]:
        tid = self.tenant_id
        for i in range(1, self.n + 1):
            created = self.ts(EPOCH - dt.timedelta(seconds=i))
            yield (
                i,
                tid,
                f"EXT{i:08d}",
                f"Cliente {i}",
                "person",
                SEGMENTS[i % 3],
                TIERS[i % 4],
                STAGES[i % 4],
                float(i * 37 % 10_000) + 0.5,
                "es",
                "{}",
                created,
                created,
            )

    identities_cols = "id, tenant_id, customer_id, kind, value, verified, created_at"

    def identities(self) -> Iterator[tuple[Any, ...]]:
        tid, n = self.tenant_id, self.n
        created = self.ts(EPOCH)
        for i in range(1, n + 1):
            yield (i, tid, i, "phone", phone_of(i), self.flag(True), created)
        for i in range(1, n + 1):
            yield (n + i, tid, i, "email", f"cliente{i:08d}@example.com", self.flag(False), created)

    cases_cols = "id, tenant_id, reference, customer_id, subject, status, priority, created_at, updated_at, closed_at"

    def cases(self) -> Iterator[tuple[Any, ...]]:
        tid = self.tenant_id
        for i in range(CASE_EVERY, self.n + 1, CASE_EVERY):
            is_open = i % (2 * CASE_EVERY) == 0
            created = EPOCH - dt.timedelta(hours=i % 5000)
            yield (
                i // CASE_EVERY,
                tid,
                f"B{i:08d}",
                i,
                f"Incidencia {i}",
                "open" if is_open else "resolved",
                0,
                self.ts(created),
                self.ts(created),
                None if is_open else self.ts(created + dt.timedelta(days=1)),
            )

    contacts_cols = (
        "id, tenant_id, channel, direction, initiation_method, status, ani, dnis, language, customer_id, segment, "
        "value_tier, lifecycle_stage, self_service, resolved, priority, initiation_ts, disconnect_ts, "
        "holds, attributes, disposition"
    )

    def contacts(self) -> Iterator[tuple[Any, ...]]:
        tid, cid = self.tenant_id, 0
        for i in range(CONTACT_EVERY, self.n + 1, CONTACT_EVERY):
            for k in range(CONTACTS_EACH):
                cid += 1
                start = EPOCH - dt.timedelta(days=30 * k, seconds=i % 86_400)
                yield (
                    cid,
                    tid,
                    "voice",
                    "inbound",
                    "INBOUND",
                    "closed",
                    phone_of(i),
                    "+34900100200",
                    "es",
                    i,
                    SEGMENTS[i % 3],
                    TIERS[i % 4],
                    STAGES[i % 4],
                    self.flag(False),
                    self.flag(True),
                    0,
                    self.ts(start),
                    self.ts(start + dt.timedelta(seconds=240)),
                    "[]",
                    "{}",
                    "resuelto",
                )

    def tables(self) -> list[tuple[str, str, Iterable[tuple[Any, ...]]]]:
        return [
            ("customers", self.customers_cols, self.customers()),
            ("customer_identities", self.identities_cols, self.identities()),
            ("cases", self.cases_cols, self.cases()),
            ("contacts", self.contacts_cols, self.contacts()),
        ]


def _chunks(rows: Iterable[tuple[Any, ...]], size: int) -> Iterator[list[tuple[Any, ...]]]:
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _create_schema_and_tenant(url: str) -> int:
    db = Database(url)
    migrate.upgrade(db.engine)
    with db.write() as s:
        tenant = t.Tenant(
            slug=TENANT_SLUG, name="Bench", country="ES", event_seq=0, settings={}, created_at=dt.datetime.now(dt.UTC)
        )
        s.add(tenant)
        s.flush()
        tenant_id = tenant.id
    db.dispose()
    return tenant_id


def _marker(customers: int) -> str:
    return json.dumps({"bench_customers": customers, "complete": True})


def _complete(db: Database, customers: int) -> int | None:
    """The bench tenant's id when the database holds a finished build of `customers` customers."""
    try:
        with db.read() as s:
            tenant = s.scalar(select(t.Tenant).where(t.Tenant.slug == TENANT_SLUG))
    except Exception:
        return None
    if tenant is None or tenant.settings.get("bench_customers") != customers or not tenant.settings.get("complete"):
        return None
    return tenant.id


def build_sqlite(path: Path, customers: int, log: Callable[[str], None]) -> None:
    tmp = path.with_name(path.name + ".building")
    for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        leftover.unlink(missing_ok=True)
    tenant_id = _create_schema_and_tenant(f"sqlite:///{tmp}")
    conn = sqlite3.connect(tmp, isolation_level=None)
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-262144")
    conn.execute("BEGIN")
    for table, cols, rows in Rows(customers, tenant_id, sqlite=True).tables():
        started = time.perf_counter()
        marks = ", ".join("?" * len(cols.split(",")))
        count = 0
        for batch in _chunks(rows, CHUNK):
            conn.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", batch)
            count += len(batch)
        log(f"  sqlite: {count:>9,} {table} in {time.perf_counter() - started:.1f} s")
    conn.execute("UPDATE tenants SET settings = ? WHERE id = ?", (_marker(customers), tenant_id))
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    tmp.rename(path)


def build_postgresql(admin_url: str, name: str, customers: int, log: Callable[[str], None]) -> str:
    url = pg_create_database(admin_url, name)
    tenant_id = _create_schema_and_tenant(url)
    with psycopg.connect(libpq_conninfo(url)) as conn:
        for table, cols, rows in Rows(customers, tenant_id, sqlite=False).tables():
            started = time.perf_counter()
            count = 0
            with conn.cursor() as cur, cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
            conn.commit()
            log(f"  postgresql: {count:>9,} {table} in {time.perf_counter() - started:.1f} s")
        for table in ("customers", "customer_identities", "cases", "contacts"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        conn.commit()
    started = time.perf_counter()
    with psycopg.connect(libpq_conninfo(url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        conn.execute("UPDATE tenants SET settings = %s::jsonb WHERE id = %s", (_marker(customers), tenant_id))
    log(f"  postgresql: VACUUM ANALYZE in {time.perf_counter() - started:.1f} s")
    return url


# ----------------------------------------------------------------------------------------- measuring


@dataclass(frozen=True)
class Probe:
    raw: str  # as the caller's number arrives
    canonical: str  # E.164, for the baseline
    customer_id: int | None  # None: not a customer


def probes(count: int, customers: int, rng: random.Random, miss_rate: float = 0.1) -> list[Probe]:
    out = []
    for _ in range(count):
        if rng.random() < miss_rate:
            cid, number = None, PHONE_BASE + customers + rng.randint(1, max(customers, 1000))
        else:
            cid = rng.randint(1, customers)
            number = PHONE_BASE + cid
        raw = rng.choice(FORMATS)(str(number))
        out.append(Probe(raw=raw, canonical=f"+34{number}", customer_id=cid))
    return out


def check_360(found: Any, probe: Probe) -> bool:
    if probe.customer_id is None:
        return found is None
    i = probe.customer_id
    return (
        found is not None
        and found.customer.id == i
        and len(found.customer.identities) == 2
        and len(found.open_cases) == (1 if i % (2 * CASE_EVERY) == 0 else 0)
        and len(found.last_contacts) == (CONTACTS_EACH if i % CONTACT_EVERY == 0 else 0)
    )


BASELINE_SQL = "SELECT customer_id FROM customer_identities WHERE tenant_id = {p} AND kind = {p} AND value = {p}"


class Baseline:
    """The minimal indexed query on a raw driver connection (autocommit, no pool, no ORM)."""

    def __init__(self, engine: str, target: str, tenant_id: int) -> None:
        self.tenant_id = tenant_id
        self.conn: Any
        if engine == "sqlite":
            self.conn = sqlite3.connect(target, isolation_level=None, check_same_thread=False)
            self.conn.execute("PRAGMA busy_timeout=30000")
            self.sql = BASELINE_SQL.format(p="?")
        else:
            self.conn = psycopg.connect(libpq_conninfo(target), autocommit=True)
            self.sql = BASELINE_SQL.format(p="%s")
        self.cur = self.conn.cursor()

    def lookup(self, canonical: str) -> int | None:
        self.cur.execute(self.sql, (self.tenant_id, "phone", canonical))
        row = self.cur.fetchone()
        return None if row is None else int(row[0])

    def close(self) -> None:
        self.conn.close()


def measure_direct(db: Database, base: Baseline, tenant_id: int, sample: list[Probe], warmup: int) -> dict[str, Any]:
    ours: list[int] = []
    baseline: list[int] = []
    normalise: list[int] = []
    wrong = 0
    clock = time.perf_counter_ns
    for n, probe in enumerate(sample):
        # alternate which goes first, so neither always gets the warmer cache
        for which in (0, 1) if n % 2 else (1, 0):
            if which == 0:
                t0 = clock()
                with db.read() as s:
                    found = customer_360(s, tenant_id, "ES", "phone", probe.raw)
                t1 = clock()
                if n >= warmup:
                    ours.append(t1 - t0)
                wrong += not check_360(found, probe)
            else:
                t0 = clock()
                hit = base.lookup(probe.canonical)
                t1 = clock()
                if n >= warmup:
                    baseline.append(t1 - t0)
                wrong += hit != probe.customer_id
        t0 = clock()
        canonical = normalize_identity("phone", probe.raw, "ES")
        t1 = clock()
        if n >= warmup:
            normalise.append(t1 - t0)
        wrong += canonical != probe.canonical
    o, b = summarize_ns(ours), summarize_ns(baseline)
    return {
        "ours": o,
        "baseline": b,
        "normalise_only": summarize_ns(normalise),
        "ratio_p50": ratio(o["p50_us"], b["p50_us"]),
        "ratio_p99": ratio(o["p99_us"], b["p99_us"]),
        "wrong": wrong,
    }


class KeepAlive:
    """One blocking HTTP/1.1 keep-alive connection (TCP_NODELAY), as a desktop's screen-pop request would
    reuse; reconnects once when the server closed it while idle."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.headers = {"Authorization": f"Bearer {token}"}
        self.conn = self._connect()

    def _connect(self) -> http.client.HTTPConnection:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        conn.connect()
        assert conn.sock is not None
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn

    def get(self, path: str) -> tuple[int, bytes]:
        for attempt in (0, 1):
            try:
                self.conn.request("GET", path, headers=self.headers)
                resp = self.conn.getresponse()
                return resp.status, resp.read()
            except (http.client.RemoteDisconnected, ConnectionError, BrokenPipeError):
                self.conn.close()
                if attempt:
                    raise
                self.conn = self._connect()
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.conn.close()


def _wait_healthy(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited ({proc.returncode}):\n{log.read_text(errors='replace')[-3000:]}")
        with contextlib.suppress(OSError, http.client.HTTPException):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/health")
            if conn.getresponse().status == 200:
                conn.close()
                return
        time.sleep(0.2)
    raise RuntimeError(f"the server did not start:\n{log.read_text(errors='replace')[-3000:]}")


def measure_http(
    db: Database,
    url: str,
    base: Baseline,
    tenant_id: int,
    sample: list[Probe],
    warmup: int,
    data_dir: Path,
    server_src: Path | None = None,
) -> dict[str, Any]:
    """The screen pop as a desktop gets it: `centralita up` serving the bench database in its own
    processes, one keep-alive connection, a Bearer API token. Interleaved in the same loop: the raw
    indexed SELECT (`baseline`) and `GET /api/health` (`floor`: the same HTTP round trip to a route that
    authenticates nobody and runs `SELECT 1`)."""
    token = f"ctk_{secrets.token_urlsafe(32)}"
    with db.write() as s:
        s.execute(delete(t.ApiToken).where(t.ApiToken.tenant_id == tenant_id, t.ApiToken.name == "bench"))
        s.add(
            t.ApiToken(
                tenant_id=tenant_id,
                name="bench",
                token_hash=token_hash(token),
                role="agent",
                created_at=dt.datetime.now(dt.UTC),
            )
        )
    server_dir = data_dir / "lookup-server"
    server_dir.mkdir(parents=True, exist_ok=True)
    log = server_dir / "server.log"
    port = free_port()
    proc = start_server(url, server_dir, port, {"CENTRALITA_SECRET_KEY": "bench-secret"}, log, server_src)
    ours: list[int] = []
    baseline: list[int] = []
    floor: list[int] = []
    wrong = 0
    clock = time.perf_counter_ns
    try:
        _wait_healthy(port, proc, log)
        client = KeepAlive(port, token)
        try:
            for n, probe in enumerate(sample):
                order = (0, 1, 2) if n % 2 else (2, 1, 0)
                for which in order:
                    t0 = clock()
                    if which == 0:
                        status, data = client.get("/api/customers/lookup?phone=" + quote(probe.raw))
                    elif which == 1:
                        hit = base.lookup(probe.canonical)
                    else:
                        floor_status, _ = client.get("/api/health")
                    t1 = clock()
                    if n >= warmup:
                        (ours, baseline, floor)[which].append(t1 - t0)
                    if which == 0:
                        if probe.customer_id is None:
                            wrong += status != 404
                        else:
                            wrong += status != 200 or json.loads(data)["customer"]["id"] != probe.customer_id
                    elif which == 1:
                        wrong += hit != probe.customer_id
                    else:
                        wrong += floor_status != 200
        finally:
            client.close()
    finally:
        stop_server(proc)
    o, b, f = summarize_ns(ours), summarize_ns(baseline), summarize_ns(floor)
    return {
        "via": "centralita up (real HTTP on 127.0.0.1, one keep-alive connection, Bearer API token)",
        "ours": o,
        "baseline": b,
        "floor": f,
        "ratio_p50": ratio(o["p50_us"], b["p50_us"]),
        "ratio_p99": ratio(o["p99_us"], b["p99_us"]),
        "ratio_floor_p50": ratio(o["p50_us"], f["p50_us"]),
        "ratio_floor_p99": ratio(o["p99_us"], f["p99_us"]),
        "wrong": wrong,
    }


# ----------------------------------------------------------------------------------------- main


def run_engine(engine: str, args: argparse.Namespace, log: Callable[[str], None]) -> dict[str, Any]:
    n = args.customers
    result: dict[str, Any] = {"customers": n}
    started = time.perf_counter()
    pg_name = f"centralita_bench_lookup_{n}"
    if engine == "sqlite":
        args.cache_dir.mkdir(parents=True, exist_ok=True)
        path = args.cache_dir / f"lookup-{n}.sqlite"
        url = f"sqlite:///{path}"
        reused = path.exists() and not args.rebuild
        if reused:
            probe_db = Database(url)
            reused = _complete(probe_db, n) is not None
            probe_db.dispose()
        if not reused:
            log(f"sqlite: building {n:,} customers in {path}")
            path.unlink(missing_ok=True)
            build_sqlite(path, n, log)
        target = str(path)
        result["size_mb"] = round(path.stat().st_size / 1e6, 1)
    else:
        url = pg_database_url(args.pg_url, pg_name)
        reused = pg_database_exists(args.pg_url, pg_name) and not args.rebuild
        if reused:
            probe_db = Database(url)
            reused = _complete(probe_db, n) is not None
            probe_db.dispose()
        if not reused:
            log(f"postgresql: building {n:,} customers in database {pg_name}")
            build_postgresql(args.pg_url, pg_name, n, log)
        target = url
        result["server"] = pg_server_version(args.pg_url)
    result["reused_cache"] = reused
    result["build_s"] = None if reused else round(time.perf_counter() - started, 1)
    if not reused:
        log(f"{engine}: built in {result['build_s']} s")

    db = Database(url)
    try:
        tenant_id = _complete(db, n)
        assert tenant_id is not None, "the bench database is incomplete"
        if engine == "postgresql":
            with psycopg.connect(libpq_conninfo(url)) as conn:
                row = conn.execute("SELECT pg_database_size(current_database())").fetchone()
                result["size_mb"] = round(row[0] / 1e6, 1) if row else None
        base = Baseline(engine, target, tenant_id)
        try:
            rng = random.Random(args.seed)
            sample = probes(args.warmup + args.lookups, n, rng)
            result["direct"] = measure_direct(db, base, tenant_id, sample, args.warmup)
            http_sample = probes(args.http_warmup + args.http_lookups, n, rng)
            result["http"] = measure_http(
                db, url, base, tenant_id, http_sample, args.http_warmup, args.cache_dir, args.server_src
            )
        finally:
            base.close()
    finally:
        db.dispose()
        if engine == "postgresql" and not args.keep:
            pg_drop_database(args.pg_url, pg_name)
    result["p99_under_5ms"] = result["direct"]["ours"]["p99_us"] < LIMIT_P99_US
    result["http_p99_under_5ms"] = result["http"]["ours"]["p99_us"] < LIMIT_P99_US  # issue 10, point 6
    return result


def report(engine: str, r: dict[str, Any]) -> None:
    d, h = r["direct"], r["http"]
    built = "reused cache" if r["reused_cache"] else f"built in {r['build_s']} s"
    print(f"\n== {engine}: {r['customers']:,} customers ({built}, {r['size_mb']} MB)")
    print(f"{'':32} {'p50 µs':>9} {'p99 µs':>9} {'mean µs':>9} {'n':>6}")
    rows = [
        ("customer_360 (ours)", d["ours"]),
        ("baseline: one indexed SELECT", d["baseline"]),
        ("  (normalise the number only)", d["normalise_only"]),
        ("HTTP GET /api/customers/lookup", h["ours"]),
        ("baseline (same loop as HTTP)", h["baseline"]),
        ("floor: GET /api/health", h["floor"]),
    ]
    for label, s in rows:
        print(f"{label:32} {s['p50_us']:>9.1f} {s['p99_us']:>9.1f} {s['mean_us']:>9.1f} {s['n']:>6}")
    print(
        f"ratio ours/baseline: p50 {d['ratio_p50']}x, p99 {d['ratio_p99']}x; "
        f"HTTP/baseline: p50 {h['ratio_p50']}x, p99 {h['ratio_p99']}x; "
        f"HTTP/floor: p50 {h['ratio_floor_p50']}x, p99 {h['ratio_floor_p99']}x"
    )
    verdict = "yes" if r["p99_under_5ms"] else "NO"
    http_verdict = "yes" if r["http_p99_under_5ms"] else "NO"
    print(
        f"customer_360 p99 < 5 ms: {verdict}; HTTP lookup p99 < 5 ms: {http_verdict}; "
        f"wrong answers: {d['wrong'] + h['wrong']}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--engine", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=5000, help="measured direct lookups (after warm-up)")
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--http-lookups", type=int, default=1000)
    parser.add_argument("--http-warmup", type=int, default=100)
    parser.add_argument("--cache-dir", type=Path, default=Path("/tmp/centralita-bench"))
    parser.add_argument("--pg-url", default=DEFAULT_PG_ADMIN, help="an existing database to create others from")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database for the next run")
    parser.add_argument("--rebuild", action="store_true", help="ignore a cached build")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--server-src", type=Path, default=None, help="serve another checkout's code (e.g. the commit before a change)"
    )
    args = parser.parse_args(argv)

    def log(msg: str) -> None:
        print(msg, flush=True)

    engines = ["sqlite", "postgresql"] if args.engine == "both" else [args.engine]
    out: dict[str, Any] = {"bench": "lookup", "machine": machine(), "limit_p99_us": LIMIT_P99_US, "engines": {}}
    for engine in engines:
        r = run_engine(engine, args, log)
        out["engines"][engine] = r
        report(engine, r)
    wrong = sum(r["direct"]["wrong"] + r["http"]["wrong"] for r in out["engines"].values())
    out["all_under_5ms"] = all(r["p99_under_5ms"] for r in out["engines"].values())
    out["all_http_under_5ms"] = all(r["http_p99_under_5ms"] for r in out["engines"].values())
    out["machine"]["loadavg_1m_end"] = round(os.getloadavg()[0], 2)
    print(json.dumps(out))
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())

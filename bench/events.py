"""Event append throughput: `append_event` in `Database.write()` transactions, against plain INSERTs.

    .venv/bin/python -m bench.events --engine both

For each engine (SQLite in WAL with synchronous=FULL as store/db.py configures it; PostgreSQL) and each
configuration — 1 writer or N concurrent writers (threads sharing one `Database`, or processes with one
each), one event per transaction (as a do_* action) or 100 — it appends events for a fresh tenant and
checks afterwards that the tenant's seq numbers are exactly 1..N, unique, and that the counter says N.

Baseline, run side by side (alternating which goes first): the same number of plain INSERTs into the
events table with the raw driver (sqlite3 / psycopg), same transaction sizes and writers, no counter
row and no ORM. The printed ratio is ours/baseline throughput (1.0 = as fast as the raw INSERTs).
The database is created for the run and removed at the end. The last line printed is JSON.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing as mp
import os
import sqlite3
import statistics
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from sqlalchemy import func, select, text

from bench._common import (
    DEFAULT_PG_ADMIN,
    libpq_conninfo,
    machine,
    pg_create_database,
    pg_drop_database,
    pg_server_version,
)
from centralita.events.log import append_event
from centralita.store import migrate
from centralita.store import tables as t
from centralita.store.db import Database

EVENT_TYPE = "contact.arrived"
DATA = {
    "channel": "voice",
    "direction": "inbound",
    "ani": "+34600123456",
    "dnis": "+34900100200",
    "initiation_method": "INBOUND",
    "previous_contact_id": None,
}


@dataclass(frozen=True)
class Config:
    writers: int
    per_txn: int
    mode: str  # thread | process
    events: int

    @property
    def label(self) -> str:
        who = (
            "1 writer"
            if self.writers == 1
            else f"{self.writers} {self.mode}es"
            if self.mode == "process"
            else f"{self.writers} threads"
        )
        return f"{who}, {self.per_txn}/txn"


# ----------------------------------------------------------------------------------------- writers


def _shares(total: int, writers: int) -> list[int]:
    return [total // writers + (1 if w < total % writers else 0) for w in range(writers)]


def write_ours(db: Database, tenant_id: int, count: int, per_txn: int) -> None:
    done = 0
    while done < count:
        size = min(per_txn, count - done)
        with db.write() as s:
            for k in range(size):
                append_event(s, tenant_id, EVENT_TYPE, dt.datetime.now(dt.UTC), dict(DATA), contact_id=done + k + 1)
        done += size


def _sqlite_conn(path: str) -> sqlite3.Connection:
    """Raw sqlite3 with the same pragmas as store/db.py."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
    for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", "busy_timeout=30000"):
        conn.execute(f"PRAGMA {pragma}")
    return conn


INSERT_COLS = "(tenant_id, seq, type, ts, contact_id, data)"


def write_baseline(engine: str, target: str, tenant_id: int, seqs: list[int], per_txn: int) -> None:
    if engine == "sqlite":
        conn = _sqlite_conn(target)
        sql = f"INSERT INTO events {INSERT_COLS} VALUES (?, ?, ?, ?, ?, ?)"
        try:
            for start in range(0, len(seqs), per_txn):
                conn.execute("BEGIN IMMEDIATE")
                for seq in seqs[start : start + per_txn]:
                    ts = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
                    conn.execute(sql, (tenant_id, seq, EVENT_TYPE, ts, seq, json.dumps(DATA)))
                conn.execute("COMMIT")
        finally:
            conn.close()
        return
    with psycopg.connect(libpq_conninfo(target)) as pg:
        sql = f"INSERT INTO events {INSERT_COLS} VALUES (%s, %s, %s, %s, %s, %s)"
        with pg.cursor() as cur:
            for start in range(0, len(seqs), per_txn):
                for seq in seqs[start : start + per_txn]:
                    cur.execute(sql, (tenant_id, seq, EVENT_TYPE, dt.datetime.now(dt.UTC), seq, Jsonb(DATA)))
                pg.commit()


def _warm(db: Database) -> None:
    with db.read() as s:
        s.execute(text("SELECT 1"))


def _job(
    kind: str,
    engine: str,
    target: str,
    url: str,
    tenant_id: int,
    writer: int,
    writers: int,
    count: int,
    per_txn: int,
    db: Database | None,
) -> Callable[[], None]:
    """Prepare one writer (connections opened) and return the timed part."""
    if kind == "ours":
        own = db is None
        database = db or Database(url)
        _warm(database)

        def run() -> None:
            write_ours(database, tenant_id, count, per_txn)
            if own:
                database.dispose()

        return run
    seqs = list(range(writer + 1, writers * (count + 1) + 1, writers))[:count]
    return lambda: write_baseline(engine, target, tenant_id, seqs, per_txn)


def _process_main(
    kind: str,
    engine: str,
    target: str,
    url: str,
    tenant_id: int,
    writer: int,
    writers: int,
    count: int,
    per_txn: int,
    barrier: Any,
    results: Any,
) -> None:
    try:
        run = _job(kind, engine, target, url, tenant_id, writer, writers, count, per_txn, None)
        barrier.wait()
        t0 = time.perf_counter()  # CLOCK_MONOTONIC: comparable across processes on Linux
        run()
        results.put((t0, time.perf_counter(), None))
    except BaseException as exc:  # report, so the parent does not wait forever
        barrier.abort()
        results.put((0.0, 0.0, repr(exc)))


def run_writers(kind: str, engine: str, target: str, url: str, db: Database, tenant_id: int, cfg: Config) -> float:
    """Run cfg.writers writers of `kind` at once; returns the wall time from first start to last end."""
    shares = _shares(cfg.events, cfg.writers)
    spans: list[tuple[float, float, str | None]] = []
    if cfg.mode == "process" and cfg.writers > 1:
        ctx = mp.get_context("spawn")
        barrier = ctx.Barrier(cfg.writers)
        results = ctx.Queue()
        procs = [
            ctx.Process(
                target=_process_main,
                args=(kind, engine, target, url, tenant_id, w, cfg.writers, shares[w], cfg.per_txn, barrier, results),
            )
            for w in range(cfg.writers)
        ]
        for p in procs:
            p.start()
        spans = [results.get(timeout=3600) for _ in procs]
        for p in procs:
            p.join()
    else:
        tbarrier = threading.Barrier(cfg.writers)
        lock = threading.Lock()

        def thread_main(w: int) -> None:
            try:
                run = _job(kind, engine, target, url, tenant_id, w, cfg.writers, shares[w], cfg.per_txn, db)
                tbarrier.wait()
                t0 = time.perf_counter()
                run()
                span: tuple[float, float, str | None] = (t0, time.perf_counter(), None)
            except BaseException as exc:
                tbarrier.abort()
                span = (0.0, 0.0, repr(exc))
            with lock:
                spans.append(span)

        threads = [threading.Thread(target=thread_main, args=(w,)) for w in range(cfg.writers)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
    errors = [e for _, _, e in spans if e]
    if errors:
        raise RuntimeError(f"{kind} writer failed: {errors[0]}")
    return max(e for _, e, _ in spans) - min(s for s, _, _ in spans)


# ----------------------------------------------------------------------------------------- checks


def new_tenant(db: Database, slug: str) -> int:
    with db.write() as s:
        tenant = t.Tenant(slug=slug, name=slug, event_seq=0, settings={}, created_at=dt.datetime.now(dt.UTC))
        s.add(tenant)
        s.flush()
        return tenant.id


def check_seq(db: Database, tenant_id: int, expected: int, counter: bool) -> bool:
    """Gapless 1..N and unique (and, for ours, the tenant counter at N)."""
    with db.read() as s:
        count, distinct, low, high = s.execute(
            select(
                func.count(), func.count(t.Event.seq.distinct()), func.min(t.Event.seq), func.max(t.Event.seq)
            ).where(t.Event.tenant_id == tenant_id)
        ).one()
        seq = s.scalar(select(t.Tenant.event_seq).where(t.Tenant.id == tenant_id))
    ok = count == distinct == expected and low == 1 and high == expected
    return ok and (seq == expected if counter else True)


# ----------------------------------------------------------------------------------------- main


def run_engine(
    engine: str, args: argparse.Namespace, configs: list[Config], log: Callable[[str], None]
) -> dict[str, Any]:
    pg_name = f"centralita_bench_events_{os.getpid()}"
    sqlite_path = args.cache_dir / f"events-{os.getpid()}.sqlite"
    if engine == "sqlite":
        args.cache_dir.mkdir(parents=True, exist_ok=True)
        for p in (sqlite_path, Path(f"{sqlite_path}-wal"), Path(f"{sqlite_path}-shm")):
            p.unlink(missing_ok=True)
        url, target = f"sqlite:///{sqlite_path}", str(sqlite_path)
    else:
        url = pg_create_database(args.pg_url, pg_name)
        target = url
    db = Database(url)
    out: dict[str, Any] = {"configs": []}
    try:
        migrate.upgrade(db.engine)
        if engine == "postgresql":
            out["server"] = pg_server_version(args.pg_url)
        else:
            with db.read() as s:
                out["pragmas"] = {p: s.execute(text(f"PRAGMA {p}")).scalar() for p in ("journal_mode", "synchronous")}
        n_tenant = 0
        for cfg in configs:
            rates: dict[str, list[float]] = {"ours": [], "baseline": []}
            seq_ok = True
            for r in range(args.rounds):
                for kind in ("ours", "baseline") if r % 2 == 0 else ("baseline", "ours"):
                    n_tenant += 1
                    tenant_id = new_tenant(db, f"bench-{n_tenant}")
                    elapsed = run_writers(kind, engine, target, url, db, tenant_id, cfg)
                    rates[kind].append(cfg.events / elapsed)
                    seq_ok = check_seq(db, tenant_id, cfg.events, counter=kind == "ours") and seq_ok
            ours, base = statistics.median(rates["ours"]), statistics.median(rates["baseline"])
            row = {
                "writers": cfg.writers,
                "mode": cfg.mode if cfg.writers > 1 else "single",
                "per_txn": cfg.per_txn,
                "events": cfg.events,
                "ours_events_s": round(ours, 1),
                "baseline_events_s": round(base, 1),
                "ratio": round(ours / base, 2),
                "ours_rounds": [round(x, 1) for x in rates["ours"]],
                "baseline_rounds": [round(x, 1) for x in rates["baseline"]],
                "seq_ok": seq_ok,
            }
            out["configs"].append(row)
            log(
                f"{engine:10} {cfg.label:26} ours {ours:>9,.0f} ev/s   baseline {base:>9,.0f} ev/s   "
                f"ratio {row['ratio']:>5.2f}   seq 1..{cfg.events} gapless+unique: {'ok' if seq_ok else 'FAILED'}"
            )
    finally:
        db.dispose()
        if engine == "sqlite":
            for p in (sqlite_path, Path(f"{sqlite_path}-wal"), Path(f"{sqlite_path}-shm")):
                p.unlink(missing_ok=True)
        else:
            pg_drop_database(args.pg_url, pg_name)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--engine", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--events", type=int, default=2000, help="events per run with 1 event per transaction")
    parser.add_argument("--batch-events", type=int, default=20000, help="events per run with --batch per txn")
    parser.add_argument("--batch", type=int, default=100, help="events per transaction in the batched variant")
    parser.add_argument("--writers", type=int, default=8, help="concurrent writers")
    parser.add_argument(
        "--mode",
        choices=("thread", "process", "both"),
        default="both",
        help="concurrent writers as threads (one Database) or processes (one each)",
    )
    parser.add_argument("--rounds", type=int, default=1, help="ours/baseline pairs per configuration (median)")
    parser.add_argument("--cache-dir", type=Path, default=Path("/tmp/centralita-bench"))
    parser.add_argument("--pg-url", default=DEFAULT_PG_ADMIN, help="an existing database to create others from")
    args = parser.parse_args(argv)

    modes = ["thread", "process"] if args.mode == "both" else [args.mode]
    configs: list[Config] = []
    for per_txn, events in ((1, args.events), (args.batch, args.batch_events)):
        configs.append(Config(1, per_txn, "thread", events))
        configs.extend(Config(args.writers, per_txn, mode, events) for mode in modes)

    def log(msg: str) -> None:
        print(msg, flush=True)

    engines = ["sqlite", "postgresql"] if args.engine == "both" else [args.engine]
    out: dict[str, Any] = {"bench": "events", "machine": machine(), "rounds": args.rounds, "engines": {}}
    for engine in engines:
        out["engines"][engine] = run_engine(engine, args, configs, log)
    out["all_seq_ok"] = all(c["seq_ok"] for e in out["engines"].values() for c in e["configs"])
    out["machine"]["loadavg_1m_end"] = round(os.getloadavg()[0], 2)
    print(json.dumps(out))
    return 0 if out["all_seq_ok"] else 1


if __name__ == "__main__":
    sys.exit(main())

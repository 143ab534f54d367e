"""Database engine and sessions: SQLite (embedded default) or PostgreSQL, same schema.

Writes go through `Database.write()`: one transaction, committed on exit. On SQLite it starts with
BEGIN IMMEDIATE so concurrent writers queue instead of failing on lock upgrade; WAL and synchronous=FULL
keep every committed transaction across a crash.

SQLite has one writer at a time, and a writer that finds the database locked waits in SQLite's busy
handler, which polls: it sleeps 1, 2, 5 … up to 100 ms between tries. Under load that sleep, not the
work, was most of a write's time (py-spy: three quarters of the request threads' samples sat in `BEGIN
IMMEDIATE`). So writers queue in front of SQLite instead (`WriterQueue`): a thread lock within the
process, then an `flock` on `<database file>.writer.lock` between processes (workers, CLI commands),
both taken before a pooled connection is checked out; the kernel wakes the next writer the moment the
last one is done. The busy timeout stays as the fallback for any other program writing the file.
"""

from __future__ import annotations

import contextlib
import fcntl
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from centralita.core.settings import normalize_database_url

__all__ = ["COMMIT_WITH_NUMBERS_KEY", "Database"]

_IMMEDIATE = "centralita_immediate"
_CHECKED_IN = "centralita_checked_in"
PING_AFTER_IDLE_S = 1.0  # PostgreSQL: a pooled connection idle this long is pinged before use
# In a session's info: the session is a `Database.write()` transaction that commits as soon as its
# events are numbered, so events/log.py may send the COMMIT with the numbering statement (PostgreSQL).
COMMIT_WITH_NUMBERS_KEY = "centralita_commit_with_numbers"


def make_engine(url: str, ping_after_idle_s: float = PING_AFTER_IDLE_S, **kwargs: Any) -> Engine:
    url = normalize_database_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            immediate = conn.get_execution_options().get(_IMMEDIATE, False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    # timestamps the server formats itself (the screen pop's JSON arrays) come out in UTC, like every
    # other timestamp the store returns (tables.UtcDateTime), whatever the server's own TimeZone
    connect_args = dict(kwargs.pop("connect_args", {}))
    connect_args["options"] = (connect_args.get("options", "") + " -c TimeZone=UTC").strip()
    kwargs["connect_args"] = connect_args
    engine = create_engine(url, **kwargs)
    _ping_when_idle(engine, ping_after_idle_s)
    return engine


def _ping_when_idle(engine: Engine, idle_s: float) -> None:
    """Pessimistic disconnect handling without a round trip on every checkout: a pooled connection that
    sat idle for `idle_s` or more is pinged before use (a dead one is replaced, as `pool_pre_ping` would);
    one checked in less than that ago is used at once. SQLAlchemy's `pool_pre_ping` pinged every checkout:
    one round trip in five on the screen pop. A server that goes away mid-traffic fails the statements in
    flight either way; the disconnect error then invalidates the whole pool."""

    @event.listens_for(engine, "connect")
    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_conn: Any, record: Any) -> None:
        record.info[_CHECKED_IN] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        checked_in = record.info.get(_CHECKED_IN)
        if checked_in is not None and time.monotonic() - checked_in < idle_s:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:  # the pool drops this connection and checks out a fresh one
            raise DisconnectionError("the pooled connection is gone") from exc


class WriterQueue:
    """SQLite's writers, one at a time without polling: a lock between the threads of this process, then
    an `flock` shared with the other processes on the same database file (none for an in-memory
    database). Reentrant in a thread. An `urgent` writer (an agent's accept, end, wrap-up: what drains the
    load) goes before every ordinary one waiting in this process, so it never queues behind a burst of
    new contacts."""

    def __init__(self, database: str | None) -> None:
        self._lock = threading.Lock()
        self._turn = threading.Condition(self._lock)
        self._owner: int | None = None
        self._depth = 0
        self._urgent_waiting = 0
        self._path = None if not database or database == ":memory:" else Path(database + ".writer.lock")
        self._file: IO[Any] | None = None

    def _acquire(self, urgent: bool) -> bool:
        """Take this process's turn; True when this is the outermost hold (the file lock is to take)."""
        me = threading.get_ident()
        with self._turn:
            if self._owner == me:
                self._depth += 1
                return False
            if urgent:
                self._urgent_waiting += 1
                try:
                    self._turn.wait_for(lambda: self._owner is None)
                finally:
                    self._urgent_waiting -= 1
            else:
                self._turn.wait_for(lambda: self._owner is None and not self._urgent_waiting)
            self._owner, self._depth = me, 1
            return True

    def _release(self) -> None:
        with self._turn:
            self._depth -= 1
            if self._depth == 0:
                self._owner = None
                self._turn.notify_all()

    @contextlib.contextmanager
    def held(self, urgent: bool = False) -> Iterator[None]:
        outermost = self._acquire(urgent)
        try:
            if outermost and self._path is not None:
                if self._file is None:
                    self._file = self._path.open("a+")
                fcntl.flock(self._file.fileno(), fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            else:
                yield
        finally:
            self._release()

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


class Database:
    """Engine plus session factory. After each commit, the events a write appended go to the bus."""

    def __init__(
        self, url: str, bus: Any = None, ping_after_idle_s: float = PING_AFTER_IDLE_S, **engine_kwargs: Any
    ) -> None:
        self.bus = bus
        self.url = normalize_database_url(url)
        self.engine = make_engine(self.url, ping_after_idle_s, **engine_kwargs)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # PostgreSQL: reads outside an explicit transaction (no BEGIN/ROLLBACK round trips); SQLite keeps
        # its deferred BEGIN, which costs no round trip, and the driver setting the write path relies on
        self._quick_sessions = (
            self._sessions
            if self.is_sqlite
            else sessionmaker(self.engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False)
        )
        self._writers = WriterQueue(self.engine.url.database) if self.is_sqlite else None

    @contextlib.contextmanager
    def read(self, snapshot: bool = False) -> Iterator[Session]:
        """A read session: one transaction (on SQLite one snapshot; see `snapshot`). On PostgreSQL the
        transaction is READ ONLY and ends with COMMIT, not ROLLBACK: psycopg deallocates every prepared
        statement of a connection on ROLLBACK, so a read that rolled back made every later statement on that
        connection be planned again (planning was 1.6 of the screen pop's 2.7 ms). `snapshot`: every
        statement sees the same snapshot on PostgreSQL too (REPEATABLE READ; its default, READ COMMITTED,
        takes one per statement); SQLite's read transaction always does."""
        with self._sessions() as session:
            if self.is_sqlite:
                yield session
                return
            options: dict[str, Any] = {"postgresql_readonly": True}
            if snapshot:
                options["isolation_level"] = "REPEATABLE READ"
            session.connection(execution_options=options)
            yield session
            session.commit()

    @contextlib.contextmanager
    def quick_read(self) -> Iterator[Session]:
        """A read session for short request reads: on PostgreSQL each statement runs on its own (autocommit),
        so opening and closing it costs no BEGIN or ROLLBACK round trip, but statements do not share one
        snapshot. For reads that must agree with each other, use `read()`."""
        with self._quick_sessions() as session:
            yield session

    @contextlib.contextmanager
    def write(self, urgent: bool = False) -> Iterator[Session]:
        """One write transaction: commit on success, roll back on any exception. `urgent`: an agent's
        action, which goes before ordinary writers waiting on SQLite's writer lock (WriterQueue)."""
        queued = self._writers.held(urgent) if self._writers is not None else contextlib.nullcontext()
        with queued, self._transaction() as session:
            yield session

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Session]:
        with self._sessions() as session:
            session.info["centralita_bus"] = self.bus  # events/log.py publishes there after commit
            if self.is_sqlite:
                session.connection(execution_options={_IMMEDIATE: True})
            else:
                session.info[COMMIT_WITH_NUMBERS_KEY] = True
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def dispose(self) -> None:
        self.engine.dispose()
        if self._writers is not None:
            self._writers.close()

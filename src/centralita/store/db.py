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
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from centralita.core.settings import normalize_database_url

__all__ = ["COMMIT_WITH_NUMBERS_KEY", "Database"]

_IMMEDIATE = "centralita_immediate"
# In a session's info: the session is a `Database.write()` transaction that commits as soon as its
# events are numbered, so events/log.py may send the COMMIT with the numbering statement (PostgreSQL).
COMMIT_WITH_NUMBERS_KEY = "centralita_commit_with_numbers"


def make_engine(url: str, **kwargs: Any) -> Engine:
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
    return create_engine(url, pool_pre_ping=True, **kwargs)


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

    def __init__(self, url: str, bus: Any = None, **engine_kwargs: Any) -> None:
        self.bus = bus
        self.url = normalize_database_url(url)
        self.engine = make_engine(self.url, **engine_kwargs)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._writers = WriterQueue(self.engine.url.database) if self.is_sqlite else None

    @contextlib.contextmanager
    def read(self) -> Iterator[Session]:
        with self._sessions() as session:
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

"""One `centralita up` per database unless the servers share their events through Redis.

Without Redis, events fan out inside the process that wrote them: a second server on the same database
would record contacts the first one's router never hears of and push nothing to the first one's
WebSockets (and the other way round). So every server holds a lock on its database for its lifetime:

- without Redis, an exclusive one: any other server on that database makes it refuse to start;
- with Redis, a shared one: servers with Redis run side by side, and none starts beside one without.

On SQLite the lock is an `flock` on `<database file>.server.lock`; on PostgreSQL a session advisory lock
on a dedicated connection. The kernel or PostgreSQL releases it when the process ends, however it ends.
CLI commands never take it: they read and administer while a server runs.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from typing import IO, Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

from centralita.core.files import create_private_file
from centralita.core.settings import Settings, normalize_database_url

__all__ = ["ServerLock"]

LOCK_KEY = 0x63656E74726173  # "centras": distinct from the routing leader's key (dispatch/leader.py)


class ServerLock:
    def __init__(self, settings: Settings) -> None:
        self.shared = bool(settings.redis_url)
        self._path = settings.sqlite_path
        self._url = None if settings.is_sqlite else normalize_database_url(settings.database_url)
        self._file: IO[Any] | None = None
        self._engine: Engine | None = None
        self._conn: Connection | None = None
        self.holder = ""  # after a refusal: who holds it, when known ("pid 1234")

    def acquire(self) -> bool:
        if self._url is not None:
            return self._acquire_pg(self._url)
        if self._path is None:
            return True  # an in-memory database belongs to one process anyway
        return self._acquire_file(self._path)

    def _acquire_file(self, database: Path) -> bool:
        database.parent.mkdir(parents=True, exist_ok=True)
        path = create_private_file(database.with_name(database.name + ".server.lock"))
        handle = path.open("r+")
        try:
            fcntl.flock(handle.fileno(), (fcntl.LOCK_SH if self.shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except OSError:
            pid = handle.read().strip()
            self.holder = f"pid {pid}" if pid.isdigit() else ""
            handle.close()
            return False
        if not self.shared:  # the one holder: say who it is
            handle.seek(0)
            handle.truncate()
            handle.write(str(os.getpid()))
            handle.flush()
        self._file = handle
        return True

    def _acquire_pg(self, url: str) -> bool:
        self._engine = create_engine(url, poolclass=NullPool)
        conn = self._engine.connect()
        function = "pg_try_advisory_lock_shared" if self.shared else "pg_try_advisory_lock"
        try:
            got = bool(conn.execute(text(f"SELECT {function}(:k)"), {"k": LOCK_KEY}).scalar())
            conn.commit()
        except Exception:
            conn.close()
            raise
        if not got:
            holders = conn.execute(
                text(
                    "SELECT a.pid, a.client_addr FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                    " WHERE l.locktype = 'advisory' AND l.granted AND l.database ="
                    " (SELECT oid FROM pg_database WHERE datname = current_database())"
                    " AND (l.classid::bigint << 32 | l.objid::bigint) = :k"
                ),
                {"k": LOCK_KEY},
            ).all()
            self.holder = ", ".join(f"PostgreSQL backend {pid} for {addr or 'a local socket'}" for pid, addr in holders)
            conn.close()
            self._engine.dispose()
            self._engine = None
            return False
        self._conn = conn
        return True

    def release(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
                self._file.close()
            self._file = None
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()  # ends the session: PostgreSQL releases the lock
            self._conn = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

"""Who may route: one leader per database, so that one router decides per tenant.

- PostgreSQL: a session-level advisory lock (`pg_try_advisory_lock`) held on a dedicated connection;
  PostgreSQL releases it when that connection ends, also when the process is killed.
- SQLite: an exclusive `flock` on `<database file>.routing.lock`; the kernel releases it when the process
  dies. SQLite is one machine by nature, so a file lock is the whole story.

One lock covers every tenant of the database (the leader runs a router per tenant): simpler to operate
than per-tenant leases and enough until one process cannot route all tenants. A standby process keeps
trying and takes over when the leader goes away (`Dispatcher` retries every `RETRY_S`).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from typing import IO, Any

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

LOCK_KEY = 0x63656E7472616C  # "central": the routing leader's advisory lock key


class LeaderLock:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._conn: Connection | None = None
        self._file: IO[Any] | None = None

    @property
    def held(self) -> bool:
        return self._conn is not None or self._file is not None

    def try_acquire(self) -> bool:
        if self.held:
            return True
        if self.engine.dialect.name == "sqlite":
            return self._try_file()
        conn = self.engine.connect()
        try:
            got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": LOCK_KEY}).scalar())
            conn.commit()
        except Exception:
            conn.close()
            raise
        if not got:
            conn.close()
            return False
        self._conn = conn
        return True

    def _try_file(self) -> bool:
        database = self.engine.url.database
        if not database or database == ":memory:":
            return True  # an in-memory database is one process by definition
        path = Path(database).with_name(Path(database).name + ".routing.lock")
        handle = path.open("a+")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._file = handle
        return True

    def release(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK_KEY})
                self._conn.commit()
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None
        if self._file is not None:
            with contextlib.suppress(Exception):
                fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
                self._file.close()
            self._file = None

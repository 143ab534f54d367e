"""Test fixtures: a real database (SQLite file, and PostgreSQL at 127.0.0.1:5432), a fake clock, the app.

Most API tests run twice, once per database engine (`service` is parametrized). Each test gets an
empty schema: a copy of a migrated SQLite template, or a truncated PostgreSQL database created for
this test session (and dropped at its end). A skipped test fails the run: tools are installed by the
test command, never skipped over.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

os.environ.setdefault("CENTRALITA_ARGON2_PROFILE", "test")  # cheap argon2id parameters, before any import
# Messages in English unless a test asks for Spanish (the product's default: tests/api/test_language.py)
os.environ.setdefault("CENTRALITA_LANGUAGE", "en")

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from centralita.core.clock import FakeClock
from centralita.core.settings import Settings
from centralita.events.bus import LocalBus
from centralita.service import Service
from centralita.store import migrate
from centralita.store.db import Database
from centralita.store.tables import Base
from tests.factories import World, make_world

PG_ADMIN_URL = os.environ.get("CENTRALITA_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("CENTRALITA_TEST_REDIS", "redis://127.0.0.1:6379/0")


@pytest.fixture(autouse=True)
def _language_stays() -> Iterator[None]:
    """The CLI's --lang (and a run without CENTRALITA_LANGUAGE) set the process language: restore it."""
    from centralita.core import i18n

    before = i18n._current
    yield
    i18n._current = before


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped tests fail this suite (install the tool instead): {report.longrepr}"
    return report


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    db = Database(f"sqlite:///{path}")
    migrate.upgrade(db.engine)
    db.dispose()
    return path


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    name = f"centralita_test_{_worker()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        # a server whose own time zone is not UTC: nothing may depend on it (store/db.py sets UTC per connection)
        conn.execute(text(f"ALTER DATABASE \"{name}\" SET TimeZone = 'America/New_York'"))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    db = Database(url)
    migrate.upgrade(db.engine)
    db.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate_pg(url: str) -> None:
    engine = create_engine(url)
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make_service(url: str, data_dir: Path, clock: FakeClock, bus: LocalBus | None = None) -> Service:
    settings = Settings(data_dir=data_dir, database_url=url, secret_key="test-secret", login_attempts_per_minute=5)
    bus = bus or LocalBus()
    return Service(settings=settings, db=Database(url, bus=bus), bus=bus, clock=clock)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    if request.param == "sqlite":
        target = tmp_path / "centralita.db"
        shutil.copy(sqlite_template, target)
        return f"sqlite:///{target}"
    url: str = request.getfixturevalue("pg_url")
    _truncate_pg(url)
    return url


@pytest.fixture
def pg_service(pg_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[Service]:
    """A service on an emptied PostgreSQL database (for tests that need PostgreSQL's own behaviour)."""
    _truncate_pg(pg_url)
    svc = make_service(pg_url, tmp_path, clock)
    yield svc
    svc.close()


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    target = tmp_path / "centralita.db"
    shutil.copy(sqlite_template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def service(db_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[Service]:
    svc = make_service(db_url, tmp_path, clock)
    yield svc
    svc.close()


@dataclass
class Api:
    """The app plus one logged-in client per role, for two tenants (`a` and `b`)."""

    service: Service
    a: World
    b: World

    def client(self, role: str, world: World | None = None) -> TestClient:
        return (world or self.a).client(self.service, role)

    def anonymous(self) -> TestClient:
        from centralita.api.app import create_app

        return TestClient(create_app(self.service))


@pytest.fixture
def api(service: Service) -> Api:
    return Api(service=service, a=make_world(service, "norte"), b=make_world(service, "sur"))

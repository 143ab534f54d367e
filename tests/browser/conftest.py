"""Browser tests: Playwright (Python) driving Debian's chromium against a real `centralita up`.

`site` starts one server per test module on a fresh SQLite data directory holding a small demo bank (the
real loader: 40 customers, one day of history; every demo user's password is PASSWORD); `browser` is
chromium from /usr/bin (never a downloaded browser), headless with the flags this machine needs. Each test
takes its own contexts (one per person: a customer, an agent, a supervisor). Screenshots go to
`tests/browser/artifacts/` (kept after the run, not committed), to be looked at.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx2 as httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.e2e.real_server import Up, base_env, start_up

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
PASSWORD = "browser-test-password"
ARTIFACTS = Path(__file__).parent / "artifacts"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every browser test is a slow end-to-end test (run in CI too)."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.slow)


@dataclass
class Site:
    up: Up
    data_dir: Path

    @property
    def url(self) -> str:
        return self.up.url


def _load_demo(env: dict[str, str], days: int = 1) -> None:
    """The demo bank with `days` of history, its hours calendars open all day every day (a test runs at any
    hour)."""
    from sqlalchemy import select

    from centralita.core.actor import Actor
    from centralita.core.settings import load_settings
    from centralita.demo import loader
    from centralita.queues.actions import do_update_hours
    from centralita.queues.schemas import HoursUpdate, WeeklyInterval
    from centralita.service import Service
    from centralita.store import tables as t

    svc = Service.start(load_settings({}, env=env))
    try:
        loader.load_demo(svc, customers=40, days=days, password=PASSWORD)
        always = [WeeklyInterval(day=d, start="00:00", end="24:00") for d in range(1, 8)]
        with svc.db.write() as s:
            for row in s.scalars(select(t.HoursCalendar)):
                actor = Actor(tenant_id=row.tenant_id, role="admin", username="test", clock=svc.clock)
                do_update_hours(s, actor, row, HoursUpdate(weekly=always, overrides=[]))
    finally:
        svc.close()


def serve_demo(tmp_path_factory: pytest.TempPathFactory, name: str, days: int = 1) -> Iterator[Site]:
    """A real `centralita up` on a new data directory holding the demo with `days` of history."""
    data_dir = tmp_path_factory.mktemp(name)
    env = base_env(data_dir, WORKERS="1", LANGUAGE="es")
    _load_demo(env, days)
    up = start_up(env, data_dir / "up.log")
    try:
        yield Site(up=up, data_dir=data_dir)
    finally:
        up.stop()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    yield from serve_demo(tmp_path_factory, "site")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Per module, not per session: Playwright's sync API keeps an event loop running in this thread while
    it is started, and a later test of the same worker that runs its own loop (`asyncio.run`) would fail."""
    assert os.path.exists(CHROMIUM), "Debian's chromium is missing: the test command installs it"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    ctx = browser.new_context(viewport={"width": 1366, "height": 860}, locale="es-ES")
    yield ctx
    ctx.close()


@pytest.fixture
def browser_contexts(browser: Browser) -> Iterator[list[BrowserContext]]:
    """Four people at four browsers (no shared cookies or storage)."""
    contexts = [browser.new_context(viewport={"width": 1366, "height": 860}, locale="es-ES") for _ in range(4)]
    yield contexts
    for ctx in contexts:
        ctx.close()


@pytest.fixture
def api_as(site: Site) -> Iterator[Callable[[str], httpx.Client]]:
    """HTTP clients of the site logged in as a demo user (the CSRF header set), closed after the test."""
    clients: list[httpx.Client] = []

    def open_as(username: str) -> httpx.Client:
        client = httpx.Client(base_url=site.url, timeout=10)
        clients.append(client)
        answer = client.post("/api/auth/login", json={"username": username, "password": PASSWORD, "tenant": "demo"})
        assert answer.status_code == 200, answer.text
        client.headers["X-CSRF-Token"] = answer.json()["csrf_token"]
        return client

    yield open_as
    for client in clients:
        client.close()


def login(page: Page, site: Site, username: str, path: str = "/") -> None:
    """Log in through the login page and land on `path`."""
    page.goto(f"{site.url}/?next={path}")
    page.get_by_label("Usuario").fill(username)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Entrar").click()
    page.wait_for_url(f"{site.url}{path}")


def shot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path

"""The supervisor wallboard, live: a contact created through the API shows as waiting without a reload, an
agent's state change shows, the agent dialog changes skills and state (and shows what the API refuses), no
serious or critical accessibility violation (axe-core), and a screenshot to look at."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from playwright.sync_api import APIRequestContext, Browser, BrowserContext, Page, Route, expect

from tests.browser.axe import serious_violations
from tests.browser.conftest import PASSWORD, Site, login, shot


def _api(context: BrowserContext, site: Site, username: str) -> tuple[APIRequestContext, str]:
    """A logged-in API client (its own cookies) and its CSRF token."""
    request = context.request
    answer = request.post(
        f"{site.url}/api/auth/login", data={"username": username, "password": PASSWORD, "tenant": "demo"}
    )
    assert answer.ok, answer.text()
    return request, str(answer.json()["csrf_token"])


@pytest.fixture
def board(browser: Browser) -> Iterator[BrowserContext]:
    """A supervisor's browser."""
    ctx = browser.new_context(viewport={"width": 1440, "height": 900}, locale="es-ES")
    yield ctx
    ctx.close()


def _waiting(page: Page, queue: str) -> int:
    text = page.get_by_test_id(f"waiting-{queue}").inner_text().strip()
    return int(text) if text.isdigit() else 0


def test_wallboard_is_live(site: Site, browser: Browser, board: BrowserContext) -> None:
    page = board.new_page()
    login(page, site, "supervisor", "/wallboard")
    expect(page.get_by_role("heading", name="Panel en directo")).to_be_visible()
    expect(page.get_by_text("En directo", exact=True)).to_be_visible(timeout=15_000)
    expect(page.locator("tr[data-queue='atencion']")).to_be_visible(timeout=15_000)
    expect(page.get_by_role("group", name="Entradas por cuarto de hora")).to_be_visible()

    # a contact through the API: the waiting count moves without a reload (no agent is logged in to take it)
    api_ctx = browser.new_context()
    request, csrf = _api(api_ctx, site, "admin")
    before = _waiting(page, "urgencias")
    created = request.post(
        f"{site.url}/api/contacts",
        data={"channel": "chat", "from": "chat-wallboard", "queue": "urgencias"},
        headers={"X-CSRF-Token": csrf},
    )
    assert created.ok, created.text()
    expect(page.get_by_test_id("waiting-urgencias")).to_have_text(str(before + 1), timeout=15_000)
    # nobody takes it: past the queue's 20 s threshold the queue is behind, said in words, not colour alone
    banner = page.get_by_test_id("alerts")
    expect(banner).to_contain_text("Colas por debajo del objetivo: 1", timeout=30_000)
    expect(banner).to_contain_text("Tarjetas 24 h: un contacto lleva más de 20 s esperando")
    expect(page.locator("tr[data-queue='urgencias']")).to_contain_text("Por debajo")

    # an agent's state change (through the API) shows in its row
    row = page.locator("tr[data-agent='lucia.martin']")
    changed = request.post(
        f"{site.url}/api/agents/lucia.martin/state",
        data={"state": "away", "away_reason": "descanso"},
        headers={"X-CSRF-Token": csrf},
    )
    assert changed.ok, changed.text()
    expect(row.locator("td:nth-child(2) .badge")).to_have_text("ausente", timeout=15_000)

    # the dialog: a state back to offline, from the wallboard
    row.get_by_role("button", name="Cambiar a Lucía Martín Pérez").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Nuevo estado").select_option("offline")
    dialog.get_by_role("button", name="Aplicar estado").click()
    expect(dialog.get_by_text("Estado cambiado")).to_be_visible()
    expect(row.locator("td:nth-child(2) .badge")).to_have_text("desconectado", timeout=15_000)
    # the supervisor changes her skills live (the API lets a supervisor change skills and queues only)
    dialog.locator("#skill-ventas").select_option("2")
    dialog.get_by_role("button", name="Guardar habilidades y colas").click()
    expect(dialog.get_by_text("Habilidades y colas guardadas")).to_be_visible()
    assert page.request.get(f"{site.url}/api/agents/lucia.martin").json()["skills"]["ventas"] == 2
    dialog.get_by_role("button", name="Cerrar").click()
    expect(dialog).to_be_hidden()

    # some life for the screenshot: three agents available take the waiting chats (ringing, then busy)
    for code in ("javier.gomez", "pablo.jimenez", "david.sanchez"):
        answer = request.post(
            f"{site.url}/api/agents/{code}/state", data={"state": "available"}, headers={"X-CSRF-Token": csrf}
        )
        assert answer.ok, answer.text()
    for n in range(2):
        answer = request.post(
            f"{site.url}/api/contacts",
            data={"channel": "voice", "from": f"+3460000000{n}", "queue": "urgencias"},
            headers={"X-CSRF-Token": csrf},
        )
        assert answer.ok, answer.text()
    expect(page.locator("tr[data-agent='javier.gomez'] td:nth-child(2) .badge")).not_to_have_text(
        "desconectado", timeout=15_000
    )
    api_ctx.close()
    serious = serious_violations(page)
    assert serious == [], json.dumps(serious, ensure_ascii=False)
    page.wait_for_timeout(2500)  # today's charts redraw at most every 2 s
    shot(page, "wallboard")


def test_admin_changes_skills_live(site: Site, context: BrowserContext) -> None:
    page = context.new_page()
    login(page, site, "admin", "/wallboard")
    row = page.locator("tr[data-agent='javier.gomez']")
    expect(row).to_be_visible(timeout=15_000)
    row.get_by_role("button", name="Cambiar a Javier Gómez Ruiz").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("button", name="Guardar habilidades y colas")).to_be_enabled(timeout=10_000)
    skill = dialog.locator("#skill-ventas")
    skill.select_option("3")
    dialog.get_by_role("button", name="Guardar habilidades y colas").click()
    expect(dialog.get_by_text("Habilidades y colas guardadas")).to_be_visible()
    shot(page, "wallboard-dialog")
    answer = page.request.get(f"{site.url}/api/agents/javier.gomez")
    assert answer.json()["skills"]["ventas"] == 3

    # what the API refuses is shown as it says it
    def refuse(route: Route) -> None:
        if route.request.method == "PATCH":
            problem = {"status": 409, "title": "Conflict", "detail": "el agente cambió mientras tanto"}
            route.fulfill(status=409, content_type="application/problem+json", body=json.dumps(problem))
        else:
            route.continue_()

    page.route("**/api/agents/javier.gomez", refuse)
    dialog.get_by_role("button", name="Guardar habilidades y colas").click()
    expect(dialog.get_by_role("alert")).to_have_text("el agente cambió mientras tanto")

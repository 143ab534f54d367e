"""Accessibility: axe-core finds no serious or critical violation on the login page, the agent desktop (with a
contact in hand and its wrap-up form), and the company page with the chat widget open; the agent desktop
works from the keyboard alone (accept, write, end, wrap up). The wallboard and admin pages are checked in
their own tests; the API docs page is Swagger UI's own markup and is not ours to fix."""

from __future__ import annotations

from collections.abc import Callable

import httpx2 as httpx
from playwright.sync_api import BrowserContext, expect

from tests.browser.axe import serious_violations
from tests.browser.conftest import Site, login, shot


def test_login_page(site: Site, context: BrowserContext) -> None:
    page = context.new_page()
    page.goto(site.url)
    expect(page.get_by_label("Usuario")).to_be_visible()
    assert serious_violations(page) == []


def test_chat_widget(site: Site, context: BrowserContext) -> None:
    page = context.new_page()
    page.goto(f"{site.url}/chat-demo")
    page.locator("#centralita-chat").get_by_role("button", name="Chatea con nosotros").click()
    expect(page.locator("#centralita-chat").get_by_text("¿En qué puedo ayudarle?")).to_be_visible(timeout=15_000)
    assert serious_violations(page) == []


def test_agent_desktop_from_the_keyboard(
    site: Site, context: BrowserContext, api_as: Callable[[str], httpx.Client]
) -> None:
    sup = api_as("supervisor")
    agent = next(a for a in sup.get("/api/agents").json() if any(q["queue"] == "atencion" for q in a["queues"]))
    page = context.new_page()
    login(page, site, agent["code"], "/agent")
    assert serious_violations(page) == []
    # keyboard only from here: available, accept, write, end, wrap up
    page.keyboard.press("Alt+s")
    expect(page.get_by_test_id("my-activity")).to_have_text("disponible")
    made = sup.post("/api/contacts", json={"channel": "chat", "from": "visitante-teclado", "queue": "atencion"})
    assert made.status_code == 201, made.text
    expect(page.get_by_test_id("offer")).to_be_visible(timeout=20_000)
    page.keyboard.press("Alt+a")
    expect(page.get_by_label("Mensaje al cliente")).to_be_visible()
    page.keyboard.press("Alt+m")
    page.keyboard.type("Buenos días")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Buenos días")).to_be_visible()
    assert serious_violations(page) == []
    page.keyboard.press("Alt+e")
    expect(page.get_by_test_id("wrap-up")).to_be_visible()
    page.keyboard.press("Alt+w")
    expect(page.get_by_label("Motivo del contacto *")).to_be_focused()
    page.keyboard.press("ArrowDown")
    assert serious_violations(page) == []
    shot(page, "agent-keyboard-wrap-up")
    for _ in range(20):  # Tab to the submit button
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Terminar el cierre":
            break
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("wrap-up")).to_have_count(0)
    expect(page.get_by_test_id("my-activity")).not_to_have_text("cierre")

"""The pages as a user meets them: the front door lists where to go, each role lands on its page, a lower
role is turned away, the API docs work offline (no request leaves this server) and pass axe-core."""

from __future__ import annotations

from playwright.sync_api import BrowserContext, Request, expect

from tests.browser.axe import serious_violations
from tests.browser.conftest import Site, login, shot


def test_front_door_lists_where_to_go(site: Site, context: BrowserContext) -> None:
    page = context.new_page()
    page.goto(site.url)
    expect(page.get_by_role("heading", name="Adónde ir")).to_be_visible()
    expect(page.get_by_role("link", name="Documentación de la API")).to_be_visible()
    shot(page, "login")


def test_roles_land_on_their_page_and_lower_roles_are_turned_away(site: Site, context: BrowserContext) -> None:
    page = context.new_page()
    login(page, site, "supervisor", "/wallboard")
    page.goto(f"{site.url}/admin")
    expect(page.get_by_role("alert")).to_contain_text("Tu rol no puede abrir esta página")
    expect(page.get_by_role("link", name="Administración")).to_have_count(0)


def test_api_docs_work_offline(site: Site, context: BrowserContext) -> None:
    outside: list[str] = []

    def watch(request: Request) -> None:
        if not request.url.startswith(site.url) and not request.url.startswith("data:"):
            outside.append(request.url)

    page = context.new_page()
    page.on("request", watch)
    page.goto(f"{site.url}/docs")
    expect(page.get_by_text("/api/contacts/{contact_id}/accept").first).to_be_visible(timeout=15_000)
    assert outside == []
    shot(page, "docs")
    # Swagger UI with deep links off (no link inside each summary button) and our contrast fixes
    assert serious_violations(page) == []

"""The chat widget on its own: a reload or a dropped connection neither loses nor repeats a message, a flood
is told to wait, and the widget works from another origin (the company's own site)."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect

from tests.browser.conftest import Site, shot


def _open(page: Page, url: str) -> Locator:
    page.goto(url)
    widget = page.locator("#centralita-chat")
    widget.get_by_role("button", name="Chatea con nosotros").click()
    expect(widget.get_by_text("¿En qué puedo ayudarle?")).to_be_visible(timeout=15_000)
    return widget


def _bubbles(widget: Locator) -> list[str]:
    return [b.inner_text() for b in widget.locator(".msg").all()]


def test_reload_and_lost_connection_keep_every_message_once(site: Site, context: BrowserContext) -> None:
    page = context.new_page()
    widget = _open(page, f"{site.url}/chat-demo")
    widget.get_by_role("button", name="Consultar saldo").click()
    expect(widget.get_by_text("escriba su DNI")).to_be_visible()
    before = _bubbles(widget)
    page.reload()  # the conversation goes on where it was, each message once
    expect(widget.get_by_text("escriba su DNI")).to_be_visible(timeout=15_000)
    page.wait_for_timeout(2000)  # a few reads of what came since
    assert _bubbles(widget) == before
    # the network drops: the widget says it reconnects, then carries on without repeating anything
    context.set_offline(True)
    expect(widget.get_by_text("Reconectando…")).to_be_visible(timeout=10_000)
    shot(page, "widget-reconnecting")
    context.set_offline(False)
    expect(widget.get_by_text("Reconectando…")).to_have_count(0, timeout=20_000)
    box = widget.get_by_label("Tu mensaje")
    box.fill("12345678Z")  # a DNI no customer has
    box.press("Enter")
    expect(widget.get_by_text("No encuentro ese DNI entre nuestros clientes.")).to_be_visible()
    page.wait_for_timeout(2000)
    after = _bubbles(widget)
    assert after[: len(before)] == before
    assert len(after) == len(set((i, text) for i, text in enumerate(after)))
    assert after.count("No encuentro ese DNI entre nuestros clientes.") == 1


def test_a_flood_is_told_to_wait(site: Site, context: BrowserContext) -> None:
    page = context.new_page()
    widget = _open(page, f"{site.url}/chat-demo")
    # twelve messages typed and sent at once (as a script or a stuck key would): the eleventh is refused
    page.evaluate(
        """() => {
            const box = document.querySelector('#centralita-chat').shadowRoot.querySelector('#cc-input');
            for (let i = 0; i < 12; i++) {
                box.value = `hola ${i}`;
                box.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', bubbles: true}));
            }
        }"""
    )
    expect(widget.get_by_text("Demasiados mensajes: espera un momento.")).to_be_visible(timeout=15_000)
    expect(widget.get_by_label("Tu mensaje")).not_to_have_value("")  # the refused text is given back


@pytest.fixture
def company_site(site: Site) -> Iterator[str]:
    """Another origin serving a page that embeds the widget from Centralita, as a company's site would."""
    page = (
        '<!doctype html><html lang="es"><title>Tienda</title><body><h1>Tienda</h1>'
        f'<script src="{site.url}/widget.js" data-site-key="demo-banco-web" async></script></body></html>'
    )

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = page.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_the_widget_works_from_the_company_site(company_site: str, context: BrowserContext) -> None:
    page = context.new_page()
    widget = _open(page, company_site)  # another origin: the chat routes answer it (CORS), no cookie used
    widget.get_by_role("button", name="Consultar saldo").click()
    expect(widget.get_by_text("escriba su DNI")).to_be_visible()
    shot(page, "widget-on-another-site")

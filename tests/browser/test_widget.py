"""The chat widget on its own: a reload or a dropped connection neither loses nor repeats a message, a flood
is told to wait, the widget works from another origin (the company's own site), and at the end of a chat the
visitor answers the three survey questions from the keyboard (a second answer, from a copy of the tab, is
refused with a clear message)."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Callable, Iterator

import httpx2 as httpx
import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect

from tests.browser.axe import serious_violations
from tests.browser.conftest import Site, shot
from tests.browser.test_chat_journey import _agent_of

STORE = "centralita.chat.demo-banco-web"  # where the widget keeps its conversation (sessionStorage)


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


def _served_and_ended(page: Page, widget: Locator, api_as: Callable[[str], httpx.Client]) -> tuple[int, str]:
    """The visitor asks for a person; an agent (through the API) accepts the chat, then ends it. The
    conversation's id and what the widget keeps in the tab's storage."""
    widget.get_by_role("button", name="Hablar con un gestor").click()
    expect(widget.get_by_text("Un gestor le atenderá enseguida.")).to_be_visible(timeout=15_000)
    saved = page.evaluate(f"() => sessionStorage.getItem({STORE!r})")
    cid = int(json.loads(saved)["id"])
    sup = api_as("supervisor")
    for waiting in sup.get("/api/contacts", params={"status": "queued"}).json()["items"]:
        if waiting["id"] != cid:  # earlier tests' visitors still waiting leave: this one is served first
            assert sup.post(f"/api/contacts/{waiting['id']}/customer-disconnect").status_code == 200
    agent = api_as(_agent_of(sup, "atencion"))
    assert agent.post("/api/agents/me/state", json={"state": "available"}).status_code == 200
    deadline = time.monotonic() + 20
    while (accepted := agent.post(f"/api/contacts/{cid}/accept")).status_code != 200:
        assert time.monotonic() < deadline, accepted.text
        time.sleep(0.3)
    assert agent.post(f"/api/contacts/{cid}/messages", json={"text": "Hola, soy su gestor."}).status_code == 201
    expect(widget.get_by_text("Hola, soy su gestor.")).to_be_visible(timeout=10_000)
    assert agent.post(f"/api/contacts/{cid}/end").status_code == 200
    return cid, saved


def test_the_visitor_answers_the_three_survey_questions_from_the_keyboard(
    site: Site, context: BrowserContext, api_as: Callable[[str], httpx.Client]
) -> None:
    page = context.new_page()
    widget = _open(page, f"{site.url}/chat-demo")
    cid, saved = _served_and_ended(page, widget, api_as)
    expect(widget.get_by_text("La conversación ha terminado.")).to_be_visible(timeout=10_000)
    survey = widget.get_by_role("region", name="Cuéntanos qué tal ha ido")
    expect(survey).to_be_visible()
    csat = survey.get_by_role("group", name="¿Qué satisfecho estás con este chat?")
    ces = survey.get_by_role(
        "group", name="«La empresa me ha facilitado resolver mi gestión». ¿Cuánto estás de acuerdo?"
    )
    nps = survey.get_by_role("group", name="¿Qué probabilidad hay de que nos recomiendes a un amigo o colega?")
    expect(csat.get_by_role("radio")).to_have_count(5)
    expect(ces.get_by_role("radio")).to_have_count(7)
    expect(nps.get_by_role("radio")).to_have_count(11)
    expect(nps.get_by_role("radio", name="0", exact=True)).to_be_attached()  # NPS starts at 0
    assert serious_violations(page) == []

    # a copy of the tab (as the browser's "duplicate tab" does, sessionStorage and all) shows the same survey
    copy = context.new_page()
    copy.add_init_script(f"sessionStorage.setItem({STORE!r}, {json.dumps(saved)})")
    copy.goto(f"{site.url}/chat-demo")
    copied = copy.locator("#centralita-chat")
    expect(copied.get_by_role("button", name="Enviar respuestas")).to_be_visible(timeout=15_000)

    # nothing chosen: the visitor is told to choose at least one answer, nothing is sent
    send = survey.get_by_role("button", name="Enviar respuestas")
    send.click()
    expect(survey.get_by_role("alert")).to_have_text("Elige una respuesta en al menos una pregunta.")

    # the keyboard alone: into each group, arrows to choose, Tab to the next, Enter to send
    csat.get_by_role("radio", name="1", exact=True).focus()
    page.keyboard.press("Space")
    for _ in range(3):
        page.keyboard.press("ArrowRight")  # 4
    page.keyboard.press("Tab")
    expect(ces.get_by_role("radio", name="1", exact=True)).to_be_focused()
    page.keyboard.press("Space")
    for _ in range(5):
        page.keyboard.press("ArrowRight")  # 6
    page.keyboard.press("Tab")
    expect(nps.get_by_role("radio", name="0", exact=True)).to_be_focused()
    page.keyboard.press("Space")
    for _ in range(8):
        page.keyboard.press("ArrowRight")  # 8
    expect(csat.get_by_role("radio", name="4", exact=True)).to_be_checked()
    expect(ces.get_by_role("radio", name="6", exact=True)).to_be_checked()
    expect(nps.get_by_role("radio", name="8", exact=True)).to_be_checked()
    shot(page, "widget-survey-three-questions")
    page.keyboard.press("Tab")
    expect(send).to_be_focused()
    page.keyboard.press("Enter")
    thanks = widget.get_by_text("Gracias por tus respuestas.")
    expect(thanks).to_be_visible()
    expect(thanks).to_be_focused()  # read out, and where the keyboard is
    shot(page, "widget-survey-thanks")

    sup = api_as("supervisor")
    stored = sup.get(f"/api/contacts/{cid}").json()
    assert (stored["csat"], stored["ces"], stored["nps"]) == (4, 6, 8), stored
    assert [e["type"] for e in stored["timeline"]].count("contact.surveyed") == 1
    surveyed = next(e for e in stored["timeline"] if e["type"] == "contact.surveyed")
    assert {k: surveyed["data"][k] for k in ("csat", "ces", "nps")} == {"csat": 4, "ces": 6, "nps": 8}

    # the copy of the tab answers too: refused, and said so
    copied.locator("label[for=cc-nps-10]").click()
    copied.get_by_role("button", name="Enviar respuestas").click()
    expect(copied.get_by_text("Esta encuesta ya se respondió: solo admite una respuesta. Gracias.")).to_be_visible()
    expect(copied.get_by_role("button", name="Enviar respuestas")).to_have_count(0)
    shot(copy, "widget-survey-twice")
    again = sup.get(f"/api/contacts/{cid}").json()
    assert (again["csat"], again["ces"], again["nps"]) == (4, 6, 8)

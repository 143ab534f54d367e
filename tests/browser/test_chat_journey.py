"""The chat channel end to end in three browsers: a customer on the company's site opens the widget, the bot
identifies them (DNI, then PIN) and serves their balance, they ask for an agent; an agent receives the offer,
sees the screen pop with what the bot collected (who it is, the balance served, the case it opened),
answers, they exchange messages, the agent wraps up with a reason; the customer answers the survey and the
answers are stored on the contact; the supervisor's wallboard shows the agent's contact live. Another agent
sees nothing of it, in the page or through the API."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx2 as httpx
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import Site, login, shot


def _customer(sup: httpx.Client) -> dict[str, Any]:
    """A demo customer with a DNI who is not premium (the bot queues them in `atencion`)."""
    for c in sup.get("/api/customers", params={"limit": 100}).json()["items"]:
        kinds = {i["kind"]: i["value"] for i in reversed(c["identities"])}
        phones = [i["value"] for i in c["identities"] if i["kind"] == "phone"]
        if "national_id" in kinds and phones and c["segment"] != "premium":
            return {"id": c["id"], "name": c["name"], "dni": kinds["national_id"], "pin": phones[0][-4:]}
    raise AssertionError("no demo customer with a DNI")


def _agent_of(sup: httpx.Client, queue: str, skip: frozenset[str] = frozenset()) -> str:
    for a in sup.get("/api/agents").json():
        if a["active"] and a["code"] not in skip and any(q["queue"] == queue for q in a["queues"]):
            return str(a["code"])
    raise AssertionError(f"no agent serves {queue}")


def _widget(page: Page) -> Any:
    return page.locator("#centralita-chat")


def test_customer_bot_agent_and_rating(
    site: Site, browser_contexts: list[BrowserContext], api_as: Callable[[str], httpx.Client]
) -> None:
    customer_ctx, agent_ctx, supervisor_ctx, other_ctx = browser_contexts
    sup = api_as("supervisor")
    who = _customer(sup)
    agent_code = _agent_of(sup, "atencion")
    other_code = _agent_of(sup, "atencion", frozenset({agent_code}))

    # the supervisor watches the wallboard; the agent logs in and makes itself available
    board = supervisor_ctx.new_page()
    login(board, site, "supervisor", "/wallboard")
    agent = agent_ctx.new_page()
    login(agent, site, agent_code, "/agent")
    agent.get_by_role("button", name="Disponible", exact=True).click()
    expect(agent.get_by_test_id("my-activity")).to_have_text("disponible")
    shot(agent, "agent-available")

    # the customer opens the company's page and the widget
    page = customer_ctx.new_page()
    page.goto(f"{site.url}/chat-demo")
    widget = _widget(page)
    widget.get_by_role("button", name="Chatea con nosotros").click()
    expect(widget.get_by_text("¿En qué puedo ayudarle?")).to_be_visible(timeout=15_000)
    widget.get_by_role("button", name="Consultar saldo").click()
    expect(widget.get_by_text("escriba su DNI")).to_be_visible()
    box = widget.get_by_label("Tu mensaje")
    box.fill(who["dni"])
    box.press("Enter")
    expect(widget.get_by_text(f"Gracias, {who['name']}.")).to_be_visible()
    box.fill(who["pin"])
    box.press("Enter")
    expect(widget.get_by_text(re.compile(r"Su saldo disponible es de"))).to_be_visible()
    expect(widget.get_by_text("****")).to_be_visible()  # the PIN is masked even in the customer's transcript
    widget.get_by_role("button", name="Hablar con un gestor").last.click()
    said = widget.get_by_text(re.compile(r"Su referencia es"))
    expect(said).to_be_visible()
    reference = re.search(r"Su referencia es ([A-Z0-9-]+)", said.inner_text())
    assert reference is not None
    shot(page, "widget-queued")

    # the agent is offered the chat and sees the screen pop before answering
    offer = agent.get_by_test_id("offer")
    expect(offer).to_be_visible(timeout=20_000)
    expect(offer).to_contain_text(who["name"])
    pop = agent.get_by_test_id("screen-pop")
    expect(pop).to_contain_text(who["name"])
    expect(pop).to_contain_text("banco.saldo")  # the self-service step the bot served
    expect(pop).to_contain_text(reference.group(1))  # the case the bot opened
    shot(agent, "agent-offer")
    agent.keyboard.press("Alt+a")  # accept with the keyboard
    expect(agent.get_by_role("heading", name=re.compile(who["name"])).first).to_be_visible()

    # they talk
    agent.get_by_label("Mensaje al cliente").fill("Hola, soy su gestora. ¿En qué le ayudo?")
    agent.get_by_label("Mensaje al cliente").press("Enter")
    expect(widget.get_by_text("Hola, soy su gestora. ¿En qué le ayudo?")).to_be_visible(timeout=10_000)
    box.fill("Quiero revisar")  # typing: the agent sees it on its desktop
    expect(agent.get_by_text("El cliente está escribiendo…")).to_be_visible(timeout=10_000)
    agent.get_by_label("Mensaje al cliente").fill("Un momento")  # and the customer sees the agent typing
    expect(widget.get_by_text(re.compile(r"está escribiendo…"))).to_be_visible(timeout=10_000)
    agent.get_by_label("Mensaje al cliente").fill("")
    box.fill("Quiero revisar un cargo de mi tarjeta")
    box.press("Enter")
    expect(agent.get_by_text("Quiero revisar un cargo de mi tarjeta")).to_be_visible(timeout=10_000)
    shot(page, "widget-with-agent")

    # the wallboard shows the agent busy with the contact
    expect(board.get_by_text(who["name"]).first).to_be_visible(timeout=10_000)
    shot(board, "wallboard-live")

    # another agent sees nothing of it: not in its page, and the API refuses its screen pop
    other = other_ctx.new_page()
    login(other, site, other_code, "/agent")
    expect(other.get_by_text(who["name"])).to_have_count(0)
    contact_id = int(sup.get("/api/contacts", params={"status": "connected"}).json()["items"][0]["id"])
    assert api_as(other_code).get(f"/api/contacts/{contact_id}/screen-pop").status_code == 403

    # the agent ends and wraps up with a reason
    agent.get_by_role("button", name="Finalizar").click()
    form = agent.get_by_test_id("wrap-up")
    expect(form).to_be_visible()
    form.get_by_label("Motivo del contacto").select_option(index=1)
    form.get_by_label("Notas").fill("Cargo revisado con el cliente")
    shot(agent, "agent-wrap-up")
    form.get_by_role("button", name="Terminar el cierre").click()
    expect(form).to_have_count(0)

    # the customer answers the survey (CSAT, CES, NPS); the answers are on the contact
    expect(widget.get_by_text("La conversación ha terminado.")).to_be_visible(timeout=10_000)
    widget.locator("label[for=cc-csat-5]").click()
    widget.locator("label[for=cc-ces-6]").click()
    widget.locator("label[for=cc-nps-9]").click()
    shot(page, "widget-survey")
    widget.get_by_role("button", name="Enviar respuestas").click()
    expect(widget.get_by_text("Gracias por tus respuestas.")).to_be_visible()
    stored = sup.get(f"/api/contacts/{contact_id}").json()
    assert (stored["csat"], stored["ces"], stored["nps"]) == (5, 6, 9)
    assert stored["disposition"] == "resolved" and stored["reason_id"] is not None
    timeline = [e["type"] for e in stored["timeline"]]
    assert "contact.message" in timeline and "contact.surveyed" in timeline

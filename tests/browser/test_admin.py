"""The admin console as an admin meets it: creating a skill and a queue through the forms (the API agrees),
a flow uploaded with an error shown at its line, fixed, published twice and rolled back; an agent is turned
away (page and API); no serious accessibility violation (axe-core) on the sections visited."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from tests.browser.axe import serious_violations
from tests.browser.conftest import Site, login, shot

BAD_FLOW = """\
flowlang: 1
id: prueba_web
start: hola
nodes:
  hola: {type: play, prompt: "tts:Hola", next: cola}
  cola: {type: queue, queue: nadie, next: espera}
  espera: {type: wait, seconds: 30, next: espera}
"""


@pytest.fixture
def admin_context(browser: Browser) -> Iterator[BrowserContext]:
    ctx = browser.new_context(viewport={"width": 1440, "height": 900}, locale="es-ES")
    yield ctx
    ctx.close()


def test_admin_creates_a_skill_and_a_queue(site: Site, admin_context: BrowserContext) -> None:
    page = admin_context.new_page()
    login(page, site, "admin", "/admin")
    expect(page.get_by_role("navigation", name="Administración")).to_be_visible()

    page.get_by_role("link", name="Habilidades").click()
    page.get_by_role("button", name="+ Nueva habilidad").click()
    form = page.locator("#skills-form")
    form.get_by_label("Código").fill("reclamaciones")
    form.get_by_label("Nombre").fill("Reclamaciones")
    form.get_by_role("button", name="Crear").click()
    expect(page.get_by_role("cell", name="Reclamaciones", exact=True)).to_be_visible()
    skills = page.request.get(f"{site.url}/api/skills").json()
    assert {"code": "reclamaciones", "name": "Reclamaciones"} in [{k: s[k] for k in ("code", "name")} for s in skills]

    # the same code again: the API's problem is shown beside the form
    page.get_by_role("button", name="+ Nueva habilidad").click()
    form.get_by_label("Código").fill("reclamaciones")
    form.get_by_label("Nombre").fill("Otra vez")
    form.get_by_role("button", name="Crear").click()
    expect(form.get_by_role("alert")).to_contain_text("reclamaciones")
    form.get_by_role("button", name="Cancelar").click()

    page.get_by_role("link", name="Colas").click()
    page.get_by_role("button", name="+ Nueva cola").click()
    form = page.locator("#queues-form")
    form.get_by_label("Código").fill("reclamaciones")
    form.get_by_label("Nombre", exact=True).fill("Reclamaciones web")
    form.get_by_label("Objetivo (%)").fill("150")
    form.get_by_role("button", name="Crear").click()
    target = form.get_by_label("Objetivo (%)")
    expect(target).to_have_attribute("aria-invalid", "true")
    expect(form.locator(".field.invalid .field-error")).to_contain_text("100")  # beside the field it names
    expect(form.get_by_role("alert")).to_be_visible()  # the problem's detail under the form
    shot(page, "admin-queue-field-error")
    target.fill("90")
    form.get_by_label("Umbral (segundos)").fill("30")
    form.get_by_label("Habilidades requeridas").fill("reclamaciones:2")
    form.get_by_label("Cola de desbordamiento").select_option("atencion")
    form.get_by_label("Tras (segundos)").fill("90")
    shot(page, "admin-queue-form")
    assert serious_violations(page) == []
    form.get_by_role("button", name="Crear").click()
    expect(page.get_by_role("cell", name="Reclamaciones web", exact=True)).to_be_visible()
    queue = page.request.get(f"{site.url}/api/queues/reclamaciones").json()
    assert queue["sl_target"] == {"threshold_s": 30, "percent": 90.0}
    assert queue["required_skills"] == {"reclamaciones": 2}
    assert queue["overflow"]["queue"] == "atencion" and queue["overflow"]["after_s"] == 90
    shot(page, "admin-queues")

    # an agent gets the new skill at level 3 and the new queue
    page.get_by_role("link", name="Agentes").click()
    page.get_by_role("button", name="Editar Marta Ruiz Delgado").click()
    form = page.locator("#agents-form")
    form.get_by_label("Reclamaciones", exact=True).select_option("3")
    form.get_by_role("checkbox", name="Reclamaciones web").check()
    shot(page, "admin-agent-form")
    form.get_by_role("button", name="Guardar").click()
    expect(page.get_by_text("Guardado.")).to_be_visible()
    agent = page.request.get(f"{site.url}/api/agents/marta.ruiz").json()
    assert agent["skills"]["reclamaciones"] == 3
    assert "reclamaciones" in [q["queue"] for q in agent["queues"]]

    # an API token: its secret shown once, then revoked after a confirmation
    page.get_by_role("link", name="Tokens de la API").click()
    page.get_by_role("button", name="+ Nuevo token").click()
    form = page.locator("#tokens-form")
    form.get_by_label("Nombre").fill("Integración CRM")
    form.get_by_role("button", name="Crear").click()
    secret = page.get_by_label("Secreto de Integración CRM")
    expect(secret).to_be_visible()
    assert len(secret.input_value()) > 20
    shot(page, "admin-token-secret")
    page.get_by_role("button", name="Revocar: Integración CRM").click()
    page.get_by_role("dialog").get_by_role("button", name="Revocar").click()
    expect(page.get_by_text("Revocado")).to_be_visible()
    expect(page.get_by_label("Secreto de Integración CRM")).to_have_count(0)
    [token] = [k for k in page.request.get(f"{site.url}/api/tokens").json() if k["name"] == "Integración CRM"]
    assert token["revoked_at"] is not None

    for section in ("agents", "users", "tokens", "reasons", "hours", "entry-points", "knowledge"):
        page.goto(f"{site.url}/admin#{section}")
        page.wait_for_load_state("networkidle")
        expect(page.locator("main table, main .card p.muted, main [data-section]").first).to_be_visible()
        assert serious_violations(page) == [], section
        shot(page, f"admin-{section}")
    articles = page.request.get(f"{site.url}/api/kb/articles").json()
    expect(page.locator("#articles-title ~ * table tbody tr, section:has(#articles-title) tbody tr")).to_have_count(
        len(articles)
    )


def test_admin_edits_checks_publishes_and_rolls_back_a_flow(
    site: Site, admin_context: BrowserContext, tmp_path: Path
) -> None:
    page = admin_context.new_page()
    login(page, site, "admin", "/admin")
    page.get_by_role("link", name="Flujos de contacto").click()
    expect(page.get_by_role("heading", name="Flujos de contacto")).to_be_visible()
    upload = tmp_path / "prueba_web.yaml"
    upload.write_text(BAD_FLOW)
    page.locator("#flow-file").set_input_files(str(upload))
    editor = page.locator("#flow-source")
    expect(editor).to_have_value(BAD_FLOW)

    page.get_by_role("button", name="Comprobar").click()
    problems = page.get_by_role("region", name="Problemas")
    expect(problems).to_contain_text("línea 6")
    expect(problems).to_contain_text("nadie")
    expect(page.locator('.gutter .ln.error[data-line="6"]')).to_be_visible()
    expect(page.locator(".gutter .ln.error")).to_have_count(1)
    problems.get_by_role("button").first.click()
    caret = page.evaluate("() => { const a = document.activeElement; return [a.id, a.selectionStart]; }")
    line6 = sum(len(line) + 1 for line in BAD_FLOW.split("\n")[:5])
    assert caret[0] == "flow-source" and line6 <= caret[1] < line6 + len(BAD_FLOW.split("\n")[5])
    shot(page, "admin-flow-error")
    assert serious_violations(page) == []

    fixed = BAD_FLOW.replace("queue: nadie", "queue: atencion")
    editor.fill(fixed)
    page.get_by_role("button", name="Comprobar").click()
    expect(page.get_by_text("Sin errores: listo para publicar.")).to_be_visible()
    expect(page.locator(".gutter .ln.error")).to_have_count(0)
    page.get_by_role("button", name="Publicar").click()
    expect(page.get_by_text("Publicada la versión 1 de prueba_web.")).to_be_visible()

    editor.fill(fixed.replace("tts:Hola", "tts:Buenas tardes"))
    page.get_by_role("button", name="Publicar").click()
    expect(page.get_by_text("Publicada la versión 2 de prueba_web.")).to_be_visible()
    expect(page.get_by_text("Versión actual: 2 de 2")).to_be_visible()
    graph = page.get_by_role("img", name="Flujo prueba_web, versión 2: 3 nodos")
    expect(graph).to_be_visible()
    expect(graph.locator("g.node")).to_have_count(3)
    shot(page, "admin-flow-v2")

    page.get_by_role("button", name="Volver a la v1").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("¿Volver a hacer actual la versión 1 de prueba_web?")
    dialog.get_by_role("button", name="Volver a esta versión").click()
    expect(page.get_by_text("La versión 1 vuelve a ser la actual.")).to_be_visible()
    expect(page.get_by_text("Versión actual: 1 de 2")).to_be_visible()
    expect(editor).to_have_value(fixed)
    [listed] = [f for f in page.request.get(f"{site.url}/api/flows").json() if f["code"] == "prueba_web"]
    assert (listed["current_version"], listed["versions"]) == (1, 2)
    shot(page, "admin-flow-rolled-back")
    page.get_by_role("button", name="Ver la versión 2").click()
    expect(editor).to_have_value(fixed.replace("tts:Hola", "tts:Buenas tardes"))
    expect(page.get_by_text("Texto de prueba_web, versión 2")).to_be_visible()

    page.get_by_role("button", name="banco_entrada").click()
    expect(page.get_by_role("img", name="Flujo banco_entrada, versión 1", exact=False)).to_be_visible()
    shot(page, "admin-flow-banco-entrada")


def test_an_agent_is_turned_away(site: Site, context: BrowserContext) -> None:
    page = context.new_page()
    login(page, site, "lucia.martin", "/agent")
    page.goto(f"{site.url}/admin")
    expect(page.get_by_role("alert")).to_contain_text("Tu rol no puede abrir esta página")
    expect(page.get_by_role("navigation", name="Administración")).to_have_count(0)
    assert page.request.get(f"{site.url}/api/users").status == 403
    assert page.request.get(f"{site.url}/api/flows").status == 403
    shot(page, "admin-agent-refused")

"""The Reports area (/reports) in chromium: a supervisor picks last month's KPIs by queue and sees the table (the
API's figures, in percent and durations) and the chart, sorts a column from the keyboard, draws them per day
(uPlot), sees a bad range refused with its field marked, switches to a business report (stacked shares), groups
it by its own option and downloads its CSV; no serious or critical accessibility violation (axe-core); an agent
is turned away; English too. Screenshots in tests/browser/artifacts/reports-*.png.

This module's site holds 62 days of demo history (the shared one holds a day), so last month is always whole."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import zoneinfo
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.axe import serious_violations
from tests.browser.conftest import Site, login, serve_demo, shot

HISTORY_DAYS = 62  # last month, whole, whatever today is


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    yield from serve_demo(tmp_path_factory, "reports-site", HISTORY_DAYS)


def _last_month() -> tuple[dt.date, dt.date]:
    today = dt.datetime.now(zoneinfo.ZoneInfo("Europe/Madrid")).date()
    last = today.replace(day=1) - dt.timedelta(days=1)
    return last.replace(day=1), last


def _settled(page: Page) -> None:
    """The answer to the last question is drawn (nothing in flight)."""
    expect(page.locator("section.report-result[aria-busy='false']")).to_be_attached(timeout=20_000)


def test_supervisor_reads_kpis_and_a_business_report(site: Site, context: BrowserContext) -> None:
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    login(page, site, "supervisor", "/reports")
    expect(page.get_by_role("heading", name="Informes", exact=True)).to_be_visible()
    expect(page.get_by_test_id("timezone")).to_have_text("Días y horas del centro de contacto: Europe/Madrid")
    # reachable from the other pages' top bar
    expect(page.get_by_role("navigation", name="Páginas").get_by_role("link", name="Informes")).to_have_attribute(
        "aria-current", "page"
    )

    # last month's KPIs by queue, over the whole month
    first, last = _last_month()
    page.get_by_label("Informe", exact=True).select_option(label="Indicadores (KPI)")
    page.get_by_role("button", name="Mes pasado").click()
    expect(page.get_by_role("button", name="Mes pasado")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_label("Desde")).to_have_value(first.isoformat())
    expect(page.get_by_label("Hasta")).to_have_value(last.isoformat())
    page.get_by_label("Intervalo").select_option(label="Todo el periodo")
    page.get_by_role("checkbox", name="cola", exact=True).check()
    _settled(page)
    expect(page).to_have_url(f"{site.url}/reports?report=kpis&from={first}&to={last}&by=queue&interval=")

    # the table holds the API's figures, in percent and durations
    answer = page.request.get(f"{site.url}/api/reports/kpis?from={first}&to={last}&by=queue")
    assert answer.ok, answer.text()
    groups = {g["queue"]: g for g in answer.json()["groups"]}
    atencion = groups["atencion"]
    assert atencion["offered"] > 10
    table = page.locator(".report-table table")
    row = table.locator("tbody tr", has=page.locator("th", has_text="atencion"))
    expect(row).to_have_count(1)
    cells = row.locator("td")
    expect(cells.nth(0)).to_have_text(str(atencion["offered"]))  # ofrecidos
    sl = cells.nth(4).inner_text()  # nivel de servicio: percent with a decimal comma
    assert sl.endswith(" %") and abs(float(sl[:-2].replace(",", ".")) - 100 * atencion["service_level"]) <= 0.05
    expect(table.locator("tbody tr")).to_have_count(len(groups))
    chart = page.get_by_role("figure", name="Ofrecidos por cola")
    expect(chart).to_be_visible()
    expect(chart.locator("li", has_text="atencion")).to_contain_text(str(atencion["offered"]))
    shot(page, "reports-kpis-by-queue")

    # sorted by a column from the keyboard: Enter on its header's button, twice for descending
    offered = table.locator("thead th", has=page.locator("button[data-column='offered']"))
    page.locator("button[data-column='offered']").focus()
    page.keyboard.press("Enter")
    expect(offered).to_have_attribute("aria-sort", "ascending")
    page.keyboard.press("Enter")
    expect(offered).to_have_attribute("aria-sort", "descending")
    most = max(groups.values(), key=lambda g: g["offered"])
    expect(table.locator("tbody tr").first.locator("td").first).to_have_text(str(most["offered"]))

    # per day: a line per queue (uPlot)
    page.get_by_label("Intervalo").select_option(label="día")
    _settled(page)
    expect(page.get_by_role("figure", name="Ofrecidos por día, por cola")).to_be_visible()
    expect(page.locator(".report-chart canvas")).to_have_count(1)
    page.get_by_label("Gráfico").select_option(label="nivel de servicio")
    expect(page.get_by_role("figure", name="Nivel de servicio por día, por cola")).to_be_visible()
    assert serious_violations(page) == [], json.dumps(serious_violations(page), ensure_ascii=False)
    shot(page, "reports-kpis-per-day")

    # a range the API refuses: said under the field, the field marked
    page.get_by_label("Desde").fill((last + dt.timedelta(days=1)).isoformat())
    expect(page.get_by_role("alert").first).to_contain_text("es anterior a from")
    expect(page.get_by_label("Hasta")).to_have_attribute("aria-invalid", "true")
    page.get_by_role("button", name="Mes pasado").click()
    _settled(page)
    expect(page.get_by_label("Hasta")).not_to_have_attribute("aria-invalid", "true")

    # a business report: contact reasons by segment, shares stacked
    page.get_by_label("Informe", exact=True).select_option(label="Motivos de contacto por segmento")
    _settled(page)
    expect(page.get_by_role("heading", name="Motivos de contacto por segmento")).to_be_visible()
    expect(page.get_by_role("figure", name=re.compile(r"^Parte del \w+ por segmento y motivo$"))).to_be_visible()
    headers = page.locator(".report-table thead th")
    expect(headers).to_have_text(["segmento", "motivo", "contactos", re.compile(r"^parte del ")])
    expect(page.get_by_label("Intervalo")).to_have_count(0)  # an option this report does not take
    # its own option: grouped by value tier instead of segment
    page.get_by_label("Agrupar por", exact=True).select_option(label="nivel de valor")
    _settled(page)
    expect(headers.first).to_have_text("nivel de valor")
    expect(page).to_have_url(re.compile(r"report=reason-mix&.*by=value_tier"))
    assert serious_violations(page) == [], json.dumps(serious_violations(page), ensure_ascii=False)
    shot(page, "reports-reason-mix")

    # its CSV: the same question as a download
    with page.expect_download() as got:
        page.get_by_role("link", name="Descargar CSV").click()
    download = got.value
    assert download.suggested_filename == f"reason-mix_{first}_{last}.csv"
    rows = list(csv.DictReader(Path(download.path()).read_text(encoding="utf-8").splitlines()))
    shown = page.request.get(f"{site.url}/api/reports/reason-mix?from={first}&to={last}&by=value_tier").json()["rows"]
    assert len(rows) == len(shown) > 3
    assert list(rows[0]) == ["value_tier", "reason", "contacts", "share"]
    assert sum(int(r["contacts"]) for r in rows) == sum(r["contacts"] for r in shown)
    assert errors == []


def test_in_english_and_whole_range_tiles(site: Site, context: BrowserContext) -> None:
    page = context.new_page()
    login(page, site, "admin", "/reports")
    page.evaluate("localStorage.setItem('centralita.lang', 'en')")
    first, last = _last_month()
    page.goto(f"{site.url}/reports?report=kpis&from={first}&to={last}&interval=")
    expect(page.get_by_role("heading", name="Reports", exact=True)).to_be_visible()
    _settled(page)
    tiles = page.get_by_role("group", name="Summary")
    expect(tiles).to_contain_text("service level")
    expect(page.get_by_role("button", name="Last month")).to_have_attribute("aria-pressed", "true")
    assert serious_violations(page) == []
    shot(page, "reports-english-summary")


def test_agents_are_turned_away(site: Site, context: BrowserContext) -> None:
    page = context.new_page()
    login(page, site, "lucia.martin", "/agent")
    expect(page.get_by_role("navigation", name="Páginas").get_by_role("link", name="Informes")).to_have_count(0)
    page.goto(f"{site.url}/reports")
    expect(page.get_by_role("alert")).to_contain_text("Tu rol no puede abrir esta página")
    assert page.request.get(f"{site.url}/api/reports").status == 403

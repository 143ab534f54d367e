"""CLI tables at 80 columns: every header and value readable (no word broken, no `…`), codes whole, labels in
the reader's language, local times, identities as `phone +34…`; `--json` keeps the codes."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.cells import cell_len
from rich.console import Console
from sqlalchemy import select

from centralita.agents.actions import do_change_agent_state, record_state
from centralita.agents.schemas import AgentStateChange
from centralita.cli.tables import Col, keep, layout, render, wrap
from centralita.core.actor import Actor
from centralita.core.clock import FakeClock
from centralita.core.settings import Settings
from centralita.events.bus import LocalBus
from centralita.service import Service
from centralita.store import tables as t
from centralita.store.db import Database
from tests.clirun import run_cli

# ---- the layout ---------------------------------------------------------------------------------------------


def _print(table: object, width: int) -> str:
    console = Console(width=width, color_system=None)
    with console.capture() as out:
        console.print(table)
    return out.get()


def test_codes_stay_whole_and_text_wraps_between_words() -> None:
    columns = [Col("code", "code", wrap=False), Col("text", "description of it")]
    rows = [{"code": "soporte_digital.acceso", "text": "una descripción bastante larga que no cabe en una línea"}]
    out = _print(render(columns, rows, 40), 40)
    lines = out.splitlines()
    assert all(cell_len(line) <= 40 for line in lines), out
    assert any(line.startswith("soporte_digital.acceso  una") for line in lines), out
    words = set(" ".join(lines).split())
    assert {"una", "descripción", "bastante", "larga", "línea", "description", "of", "it"} <= words, out


def test_kept_pieces_never_split() -> None:
    text = " ".join([keep("atencion ·"), keep("120 s ·"), keep("add ·"), keep("when unstaffed")])
    assert wrap(text, 16).splitlines() == ["atencion ·", "120 s · add ·", "when unstaffed"]
    for width in range(14, 40):
        wrapped = wrap(text, width)
        assert all(cell_len(line) <= width for line in wrapped.splitlines())
        assert "120 s" in wrapped and "when unstaffed" in wrapped and "atencion ·" in wrapped


def test_columns_that_matter_least_go_first_and_are_named() -> None:
    columns = [
        Col("code", "code", wrap=False),
        Col("a", "alpha", drop=1),
        Col("b", "beta", drop=3),
        Col("c", "gamma", drop=2),
    ]
    cells = [["x" * 20, "a" * 20, "b" * 20, "c" * 20]]
    assert layout(columns, cells, 200).shown == [0, 1, 2, 3]
    narrow = layout(columns, cells, 66)
    assert narrow.shown == [0, 1, 3] and narrow.hidden == [2]  # beta first, then gamma, then alpha
    assert layout(columns, cells, 44).shown == [0, 1] and layout(columns, cells, 30).shown == [0]
    out = _print(render(columns, [dict(zip(["code", "a", "b", "c"], row, strict=True)) for row in cells], 66), 66)
    assert "Not shown at this width: beta" in out


def test_spare_room_goes_where_it_saves_lines() -> None:
    columns = [Col("a", "a"), Col("b", "b")]
    cells = [["one two three four five six", "x y"]]
    plan = layout(columns, cells, 20)
    assert plan.widths[0] + plan.widths[1] + 2 <= 20 and plan.widths[1] == 3  # the long text gets the room


# ---- the commands, on the demo contact center ---------------------------------------------------------------

WIDTH = 80


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The demo bank (30 customers) with three agents at work: one available, one away, one that missed offers."""
    path = tmp_path_factory.mktemp("tables")
    code, _out, err = run_cli(path, "demo", "--customers", "30", "--password", "una clave larga")
    assert code == 0, err
    url = f"sqlite:///{path / 'cli.db'}"
    bus = LocalBus()
    clock = FakeClock()
    svc = Service(
        settings=Settings(data_dir=path / "data", database_url=url), db=Database(url, bus=bus), bus=bus, clock=clock
    )
    with svc.db.write() as s:
        tenant = s.scalar(select(t.Tenant).where(t.Tenant.slug == "demo"))
        assert tenant is not None
        actor = Actor(tenant_id=tenant.id, role="admin", username="test", clock=clock)
        agents = {a.code: a for a in s.scalars(select(t.Agent).where(t.Agent.tenant_id == tenant.id))}
        do_change_agent_state(s, actor, agents["laura.moreno"], AgentStateChange(state="available"))
        do_change_agent_state(s, actor, agents["marta.ruiz"], AgentStateChange(state="away", away_reason="comida"))
        do_change_agent_state(s, actor, agents["ivan.gil"], AgentStateChange(state="available"))
        record_state(s, actor, agents["ivan.gil"], "missed", None)  # as routing does after unanswered offers
    svc.close()
    yield path


def readable(out: str, headers: list[str], width: int = WIDTH) -> list[str]:
    """Check a table printed in `width` columns: no line wider, nothing cut short (`…`), and every header's
    words whole in the header lines (above the rule). Returns the lines."""
    lines = out.splitlines()
    assert all(cell_len(line) <= width for line in lines), out
    assert "…" not in out, out
    rule = next(i for i, line in enumerate(lines) if line.startswith("─"))
    header_words = " ".join(lines[:rule]).split()
    for header in headers:
        for word in header.split():
            assert word in header_words, f"header {header!r} broken:\n{out}"
    return lines


def test_queues_es_at_80_columns(demo: Path) -> None:
    code, out, err = run_cli(demo, "queues", lang="es", width=WIDTH)
    assert code == 0, err
    readable(out, ["código", "nombre", "selección de agente", "objetivo NS", "desborde"])
    for queue in ("atencion", "cobros", "premium", "soporte-digital", "ventas"):
        assert re.search(rf"^{queue}\s", out, re.M), out  # codes whole, at the start of their row
    assert "80 % ≤ 20 s" in out and "90 % ≤ 10 s" in out
    assert "atencion ·" in out and "60 s ·" in out and "añadir ·" in out and "sin personal" in out
    # (six demo queues since the 24-hour card line: "más tiempo libre" wraps between its words here)
    assert "más tiempo" in out and "más habilidad," in out
    assert "longest_idle" not in out and " add" not in out  # no codes in a Spanish table
    assert "No caben a este ancho: canales" in out and "horario" in out  # what did not fit is named
    code, out, _err = run_cli(demo, "queues", lang="es", width=200)  # all of it in a wide terminal
    assert "canales" in out and "voz, chat, correo" in out and "voice" not in out
    assert "más tiempo libre" in out
    assert "prioridad estricta" in out and "prioridad con antigüedad" in out and "prioridad por segmento" in out
    assert "No caben" not in out


def test_queues_en_and_json(demo: Path) -> None:
    code, out, err = run_cli(demo, "queues", width=WIDTH)
    assert code == 0, err
    readable(out, ["code", "name", "agent selection", "SL target", "overflow"])
    assert "longest idle" in out and "add ·" in out and "when unstaffed" in out and "80 % ≤ 20 s" in out
    code, out, _err = run_cli(demo, "queues", "--json", lang="es", width=WIDTH)
    queues = {q["code"]: q for q in json.loads(out)}
    assert queues["premium"]["agent_selection"] == "skill_then_longest_idle"
    assert queues["premium"]["channels"] == ["voice", "chat", "email"]
    assert queues["premium"]["overflow"]["mode"] == "add" and queues["atencion"]["priority_mode"] == "aged"


def test_agents_states_in_words(demo: Path) -> None:
    code, out, err = run_cli(demo, "agents", lang="es", width=WIDTH)
    assert code == 0, err
    lines = readable(out, ["código", "nombre", "estado", "colas"])
    assert "No caben a este ancho: habilidades" in out
    row = {line.split()[0]: line for line in lines if line and not line.startswith(" ")}
    assert "disponible" in row["laura.moreno"] and "ausente" in row["marta.ruiz"] and "(Comida)" in out
    assert "ofertas perdidas" in row["ivan.gil"] and "sin conexión" in row["david.sanchez"]  # terms unbroken
    assert "offline" not in out and "missed" not in out
    assert "atencion (reserva 1)" in out  # a reserve queue says so
    code, out, _err = run_cli(demo, "agents", width=WIDTH)
    assert "away" in out and "(Lunch)" in out and "missed offers" in out and "offline" in out and "available" in out
    code, out, _err = run_cli(demo, "agents", "--json", lang="es")
    states = {a["code"]: a["state"] for a in json.loads(out)}
    assert states["ivan.gil"] == "missed" and states["marta.ruiz"] == "away" and states["david.sanchez"] == "offline"


def test_customer_identities_as_kind_then_value(demo: Path) -> None:
    code, out, _err = run_cli(demo, "customers", "show", "1", "--json")
    customer = json.loads(out)
    phone = next(i["value"] for i in customer["identities"] if i["kind"] == "phone")
    email = next(i["value"] for i in customer["identities"] if i["kind"] == "email")
    code, out, err = run_cli(demo, "customers", "show", "1", lang="es", width=WIDTH)
    assert code == 0, err
    assert f"teléfono {phone}" in out and f"correo {email}" in out
    assert "kind" not in out and "{" not in out and "…" not in out
    assert all(cell_len(line) <= WIDTH for line in out.splitlines())
    code, out, err = run_cli(demo, "customers", "lookup", "--phone", phone, width=WIDTH)
    assert code == 0, err
    assert f"Customer (found by phone {phone})" in out and f"email {email}" in out
    assert "Open cases" in out and "Last contacts" in out
    readable(out[out.index("Last contacts") :], ["id", "started", "channel", "disposition"])


def test_customers_list_contacts_cases_events_reasons_hours_status_es(demo: Path) -> None:
    tables = {
        ("customers", "list"): ["id", "nombre", "segmento", "nivel de valor", "etapa", "valor de vida"],
        ("contacts",): ["id", "inicio", "canal", "estado", "cola"],
        ("cases",): ["referencia", "asunto", "estado", "creado"],
        ("events", "--after", "1000", "--limit", "20"): ["n.º", "fecha", "tipo", "sobre"],
        ("reasons",): ["código", "nombre", "grupo", "evitable"],
        ("hours",): ["código", "nombre", "zona horaria", "ahora"],
    }
    for args, headers in tables.items():
        code, out, err = run_cli(demo, *args, lang="es", width=WIDTH)
        assert code == 0, err
        readable(out, headers)
    code, out, _err = run_cli(demo, "contacts", lang="es", width=WIDTH)
    assert "cerrado" in out and re.search(r"\b(voz|chat|correo)\b", out) and "closed" not in out
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", out) and "Hora local de Europe/Madrid." in out
    code, out, _err = run_cli(demo, "cases", lang="es", width=WIDTH)
    assert re.search(r"\b(abierto|pendiente|resuelto|cerrado)\b", out) and not re.search(r"\b(open|resolved)\b", out)
    assert re.search(r"^[A-Z0-9]{3}-[A-Z0-9]{3}\s", out, re.M)  # references whole
    code, out, _err = run_cli(demo, "hours", lang="es", width=WIDTH)
    assert re.search(r"\b(abierto|cerrado|festivo)\b", out)
    code, out, _err = run_cli(demo, "customers", "list", lang="es", width=WIDTH)
    assert re.search(r"\b(activo|nuevo|en riesgo|inactivo|potencial)\b", out) and "at_risk" not in out
    code, out, _err = run_cli(demo, "status", lang="es", width=WIDTH)
    assert re.search(r"^clientes\s+30\b", out, re.M) and re.search(r"^centro de contacto\s+demo\b", out, re.M)
    code, out, _err = run_cli(demo, "reasons", lang="es", width=WIDTH)
    assert re.search(r"^  bloqueo_tarjeta\.robo\s+Robo\b", out, re.M)  # a sub-reason under its parent
    code, out, _err = run_cli(demo, "contacts", "--json", lang="es")
    assert {c["status"] for c in json.loads(out)} == {"closed"} and {c["channel"] for c in json.loads(out)} <= {
        "voice",
        "chat",
        "email",
    }


def test_a_very_narrow_terminal_keeps_codes_whole(demo: Path) -> None:
    code, out, err = run_cli(demo, "queues", lang="es", width=40)
    assert code == 0, err
    readable(out, ["código", "selección de agente", "objetivo NS"], width=40)
    assert re.search(r"^soporte-digital\s", out, re.M) and "80 % ≤ 30 s" in out
    assert "desborde" in out.split("─")[-1]  # named among the columns left out
    code, out, err = run_cli(demo, "customers", "show", "1", width=40)
    assert code == 0 and all(cell_len(line) <= 40 for line in out.splitlines()), out


def test_nothing_to_show(demo: Path) -> None:
    code, out, _err = run_cli(demo, "contacts", "--channel", "sms", lang="es")
    assert code == 0 and out.strip() == "Nada que mostrar."


def test_filters_take_the_code_or_the_words_shown(demo: Path) -> None:
    """A Spanish table says `cerrado` and `voz`: typing what it shows filters like the code does."""
    _c, by_code, _e = run_cli(demo, "cases", "--status", "closed", "--json", lang="es")
    _c, by_words, _e = run_cli(demo, "cases", "--status", "Cerrado", "--json", lang="es")
    assert json.loads(by_code) and json.loads(by_words) == json.loads(by_code)
    assert {c["status"] for c in json.loads(by_words)} == {"closed"}
    _c, by_code, _e = run_cli(demo, "contacts", "--channel", "voice", "--json", lang="es")
    _c, by_words, _e = run_cli(demo, "contacts", "--channel", "voz", "--json", lang="es")
    assert json.loads(by_code) and json.loads(by_words) == json.loads(by_code)
    code, _out, err = run_cli(demo, "cases", "--status", "nada", lang="es")
    assert code == 2 and "--status" in err and "pending (pendiente)" in err
    code, _out, err = run_cli(demo, "contacts", "--channel", "fax")
    assert code == 2 and "--channel" in err and "voice" in err

"""Configuration as code: check, apply (idempotent, all-or-nothing, --prune), export round trip, the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from centralita.agents.actions import do_update_agent
from centralita.agents.queries import agent_public
from centralita.agents.schemas import AgentUpdate
from centralita.configuration import plan as plan_module
from centralita.configuration.document import ConfigDocument, check
from centralita.configuration.export import export_config, export_document
from centralita.configuration.plan import Plan, do_apply_config
from centralita.configuration.state import read_current
from centralita.core.actor import Actor
from centralita.core.errors import InvalidInput
from centralita.core.located_yaml import load_yaml
from centralita.entrypoints.queries import active_functions, find_entry_point
from centralita.events.log import last_seq, read_events
from centralita.flowstore.actions import do_publish_flow
from centralita.queues.actions import do_update_queue
from centralita.queues.queries import queue_public, reason_public
from centralita.queues.schemas import Overflow, QueueUpdate
from centralita.service import Service
from centralita.store import tables as t
from centralita.store.lookup import get_by_code
from tests.clirun import run_cli as _cli
from tests.factories import World, make_world
from tests.flows.test_flowstore import FLOW

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "banco.yaml"
BANCO = EXAMPLE.read_text(encoding="utf-8")


def _apply(service: Service, world: World, text: str, source: str = "banco.yaml", **kw: Any) -> Plan:
    with service.db.write() as s:
        return do_apply_config(s, world.admin, text, source, **kw)


def _seq(service: Service, world: World) -> int:
    with service.db.read() as s:
        return last_seq(s, world.tenant_id)


def _counts(service: Service, world: World) -> dict[str, Any]:
    """Row counts and the active flags of everything a configuration file can touch."""
    out: dict[str, Any] = {}
    with service.db.read() as s:
        for model in (t.Skill, t.AwayReason, t.HoursCalendar, t.Queue, t.ReasonGroup, t.Reason, t.Agent, t.Event):
            out[model.__tablename__] = s.scalar(
                select(func.count()).select_from(model).where(model.tenant_id == world.tenant_id)
            )
        out["agent_skills"] = s.scalar(select(func.count()).select_from(t.AgentSkill))
        out["agent_queues"] = s.scalar(select(func.count()).select_from(t.AgentQueue))
        out["seq"] = last_seq(s, world.tenant_id)
        out["export"] = export_config(s, world.tenant_id)
    return out


# --- the YAML loader -----------------------------------------------------------------------------------------------


def test_loader_keeps_positions_and_reports_duplicates() -> None:
    text = "a: 1\nb:\n  - {c: 2025-12-25, d: '08:00'}\n  - x: yes\n    x: no\na: 2\n"
    loaded = load_yaml(text, "f.yaml")
    assert loaded.data == {"a": 1, "b": [{"c": "2025-12-25", "d": "08:00"}, {"x": "yes"}]}  # YAML 1.2, dates as text
    assert loaded.position(("b", 0, "d")) == (3, 24)  # a scalar: where its value starts
    assert loaded.position(("b", 1, "x"), at_key=True) == (4, 5)
    assert loaded.position(("b", 1, "missing")) == (4, 5)  # falls back to the enclosing item
    assert [str(e) for e in loaded.errors] == [
        "f.yaml:5:5: b.1.x: duplicate key 'x' (first at line 4)",
        "f.yaml:6:1: a: duplicate key 'a' (first at line 1)",
    ]


def test_loader_reports_syntax_errors_with_line_and_column() -> None:
    loaded = load_yaml("skills:\n  - code: a\n   name: b\n", "f.yaml")
    assert loaded.data is None
    [error] = loaded.errors
    assert (error.source, error.line) == ("f.yaml", 3)
    assert error.column is not None and str(error).startswith("f.yaml:3:")
    assert load_yaml("", "empty.yaml").data == {}


def test_loader_stops_an_alias_bomb() -> None:
    """Ten levels of ten aliases each would be 10^10 values: an error at once, not a hang or the memory gone."""
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]" for n in range(1, 10)]
    loaded = load_yaml("\n".join(levels) + "\n", "bomb.yaml")
    assert loaded.data is None
    assert [str(e) for e in loaded.errors] == [
        "bomb.yaml:1:1: the document expands to more than 200000 values (aliases?)"
    ]


def test_loader_points_inside_a_scalar() -> None:
    text = 'n:\n  a: "vars.x == 1"\n  b: vars.y   +  zz\n  c: >\n    vars.a AND\n    foo(1)\n'
    loaded = load_yaml(text, "f.yaml")
    assert loaded.position_in(("n", "a"), 10, "1") == (2, 17)  # inside the quotes
    assert loaded.position_in(("n", "b"), 12, "zz") == (3, 18)
    assert loaded.position_in(("n", "c"), 11, "foo") == (6, 5)  # a folded scalar: found on its own line
    assert loaded.position_in(("n", "c"), 11, "nowhere") == (4, 6)  # not found: the scalar itself


def test_check_an_empty_or_unknown_document() -> None:
    assert check("", "empty.yaml").ok
    assert check("version: 1\nskills: []\nqueues:\n", "f.yaml").ok
    errors = [str(e) for e in check("- a\n", "f.yaml").errors]
    assert errors == [
        "f.yaml:1:1: the file must be a mapping with sections: " + ", ".join(ConfigDocument.model_fields)[9:]
    ]
    errors = [str(e) for e in check("version: 2\nqueue: []\nskills: {a: 1}\n", "f.yaml").errors]
    assert errors[0] == "f.yaml:1:10: version: unsupported version 2; this Centralita reads version 1"
    assert errors[1].startswith("f.yaml:2:1: queue: unknown section 'queue'")
    assert errors[2] == "f.yaml:3:1: skills: skills must be a list of items, each with a code"


def test_check_duplicates_and_references_within_the_file() -> None:
    text = """\
skills:
  - {code: a, name: A}
  - {code: a, name: Otra}
queues:
  - {code: q, name: Q, overflow: {queue: q, after_s: 5}}
  - {code: r, name: R, overflow: {queue: q}}
agents:
  - {code: x, name: X, skills: {a: 1}, queues: [{queue: q}, {queue: q, rank: 2}]}
reason_groups:
  - {code: g, name_es: G, name_en: G}
  - {code: h, name_es: H, name_en: H}
reasons:
  - {code: p, group: g, name_es: P, name_en: P}
  - {code: s, group: g, parent: p, name_es: S, name_en: S}
  - {code: ss, group: g, parent: s, name_es: SS, name_en: SS}
  - {code: o, group: h, parent: p, name_es: O, name_en: O}
  - {code: self, group: g, parent: self, name_es: Y, name_en: Y}
  - {code: lost, group: g, parent: nadie, name_es: L, name_en: L}
"""
    assert [str(e) for e in check(text, "f.yaml").errors] == [
        "f.yaml:3:12: skills.1.code: 'a' is defined twice (first at line 2)",
        "f.yaml:5:42: queues.0.overflow.queue: a queue cannot overflow to itself",
        "f.yaml:6:24: queues.1.overflow: set after_s, when_unstaffed, or both",
        "f.yaml:8:69: agents.0.queues.1.queue: queue 'q' is listed twice",
        "f.yaml:15:34: reasons.2.parent: 's' is itself a sub-reason; the taxonomy has two levels",
        "f.yaml:16:22: reasons.3.group: a sub-reason must be in its parent's group 'g'",
        "f.yaml:17:36: reasons.4.parent: a reason cannot be its own parent",
        "f.yaml:18:36: reasons.5.parent: unknown reason 'nadie'",
    ]


def test_the_example_checks_on_its_own() -> None:
    checked = check(BANCO, "banco.yaml")
    assert checked.ok, [str(e) for e in checked.errors]
    doc = checked.document()
    assert len(doc.queues) == 6 and len(doc.agents) == 5 and doc.reasons[1].parent == "bloqueo"


# --- apply ---------------------------------------------------------------------------------------------------------


def test_apply_creates_everything(service: Service) -> None:
    world = make_world(service, "norte")
    before = _seq(service, world)
    plan = _apply(service, world, BANCO)
    assert plan.applied
    counts = plan.counts()
    # the world already has skill banca (renamed here) and away reason descanso (same)
    assert counts == {"create": 33, "update": 1, "deactivate": 0, "unchanged": 1}
    assert [(s.kind, s.code, s.fields) for s in plan.steps if s.action == "update"] == [("skills", "banca", ["name"])]
    with service.db.read() as s:
        particulares = queue_public(s, get_by_code(s, t.Queue, world.tenant_id, "particulares"))  # type: ignore[arg-type]
        assert particulares.hours == "oficina"
        assert particulares.overflow == {"queue": "general", "after_s": 120, "when_unstaffed": False, "mode": "add"}
        assert particulares.sl_target.threshold_s == 20 and particulares.priority_mode == "aged"
        assert particulares.segment_priority == {"premium": 10, "particulares": 0}
        marta = agent_public(s, get_by_code(s, t.Agent, world.tenant_id, "marta.lopez"))  # type: ignore[arg-type]
        assert marta.skills == {"banca": 3, "hipotecas": 5}
        assert [(q.queue, q.rank, q.reserve) for q in marta.queues] == [("hipotecas", 1, None), ("particulares", 2, 1)]
        assert marta.capacity == {"voice": 1, "email": 6} and marta.acw_timeout_s == 120
        robo = reason_public(s, get_by_code(s, t.Reason, world.tenant_id, "bloqueo.robo"))  # type: ignore[arg-type]
        assert (robo.group, robo.parent) == ("tarjetas", "bloqueo")
        oficina = get_by_code(s, t.HoursCalendar, world.tenant_id, "oficina")
        assert oficina is not None and len(oficina.weekly) == 6 and oficina.overrides[3]["closed"] is False
        siempre = get_by_code(s, t.HoursCalendar, world.tenant_id, "siempre")
        assert siempre is not None and siempre.timezone == "Europe/Madrid"  # the contact center's zone
        events = read_events(s, world.tenant_id, after_seq=before)
    types = [e.type for e in events]
    assert types.count("queue.created") == 6 and types.count("agent.created") == 5
    assert types.count("reason.created") == 3 + 9 and types[-1] == "config.applied"
    assert events[-1].data["source"] == "banco.yaml"
    assert events[-1].data["summary"]["queues"] == {"create": 6, "update": 0, "deactivate": 0, "unchanged": 0}
    assert "queue.updated" not in types  # forward overflow targets need no second write


def test_apply_twice_changes_nothing(service: Service) -> None:
    world = make_world(service, "norte")
    _apply(service, world, BANCO)
    before = _counts(service, world)
    plan = _apply(service, world, BANCO)
    assert not plan.changed and not plan.applied
    assert plan.counts()["unchanged"] == 35
    assert _counts(service, world) == before


def test_apply_updates_only_what_changed(service: Service) -> None:
    world = make_world(service, "norte")
    _apply(service, world, BANCO)
    seq = _seq(service, world)
    edited = (
        BANCO.replace("name: Hipotecas\n", "name: Hipotecas y préstamos\n")
        .replace(
            "skills: {banca: 2}\n    queues:\n      - {queue: general}",
            "skills: {banca: 3}\n    queues:\n      - {queue: general}",
        )
        .replace("name_es: Comida, name_en: Lunch}", "name_es: Almuerzo, name_en: Lunch}")
        .replace("{code: cuentas, name_es: Cuentas,", "{code: cuentas, name_es: Cuentas corrientes,")
    )
    plan = _apply(service, world, edited)
    changed = {(s.kind, s.code): s.fields for s in plan.steps if s.action != "unchanged"}
    assert changed == {
        ("away_reasons", "comida"): ["name_es"],
        ("queues", "hipotecas"): ["name"],
        ("reason_groups", "cuentas"): ["name_es"],
        ("agents", "sofia.ruiz"): ["skills"],
    }
    with service.db.read() as s:
        events = read_events(s, world.tenant_id, after_seq=seq)
    assert [e.type for e in events] == [
        "away_reason.updated",
        "queue.updated",
        "reason.updated",
        "agent.updated",
        "config.applied",
    ]
    assert events[1].data["changes"] == {"name": ["Hipotecas", "Hipotecas y préstamos"]}
    assert not _apply(service, world, edited).changed


def test_a_bad_file_reports_every_problem_and_changes_nothing(service: Service) -> None:
    world = make_world(service, "norte")
    _apply(service, world, BANCO)
    before = _counts(service, world)
    bad = """\
version: 1
skills:
  - {code: seguros, name: Seguros}
queues:
  - code: ventas
    name: Ventas
    sl_target: {threshold_s: veinte}
    required_skills: {seguros: 2, inexistente: 3}
    overflow: {queue: general, after_s: 30}
    overflow: {queue: otra}
  - code: vip
    name: VIP
    hours: nocturno
agents:
  - code: pepe
    name: Pepe Pérez
    skills: {seguros: 7}
    queues:
      - {queue: ventas}
      - {queue: fantasma, rank: 2}
  - code: ana.garcia
    name: Ana García
    skills: {banca: 5}
reasons:
  - {code: bloqueo.robo, group: cuentas, parent: bloqueo, name_es: Robo, name_en: Theft}
  - {code: nuevo, group: inexistente, name_es: Nuevo, name_en: New}
"""
    with pytest.raises(InvalidInput) as info, service.db.write() as s:
        do_apply_config(s, world.admin, bad, "malo.yaml")
    errors = [str(e) for e in info.value.errors]
    assert errors == [
        "malo.yaml:7:30: queues.0.sl_target.threshold_s: must be a whole number",
        "malo.yaml:8:35: queues.0.required_skills.inexistente: unknown skill 'inexistente'",
        "malo.yaml:10:5: queues.0.overflow: duplicate key 'overflow' (first at line 9)",
        "malo.yaml:13:12: queues.1.hours: unknown hours calendar 'nocturno'",
        "malo.yaml:17:5: agents.0.skills: skill 'seguros': level must be 1..5 (5 = most proficient)",
        "malo.yaml:20:17: agents.0.queues.1.queue: unknown queue 'fantasma'",
        "malo.yaml:25:33: reasons.0.group: a sub-reason must be in its parent's group 'tarjetas'",
        "malo.yaml:25:33: reasons.0.group: reason 'bloqueo.robo' has group 'tarjetas'; an existing reason cannot "
        "move (create a new code and deactivate this one)",
        "malo.yaml:26:26: reasons.1.group: unknown reason group 'inexistente'",
    ]
    assert info.value.detail == "malo.yaml: 9 problems; nothing was changed"
    assert _counts(service, world) == before


def test_segments_are_checked_against_the_contact_center(service: Service) -> None:
    world = make_world(service, "norte")
    text = "queues:\n  - code: q\n    name: Q\n    segment_priority: {premium: 5, otro: 1}\n"
    with pytest.raises(InvalidInput) as info, service.db.write() as s:
        do_apply_config(s, world.admin, text, "seg.yaml")
    assert [str(e) for e in info.value.errors] == [
        "seg.yaml:4:36: queues.0.segment_priority.otro: unknown segment 'otro'"
    ]


def test_an_action_error_is_placed_in_the_file_and_rolls_everything_back(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A problem only an action finds still names the item's line, and nothing of the file stays."""
    world = make_world(service, "norte")
    before = _counts(service, world)

    def refuse(*_args: object) -> None:
        raise InvalidInput.field(["overflow", "after_s"], "refused by the action")

    monkeypatch.setattr(plan_module, "do_create_queue", refuse)
    text = "skills:\n  - {code: nueva, name: Nueva}\nqueues:\n  - code: q\n    name: Q\n    overflow:\n"
    text += "      queue: atencion\n      after_s: 30\n"
    with pytest.raises(InvalidInput) as info, service.db.write() as s:
        do_apply_config(s, world.admin, text, "q.yaml")
    assert [str(e) for e in info.value.errors] == ["q.yaml:8:16: queues.0.overflow.after_s: refused by the action"]
    assert "could not be applied" in info.value.detail
    assert _counts(service, world) == before


def test_overflow_cycles_between_new_queues(service: Service) -> None:
    world = make_world(service, "norte")
    text = """\
queues:
  - {code: a, name: A, overflow: {queue: b, after_s: 60}}
  - {code: b, name: B, overflow: {queue: a, when_unstaffed: true}}
  - {code: c, name: C, overflow: {queue: a, after_s: 10, mode: move}}
"""
    plan = _apply(service, world, text)
    assert plan.counts()["create"] == 3
    with service.db.read() as s:
        overflows = {
            code: (get_by_code(s, t.Queue, world.tenant_id, code) or t.Queue()).overflow for code in ("a", "b", "c")
        }
    assert overflows["a"] == {"queue": "b", "after_s": 60, "when_unstaffed": False, "mode": "add"}
    assert overflows["b"] == {"queue": "a", "after_s": None, "when_unstaffed": True, "mode": "add"}
    assert overflows["c"] == {"queue": "a", "after_s": 10, "when_unstaffed": False, "mode": "move"}
    assert not _apply(service, world, text).changed


def test_dry_run_plans_without_writing(service: Service) -> None:
    world = make_world(service, "norte")
    before = _counts(service, world)
    with service.db.read() as s:
        plan = do_apply_config(s, world.admin, BANCO, "banco.yaml", dry_run=True, prune=True)
    assert plan.counts() == {"create": 33, "update": 1, "deactivate": 4, "unchanged": 1}
    assert not plan.applied
    assert _counts(service, world) == before


def test_prune_deactivates_what_is_not_in_the_file(service: Service) -> None:
    world = make_world(service, "norte")
    _apply(service, world, BANCO)
    seq = _seq(service, world)
    smaller = BANCO.replace("  - {code: saldo", "  - {code: saldo").split("\nagents:\n")[0] + "\n"
    smaller = smaller.replace(
        "  - code: saldo\n    group: cuentas\n    name_es: Consulta de saldo\n    name_en: Balance enquiry\n"
        "    avoidable: true\n",
        "",
    )
    plan = _apply(service, world, smaller, prune=True)
    deactivated = sorted((s.kind, s.code) for s in plan.steps if s.action == "deactivate")
    assert deactivated == sorted(
        [("queues", "atencion"), ("queues", "cobros"), ("reasons", "saldo")]
        + [("agents", c) for c in ("ana", "ana.garcia", "jordi.puig", "luis", "luis.martinez", "marta.lopez")]
        + [("agents", "sofia.ruiz")]
    )
    with service.db.read() as s:
        assert {a.code for a in s.scalars(select(t.Agent).where(t.Agent.tenant_id == world.tenant_id))} >= {"ana"}
        assert not any(a.active for a in s.scalars(select(t.Agent).where(t.Agent.tenant_id == world.tenant_id)))
        saldo = get_by_code(s, t.Reason, world.tenant_id, "saldo")
        assert saldo is not None and not saldo.active
        types = [e.type for e in read_events(s, world.tenant_id, after_seq=seq)]
    assert types.count("agent.deleted") == 7 and types.count("queue.deleted") == 2 and types[-1] == "config.applied"
    # pruning again changes nothing; applying the full file without --prune brings them back
    assert not _apply(service, world, smaller, prune=True).changed
    plan = _apply(service, world, BANCO)
    assert sorted(s.code for s in plan.steps if s.action == "update") == sorted(
        ["saldo", "ana.garcia", "jordi.puig", "luis.martinez", "marta.lopez", "sofia.ruiz"]
    )
    with service.db.read() as s:
        ana = get_by_code(s, t.Agent, world.tenant_id, "ana")
        assert ana is not None and not ana.active  # not in the file: left alone


# --- export ----------------------------------------------------------------------------------------------------------


def test_export_then_apply_is_a_no_op(service: Service) -> None:
    world = make_world(service, "norte")
    _apply(service, world, BANCO)
    with service.db.write() as s:  # changes made outside any file show up in the export
        admin: Actor = world.admin
        luis = get_by_code(s, t.Agent, world.tenant_id, "luis")
        assert luis is not None
        do_update_agent(s, admin, luis, AgentUpdate(attributes={"equipo": {"turno": "tarde"}}, max_occupancy=0.9))
        cobros = get_by_code(s, t.Queue, world.tenant_id, "cobros")
        assert cobros is not None
        do_update_queue(
            s, admin, cobros, QueueUpdate(overflow=Overflow(queue="general", after_s=45), channels=["voice"])
        )
    before = _counts(service, world)
    exported = before["export"]
    checked = check(exported, "export.yaml")
    assert checked.ok, [str(e) for e in checked.errors]
    plan = _apply(service, world, exported, "export.yaml")
    assert not plan.changed and plan.counts()["unchanged"] == 39
    assert _counts(service, world) == before
    # and into an empty contact center, the export rebuilds the same configuration
    other = make_world(service, "sur")
    _apply(service, other, exported, "export.yaml", prune=True)
    with service.db.read() as s:
        assert export_document(read_current(s, other.tenant_id)) == export_document(read_current(s, world.tenant_id))


def test_queue_overload_and_order_by_round_trip(service: Service) -> None:
    world = make_world(service, "norte")
    text = """\
queues:
  - code: ventas
    name: Ventas
    agent_selection: order_by
    order_by: [agent.antiguedad desc, agent.idiomas]
    overload: {metric: oldest_wait, level1_s: 30, level2_s: 90}
agents:
  - code: rosa
    name: Rosa
    attributes: {antiguedad: 7}
    queues:
      - {queue: ventas, reserve: 2}
"""
    assert _apply(service, world, text).changed
    with service.db.read() as s:
        ventas = get_by_code(s, t.Queue, world.tenant_id, "ventas")
        assert ventas is not None
        pub = queue_public(s, ventas)
        doc = export_document(read_current(s, world.tenant_id))
    assert pub.order_by == ["agent.antiguedad DESC", "agent.idiomas ASC"]
    assert pub.overload is not None and pub.overload.model_dump() == {
        "metric": "oldest_wait",
        "level1_s": 30,
        "level2_s": 90,
    }
    exported = {q["code"]: q for q in doc["queues"]}
    assert exported["ventas"] == {
        "code": "ventas",
        "name": "Ventas",
        "agent_selection": "order_by",
        "order_by": ["agent.antiguedad DESC", "agent.idiomas ASC"],
        "overload": {"metric": "oldest_wait", "level1_s": 30, "level2_s": 90},
    }
    assert "order_by" not in exported["atencion"] and "overload" not in exported["atencion"]
    assert {a["code"]: a for a in doc["agents"]}["rosa"]["queues"] == [{"queue": "ventas", "reserve": 2}]
    assert not _apply(service, world, text).changed  # the file as written and as normalised are the same
    before = _counts(service, world)
    plan = _apply(service, world, before["export"], "export.yaml")
    assert not plan.changed and _counts(service, world) == before
    # a changed threshold is one update; dropping overload clears it
    changed = text.replace("level1_s: 30", "level1_s: 45")
    assert _apply(service, world, changed).counts()["update"] == 1
    with service.db.read() as s:
        row = get_by_code(s, t.Queue, world.tenant_id, "ventas")
        assert row is not None and row.overload == {"metric": "oldest_wait", "level1_s": 45, "level2_s": 90}
    cleared = changed.replace("    overload: {metric: oldest_wait, level1_s: 45, level2_s: 90}\n", "")
    assert _apply(service, world, cleared).counts()["update"] == 1
    with service.db.read() as s:
        row = get_by_code(s, t.Queue, world.tenant_id, "ventas")
        assert row is not None and row.overload is None


def test_check_names_overload_and_order_by_fields() -> None:
    text = """\
queues:
  - code: ventas
    name: Ventas
    agent_selection: order_by
    order_by: [agent.antiguedad DESC, antiguedad]
    overload: {metric: ewt, level1_s: 120, level2_s: 60}
  - code: cobros
    name: Cobros
    agent_selection: order_by
"""
    checked = check(text, "q.yaml")
    assert [str(e) for e in checked.errors] == [
        "q.yaml:5:39: queues.0.order_by.1: 'antiguedad' is not 'agent.<attribute> ASC|DESC'",
        "q.yaml:6:54: queues.0.overload.level2_s: level2_s must be greater than level1_s (120)",
        "q.yaml:7:5: queues.1.order_by: agent_selection order_by needs at least one order_by clause",
    ]


def test_export_leaves_out_defaults_and_inactive_items(service: Service) -> None:
    world = make_world(service, "norte")
    with service.db.read() as s:
        doc = export_document(read_current(s, world.tenant_id))
    assert doc == {
        "version": 1,
        "skills": [{"code": "banca", "name": "Banca"}],
        "away_reasons": [{"code": "descanso", "name_es": "Descanso", "name_en": "Break"}],
        "queues": [
            {"code": "atencion", "name": "Atención"},
            {"code": "cobros", "name": "Cobros", "required_skills": {"banca": 3}},
        ],
        "agents": [
            {"code": "ana", "name": "Ana", "skills": {"banca": 4}, "queues": [{"queue": "atencion"}]},
            {"code": "luis", "name": "Luis", "skills": {"banca": 2}, "queues": [{"queue": "cobros"}]},
        ],
    }


# --- the command line ---------------------------------------------------------------------------------------------


def test_cli_check_apply_export(tmp_path: Path) -> None:
    assert _cli(tmp_path, "tenant", "create", "norte", "--name", "Banco del Norte")[0] == 0
    code, out, err = _cli(tmp_path, "config", "check", str(EXAMPLE))
    assert code == 0 and "valid (35 items)" in out, err
    code, out, err = _cli(tmp_path, "config", "apply", str(EXAMPLE), "--dry-run")
    assert code == 0 and "particulares" in out and "35" in out, err
    code, out, err = _cli(tmp_path, "config", "export")
    assert code == 0 and "queues:" not in out  # the dry run wrote nothing
    code, out, err = _cli(tmp_path, "config", "apply", str(EXAMPLE), "--tenant", "norte")
    assert code == 0 and "35" in out and "sofia.ruiz" in out, err
    code, out, err = _cli(tmp_path, "config", "apply", str(EXAMPLE))
    assert code == 0 and "sofia.ruiz" not in out and "norte" in out, err
    exported = tmp_path / "exported.yaml"
    code, out, err = _cli(tmp_path, "config", "export", "--output", str(exported))
    assert code == 0 and exported.exists()
    code, stdout_export, err = _cli(tmp_path, "config", "export")
    assert code == 0 and stdout_export == exported.read_text(encoding="utf-8")
    assert "- code: particulares" in stdout_export
    code, out, err = _cli(tmp_path, "config", "apply", str(exported), "--prune")
    assert code == 0 and "create" not in out.replace("0 created", ""), out
    code, out, _err = _cli(tmp_path, "agents", "--json")
    assert code == 0 and out.count('"code"') == 5
    code, out, _err = _cli(tmp_path, "queues")  # the table shows how each queue routes
    assert code == 0 and "80 % ≤ 20 s" in out and "general · 120 s · add" in out
    assert "fraude · add · when unstaffed" in out and "most skilled," in out  # the selection in words
    code, out, _err = _cli(tmp_path, "queues", "--json")  # and as its code in JSON
    assert {q["code"]: q["agent_selection"] for q in json.loads(out)}["tarjetas"] == "skill_then_longest_idle"


def test_cli_bad_file_exits_2_with_every_problem(tmp_path: Path) -> None:
    assert _cli(tmp_path, "tenant", "create", "norte", "--name", "Banco del Norte")[0] == 0
    bad = tmp_path / "malo.yaml"
    bad.write_text(
        "skills:\n  - {code: a, name: A}\nqueues:\n  - code: q\n    name: Q\n    required_skills: {b: 9}\n"
        "agents:\n  - {code: x, name: X, queues: [{queue: nope}]}\n",
        encoding="utf-8",
    )
    for command in ("check", "apply"):
        code, out, err = _cli(tmp_path, "config", command, str(bad))
        assert code == 2, out
        lines = err.strip().splitlines()
        assert lines[1:] == [
            f"{bad}:6:5: queues.0.required_skills: skill 'b': level must be 1..5 (5 = most proficient)",
            f"{bad}:6:23: queues.0.required_skills.b: unknown skill 'b'",
            f"{bad}:8:41: agents.0.queues.0.queue: unknown queue 'nope'",
        ]
    code, out, err = _cli(tmp_path, "config", "apply", str(tmp_path / "missing.yaml"))
    assert code == 2 and "missing.yaml" in err
    syntax = tmp_path / "syntax.yaml"
    syntax.write_text("skills:\n  - {code: a, name: A\n", encoding="utf-8")
    code, out, err = _cli(tmp_path, "config", "check", str(syntax))
    assert code == 2 and f"{syntax}:3:1: YAML syntax" in err
    code, out, _err = _cli(tmp_path, "config", "export")
    assert code == 0 and "skills:" not in out


# --- entry points and flow functions -------------------------------------------------------------------------------

ENTRY = """\
functions:
  - code: banco.cambio
    url: https://api.banco.example/cambio
    headers: {X-Api-Key: s3cr3t}
  - {code: banco.saldo, url: "http://saldo.example/"}
entry_points:
  - {code: telefono, name: Teléfono, kind: phone, address: 900 100 200, flow: entrada}
  - {code: web, name: Web, kind: chat, address: norte-web-01, flow: entrada, language: en}
"""


def _publish(service: Service, world: World) -> None:
    with service.db.write() as s:
        do_publish_flow(s, world.admin, FLOW, "entrada.yaml")


def test_entry_points_and_functions_apply_export_and_prune(service: Service) -> None:
    world = make_world(service, "norte")
    _publish(service, world)
    seq = _seq(service, world)
    plan = _apply(service, world, ENTRY, "entrada.yaml")
    assert [(s.kind, s.code, s.action) for s in plan.steps] == [
        ("functions", "banco.cambio", "create"),
        ("functions", "banco.saldo", "create"),
        ("entry_points", "telefono", "create"),
        ("entry_points", "web", "create"),
    ]
    with service.db.read() as s:
        phone = find_entry_point(s, "phone", "+34900100200")  # the national number, in the tenant's country
        assert phone is not None and (phone.tenant_id, phone.flow, phone.language) == (world.tenant_id, "entrada", "es")
        web = get_by_code(s, t.EntryPoint, world.tenant_id, "web")
        assert web is not None and (web.address, web.language) == ("norte-web-01", "en")
        assert active_functions(s, world.tenant_id)["banco.cambio"].headers == {"X-Api-Key": "s3cr3t"}
        types = [e.type for e in read_events(s, world.tenant_id, after_seq=seq)]
    assert types == ["flow_function.created"] * 2 + ["entry_point.created"] * 2 + ["config.applied"]
    # again: nothing; the export holds them and reads back as a no-op
    assert not _apply(service, world, ENTRY, "entrada.yaml").changed
    before = _counts(service, world)
    exported = before["export"]
    assert "address: '+34900100200'" in exported and "X-Api-Key: s3cr3t" in exported
    assert "language: es" not in exported and "headers: {}" not in exported  # defaults left out
    assert not _apply(service, world, exported, "export.yaml").changed
    assert _counts(service, world) == before
    # a change is an update of that field only; leaving items out with --prune deactivates them
    changed = ENTRY.replace("X-Api-Key: s3cr3t", "X-Api-Key: n3w").replace("language: en", "language: es")
    plan = _apply(service, world, changed, "entrada.yaml")
    assert [(s.code, s.fields) for s in plan.steps if s.action == "update"] == [
        ("banco.cambio", ["headers"]),
        ("web", ["language"]),
    ]
    only = changed.split("  - {code: banco.saldo")[0] + "entry_points: []\n"
    plan = _apply(service, world, only, "entrada.yaml", prune=True)
    deactivated = sorted((s.kind, s.code) for s in plan.steps if s.action == "deactivate")
    assert [d for d in deactivated if d[0] in ("entry_points", "functions")] == [
        ("entry_points", "telefono"),
        ("entry_points", "web"),
        ("functions", "banco.saldo"),
    ]
    with service.db.read() as s:
        assert find_entry_point(s, "phone", "+34900100200") is None
        assert sorted(active_functions(s, world.tenant_id)) == ["banco.cambio"]
        assert "entry_points" not in export_config(s, world.tenant_id)  # inactive ones are not exported
    assert not _apply(service, world, only, "entrada.yaml", prune=True).changed
    assert [s.action for s in _apply(service, world, changed, "entrada.yaml").steps if s.kind == "entry_points"] == [
        "update",
        "update",
    ]  # listed again: active again


def test_entry_point_errors_at_their_line_and_column(service: Service) -> None:
    norte, sur = make_world(service, "norte"), make_world(service, "sur")
    _publish(service, sur)
    _apply(
        service, sur, "entry_points:\n  - {code: sur, name: Sur, kind: phone, address: '+34911000000', flow: entrada}\n"
    )
    bad = """\
functions:
  - {code: banco, url: "ftp://x.example", headers: {X-A: "a\\nb"}}
  - {code: banco.a, url: "https://x.example", headers: {Host: x}}
entry_points:
  - {code: a, name: A, kind: phone, address: "+34 911 000 000", flow: entrada}
  - {code: b, name: B, kind: fax, address: x, flow: entrada}
  - {code: c, name: C, kind: chat, address: corta, flow: otro}
  - {code: d, name: D, kind: email, address: A@B.example, flow: entrada}
  - {code: e, name: E, kind: email, address: a@b.EXAMPLE, flow: entrada}
  - {code: f, name: F, kind: phone, address: "123", flow: entrada, language: fr}
"""
    with pytest.raises(InvalidInput) as info, service.db.write() as s:
        do_apply_config(s, norte.admin, bad, "malo.yaml")
    message = "no published flow 'entrada' in this contact center; publish it first (centralita flow publish)"
    assert [str(e) for e in info.value.errors] == [
        "malo.yaml:2:12: functions.0.code: does not match the pattern ^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)+$",
        "malo.yaml:2:24: functions.0.url: must be an http:// or https:// URL with a host",
        "malo.yaml:2:43: functions.0.headers: header 'X-A': a value cannot contain CR, LF or NUL",
        "malo.yaml:3:47: functions.1.headers: header 'Host' is set by Centralita itself",
        "malo.yaml:5:46: entry_points.0.address: that address is already an entry point of a contact center",
        "malo.yaml:5:71: entry_points.0.flow: " + message,
        "malo.yaml:6:30: entry_points.1.kind: unknown kind 'fax'; one of phone, chat, email",
        "malo.yaml:6:53: entry_points.1.flow: " + message,
        "malo.yaml:7:45: entry_points.2.address: a chat widget key has 8 to 64 letters, digits, '_' or '-'",
        "malo.yaml:7:58: entry_points.2.flow: " + message.replace("'entrada'", "'otro'"),
        "malo.yaml:8:65: entry_points.3.flow: " + message,
        "malo.yaml:9:46: entry_points.4.address: address 'a@b.example' is used twice (first at line 8)",
        "malo.yaml:9:65: entry_points.4.flow: " + message,
        "malo.yaml:10:46: entry_points.5.address: not a possible phone number: '123'",
        "malo.yaml:10:59: entry_points.5.flow: " + message,
        "malo.yaml:10:78: entry_points.5.language: unknown language 'fr'; one of es, en",
    ]
    assert info.value.detail == "malo.yaml: 16 problems; nothing was changed"
    # `config check` without a contact center cannot know its flows or the other addresses: no such errors
    alone = [str(e) for e in check(bad, "malo.yaml").errors]
    assert len(alone) == 8 and not any("published" in e or "already" in e or "possible" in e for e in alone)


def test_an_address_taken_at_apply_time_is_placed_in_the_file(service: Service) -> None:
    """Two entry points of the file swapping addresses: the first write finds its new address still held by
    the other; the error is placed at that item and nothing is written."""
    world = make_world(service, "norte")
    _publish(service, world)
    _apply(service, world, ENTRY)
    swapped = ENTRY.replace("address: 900 100 200", "address: norte-web-01, KIND").replace(
        "address: norte-web-01, flow", "address: 900 100 200, flow"
    )
    swapped = swapped.replace("kind: phone, address: norte-web-01, KIND", "kind: chat, address: norte-web-01")
    swapped = swapped.replace("kind: chat, address: 900 100 200", "kind: phone, address: 900 100 200")
    seq = _seq(service, world)
    with pytest.raises(InvalidInput) as info, service.db.write() as s:
        do_apply_config(s, world.admin, swapped, "swap.yaml")
    [error] = info.value.errors
    assert (error.line, ".".join(map(str, error.loc))) == (7, "entry_points.0.address")
    assert "telefono" in info.value.detail
    assert _seq(service, world) == seq


PROMPTS = """\
prompts:
  - {code: banco.hola, es: "Hola, {{customer.name}}.", en: "Hello, {{customer.name}}."}
  - {code: banco.solo_es, es: "Solo en español."}
"""


def test_prompts_apply_export_and_read_back(service: Service) -> None:
    world = make_world(service, "norte")
    plan = _apply(service, world, PROMPTS)
    assert plan.summary()["prompts"]["create"] == 2
    with service.db.read() as s:
        rows = {p.code: p.texts for p in s.scalars(select(t.Prompt).where(t.Prompt.tenant_id == world.tenant_id))}
    assert rows == {
        "banco.hola": {"es": "Hola, {{customer.name}}.", "en": "Hello, {{customer.name}}."},
        "banco.solo_es": {"es": "Solo en español."},
    }
    assert _apply(service, world, PROMPTS).summary()["prompts"]["unchanged"] == 2
    changed = _apply(service, world, PROMPTS.replace("Solo en español.", "Sólo en español."))
    assert changed.summary()["prompts"]["update"] == 1
    with service.db.read() as s:
        exported = export_config(s, world.tenant_id)
    assert "banco.hola" in exported and "Hello, {{customer.name}}." in exported
    assert _apply(service, world, exported).summary()["prompts"]["unchanged"] == 2


def test_a_bad_prompt_is_reported_at_its_line() -> None:
    checked = check(
        "prompts:\n  - {code: vacio}\n  - {code: '9mal', es: x}\n  - {code: ok, es: \"a\\x07b\"}\n", "p.yaml"
    )
    assert [(e.line, e.loc[:2]) for e in checked.errors] == [
        (2, ["prompts", 0]),
        (3, ["prompts", 1]),
        (4, ["prompts", 2]),
    ]

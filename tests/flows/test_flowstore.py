"""Published flows (flowstore): publish refused with every error and nothing written, versions kept,
publishing the same text again changes nothing, rollback, one event per change, tenants kept apart; on
SQLite and PostgreSQL; and the `flow publish|list|show|rollback` commands."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from centralita.core.actor import Actor
from centralita.core.errors import InvalidInput, NotFound
from centralita.core.i18n import using
from centralita.events.log import read_events
from centralita.flowstore.actions import do_publish_flow, do_rollback_flow
from centralita.flowstore.queries import flow_text, list_flows, versions_of
from centralita.service import Service
from centralita.store import tables as t
from tests.clirun import run_cli
from tests.factories import make_world

FLOW = """\
flowlang: 1
id: entrada
start: hola
nodes:
  hola: {type: play, prompt: "tts:Hola", next: cola}
  cola: {type: queue, queue: atencion, next: espera}
  espera: {type: wait, seconds: 30, next: espera}
"""


def _admin(service: Service, slug: str = "norte") -> Actor:
    world = make_world(service, slug)
    return Actor(tenant_id=world.tenant_id, role="admin", username=f"admin@{slug}", clock=service.clock)


def _events(service: Service, tenant_id: int) -> list[tuple[str, dict[str, object]]]:
    with service.db.read() as s:
        return [(e.type, e.data) for e in read_events(s, tenant_id) if e.type.startswith("flow.")]


def test_publish_versions_and_rollback(service: Service) -> None:
    admin = _admin(service)
    with service.db.write() as s:
        first = do_publish_flow(s, admin, FLOW, "entrada.yaml")
    assert (first.code, first.version, first.changed) == ("entrada", 1, True)
    with service.db.write() as s:
        again = do_publish_flow(s, admin, FLOW, "entrada.yaml")
    assert (again.version, again.changed) == (1, False)  # the same text: nothing new
    changed = FLOW.replace("tts:Hola", "tts:Buenos días")
    with service.db.write() as s:
        second = do_publish_flow(s, admin, changed, "entrada.yaml")
    assert (second.version, second.changed) == (2, True)
    with service.db.read() as s:
        [summary] = list_flows(s, admin.tenant_id)
        assert (summary.code, summary.current_version, summary.versions) == ("entrada", 2, 2)
        current = flow_text(s, admin.tenant_id, "entrada")
        old = flow_text(s, admin.tenant_id, "entrada", 1)
        assert current is not None and current.source == changed and current.current
        assert old is not None and old.source == FLOW and not old.current
        assert flow_text(s, admin.tenant_id, "entrada", 3) is None
        assert [v.version for v in versions_of(s, admin.tenant_id, "entrada")] == [1, 2]
    with service.db.write() as s:
        do_rollback_flow(s, admin, "entrada", 1)
    with service.db.read() as s:
        rolled = flow_text(s, admin.tenant_id, "entrada")
        assert rolled is not None and rolled.version == 1 and rolled.source == FLOW
    with service.db.write() as s:  # publishing version 1's text again while it is current: unchanged
        assert do_publish_flow(s, admin, FLOW, "entrada.yaml").changed is False
    assert [(kind, data.get("version")) for kind, data in _events(service, admin.tenant_id)] == [
        ("flow.published", 1),
        ("flow.published", 2),
        ("flow.rolled_back", 1),
    ]


def test_a_flow_with_errors_is_refused_whole_and_nothing_is_written(service: Service) -> None:
    admin = _admin(service)
    bad = FLOW.replace("queue: atencion", "queue: nadie").replace("next: espera}", "next: ningun}", 1)
    with using("en"), pytest.raises(InvalidInput) as raised, service.db.write() as s:
        do_publish_flow(s, admin, bad, "entrada.yaml")
    row = bad.splitlines()[5]
    assert [str(e) for e in raised.value.errors] == [
        f"entrada.yaml:6:{row.index('nadie') + 1}: node 'cola': no queue is called 'nadie'",
        f"entrada.yaml:6:{row.index('ningun') + 1}: node 'cola': no node is called 'ningun'",
    ]
    with service.db.read() as s:
        assert s.scalar(select(func.count()).select_from(t.ContactFlow)) == 0
        assert s.scalar(select(func.count()).select_from(t.ContactFlowVersion)) == 0
    assert _events(service, admin.tenant_id) == []
    for source, field in (("x" * 1_048_577, "source"), ("flowlang: 1\x00", "source")):
        with pytest.raises(InvalidInput) as raised, service.db.write() as s:
            do_publish_flow(s, admin, source, "big.yaml")
        assert raised.value.errors[0].loc == [field]


def test_tenants_are_kept_apart(service: Service) -> None:
    norte, sur = _admin(service, "norte"), _admin(service, "sur")
    with service.db.write() as s:
        do_publish_flow(s, norte, FLOW, "entrada.yaml")
    with service.db.read() as s:
        assert list_flows(s, sur.tenant_id) == [] and flow_text(s, sur.tenant_id, "entrada") is None
    with pytest.raises(NotFound), service.db.write() as s:
        do_rollback_flow(s, sur, "entrada", 1)
    with service.db.write() as s:  # the same id in another contact center is another flow
        assert do_publish_flow(s, sur, FLOW, "entrada.yaml").version == 1
    with pytest.raises(NotFound), service.db.write() as s:
        do_rollback_flow(s, norte, "entrada", 2)


def test_a_flow_may_enter_a_published_flow(service: Service) -> None:
    admin = _admin(service)
    caller = (
        "flowlang: 1\nid: menu\nstart: a\nnodes:\n"
        "  a: {type: subflow, flow: entrada, on: {error: b}}\n  b: {type: stop}\n"
    )
    with pytest.raises(InvalidInput), service.db.write() as s:
        do_publish_flow(s, admin, caller, "menu.yaml")  # entrada is not published yet
    with service.db.write() as s:
        do_publish_flow(s, admin, FLOW, "entrada.yaml")
    with service.db.write() as s:
        assert do_publish_flow(s, admin, caller, "menu.yaml").version == 1


def test_the_commands(tmp_path: Path) -> None:
    assert run_cli(tmp_path, "demo", "--customers", "5")[0] == 0
    flow = tmp_path / "entrada.yaml"
    flow.write_text(FLOW, encoding="utf-8")
    code, out, err = run_cli(tmp_path, "flow", "publish", str(flow))
    assert (code, out.strip(), err) == (0, "entrada: version 1 published; new contacts run it", "")
    assert run_cli(tmp_path, "flow", "publish", str(flow))[1].strip() == (
        "entrada: unchanged (it is version 1, the current one)"
    )
    flow.write_text(FLOW.replace("queue: atencion", "queue: nadie"), encoding="utf-8")
    code, _out, err = run_cli(tmp_path, "flow", "publish", str(flow))
    column = FLOW.splitlines()[5].index("atencion") + 1
    assert code == 1 and f"{flow}:6:{column}: error: node 'cola': no queue is called 'nadie'" in err
    flow.write_text(FLOW.replace("tts:Hola", "tts:Hola de nuevo"), encoding="utf-8")
    assert run_cli(tmp_path, "flow", "publish", str(flow))[0] == 0
    code, out, _err = run_cli(tmp_path, "flow", "list")
    listed = out.splitlines()  # the demo's two flows, and this one
    assert code == 0 and [line.split(":")[0] for line in listed] == ["banco_chat", "banco_entrada", "entrada"]
    assert listed[2].startswith("entrada: version 2 of 2, published ")
    code, out, _err = run_cli(tmp_path, "flow", "show", "entrada", "--version", "1")
    assert (code, out) == (0, FLOW)
    assert run_cli(tmp_path, "flow", "rollback", "entrada", "1")[1].strip() == (
        "entrada: version 1 is current; new contacts run it"
    )
    assert run_cli(tmp_path, "flow", "show", "entrada")[1] == FLOW
    code, _out, err = run_cli(tmp_path, "flow", "rollback", "entrada", "7")
    assert code == 1 and "has no version 7" in err
    code, _out, err = run_cli(tmp_path, "flow", "show", "nada")
    assert code == 1 and "no flow 'nada'" in err
    code, _out, err = run_cli(tmp_path, "flow", "rollback", "entrada", "99999999999")
    assert code == 2  # a version beyond 32 bits is refused as an argument


@pytest.mark.postgres
def test_two_publishes_at_once_take_turns(pg_service: Service) -> None:
    """Two admins publish the same new flow at the same moment (PostgreSQL, row locks): the second waits
    for the first, then finds its text already current (or, with another text, makes version 2). Neither
    fails on the unique constraints."""
    import threading

    admin = _admin(pg_service)
    results: list[object] = []

    def second(source: str) -> None:
        try:
            with pg_service.db.write() as s:
                results.append(do_publish_flow(s, admin, source, "entrada.yaml"))
        except Exception as exc:  # what used to happen: IntegrityError, a 500
            results.append(exc)

    for source in (FLOW, FLOW.replace("tts:Hola", "tts:Otro")):
        results.clear()
        with pg_service.db.write() as s:
            first = do_publish_flow(s, admin, FLOW if source == FLOW else FLOW.replace("Hola", "Primero"), "e.yaml")
            other = threading.Thread(target=second, args=(source,))
            other.start()
            other.join(0.5)
            assert other.is_alive()  # it waits for this transaction
        other.join(10)
        [outcome] = results
        assert not isinstance(outcome, Exception), outcome
        if source == FLOW:
            assert (first.version, outcome.version, outcome.changed) == (1, 1, False)  # type: ignore[attr-defined]
        else:
            assert outcome.version == first.version + 1 and outcome.changed  # type: ignore[attr-defined]

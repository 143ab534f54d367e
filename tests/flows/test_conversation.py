"""Testing flows without a phone: `centralita flow test FLOW --script conversation.yaml` plays a scripted
conversation against the interpreter and shows a unified diff of the transcript when it differs."""

from __future__ import annotations

from pathlib import Path

import pytest

from centralita.flows.conversation import ScriptError, play
from centralita.flows.document import Flow, check_flow
from tests.clirun import run_cli

HERE = Path(__file__).resolve().parent
BANK = HERE / "banco_entrada.yaml"
SCRIPTS = sorted((HERE / "conversations").glob("*.yaml"))


def _flow(text: str) -> Flow:
    flow = check_flow(text, "t.yaml").flow
    assert flow is not None
    return flow


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.stem for s in SCRIPTS])
def test_the_bank_conversations(tmp_path: Path, script: Path) -> None:
    """Known and unknown caller, balance after the PIN, a wrong PIN, premium routing, out of hours with a
    callback: each scripted conversation goes as written."""
    code, out, err = run_cli(tmp_path, "flow", "test", str(BANK), "--script", str(script))
    assert (code, err) == (0, ""), out
    assert "the conversation went as written" in out


DEMO_FLOWS = HERE.parent.parent / "src" / "centralita" / "demo" / "flows"
DEMO_SCRIPTS = sorted((HERE / "demo_conversations").glob("*.yaml"))


@pytest.mark.parametrize("script", DEMO_SCRIPTS, ids=[s.stem for s in DEMO_SCRIPTS])
def test_the_demo_flows_conversations(tmp_path: Path, script: Path) -> None:
    """The demo's IVR and chat bot: blocking a card by phone, a premium customer to Banca Premium, the
    balance by chat at night and a callback to a typed number. Each script names its flow on line 1."""
    flow = script.read_text(encoding="utf-8").splitlines()[0].split("flow: ")[1].split()[0]
    library = ["--prompts", str(DEMO_FLOWS / "prompts.yaml")]
    code, out, err = run_cli(
        tmp_path, "flow", "test", str(DEMO_FLOWS / f"{flow}.yaml"), "--script", str(script), *library
    )
    assert (code, err) == (0, ""), out


def test_a_different_conversation_is_a_readable_diff(tmp_path: Path) -> None:
    script = (HERE / "conversations" / "banco_saldo_premium.yaml").read_text(encoding="utf-8")
    changed = tmp_path / "changed.yaml"
    changed.write_text(script.replace("1.234,56 euros", "1.234 euros").replace("caso_ref: K7M42Q", "caso_ref: X"))
    code, out, _err = run_cli(tmp_path, "flow", "test", str(BANK), "--script", str(changed))
    assert code == 1
    lines = out.splitlines()
    assert lines[:2] == ["--- expected", "+++ actual"]
    assert "-bot: Su saldo disponible es de 1.234 euros." in lines
    assert "+bot: Su saldo disponible es de 1.234,56 euros." in lines
    assert "expected: vars.caso_ref: expected 'X', got 'K7M42Q'" in lines


def test_no_answer_buttons_and_an_exit_key_on_chat() -> None:
    flow = _flow(
        "flowlang: 1\nid: bot\nstart: menu\nvariables:\n  op: {type: string}\nnodes:\n"
        "  menu: {type: collect, prompt: 'tts:¿Qué desea?', into: vars.op,"
        " options: [{value: a, label: Saldo}, {value: b, label: Gestor}], on: {timeout: menu2}, next: q}\n"
        "  menu2: {type: play, prompt: 'tts:Sigo aquí.', next: q}\n"
        "  q: {type: queue, queue: chat, exit_keys: {'#': fin}, next: w}\n"
        "  w: {type: wait, seconds: 30, prompt: 'tts:Espere', next: w2}\n"
        "  w2: {type: play, prompt: 'tts:Siga', next: w}\n"
        "  fin: {type: disconnect, prompt: 'tts:Adiós'}\n"
    )
    outcome = play(
        flow,
        {
            "channel": "chat",
            "queues": {"chat": {"staffed": 1}},
            "conversation": [
                "bot: ¿Qué desea?",
                "buttons: Saldo | Gestor",
                "customer: (no answer)",
                "bot: Sigo aquí.",
                "queue: chat",
                "bot: Espere",
                "time passes",
                "bot: Siga",
                "bot: Espere",
                "customer: #",
                "leave queues: chat",
                "bot: Adiós",
                "disconnect",
                "end: ended",
            ],
            "expect": {"status": "ended", "vars": {"op": ""}},
        },
    )
    assert outcome.ok, "\n".join(outcome.diff + outcome.problems)


def test_script_errors_name_the_field(tmp_path: Path) -> None:
    script = tmp_path / "bad.yaml"
    script.write_text("channel: voice\nconversation: []\nexpectations: {}\n", encoding="utf-8")
    code, _out, err = run_cli(tmp_path, "flow", "test", str(BANK), "--script", str(script))
    assert code == 2 and err.startswith(f"{script}:3:1: expectations: unknown field")
    script.write_text("channel: fax\n", encoding="utf-8")
    code, _out, err = run_cli(tmp_path, "flow", "test", str(BANK), "--script", str(script))
    assert (code, err.strip()) == (2, f"{script}:1:10: channel: must be voice or chat")
    script.write_text("conversation: [\n", encoding="utf-8")
    code, _out, err = run_cli(tmp_path, "flow", "test", str(BANK), "--script", str(script))
    assert code == 2 and "YAML syntax" in err
    with pytest.raises(ScriptError, match=r"expect\.vars"):
        play(_flow(BANK.read_text(encoding="utf-8")), {"expect": {"vars": [1]}})


def test_a_flow_with_errors_is_not_played(tmp_path: Path) -> None:
    flow = tmp_path / "bad.yaml"
    flow.write_text("flowlang: 1\nid: f\nstart: a\nnodes:\n  a: {type: play}\n", encoding="utf-8")
    code, _out, err = run_cli(tmp_path, "flow", "test", str(flow), "--script", str(SCRIPTS[0]))
    assert code == 1 and f"{flow}:5:3: error: node 'a': missing field 'prompt'" in err


def test_script_figures_of_the_wrong_kind_and_time_passing_outside_a_wait(tmp_path: Path) -> None:
    script = tmp_path / "s.yaml"
    script.write_text("queues:\n  gestores: {staffed: 2, max_contacts: '10'}\n", encoding="utf-8")
    code, _out, err = run_cli(tmp_path, "flow", "test", str(BANK), "--script", str(script))
    assert (code, err.strip()) == (2, f"{script}:2:40: queues.gestores.max_contacts: must be a number")
    flow = _flow(
        "flowlang: 1\nid: f\nstart: a\nvariables:\n  op: {type: string}\nnodes:\n"
        "  a: {type: collect, into: vars.op, next: b}\n  b: {type: stop}\n"
    )
    with pytest.raises(ScriptError, match="ends a running wait"):
        play(flow, {"channel": "chat", "conversation": ["time passes"]})


def test_flow_chat_in_the_terminal(tmp_path: Path) -> None:
    """`flow chat` against the demo contact center: the caller is recognised by number, buttons are chosen
    by their number, the hours and queues are the demo's, functions are stood in for, /agent connects."""
    import sqlite3

    assert run_cli(tmp_path, "demo", "--customers", "5")[0] == 0
    with sqlite3.connect(tmp_path / "cli.db") as db:
        phone, name = db.execute(
            "SELECT i.value, c.name FROM customer_identities i JOIN customers c ON c.id = i.customer_id"
            " WHERE i.kind = 'phone' ORDER BY i.id LIMIT 1"
        ).fetchone()
    flow = DEMO_FLOWS / "banco_chat.yaml"
    code, out, err = run_cli(tmp_path, "flow", "chat", str(flow), "--as", phone, stdin="2\n1234\n3\n/agent\n")
    assert code == 0, out + err
    lines = out.splitlines()
    assert lines[0].startswith(f"(recognised: {name}, segment ")
    assert "buttons: 1) Consultar saldo | 2) Bloquear una tarjeta | 3) Hablar con un gestor" in lines
    assert any("invoke: banco.bloquear_tarjeta" in line for line in lines)
    assert any("bot: Su referencia es PRUEBA1." in line for line in lines)
    assert lines[-1].endswith("(connected)")
    code, out, _err = run_cli(tmp_path, "flow", "chat", str(flow), "--as", "+34999000111", stdin="")
    assert code == 0 and out.splitlines()[0] == "(not recognised: an unknown caller)"
    assert out.splitlines()[-1].endswith("(ended)")  # end of input: the customer hung up
    assert run_cli(tmp_path, "flow", "chat", str(flow), "--channel", "fax")[0] == 2

"""The flowlang 1 interpreter (flows/interpreter.py): each node type and outcome, the interrupts while
queued, the step limit, the subflow stack, variables, and a state that survives a round trip through JSON
mid-conversation. Driven by events with a fake environment: no clock, no database."""

from __future__ import annotations

import ast
import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from centralita.flows import interpreter as it
from centralita.flows.document import Flow, check_flow
from centralita.flows.interpreter import (
    AgentConnected,
    Ask,
    Callback,
    CancelTimer,
    Disconnect,
    FlowState,
    HungUp,
    Input,
    Invoke,
    InvokeDone,
    JoinQueue,
    LeaveQueues,
    PromptDone,
    QueueInfo,
    Say,
    SetContact,
    SetGlobal,
    Start,
    StartTimer,
    Step,
    TimerFired,
    Transfer,
    TransferDone,
    UpdateQueue,
    run,
    start,
)

T0 = dt.datetime(2026, 12, 7, 10, 0, tzinfo=dt.UTC)  # a Monday, 11:00 in Madrid
BANK = Path(__file__).resolve().parent / "banco_entrada.yaml"


def load(text: str) -> Flow:
    checked = check_flow(text, "t.yaml")
    assert checked.flow is not None, [str(d) for d in checked.diagnostics]
    return checked.flow


def flow_text(nodes: str, variables: str = "", start_at: str = "a", flow_id: str = "f") -> str:
    head = f"flowlang: 1\nid: {flow_id}\nstart: {start_at}\n"
    if variables:
        head += "variables:\n" + variables
    return head + "nodes:\n" + nodes


@dataclass
class FakeStats:
    staffed: dict[str, int] = field(default_factory=dict)
    size: dict[str, int] = field(default_factory=dict)

    def _known(self, queue: str) -> None:
        if queue not in self.staffed:
            raise KeyError(queue)

    def queue_size(self, queue: str, min_priority: int | None) -> int:
        self._known(queue)
        return self.size.get(queue, 0)

    def oldest_wait(self, queue: str, min_priority: int | None) -> float:
        self._known(queue)
        return 0.0

    def agents_staffed(self, queue: str) -> int:
        self._known(queue)
        return self.staffed[queue]

    def agents_available(self, queue: str) -> int:
        return self.agents_staffed(queue)

    def agents_online(self, queue: str) -> int:
        return self.agents_staffed(queue)

    def ewt(self, queue: str, priority: int) -> float:
        self._known(queue)
        return 30.0

    def rolling_asa(self, queue: str) -> float | None:
        return None

    def my_ewt(self) -> float:
        return 30.0

    def in_queue(self, queue: str | None) -> bool:
        return False

    def time_in_queue(self, queue: str) -> float | None:
        return None

    def position(self, queue: str) -> int | None:
        self._known(queue)
        return 2

    def in_hours(self, schedule: str) -> bool:
        return True

    def is_holiday(self, schedule: str) -> bool:
        return False


@dataclass
class FakeEnv:
    flows: dict[str, Flow]
    queues: dict[str, QueueInfo] = field(
        default_factory=lambda: {q: QueueInfo(schedule="general") for q in ("uno", "dos", "tres", "cuatro")}
    )
    schedules: dict[str, str] = field(default_factory=lambda: {"general": "open"})
    prompts: dict[str, str] = field(default_factory=dict)
    fake_stats: FakeStats = field(
        default_factory=lambda: FakeStats(staffed={"uno": 2, "dos": 1, "tres": 1, "cuatro": 1})
    )
    global_values: dict[str, Any] = field(default_factory=dict)
    not_dialable: set[str] = field(default_factory=set)

    @property
    def stats(self) -> FakeStats:
        return self.fake_stats

    @property
    def globals(self) -> Mapping[str, Any]:
        return self.global_values

    def flow(self, flow_id: str) -> Flow | None:
        return self.flows.get(flow_id)

    def queue(self, queue: str) -> QueueInfo | None:
        return self.queues.get(queue)

    def schedule_state(self, schedule: str, now: dt.datetime) -> str | None:
        return self.schedules.get(schedule)

    def prompt(self, prompt_id: str, language: str) -> str | None:
        return self.prompts.get(f"{prompt_id}:{language}")

    def dialable(self, number: str) -> bool:
        return number not in self.not_dialable


class Conversation:
    """One contact in a flow: send events, read the actions, look at the state."""

    def __init__(
        self,
        *texts: str,
        channel: str = "voice",
        customer: dict[str, Any] | None = None,
        env: FakeEnv | None = None,
        **contact: Any,
    ) -> None:
        flows = [load(text) for text in texts]
        self.env = env or FakeEnv({})
        self.env.flows.update({f.id: f for f in flows})
        fields = {"id": 7, "channel": channel, "ani": "+34600111222", "language": "es", "segment": None, **contact}
        self.state = start(flows[0], fields, customer)
        self.now = T0

    def send(self, event: it.Event, after_s: float = 0) -> list[it.Action]:
        self.now += dt.timedelta(seconds=after_s)
        state, actions = run(self.state, event, self.now, self.env)
        assert state is self.state
        return actions

    def said(self, actions: list[it.Action]) -> list[str]:
        return [a.text for a in actions if isinstance(a, Say)]

    def steps(self, actions: list[it.Action]) -> list[tuple[str, str]]:
        return [(a.node, a.outcome) for a in actions if isinstance(a, Step)]


def _of(kind: type, actions: list[it.Action]) -> list[Any]:
    return [a for a in actions if isinstance(a, kind)]


# -- play, transitions, the end ------------------------------------------------------------------------------


def test_play_waits_for_its_prompt_on_voice_not_on_chat() -> None:
    text = flow_text("  a: {type: play, prompt: 'tts:Hola {{contact.ani}}', next: b}\n  b: {type: stop}\n")
    voice = Conversation(text)
    actions = voice.send(Start())
    assert voice.said(actions) == ["Hola +34600111222"] and voice.state.waiting == "prompt"
    assert not _of(Disconnect, actions)
    actions = voice.send(PromptDone(), after_s=2)
    assert voice.steps(actions) == [("a", "next"), ("b", "next")]
    assert _of(Disconnect, actions) == [Disconnect()]  # past the last node, not queued: disconnected
    assert (voice.state.status, voice.state.ended) == ("ended", "CONTACT_FLOW_DISCONNECT")
    chat = Conversation(text, channel="chat")
    actions = chat.send(Start())
    assert chat.said(actions) == ["Hola +34600111222"] and chat.state.status == "ended"


def test_an_outcome_goes_to_on_else_next_else_stops() -> None:
    text = flow_text(
        "  a: {type: play, prompt: 'tts:{{1 / 0}}', on: {error: b}, next: c}\n"
        "  b: {type: play, prompt: 'tts:{{1 / 0}}', next: c}\n"  # error unwired: falls through to next
        "  c: {type: play, prompt: nowhere}\n"  # an unknown prompt: error, no next: implicit stop
    )
    talk = Conversation(text, channel="chat")
    actions = talk.send(Start())
    assert talk.steps(actions) == [("a", "error"), ("b", "error"), ("c", "error")]
    assert talk.said(actions) == [] and talk.state.status == "ended"


def test_library_prompts_in_the_contacts_language() -> None:
    text = flow_text("  a: {type: play, prompt: saludo}\n")
    env = FakeEnv({}, prompts={"saludo:en": "Hello", "saludo:es": "Hola"})
    talk = Conversation(text, channel="chat", env=env, language="en")
    assert talk.said(talk.send(Start())) == ["Hello"]


def test_the_step_limit() -> None:
    text = (
        "flowlang: 1\nid: f\nstart: a\nlimits: {max_steps: 5}\nvariables:\n  n: {type: int, default: 0}\n"
        "nodes:\n"
        "  a: {type: set, assign: {vars.n: 'vars.n + 1'}, next: b}\n"
        "  b: {type: play, prompt: 'tts:{{vars.n}}', next: a}\n"
    )
    talk = Conversation(text, channel="chat")
    actions = talk.send(Start())
    assert talk.said(actions) == ["1", "2"]  # a b a b a: five nodes ran, the sixth did not
    assert talk.state.steps == 5 and talk.state.vars["n"] == 3 and talk.state.status == "ended"


# -- collect -------------------------------------------------------------------------------------------------

COLLECT = (
    "  a: {type: collect, prompt: 'tts:Marque', into: vars.dni, max_digits: 4, timeout_s: 5,"
    " on: {timeout: t, invalid: i}, next: ok}\n"
    "  ok: {type: play, prompt: 'tts:Recibido {{vars.dni}} {{digits}}'}\n"
    "  t: {type: play, prompt: 'tts:Nada'}\n"
    "  i: {type: play, prompt: 'tts:Mal'}\n"
)
DNI = "  dni: {type: string, default: null}\n"


def test_collect_on_voice_digits_terminator_and_inter_digit_timeout() -> None:
    talk = Conversation(flow_text(COLLECT, DNI))
    talk.send(Start())
    actions = talk.send(PromptDone())
    assert _of(Ask, actions) == [Ask(4, "#", 5.0)] and StartTimer("collect", 5.0) in actions
    actions = talk.send(Input("12"))
    assert StartTimer("collect", 5.0) in actions and talk.state.collected == "12"  # the timer runs again
    actions = talk.send(Input("#"))  # the terminator ends the input and is not stored
    assert talk.said(actions) == ["Recibido 12 12"] and talk.state.vars["dni"] == "12"
    full = Conversation(flow_text(COLLECT, DNI))
    full.send(Start())
    full.send(PromptDone())
    actions = full.send(Input("123456"))
    assert full.said(actions) == ["Recibido 1234 1234"] and full.state.buffer == "56"  # extra digits stay buffered


def test_collect_timeout_with_and_without_input() -> None:
    talk = Conversation(flow_text(COLLECT, DNI))
    talk.send(Start())
    talk.send(PromptDone())
    actions = talk.send(TimerFired("collect"), after_s=5)
    assert talk.steps(actions)[0] == ("a", "timeout") and talk.state.vars["dni"] == ""  # stores ""
    partial = Conversation(flow_text(COLLECT, DNI))
    partial.send(Start())
    partial.send(PromptDone())
    partial.send(Input("9"))
    actions = partial.send(TimerFired("collect"), after_s=5)
    assert partial.said(actions) == ["Recibido 9 9"]  # what came before the timeout is the input


def test_type_ahead_during_a_prompt_answers_the_next_collect() -> None:
    text = flow_text(
        "  w: {type: play, prompt: 'tts:Bienvenido', next: a}\n" + COLLECT.replace("prompt: 'tts:Marque', ", ""),
        DNI,
        start_at="w",
    )
    talk = Conversation(text)
    talk.send(Start())
    talk.send(Input("4321"))  # typed while the welcome plays (no barge-in: it plays on)
    assert talk.state.waiting == "prompt"
    actions = talk.send(PromptDone())
    assert talk.said(actions) == ["Recibido 4321 4321"] and not _of(StartTimer, actions)


def test_barge_in_cuts_the_prompt() -> None:
    text = flow_text(
        "  w: {type: play, prompt: 'tts:Largo', barge_in: true, next: a}\n"
        + COLLECT.replace("prompt: 'tts:Marque', ", ""),
        DNI,
        start_at="w",
    )
    talk = Conversation(text)
    talk.send(Start())
    actions = talk.send(Input("1111"))
    assert talk.said(actions) == ["Recibido 1111 1111"]


def test_valid_and_options_decide_invalid() -> None:
    valid = COLLECT.replace("timeout_s: 5,", "timeout_s: 5, valid: 'len(value) == 4',")
    talk = Conversation(flow_text(valid, DNI), channel="chat")
    talk.send(Start())
    actions = talk.send(Input("  12 "))
    assert talk.said(actions) == ["Mal"] and talk.state.vars["dni"] is None  # nothing stored when invalid
    menu = flow_text(
        "  a: {type: collect, into: vars.dni, options: [{value: '1', label: Saldo}, {value: '2', label: Gestor}],"
        " on: {invalid: i}, next: ok}\n  ok: {type: stop}\n  i: {type: play, prompt: 'tts:Mal'}\n",
        DNI,
    )
    chat = Conversation(menu, channel="chat")
    actions = chat.send(Start())
    assert _of(Ask, actions) == [Ask(1, "#", 300.0, (("1", "Saldo"), ("2", "Gestor")))]  # buttons on chat
    assert chat.said(chat.send(Input("3"))) == ["Mal"]
    button = Conversation(menu, channel="chat")
    button.send(Start())
    button.send(Input("2"))
    assert button.state.vars["dni"] == "2" and button.state.digits == "2"


def test_a_sensitive_variable_is_masked_on_the_timeline() -> None:
    text = flow_text(
        "  a: {type: collect, into: vars.pin, max_digits: 4, next: b}\n  b: {type: stop}\n",
        "  pin: {type: string, sensitive: true}\n",
    )
    talk = Conversation(text)
    talk.send(Start())
    actions = talk.send(Input("1234"))
    [step] = [a for a in actions if isinstance(a, Step) and a.node == "a"]
    assert step.input == "****" and talk.state.vars["pin"] == "1234"


# -- set, switch, check_hours ---------------------------------------------------------------------------------


def test_set_in_order_and_an_error_stops_the_rest() -> None:
    text = flow_text(
        "  a: {type: set, assign: {vars.n: 2, vars.m: 'vars.n * 10', contact.reason: \"'saldo'\","
        " contact.self_service: true, contact.attributes.canal: \"'ivr'\"}, next: b}\n"
        "  b: {type: set, assign: {vars.n: 5, vars.m: 'vars.m / 0', vars.k: 1}, on: {error: c}}\n"
        "  c: {type: set, assign: {vars.g: 'vars.m + 1'}}\n",
        "  n: {type: int}\n  m: {type: float}\n  k: {type: int}\n  g: {type: float, scope: global}\n",
    )
    talk = Conversation(text, channel="chat")
    actions = talk.send(Start())
    assert talk.state.vars == {"n": 5, "m": 20, "k": None}  # b: n set, m failed, k never; g is not stored
    assert talk.steps(actions) == [("a", "next"), ("b", "error"), ("c", "next")]
    assert _of(SetContact, actions) == [
        SetContact("reason", "saldo"),
        SetContact("self_service", True),
        SetContact("attributes.canal", "ivr"),
    ]
    assert _of(SetGlobal, actions) == [SetGlobal("g", 21)]
    assert talk.state.contact["attributes"] == {"canal": "ivr"}


def test_a_value_of_another_type_is_an_error() -> None:
    text = flow_text(
        "  a: {type: set, assign: {vars.n: contact.attributes.x}, next: b}\n  b: {type: stop}\n",
        "  n: {type: int}\n",
    )
    talk = Conversation(text, channel="chat", attributes={"x": "texto"})
    assert talk.steps(talk.send(Start()))[0] == ("a", "error") and talk.state.vars["n"] is None


def test_switch_first_true_wins_and_an_error_counts_as_false() -> None:
    text = flow_text(
        "  a: {type: switch, cases: [{when: '1 / 0 == 1', next: x}, {when: 'contact.id == 7', next: y},"
        " {when: 'true', next: z}], default: z}\n"
        "  x: {type: play, prompt: 'tts:x'}\n  y: {type: play, prompt: 'tts:y'}\n  z: {type: play, prompt: 'tts:z'}\n"
    )
    talk = Conversation(text, channel="chat")
    actions = talk.send(Start())
    assert talk.said(actions) == ["y"] and talk.steps(actions)[0] == ("a", "case 2")
    other = Conversation(text, channel="chat", id=8)
    assert other.said(other.send(Start())) == ["z"]
    none = flow_text("  a: {type: switch, cases: [{when: 'false', next: x}], default: x}\n  x: {type: stop}\n")
    assert Conversation(none, channel="chat").steps(Conversation(none, channel="chat").send(Start()))[0] == (
        "a",
        "default",
    )


@pytest.mark.parametrize(
    ("state", "wired_holiday", "said"),
    [
        ("open", False, "abierto"),
        ("closed", False, "cerrado"),
        ("holiday", False, "cerrado"),
        ("holiday", True, "fiesta"),
    ],
)
def test_check_hours(state: str, wired_holiday: bool, said: str) -> None:
    holiday = ", holiday: f" if wired_holiday else ""
    text = flow_text(
        f"  a: {{type: check_hours, schedule: general, on: {{closed: c{holiday}}}, next: o}}\n"
        "  o: {type: play, prompt: 'tts:abierto'}\n  c: {type: play, prompt: 'tts:cerrado'}\n"
        "  f: {type: play, prompt: 'tts:fiesta'}\n"
    )
    env = FakeEnv({}, schedules={"general": state})
    talk = Conversation(text, channel="chat", env=env)
    assert talk.said(talk.send(Start())) == [said]


def test_check_hours_of_the_working_queue_and_unknown_schedule() -> None:
    text = flow_text(
        "  a: {type: check_hours, on: {closed: c, error: e}, next: o}\n"
        "  o: {type: play, prompt: 'tts:abierto'}\n  c: {type: play, prompt: 'tts:cerrado'}\n"
        "  e: {type: play, prompt: 'tts:sin horario'}\n"
    )
    env = FakeEnv({}, schedules={"general": "closed"})
    assert Conversation(text, channel="chat", env=env, queue="uno").said(
        Conversation(text, channel="chat", env=env, queue="uno").send(Start())
    ) == ["cerrado"]
    assert Conversation(text, channel="chat").said(Conversation(text, channel="chat").send(Start())) == ["sin horario"]


# -- invoke ---------------------------------------------------------------------------------------------------

INVOKE = flow_text(
    "  a: {type: invoke, function: banco.saldo, input: {cliente: customer.id, pin: \"'1234'\"},"
    " result_into: {disponible: vars.saldo, moneda: contact.attributes.moneda}, timeout_s: 4, on: {error: e},"
    " next: ok}\n"
    "  ok: {type: play, prompt: 'tts:Saldo {{vars.saldo}}'}\n  e: {type: play, prompt: 'tts:Error'}\n",
    "  saldo: {type: string}\n",
)


def test_invoke_asks_and_stores_the_result() -> None:
    talk = Conversation(INVOKE, channel="chat", customer={"id": 42})
    actions = talk.send(Start())
    assert _of(Invoke, actions) == [Invoke("banco.saldo", {"cliente": 42, "pin": "1234"}, 4.0, 3, "json")]
    assert talk.state.waiting == "invoke"
    actions = talk.send(InvokeDone({"disponible": "1.234,56"}), after_s=1)
    assert talk.said(actions) == ["Saldo 1.234,56"]
    assert talk.state.contact["attributes"] == {"moneda": None}  # a missing key sets null


@pytest.mark.parametrize(
    ("done", "said"),
    [
        (InvokeDone({"disponible": 12}), "Error"),  # a wrongly typed result
        (InvokeDone(failure="error"), "Error"),
        (InvokeDone(failure="timeout"), "Error"),  # timeout unwired: as error
    ],
)
def test_invoke_failures(done: InvokeDone, said: str) -> None:
    talk = Conversation(INVOKE, channel="chat", customer={"id": 42})
    talk.send(Start())
    assert talk.said(talk.send(done)) == [said]


def test_invoke_timeout_wired_and_an_agent_connecting_drops_the_result() -> None:
    wired = INVOKE.replace("on: {error: e}", "on: {error: e, timeout: t}") + "  t: {type: play, prompt: 'tts:Tarde'}\n"
    talk = Conversation(wired, channel="chat", customer={"id": 1})
    talk.send(Start())
    assert talk.said(talk.send(InvokeDone(failure="timeout"))) == ["Tarde"]
    late = Conversation(INVOKE, channel="chat", customer={"id": 1})
    late.send(Start())
    late.send(AgentConnected())
    assert late.send(InvokeDone({"disponible": "9"})) == [] and late.state.vars["saldo"] is None


# -- queue ----------------------------------------------------------------------------------------------------


def test_queue_joins_with_the_segments_priority_and_waits_after_the_last_node() -> None:
    text = flow_text("  a: {type: queue, queue: uno, next: b}\n  b: {type: stop}\n")
    env = FakeEnv({})
    env.queues["uno"] = QueueInfo(segment_priority={"premium": 5})
    talk = Conversation(text, env=env, segment="premium")
    actions = talk.send(Start())
    assert _of(JoinQueue, actions) == [JoinQueue("uno", 5)]
    assert SetContact("queue", "uno") in actions and not _of(Disconnect, actions)
    assert talk.state.status == "queued"  # stop while queued: it keeps waiting
    actions = talk.send(AgentConnected(), after_s=30)  # processing ends: only its timers are cancelled
    assert all(isinstance(a, CancelTimer) for a in actions) and talk.state.status == "connected"


def test_queue_skipped_updated_unstaffed_full_error() -> None:
    text = flow_text(
        "  a: {type: queue, queue: uno, priority: 1, next: b}\n"
        "  b: {type: queue, queue: uno, priority: 1, on: {skipped: c}, next: x}\n"  # same priority: skipped
        "  c: {type: queue, queue: uno, priority: 4, next: d}\n"  # another one: updated only
        "  d: {type: queue, queue: dos, when: 'false', on: {skipped: e}, next: x}\n"
        "  e: {type: queue, queue: dos, join_when_unstaffed: false, on: {unstaffed: f}, next: x}\n"
        "  f: {type: queue, queue: tres, on: {full: g}, next: x}\n"
        "  g: {type: queue, queue: '=lower(\"NINGUNA\")', on: {error: h}, next: x}\n"
        "  h: {type: stop}\n"
        "  x: {type: play, prompt: 'tts:no'}\n"
    )
    env = FakeEnv({})
    env.fake_stats.staffed["dos"] = 0
    env.fake_stats.size["tres"] = 10
    env.queues["tres"] = QueueInfo(max_contacts=10)
    talk = Conversation(text, env=env)
    actions = talk.send(Start())
    assert talk.steps(actions) == [
        ("a", "next"),
        ("b", "skipped"),
        ("c", "next"),
        ("d", "skipped"),
        ("e", "unstaffed"),
        ("f", "full"),
        ("g", "error"),
        ("h", "next"),
    ]
    assert _of(JoinQueue, actions) == [JoinQueue("uno", 1)] and _of(UpdateQueue, actions) == [UpdateQueue("uno", 4, 0)]
    assert talk.state.queues["uno"]["priority"] == 4 and talk.state.status == "queued"


def test_at_most_three_queues_and_replace() -> None:
    four = flow_text(
        "  a: {type: queue, queue: uno, next: b}\n  b: {type: queue, queue: dos, next: c}\n"
        "  c: {type: queue, queue: tres, next: d}\n  d: {type: queue, queue: '=\"cuatro\"', next: e}\n"
        "  e: {type: stop}\n"
    )
    talk = Conversation(four)
    actions = talk.send(Start())
    assert talk.steps(actions)[3] == ("d", "skipped") and sorted(talk.state.queues) == ["dos", "tres", "uno"]
    replaced = Conversation(four.replace("next: e}", "replace: true, next: e}"))
    actions = replaced.send(Start())
    assert LeaveQueues(("uno", "dos", "tres")) in actions and list(replaced.state.queues) == ["cuatro"]


def test_interrupts_while_queued_exit_key_and_max_wait() -> None:
    text = flow_text(
        "  a: {type: queue, queue: uno, max_wait_s: 300, exit_keys: {'9': salir}, on: {max_wait: tarde}, next: m}\n"
        "  m: {type: wait, seconds: 45, next: m2}\n"
        "  m2: {type: play, prompt: 'tts:Siga esperando', next: m}\n"
        "  salir: {type: play, prompt: 'tts:Salida'}\n"
        "  tarde: {type: play, prompt: 'tts:Demasiado'}\n"
    )
    talk = Conversation(text)
    actions = talk.send(Start())
    assert StartTimer("max_wait:uno", 300.0) in actions and StartTimer("wait", 45.0) in actions
    actions = talk.send(Input("9"), after_s=10)  # cuts the running wait short
    assert LeaveQueues(("uno",)) in actions and CancelTimer("wait") in actions and talk.said(actions) == ["Salida"]
    assert not talk.state.queues
    timed = Conversation(text)
    timed.send(Start())
    actions = timed.send(TimerFired("max_wait:uno"), after_s=300)
    assert LeaveQueues(("uno",)) in actions and timed.said(actions) == ["Demasiado"]
    assert not any(a.abandon for a in _of(LeaveQueues, actions))


def test_unstaffed_timer_only_when_nobody_serves() -> None:
    text = flow_text(
        "  a: {type: queue, queue: uno, max_wait_unstaffed_s: 60, on: {unstaffed: u}, next: w}\n"
        "  w: {type: wait, seconds: 600, next: w}\n  u: {type: play, prompt: 'tts:Nadie'}\n"
    )
    talk = Conversation(text)
    talk.send(Start())
    assert talk.send(TimerFired("unstaffed:uno"), after_s=60) == []  # two agents staffed: nothing
    talk.env.fake_stats.staffed["uno"] = 0
    assert talk.said(talk.send(TimerFired("unstaffed:uno"))) == ["Nadie"]


def test_a_hang_up_while_queued_is_an_abandon() -> None:
    talk = Conversation(flow_text("  a: {type: queue, queue: uno, next: w}\n  w: {type: wait, seconds: 30}\n"))
    talk.send(Start())
    actions = talk.send(HungUp(), after_s=12)
    assert actions == [CancelTimer("wait"), LeaveQueues(("uno",), abandon=True)] and talk.state.status == "ended"
    assert talk.send(AgentConnected()) == [] and talk.state.status == "ended"  # late events change nothing


# -- wait, transfer, callback, subflow, disconnect ---------------------------------------------------------------


def test_wait_runs_its_time() -> None:
    text = flow_text(
        "  a: {type: wait, seconds: 20, treatment: ringback, next: b}\n  b: {type: play, prompt: 'tts:Ya'}\n"
    )
    talk = Conversation(text)
    actions = talk.send(Start())
    assert it.Treatment("ringback") in actions and StartTimer("wait", 20.0) in actions
    assert talk.said(talk.send(TimerFired("wait"), after_s=20)) == ["Ya"]


def test_transfer_to_a_flow_clears_flow_variables_and_the_stack() -> None:
    first = flow_text(
        "  a: {type: set, assign: {vars.f: \"'x'\", vars.c: \"'y'\"}, next: q}\n"
        "  q: {type: queue, queue: uno, next: t}\n"
        "  t: {type: transfer, to: {flow: otro}}\n",
        "  f: {type: string, scope: flow}\n  c: {type: string, scope: contact}\n",
    )
    second = flow_text(
        "  b: {type: play, prompt: 'tts:{{vars.c}}-{{vars.f}}'}\n",
        "  f: {type: string, scope: flow, default: nuevo}\n  c: {type: string, scope: contact}\n",
        start_at="b",
        flow_id="otro",
    )
    talk = Conversation(first, second, channel="chat")
    actions = talk.send(Start())
    assert LeaveQueues(("uno",)) in actions and talk.said(actions) == ["y-nuevo"]
    assert talk.state.flow_id == "otro"


def test_transfer_to_a_number() -> None:
    text = flow_text(
        "  a: {type: queue, queue: uno, next: t}\n"
        "  t: {type: transfer, to: {number: \"'+34910000000'\"}, on: {fail: f}}\n"
        "  f: {type: play, prompt: 'tts:Fallo'}\n"
    )
    talk = Conversation(text)
    actions = talk.send(Start())
    assert _of(Transfer, actions) == [Transfer(number="+34910000000")] and talk.state.waiting == "transfer"
    assert talk.said(talk.send(TransferDone(ok=False))) == ["Fallo"] and "uno" in talk.state.queues  # kept
    done = Conversation(text)
    done.send(Start())
    done.send(TransferDone(ok=True))
    assert done.state.status == "transferred" and not done.state.queues
    chat = Conversation(text, channel="chat")
    assert chat.said(chat.send(Start())) == ["Fallo"]  # no transfer to a number on chat


def test_callback_keeps_the_place_and_is_not_an_abandon() -> None:
    text = flow_text(
        "  a: {type: queue, queue: uno, next: c}\n"
        "  c: {type: callback, initial_delay_s: 60, on: {invalid_number: n, not_dialable: d}, next: bye}\n"
        "  bye: {type: disconnect, prompt: 'tts:Le llamaremos'}\n"
        "  n: {type: play, prompt: 'tts:Sin número'}\n  d: {type: play, prompt: 'tts:No marcable'}\n"
    )
    talk = Conversation(text, channel="chat", ani=None)
    assert talk.said(talk.send(Start())) == ["Sin número"]  # chat: no number unless given
    voice = Conversation(text)
    actions = voice.send(Start())
    assert _of(Callback, actions) == [Callback("+34600111222", "uno", 60.0, 1, 600.0, True)]
    assert LeaveQueues(("uno",)) in actions and not any(a.abandon for a in _of(LeaveQueues, actions))
    env = FakeEnv({}, not_dialable={"+34600111222"})
    blocked = Conversation(text, env=env)
    assert blocked.said(blocked.send(Start())) == ["No marcable"]


def test_subflow_and_return() -> None:
    main = flow_text(
        "  a: {type: subflow, flow: sub, next: b}\n  b: {type: play, prompt: 'tts:vuelta {{vars.x}}'}\n",
        "  x: {type: int, scope: contact, default: 0}\n",
    )
    sub = flow_text(
        "  s: {type: set, assign: {vars.x: 5}, next: r}\n  r: {type: return}\n",
        "  x: {type: int, scope: contact, default: 0}\n",
        start_at="s",
        flow_id="sub",
    )
    talk = Conversation(main, sub, channel="chat")
    actions = talk.send(Start())
    assert talk.said(actions) == ["vuelta 5"] and talk.state.stack == []
    alone = Conversation(sub, channel="chat")  # return with an empty stack: as stop
    assert _of(Disconnect, alone.send(Start())) == [Disconnect()]
    missing = flow_text("  a: {type: subflow, flow: nada, on: {error: e}}\n  e: {type: play, prompt: 'tts:no'}\n")
    assert Conversation(missing, channel="chat").said(Conversation(missing, channel="chat").send(Start())) == ["no"]


def test_the_subflow_stack_has_a_limit() -> None:
    loop = flow_text(
        "  a: {type: play, prompt: 'tts:.', next: b}\n"
        "  b: {type: subflow, flow: f, on: {error: e}}\n"  # enters itself again and again
        "  e: {type: play, prompt: 'tts:hondo'}\n"
    )
    talk = Conversation(loop, channel="chat")
    actions = talk.send(Start())
    assert len(talk.state.stack) == it.MAX_STACK and talk.said(actions)[-1] == "hondo"


def test_during_a_disconnect_prompt_a_queued_contact_can_still_connect() -> None:
    text = flow_text(
        "  a: {type: queue, queue: uno, next: d}\n  d: {type: disconnect, prompt: 'tts:Adiós', tone: busy}\n"
    )
    talk = Conversation(text)
    talk.send(Start())
    assert talk.state.waiting == "disconnect" and "uno" in talk.state.queues
    talk.send(AgentConnected(), after_s=1)
    assert talk.state.status == "connected"
    gone = Conversation(text)
    gone.send(Start())
    actions = gone.send(PromptDone(), after_s=2)
    assert actions[-2:] == [LeaveQueues(("uno",)), Disconnect(tone="busy")] and gone.state.status == "ended"


# -- state, purity, the bank ----------------------------------------------------------------------------------


def test_the_state_survives_json_mid_conversation() -> None:
    talk = Conversation(flow_text(COLLECT, DNI))
    talk.send(Start())
    talk.send(PromptDone())
    talk.send(Input("12"))
    stored = json.dumps(talk.state.to_dict())
    talk.state = FlowState.from_dict(json.loads(stored))  # a restart: resumed where it was
    assert talk.said(talk.send(Input("34"))) == ["Recibido 1234 1234"]


def test_the_interpreter_is_pure() -> None:
    source = Path(it.__file__).read_text(encoding="utf-8")
    tree = ast.parse(source)
    called = {c.func.attr for c in ast.walk(tree) if isinstance(c, ast.Call) and isinstance(c.func, ast.Attribute)}
    called |= {c.func.id for c in ast.walk(tree) if isinstance(c, ast.Call) and isinstance(c.func, ast.Name)}
    assert not called & {"now", "today", "utcnow", "time", "monotonic", "sleep", "open", "urlopen", "random"}
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert not imported & {"time", "os", "socket", "random", "urllib"}


def test_the_bank_flow_serves_the_balance_after_a_pin() -> None:
    bank = load(BANK.read_text(encoding="utf-8"))
    env = FakeEnv({}, queues={"gestores": QueueInfo(schedule="gestores")}, schedules={"gestores": "open"})
    env.fake_stats.staffed.update({"gestores": 2, "gestores_premium": 1})
    talk = Conversation(BANK.read_text(encoding="utf-8"), env=env, customer={"id": 42, "segment": "retail"})
    assert talk.state.flow_id == bank.id
    talk.send(Start())
    actions = talk.send(PromptDone())  # welcome; known customer: straight to the menu
    assert talk.said(actions) == ["Saldo, pulse 1. Hablar con un gestor, pulse 2."]
    talk.send(PromptDone())
    talk.send(Input("1"))
    talk.send(PromptDone())  # "Marque su clave…"
    actions = talk.send(Input("1234"))
    assert _of(Invoke, actions) == [Invoke("banco.saldo", {"cliente": 42, "pin": "1234"}, 4.0, 3, "json")]
    actions = talk.send(InvokeDone({"disponible": "1.234,56"}))
    assert talk.said(actions) == ["Su saldo disponible es de 1.234,56 euros."]
    assert SetContact("reason", "consulta_saldo") in actions and SetContact("self_service", True) in actions


# -- found in review ------------------------------------------------------------------------------------------


def test_a_wait_plays_its_prompt_first_then_runs_its_time() -> None:
    text = flow_text("  a: {type: wait, seconds: 2, prompt: 'tts:Un momento, por favor', next: b}\n  b: {type: stop}\n")
    talk = Conversation(text)
    actions = talk.send(Start())
    assert not _of(StartTimer, actions) and talk.state.waiting == "prompt"  # no timer while the prompt plays
    actions = talk.send(PromptDone(), after_s=8)
    assert StartTimer("wait", 2.0) in actions and talk.state.waiting == "wait"
    assert _of(Disconnect, talk.send(TimerFired("wait"), after_s=2)) == [Disconnect()]


def test_a_transfer_that_succeeds_leaves_every_queue() -> None:
    text = flow_text(
        "  a: {type: queue, queue: uno, max_wait_s: 60, on: {max_wait: t}, next: t}\n"
        "  t: {type: transfer, to: {number: \"'+34910000000'\"}}\n"
    )
    talk = Conversation(text)
    talk.send(Start())
    actions = talk.send(TransferDone(ok=True))
    assert LeaveQueues(("uno",)) in actions and CancelTimer("max_wait:uno") in actions


def test_return_pops_one_level_and_the_stack_unwinds_on_an_interrupt() -> None:
    a = flow_text(
        "  a: {type: queue, queue: uno, exit_keys: {'9': h}, next: s}\n"
        "  s: {type: subflow, flow: b, next: after}\n"
        "  after: {type: play, prompt: 'tts:vuelta a A'}\n"
        "  h: {type: play, prompt: 'tts:manejador', next: r}\n"
        "  r: {type: return}\n",
        flow_id="a",
    )
    b = flow_text("  b1: {type: subflow, flow: c}\n", start_at="b1", flow_id="b")  # no next: an implicit stop
    c = flow_text("  c1: {type: return}\n", start_at="c1", flow_id="c")
    talk = Conversation(a, b, c, channel="chat")
    actions = talk.send(Start())
    assert talk.said(actions) == [] and talk.state.status == "queued"  # c returns to b's stop, not into a
    d = flow_text(
        "  a: {type: queue, queue: uno, exit_keys: {'9': h}, next: s}\n"
        "  s: {type: subflow, flow: w, next: after}\n"
        "  after: {type: play, prompt: 'tts:vuelta a A'}\n"
        "  h: {type: play, prompt: 'tts:manejador', next: r}\n"
        "  r: {type: return}\n",
        flow_id="d",
    )
    w = flow_text("  w1: {type: wait, seconds: 60, next: w1}\n", start_at="w1", flow_id="w")
    waiting = Conversation(d, w, channel="chat")
    waiting.send(Start())
    assert waiting.state.stack == [["d", "after"]]
    actions = waiting.send(Input("9"))  # the handler is in d, with d's stack: its return stops
    assert waiting.said(actions) == ["manejador"] and waiting.state.stack == [] and waiting.state.status == "ended"


def test_a_transfer_from_a_subflow_clears_every_flow_variable() -> None:
    a = flow_text(
        "  a: {type: set, assign: {vars.x: \"'secreto'\"}, next: s}\n  s: {type: subflow, flow: b}\n",
        "  x: {type: string, scope: flow}\n",
        flow_id="a",
    )
    b = flow_text("  b1: {type: transfer, to: {flow: d}}\n", start_at="b1", flow_id="b")
    d = flow_text(
        "  d1: {type: play, prompt: 'tts:x={{vars.x}}'}\n",
        "  x: {type: string, scope: flow}\n",
        start_at="d1",
        flow_id="d",
    )
    talk = Conversation(a, b, d, channel="chat")
    assert talk.said(talk.send(Start())) == ["x="]


def test_globals_are_the_tenants_value_or_their_default_never_a_stale_copy() -> None:
    text = flow_text(
        "  a: {type: set, assign: {vars.g: 1}, next: b}\n"
        "  b: {type: play, prompt: 'tts:g={{vars.g}} d={{vars.d}}', next: c}\n"
        "  c: {type: wait, seconds: 10, next: e}\n"
        "  e: {type: play, prompt: 'tts:g={{vars.g}}'}\n",
        "  g: {type: int, scope: global}\n  d: {type: int, scope: global, default: 7}\n",
    )
    talk = Conversation(text, channel="chat")
    actions = talk.send(Start())
    assert talk.said(actions) == ["g=1 d=7"] and _of(SetGlobal, actions) == [SetGlobal("g", 1)]
    talk.env.global_values["g"] = 2  # another contact wrote it since (last write wins)
    assert talk.said(talk.send(TimerFired("wait"), after_s=10)) == ["g=2"]
    assert "g" not in talk.state.vars


def test_a_callback_number_that_gives_null_is_invalid_and_replace_leaves_the_others() -> None:
    text = flow_text(
        "  a: {type: callback, number: contact.attributes.movil, on: {invalid_number: n}, next: z}\n"
        "  n: {type: play, prompt: 'tts:sin número'}\n  z: {type: stop}\n"
    )
    talk = Conversation(text)
    assert talk.said(talk.send(Start())) == ["sin número"]  # not the caller's number
    requeue = flow_text(
        "  a: {type: queue, queue: uno, next: b}\n  b: {type: queue, queue: dos, next: c}\n"
        "  c: {type: queue, queue: uno, priority: 5, replace: true, next: d}\n  d: {type: stop}\n"
    )
    again = Conversation(requeue)
    actions = again.send(Start())
    assert LeaveQueues(("dos",)) in actions and list(again.state.queues) == ["uno"]
    assert UpdateQueue("uno", 5, 0) in actions


def test_digits_typed_while_waiting_are_type_ahead_but_not_an_answer_to_an_exit_handler() -> None:
    text = flow_text(
        "  a: {type: queue, queue: uno, exit_keys: {'9': o}, next: w}\n"
        "  w: {type: wait, seconds: 60, next: w}\n"
        "  o: {type: collect, into: vars.op, on: {invalid: mal, timeout: t},"
        " options: [{value: '1', label: Sí}], next: z}\n"
        "  mal: {type: play, prompt: 'tts:mal'}\n  t: {type: play, prompt: 'tts:nada'}\n  z: {type: stop}\n",
        "  op: {type: string}\n",
    )
    talk = Conversation(text)
    talk.send(Start())
    talk.send(Input("5"))  # typed on hold
    assert talk.state.buffer == "5"
    actions = talk.send(Input("9"))
    assert talk.steps(actions) == [] and talk.state.waiting == "input"  # the 5 is not taken as the answer
    assert talk.said(talk.send(Input("1"))) == [] and talk.state.vars["op"] == "1"


def test_answers_to_a_node_run_that_is_over_are_dropped() -> None:
    """Every action carries its node run (`wait`); an event answering an earlier run (an invoke cut short by
    `max_wait`, a prompt cut short by an exit key, a timer of a queue left and joined again) changes nothing."""
    text = flow_text(
        "  a: {type: queue, queue: uno, max_wait_s: 60, exit_keys: {'9': h}, on: {max_wait: t}, next: i}\n"
        "  i: {type: invoke, function: crm.lento, result_into: {ref: vars.ref}, on: {error: z}, next: z}\n"
        "  t: {type: invoke, function: crm.open_case, result_into: {reference: vars.ref}, on: {error: z}, next: d}\n"
        "  d: {type: play, prompt: 'tts:ref={{vars.ref}}'}\n"
        "  h: {type: play, prompt: 'tts:manejador', next: h2}\n  h2: {type: play, prompt: 'tts:segundo'}\n"
        "  z: {type: stop}\n",
        "  ref: {type: string}\n",
    )
    talk = Conversation(text, channel="chat")
    actions = talk.send(Start())
    [slow] = _of(Invoke, actions)
    [timer] = [a for a in actions if isinstance(a, StartTimer) and a.name == "max_wait:uno"]
    actions = talk.send(TimerFired("max_wait:uno", wait=timer.wait), after_s=60)
    [case] = _of(Invoke, actions)
    assert case.function == "crm.open_case" and case.wait != slow.wait
    assert talk.send(InvokeDone({"ref": "LENTO"}, wait=slow.wait)) == []  # the slow one's late answer
    assert talk.said(talk.send(InvokeDone({"reference": "K7M42Q"}, wait=case.wait))) == ["ref=K7M42Q"]

    voice = Conversation(text)
    voice.send(Start())
    voice.send(InvokeDone(failure="error"))  # z: stop while queued
    first = voice.send(Input("9"))  # the exit key: the handler's first prompt plays
    [say] = [a for a in first if isinstance(a, Say)]
    assert voice.send(PromptDone(wait=say.wait - 1)) == []  # a prompt cut short earlier: not this one
    assert voice.said(voice.send(PromptDone(wait=say.wait))) == ["segundo"]
    assert voice.send(TimerFired("max_wait:uno", wait=timer.wait)) == []  # the queue was left

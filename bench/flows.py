"""Contact flows at scale: 10,000 contacts in flows at once on one process (flowlang interpreter).

    .venv/bin/python -m bench.flows                         # 10,000 contacts, half IVR, half chat bot
    .venv/bin/python -m bench.flows --contacts 2000 --rounds 1

Half the contacts call the bank's IVR (the spec's example flow, `tests/flows/banco_entrada.yaml`: a known
customer asks for the balance with a PIN, then for an agent: a case is opened and its reference read
back, the hours checked, the contact queued by segment, the position announced and the music played a few
times until an agent answers), half chat with a bot (greeting, buttons, identity check, balance or card
blocking, a case, the queue). All contacts are started, then driven round-robin one event at a time (the
next prompt done, digits, reply, function result, timer, finally the agent), so all 10,000 are in their
flows at once, each with its stored state. A fake environment answers queue figures and schedules.

Measured: every `run(state, event)` call (one event and the nodes it runs), with perf_counter_ns.
`steps_per_s` = node steps / time inside `run`; `p99_step_us` = the 99th percentile, over calls, of a
call's time divided by the node steps it ran (so one slow node among ten is diluted; `p99_event_us` is the
whole call's p99; calls that ran no node, e.g. a buffered digit, are not counted there). Not measured:
storing and loading each contact's state between events. Baseline, in the same loop right after each call:
as many plain Python function calls as the interpreter ran nodes, each a few dict reads, a comparison and
an f-string (a floor, lighter than most nodes), so the ratio is an upper bound of what the interpreter costs
over hand-written code.
The last line printed is JSON with `contacts`, `steps_per_s`, `p99_step_us` and the baseline figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench._common import machine, percentile, ratio
from centralita.flows import interpreter as it
from centralita.flows.conversation import ScriptedStats
from centralita.flows.document import Flow, check_flow

BANK_FILE = Path(__file__).resolve().parent.parent / "tests" / "flows" / "banco_entrada.yaml"
T0 = dt.datetime(2026, 12, 7, 10, 0, tzinfo=dt.UTC)

CHAT_BOT = """\
flowlang: 1
id: banco_chat
timezone: Europe/Madrid
start: hola
variables:
  opcion: {type: string, default: ""}
  pin: {type: string, sensitive: true, default: ""}
  saldo: {type: string, default: null}
  caso_ref: {type: string, scope: contact, default: null}
nodes:
  hola: {type: play, prompt: "tts:Hola{{coalesce(concat(' ', customer.name), '')}}, soy el asistente.", next: menu}
  menu:
    type: collect
    prompt: "tts:¿Qué necesita?"
    into: vars.opcion
    options: [{value: saldo, label: Saldo}, {value: tarjeta, label: Bloquear tarjeta}, {value: gestor, label: Gestor}]
    on: {invalid: menu, timeout: adios}
    next: ruta
  ruta:
    type: switch
    cases:
      - {when: "vars.opcion == 'saldo' AND customer.id != null", next: pedir_pin}
      - {when: "vars.opcion == 'tarjeta' AND customer.id != null", next: bloquear}
    default: abrir_caso
  pedir_pin: {type: collect, prompt: "tts:Escriba su clave.", into: vars.pin, valid: "len(value) == 4",
              on: {invalid: abrir_caso, timeout: adios}, next: saldo}
  saldo: {type: invoke, function: banco.saldo, input: {cliente: customer.id, pin: vars.pin},
          result_into: {disponible: vars.saldo}, on: {error: abrir_caso}, next: marcar}
  marcar: {type: set, assign: {contact.reason: "'consulta_saldo'", contact.self_service: true}, next: decir}
  decir: {type: play, prompt: "tts:Su saldo es de {{vars.saldo}} euros.", next: menu}
  bloquear: {type: invoke, function: banco.bloquear_tarjeta, input: {cliente: customer.id},
             on: {error: abrir_caso}, next: bloqueada}
  bloqueada: {type: set, assign: {contact.reason: "'bloqueo_tarjeta'", contact.self_service: true}, next: aviso_b}
  aviso_b: {type: play, prompt: "tts:Tarjeta bloqueada.", next: menu}
  abrir_caso: {type: invoke, function: crm.open_case, input: {reason: "'consulta_gestor'"},
               result_into: {reference: vars.caso_ref}, on: {error: cola}, next: leer}
  leer: {type: play, prompt: "tts:Su referencia es {{spell(vars.caso_ref)}}.", next: cola}
  cola: {type: queue, queue: chat, next: espera}
  espera: {type: wait, seconds: 60, prompt: "tts:Un gestor le atenderá en breve.", next: posicion}
  posicion: {type: play, prompt: "tts:Es el número {{position('chat')}}.", next: espera}
  adios: {type: disconnect, prompt: "tts:Hasta pronto."}
"""


QUEUES = ("gestores", "gestores_premium", "chat")


@dataclass
class Env:
    flows: dict[str, Flow]
    stats: ScriptedStats = field(
        default_factory=lambda: ScriptedStats(
            {q: {"staffed": 5, "waiting": 3, "available": 1, "ewt": 40} for q in QUEUES}, {"gestores": "open"}
        )
    )
    # a contact center has global variables (none of these flows reads them): they must cost nothing
    globals: Mapping[str, Any] = field(default_factory=lambda: {f"global_{n}": n for n in range(20)})

    def flow(self, flow_id: str) -> Flow | None:
        return self.flows.get(flow_id)

    def queue(self, queue: str) -> it.QueueInfo | None:
        return it.QueueInfo(schedule="gestores")

    def schedule_state(self, schedule: str, now: dt.datetime) -> str | None:
        return "open"

    def prompt(self, prompt_id: str, language: str) -> str | None:
        return None

    def dialable(self, number: str) -> bool:
        return True


RESULTS: dict[str, dict[str, Any]] = {
    "banco.saldo": {"disponible": "1.234,56"},
    "banco.bloquear_tarjeta": {},
    "crm.open_case": {"case_id": 1, "reference": "K7M42Q"},
}


class Caller:
    """One contact's side of the conversation: answers whatever its flow waits for."""

    def __init__(self, n: int, flow: Flow) -> None:
        voice = flow.id == "banco_entrada"
        contact = {"id": n, "channel": "voice" if voice else "chat", "ani": "+34600000000", "language": "es"}
        customer = {"id": n, "name": "Ana", "segment": "premium" if n % 5 == 0 else "retail"}
        self.state = it.start(flow, contact, customer)
        self.menu_turns = 0
        self.waits = 0
        self.started = False

    def next_event(self) -> it.Event | None:
        s = self.state
        if not self.started:
            self.started = True
            return it.Start()
        if s.status != "running" or (s.status == "running" and s.waiting is None):
            if s.status == "queued":
                return it.AgentConnected()
            return None
        waiting, node = s.waiting, s.node
        if waiting in ("prompt", "disconnect"):
            return it.PromptDone()
        if waiting == "wait":
            self.waits += 1
            return it.AgentConnected() if self.waits > 3 else it.TimerFired("wait")
        if waiting == "invoke":
            return it.InvokeDone(RESULTS[_function(self.state, node)])
        if waiting == "input":
            return it.Input(self.reply(node or ""))
        if waiting == "transfer":
            return it.TransferDone(ok=True)
        return None

    def reply(self, node: str) -> str:
        if node == "menu":
            self.menu_turns += 1
            if self.state.contact["channel"] == "voice":
                return "1" if self.menu_turns == 1 else "2"
            return ("saldo", "tarjeta", "gestor")[min(self.menu_turns - 1, 2)]
        if node in ("pedir_pin",):
            return "1234"
        if node == "ofrecer":
            return "2"
        return "1"


_FLOWS: dict[str, Flow] = {}


def _function(state: it.FlowState, node: str | None) -> str:
    return str(_FLOWS[state.flow_id].nodes[node or ""].params["function"])


# -- the baseline: the same steps as plain Python function calls ---------------------------------------------


def _plain_node(ctx: dict[str, Any], n: int) -> str:
    """What one node does, written by hand: read the contact's data, decide, say something."""
    customer = ctx["customer"]
    if customer["id"] is not None and customer["segment"] == "premium":
        ctx["priority"] = 3
    ctx["steps"] = ctx.get("steps", 0) + 1
    return f"Paso {n}: su saldo disponible es de {ctx['saldo']} euros."


def baseline_call(ctx: dict[str, Any], steps: int) -> None:
    """The same number of node steps as the interpreter ran for this event, as plain function calls."""
    for n in range(steps):
        _plain_node(ctx, n)


# -- the run --------------------------------------------------------------------------------------------------


def _load(text: str, source: str) -> Flow:
    checked = check_flow(text, source)
    if checked.flow is None:
        raise SystemExit("\n".join(str(d) for d in checked.diagnostics))
    return checked.flow


def run_bench(contacts: int, log: Callable[[str], None]) -> dict[str, Any]:
    bank = _load(BANK_FILE.read_text(encoding="utf-8"), str(BANK_FILE))
    chat = _load(CHAT_BOT, "banco_chat.yaml")
    _FLOWS.update({bank.id: bank, chat.id: chat})
    env = Env(dict(_FLOWS))
    callers = [Caller(n, bank if n % 2 == 0 else chat) for n in range(contacts)]
    contexts = [{"customer": {"id": n, "segment": "retail"}, "saldo": "1.234,56"} for n in range(contacts)]
    per_step: list[float] = []
    per_call: list[int] = []
    base_calls: list[int] = []
    steps = calls = 0
    ours_ns = base_ns = 0
    now = T0
    clock = time.perf_counter_ns
    active = list(range(contacts))
    rounds = 0
    gc.collect()
    gc.freeze()
    while active:
        rounds += 1
        still = []
        now += dt.timedelta(seconds=1)
        for n in active:
            caller = callers[n]
            event = caller.next_event()
            if event is None:
                continue
            before = caller.state.steps
            t0 = clock()
            it.run(caller.state, event, now, env)
            t1 = clock()
            ran = caller.state.steps - before
            baseline_call(contexts[n], ran)
            t2 = clock()
            ours_ns += t1 - t0
            base_ns += t2 - t1
            per_call.append(t1 - t0)
            base_calls.append(t2 - t1)
            calls += 1
            steps += ran
            if ran:
                per_step.append((t1 - t0) / ran / 1000)
            still.append(n)
        active = still
        if rounds % 10 == 0:
            log(f"round {rounds}: {len(active):,} contacts still in their flows, {steps:,} steps")
    gc.unfreeze()
    per_step.sort()
    per_call_us = sorted(c / 1000 for c in per_call)
    base_us = sorted(c / 1000 for c in base_calls)
    ended = sum(1 for c in callers if c.state.status in ("connected", "ended"))
    return {
        "contacts": contacts,
        "ended_or_connected": ended,
        "events": calls,
        "steps": steps,
        "rounds": rounds,
        "steps_per_s": round(steps / (ours_ns / 1e9)) if ours_ns else 0,
        "events_per_s": round(calls / (ours_ns / 1e9)) if ours_ns else 0,
        "p50_step_us": round(percentile(per_step, 50), 1),
        "p99_step_us": round(percentile(per_step, 99), 1),
        "p99_event_us": round(percentile(per_call_us, 99), 1),
        "baseline": {
            "what": "one plain Python function call per node step, same events",
            "events_per_s": round(calls / (base_ns / 1e9)) if base_ns else 0,
            "p99_event_us": round(percentile(base_us, 99), 1),
        },
        "ratio_event_time": ratio(ours_ns / max(calls, 1), base_ns / max(calls, 1)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3, help="runs; the figures of the median run are printed")
    args = parser.parse_args(argv)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    runs = []
    for n in range(args.rounds):
        result = run_bench(args.contacts, log)
        log(
            f"run {n + 1}: {result['steps']:,} steps, {result['steps_per_s']:,} steps/s, "
            f"p99 step {result['p99_step_us']} µs, p99 event {result['p99_event_us']} µs; "
            f"baseline {result['baseline']['events_per_s']:,} events/s; ratio {result['ratio_event_time']}x"
        )
        runs.append(result)
    runs.sort(key=lambda r: r["steps_per_s"])
    out = runs[len(runs) // 2]
    out["runs"] = [{"steps_per_s": r["steps_per_s"], "p99_step_us": r["p99_step_us"]} for r in runs]
    out["targets"] = {"p99_step_under_1ms": out["p99_step_us"] < 1000, "steps_per_s_50k": out["steps_per_s"] >= 50_000}
    out["machine"] = machine()
    print(json.dumps({"bench": "flows", **out}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

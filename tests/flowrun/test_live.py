"""Flows running live over the API: a contact reaching an entry point runs its flow (recognised first),
its steps on the timeline with secrets masked, its messages readable, its queue joined through the
routing engine, its flow stopping when an agent connects, and its end recorded as what it was."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from centralita.core.actor import Actor
from centralita.entrypoints.actions import do_create_entry_point
from centralita.entrypoints.schemas import EntryPointCreate
from centralita.flowrun.functions import Call, register
from centralita.flowstore.actions import do_publish_flow
from centralita.store import tables as t
from tests.flowrun.conftest import Live

BOT = """\
flowlang: 1
id: bot
start: hola
variables:
  pin: {type: string, scope: flow, default: "", sensitive: true}
  opcion: {type: string, scope: flow, default: ""}
nodes:
  hola: {type: play, prompt: "tts:Hola{{customer.name}}.", next: menu}
  menu:
    type: collect
    prompt: "tts:¿Qué desea?"
    options: [{value: "1", label: Clave}, {value: "2", label: Agente}]
    into: vars.opcion
    next: ruta
  ruta: {type: switch, cases: [{when: "vars.opcion == '1'", next: clave}], default: cola}
  clave: {type: collect, prompt: "tts:Su clave.", into: vars.pin, max_digits: 4, next: servido}
  servido: {type: set, assign: {contact.self_service: true, contact.reason: "'consulta_saldo'"}, next: adios}
  adios: {type: disconnect, prompt: "tts:Adiós."}
  cola: {type: queue, queue: atencion, next: espera}
  espera: {type: wait, seconds: 30, prompt: "tts:Espere, por favor.", next: espera}
"""


def publish(live: Live, source: str = BOT, code: str = "bot", address: str = "web-banco-1", kind: str = "chat") -> None:
    svc, world = live.service, live.api.a
    with svc.db.write() as s:
        actor = Actor(tenant_id=world.tenant_id, role="admin", username="setup", clock=svc.clock)
        do_publish_flow(s, actor, source, f"{code}.yaml")
        do_create_entry_point(
            s,
            actor,
            EntryPointCreate(code=f"ep_{code}", name=code, kind=kind, address=address, flow=code),
        )


def arrive(live: Live, to: str = "web-banco-1", channel: str = "chat", **extra: Any) -> dict[str, Any]:
    body = {"channel": channel, "from": extra.pop("from_", "chat-77"), "to": to, **extra}
    resp = live.client("supervisor").post("/api/contacts", json=body)
    assert resp.status_code == 201, resp.text
    return dict(resp.json())


def said(live: Live, contact_id: int) -> list[tuple[str, str]]:
    resp = live.client("supervisor").get(f"/api/contacts/{contact_id}/messages")
    assert resp.status_code == 200, resp.text
    return [(m["sender"], m["text"]) for m in resp.json()["messages"]]


def send(live: Live, contact_id: int, text: str) -> dict[str, Any]:
    resp = live.client("supervisor").post(f"/api/contacts/{contact_id}/input", json={"text": text})
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


def run_of(live: Live, contact_id: int) -> t.ContactFlowRun:
    with live.service.db.read() as s:
        run = s.get(t.ContactFlowRun, contact_id)
        assert run is not None
        s.expunge(run)
        return run


def steps(live: Live, contact_id: int) -> list[tuple[str, str, str | None]]:
    return [
        (e["data"]["node"], e["data"]["outcome"], e["data"]["input"])
        for e in live.contact(contact_id)["timeline"]
        if e["type"] == "flow.step"
    ]


def settle(live: Live) -> None:
    assert live.service.flows is not None
    live.service.flows.settle()
    live.sync()


def test_a_contact_at_an_entry_point_runs_its_flow_and_is_served_without_an_agent(live: Live) -> None:
    publish(live)
    contact = arrive(live)
    assert contact["status"] == "arrived" and contact["queue_id"] is None
    cid = contact["id"]
    assert said(live, cid) == [("bot", "Hola."), ("bot", "¿Qué desea?")]
    buttons = live.client("supervisor").get(f"/api/contacts/{cid}/messages").json()["messages"][-1]["options"]
    assert buttons == [{"value": "1", "label": "Clave"}, {"value": "2", "label": "Agente"}]
    answer = send(live, cid, "1")
    assert [m["text"] for m in answer["messages"]] == ["1", "Su clave."]
    done = send(live, cid, "1234")
    assert [(m["sender"], m["text"]) for m in done["messages"]] == [("customer", "****"), ("bot", "Adiós.")]
    assert done["status"] == "closed" and done["flow_status"] == "ended"
    row = live.contact(cid)
    assert (row["self_service"], row["disconnect_reason"]) == (True, "CONTACT_FLOW_DISCONNECT")
    assert row["outcome"] == "self_service"
    assert steps(live, cid) == [
        ("hola", "next", None),
        ("menu", "next", "1"),
        ("ruta", "case 1", None),
        ("clave", "next", "****"),
        ("servido", "next", None),
        ("adios", "next", None),
    ]
    timeline = live.contact(cid)["timeline"]
    assert "1234" not in str(timeline)  # the PIN is nowhere on the timeline
    assert [e["type"] for e in timeline][:3] == ["contact.arrived", "flow.started", "flow.step"]
    assert row["collected"]["flow"] == "bot" and "pin" not in row["collected"]["vars"]
    assert row["collected"]["vars"] == {"opcion": "1"}


def test_a_flow_queues_the_contact_and_stops_when_an_agent_connects(live: Live) -> None:
    publish(live)
    cid = arrive(live)["id"]
    answer = send(live, cid, "2")
    assert answer["status"] == "queued" and answer["flow_status"] == "running"
    assert [m["text"] for m in answer["messages"]] == ["2", "Espere, por favor."]
    settle(live)
    assert set(run_of(live, cid).timers) == {"wait"}
    live.clock.advance(30)  # the wait ends: the flow loops (on chat, its prompt is said again)
    assert live.service.flows is not None
    live.service.flows.fire_due()
    settle(live)
    assert [m for m in said(live, cid) if m[0] == "bot"][-2:] == [("bot", "Espere, por favor.")] * 2
    live.available()
    assert live.offered_to(cid) == live.agent_id("ana")
    accepted = live.client("agent").post(f"/api/contacts/{cid}/accept")
    assert accepted.status_code == 200, accepted.text
    settle(live)
    run = run_of(live, cid)
    assert (run.status, run.timers) == ("connected", {})
    assert live.contact(cid)["status"] == "connected"


def test_hanging_up_in_the_flow_is_not_an_abandon(live: Live) -> None:
    publish(live)
    cid = arrive(live)["id"]
    resp = live.client("supervisor").post(f"/api/contacts/{cid}/customer-disconnect")
    assert resp.status_code == 200, resp.text
    row = live.contact(cid)
    assert (row["status"], row["outcome"], row["queue_outcome"]) == ("closed", "hung_up_in_flow", None)
    assert run_of(live, cid).status == "ended"


def test_without_a_queue_the_contact_needs_an_entry_point(live: Live) -> None:
    resp = live.client("supervisor").post("/api/contacts", json={"channel": "chat", "from": "x", "to": "nadie-aqui"})
    assert resp.status_code == 422
    assert resp.json()["errors"][0]["field"] == "to"
    resp = live.client("supervisor").post("/api/contacts", json={"channel": "chat", "from": "x"})
    assert resp.status_code == 422 and resp.json()["errors"][0]["field"] == "to"
    with live.service.db.read() as s:
        assert s.scalar(select(t.Contact.id)) is None  # nothing written


def test_the_agent_is_offered_everything_the_flow_collected(live: Live) -> None:
    publish(live)
    cid = arrive(live, from_="chat-99")["id"]
    send(live, cid, "2")
    live.available()
    assert live.offered_to(cid) == live.agent_id("ana")
    with live.service.db.read() as s:
        offered = [
            e.data
            for e in s.scalars(select(t.Event).where(t.Event.contact_id == cid, t.Event.type == "contact.offered"))
        ]
    [offer] = offered
    collected = offer["contact"]["collected"]
    assert (collected["flow"], collected["version"], collected["vars"]) == ("bot", 1, {"opcion": "2"})
    assert offer["contact"]["self_service"] is False


COUNTER = """\
flowlang: 1
id: contador
start: llamar
nodes:
  llamar: {type: invoke, function: pruebas.contador, timeout_s: 30, on: {error: fin}, next: fin}
  fin: {type: disconnect, prompt: "tts:Adiós."}
"""
_called: list[int] = []
_answer = threading.Event()


def _contador(call: Call) -> Mapping[str, Any]:
    _called.append(call.contact_id)
    _answer.wait(10)
    return {}


register("pruebas.contador", _contador)


def test_a_function_that_answered_is_not_called_again_before_its_answer_is_applied(live: Live) -> None:
    publish(live, COUNTER, "contador", "web-contador")
    _called.clear()
    _answer.clear()
    cid = arrive(live, to="web-contador")["id"]
    for _try in range(100):
        if _called:
            break
        time.sleep(0.05)
    assert _called == [cid]
    assert live.service.flows is not None
    with live.service.db.write() as s:  # the contact locked: the answer waits for this transaction
        s.scalar(select(t.Contact).where(t.Contact.id == cid).with_for_update())
        _answer.set()
        time.sleep(0.3)  # the function has answered; its answer is not applied yet
        live.service.flows.poke(live.api.a.tenant_id, cid)  # the runner looks at the contact meanwhile
        time.sleep(0.3)
    settle(live)
    assert _called == [cid]  # once: a second call would have opened a second case, blocked a card twice…
    assert said(live, cid) == [("bot", "Adiós.")]

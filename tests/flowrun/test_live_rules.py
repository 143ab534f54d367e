"""Flows live, by rule: a contact keeps the flow version it started with; `check_hours` reads the stored
calendars; a callback keeps the original's place and is not an abandon; the statistics functions read the
live queues; an exit key leaves every queue; re-queuing changes the priority only."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from centralita.core.actor import Actor
from centralita.flowstore.actions import do_publish_flow
from centralita.queues.actions import do_create_hours
from centralita.queues.schemas import HoursCreate, WeeklyInterval
from centralita.store import tables as t
from tests.flowrun.conftest import Live
from tests.flowrun.test_live import BOT, arrive, publish, said, send, settle

HOURS = """\
flowlang: 1
id: horas
start: horario
variables: {nada: {type: string, scope: flow, default: ""}}
nodes:
  horario: {type: check_hours, schedule: oficina, on: {closed: cerrado}, next: cola}
  cola: {type: queue, queue: atencion, exit_keys: {"9": ofrecer}, next: aviso}
  aviso:
    type: play
    prompt: >-
      tts:Posición {{position('atencion')}} de {{queue_size('atencion')}};
      libres {{agents_available('atencion')}}.
    next: espera
  espera: {type: wait, seconds: 60, next: aviso}
  cerrado: {type: play, prompt: "tts:Estamos cerrados.", next: ofrecer}
  ofrecer: {type: callback, number: "'+34600111222'", queue: atencion, next: hecho}
  hecho: {type: disconnect, prompt: "tts:Le llamaremos."}
"""


def _actor(live: Live) -> Actor:
    return Actor(tenant_id=live.api.a.tenant_id, role="admin", username="setup", clock=live.service.clock)


def _hours(live: Live, open_now: bool) -> None:
    weekly = [WeeklyInterval(day=d, start="00:00", end="23:59") for d in range(1, 8)] if open_now else []
    with live.service.db.write() as s:
        do_create_hours(s, _actor(live), HoursCreate(code="oficina", name="Oficina", timezone="UTC", weekly=weekly))


def _row(live: Live, contact_id: int) -> dict[str, Any]:
    return live.contact(contact_id)


def test_a_contact_keeps_the_version_it_started_with(live: Live) -> None:
    publish(live)
    first = arrive(live)["id"]
    with live.service.db.write() as s:
        do_publish_flow(s, _actor(live), BOT.replace("tts:Su clave.", "tts:Su clave secreta."), "bot.yaml")
    assert [m["text"] for m in send(live, first, "1")["messages"]] == ["1", "Su clave."]  # still version 1
    second = arrive(live, from_="chat-2")["id"]
    assert [m["text"] for m in send(live, second, "1")["messages"]] == ["1", "Su clave secreta."]
    assert (_row(live, first)["collected"]["version"], _row(live, second)["collected"]["version"]) == (1, 2)


def test_out_of_hours_the_flow_offers_a_callback_that_is_not_an_abandon(live: Live) -> None:
    _hours(live, open_now=False)
    publish(live, HOURS, "horas")
    cid = arrive(live)["id"]
    assert said(live, cid) == [("bot", "Estamos cerrados."), ("bot", "Le llamaremos.")]
    row = _row(live, cid)
    assert (row["status"], row["outcome"]) == ("closed", "callback")
    callback = _row(live, row["next_contact_id"])
    assert (callback["initiation_method"], callback["direction"], callback["dnis"]) == (
        "CALLBACK",
        "outbound",
        "+34600111222",
    )
    assert callback["status"] == "queued" and callback["previous_contact_id"] == cid
    assert row["collected"]["callback"]["contact_id"] == callback["id"]


def test_a_callback_keeps_the_original_place_in_the_queue(live: Live) -> None:
    _hours(live, open_now=True)
    publish(live, HOURS, "horas")
    first = arrive(live, from_="chat-1")["id"]
    second = arrive(live, from_="chat-2")["id"]
    assert said(live, first)[-1] == ("bot", "Posición 1 de 1; libres 0.")
    assert said(live, second)[-1] == ("bot", "Posición 2 de 2; libres 0.")
    live.clock.advance(5)
    left = send(live, first, "9")  # the exit key: out of every queue, to the callback
    assert [m["text"] for m in left["messages"]] == ["9", "Le llamaremos."]
    original = _row(live, first)
    assert original["outcome"] == "callback" and original["queue_outcome"] != "abandoned"
    callback = original["next_contact_id"]
    with live.service.db.read() as s:
        kept = s.scalar(select(t.ContactMembership).where(t.ContactMembership.contact_id == callback))
        was = s.scalar(select(t.ContactMembership).where(t.ContactMembership.contact_id == first))
        assert kept is not None and was is not None
        assert (kept.joined_at, kept.arrival_seq) == (was.joined_at, was.arrival_seq)
    live.sync()
    live.available()
    assert live.offered_to(callback) == live.agent_id("ana")  # before the second, who came later
    assert live.offered_to(second) is None
    settle(live)


EXIT = """\
flowlang: 1
id: salida
start: cola
variables: {vuelve: {type: string, scope: flow, default: ""}}
nodes:
  cola: {type: queue, queue: atencion, exit_keys: {"9": fuera}, next: espera}
  espera: {type: wait, seconds: 60, prompt: "tts:Espere.", next: espera}
  fuera: {type: collect, prompt: "tts:Ha salido de la cola. ¿Vuelve?", into: vars.vuelve, next: cola}
"""


def test_an_exit_key_leaves_every_queue_and_the_flow_can_queue_it_again(live: Live) -> None:
    publish(live, EXIT, "salida")
    cid = arrive(live)["id"]
    assert _row(live, cid)["status"] == "queued"
    out = send(live, cid, "9")
    assert (out["status"], out["messages"][-1]["text"]) == ("arrived", "Ha salido de la cola. ¿Vuelve?")
    row = _row(live, cid)
    assert row["queue_outcome"] == "other:flow"
    types = [e["type"] for e in row["timeline"]]
    assert "contact.dequeued" in types and "contact.abandoned" not in types
    back = send(live, cid, "sí")
    assert back["status"] == "queued"
    live.available()
    assert live.offered_to(cid) == live.agent_id("ana")


STEPS = """\
flowlang: 1
id: pasos
start: cola
variables: {nada: {type: string, scope: flow, default: ""}}
nodes:
  cola:
    type: queue
    queue: atencion
    steps:
      - {require: "agent.skills.banca >= 5 AND contact.channel == 'chat'", duration_s: 30}
      - {require: "agent.id == customer.owner OR agent.skills.banca >= 1"}
    next: espera
  espera: {type: wait, seconds: 600, next: espera}
"""


def test_a_queue_nodes_steps_route_live(live: Live) -> None:
    publish(live, STEPS, "pasos")
    cid = arrive(live)["id"]
    with live.service.db.read() as s:
        m = s.scalar(select(t.ContactMembership).where(t.ContactMembership.contact_id == cid))
        assert m is not None and m.routing is not None
        assert m.routing["steps"] == [
            {"skills": [["banca", 5]], "agents": None, "duration_s": 30},
            {"skills": [], "agents": None, "duration_s": None},  # an OR: not routable, any agent
        ]
    live.available()
    assert live.offered_to(cid) is None  # Ana's banca is 4: not for the first 30 s
    live.advance(31)
    assert live.offered_to(cid) == live.agent_id("ana")


LIBRARY = """\
flowlang: 1
id: idiomas
start: hola
variables: {nada: {type: string, scope: flow, default: ""}}
nodes:
  hola: {type: play, prompt: saludo, next: fin}
  fin: {type: disconnect, prompt: "tts:."}
"""


def test_library_prompts_are_said_in_the_contacts_language(live: Live) -> None:
    with live.service.db.write() as s:
        now = live.clock.now()
        texts = {"es": "Hola, {{contact.channel}}.", "en": "Hello, {{contact.channel}}."}
        s.add(t.Prompt(tenant_id=live.api.a.tenant_id, code="saludo", texts=texts, created_at=now, updated_at=now))
    publish(live, LIBRARY, "idiomas")
    spanish = arrive(live)["id"]
    english = arrive(live, from_="chat-3", language="en")["id"]
    assert said(live, spanish)[0] == ("bot", "Hola, chat.")
    assert said(live, english)[0] == ("bot", "Hello, chat.")

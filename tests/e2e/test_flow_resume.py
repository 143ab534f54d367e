"""SIGKILL in the middle of a chat-bot conversation (issue 11 point 3): `centralita up` (its workers and its
routing process) is killed while a visitor talks to the bot and while another waits in a flow's `wait`;
after a restart on the same database the first conversation goes on at the node it was in, with what it
had collected, and the second one's timer, come due while the server was down, fires at once."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from centralita.core.actor import Actor
from centralita.core.settings import load_settings
from centralita.entrypoints.actions import do_create_entry_point
from centralita.entrypoints.schemas import EntryPointCreate
from centralita.flowstore.actions import do_publish_flow
from centralita.service import Service
from centralita.store import tables as t
from tests.e2e.real_server import Up, base_env, prepare, start_up

pytestmark = pytest.mark.slow

BOT = """\
flowlang: 1
id: asistente
start: hola
variables:
  nombre: {type: string, scope: contact, default: ""}
  motivo: {type: string, scope: contact, default: ""}
nodes:
  hola: {type: play, prompt: "tts:Hola, soy el asistente.", next: pedir_nombre}
  pedir_nombre: {type: collect, prompt: "tts:¿Cómo se llama?", into: vars.nombre, next: pedir_motivo}
  pedir_motivo:
    type: collect
    prompt: "tts:{{vars.nombre}}, ¿en qué le ayudo? Escriba 'esperar' para que le llame un gestor."
    into: vars.motivo
    next: ruta
  ruta: {type: switch, cases: [{when: "vars.motivo == 'esperar'", next: espera}], default: gracias}
  espera: {type: wait, seconds: 4, prompt: "tts:Un momento, por favor.", next: sigue}
  sigue: {type: play, prompt: "tts:Gracias por esperar, {{vars.nombre}}.", next: adios}
  gracias: {type: play, prompt: "tts:Anotado, {{vars.nombre}}: {{vars.motivo}}.", next: adios}
  adios: {type: disconnect, prompt: "tts:Hasta pronto."}
"""


def _setup(env: dict[str, str]) -> None:
    """The bot published and reachable at the widget key `web-e2e-1`, through the real actions."""
    settings = load_settings({}, env=env)
    svc = Service.start(settings)
    try:
        with svc.db.write() as s:
            tenant = s.query(t.Tenant).one()
            actor = Actor(tenant_id=tenant.id, role="admin", username="setup", clock=svc.clock)
            do_publish_flow(s, actor, BOT, "asistente.yaml")
            do_create_entry_point(
                s,
                actor,
                EntryPointCreate(code="web", name="Web", kind="chat", address="web-e2e-1", flow="asistente"),
            )
    finally:
        svc.close()


def _texts(resp: httpx.Response) -> list[str]:
    assert resp.status_code in (200, 201), resp.text
    return [m["text"] for m in resp.json()["messages"] if m["sender"] == "bot"]


def _kill(up: Up) -> None:
    up.proc.send_signal(signal.SIGKILL)  # the workers and the routing process die with it (PDEATHSIG)
    up.proc.wait(timeout=10)
    time.sleep(1.0)


def _messages(url: str, conversation: dict[str, Any]) -> list[str]:
    resp = httpx.get(
        f"{url}/api/chat/conversations/{conversation['contact_id']}/messages",
        headers={"X-Chat-Token": conversation["token"]},
        timeout=10,
    )
    return _texts(resp)


def test_a_chat_bot_conversation_survives_sigkill(db_url: str, tmp_path: Path) -> None:
    env = base_env(tmp_path / "data", db_url, workers="2")
    prepare(env)
    _setup(env)
    up = start_up(env, tmp_path / "up.log")
    try:
        talking = httpx.post(f"{up.url}/api/chat/web-e2e-1/conversations", json={}, timeout=10)
        assert _texts(talking) == ["Hola, soy el asistente.", "¿Cómo se llama?"]
        talk = talking.json()
        headers = {"X-Chat-Token": talk["token"]}
        said = httpx.post(
            f"{up.url}/api/chat/conversations/{talk['contact_id']}/messages", json={"text": "Ana"}, headers=headers
        )
        assert _texts(said) == ["Ana, ¿en qué le ayudo? Escriba 'esperar' para que le llame un gestor."]
        waiting = httpx.post(f"{up.url}/api/chat/web-e2e-1/conversations", json={}, timeout=10).json()
        wait_headers = {"X-Chat-Token": waiting["token"]}
        url = f"{up.url}/api/chat/conversations/{waiting['contact_id']}/messages"
        httpx.post(url, json={"text": "Luis"}, headers=wait_headers, timeout=10)
        answer = httpx.post(url, json={"text": "esperar"}, headers=wait_headers, timeout=10)
        assert _texts(answer) == ["Un momento, por favor."]
        _kill(up)
        time.sleep(4.0)  # the wait comes due while nothing runs
        up = start_up(env, tmp_path / "up2.log", port=up.port)
        deadline = time.monotonic() + 30
        while "Gracias por esperar, Luis." not in _messages(up.url, waiting) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _messages(up.url, waiting)[-2:] == ["Gracias por esperar, Luis.", "Hasta pronto."]
        # the first conversation goes on at the node it was in, with the name it had collected
        went_on = httpx.post(
            f"{up.url}/api/chat/conversations/{talk['contact_id']}/messages",
            json={"text": "una transferencia"},
            headers=headers,
            timeout=10,
        )
        assert _texts(went_on) == ["Anotado, Ana: una transferencia.", "Hasta pronto."]
        assert went_on.json()["status"] == "closed"
        assert _messages(up.url, talk)[:2] == ["Hola, soy el asistente.", "¿Cómo se llama?"]
    finally:
        up.stop()

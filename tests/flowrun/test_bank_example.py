"""The specification's bank example end to end over the API (issue 11 point 10): the demo contact center
(Banco Ejemplo) loaded, routing and the flow runner started, and its phone line `+34900100200`
(`banco_entrada`) and web chat `demo-banco-web` (`banco_chat`) driven as a caller and a visitor would, with
its real customers, accounts, PINs, cases, queues, agents and hours; on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from centralita.api.app import create_app
from centralita.demo.loader import load_demo
from centralita.dispatch.runner import Dispatcher
from centralita.flowrun.runner import FlowRunner
from centralita.flows.interpreter import COLLECT_TIMEOUT_S
from centralita.service import Service
from centralita.store import tables as t

PASSWORD = "demo-password-1"
LINE = "+34900100200"
WIDGET = "demo-banco-web"
CUSTOMERS = 40
MADRID = zoneinfo.ZoneInfo("Europe/Madrid")
UNKNOWN = "+34600999001"  # nobody's number
MENU_ES = (
    "Para consultar su saldo, pulse 1. Para bloquear una tarjeta, pulse 2. Para hablar con un gestor, pulse 3. "
    "For English, press 9."
)


@dataclass(frozen=True)
class Customer:
    id: int
    name: str
    segment: str
    phone: str  # their first phone number
    pin: str  # its last four digits
    national_id: str | None
    owner_agent_id: int | None
    account: dict[str, Any]


@dataclass
class Bank:
    """The demo loaded into the service, a client per login, and the caller's side of its phone line."""

    service: Service
    tenant_id: int
    clients: dict[str, TestClient] = field(default_factory=dict)

    @property
    def flows(self) -> FlowRunner:
        assert self.service.flows is not None
        return self.service.flows

    @property
    def dispatch(self) -> Dispatcher:
        assert self.service.dispatch is not None
        return self.service.dispatch

    def client(self, username: str = "supervisor") -> TestClient:
        if username not in self.clients:
            client = TestClient(create_app(self.service))
            resp = client.post("/api/auth/login", json={"username": username, "password": PASSWORD, "tenant": "demo"})
            assert resp.status_code == 200, resp.text
            client.headers["X-CSRF-Token"] = resp.json()["csrf_token"]
            self.clients[username] = client
        return self.clients[username]

    def settle(self) -> None:
        """Let the flow runner finish what it does (function calls) and the router catch up."""
        for _round in range(3):
            self.flows.settle()
            self.dispatch.sync()
        self.flows.settle()

    def clock_advance(self, seconds: float) -> None:
        clock: Any = self.service.clock
        clock.advance(seconds)
        self.settle()

    def at(self, when: dt.datetime) -> None:
        """Move the clock to `when` (later), firing what came due."""
        clock: Any = self.service.clock
        clock.advance((when - clock.now()).total_seconds())
        self.flows.fire_due()
        self.settle()

    # the caller's side

    def call(self, from_: str) -> int:
        resp = self.client().post("/api/contacts", json={"channel": "voice", "from": from_, "to": LINE})
        assert resp.status_code == 201, resp.text
        self.settle()
        return int(resp.json()["id"])

    def press(self, contact_id: int, digits: str) -> list[tuple[str, str]]:
        """Send the digits; what was said from then on (after any function the flow called answered)."""
        before = len(self.said(contact_id))
        resp = self.client().post(f"/api/contacts/{contact_id}/input", json={"text": digits})
        assert resp.status_code == 200, resp.text
        self.settle()
        return self.said(contact_id)[before:]

    def hang_up(self, contact_id: int) -> None:
        resp = self.client().post(f"/api/contacts/{contact_id}/customer-disconnect")
        assert resp.status_code == 200, resp.text
        self.settle()

    def said(self, contact_id: int) -> list[tuple[str, str]]:
        resp = self.client().get(f"/api/contacts/{contact_id}/messages")
        assert resp.status_code == 200, resp.text
        return [(m["sender"], m["text"]) for m in resp.json()["messages"]]

    def contact(self, contact_id: int) -> dict[str, Any]:
        resp = self.client().get(f"/api/contacts/{contact_id}")
        assert resp.status_code == 200, resp.text
        return dict(resp.json())

    def timeline(self, contact_id: int) -> list[dict[str, Any]]:
        return list(self.contact(contact_id)["timeline"])

    def steps(self, contact_id: int) -> list[tuple[str, str, str | None]]:
        return [
            (e["data"]["node"], e["data"]["outcome"], e["data"]["input"])
            for e in self.timeline(contact_id)
            if e["type"] == "flow.step"
        ]

    # the contact center's side

    def available(self, agent: str) -> None:
        resp = self.client(agent).post("/api/agents/me/state", json={"state": "available"})
        assert resp.status_code == 200, resp.text
        self.settle()

    def agent_id(self, code: str) -> int:
        with self.service.db.read() as s:
            found = s.scalar(select(t.Agent.id).where(t.Agent.tenant_id == self.tenant_id, t.Agent.code == code))
            assert found is not None
            return int(found)

    def offered(self, contact_id: int) -> list[dict[str, Any]]:
        with self.service.db.read() as s:
            return [
                dict(e.data)
                for e in s.scalars(
                    select(t.Event)
                    .where(t.Event.contact_id == contact_id, t.Event.type == "contact.offered")
                    .order_by(t.Event.seq)
                )
            ]

    def customers(self) -> list[Customer]:
        with self.service.db.read() as s:
            out = []
            for row in s.scalars(
                select(t.Customer).where(t.Customer.tenant_id == self.tenant_id).order_by(t.Customer.id)
            ):
                identities = list(
                    s.scalars(
                        select(t.CustomerIdentity)
                        .where(t.CustomerIdentity.customer_id == row.id)
                        .order_by(t.CustomerIdentity.id)
                    )
                )
                phones = [i.value for i in identities if i.kind == "phone"]
                ids = [i.value for i in identities if i.kind == "national_id"]
                out.append(
                    Customer(
                        id=row.id,
                        name=row.name,
                        segment=str(row.segment),
                        phone=phones[0],
                        pin=phones[0][-4:],
                        national_id=ids[0] if ids else None,
                        owner_agent_id=row.owner_agent_id,
                        account=dict(row.attributes["banco"]),
                    )
                )
            return out

    def customer(self, segment: str = "particulares", national_id: bool = False, owner: bool = False) -> Customer:
        """A demo customer of `segment` (with a DNI, with a manager, when asked)."""
        for c in self.customers():
            if c.segment != segment or (owner and c.owner_agent_id is None):
                continue
            if national_id and not (c.national_id and c.national_id[:8].isdigit()):
                continue
            return c
        raise AssertionError(f"no demo customer of {segment} (national_id={national_id}, owner={owner})")

    def queue_id(self, code: str) -> int:
        with self.service.db.read() as s:
            found = s.scalar(select(t.Queue.id).where(t.Queue.tenant_id == self.tenant_id, t.Queue.code == code))
            assert found is not None
            return int(found)

    def offered_agents(self, contact_id: int) -> list[int]:
        from centralita.contacts.queries import open_offers

        with self.service.db.read() as s:
            return [o.agent_id for o in open_offers(s, contact_id)]

    def reason_id(self, code: str) -> int:
        with self.service.db.read() as s:
            found = s.scalar(select(t.Reason.id).where(t.Reason.tenant_id == self.tenant_id, t.Reason.code == code))
            assert found is not None
            return int(found)

    def card_state(self, customer_id: int) -> str:
        with self.service.db.read() as s:
            row = s.get(t.Customer, customer_id)
            assert row is not None
            return str(row.attributes["banco"]["tarjeta_estado"])


@pytest.fixture
def bank(service: Service) -> Bank:
    result = load_demo(service, customers=CUSTOMERS, days=1, password=PASSWORD)
    out = Bank(service, result.tenant_id)
    out.client()  # log in before routing starts
    service.start_routing()
    out.settle()
    return out


def madrid(year: int, month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=MADRID).astimezone(dt.UTC)


def spanish(amount: float) -> str:
    """17120.82 → 17.120,82, as the bank says it."""
    return f"{amount:,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".")


def types(timeline: list[dict[str, Any]]) -> list[str]:
    return [e["type"] for e in timeline]


# --- 1. a known customer's balance -------------------------------------------------------------------------


def test_a_known_caller_hears_their_balance_after_their_pin(bank: Bank) -> None:
    ana = bank.customer()
    cid = bank.call(ana.phone)
    row = bank.contact(cid)
    assert (row["customer_id"], row["status"], row["queue_id"]) == (ana.id, "arrived", None)
    assert bank.said(cid) == [
        ("bot", "Bienvenido a Banco Ejemplo."),
        ("bot", f"Hola, {ana.name}."),
        ("bot", MENU_ES),
    ]
    assert bank.press(cid, "1") == [("customer", "1"), ("bot", "Marque su clave de cuatro cifras.")]
    balance = spanish(ana.account["saldo"])
    assert bank.press(cid, ana.pin) == [
        ("customer", "****"),
        ("bot", f"Su saldo disponible es de {balance} euros."),
        ("bot", MENU_ES),
    ]
    row = bank.contact(cid)
    assert (row["reason_id"], row["self_service"]) == (bank.reason_id("consulta_saldo"), True)
    assert row["collected"]["reason"] == "consulta_saldo"
    assert [(f["function"], f["outcome"]) for f in row["collected"]["functions"]] == [("banco.saldo", "next")]
    steps = bank.steps(cid)
    assert steps == [
        ("bienvenida", "next", None),
        ("conocido", "case 1", None),
        ("saludo", "next", None),
        ("menu", "next", "1"),
        ("menu_ruta", "case 1", None),
        ("pedir_pin", "next", "****"),
        ("consultar_saldo", "next", None),
        ("marcar_saldo", "next", None),
        ("decir_saldo", "next", None),
    ]
    everything = str(bank.timeline(cid)) + str(bank.said(cid)) + str(row["collected"])
    assert ana.pin not in everything.replace(
        ana.phone, ""
    )  # the PIN is nowhere: timeline, messages, what the agent would see
    bank.hang_up(cid)
    row = bank.contact(cid)
    assert (row["status"], row["outcome"], row["queue_outcome"]) == ("closed", "self_service", None)
    assert "contact.abandoned" not in types(bank.timeline(cid))


# --- 2. a wrong PIN: a case, then an agent ---------------------------------------------------------------


def wrong(pin: str) -> str:
    return "0000" if pin != "0000" else "1111"


def test_a_wrong_pin_opens_a_case_read_back_and_queues_for_an_agent_who_sees_it(bank: Bank) -> None:
    bank.available("javier.gomez")  # works `atencion`
    ana = bank.customer()
    cid = bank.call(ana.phone)
    bank.press(cid, "1")
    said = bank.press(cid, wrong(ana.pin))
    with bank.service.db.read() as s:
        [case] = s.scalars(
            select(t.Case)
            .join(t.CaseContact, t.CaseContact.case_id == t.Case.id)
            .where(t.CaseContact.contact_id == cid)
        )
        s.expunge(case)
    assert (case.customer_id, case.subject, case.status) == (ana.id, "clave_erronea", "open")
    spelled = ", ".join(" ".join(part) for part in case.reference.split("-"))  # BHT-MRS: B H T, M R S
    assert said[:2] == [("customer", "****"), ("bot", f"Su referencia es {spelled}.")]
    row = bank.contact(cid)
    assert (row["status"], row["queue_id"]) == ("queued", bank.queue_id("atencion"))
    assert bank.offered_agents(cid) == [bank.agent_id("javier.gomez")]
    [offer] = bank.offered(cid)
    collected = offer["contact"]["collected"]
    assert collected["case"] == {"id": case.id, "reference": case.reference}
    assert [(f["function"], f["outcome"]) for f in collected["functions"]] == [
        ("banco.saldo", "error"),
        ("crm.open_case", "next"),
    ]
    assert ana.pin not in str(collected)


# --- 3. blocking a card --------------------------------------------------------------------------------------


def test_a_caller_blocks_their_card_with_their_pin(bank: Bank) -> None:
    ana = bank.customer()
    assert bank.card_state(ana.id) == "activa"
    cid = bank.call(ana.phone)
    assert bank.press(cid, "2") == [
        ("customer", "2"),
        ("bot", "Para bloquear su tarjeta, marque su clave de cuatro cifras."),
    ]
    assert bank.press(cid, ana.pin) == [
        ("customer", "****"),
        ("bot", "Su tarjeta ha quedado bloqueada. Le enviaremos una nueva."),
        ("bot", MENU_ES),
    ]
    assert bank.card_state(ana.id) == "bloqueada"
    row = bank.contact(cid)
    assert (row["reason_id"], row["self_service"]) == (bank.reason_id("bloqueo_tarjeta"), True)
    with bank.service.db.read() as s:
        updated = s.scalars(
            select(t.Event).where(t.Event.customer_id == ana.id, t.Event.type == "customer.updated")
        ).all()
    assert len(updated) == 1


# --- 4. an unknown caller gives their DNI --------------------------------------------------------------------


def test_an_unknown_caller_is_identified_by_their_dni(bank: Bank) -> None:
    ana = bank.customer(national_id=True)
    assert ana.national_id is not None
    cid = bank.call(UNKNOWN)
    assert bank.contact(cid)["customer_id"] is None
    assert bank.said(cid) == [
        ("bot", "Bienvenido a Banco Ejemplo."),
        ("bot", "Para identificarle, marque los ocho números de su DNI."),
    ]
    said = bank.press(cid, ana.national_id[:8])  # its eight digits, without the letter
    assert said == [("customer", ana.national_id[:8]), ("bot", MENU_ES)]
    row = bank.contact(cid)
    assert (row["customer_id"], row["customer_name"]) == (ana.id, ana.name)
    identified = [e for e in row["timeline"] if e["type"] == "contact.identified"]
    assert [e["data"]["by"] for e in identified] == ["national_id"]
    assert bank.press(cid, "1")[-1] == ("bot", "Marque su clave de cuatro cifras.")  # now a known customer


# --- 5. a premium customer --------------------------------------------------------------------------------


def test_a_premium_customer_queues_in_premium_with_priority_3_their_manager_first(bank: Bank) -> None:
    best = bank.agent_id("beatriz.ramos")  # Banca Premium's most skilled: she would take it, but for the manager
    vip = next(c for c in bank.customers() if c.segment == "premium" and c.owner_agent_id not in (None, best))
    assert vip.owner_agent_id is not None
    premium = bank.queue_id("premium")
    with bank.service.db.read() as s:
        owner_row = s.get(t.Agent, vip.owner_agent_id)
        assert owner_row is not None
        owner = owner_row.code
    bank.available("beatriz.ramos")  # idle longer than the manager, too
    bank.clock_advance(20)
    bank.available(owner)
    cid = bank.call(vip.phone)
    said = bank.press(cid, "3")
    assert said[0] == ("customer", "3") and said[1][1].startswith("Su referencia es ")
    assert said[2] == ("bot", "Su posición es 1. Para que le llamemos, pulse 9.")
    assert [(node, outcome) for node, outcome, _input in bank.steps(cid)][-5:] == [
        ("horario", "open"),
        ("segmento", "case 1"),
        ("premium", "next"),
        ("en_cola", "next"),
        ("aviso", "next"),
    ]
    row = bank.contact(cid)
    assert (row["status"], row["queue_id"], row["priority"]) == ("queued", premium, 3)
    with bank.service.db.read() as s:
        [m] = s.scalars(select(t.ContactMembership).where(t.ContactMembership.contact_id == cid))
        assert (m.queue_id, m.priority) == (premium, 3)
        assert m.routing is not None
        assert [(st["agents"], st["duration_s"]) for st in m.routing["steps"]] == [
            ([vip.owner_agent_id], 30),  # the customer's own manager for 30 s
            (None, None),  # then anyone
        ]
    assert bank.offered_agents(cid) == [vip.owner_agent_id]
    [offer] = bank.offered(cid)
    assert offer["contact"]["collected"]["vars"]["cola"] == "premium"


# --- 6. out of hours: a callback -------------------------------------------------------------------------


def test_out_of_hours_the_caller_is_offered_a_callback(bank: Bank) -> None:
    bank.at(madrid(2026, 1, 11, 23))  # Sunday night: closed
    ana = bank.customer()
    cid = bank.call(ana.phone)
    said = bank.press(cid, "3")
    assert said[1][1].startswith("Su referencia es ")  # a case for the manager to call about
    assert said[-2:] == [
        ("bot", "Nuestros gestores atienden de lunes a viernes de ocho a ocho y los sábados de nueve a dos."),
        ("bot", "Para que un gestor le llame, pulse 1. Si no, pulse 2."),
    ]
    assert bank.press(cid, "1") == [("customer", "1"), ("bot", "Le llamaremos lo antes posible. Gracias.")]
    row = bank.contact(cid)
    assert (row["status"], row["outcome"]) == ("closed", "callback")
    assert "contact.abandoned" not in types(row["timeline"])
    assert "contact.queued" not in types(row["timeline"])  # closed: never queued
    assert ("horario", "closed", None) in bank.steps(cid)
    callback = bank.contact(row["next_contact_id"])
    assert (
        callback["initiation_method"],
        callback["direction"],
        callback["channel"],
        callback["dnis"],
        callback["status"],
        callback["queue_id"],
        callback["customer_id"],
        callback["previous_contact_id"],
    ) == ("CALLBACK", "outbound", "voice", ana.phone, "queued", bank.queue_id("atencion"), ana.id, cid)


# --- 7. English -------------------------------------------------------------------------------------------------


def test_nine_at_the_menu_speaks_english_from_then_on(bank: Bank) -> None:
    ana = bank.customer()
    cid = bank.call(ana.phone)
    assert bank.press(cid, "9") == [
        ("customer", "9"),
        ("bot", "For your balance, press 1. To block a card, press 2. To speak to an adviser, press 3."),
    ]
    assert bank.contact(cid)["language"] == "en"
    assert bank.press(cid, "1") == [("customer", "1"), ("bot", "Please key in your four-digit PIN.")]
    said = bank.press(cid, ana.pin)
    assert said[1][1].startswith("Your available balance is ")


# --- 8. the web chat at night ----------------------------------------------------------------------------------


def test_the_web_chat_serves_the_balance_at_night_and_offers_a_callback(bank: Bank) -> None:
    ana = bank.customer(national_id=True)
    assert ana.national_id is not None
    bank.at(madrid(2026, 1, 11, 23))  # Sunday night: closed
    web = TestClient(create_app(bank.service))  # the visitor: no login, the conversation's token
    resp = web.post(f"/api/chat/{WIDGET}/conversations", json={})  # a visitor the site does not vouch for
    assert resp.status_code == 201, resp.text
    cid, token = resp.json()["contact_id"], resp.json()["token"]
    headers = {"X-Chat-Token": token}

    def send(text: str) -> list[tuple[str, str]]:
        before = read()
        resp = web.post(f"/api/chat/conversations/{cid}/messages", json={"text": text}, headers=headers)
        assert resp.status_code == 200, resp.text
        bank.settle()
        return read()[len(before) :]

    def read() -> list[tuple[str, str]]:
        resp = web.get(f"/api/chat/conversations/{cid}/messages", headers=headers)
        assert resp.status_code == 200, resp.text
        return [(m["sender"], m["text"]) for m in resp.json()["messages"]]

    assert read() == [("bot", "Hola, soy el asistente de Banco Ejemplo."), ("bot", "¿En qué puedo ayudarle?")]
    buttons = web.get(f"/api/chat/conversations/{cid}/messages", headers=headers).json()["messages"][-1]["options"]
    assert [b["value"] for b in buttons] == ["saldo", "tarjeta", "gestor"]
    assert send("saldo") == [
        ("customer", "saldo"),
        ("bot", "Para identificarle, escriba su DNI (ocho números y la letra)."),
    ]
    assert send(ana.national_id) == [  # crm.identify: the contact is Ana's from now on
        ("customer", ana.national_id),
        ("bot", f"Gracias, {ana.name}."),
        ("bot", "Escriba su clave de cuatro cifras."),
    ]
    assert send(ana.pin) == [
        ("customer", "****"),
        ("bot", f"Su saldo disponible es de {spanish(ana.account['saldo'])} euros."),
        ("bot", "¿En qué puedo ayudarle?"),
    ]
    row = bank.contact(cid)
    assert (row["customer_id"], row["self_service"], row["reason_id"]) == (
        ana.id,
        True,
        bank.reason_id("consulta_saldo"),
    )
    said = send("gestor")  # nobody at this hour: a case, then a callback to a number the visitor types
    with bank.service.db.read() as s:
        [case] = s.scalars(
            select(t.Case)
            .join(t.CaseContact, t.CaseContact.case_id == t.Case.id)
            .where(t.CaseContact.contact_id == cid)
        )
        reference = case.reference
    assert said == [
        ("customer", "gestor"),
        ("bot", f"Su referencia es {reference}."),
        ("bot", "Ahora no hay gestores disponibles. Si nos deja un teléfono, le llamaremos."),
    ]
    assert send("612 345 678") == [  # a callback's number is in E.164
        ("customer", "612 345 678"),
        ("bot", "Ese número no es válido; escríbalo con el prefijo, por ejemplo +34600123456."),
        ("bot", "Ahora no hay gestores disponibles. Si nos deja un teléfono, le llamaremos."),
    ]
    assert send("+34612345678") == [
        ("customer", "+34612345678"),
        ("bot", "Le llamaremos lo antes posible. ¡Hasta pronto!"),
    ]
    row = bank.contact(cid)
    assert (row["status"], row["outcome"]) == ("closed", "callback")
    assert ana.pin not in (str(row["timeline"]) + str(read()) + str(row["collected"])).replace(ana.phone, "")
    callback = bank.contact(row["next_contact_id"])
    assert (
        callback["initiation_method"],
        callback["direction"],
        callback["dnis"],
        callback["status"],
        callback["queue_id"],
        callback["customer_id"],
    ) == ("CALLBACK", "outbound", "+34612345678", "queued", bank.queue_id("atencion"), ana.id)


# --- while waiting: the position, the music, 9 for a callback that keeps the place ------------------------


def test_a_waiting_caller_hears_their_position_and_keeps_their_place_in_a_callback(bank: Bank) -> None:
    first, second = bank.customers()[:2]
    bank.available("javier.gomez")
    busy = bank.call(first.phone)
    bank.press(busy, "3")
    assert bank.offered_agents(busy) == [bank.agent_id("javier.gomez")]
    resp = bank.client("javier.gomez").post(f"/api/contacts/{busy}/accept")
    assert resp.status_code == 200, resp.text
    bank.settle()
    assert bank.contact(busy)["status"] == "connected"

    cid = bank.call(second.phone)  # the only agent is on a call: it waits
    said = bank.press(cid, "3")
    assert said[-1] == ("bot", "Su posición es 1. Para que le llamemos, pulse 9.")
    row = bank.contact(cid)
    assert (row["status"], row["queue_id"]) == ("queued", bank.queue_id("atencion"))
    enqueued = row["enqueue_ts"]
    bank.clock_advance(45)  # the music ends: the position again
    bank.flows.fire_due()
    bank.settle()
    assert bank.said(cid)[-1] == ("bot", "Su posición es 1. Para que le llamemos, pulse 9.")
    assert [n for n, _o, _i in bank.steps(cid)][-4:] == ["aviso", "musica", "desborde", "aviso"]
    assert bank.press(cid, "9") == [("customer", "9"), ("bot", "Para que un gestor le llame, pulse 1. Si no, pulse 2.")]
    assert bank.contact(cid)["status"] == "arrived"  # out of the queue, not an abandon
    assert bank.press(cid, "1") == [("customer", "1"), ("bot", "Le llamaremos lo antes posible. Gracias.")]
    row = bank.contact(cid)
    assert (row["status"], row["outcome"], row["queue_outcome"]) == ("closed", "callback", "other:flow")
    callback = bank.contact(row["next_contact_id"])
    assert (callback["initiation_method"], callback["dnis"], callback["status"]) == (
        "CALLBACK",
        second.phone,
        "queued",
    )
    assert callback["enqueue_ts"] == enqueued  # its place in the queue, kept


# --- a caller who says nothing -----------------------------------------------------------------------------


def test_a_silent_caller_gets_a_case_and_an_agent(bank: Bank) -> None:
    bank.available("javier.gomez")
    ana = bank.customer()
    cid = bank.call(ana.phone)
    assert bank.said(cid)[-1] == ("bot", MENU_ES)
    bank.clock_advance(4)
    bank.flows.fire_due()
    bank.settle()
    assert bank.contact(cid)["status"] == "arrived"  # still time to answer
    bank.clock_advance(COLLECT_TIMEOUT_S["voice"])
    bank.flows.fire_due()
    bank.settle()
    assert ("menu", "timeout", None) in bank.steps(cid)
    row = bank.contact(cid)
    assert row["collected"]["case"]["reference"]
    with bank.service.db.read() as s:
        assert len(s.scalars(select(t.CaseContact).where(t.CaseContact.contact_id == cid)).all()) == 1
        run = s.get(t.ContactFlowRun, cid)
        assert run is not None and "collect" not in run.timers  # spent: never armed again
    assert bank.offered_agents(cid) == [bank.agent_id("javier.gomez")]

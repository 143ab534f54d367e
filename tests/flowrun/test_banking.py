"""The demo bank's self-service functions against a loaded demo: every customer has an account and a PIN
(the last four digits of their first phone), the PIN is stored hashed and shown to no one; `banco.saldo`
answers the balance in the Spanish format after the right PIN; `banco.bloquear_tarjeta` blocks the card
through the CRM (an event), idempotently."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from centralita.crm.pins import hash_pin, pin_matches
from centralita.crm.queries import customer_360, customer_public, flow_customer
from centralita.demo.accounts import demo_pin, plan_account, spanish_amount
from centralita.demo.banking import bloquear_tarjeta, saldo
from centralita.demo.loader import DEFAULT_SEED, load_demo
from centralita.events.log import read_events
from centralita.flowrun.functions import Call, FunctionFailed, Functions, load_modules, registered
from centralita.flows.interpreter import Invoke
from centralita.service import Service
from centralita.store import tables as t

NOW = dt.datetime(2026, 12, 7, 10, 0, tzinfo=dt.UTC)


@dataclass
class Demo:
    service: Service
    tenant_id: int
    customer: t.Customer
    phone: str


@pytest.fixture
def demo(service: Service) -> Demo:
    result = load_demo(service, customers=3, days=1, password="una clave larga")
    with service.db.read() as s:
        customer = s.scalars(select(t.Customer).where(t.Customer.tenant_id == result.tenant_id).order_by(t.Customer.id))
        first = next(iter(customer))
        phone = s.scalars(
            select(t.CustomerIdentity.value)
            .where(t.CustomerIdentity.customer_id == first.id, t.CustomerIdentity.kind == "phone")
            .order_by(t.CustomerIdentity.id)
        ).first()
        assert phone is not None
        return Demo(service, result.tenant_id, first, phone)


def _call(demo: Demo, **inputs: Any) -> Call:
    return Call(demo.service.db, demo.tenant_id, 1, "voice", "es", inputs, NOW)


def _customer(demo: Demo) -> t.Customer:
    with demo.service.db.read() as s:
        row = s.get(t.Customer, demo.customer.id)
        assert row is not None
        return row


def test_every_demo_customer_has_an_account_and_a_hashed_pin(demo: Demo) -> None:
    account = demo.customer.attributes["banco"]
    assert account == plan_account(DEFAULT_SEED, 0, demo.phone).attributes()  # the first customer planned
    assert account["tarjeta_estado"] == "activa" and len(account["tarjeta"]) == 4
    pin = demo_pin(demo.phone)
    assert pin == demo.phone[-4:]
    with demo.service.db.read() as s:
        stored = s.scalar(select(t.CustomerPin.pin_hash).where(t.CustomerPin.customer_id == demo.customer.id))
        assert stored is not None and pin not in stored.split("$")[-1] and stored.startswith("pbkdf2_sha256$")
        assert pin_matches(s, demo.tenant_id, demo.customer.id, pin)
        assert not pin_matches(s, demo.tenant_id, demo.customer.id, "0000" if pin != "0000" else "1111")
        assert not pin_matches(s, demo.tenant_id + 1, demo.customer.id, pin)  # another tenant's customer
        n_customers = len(list(s.scalars(select(t.Customer.id).where(t.Customer.tenant_id == demo.tenant_id))))
        n_pins = len(
            list(s.scalars(select(t.CustomerPin.customer_id).where(t.CustomerPin.tenant_id == demo.tenant_id)))
        )
        assert n_pins == n_customers == 3
        # what agents and flows see of the customer holds no trace of the PIN
        shown = [
            customer_public(s, demo.customer).model_dump_json(),
            json.dumps(flow_customer(s, demo.customer)),
            customer_360(s, demo.tenant_id, "ES", "phone", demo.phone).model_dump_json(),  # type: ignore[union-attr]
            json.dumps([e.data for e in read_events(s, demo.tenant_id) if e.customer_id == demo.customer.id]),
        ]
    for text in shown:
        assert "pbkdf2" not in text and stored.split("$")[-1] not in text


def test_the_same_seed_gives_the_same_accounts() -> None:
    assert plan_account(7, 3, "+34600111222") == plan_account(7, 3, "+34600111222")
    assert plan_account(7, 3, "+34600111222") != plan_account(7, 4, "+34600111222")
    assert hash_pin("1234") != hash_pin("1234")  # salted


def test_spanish_amounts() -> None:
    assert [spanish_amount(x) for x in (0, 5.5, 1234.56, 1234567.891)] == ["0,00", "5,50", "1.234,56", "1.234.567,89"]


def test_saldo_with_the_right_pin(demo: Demo) -> None:
    expected = spanish_amount(demo.customer.attributes["banco"]["saldo"])
    assert saldo(_call(demo, cliente=demo.customer.id, pin=demo_pin(demo.phone))) == {"disponible": expected}
    assert saldo(_call(demo, cliente=str(demo.customer.id), pin=demo_pin(demo.phone))) == {"disponible": expected}


@pytest.mark.parametrize("pin", ["0000x", "", None, 1234])
def test_saldo_with_a_wrong_or_missing_pin_fails(demo: Demo, pin: Any) -> None:
    with pytest.raises(FunctionFailed):
        saldo(_call(demo, cliente=demo.customer.id, pin=pin))


def test_saldo_wrong_pin_and_unidentified_caller(demo: Demo) -> None:
    right = demo_pin(demo.phone)
    wrong = f"{(int(right) + 1) % 10000:04d}"
    with pytest.raises(FunctionFailed, match="PIN"):
        saldo(_call(demo, cliente=demo.customer.id, pin=wrong))
    with pytest.raises(FunctionFailed, match="not identified"):
        saldo(_call(demo, cliente=None, pin=right))


def test_bloquear_tarjeta_blocks_once_with_an_event(demo: Demo) -> None:
    pin = demo_pin(demo.phone)
    card = demo.customer.attributes["banco"]["tarjeta"]
    with pytest.raises(FunctionFailed):
        bloquear_tarjeta(_call(demo, cliente=demo.customer.id, pin="abcd"))
    assert _customer(demo).attributes["banco"]["tarjeta_estado"] == "activa"
    assert bloquear_tarjeta(_call(demo, cliente=demo.customer.id, pin=pin)) == {"tarjeta": card, "estado": "bloqueada"}
    after = _customer(demo)
    assert after.attributes["banco"]["tarjeta_estado"] == "bloqueada"
    assert after.attributes["banco"]["saldo"] == demo.customer.attributes["banco"]["saldo"]
    assert after.attributes["provincia"] == demo.customer.attributes["provincia"]  # the rest kept

    def updates() -> list[Any]:
        with demo.service.db.read() as s:
            return [
                e
                for e in read_events(s, demo.tenant_id)
                if e.type == "customer.updated" and e.customer_id == demo.customer.id
            ]

    [event] = updates()
    assert event.ts == NOW and "attributes" in event.data["changes"]
    # again: the same answer, nothing written
    assert bloquear_tarjeta(_call(demo, cliente=demo.customer.id, pin=pin)) == {"tarjeta": card, "estado": "bloqueada"}
    assert len(updates()) == 1


def test_the_demo_module_loads_by_name_and_runs_through_functions(demo: Demo) -> None:
    load_modules(["centralita.demo.banking"])
    assert {"banco.saldo", "banco.bloquear_tarjeta"} <= registered()

    async def scenario() -> Any:
        functions = Functions(demo.service.db)
        try:
            invoke = Invoke("banco.saldo", {"cliente": demo.customer.id, "pin": demo_pin(demo.phone)}, 4, 3, "json")
            return await functions.call(demo.tenant_id, 1, "voice", "es", invoke, NOW)
        finally:
            await functions.aclose()

    done = asyncio.run(scenario())
    assert done.failure is None and done.result == {
        "disponible": spanish_amount(demo.customer.attributes["banco"]["saldo"])
    }

"""The built-in flow functions on SQLite and PostgreSQL: `crm.identify` (a match becomes the contact's
customer, with its event; no match or a wrong value is an error; another customer re-identifies) and
`crm.open_case` (a case opened for the contact and its customer, linked, with a reference; the contact's
`collected` merged)."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from centralita.contacts.live import do_create_live_contact
from centralita.contacts.schemas import LiveContactCreate
from centralita.crm.actions import do_create_customer
from centralita.crm.schemas import CustomerCreate, IdentityCreate
from centralita.events.log import read_events
from centralita.flowrun.builtins import crm_identify, crm_open_case
from centralita.flowrun.functions import Call, FunctionFailed, Functions
from centralita.flows.interpreter import Invoke
from centralita.queues.actions import do_create_reason, do_create_reason_group
from centralita.queues.schemas import ReasonCreate, ReasonGroupCreate
from centralita.service import Service
from centralita.store import tables as t
from tests.factories import make_world

NOW = dt.datetime(2026, 12, 7, 10, 0, tzinfo=dt.UTC)


@dataclass
class Bank:
    service: Service
    tenant_id: int
    lucia: int  # customer ids
    pedro: int
    contact: int  # a live contact from an unknown number


@pytest.fixture
def bank(service: Service) -> Bank:
    world = make_world(service, "norte")
    admin = world.admin
    with service.db.write() as s:
        lucia = do_create_customer(
            s,
            admin,
            CustomerCreate(
                name="Lucía Pérez",
                segment="premium",
                value_tier="alto",
                lifecycle_stage="active",
                identities=[
                    IdentityCreate(kind="national_id", value="12345678Z"),
                    IdentityCreate(kind="phone", value="+34600111222"),
                ],
                attributes={"oficina": "0042"},
            ),
        )
        pedro = do_create_customer(
            s, admin, CustomerCreate(name="Pedro Ruiz", identities=[IdentityCreate(kind="email", value="p@x.es")])
        )
        contact = do_create_live_contact(
            s,
            admin,
            LiveContactCreate.model_validate({"channel": "voice", "from": "+34911000000", "queue": "atencion"}),
        )
        do_create_reason_group(s, admin, ReasonGroupCreate(code="tarjetas", name_es="Tarjetas", name_en="Cards"))
        do_create_reason(
            s,
            admin,
            ReasonCreate(
                code="consulta_gestor", group="tarjetas", name_es="Consulta al gestor", name_en="Ask a manager"
            ),
        )
        return Bank(service, world.tenant_id, lucia.id, pedro.id, contact.id)


def _call(bank: Bank, **inputs: Any) -> Call:
    return Call(bank.service.db, bank.tenant_id, bank.contact, "voice", "es", inputs, NOW)


def _contact(bank: Bank) -> t.Contact:
    with bank.service.db.read() as s:
        row = s.get(t.Contact, bank.contact)
        assert row is not None
        return row


def _events(bank: Bank, type_: str) -> list[Any]:
    with bank.service.db.read() as s:
        return [e for e in read_events(s, bank.tenant_id) if e.type == type_ and e.contact_id == bank.contact]


def test_identify_sets_the_contacts_customer(bank: Bank) -> None:
    assert _contact(bank).customer_id is None
    result = crm_identify(_call(bank, kind="national_id", value="12345678-z"))  # normalised as stored
    customer = result["customer"]
    assert (customer["id"], customer["name"], customer["segment"]) == (bank.lucia, "Lucía Pérez", "premium")
    assert customer["attributes"] == {"oficina": "0042"} and customer["open_cases"] == 0
    row = _contact(bank)
    assert (row.customer_id, row.customer_name, row.segment, row.value_tier, row.lifecycle_stage) == (
        bank.lucia,
        "Lucía Pérez",
        "premium",
        "alto",
        "active",
    )
    [event] = _events(bank, "contact.identified")
    assert event.data == {"by": "national_id", "segment": "premium"}
    assert (event.customer_id, event.ts) == (bank.lucia, NOW)
    crm_identify(_call(bank, kind="phone", value="600 111 222"))  # the same customer again: no new event
    assert len(_events(bank, "contact.identified")) == 1


def test_identify_as_another_customer_reidentifies(bank: Bank) -> None:
    crm_identify(_call(bank, kind="national_id", value="12345678Z"))
    crm_identify(_call(bank, kind="email", value="P@X.es"))
    row = _contact(bank)
    assert (row.customer_id, row.customer_name, row.segment) == (bank.pedro, "Pedro Ruiz", None)
    assert [e.data["by"] for e in _events(bank, "contact.identified")] == ["national_id", "email"]


@pytest.mark.parametrize(
    "inputs",
    [
        {"kind": "national_id", "value": "99999999R"},  # nobody
        {"kind": "phone", "value": "no es un número"},  # not a phone number: nobody
        {"kind": "planeta", "value": "marte"},  # no such kind
        {"kind": "national_id"},  # no value
    ],
)
def test_identify_without_a_match_fails_and_changes_nothing(bank: Bank, inputs: dict[str, Any]) -> None:
    with pytest.raises(FunctionFailed):
        crm_identify(_call(bank, **inputs))
    assert _contact(bank).customer_id is None
    assert _events(bank, "contact.identified") == []


def test_identify_through_functions_gives_the_customer_to_the_flow(bank: Bank) -> None:
    async def scenario() -> Any:
        functions = Functions(bank.service.db)
        try:
            invoke = Invoke("crm.identify", {"kind": "national_id", "value": "12345678Z"}, 4, 3, "json", wait=3)
            found = await functions.call(bank.tenant_id, bank.contact, "voice", "es", invoke, NOW)
            missing = Invoke("crm.identify", {"kind": "national_id", "value": "00000000T"}, 4, 3, "json", wait=4)
            not_found = await functions.call(bank.tenant_id, bank.contact, "voice", "es", missing, NOW)
            return found, not_found
        finally:
            await functions.aclose()

    found, not_found = asyncio.run(scenario())
    assert found.failure is None and found.wait == 3 and found.result["customer"]["id"] == bank.lucia
    assert (not_found.failure, not_found.wait) == ("error", 4)


def test_open_case_for_the_contact_and_its_customer(bank: Bank) -> None:
    crm_identify(_call(bank, kind="national_id", value="12345678Z"))
    with bank.service.db.write() as s:  # what the flow runtime keeps there: merged, not overwritten
        row = s.get(t.Contact, bank.contact)
        assert row is not None
        row.collected = {"flow": "banco_entrada", "vars": {"opcion": "saldo"}}
    result = crm_open_case(_call(bank, reason="consulta_gestor"))
    assert set(result) == {"case_id", "reference"}
    assert re.fullmatch(r"[0-9A-Z]{3}-[0-9A-Z]{3}", result["reference"])
    with bank.service.db.read() as s:
        case = s.get(t.Case, result["case_id"])
        assert case is not None
        reason = s.scalar(
            select(t.Reason).where(t.Reason.tenant_id == bank.tenant_id, t.Reason.code == "consulta_gestor")
        )
        assert reason is not None
        assert (case.reference, case.customer_id, case.reason_id, case.subject, case.status) == (
            result["reference"],
            bank.lucia,
            reason.id,
            "Consulta al gestor",
            "open",
        )
        links = list(s.scalars(select(t.CaseContact.contact_id).where(t.CaseContact.case_id == case.id)))
        assert links == [bank.contact]
    assert _contact(bank).collected == {
        "flow": "banco_entrada",
        "vars": {"opcion": "saldo"},
        "case": {"id": result["case_id"], "reference": result["reference"]},
    }
    assert [e.type for e in _events(bank, "case.opened")] == ["case.opened"]
    assert len(_events(bank, "case.contact_linked")) == 1


def test_open_case_with_a_code_outside_the_taxonomy_and_no_customer(bank: Bank) -> None:
    result = crm_open_case(_call(bank, reason="clave_erronea"))
    with bank.service.db.read() as s:
        case = s.get(t.Case, result["case_id"])
        assert case is not None
        assert (case.customer_id, case.reason_id, case.subject) == (None, None, "clave_erronea")
    second = crm_open_case(_call(bank))
    assert second["reference"] != result["reference"]
    with bank.service.db.read() as s:
        case = s.get(t.Case, second["case_id"])
        assert case is not None and case.subject == "Abierto por un flujo de contacto"  # the tenant's language
    assert _contact(bank).collected["case"] == {"id": second["case_id"], "reference": second["reference"]}


def test_functions_do_not_reach_another_tenants_contact(bank: Bank) -> None:
    other = make_world(bank.service, "sur").tenant_id
    call = Call(bank.service.db, other, bank.contact, "voice", "es", {"reason": "x"}, NOW)
    with pytest.raises(FunctionFailed):
        crm_open_case(call)
    call = Call(bank.service.db, other, bank.contact, "voice", "es", {"kind": "national_id", "value": "12345678Z"}, NOW)
    with pytest.raises(FunctionFailed):  # that tenant has no such customer
        crm_identify(call)

"""Entry points and HTTP flow functions: schemas (each bad field its own error), actions (one event each,
addresses unique across contact centers, the flow published), queries (normalised lookups, inactive ones not
found); on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from centralita.core.actor import Actor
from centralita.core.errors import Conflict, InvalidInput
from centralita.entrypoints.actions import (
    do_create_entry_point,
    do_create_function,
    do_update_entry_point,
    do_update_function,
)
from centralita.entrypoints.queries import (
    active_functions,
    entry_point_for,
    find_entry_point,
    function_public,
    get_entry_point,
    list_entry_points,
)
from centralita.entrypoints.schemas import (
    EntryPointCreate,
    EntryPointUpdate,
    FunctionCreate,
    FunctionUpdate,
    normalize_address,
)
from centralita.events.log import read_events
from centralita.flowstore.actions import do_publish_flow
from centralita.service import Service
from tests.factories import make_world
from tests.flows.test_flowstore import FLOW

PHONE = {"code": "telefono", "name": "Teléfono", "kind": "phone", "address": "+34 900 100 200", "flow": "entrada"}


def _errors(model: type[BaseModel], data: dict[str, Any]) -> dict[str, str]:
    """field path → message of every error `model` finds in `data`."""
    with pytest.raises(ValidationError) as info:
        model.model_validate(data)
    return {".".join(str(p) for p in e["loc"]): e["msg"] for e in info.value.errors()}


def _admin(service: Service, slug: str, publish: bool = True) -> Actor:
    world = make_world(service, slug)
    actor = Actor(tenant_id=world.tenant_id, role="admin", username=f"admin@{slug}", clock=service.clock)
    if publish:
        with service.db.write() as s:
            do_publish_flow(s, actor, FLOW, "entrada.yaml")
    return actor


def _events(service: Service, tenant_id: int, prefix: str) -> list[tuple[str, dict[str, Any]]]:
    with service.db.read() as s:
        return [(e.type, e.data) for e in read_events(s, tenant_id, after_seq=0) if e.type.startswith(prefix)]


# --- schemas ------------------------------------------------------------------------------------------------------


def test_addresses_are_normalised_by_kind() -> None:
    assert normalize_address("phone", " +34 900-100-200 ", None) == "+34900100200"
    assert normalize_address("phone", "0034900100200", None) == "+34900100200"
    assert normalize_address("phone", "900 100 200", None) == "900 100 200"  # national: the action completes it
    assert normalize_address("phone", "900 100 200", "ES") == "+34900100200"
    assert normalize_address("phone", "(212) 555-0100", "US") == "+12125550100"
    assert normalize_address("email", " Atencion@Banco.Example ", None) == "atencion@banco.example"
    assert normalize_address("chat", "demo-banco-web", None) == "demo-banco-web"
    for kind, bad in (
        ("phone", "llámame"),
        ("phone", "+1"),
        ("phone", "+" + "1" * 30),
        ("chat", "short"),
        ("chat", "has space inside"),
        ("chat", "x" * 65),
        ("email", "no-at-sign"),
        ("email", "a@b"),
        ("email", "a b@c.example"),
        ("email", "a@" + "b" * 300 + ".example"),
    ):
        with pytest.raises(ValueError):
            normalize_address(kind, bad, "ES")


def test_entry_point_schema_names_each_bad_field() -> None:
    ok = EntryPointCreate.model_validate(PHONE)
    assert (ok.address, ok.language) == ("+34900100200", "es")
    assert (
        EntryPointCreate.model_validate({**PHONE, "kind": "email", "address": "A@B.example"}).address == "a@b.example"
    )
    errors = _errors(
        EntryPointCreate,
        {"code": "Mal Código", "name": "", "kind": "fax", "address": "x", "flow": "9flow", "language": "fr"},
    )
    assert set(errors) == {"code", "name", "kind", "flow", "language"}  # no address check without a kind
    assert "fax" in errors["kind"] and "fr" in errors["language"]
    assert set(_errors(EntryPointCreate, {**PHONE, "address": "no es un número"})) == {"address"}
    assert set(_errors(EntryPointCreate, {**PHONE, "kind": "chat", "address": "corta"})) == {"address"}
    assert set(_errors(EntryPointCreate, {**PHONE, "address": "+34 900\x00100"})) == {"address"}
    assert set(_errors(EntryPointCreate, {**PHONE, "address": "9" * 10_000})) == {"address"}
    assert set(_errors(EntryPointCreate, {**PHONE, "name": "x" * 201})) == {"name"}
    assert set(_errors(EntryPointCreate, {**PHONE, "name": "a\x00b"})) == {"name"}
    assert set(_errors(EntryPointCreate, {**PHONE, "surprise": 1})) == {"surprise"}
    assert set(_errors(EntryPointCreate, {k: v for k, v in PHONE.items() if k != "flow"})) == {"flow"}
    assert set(_errors(EntryPointUpdate, {"name": None})) == {"name"}
    assert set(_errors(EntryPointUpdate, {"kind": "email", "address": "nope"})) == {"address"}
    assert EntryPointUpdate.model_validate({"active": False}).model_dump(exclude_unset=True) == {"active": False}


def test_function_schema_names_each_bad_field() -> None:
    ok = FunctionCreate.model_validate(
        {"code": "banco.cambio", "url": "https://api.banco.example/cambio", "headers": {"X-Api-Key": "s3cr3t"}}
    )
    assert ok.headers == {"X-Api-Key": "s3cr3t"}
    for code in ("banco", "Banco.cambio", "banco..cambio", "banco.cambio.", "1banco.x", "banco-x.y", "a." + "b" * 99):
        assert set(_errors(FunctionCreate, {"code": code, "url": "https://x.example"})) == {"code"}, code
    for url in (
        "ftp://x.example/f",
        "https://",
        "javascript:alert(1)",
        "https://user:pw@x.example/",
        "https://x.example/a b",
        "https://x.example:99999/",
        "https://x.example/" + "a" * 500,
    ):
        assert set(_errors(FunctionCreate, {"code": "a.b", "url": url})) == {"url"}, url
    base = {"code": "a.b", "url": "http://x.example"}
    assert set(_errors(FunctionCreate, {**base, "headers": {"Bad Name": "v"}})) == {"headers.Bad Name.[key]"}
    assert set(_errors(FunctionCreate, {**base, "headers": {"X-A": "v\r\nInjected: 1"}})) >= {"headers"}
    assert set(_errors(FunctionCreate, {**base, "headers": {"X-A": "v\x00"}})) >= {"headers"}
    assert set(_errors(FunctionCreate, {**base, "headers": {"X-A": "v" * 1001}})) == {"headers.X-A"}
    assert set(_errors(FunctionCreate, {**base, "headers": {f"X-{i}": "v" for i in range(21)}})) == {"headers"}
    assert set(_errors(FunctionCreate, {**base, "headers": {"Host": "evil.example"}})) == {"headers"}
    assert set(_errors(FunctionCreate, {**base, "headers": {"X-A": "1", "x-a": "2"}})) == {"headers"}
    assert set(_errors(FunctionCreate, {**base, "headers": {"X-A": 7}})) == {"headers.X-A"}
    assert set(_errors(FunctionUpdate, {"url": None})) == {"url"}


# --- actions ------------------------------------------------------------------------------------------------------


def test_create_and_update_an_entry_point(service: Service) -> None:
    admin = _admin(service, "norte")
    with service.db.write() as s:
        row = do_create_entry_point(s, admin, EntryPointCreate.model_validate({**PHONE, "address": "900 100 200"}))
        assert (row.address, row.active, row.language) == ("+34900100200", True, "es")
    with service.db.write() as s:
        row = get_entry_point(s, admin.tenant_id, "telefono")  # type: ignore[assignment]
        assert row is not None
        do_update_entry_point(s, admin, row, EntryPointUpdate(name="Línea", language="en"))
        do_update_entry_point(s, admin, row, EntryPointUpdate(name="Línea"))  # unchanged: no event
        do_update_entry_point(s, admin, row, EntryPointUpdate(kind="email", address="Atencion@Norte.example"))
        do_update_entry_point(s, admin, row, EntryPointUpdate(active=False))
    events = _events(service, admin.tenant_id, "entry_point.")
    assert events == [
        (
            "entry_point.created",
            {"code": "telefono", "kind": "phone", "address": "+34900100200", "flow": "entrada"},
        ),
        (
            "entry_point.updated",
            {"code": "telefono", "changes": {"name": ["Teléfono", "Línea"], "language": ["es", "en"]}},
        ),
        (
            "entry_point.updated",
            {
                "code": "telefono",
                "changes": {"kind": ["phone", "email"], "address": ["+34900100200", "atencion@norte.example"]},
            },
        ),
        ("entry_point.updated", {"code": "telefono", "changes": {"active": [True, False]}}),
    ]
    with service.db.read() as s:
        assert [e.code for e in list_entry_points(s, admin.tenant_id)] == ["telefono"]
        assert list_entry_points(s, admin.tenant_id, include_inactive=False) == []


def test_the_flow_must_be_published_and_every_problem_comes_at_once(service: Service) -> None:
    admin = _admin(service, "norte", publish=False)
    with service.db.write() as s, pytest.raises(InvalidInput) as info:
        do_create_entry_point(s, admin, EntryPointCreate.model_validate({**PHONE, "address": "123"}))
    assert sorted(e.loc[0] for e in info.value.errors) == ["address", "flow"]
    assert "centralita flow publish" in next(e.message for e in info.value.errors if e.loc == ["flow"])
    with service.db.write() as s:
        do_publish_flow(s, admin, FLOW, "entrada.yaml")
        row = do_create_entry_point(s, admin, EntryPointCreate.model_validate(PHONE))
    with service.db.write() as s, pytest.raises(InvalidInput) as info:
        s.add(row)
        do_update_entry_point(s, admin, row, EntryPointUpdate(flow="otro"))
    assert [e.loc for e in info.value.errors] == [["flow"]]
    with service.db.write() as s, pytest.raises(InvalidInput) as info:
        s.add(row)
        do_update_entry_point(s, admin, row, EntryPointUpdate(kind="chat"))  # the number is no widget key
    assert [e.loc for e in info.value.errors] == [["address"]]
    with service.db.write() as s, pytest.raises(Conflict):
        do_create_entry_point(s, admin, EntryPointCreate.model_validate({**PHONE, "address": "+34911000000"}))


def test_an_address_belongs_to_one_contact_center(service: Service) -> None:
    norte, sur = _admin(service, "norte"), _admin(service, "sur")
    with service.db.write() as s:
        do_create_entry_point(s, norte, EntryPointCreate.model_validate(PHONE))
        do_create_entry_point(
            s, norte, EntryPointCreate.model_validate({**PHONE, "code": "otro", "address": "+34911000000"})
        )
    for actor, code in ((sur, "telefono"), (norte, "tercero")):  # another tenant, or this one under another code
        with service.db.write() as s, pytest.raises(Conflict) as info:
            do_create_entry_point(
                s, actor, EntryPointCreate.model_validate({**PHONE, "code": code, "address": "0034 900100200"})
            )
        assert [e.loc for e in info.value.errors] == [["address"]]
        assert "norte" not in str(info.value.detail) + info.value.errors[0].message
    with service.db.write() as s, pytest.raises(Conflict) as info:
        otro = get_entry_point(s, norte.tenant_id, "otro")
        assert otro is not None
        do_update_entry_point(s, norte, otro, EntryPointUpdate(address="+34900100200"))
    assert [e.loc for e in info.value.errors] == [["address"]]
    # the same text as another kind is another address
    with service.db.write() as s:
        do_create_entry_point(
            s, sur, EntryPointCreate.model_validate({**PHONE, "kind": "chat", "address": "telefono-900100200"})
        )
    assert len(_events(service, sur.tenant_id, "entry_point.created")) == 1


def test_two_transactions_taking_one_address_at_once(pg_service: Service) -> None:
    """The second of two concurrent creations of one address waits for the first and gets a conflict
    naming `address` (PostgreSQL, where writers run side by side), not a unique-key error at commit."""
    norte, sur = _admin(pg_service, "norte"), _admin(pg_service, "sur")
    created, go_on = threading.Event(), threading.Event()
    outcome: list[BaseException | None] = []

    def first() -> None:
        with pg_service.db.write() as s:
            do_create_entry_point(s, norte, EntryPointCreate.model_validate(PHONE))
            created.set()
            go_on.wait(10)

    def second() -> None:
        try:
            with pg_service.db.write() as s:
                do_create_entry_point(s, sur, EntryPointCreate.model_validate({**PHONE, "code": "sur"}))
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    one = threading.Thread(target=first)
    one.start()
    assert created.wait(10)
    two = threading.Thread(target=second)
    two.start()
    two.join(0.5)
    assert two.is_alive()  # waiting for the first to finish
    go_on.set()
    one.join(10)
    two.join(10)
    [exc] = outcome
    assert isinstance(exc, Conflict) and [e.loc for e in exc.errors] == [["address"]]
    with pg_service.db.read() as s:
        found = find_entry_point(s, "phone", "+34900100200")
        assert found is not None and found.tenant_id == norte.tenant_id


def test_functions_and_their_secret_headers(service: Service) -> None:
    admin = _admin(service, "norte", publish=False)
    body = {"code": "banco.cambio", "url": "https://api.banco.example/cambio", "headers": {"X-Api-Key": "s3cr3t"}}
    with service.db.write() as s:
        row = do_create_function(s, admin, FunctionCreate.model_validate(body))
        do_create_function(s, admin, FunctionCreate(code="banco.saldo", url="http://saldo.example/"))
    with service.db.write() as s:
        s.add(row)
        do_update_function(s, admin, row, FunctionUpdate(headers={"X-Api-Key": "n3w", "X-Trace": "1"}))
        do_update_function(s, admin, row, FunctionUpdate(url="https://api.banco.example/v2/cambio"))
        with pytest.raises(Conflict):
            do_create_function(s, admin, FunctionCreate(code="banco.cambio", url="http://x.example"))
    with service.db.write() as s:
        saldo = active_functions(s, admin.tenant_id)["banco.saldo"]
        do_update_function(s, admin, saldo, FunctionUpdate(active=False))
        assert sorted(active_functions(s, admin.tenant_id)) == ["banco.cambio"]
        cambio = active_functions(s, admin.tenant_id)["banco.cambio"]
        assert cambio.headers == {"X-Api-Key": "n3w", "X-Trace": "1"}
        assert function_public(cambio, show_values=False).headers == {"X-Api-Key": None, "X-Trace": None}
        assert function_public(cambio, show_values=True).headers == {"X-Api-Key": "n3w", "X-Trace": "1"}
    events = _events(service, admin.tenant_id, "flow_function.")
    assert [e[0] for e in events] == ["flow_function.created"] * 2 + ["flow_function.updated"] * 3
    assert events[0][1] == {"code": "banco.cambio", "url": body["url"], "headers": ["X-Api-Key"]}
    assert events[2][1]["changes"] == {"headers": [["X-Api-Key"], ["X-Api-Key", "X-Trace"]]}
    assert "s3cr3t" not in repr(events) and "n3w" not in repr(events)  # values never reach the event log


# --- queries ------------------------------------------------------------------------------------------------------


def test_lookups_normalise_and_skip_inactive_entry_points(service: Service) -> None:
    norte, sur = _admin(service, "norte"), _admin(service, "sur")
    with service.db.write() as s:
        do_create_entry_point(s, norte, EntryPointCreate.model_validate(PHONE))
        do_create_entry_point(
            s, sur, EntryPointCreate.model_validate({**PHONE, "kind": "email", "address": "Hola@Sur.example"})
        )
        do_create_entry_point(
            s, sur, EntryPointCreate.model_validate({**PHONE, "code": "web", "kind": "chat", "address": "Sur-Web_01"})
        )
    with service.db.read() as s:
        found = find_entry_point(s, "phone", "+34900100200")
        assert found is not None and (found.tenant_id, found.flow) == (norte.tenant_id, "entrada")
        assert find_entry_point(s, "phone", "0034 900 100 200") is found
        assert find_entry_point(s, "phone", "900100200") is None  # national: whose country? the caller gives E.164
        assert find_entry_point(s, "email", "  HOLA@sur.EXAMPLE") is not None
        assert find_entry_point(s, "chat", "Sur-Web_01") is not None
        assert find_entry_point(s, "chat", "sur-web_01") is None  # widget keys are case-sensitive
        assert find_entry_point(s, "email", "+34900100200") is None
        assert find_entry_point(s, "fax", "+34900100200") is None
        assert find_entry_point(s, "phone", "not a number") is None
        assert entry_point_for(s, norte.tenant_id, "phone", "900 100 200") is found  # the tenant's country
        assert entry_point_for(s, sur.tenant_id, "phone", "+34900100200") is None  # another contact center's
    with service.db.write() as s:
        row = get_entry_point(s, norte.tenant_id, "telefono")
        assert row is not None
        do_update_entry_point(s, norte, row, EntryPointUpdate(active=False))
    with service.db.read() as s:
        assert find_entry_point(s, "phone", "+34900100200") is None
        assert entry_point_for(s, norte.tenant_id, "phone", "+34900100200") is None

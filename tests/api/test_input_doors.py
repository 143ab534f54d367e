"""Bad input is a 422 naming the field and changes nothing; nothing stored makes a later read fail.

Free-form attributes (depth, keys, size), control characters, integers beyond 64 bits, null for a field
that cannot be empty, Unicode digits in ids, and `%`/`_` in searches; on SQLite and PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from starlette.websockets import WebSocketDisconnect

from centralita.core.vocabulary import ATTRIBUTES_MAX_BYTES, ATTRIBUTES_MAX_DEPTH, ATTRIBUTES_MAX_KEYS
from centralita.events.log import append_event
from centralita.store import tables as t
from tests.conftest import Api


def _nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def _last_seq(api: Api) -> int:
    seq: int = api.client("supervisor").get("/api/events").json()["last_seq"]
    return seq


def _refused(resp: Any, field: str, *words: str) -> dict[str, Any]:
    assert resp.status_code == 422, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = resp.json()
    fields = {e["field"]: e["message"] for e in body["errors"]}
    assert field in fields, body
    for word in words:
        assert word in fields[field], fields[field]
    return body


def _customer(client: TestClient, **extra: Any) -> dict[str, Any]:
    resp = client.post("/api/customers", json={"name": "María", **extra})
    assert resp.status_code == 201, resp.text
    body: dict[str, Any] = resp.json()
    return body


# attributes ------------------------------------------------------------------------------------------


BAD_ATTRIBUTES = [
    (_nested(ATTRIBUTES_MAX_DEPTH + 1), "levels deep"),
    (_nested(300), "levels deep"),
    ({"a": [[[[[1]]]]]}, "levels deep"),
    ({f"k{i}": i for i in range(ATTRIBUTES_MAX_KEYS + 1)}, "keys"),
    ({"grupo": {f"k{i}": i for i in range(ATTRIBUTES_MAX_KEYS)}}, "keys"),
    ({"nota": "x" * ATTRIBUTES_MAX_BYTES}, "bytes"),
]


@pytest.mark.parametrize(
    ("attributes", "said"), BAD_ATTRIBUTES, ids=["depth", "deep", "lists", "keys", "nested-keys", "size"]
)
def test_attributes_over_the_limits_are_refused_everywhere(api: Api, attributes: dict[str, Any], said: str) -> None:
    before = _last_seq(api)
    agent, sup, admin = api.client("agent"), api.client("supervisor"), api.client("admin")
    _refused(agent.post("/api/customers", json={"name": "Ana", "attributes": attributes}), "attributes", said)
    existing = _customer(agent)
    before = _last_seq(api)
    _refused(agent.patch(f"/api/customers/{existing['id']}", json={"attributes": attributes}), "attributes", said)
    contact = {"channel": "chat", "from": "chat-1", "queue": "atencion", "attributes": attributes}
    _refused(sup.post("/api/contacts", json=contact), "attributes", said)
    new_agent = {"code": "eva", "name": "Eva", "attributes": attributes}
    _refused(admin.post("/api/agents", json=new_agent), "attributes", said)
    _refused(admin.patch("/api/agents/ana", json={"attributes": attributes}), "attributes", said)
    assert _last_seq(api) == before
    assert agent.get(f"/api/customers/{existing['id']}").json()["attributes"] == {}
    assert sup.get("/api/contacts").json()["total"] == 0
    assert admin.get("/api/agents/eva").status_code == 404


def test_attributes_at_the_limits_are_kept(api: Api) -> None:
    client = api.client("agent")
    deepest = _nested(ATTRIBUTES_MAX_DEPTH)
    many = {f"k{i}": i for i in range(ATTRIBUTES_MAX_KEYS)}
    for attributes in (deepest, many, {"dirección": "Calle Mayor 1\n28013 Madrid\tbajo"}):
        created = _customer(client, attributes=attributes)
        assert client.get(f"/api/customers/{created['id']}").json()["attributes"] == attributes


def test_attribute_values_are_storable(api: Api) -> None:
    client = api.client("agent")
    _refused(client.post("/api/customers", json={"name": "A", "attributes": {"a\x00b": 1}}), "attributes.a\x00b")
    _refused(client.post("/api/customers", json={"name": "A", "attributes": {"x": "a\x00b"}}), "attributes.x", "U+0000")
    _refused(client.post("/api/customers", json={"name": "A", "attributes": {"n": 2**64}}), "attributes.n")
    nan = b'{"name": "A", "attributes": {"f": NaN}}'
    _refused(client.post("/api/customers", content=nan, headers={"content-type": "application/json"}), "attributes.f")
    surrogate = b'{"name": "A", "attributes": {"s": "\\ud800"}}'
    resp = client.post("/api/customers", content=surrogate, headers={"content-type": "application/json"})
    _refused(resp, "attributes.s", "surrogate")
    assert client.get("/api/customers").json()["total"] == 0


def test_values_stored_by_an_older_version_still_read(api: Api) -> None:
    """A customer, an agent and an event holding what an older version let in: every read answers 200."""
    client, sup = api.client("agent"), api.client("supervisor")
    created = _customer(client, identities=[{"kind": "phone", "value": "+34612345678"}])
    deep = _nested(300)
    odd: dict[str, Any] = {"deep": deep}
    if api.service.db.engine.dialect.name == "sqlite":
        odd["nan"] = float("nan")  # PostgreSQL's jsonb refuses NaN: only SQLite could hold it
    with api.service.db.write() as s:
        s.execute(update(t.Customer).where(t.Customer.id == created["id"]).values(attributes=odd))
        s.execute(update(t.Agent).where(t.Agent.code == "ana").values(attributes=odd))
        tenant_id = s.scalar(select(t.Customer.tenant_id).where(t.Customer.id == created["id"]))
        assert tenant_id is not None
        changes = {"attributes": [{}, odd]}
        append_event(
            s, tenant_id, "customer.updated", api.service.clock.now(), {"changes": changes}, customer_id=created["id"]
        )

    for resp in (
        client.get("/api/customers/lookup", params={"phone": "+34612345678"}),
        client.get("/api/customers"),
        client.get(f"/api/customers/{created['id']}"),
        sup.get("/api/events"),
        sup.get("/api/agents"),
        sup.get("/api/agents/ana"),
    ):
        assert resp.status_code == 200, resp.text
    shown = client.get(f"/api/customers/{created['id']}").json()["attributes"]
    depth = 0
    while isinstance(shown, dict):
        shown, depth = shown.get("deep", shown.get("a")), depth + 1
    assert 32 < depth < 300  # shown down to a depth every JSON reader takes, the rest as null
    if "nan" in odd:
        assert client.get(f"/api/customers/{created['id']}").json()["attributes"]["nan"] is None


# control characters ----------------------------------------------------------------------------------


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x7f", "\n", "\t", "\r"])
def test_control_characters_in_one_line_text_are_refused(api: Api, char: str) -> None:
    client, admin = api.client("agent"), api.client("admin")
    before = _last_seq(api)
    _refused(client.post("/api/customers", json={"name": f"Ana{char}López"}), "name", "control characters")
    identities = [{"kind": "chat", "value": f"chat{char}1"}]
    _refused(client.post("/api/customers", json={"name": "Ana", "identities": identities}), "identities.0.value")
    _refused(admin.post("/api/queues", json={"code": "nueva", "name": f"Nueva{char}"}), "name")
    _refused(admin.patch("/api/agents/ana", json={"skills": {f"banca{char}": 3}}), f"skills.banca{char}")
    _refused(
        admin.post("/api/users", json={"username": "eva", "password": f"x{char}" * 8, "role": "admin"}), "password"
    )
    assert _last_seq(api) == before


def test_control_characters_in_parameters_are_refused(api: Api) -> None:
    client, admin = api.client("agent"), api.client("admin")
    _refused(client.get("/api/customers", params={"q": "a\x00b"}), "q", "U+0000")
    _refused(client.get("/api/customers/lookup", params={"external": "x\x00"}), "external")
    _refused(client.get("/api/customers/lookup", params={"email": "a\x01@b.es"}), "email")
    _refused(admin.get("/api/agents/an%00a"), "code", "U+0000")
    _refused(admin.get("/api/queues/a%1Fb"), "code", "U+001F")
    _refused(admin.get("/api/cases/K7M%7F42Q"), "case_ref", "U+007F")
    _refused(admin.get("/api/contacts", params={"segment": "oro\x00"}), "segment")
    _refused(admin.get("/api/events", params={"type": ["customer.created", "x\x00"]}), "type")


def test_control_characters_at_login_are_422_not_500(api: Api) -> None:
    anonymous = api.anonymous()
    for body in (
        {"username": "admin\x00", "password": "whatever-long", "tenant": "norte"},
        {"username": "admin@norte", "password": "pass\x00word", "tenant": "norte"},
        {"username": "admin@norte", "password": "whatever-long", "tenant": "nor\x00te"},
    ):
        resp = anonymous.post("/api/auth/login", json=body)
        assert resp.status_code == 422, resp.text


def test_multi_line_text_keeps_tab_lf_and_cr_only(api: Api) -> None:
    client = api.client("agent")
    text = "Llamó dos veces.\r\nPide:\tbaja de la tarjeta\n"
    case = client.post("/api/cases", json={"subject": "Baja\ttarjeta", "note": text})
    assert case.status_code == 201, case.text
    ref = case.json()["reference"]
    assert case.json()["notes"][0]["text"] == text
    note = client.post(f"/api/cases/{ref}/notes", json={"text": text})
    assert note.status_code == 201 and note.json()["text"] == text
    _refused(client.post(f"/api/cases/{ref}/notes", json={"text": "a\x00b"}), "text", "U+0000")
    _refused(client.post(f"/api/cases/{ref}/notes", json={"text": "a\x0bb"}), "text", "U+000B")
    _refused(client.patch(f"/api/cases/{ref}", json={"subject": "a\x1bb"}), "subject")
    assert len(client.get(f"/api/cases/{ref}").json()["notes"]) == 2


# integers, null, digits ------------------------------------------------------------------------------

TOO_BIG = 2**63
TOO_SMALL = -(2**63) - 1


def test_integers_beyond_64_bits_are_422(api: Api) -> None:
    client, sup = api.client("agent"), api.client("supervisor")
    _refused(client.get("/api/contacts/99999999999999999999"), "contact_id", "between")
    _refused(client.get(f"/api/customers/{TOO_BIG}"), "customer_id")
    _refused(client.get(f"/api/customers/{TOO_SMALL}"), "customer_id")
    _refused(client.get(f"/api/cases/{TOO_BIG}"), "case_ref")
    _refused(client.get("/api/contacts", params={"customer_id": str(TOO_BIG)}), "customer_id")
    _refused(client.get("/api/cases", params={"customer_id": "1_000_000_000_000_000_000_000"}), "customer_id")
    _refused(sup.post(f"/api/contacts/{TOO_BIG}/accept"), "contact_id")
    _refused(client.post("/api/cases", json={"subject": "x", "customer_id": TOO_BIG}), "customer_id", "between")
    _refused(client.post("/api/cases", json={"subject": "x", "contact_id": TOO_SMALL}), "contact_id")
    created = client.post("/api/cases", json={"subject": "x"}).json()
    _refused(client.post(f"/api/cases/{created['reference']}/contacts", json={"contact_id": TOO_BIG}), "contact_id")
    # within 64 bits: simply not there
    assert client.get(f"/api/customers/{TOO_BIG - 1}").status_code == 404
    assert client.get(f"/api/contacts/{TOO_BIG - 1}").status_code == 404


def test_null_for_a_field_that_cannot_be_empty_is_422(api: Api) -> None:
    agent, admin = api.client("agent"), api.client("admin")
    created = _customer(agent)
    user_id = admin.get("/api/users").json()[0]["id"]
    admin.post("/api/hours", json={"code": "h", "name": "Horario"})
    admin.post("/api/reason-groups", json={"code": "g", "name_es": "G", "name_en": "G"})
    admin.post("/api/reasons", json={"code": "r", "group": "g", "name_es": "R", "name_en": "R"})
    case = agent.post("/api/cases", json={"subject": "x"}).json()["reference"]
    before = _last_seq(api)
    for client, path, field in (
        (agent, f"/api/customers/{created['id']}", "name"),
        (agent, f"/api/customers/{created['id']}", "attributes"),
        (agent, f"/api/cases/{case}", "subject"),
        (agent, f"/api/cases/{case}", "status"),
        (admin, f"/api/users/{user_id}", "role"),
        (admin, f"/api/users/{user_id}", "display_name"),
        (admin, f"/api/users/{user_id}", "active"),
        (admin, f"/api/users/{user_id}", "language"),
        (admin, "/api/agents/ana", "name"),
        (admin, "/api/queues/atencion", "active"),
        (admin, "/api/hours/h", "timezone"),
        (admin, "/api/reasons/r", "name_es"),
        (admin, "/api/skills/banca", "name"),
    ):
        _refused(client.patch(path, json={field: None}), field, "must not be null")
    assert _last_seq(api) == before
    # null still clears what may be empty
    assert agent.patch(f"/api/customers/{created['id']}", json={"notes": None}).status_code == 200
    assert api.client("supervisor").patch(f"/api/customers/{created['id']}", json={"segment": None}).status_code == 200


@pytest.mark.parametrize("digits", ["١٢٣", "²", "１２３", "۱"])
def test_unicode_digits_are_no_ids(api: Api, digits: str) -> None:
    client = api.client("agent")
    for path, field in (
        (f"/api/contacts/{digits}", "contact_id"),
        (f"/api/customers/{digits}", "customer_id"),
        (f"/api/cases/{digits}", "reference"),
    ):
        _refused(client.get(path), field)
    _refused(client.get("/api/contacts", params={"customer_id": digits}), "customer_id")
    with pytest.raises(WebSocketDisconnect) as info, client.websocket_connect(f"/api/realtime?after={digits}") as ws:
        ws.receive_json()
    assert info.value.code == 4422


def test_search_matches_percent_and_underscore_literally(api: Api) -> None:
    client = api.client("agent")
    for name in ("Ana 100% fiable", "Ana_López", "Anaxlópez", "Juan"):
        _customer(client, name=name)

    def names(q: str) -> list[str]:
        return sorted(c["name"] for c in client.get("/api/customers", params={"q": q}).json()["items"])

    assert names("%") == ["Ana 100% fiable"]
    assert names("_") == ["Ana_López"]
    assert names("a_l") == ["Ana_López"]
    assert names("\\") == []
    assert names("ana") == ["Ana 100% fiable", "Ana_López", "Anaxlópez"]

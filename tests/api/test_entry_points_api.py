"""`/api/entry-points` and `/api/functions`: roles (agent 403, supervisor reads, admin writes), another
contact center's codes not found, bodies refused with the field named, header values only for admins."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api
from tests.flows.test_flowstore import FLOW

PHONE = {"code": "telefono", "name": "Teléfono", "kind": "phone", "address": "900 100 200", "flow": "entrada"}
FUNCTION = {"code": "banco.cambio", "url": "https://api.banco.example/cambio", "headers": {"X-Api-Key": "s3cr3t"}}


def _fields(resp: Any) -> list[str]:
    return sorted(e["field"] for e in resp.json().get("errors", []))


def _publish(api: Api) -> None:
    resp = api.client("admin").post("/api/flows", json={"source": FLOW})
    assert resp.status_code == 201, resp.text


def test_entry_points_crud(api: Api) -> None:
    admin, supervisor = api.client("admin"), api.client("supervisor")
    unpublished = admin.post("/api/entry-points", json=PHONE)
    assert unpublished.status_code == 422 and _fields(unpublished) == ["flow"]
    _publish(api)
    resp = admin.post("/api/entry-points", json=PHONE)
    assert resp.status_code == 201, resp.text
    created = resp.json()
    assert {k: created[k] for k in ("code", "kind", "address", "flow", "language", "active")} == {
        "code": "telefono",
        "kind": "phone",
        "address": "+34900100200",  # the contact center's country (ES) completes a national number
        "flow": "entrada",
        "language": "es",
        "active": True,
    }
    assert admin.post("/api/entry-points", json=PHONE).status_code == 409  # the code
    listed = supervisor.get("/api/entry-points")
    assert listed.status_code == 200 and [e["code"] for e in listed.json()] == ["telefono"]
    assert supervisor.get("/api/entry-points/telefono").json()["address"] == "+34900100200"
    patched = admin.patch("/api/entry-points/telefono", json={"active": False, "language": "en"})
    assert patched.status_code == 200 and (patched.json()["active"], patched.json()["language"]) == (False, "en")
    assert supervisor.get("/api/entry-points", params={"include_inactive": False}).json() == []
    bad_flow = admin.patch("/api/entry-points/telefono", json={"flow": "nadie"})
    assert bad_flow.status_code == 422 and _fields(bad_flow) == ["flow"]
    assert admin.patch("/api/entry-points/telefono", json={"name": None}).status_code == 422
    assert admin.patch("/api/entry-points/nadie", json={"name": "x"}).status_code == 404


def test_an_address_taken_by_another_contact_center_is_a_409_that_names_no_one(api: Api) -> None:
    _publish(api)
    assert api.client("admin").post("/api/entry-points", json=PHONE).status_code == 201
    other = api.client("admin", api.b)
    assert other.post("/api/flows", json={"source": FLOW}).status_code == 201
    resp = other.post("/api/entry-points", json={**PHONE, "address": "+34 900 100 200"})
    assert resp.status_code == 409 and _fields(resp) == ["address"]
    assert api.a.slug not in resp.text
    assert other.post("/api/entry-points", json={**PHONE, "address": "+34 911 000 000"}).status_code == 201


def test_roles_and_tenants(api: Api) -> None:
    _publish(api)
    admin, supervisor, agent = api.client("admin"), api.client("supervisor"), api.client("agent")
    assert admin.post("/api/entry-points", json=PHONE).status_code == 201
    assert admin.post("/api/functions", json=FUNCTION).status_code == 201
    for path in ("/api/entry-points", "/api/entry-points/telefono", "/api/functions", "/api/functions/banco.cambio"):
        assert agent.get(path).status_code == 403, path
        assert supervisor.get(path).status_code == 200, path
    assert supervisor.post("/api/entry-points", json={**PHONE, "code": "x"}).status_code == 403
    assert supervisor.patch("/api/entry-points/telefono", json={"name": "x"}).status_code == 403
    assert supervisor.post("/api/functions", json={**FUNCTION, "code": "a.b"}).status_code == 403
    assert supervisor.patch("/api/functions/banco.cambio", json={"active": False}).status_code == 403
    assert api.anonymous().get("/api/entry-points").status_code == 401
    other = api.client("admin", api.b)
    assert other.get("/api/entry-points").json() == [] and other.get("/api/functions").json() == []
    for path in ("/api/entry-points/telefono", "/api/functions/banco.cambio"):
        assert other.get(path).status_code == 404
        assert other.patch(path, json={"active": False}).status_code == 404
    assert supervisor.get("/api/entry-points/telefono").json()["active"] is True  # untouched


def test_header_values_only_for_admins(api: Api) -> None:
    admin, supervisor = api.client("admin"), api.client("supervisor")
    created = admin.post("/api/functions", json=FUNCTION)
    assert created.status_code == 201 and created.json()["headers"] == {"X-Api-Key": "s3cr3t"}
    assert admin.get("/api/functions/banco.cambio").json()["headers"] == {"X-Api-Key": "s3cr3t"}
    shown = supervisor.get("/api/functions/banco.cambio")
    assert shown.json()["headers"] == {"X-Api-Key": None} and "s3cr3t" not in shown.text
    assert "s3cr3t" not in supervisor.get("/api/functions").text
    events = supervisor.get("/api/events", params={"type": "flow_function.created"})
    assert [e["data"]["headers"] for e in events.json()["items"]] == [["X-Api-Key"]]
    assert "s3cr3t" not in events.text
    patched = admin.patch("/api/functions/banco.cambio", json={"headers": {}, "active": False})
    assert patched.status_code == 200 and (patched.json()["headers"], patched.json()["active"]) == ({}, False)
    assert admin.post("/api/functions", json=FUNCTION).status_code == 409


def test_bad_bodies_name_their_field(api: Api) -> None:
    _publish(api)
    admin = api.client("admin")
    cases: list[tuple[str, dict[str, Any], list[str]]] = [
        ("/api/entry-points", {**PHONE, "kind": "fax"}, ["kind"]),
        ("/api/entry-points", {**PHONE, "address": "no es un número"}, ["address"]),
        ("/api/entry-points", {**PHONE, "kind": "chat", "address": "corta"}, ["address"]),
        ("/api/entry-points", {**PHONE, "kind": "email", "address": "sin-arroba"}, ["address"]),
        ("/api/entry-points", {**PHONE, "address": "+34 900\u0000100 200"}, ["address"]),
        ("/api/entry-points", {**PHONE, "address": "9" * 100_000}, ["address"]),
        ("/api/entry-points", {**PHONE, "name": "x\u0000"}, ["name"]),
        ("/api/entry-points", {**PHONE, "name": 10**30}, ["name"]),
        ("/api/entry-points", {**PHONE, "language": "fr"}, ["language"]),
        ("/api/entry-points", {**PHONE, "flow": "no-es-un-id"}, ["flow"]),
        ("/api/entry-points", {**PHONE, "code": "x" * 51}, ["code"]),
        ("/api/entry-points", {**PHONE, "extra": True}, ["extra"]),
        ("/api/functions", {**FUNCTION, "code": "sin_punto"}, ["code"]),
        ("/api/functions", {**FUNCTION, "url": "file:///etc/passwd"}, ["url"]),
        ("/api/functions", {**FUNCTION, "url": "https://x.example/" + "a" * 10_000}, ["url"]),
        ("/api/functions", {**FUNCTION, "headers": {"X-A": "a\r\nB: c"}}, ["headers"]),
        ("/api/functions", {**FUNCTION, "headers": {"X-A": "v" * 1001}}, ["headers.X-A"]),
        ("/api/functions", {**FUNCTION, "headers": {"X-A": 10**30}}, ["headers.X-A"]),
        ("/api/functions", {**FUNCTION, "headers": {f"X-{i}": "v" for i in range(21)}}, ["headers"]),
        ("/api/functions", {**FUNCTION, "headers": ["X-A"]}, ["headers"]),
    ]
    for path, body, fields in cases:
        resp = admin.post(path, json=body)
        assert resp.status_code == 422, (body, resp.text)
        assert all(f in _fields(resp) for f in fields), (body, resp.json())
    assert admin.post("/api/functions", json=FUNCTION).status_code == 201
    bad_url = admin.patch("/api/functions/banco.cambio", json={"url": "x", "headers": None})
    assert bad_url.status_code == 422 and _fields(bad_url) == ["headers", "url"]
    assert api.client("supervisor").get("/api/entry-points").json() == []  # no entry point was written

"""Customers, identities and the customer 360 through the HTTP API, on SQLite and PostgreSQL."""

from __future__ import annotations

from tests.conftest import Api


def _create(api: Api, **extra: object) -> dict:  # type: ignore[type-arg]
    body = {
        "name": "María López",
        "segment": "premium",
        "value_tier": "alto",
        "lifecycle_stage": "active",
        "lifetime_value": 12500.5,
        "identities": [
            {"kind": "phone", "value": "612 34 56 78"},
            {"kind": "email", "value": "Maria.Lopez@Example.es"},
        ],
    }
    body.update(extra)
    resp = api.client("supervisor").post("/api/customers", json=body)  # segment and value: supervisors and up
    assert resp.status_code == 201, resp.text
    return resp.json()  # type: ignore[no-any-return]


def test_create_normalises_identities_and_reads_back(api: Api) -> None:
    created = _create(api)
    assert {(i["kind"], i["value"]) for i in created["identities"]} == {
        ("phone", "+34612345678"),
        ("email", "maria.lopez@example.es"),
    }
    got = api.client("agent").get(f"/api/customers/{created['id']}").json()
    assert got["name"] == "María López" and got["segment"] == "premium"


def test_lookup_by_national_number_gives_360(api: Api) -> None:
    created = _create(api)
    client = api.client("agent")
    case = client.post("/api/cases", json={"subject": "Tarjeta bloqueada", "customer_id": created["id"]}).json()
    resp = client.get("/api/customers/lookup", params={"phone": "+34 612 345 678"})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["customer"]["id"] == created["id"]
    assert body["matched_by"]["value"] == "+34612345678"
    assert [c["reference"] for c in body["open_cases"]] == [case["reference"]]
    assert body["last_contacts"] == []


def test_lookup_unknown_is_404_problem(api: Api) -> None:
    resp = api.client("agent").get("/api/customers/lookup", params={"email": "nadie@example.es"})
    assert resp.status_code == 404
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert resp.json()["status"] == 404


def test_lookup_needs_exactly_one_identity(api: Api) -> None:
    resp = api.client("agent").get("/api/customers/lookup", params={"phone": "1", "email": "a@b.es"})
    assert resp.status_code == 422
    assert resp.json()["errors"][0]["field"] == "query"


def test_bad_body_names_every_field_and_writes_nothing(api: Api) -> None:
    client = api.client("supervisor")
    before = api.client("supervisor").get("/api/events").json()["last_seq"]
    resp = client.post(
        "/api/customers",
        json={
            "name": "X",
            "segment": "oro",
            "identities": [{"kind": "phone", "value": "abc"}, {"kind": "email", "value": "no-at-sign"}],
        },
    )
    assert resp.status_code == 422, resp.text
    fields = {e["field"] for e in resp.json()["errors"]}
    assert fields == {"segment", "identities.0.value", "identities.1.value"}
    assert client.get("/api/customers").json()["total"] == 0
    assert api.client("supervisor").get("/api/events").json()["last_seq"] == before


def test_schema_error_is_problem_with_field(api: Api) -> None:
    resp = api.client("agent").post("/api/customers", json={"name": "", "lifecycle_stage": "zombie", "extra": 1})
    assert resp.status_code == 422
    body = resp.json()
    assert body["type"].endswith("/invalid-input") and body["title"] == "Invalid input"
    assert {e["field"] for e in body["errors"]} == {"name", "lifecycle_stage", "extra"}


def test_identity_belongs_to_one_customer(api: Api) -> None:
    first = _create(api)
    resp = api.client("agent").post(
        "/api/customers", json={"name": "Otro", "identities": [{"kind": "phone", "value": "+34612345678"}]}
    )
    assert resp.status_code == 422
    assert f"already belongs to customer {first['id']}" in resp.json()["errors"][0]["message"]
    second = _create(api, name="Pedro", identities=[{"kind": "phone", "value": "+34699000111"}])
    resp = api.client("agent").post(
        f"/api/customers/{second['id']}/identities", json={"kind": "phone", "value": "612345678"}
    )
    assert resp.status_code == 409


def test_update_customer_emits_changes(api: Api) -> None:
    created = _create(api)
    resp = api.client("supervisor").patch(
        f"/api/customers/{created['id']}", json={"lifecycle_stage": "at_risk", "owner": "ana"}
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["lifecycle_stage"] == "at_risk"
    events = api.client("supervisor").get("/api/events", params={"type": "customer.updated"}).json()["items"]
    assert events[-1]["data"]["changes"]["lifecycle_stage"] == ["active", "at_risk"]
    assert events[-1]["customer_id"] == created["id"]

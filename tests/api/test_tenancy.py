"""Two contact centers in one installation never see each other's data."""

from __future__ import annotations

from tests.conftest import Api


def test_tenants_are_isolated(api: Api) -> None:
    norte = api.client("admin", api.a)
    sur = api.client("admin", api.b)
    created = norte.post(
        "/api/customers", json={"name": "Cliente Norte", "identities": [{"kind": "phone", "value": "+34600111222"}]}
    ).json()
    case = norte.post("/api/cases", json={"subject": "Norte", "customer_id": created["id"]}).json()

    assert sur.get(f"/api/customers/{created['id']}").status_code == 404
    assert sur.get("/api/customers").json()["total"] == 0
    assert sur.get("/api/customers/lookup", params={"phone": "+34600111222"}).status_code == 404
    assert sur.get(f"/api/cases/{case['reference']}").status_code == 404
    assert sur.get(f"/api/cases/{case['id']}").status_code == 404
    assert all(e["tenant_id"] == api.b.tenant_id for e in sur.get("/api/events").json()["items"])
    # the same phone may belong to a customer of the other center
    resp = sur.post(
        "/api/customers", json={"name": "Cliente Sur", "identities": [{"kind": "phone", "value": "+34600111222"}]}
    )
    assert resp.status_code == 201
    # a case cannot be opened against another tenant's customer
    resp = sur.post("/api/cases", json={"subject": "x", "customer_id": created["id"]})
    assert resp.status_code == 422 and resp.json()["errors"][0]["field"] == "customer_id"


def test_same_usernames_and_codes_in_two_tenants(api: Api) -> None:
    # both worlds have queues 'atencion' and agents 'ana': codes are per tenant
    assert (
        api.client("admin", api.a).get("/api/agents/ana").json()["id"]
        != api.client("admin", api.b).get("/api/agents/ana").json()["id"]
    )


def test_token_of_one_tenant_sees_nothing_of_the_other(api: Api) -> None:
    issued = api.client("admin", api.b).post("/api/tokens", json={"name": "t", "role": "admin"}).json()
    client = api.anonymous()
    client.headers["Authorization"] = f"Bearer {issued['token']}"
    api.client("admin", api.a).post("/api/customers", json={"name": "Solo Norte"})
    assert client.get("/api/customers").json()["total"] == 0

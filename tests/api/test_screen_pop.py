"""The screen pop's hot path (GET /api/customers/lookup), on SQLite and PostgreSQL: one read session per
authenticated request, and still every check on every request (revoked, expired, demoted, other tenant)."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event, update

from centralita.accounts.passwords import token_hash
from centralita.store import tables as t
from tests.conftest import Api

PHONE = "+34612345678"


def _customer(api: Api, phone: str = PHONE, world: Any = None) -> int:
    resp = api.client("supervisor", world).post(
        "/api/customers", json={"name": "María López", "identities": [{"kind": "phone", "value": phone}]}
    )
    assert resp.status_code == 201, resp.text
    return int(resp.json()["id"])


def _bearer(api: Api, role: str = "agent", world: Any = None) -> tuple[TestClient, int]:
    issued = api.client("admin", world).post("/api/tokens", json={"name": f"crm-{role}", "role": role}).json()
    client = api.anonymous()
    client.headers["Authorization"] = f"Bearer {issued['token']}"
    return client, int(issued["id"])


@contextmanager
def _checkouts(api: Api) -> Iterator[list[int]]:
    """How many connections the pool hands out (one per session) while the block runs."""
    count = [0]

    def on_checkout(*_args: Any) -> None:
        count[0] += 1

    pool = api.service.db.engine.pool
    event.listen(pool, "checkout", on_checkout)
    try:
        yield count
    finally:
        event.remove(pool, "checkout", on_checkout)


def test_one_session_per_authenticated_lookup(api: Api) -> None:
    customer_id = _customer(api)
    bearer, _token_id = _bearer(api)
    assert bearer.get("/api/customers/lookup", params={"phone": "612 34 56 78"}).status_code == 200  # notes its use
    for params, status in (({"phone": "612 34 56 78"}, 200), ({"phone": "699 99 99 99"}, 404)):
        with _checkouts(api) as count:
            resp = bearer.get("/api/customers/lookup", params=params)
        assert resp.status_code == status
        assert count[0] == 1, f"{count[0]} sessions for one lookup"
    assert resp.status_code == 404
    # a session cookie too
    agent = api.client("agent")
    with _checkouts(api) as count:
        resp = agent.get("/api/customers/lookup", params={"phone": PHONE})
    assert resp.status_code == 200 and resp.json()["customer"]["id"] == customer_id
    assert count[0] == 1


def test_a_token_first_used_never_holds_two_connections(api: Api) -> None:
    """Noting a token's first use is a write: it waits until the read that authenticated has given its
    connection back (holding one while waiting for SQLite's writer, 40 sockets at once exhausted the pool
    and every handshake timed out). Both the plain dependency and the screen pop's gate."""
    _customer(api)
    pool = api.service.db.engine.pool
    out, most = [0], [0]

    def on_checkout(*_args: Any) -> None:
        out[0] += 1
        most[0] = max(most[0], out[0])

    def on_checkin(*_args: Any) -> None:
        out[0] -= 1

    for path, params in (("/api/queues", {}), ("/api/customers/lookup", {"phone": PHONE})):
        bearer, token_id = _bearer(api)
        out[0] = most[0] = 0
        event.listen(pool, "checkout", on_checkout)
        event.listen(pool, "checkin", on_checkin)
        try:
            resp = bearer.get(path, params=params)
        finally:
            event.remove(pool, "checkout", on_checkout)
            event.remove(pool, "checkin", on_checkin)
        assert resp.status_code == 200, resp.text
        assert most[0] == 1, f"{path}: {most[0]} connections at once"
        with api.service.db.read() as s:
            row = s.get(t.ApiToken, token_id)
            assert row is not None and row.last_used_at is not None, "its use is still noted"


def test_the_360_is_the_json_it_was(api: Api) -> None:
    customer_id = _customer(api)
    agent = api.client("agent")
    case = agent.post("/api/cases", json={"subject": "Tarjeta", "customer_id": customer_id}).json()
    resp = agent.get("/api/customers/lookup", params={"phone": "612345678"})
    assert resp.status_code == 200 and resp.headers["content-type"] == "application/json"
    body = resp.json()
    assert set(body) == {"customer", "matched_by", "open_cases", "last_contacts"}
    assert body["customer"] == agent.get(f"/api/customers/{customer_id}").json()
    assert body["matched_by"] == body["customer"]["identities"][0]
    opened = agent.get(f"/api/cases/{case['reference']}").json()
    assert [{k: c[k] for k in ("id", "reference", "status", "created_at")} for c in body["open_cases"]] == [
        {k: opened[k] for k in ("id", "reference", "status", "created_at")}
    ]


def test_a_revoked_token_is_refused_at_once(api: Api) -> None:
    _customer(api)
    bearer, token_id = _bearer(api)
    for _ in range(3):
        assert bearer.get("/api/customers/lookup", params={"phone": PHONE}).status_code == 200
    assert api.client("admin").delete(f"/api/tokens/{token_id}").status_code == 200
    resp = bearer.get("/api/customers/lookup", params={"phone": PHONE})  # the very next request, same second
    assert resp.status_code == 401
    assert resp.headers["content-type"].startswith("application/problem+json")


def test_an_expired_token_is_refused_at_once(api: Api) -> None:
    _customer(api)
    token = f"ctk_{secrets.token_urlsafe(32)}"
    now = api.service.clock.now()
    with api.service.db.write() as s:
        s.add(
            t.ApiToken(
                tenant_id=api.a.tenant_id,
                name="short",
                token_hash=token_hash(token),
                role="agent",
                created_at=now,
                expires_at=now + dt.timedelta(seconds=30),
            )
        )
    bearer = api.anonymous()
    bearer.headers["Authorization"] = f"Bearer {token}"
    assert bearer.get("/api/customers/lookup", params={"phone": PHONE}).status_code == 200
    api.service.clock.advance(30)  # type: ignore[attr-defined]
    resp = bearer.get("/api/customers/lookup", params={"phone": PHONE})
    assert resp.status_code == 401 and "expired" in resp.json()["detail"]


def test_a_deactivated_users_token_is_refused_at_once(api: Api) -> None:
    _customer(api)
    bearer, token_id = _bearer(api)  # issued by the admin: bound to that user
    assert bearer.get("/api/customers/lookup", params={"phone": PHONE}).status_code == 200
    with api.service.db.write() as s:
        owner = s.get_one(t.ApiToken, token_id).user_id
        assert owner is not None
        s.execute(update(t.User).where(t.User.id == owner).values(active=False))
    resp = bearer.get("/api/customers/lookup", params={"phone": PHONE})
    assert resp.status_code == 401 and "deactivated" in resp.json()["detail"]


def test_no_credentials_or_a_wrong_token_is_401(api: Api) -> None:
    _customer(api)
    anonymous = api.anonymous()
    assert anonymous.get("/api/customers/lookup", params={"phone": PHONE}).status_code == 401
    anonymous.headers["Authorization"] = "Bearer ctk_not-a-token"
    assert anonymous.get("/api/customers/lookup", params={"phone": PHONE}).status_code == 401
    # authentication comes before the input's checks
    assert anonymous.get("/api/customers/lookup", params={"phone": "1", "email": "a@b.es"}).status_code == 401


def test_tenants_stay_apart_and_each_normalises_with_its_own_country(api: Api) -> None:
    norte_id = _customer(api, PHONE, api.a)
    norte, _ = _bearer(api, world=api.a)
    sur, _ = _bearer(api, world=api.b)
    assert norte.get("/api/customers/lookup", params={"phone": "612345678"}).json()["customer"]["id"] == norte_id
    assert sur.get("/api/customers/lookup", params={"phone": "612345678"}).status_code == 404
    assert sur.get("/api/customers/lookup", params={"phone": PHONE}).status_code == 404
    # the tenant's country is read with every request: a change applies to the next lookup
    with api.service.db.write() as s:
        s.execute(update(t.Tenant).where(t.Tenant.id == api.a.tenant_id).values(country="FR"))
    resp = norte.get("/api/customers/lookup", params={"phone": "612345678"})
    assert resp.status_code in (404, 422)  # a French national number now, not this customer's
    assert norte.get("/api/customers/lookup", params={"phone": PHONE}).json()["customer"]["id"] == norte_id


def _history(api: Api) -> tuple[int, dict[str, Any]]:
    """A customer with three identities, 22 open or pending cases and 2 closed ones, 7 contacts; and the
    same tenant's other customer with a case and a contact of its own. Returns what the 360 must show."""
    tenant_id = api.a.tenant_id
    base = dt.datetime(2026, 3, 1, 9, 0, 0, 123456, tzinfo=dt.UTC)
    with api.service.db.write() as s:
        who, other = (
            t.Customer(tenant_id=tenant_id, name=name, created_at=base, updated_at=base) for name in ("Ana", "Otro")
        )
        s.add_all([who, other])
        s.flush()
        for kind, value in (("email", "ana@example.es"), ("phone", PHONE), ("chat", "web-ana")):
            s.add(t.CustomerIdentity(tenant_id=tenant_id, customer_id=who.id, kind=kind, value=value, created_at=base))
        cases = []
        for n in range(24):
            status = "closed" if n in (5, 23) else ("pending" if n % 3 else "open")
            at = base + dt.timedelta(hours=n, microseconds=n)
            case = t.Case(
                tenant_id=tenant_id, reference=f"R{n:05d}", customer_id=who.id, subject=f"caso {n}",
                status=status, created_at=at, updated_at=at,
            )  # fmt: skip
            cases.append(case)
        cases.append(
            t.Case(tenant_id=tenant_id, reference="RX0001", customer_id=other.id, subject="ajeno",
                   status="open", created_at=base + dt.timedelta(days=9), updated_at=base)
        )  # fmt: skip
        s.add_all(cases)
        contacts = [
            t.Contact(
                tenant_id=tenant_id, channel="chat", direction="inbound", status="ended", customer_id=who.id,
                initiation_ts=base + dt.timedelta(days=n, microseconds=7),
                disconnect_ts=base + dt.timedelta(days=n, minutes=4),
            )
            for n in range(7)
        ]  # fmt: skip
        contacts.append(
            t.Contact(tenant_id=tenant_id, channel="voice", direction="inbound", status="ended",
                      customer_id=other.id, initiation_ts=base + dt.timedelta(days=30))
        )  # fmt: skip
        s.add_all(contacts)
        s.flush()
        shown_cases = sorted((c for c in cases[:24] if c.status != "closed"), key=lambda c: c.created_at, reverse=True)
        expected = {
            "identities": ["ana@example.es", PHONE, "web-ana"],
            "cases": [c.reference for c in shown_cases[:20]],
            "contacts": [c.id for c in reversed(contacts[2:7])],
            "newest_case_at": shown_cases[0].created_at,
            "newest_contact_at": contacts[6].initiation_ts,
        }
        return who.id, expected


def test_the_360_shows_what_it_must_in_order(api: Api) -> None:
    """Identities in creation order, the 20 newest open or pending cases (closed ones and other customers'
    never), the 5 newest contacts; timestamps to the microsecond in UTC. On PostgreSQL this is the one
    statement with JSON arrays (crm.queries `_PROFILE_ONE_TRIP`), on SQLite three statements."""
    customer_id, expected = _history(api)
    body = api.client("agent").get("/api/customers/lookup", params={"chat": "web-ana"}).json()
    assert body["customer"]["id"] == customer_id
    assert body["matched_by"]["value"] == "web-ana"
    assert [i["value"] for i in body["customer"]["identities"]] == expected["identities"]
    assert [c["reference"] for c in body["open_cases"]] == expected["cases"]
    assert {c["status"] for c in body["open_cases"]} == {"open", "pending"}
    assert [c["id"] for c in body["last_contacts"]] == expected["contacts"]
    newest_case = dt.datetime.fromisoformat(body["open_cases"][0]["created_at"])
    newest_contact = dt.datetime.fromisoformat(body["last_contacts"][0]["initiation_ts"])
    assert newest_case == expected["newest_case_at"] and newest_case.utcoffset() == dt.timedelta(0)
    assert newest_contact == expected["newest_contact_at"]
    assert body["open_cases"][0]["created_at"].endswith("Z")


def test_one_statement_and_three_agree_on_postgresql(api: Api) -> None:
    """Both ways of reading the 360 give the same document, to the byte (on SQLite only the three)."""
    from centralita.crm import queries

    _history(api)
    with api.service.db.read() as s:
        for kind, value in (("phone", PHONE), ("email", "ana@example.es"), ("phone", "+34699999999")):
            params = {"tenant_id": api.a.tenant_id, "kind": kind, "value": value}
            three = queries._customer_360_three_trips(s, params)
            if api.service.db.is_sqlite:
                assert (three is None) == (value == "+34699999999")
                continue
            one = queries._customer_360_one_trip(s, params)
            assert (one is None) == (three is None) == (value == "+34699999999")
            if one is not None and three is not None:
                assert one.model_dump_json() == three.model_dump_json()

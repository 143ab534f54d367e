"""API tokens never have more rights than their owner has now; expiry; last use kept to the minute."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from centralita.cli import app as cli_app
from tests.conftest import Api
from tests.factories import PASSWORD


def _bearer(api: Api, token: str) -> TestClient:
    client = api.anonymous()
    client.headers["Authorization"] = f"Bearer {token}"
    return client


def _second_admin_token(api: Api, role: str = "admin") -> tuple[int, TestClient]:
    """A second admin (admin2@norte) logs in and issues a token; returns (admin2's user id, its bearer client)."""
    admin = api.client("admin")
    made = admin.post("/api/users", json={"username": "admin2@norte", "password": PASSWORD, "role": "admin"})
    assert made.status_code == 201, made.text
    own = api.anonymous()
    login = own.post("/api/auth/login", json={"username": "admin2@norte", "password": PASSWORD, "tenant": "norte"})
    assert login.status_code == 200, login.text
    own.headers["X-CSRF-Token"] = login.json()["csrf_token"]
    issued = own.post("/api/tokens", json={"name": "admin2-sync", "role": role})
    assert issued.status_code == 201, issued.text
    assert issued.json()["user_id"] == made.json()["id"]
    return made.json()["id"], _bearer(api, issued.json()["token"])


def _new_admin(n: int) -> dict[str, str]:
    return {"username": f"made-{n}", "password": PASSWORD, "role": "admin"}


def test_a_deactivated_admins_token_can_no_longer_create_admins(api: Api) -> None:
    user_id, bearer = _second_admin_token(api)
    assert bearer.post("/api/users", json=_new_admin(1)).status_code == 201  # while its owner is active

    assert api.client("admin").patch(f"/api/users/{user_id}", json={"active": False}).status_code == 200
    resp = bearer.post("/api/users", json=_new_admin(2))
    assert resp.status_code == 401
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert "deactivated" in resp.json()["detail"]
    assert bearer.get("/api/agents").status_code == 401  # reads too
    usernames = {u["username"] for u in api.client("admin").get("/api/users").json()}
    assert "made-1" in usernames and "made-2" not in usernames


def test_lowering_the_owners_role_lowers_the_token_at_once(api: Api) -> None:
    user_id, bearer = _second_admin_token(api)
    admin = api.client("admin")
    assert admin.patch(f"/api/users/{user_id}", json={"role": "supervisor"}).status_code == 200

    assert bearer.get("/api/auth/me").json()["role"] == "supervisor"
    assert bearer.get("/api/agents").status_code == 200  # a supervisor may read agents
    resp = bearer.post("/api/users", json=_new_admin(3))
    assert resp.status_code == 403 and "admin" in resp.json()["detail"]
    assert bearer.post("/api/queues", json={"code": "q9", "name": "Q9"}).status_code == 403
    # nor can it mint itself an admin token
    assert bearer.post("/api/tokens", json={"name": "escape", "role": "admin"}).status_code == 403

    # back to admin: the token acts with its own role again (never more than it was issued with)
    assert admin.patch(f"/api/users/{user_id}", json={"role": "admin"}).status_code == 200
    assert bearer.post("/api/queues", json={"code": "q9", "name": "Q9"}).status_code == 201


def test_a_token_is_capped_by_its_own_role_too(api: Api) -> None:
    _user_id, bearer = _second_admin_token(api, role="supervisor")
    assert bearer.get("/api/auth/me").json()["role"] == "supervisor"
    assert bearer.post("/api/users", json=_new_admin(4)).status_code == 403


def _cli(api: Api, *args: str) -> str:
    """The real `centralita` command on the test's database (SQLite file or PostgreSQL)."""
    url = api.service.settings.database_url
    result = CliRunner().invoke(
        cli_app,
        ["--lang", "en", "--data-dir", str(api.service.settings.data_dir), "--database-url", url, *args],
        env={"CENTRALITA_REDIS_URL": "", "COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.stderr
    return result.stdout


def test_a_cli_token_keeps_its_own_role_and_may_expire(api: Api) -> None:
    token = _cli(api, "token", "create", "ops", "--role", "admin", "--tenant", "norte", "--expires-in-days", "30")
    bearer = _bearer(api, token.strip())
    assert bearer.get("/api/auth/me").json() == {
        "user": None,
        "role": "admin",
        "tenant": bearer.get("/api/auth/me").json()["tenant"],
    }
    assert bearer.post("/api/users", json=_new_admin(5)).status_code == 201

    listed = {t["name"]: t for t in api.client("admin").get("/api/tokens").json()}
    ops = listed["ops"]
    assert ops["user_id"] is None
    expires = dt.datetime.fromisoformat(ops["expires_at"])
    created = dt.datetime.fromisoformat(ops["created_at"])
    assert expires - created == dt.timedelta(days=30)

    api.service.clock.set(expires)  # type: ignore[attr-defined]  # FakeClock
    resp = bearer.get("/api/agents")
    assert resp.status_code == 401 and "expired" in resp.json()["detail"]


def test_token_expiry(api: Api) -> None:
    admin = api.client("admin")
    now = api.service.clock.now()
    issued = admin.post("/api/tokens", json={"name": "day", "role": "supervisor", "expires_in_days": 1}).json()
    assert dt.datetime.fromisoformat(issued["expires_at"]) == now + dt.timedelta(days=1)
    at = (now + dt.timedelta(hours=2)).isoformat()
    exact = admin.post("/api/tokens", json={"name": "two-hours", "role": "agent", "expires_at": at}).json()
    assert dt.datetime.fromisoformat(exact["expires_at"]) == now + dt.timedelta(hours=2)
    listed = {t["name"]: t["expires_at"] for t in admin.get("/api/tokens").json()}
    assert listed["day"] == issued["expires_at"] and listed["two-hours"] == exact["expires_at"]

    bearer = _bearer(api, issued["token"])
    assert bearer.get("/api/agents").status_code == 200
    api.service.clock.advance(86400 - 1)  # type: ignore[attr-defined]
    assert bearer.get("/api/agents").status_code == 200
    api.service.clock.advance(1)  # type: ignore[attr-defined]
    resp = bearer.get("/api/agents")
    assert resp.status_code == 401
    assert resp.json()["detail"] == "the API token expired on 2026-01-06T09:00:00+00:00; issue a new one"


def test_bad_expiry_is_a_precise_422(api: Api) -> None:
    admin = api.client("admin")
    now = api.service.clock.now()
    cases: list[tuple[dict[str, object], str, str]] = [
        ({"expires_at": (now - dt.timedelta(seconds=1)).isoformat()}, "expires_at", "must be in the future"),
        ({"expires_at": "2026-02-01T10:00:00"}, "expires_at", "must include its time zone (Z or ±HH:MM)"),
        ({"expires_in_days": 0}, "expires_in_days", "must be 1 or more"),
        ({"expires_in_days": 3651}, "expires_in_days", "must be 3650 or less"),
        (
            {"expires_in_days": 3, "expires_at": (now + dt.timedelta(days=1)).isoformat()},
            "expires_in_days",
            "give expires_at or expires_in_days, not both",
        ),
    ]
    for extra, field, message in cases:
        resp = admin.post("/api/tokens", json={"name": "x", "role": "agent", **extra})
        assert resp.status_code == 422, (extra, resp.text)
        assert resp.json()["errors"] == [{"field": field, "message": message}], extra
    assert admin.get("/api/tokens").json() == []


def test_last_used_at_is_kept_to_the_minute(api: Api) -> None:
    admin = api.client("admin")
    issued = admin.post("/api/tokens", json={"name": "poller", "role": "supervisor"}).json()
    assert issued["last_used_at"] is None

    def last_used() -> dt.datetime | None:
        row = next(t for t in admin.get("/api/tokens").json() if t["name"] == "poller")
        return dt.datetime.fromisoformat(row["last_used_at"]) if row["last_used_at"] else None

    assert last_used() is None  # issuing is not using
    bearer = _bearer(api, issued["token"])
    first = api.service.clock.now()
    assert bearer.get("/api/agents").status_code == 200
    assert last_used() == first
    api.service.clock.advance(30)  # type: ignore[attr-defined]
    assert bearer.get("/api/agents").status_code == 200
    assert last_used() == first  # within the minute: not written again
    api.service.clock.advance(30)  # type: ignore[attr-defined]
    assert bearer.get("/api/agents").status_code == 200
    assert last_used() == first + dt.timedelta(seconds=60)

"""One access log line per request: request id (the caller's when sane), client, method, path without
secrets, status, duration, who; the id comes back in X-Request-ID."""

from __future__ import annotations

import logging
import re

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from centralita.api.app import create_app
from tests.conftest import Api
from tests.factories import PASSWORD


def _lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, str]]:
    out = []
    for record in caplog.records:
        if record.name == "centralita.access":
            out.append(dict(part.split("=", 1) for part in record.getMessage().split(" ")))
    caplog.clear()
    return out


@pytest.fixture
def logged(api: Api, caplog: pytest.LogCaptureFixture) -> TestClient:
    caplog.set_level(logging.INFO, logger="centralita.access")
    return TestClient(create_app(api.service, access_log=True))


def test_a_line_per_request_with_its_fields(api: Api, logged: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    login = logged.post(
        "/api/auth/login",
        json={"username": api.a.usernames["supervisor"], "password": PASSWORD, "tenant": "norte"},
        headers={"X-Request-ID": "lb-7f3a.42"},
    )
    assert login.status_code == 200 and login.headers["x-request-id"] == "lb-7f3a.42"
    [line] = _lines(caplog)
    assert line["request_id"] == "lb-7f3a.42" and line["path"] == "/api/auth/login" and line["status"] == "200"
    assert PASSWORD not in str(caplog.text)

    resp = logged.get("/api/agents?state=available", headers={"X-CSRF-Token": login.json()["csrf_token"]})
    assert resp.status_code == 200
    [line] = _lines(caplog)
    assert set(line) == {"request_id", "client", "method", "path", "status", "duration_ms", "user"}
    assert re.fullmatch(r"[0-9a-f]{32}", line["request_id"]) and resp.headers["x-request-id"] == line["request_id"]
    assert line["client"] == "testclient" and line["method"] == "GET"
    assert line["path"] == "/api/agents?state=available" and line["status"] == "200"
    assert float(line["duration_ms"]) >= 0
    assert line["user"] == "supervisor@norte"


def test_insane_request_ids_are_replaced(logged: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    for bad in ("has space", "x" * 129, "semi;colon", ""):
        resp = logged.get("/api/health", headers={"X-Request-ID": bad})
        [line] = _lines(caplog)
        assert re.fullmatch(r"[0-9a-f]{32}", resp.headers["x-request-id"]), bad
        assert line["request_id"] == resp.headers["x-request-id"] and line["user"] == "-"


def test_secrets_in_the_query_are_not_logged(api: Api, logged: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    issued = api.client("admin").post("/api/tokens", json={"name": "crm-sync", "role": "supervisor"}).json()
    caplog.clear()
    secret = issued["token"]
    resp = logged.get(
        f"/api/agents?lang=en&api_key=k1&token={secret}&x_token=k2",
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert resp.status_code == 200
    [line] = _lines(caplog)
    assert line["path"] == "/api/agents?lang=en&api_key=***&token=***&x_token=***"
    assert line["user"] == "token:crm-sync"
    assert secret not in caplog.text

    with logged.websocket_connect(f"/api/realtime?token={secret}") as ws:
        assert ws.receive_json()["type"] == "hello"
    [line] = _lines(caplog)
    assert line["method"] == "WS" and line["status"] == "101"
    assert line["path"] == "/api/realtime?token=***" and line["user"] == "token:crm-sync"


def test_refusals_are_logged_with_their_status(logged: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    assert logged.get("/api/customers").status_code == 401
    assert logged.get("/api/nowhere").status_code == 404
    with pytest.raises(WebSocketDisconnect), logged.websocket_connect("/api/realtime?token=ctk_wrong") as ws:
        ws.receive_json()
    lines = _lines(caplog)
    assert [(x["method"], x["path"], x["status"], x["user"]) for x in lines] == [
        ("GET", "/api/customers", "401", "-"),
        ("GET", "/api/nowhere", "404", "-"),
        ("WS", "/api/realtime?token=***", "4401", "-"),  # accepted, then closed with the protocol's code
    ]


def test_the_access_log_can_be_off_and_ids_stay(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="centralita.access")
    quiet = TestClient(create_app(api.service, access_log=False))
    resp = quiet.get("/api/health", headers={"X-Request-ID": "abc"})
    assert resp.headers["x-request-id"] == "abc"
    assert _lines(caplog) == []


def test_a_500_has_its_id_line_and_error_log(
    api: Api, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.INFO, logger="centralita.access")
    client = TestClient(create_app(api.service, access_log=True), raise_server_exceptions=False)

    def broken() -> None:
        raise RuntimeError("the disk is on fire")

    monkeypatch.setattr(api.service.db, "read", broken)
    resp = client.get("/api/health", headers={"X-Request-ID": "boom-1"})
    assert resp.status_code == 500 and resp.headers["x-request-id"] == "boom-1"
    assert resp.json()["type"].endswith("/internal-error")
    errors = [r for r in caplog.records if r.name == "centralita.api"]
    assert errors and "request_id=boom-1" in errors[0].getMessage()
    [line] = _lines(caplog)
    assert line["request_id"] == "boom-1" and line["status"] == "500" and line["path"] == "/api/health"

"""The request body limit (`max_body_bytes`, 1 MiB by default): 413 with a problem document, declared or
streamed, and nothing is written."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from centralita.api.app import create_app
from centralita.core.errors import InvalidInput
from centralita.core.settings import load_settings
from tests.conftest import Api
from tests.factories import PASSWORD


def _client(api: Api, limit: int) -> TestClient:
    api.service.settings = dataclasses.replace(api.service.settings, max_body_bytes=limit)
    client = TestClient(create_app(api.service))
    body = {"username": api.a.usernames["agent"], "password": PASSWORD, "tenant": api.a.slug}
    resp = client.post("/api/auth/login", json=body)
    assert resp.status_code == 200, resp.text
    client.headers["X-CSRF-Token"] = resp.json()["csrf_token"]
    return client


def _customer(padding: int) -> bytes:
    return json.dumps({"name": "Ana", "attributes": {"nota": "x" * padding}}).encode()


def _assert_413(resp: object, limit: int) -> None:
    from httpx2 import Response

    assert isinstance(resp, Response)
    assert resp.status_code == 413, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    problem = resp.json()
    assert problem["type"].endswith("/content-too-large") and problem["status"] == 413
    assert problem["title"] == "Content too large" and str(limit) in problem["detail"]


def test_limit_is_a_setting_one_mebibyte_by_default(tmp_path: Path) -> None:
    env = {"CENTRALITA_DATA_DIR": str(tmp_path)}
    assert load_settings({}, env=env).max_body_bytes == 1024 * 1024
    (tmp_path / "centralita.toml").write_text("max_body_bytes = 4096\n")
    assert load_settings({}, env=env).max_body_bytes == 4096
    assert load_settings({}, env={**env, "CENTRALITA_MAX_BODY_BYTES": "2048"}).max_body_bytes == 2048
    assert load_settings({"max_body_bytes": 1000}, env=env).max_body_bytes == 1000
    with pytest.raises(InvalidInput, match="max_body_bytes must be a positive integer"):
        load_settings({}, env={**env, "CENTRALITA_MAX_BODY_BYTES": "0"})


def test_declared_body_over_the_limit_is_413_and_nothing_is_written(api: Api) -> None:
    client = _client(api, 4096)
    body = _customer(5000)
    resp = client.post("/api/customers", content=body, headers={"content-type": "application/json"})
    _assert_413(resp, 4096)
    assert client.get("/api/customers").json()["total"] == 0
    # at the limit it goes through
    fits = _customer(0)
    fits = fits[:-2] + b" " * (4096 - len(fits)) + fits[-2:]
    assert len(fits) == 4096
    assert client.post("/api/customers", content=fits, headers={"content-type": "application/json"}).status_code == 201


def test_streamed_body_over_the_limit_is_413(api: Api) -> None:
    client = _client(api, 4096)
    body = _customer(10_000)

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 1000):
            yield body[start : start + 1000]

    resp = client.post("/api/customers", content=chunks(), headers={"content-type": "application/json"})
    assert "content-length" not in {k.lower() for k in resp.request.headers}
    _assert_413(resp, 4096)
    assert client.get("/api/customers").json()["total"] == 0

    small = _customer(10)
    resp = client.post(
        "/api/customers", content=iter([small[:5], small[5:]]), headers={"content-type": "application/json"}
    )
    assert resp.status_code == 201, resp.text


def test_default_limit_refuses_a_two_mebibyte_body_in_spanish(api: Api) -> None:
    client = api.client("agent")
    resp = client.post(
        "/api/customers",
        content=_customer(2 * 1024 * 1024),
        headers={"content-type": "application/json", "accept-language": "es"},
    )
    assert resp.status_code == 413
    assert resp.headers["content-language"] == "es"
    assert resp.json()["title"] == "Contenido demasiado grande"

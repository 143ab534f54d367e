"""The API speaks the request's language: `?lang=`, else Accept-Language, else the server's (Spanish by
default; this suite runs with CENTRALITA_LANGUAGE=en). Problem titles, built-in validation messages and
the domain's own messages all follow it."""

from __future__ import annotations

import pytest

from centralita.core import i18n
from tests.conftest import Api


def test_negotiate_picks_the_best_supported_language() -> None:
    assert i18n.negotiate("en-GB,en;q=0.8,es;q=0.5") == "en"
    assert i18n.negotiate("fr-FR, es;q=0.4, en;q=0.3") == "es"
    assert i18n.negotiate("fr, de") == "es" and i18n.negotiate(None, default="en") == "en"
    assert i18n.negotiate("en;q=0, es;q=0.1") == "es"
    assert i18n.negotiate("en;q=bad") == "es"


@pytest.mark.parametrize(
    ("headers", "query", "lang"),
    [({"Accept-Language": "es-ES,es;q=0.9"}, "", "es"), ({"Accept-Language": "es"}, "?lang=en", "en"), ({}, "", "en")],
)
def test_problems_follow_the_request_language(api: Api, headers: dict[str, str], query: str, lang: str) -> None:
    admin = api.client("admin")
    bad = admin.post(f"/api/queues{query}", json={"name": ""}, headers=headers)
    assert bad.status_code == 422 and bad.headers["content-language"] == lang
    body = bad.json()
    fields = {e["field"]: e["message"] for e in body["errors"]}
    if lang == "es":
        assert body["title"] == "Datos no válidos"
        assert fields == {"code": "es obligatorio", "name": "no puede estar vacío"}
    else:
        assert body["title"] == "Invalid input"
        assert fields == {"code": "is required", "name": "must not be empty"}
    broken = admin.post(
        f"/api/queues{query}", content=b'{"code": ', headers={**headers, "content-type": "application/json"}
    )
    assert broken.status_code == 422
    assert [e["field"] for e in broken.json()["errors"]] == ["body"]  # not the parser's character position
    missing = admin.get(f"/api/queues/nope{query}", headers=headers)
    assert missing.status_code == 404
    assert missing.json()["title"] == ("No encontrado" if lang == "es" else "Not found")


def test_an_unexpected_error_speaks_the_request_language(api: Api) -> None:
    """The catch-all handler runs outside the middleware: it reads the request's language itself."""
    from fastapi.testclient import TestClient

    from centralita.api.app import create_app

    app = create_app(api.service)

    @app.get("/api/boom")
    def boom() -> None:
        raise RuntimeError("boom")

    client = TestClient(app, raise_server_exceptions=False)
    for lang, title in (("es", "Error interno"), ("en", "Internal error")):
        resp = client.get(f"/api/boom?lang={lang}")
        assert resp.status_code == 500 and resp.json()["title"] == title
        assert resp.headers["content-language"] == lang

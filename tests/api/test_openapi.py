"""The OpenAPI document lists every operation's problem responses; OPTIONS answers on every path."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api

PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


def _spec(api: Api) -> dict[str, Any]:
    resp = api.anonymous().get("/openapi.json")
    assert resp.status_code == 200
    spec: dict[str, Any] = resp.json()
    return spec


def test_every_operation_lists_its_problem_responses(api: Api) -> None:
    spec = _spec(api)
    problem = spec["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail", "instance"}
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    operations = [(m.upper(), p, op) for p, ops in spec["paths"].items() for m, op in ops.items()]
    assert len(operations) > 60
    for method, path, op in operations:
        responses = op["responses"]
        codes = set(responses)
        assert "422" in codes, (method, path)
        for code in codes - {"200", "201", "204"}:
            assert responses[code]["content"] == PROBLEM, (method, path, code)
        if "requestBody" in op:
            assert "413" in codes, (method, path)
        if "{" in path:
            assert "404" in codes, (method, path)
        if path not in ("/api/auth/login", "/api/health") and not path.startswith("/api/chat/"):
            assert {"401", "403"} <= codes, (method, path)  # the web chat's visitors are anonymous
        if method != "GET" and path != "/api/health":
            assert "409" in codes, (method, path)
    login = spec["paths"]["/api/auth/login"]["post"]["responses"]
    assert {"401", "413", "422", "429"} <= set(login) and "403" not in login
    assert "503" in spec["paths"]["/api/queues/stats"]["get"]["responses"]


def test_documented_problem_matches_what_is_sent(api: Api) -> None:
    resp = api.client("agent").post("/api/customers", json={"name": ""})
    assert resp.status_code == 422 and resp.headers["content-type"] == "application/problem+json"
    body = resp.json()
    assert set(body) == {"type", "title", "status", "detail", "instance", "errors"}
    assert set(body["errors"][0]) == {"field", "message"}


def test_options_lists_the_methods_without_authentication(api: Api) -> None:
    anonymous = api.anonymous()
    for path, allowed in (
        ("/api/customers", "GET, HEAD, OPTIONS, POST"),
        ("/api/customers/12", "GET, HEAD, OPTIONS, PATCH"),
        ("/api/agents/ana", "DELETE, GET, HEAD, OPTIONS, PATCH"),
        ("/api/contacts/7/wrap-up", "OPTIONS, POST"),
        ("/api/auth/login", "OPTIONS, POST"),
        ("/api/health", "GET, HEAD, OPTIONS"),
    ):
        resp = anonymous.options(path)
        assert resp.status_code == 204, (path, resp.text)
        assert resp.headers["allow"] == allowed
    resp = anonymous.options("/api/nothing-here")
    assert resp.status_code == 404 and resp.json()["type"].endswith("/not-found")
    # the methods a path does not take still answer 405 naming the ones it does
    resp = api.client("agent").put("/api/customers")
    assert resp.status_code == 405 and "GET" in resp.headers["allow"]

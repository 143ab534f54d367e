"""The API against its own OpenAPI document (schemathesis): valid and invalid requests for every operation,
as each role, on SQLite and PostgreSQL. No answer is a 5xx, and every answer is one the document
describes (status code, content type, body schema)."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from centralita.api.app import create_app
from tests.conftest import Api
from tests.factories import PASSWORD

EXAMPLES = 5  # per operation, engine and mode (each sent as every role): about a minute per engine
ROLES = ("admin", "supervisor", "agent")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
LEFT_OUT = {("POST", "/api/auth/logout")}  # would end the session the run uses (tests/api/test_auth.py)


def _session_headers(api: Api, role: str) -> dict[str, str]:
    client = api.client(role)
    session = client.cookies.get("centralita_session")
    assert session is not None
    return {"Cookie": f"centralita_session={session}", "X-CSRF-Token": client.headers["X-CSRF-Token"]}


def _runner(strategy: Any, role_headers: list[dict[str, str]], checks: list[Any]) -> Any:
    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        for headers in role_headers:  # one generated request, sent as each role
            case.call_and_validate(headers=headers, checks=checks)

    return run


@pytest.mark.slow
def test_api_keeps_to_its_openapi_document(api: Api) -> None:
    admin = api.client("admin")
    # users and tokens the run may change or revoke without locking itself out
    spare_user = admin.post(
        "/api/users", json={"username": "spare", "password": PASSWORD, "role": "agent", "agent": "luis"}
    )
    spare_token = admin.post("/api/tokens", json={"name": "spare", "role": "agent"})
    assert spare_user.status_code == 201 and spare_token.status_code == 201
    pinned: dict[str, Any] = {"user_id": spare_user.json()["id"], "token_id": spare_token.json()["id"]}
    roles = {role: _session_headers(api, role) for role in ROLES}
    api.service.start_routing()  # live contacts are offered, queue statistics answer
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(api.service))
    failures: list[str] = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            failures.append(f"an operation the document describes badly: {result.err()}")
            continue
        operation = result.ok()
        if (operation.method.upper(), operation.path) in LEFT_OUT:
            continue
        # a documented 503 (live statistics from another process) is no fault; a 500 still is (undocumented)
        checks = [
            c for c in CHECKS if c is not not_a_server_error or "503" not in operation.definition.raw["responses"]
        ]
        path_parameters = {k: v for k, v in pinned.items() if "{" + k + "}" in operation.path}
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters or None)
            run = _runner(strategy, list(roles.values()), checks)
            try:
                run()
            except Unsatisfiable:
                pass  # nothing to make invalid (no parameters, no body)
            except (Exception, BaseExceptionGroup) as exc:  # collect them all: one run shows every operation at fault
                failures.append(f"{operation.method.upper()} {operation.path} ({mode.value}): {exc}")
    assert not failures, "\n\n".join(failures)

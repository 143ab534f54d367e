"""The API's account of itself: every operation's problem responses in the OpenAPI document, and OPTIONS.

Each operation lists the problem documents it can answer with (`application/problem+json`, schema
`Problem`), by what it takes and who may call it:

- 422 (invalid input) everywhere: every parameter, declared or not, is checked (`api.params`);
- 413 (content too large) where a body is taken (`max_body_bytes`);
- 401 and 403 (not authenticated, not allowed, missing CSRF token) unless the route is public;
- 404 where the path names something (`{code}`, `{id}`), or the route says so;
- 409 (conflict) for every write;
- what a route declares itself (`responses=` in its decorator: 429 for login, 503 for live statistics).

OPTIONS on any path answers 204 with `Allow` listing its methods, without authentication (RFC 9110
§9.3.7); a path that names no route is a 404 problem like any other.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from starlette.routing import BaseRoute, compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

from centralita.api.auth import ACCESS_MARK
from centralita.api.problems import MEDIA_TYPE, TYPE_BASE

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
DESCRIPTIONS = {
    "401": "Not authenticated: log in (session cookie) or send a Bearer API token",
    "403": "Forbidden: the role does not allow it, or the X-CSRF-Token header is missing or wrong",
    "404": "Not found",
    "409": "Conflict with the current state",
    "413": "Content too large: the body is over the server's max_body_bytes",
    "422": "Invalid input: `errors` names each field at fault",
    "429": "Too many requests: wait Retry-After seconds",
    "503": "Service unavailable",
}


class FieldProblem(BaseModel):
    field: str = Field(description="the field at fault, as a dotted path (`identities.0.value`)")
    message: str
    source: str | None = Field(default=None, description="the file, for configuration and imports")
    line: int | None = None
    column: int | None = None


class Problem(BaseModel):
    """An RFC 9457 problem document, in the request's language."""

    type: str = Field(description=f"{TYPE_BASE}<slug>, e.g. {TYPE_BASE}invalid-input")
    title: str
    status: int
    detail: str
    instance: str = Field(description="the request's path")
    errors: list[FieldProblem] | None = Field(default=None, description="one entry per field at fault")


def problem_response(description: str) -> dict[str, Any]:
    """A `responses=` entry of a route decorator for one problem status."""
    return {"description": description, "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}}


def _is_public(route: APIRoute) -> bool:
    pending = list(route.dependant.dependencies)
    while pending:
        dep = pending.pop()
        if getattr(dep.call, ACCESS_MARK, None) == "public":
            return True
        pending.extend(dep.dependencies)
    return False


def _api_routes(routes: Sequence[BaseRoute], prefix: str = "") -> Iterator[tuple[str, APIRoute]]:
    """(full path, route) of every API route, descending into included routers (FastAPI keeps them as
    wrappers that carry the prefix)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            context = getattr(route, "include_context", None)
            yield from _api_routes(inner.routes, prefix + str(getattr(context, "prefix", "")))
        elif isinstance(route, APIRoute):
            yield prefix + route.path_format, route


def _statuses(route: APIRoute, method: str, operation: dict[str, Any]) -> set[str]:
    found = {"422"}
    if "requestBody" in operation:
        found.add("413")
    if not _is_public(route):
        found |= {"401", "403"}
    if method in UNSAFE:
        found.add("409")
    if "{" in route.path_format:
        found.add("404")
    return found


def install(app: FastAPI) -> None:
    """Problem responses in the OpenAPI document (built once, on first request); OPTIONS on every path."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        spec = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes, tags=app.openapi_tags
        )
        schemas = spec.setdefault("components", {}).setdefault("schemas", {})
        for model in (FieldProblem, Problem):
            schemas[model.__name__] = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for name in ("HTTPValidationError", "ValidationError"):
            schemas.pop(name, None)  # FastAPI's own 422 body, which this API never sends
        for path, route in _api_routes(app.routes):
            for method in route.methods or ():
                operation = spec["paths"].get(path, {}).get(method.lower())
                if operation is None:
                    continue
                responses = operation.setdefault("responses", {})
                for status in sorted(_statuses(route, method, operation) | {s for s in responses if s in DESCRIPTIONS}):
                    described = responses.get(status, {}).get("description")
                    keep = described if described and status != "422" else DESCRIPTIONS[status]
                    responses[status] = problem_response(keep)
        app.openapi_schema = spec
        return spec

    app.openapi = openapi  # type: ignore[method-assign]
    app.add_middleware(OptionsMiddleware, routes=app.router.routes)


class OptionsMiddleware:
    """OPTIONS on a path: 204 and `Allow` with the methods its routes take; no authentication."""

    def __init__(self, app: ASGIApp, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.routes = routes  # the app's list: complete by the first request
        self._table: list[tuple[re.Pattern[str], set[str]]] | None = None

    def _methods(self, path: str) -> set[str]:
        if self._table is None:
            self._table = [(compile_path(full)[0], set(r.methods or ())) for full, r in _api_routes(self.routes)]
        found: set[str] = set()
        for pattern, methods in self._table:
            if pattern.match(path):
                found |= methods
        return found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "OPTIONS":
            await self.app(scope, receive, send)
            return
        methods = self._methods(scope["path"])
        if not methods:
            await self.app(scope, receive, send)  # no such path: the app's 404
            return
        if "GET" in methods:
            methods.add("HEAD")
        allow = ", ".join(sorted(methods | {"OPTIONS"}))
        await send({"type": "http.response.start", "status": 204, "headers": [(b"allow", allow.encode())]})
        await send({"type": "http.response.body", "body": b""})

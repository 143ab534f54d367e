"""Admission under overload (api/admission.py): new contacts get 503 + Retry-After while the worker has
too many requests under way; the agents' actions and reads always go through."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from centralita.api.admission import RETRY_AFTER_S, AdmissionMiddleware


class Held:
    """An inner app whose requests stay under way until released."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.entered: list[str] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.entered.append(f"{scope['method']} {scope['path']}")
        await self.release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})


async def _request(app: Any, method: str, path: str) -> tuple[int, dict[str, str], dict[str, Any]]:
    scope = {"type": "http", "method": method, "path": path, "headers": [], "query_string": b""}
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start = sent[0]
    headers = {k.decode().lower(): v.decode() for k, v in start.get("headers", [])}
    body = b"".join(m.get("body", b"") for m in sent[1:])
    return start["status"], headers, json.loads(body or b"{}")


def test_new_contacts_are_shed_at_capacity_and_agent_actions_go_through() -> None:
    async def scenario() -> None:
        inner = Held()
        app = AdmissionMiddleware(inner, max_pending_requests=2)
        first = asyncio.create_task(_request(app, "POST", "/api/contacts"))
        second = asyncio.create_task(_request(app, "GET", "/api/contacts/1"))
        await asyncio.sleep(0.01)
        assert app.pending == 2
        status, headers, body = await _request(app, "POST", "/api/contacts")  # at capacity: refused at once
        assert status == 503 and headers["retry-after"] == str(RETRY_AFTER_S)
        assert body["status"] == 503 and "capacity" in body["detail"]
        accept = asyncio.create_task(_request(app, "POST", "/api/contacts/1/accept"))  # never shed
        wrap = asyncio.create_task(_request(app, "POST", "/api/contacts/1/wrap-up"))
        await asyncio.sleep(0.01)
        assert inner.entered == [
            "POST /api/contacts",
            "GET /api/contacts/1",
            "POST /api/contacts/1/accept",
            "POST /api/contacts/1/wrap-up",
        ]
        inner.release.set()
        assert [(await t)[0] for t in (first, second, accept, wrap)] == [200, 200, 200, 200]
        assert app.pending == 0
        status, _h, _b = await _request(app, "POST", "/api/contacts")  # below capacity again
        assert status == 200

    asyncio.run(scenario())


def test_the_app_has_admission_with_its_setting(api: Any) -> None:
    from centralita.api.app import create_app

    app = create_app(api.service)
    found = [m for m in app.user_middleware if m.cls is AdmissionMiddleware]  # type: ignore[comparison-overlap]
    assert len(found) == 1 and found[0].kwargs["max_pending_requests"] == api.service.settings.max_pending_requests

"""Flow functions (flowrun/functions.py): HTTP endpoints against a real local HTTP server (answers, retries
on 429/5xx only, size and JSON checks, the timeout over the whole call, headers, tenants kept apart, one
slow call not delaying another) and registered Python functions (result, failure, exception, timeout)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx2 as httpx
import pytest

from centralita.flowrun.functions import (
    MAX_RESPONSE_BYTES,
    Call,
    FunctionFailed,
    Functions,
    flow_function,
    register,
    registered,
)
from centralita.flows.interpreter import Invoke, InvokeDone
from centralita.service import Service
from centralita.store import tables as t
from tests.factories import make_world

NOW = dt.datetime(2026, 12, 7, 10, 0, tzinfo=dt.UTC)


@dataclass
class Endpoints:
    """A real HTTP server on 127.0.0.1: what each path answers, and every request it got."""

    port: int
    requests: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    flaky_failures: int = 1  # /flaky answers 500 this many times, then 200
    stop: threading.Event = field(default_factory=threading.Event)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def hits(self, path: str) -> int:
        return sum(1 for p, _h, _b in self.requests if p == path)


def _handler(state: Endpoints) -> type[BaseHTTPRequestHandler]:
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with lock:
                state.requests.append((self.path, dict(self.headers.items()), body))
                flaky_left = state.flaky_failures - state.hits("/flaky") + 1
            path = self.path
            if path == "/ok":
                self._send(200, json.dumps({"echo": json.loads(body), "n": 1}).encode())
            elif path == "/flaky":
                self._send(500 if flaky_left > 0 else 200, b'{"ok": "si"}')
            elif path == "/busy":
                self._send(429, b"{}")
            elif path == "/down":
                self._send(503, b"{}")
            elif path == "/bad":
                self._send(400, b'{"error": "bad"}')
            elif path == "/text":
                self._send(200, b"<html>hola</html>", "text/html")
            elif path == "/list":
                self._send(200, b"[1, 2]")
            elif path == "/big":
                self._send(200, json.dumps({"x": "a" * MAX_RESPONSE_BYTES}).encode())
            elif path == "/chunked-big":  # no Content-Length: the size is found while reading
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"x": "' + b"a" * (MAX_RESPONSE_BYTES + 10) + b'"}')
                self.close_connection = True
            elif path == "/slow":
                state.stop.wait(3)
                self._send(200, b'{"late": true}')
            elif path == "/strings":
                self._send(200, b'{"a": "x", "b": "y"}')
            elif path == "/mixed":
                self._send(200, b'{"a": "x", "b": 2}')
            else:
                self._send(404, b"{}")

    return Handler


@pytest.fixture
def endpoints() -> Iterator[Endpoints]:
    state = Endpoints(port=0)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    server.block_on_close = False
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    state.stop.set()
    server.shutdown()
    server.server_close()
    thread.join(5)


@dataclass
class Setup:
    service: Service
    norte: int
    sur: int


@pytest.fixture
def setup(service: Service, endpoints: Endpoints) -> Setup:
    norte = make_world(service, "norte").tenant_id
    sur = make_world(service, "sur").tenant_id
    # no action writes flow_functions yet (their configuration is another part): rows as it will store them
    with service.db.write() as s:
        for code, path in (
            ("crm.ok", "/ok"),
            ("crm.flaky", "/flaky"),
            ("crm.busy", "/busy"),
            ("crm.down", "/down"),
            ("crm.bad", "/bad"),
            ("crm.text", "/text"),
            ("crm.list", "/list"),
            ("crm.big", "/big"),
            ("crm.chunked_big", "/chunked-big"),
            ("crm.slow", "/slow"),
            ("crm.strings", "/strings"),
            ("crm.mixed", "/mixed"),
        ):
            s.add(
                t.FlowFunction(
                    tenant_id=norte,
                    code=code,
                    url=endpoints.url(path),
                    headers={"Authorization": "Bearer norte-key", "X-Centralita": "1"},
                    active=True,
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
        s.add(
            t.FlowFunction(
                tenant_id=norte,
                code="crm.off",
                url=endpoints.url("/ok"),
                headers={},
                active=False,
                created_at=NOW,
                updated_at=NOW,
            )
        )
        s.add(
            t.FlowFunction(
                tenant_id=sur,
                code="sur.only",
                url=endpoints.url("/ok"),
                headers={},
                active=True,
                created_at=NOW,
                updated_at=NOW,
            )
        )
    return Setup(service, norte, sur)


def _invoke(function: str, timeout_s: float = 4, retries: int = 3, validate: str = "json", **inputs: Any) -> Invoke:
    return Invoke(function, inputs or {"dni": "12345678Z"}, timeout_s, retries, validate, wait=7)


def _call(setup: Setup, invoke: Invoke, tenant: int | None = None) -> tuple[InvokeDone, float]:
    async def scenario() -> tuple[InvokeDone, float]:
        async with httpx.AsyncClient(trust_env=False) as http:
            functions = Functions(setup.service.db, http)
            try:
                started = time.perf_counter()
                done = await functions.call(tenant or setup.norte, 1, "voice", "es", invoke, NOW)
                return done, time.perf_counter() - started
            finally:
                await functions.aclose()

    return asyncio.run(scenario())


# -- HTTP ------------------------------------------------------------------------------------------------


def test_http_json_answer_and_what_is_sent(setup: Setup, endpoints: Endpoints) -> None:
    done, _s = _call(setup, _invoke("crm.ok", dni="12345678Z", n=3))
    assert done == InvokeDone(result={"echo": {"dni": "12345678Z", "n": 3}, "n": 1}, wait=7)
    [(path, headers, body)] = endpoints.requests
    assert path == "/ok" and json.loads(body) == {"dni": "12345678Z", "n": 3}
    lower = {k.lower(): v for k, v in headers.items()}
    assert lower["authorization"] == "Bearer norte-key" and lower["x-centralita"] == "1"
    assert lower["content-type"] == "application/json"


def test_5xx_is_retried_then_succeeds(setup: Setup, endpoints: Endpoints) -> None:
    endpoints.flaky_failures = 2
    done, _s = _call(setup, _invoke("crm.flaky", retries=3))
    assert done.result == {"ok": "si"} and done.failure is None
    assert endpoints.hits("/flaky") == 3


def test_retries_are_bounded_by_their_number(setup: Setup, endpoints: Endpoints) -> None:
    done, _s = _call(setup, _invoke("crm.busy", retries=2))
    assert done == InvokeDone(failure="error", wait=7)
    assert endpoints.hits("/busy") == 3  # the call and two retries
    done, _s = _call(setup, _invoke("crm.down", retries=0))
    assert done.failure == "error" and endpoints.hits("/down") == 1


def test_retries_are_bounded_by_the_timeout(setup: Setup, endpoints: Endpoints) -> None:
    """503 for ever with 10 retries allowed: backoffs 0.1, 0.2, 0.4… would take 100 s; 0.5 s cuts them."""
    done, took = _call(setup, _invoke("crm.down", timeout_s=0.5, retries=10))
    assert done == InvokeDone(failure="timeout", wait=7)
    assert took < 1.5
    assert 2 <= endpoints.hits("/down") <= 4


@pytest.mark.parametrize(
    ("function", "path"),
    [
        ("crm.bad", "/bad"),  # 400: not retried
        ("crm.text", "/text"),  # not JSON
        ("crm.list", "/list"),  # JSON, not an object
        ("crm.big", "/big"),  # over 1 MiB (declared)
        ("crm.chunked_big", "/chunked-big"),  # over 1 MiB (found reading)
    ],
)
def test_http_errors(setup: Setup, endpoints: Endpoints, function: str, path: str) -> None:
    done, _s = _call(setup, _invoke(function))
    assert done == InvokeDone(failure="error", wait=7)
    assert endpoints.hits(path) == 1


def test_slow_endpoint_times_out_within_the_deadline(setup: Setup) -> None:
    done, took = _call(setup, _invoke("crm.slow", timeout_s=0.3))
    assert done == InvokeDone(failure="timeout", wait=7)
    assert took < 1.0


def test_connection_refused_is_an_error(setup: Setup) -> None:
    with setup.service.db.write() as s:
        s.add(
            t.FlowFunction(
                tenant_id=setup.norte,
                code="crm.nowhere",
                url="http://127.0.0.1:9/",  # discard: nothing listens
                headers={},
                active=True,
                created_at=NOW,
                updated_at=NOW,
            )
        )
    done, took = _call(setup, _invoke("crm.nowhere", timeout_s=3))
    assert done == InvokeDone(failure="error", wait=7) and took < 2


def test_string_map_validation(setup: Setup) -> None:
    done, _s = _call(setup, _invoke("crm.strings", validate="string_map"))
    assert done.result == {"a": "x", "b": "y"}
    done, _s = _call(setup, _invoke("crm.mixed", validate="string_map"))
    assert done == InvokeDone(failure="error", wait=7)
    done, _s = _call(setup, _invoke("crm.mixed", validate="json"))
    assert done.result == {"a": "x", "b": 2}


def test_another_tenants_or_inactive_function_is_unknown(setup: Setup, endpoints: Endpoints) -> None:
    assert _call(setup, _invoke("sur.only"))[0] == InvokeDone(failure="error", wait=7)
    assert _call(setup, _invoke("crm.ok"), tenant=setup.sur)[0] == InvokeDone(failure="error", wait=7)
    assert _call(setup, _invoke("crm.off"))[0] == InvokeDone(failure="error", wait=7)
    assert _call(setup, _invoke("nadie.sabe"))[0] == InvokeDone(failure="error", wait=7)
    assert endpoints.requests == []
    assert _call(setup, _invoke("sur.only"), tenant=setup.sur)[0].result is not None


def test_known_lists_python_functions_and_the_tenants_active_endpoints(setup: Setup) -> None:
    functions = Functions(setup.service.db)
    with setup.service.db.read() as s:
        norte = functions.known(s, setup.norte)
        sur = functions.known(s, setup.sur)
    asyncio.run(functions.aclose())
    assert {"crm.identify", "crm.open_case", "crm.ok", "crm.slow"} <= norte
    assert "crm.off" not in norte and "sur.only" not in norte
    assert "sur.only" in sur and "crm.ok" not in sur


def test_a_slow_call_does_not_delay_another(setup: Setup) -> None:
    async def scenario() -> tuple[float, float, InvokeDone, InvokeDone]:
        async with httpx.AsyncClient(trust_env=False) as http:
            functions = Functions(setup.service.db, http)
            started = time.perf_counter()
            fast_took: list[float] = []

            async def fast() -> InvokeDone:
                done = await functions.call(setup.norte, 2, "chat", "es", _invoke("crm.ok"), NOW)
                fast_took.append(time.perf_counter() - started)
                return done

            slow_done, fast_done = await asyncio.gather(
                functions.call(setup.norte, 1, "voice", "es", _invoke("crm.slow", timeout_s=1.5), NOW), fast()
            )
            total = time.perf_counter() - started
            await functions.aclose()
            return fast_took[0], total, slow_done, fast_done

    fast_took, total, slow_done, fast_done = asyncio.run(scenario())
    assert slow_done.failure == "timeout" and fast_done.result is not None
    assert total >= 1.4
    assert fast_took < 0.7


# -- Python functions ----------------------------------------------------------------------------------------

_SEEN: list[Call] = []
_RELEASE = threading.Event()


@flow_function("pruebas.eco")
def _eco(call: Call) -> Mapping[str, Any]:
    _SEEN.append(call)
    return {"dijo": call.input.get("texto"), "canal": call.channel}


@flow_function("pruebas.falla")
def _falla(call: Call) -> Mapping[str, Any]:
    raise FunctionFailed("no hay saldo")


@flow_function("pruebas.rompe")
def _rompe(call: Call) -> Mapping[str, Any]:
    return {"x": 1 / 0}


@flow_function("pruebas.lenta")
def _lenta(call: Call) -> Mapping[str, Any]:
    _RELEASE.wait(5)
    return {"tarde": True}


@flow_function("pruebas.no_json")
def _no_json(call: Call) -> Mapping[str, Any]:
    return {"cuando": dt.datetime(2026, 1, 1)}


@flow_function("pruebas.numeros")
def _numeros(call: Call) -> Mapping[str, Any]:
    return {"n": 3}


def test_python_function_result_and_call(setup: Setup) -> None:
    _SEEN.clear()
    done, _s = _call(setup, _invoke("pruebas.eco", texto="hola"))
    assert done == InvokeDone(result={"dijo": "hola", "canal": "voice"}, wait=7)
    [call] = _SEEN
    assert (call.tenant_id, call.contact_id, call.language, call.now) == (setup.norte, 1, "es", NOW)
    assert call.db is setup.service.db
    actor = call.actor()
    assert (actor.tenant_id, actor.username, actor.now()) == (setup.norte, "flow", NOW)


def test_python_failures(setup: Setup, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("WARNING", logger="centralita.flowrun.functions")
    assert _call(setup, _invoke("pruebas.falla", pin="9876"))[0] == InvokeDone(failure="error", wait=7)
    assert _call(setup, _invoke("pruebas.rompe", pin="9876"))[0] == InvokeDone(failure="error", wait=7)
    assert _call(setup, _invoke("pruebas.no_json"))[0] == InvokeDone(failure="error", wait=7)
    assert _call(setup, _invoke("pruebas.numeros", validate="string_map"))[0].failure == "error"
    assert "no hay saldo" in caplog.text and "ZeroDivisionError" in caplog.text
    assert "pruebas.falla" in caplog.text and f"tenant {setup.norte}" in caplog.text
    assert "9876" not in caplog.text  # input values are never logged


def test_python_function_timeout_returns_at_once(setup: Setup) -> None:
    _RELEASE.clear()
    try:
        done, took = _call(setup, _invoke("pruebas.lenta", timeout_s=0.2))
    finally:
        _RELEASE.set()
    assert done == InvokeDone(failure="timeout", wait=7)
    assert took < 1.0


def test_registry() -> None:
    assert {"crm.identify", "crm.open_case", "pruebas.eco"} <= registered()
    register("pruebas.eco", _eco)  # the same function again: harmless
    with pytest.raises(ValueError, match="already registered"):
        register("pruebas.eco", _falla)
    with pytest.raises(ValueError, match="dotted lowercase"):
        register("Sin_Punto", _eco)


def test_a_python_function_wins_over_an_http_row_of_the_same_name(setup: Setup, endpoints: Endpoints) -> None:
    with setup.service.db.write() as s:
        s.add(
            t.FlowFunction(
                tenant_id=setup.norte,
                code="pruebas.eco",
                url=endpoints.url("/ok"),
                headers={},
                active=True,
                created_at=NOW,
                updated_at=NOW,
            )
        )
    done, _s = _call(setup, _invoke("pruebas.eco", texto="hola"))
    assert done.result == {"dijo": "hola", "canal": "voice"}
    assert endpoints.requests == []

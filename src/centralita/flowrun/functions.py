"""The functions a flow's `invoke` node calls (flows-and-routing.md §3): registered Python callables and the
contact center's HTTP endpoints (JSON in and out).

`Functions.call` carries out one `Invoke` action and answers the `InvokeDone` event to feed back to the
interpreter:

- **the whole call, retries included, within `timeout_s`**; when the time runs out the answer is
  `failure="timeout"` at once (the flow's `timeout` outcome, or `error` when unwired);
- **Python functions** (`register` / `@flow_function`) are synchronous, `fn(call: Call) -> Mapping`; they run
  in a worker thread of this object's own pool, so a slow one never blocks the event loop nor the threads the
  other calls read the database with. One that overruns its time is left to finish in its thread and its
  result dropped. `FunctionFailed` (or any other exception) gives `error`;
- **HTTP functions** are the tenant's active `flow_functions` rows: the input POSTed as a JSON object with the
  row's headers. A 2xx answer whose body is a JSON object of at most 1 MiB is the result; anything else
  (another status, not JSON, not an object, too big, a connection failure) is `error`. Only 429 and 5xx
  are retried, up to `retries` times, after 0.1 s, 0.2 s, 0.4 s… (as long as the time allows: the timeout
  bounds the retries). A connection failure is not retried: the spec retries on 429 and 5xx only, and an
  endpoint that is down would usually stay down for the few seconds a flow can wait;
- **validation**: `json` wants a JSON object (a Python function's result must also be JSON: it is stored
  with the flow's state), `string_map` an object whose values are all strings;
- **an unknown function** (neither registered nor an active row of the tenant) gives `error`.

A name registered in Python wins over an HTTP row of the same code (the built-ins `crm.*` and the code a
deployment loads cannot be shadowed by configuration); `Functions.known` lists both kinds, as publishing
checks flows against them (rule 8). A tenant's HTTP rows are only ever read for that tenant.

Failures are logged (`centralita.flowrun.functions`) with the function, tenant and contact, never the input
values (a PIN may be among them) nor a Python exception's message (it may quote them): its type and where
it was raised. The customer hears only what the flow says on its `error` branch.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import datetime as dt
import importlib
import json
import logging
import re
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx2 as httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from centralita.core.actor import Actor
from centralita.core.clock import FakeClock
from centralita.flows.interpreter import Invoke, InvokeDone
from centralita.flows.spec import FUNCTION_PATTERN
from centralita.store import tables as t
from centralita.store.db import Database

__all__ = [
    "MAX_RESPONSE_BYTES",
    "Call",
    "FunctionFailed",
    "Functions",
    "PythonFunction",
    "flow_function",
    "load_modules",
    "python_functions",
    "register",
    "registered",
]

log = logging.getLogger(__name__)

MAX_RESPONSE_BYTES = 1024 * 1024  # an HTTP function's answer over this is an error
FIRST_BACKOFF_S = 0.1  # before the first retry; doubled before each next one
WORKERS = 16  # threads for Python functions (per `Functions`)
_NAME = re.compile(FUNCTION_PATTERN)


@dataclass(frozen=True)
class Call:
    """What a Python function is called with: the database (it may open its own `db.write()`), whose
    contact it serves, and the input the flow evaluated (`input`). `now` is the time of the invoke (UTC)."""

    db: Database
    tenant_id: int
    contact_id: int
    channel: str
    language: str
    input: Mapping[str, Any]
    now: dt.datetime

    def actor(self) -> Actor:
        """The system actor a function's writes go through: the tenant's, as `flow`, at the invoke's time."""
        return Actor(tenant_id=self.tenant_id, role="admin", username="flow", clock=FakeClock(self.now))


class FunctionFailed(Exception):
    """Raised by a Python function for the flow's `error` outcome. The message is logged (keep input values
    such as a PIN out of it) and never shown to the customer."""


PythonFunction = Callable[[Call], Mapping[str, Any]]
_F = TypeVar("_F", bound=PythonFunction)

_REGISTRY: dict[str, PythonFunction] = {}


def register(name: str, fn: PythonFunction) -> None:
    """Make `fn` callable from flows as `name` (a dotted lowercase name). Registering the same function
    again is harmless (a module imported twice); another function under a taken name is a ValueError."""
    if not _NAME.fullmatch(name):
        raise ValueError(f"a flow function name is dotted lowercase (e.g. crm.identify), not {name!r}")
    existing = _REGISTRY.get(name)
    if existing is not None and existing is not fn and _qualname(existing) != _qualname(fn):
        raise ValueError(f"flow function {name!r} is already registered ({_qualname(existing)})")
    _REGISTRY[name] = fn


def flow_function(name: str) -> Callable[[_F], _F]:
    """Decorator: `@flow_function("banco.saldo")` registers the function under that name."""

    def decorate(fn: _F) -> _F:
        register(name, fn)
        return fn

    return decorate


def registered() -> frozenset[str]:
    """The names of the Python functions registered so far."""
    return frozenset(_REGISTRY)


def python_functions(modules: str) -> frozenset[str]:
    """The Python functions a service configured with `modules` (`function_modules`, comma-separated)
    registers: what publishing checks `invoke` names against (§4 rule 8)."""
    load_modules(modules.split(","))
    return registered()


def load_modules(names: Iterable[str]) -> None:
    """Import the modules `names` (dotted module names, e.g. `centralita.demo.banking`) so that their
    functions register. The built-ins (`centralita.flowrun.builtins`) are always loaded."""
    importlib.import_module("centralita.flowrun.builtins")
    for name in names:
        if name.strip():
            importlib.import_module(name.strip())


def _qualname(fn: Any) -> str:
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"


@dataclass(frozen=True)
class _Endpoint:
    url: str
    headers: dict[str, str]


class _Failed(Exception):
    """A call that gives `error`; the message says why, for the log only (no input values)."""


class Functions:
    """Carries out flows' invokes for every tenant of one service. `http`: the client HTTP functions are
    called with (one is made, and closed by `aclose`, when none is given). Call `aclose` when done."""

    def __init__(self, db: Database, http: httpx.AsyncClient | None = None, workers: int = WORKERS) -> None:
        self.db = db
        self._http = http
        self._own_http = http is None
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="flow-function")
        load_modules(())

    async def aclose(self) -> None:
        """Close the HTTP client made here and let the worker threads go (a running function finishes)."""
        if self._own_http and self._http is not None:
            await self._http.aclose()
            self._http = None
        self._pool.shutdown(wait=False)

    def known(self, session: Session, tenant_id: int) -> set[str]:
        """The functions flows of `tenant_id` may invoke: the registered Python functions and the tenant's
        active HTTP functions (a Python name shadows an HTTP row of the same code)."""
        rows = session.scalars(
            select(t.FlowFunction.code).where(t.FlowFunction.tenant_id == tenant_id, t.FlowFunction.active.is_(True))
        )
        return set(_REGISTRY) | set(rows)

    async def call(
        self, tenant_id: int, contact_id: int, channel: str, language: str, invoke: Invoke, now: dt.datetime
    ) -> InvokeDone:
        """Run `invoke` for the contact and say how it went (its `wait` number is carried back). Never raises
        for anything the function or endpoint does; cancelling the task cancels the call."""
        name = invoke.function
        timeout = asyncio.timeout(max(0.0, float(invoke.timeout_s)))
        try:
            async with timeout:
                result = await self._run(tenant_id, contact_id, channel, language, invoke, now)
        except TimeoutError:
            if not timeout.expired():
                raise  # not ours (cannot come from _run, which turns every failure into _Failed)
            log.warning(
                "flow function %s (tenant %s, contact %s): no answer within %ss",
                name,
                tenant_id,
                contact_id,
                invoke.timeout_s,
            )
            return InvokeDone(failure="timeout", wait=invoke.wait)
        except _Failed as exc:
            log.warning("flow function %s (tenant %s, contact %s): %s", name, tenant_id, contact_id, exc)
            return InvokeDone(failure="error", wait=invoke.wait)
        return InvokeDone(result=result, wait=invoke.wait)

    async def _run(
        self, tenant_id: int, contact_id: int, channel: str, language: str, invoke: Invoke, now: dt.datetime
    ) -> dict[str, Any]:
        fn = _REGISTRY.get(invoke.function)
        if fn is not None:
            call = Call(self.db, tenant_id, contact_id, channel, language, dict(invoke.input), now)
            result = await self._python(fn, call)
        else:
            try:
                endpoint = await asyncio.to_thread(self._endpoint, tenant_id, invoke.function)
            except Exception as exc:  # the database is unreachable: this contact's error, not a crash
                raise _Failed(f"could not read the function ({type(exc).__name__})") from None
            if endpoint is None:
                raise _Failed("no such function (neither registered nor an active HTTP function of the tenant)")
            result = await self._post(endpoint, invoke)
        _validate(result, invoke.validate)
        return result

    async def _python(self, fn: PythonFunction, call: Call) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        context = contextvars.copy_context()
        try:
            result = await loop.run_in_executor(self._pool, context.run, fn, call)
        except FunctionFailed as exc:
            raise _Failed(f"failed: {exc}") from None
        except Exception as exc:  # a bug in the function: where, not what (its message may quote the input)
            raise _Failed(f"raised {type(exc).__name__} at {_where(exc)}") from None
        if not isinstance(result, Mapping):
            raise _Failed(f"returned a {type(result).__name__}, not a mapping")
        try:  # stored with the flow's state: must be JSON (and is copied, so the function keeps its own)
            copied: dict[str, Any] = json.loads(json.dumps(dict(result), allow_nan=False))
        except (TypeError, ValueError):
            raise _Failed("returned something that is not JSON") from None
        return copied

    def _endpoint(self, tenant_id: int, name: str) -> _Endpoint | None:
        with self.db.read() as session:
            row = session.scalar(
                select(t.FlowFunction).where(
                    t.FlowFunction.tenant_id == tenant_id,
                    t.FlowFunction.code == name,
                    t.FlowFunction.active.is_(True),
                )
            )
            if row is None:
                return None
            return _Endpoint(row.url, {str(k): str(v) for k, v in (row.headers or {}).items()})

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=None)
        return self._http

    async def _post(self, endpoint: _Endpoint, invoke: Invoke) -> dict[str, Any]:
        body = json.dumps(dict(invoke.input), allow_nan=False, ensure_ascii=False).encode()
        headers = {"Accept": "application/json", **endpoint.headers, "Content-Type": "application/json"}
        delay = FIRST_BACKOFF_S
        attempt = 0
        while True:
            status, content = await self._send(endpoint.url, headers, body)
            if (status == 429 or 500 <= status <= 599) and attempt < invoke.retries:
                attempt += 1
                await asyncio.sleep(delay)  # the call's timeout cuts this short when the time is up
                delay *= 2
                continue
            if not 200 <= status <= 299:
                raise _Failed(f"HTTP {status}" + (f" after {attempt} retries" if attempt else ""))
            if content is None:
                raise _Failed(f"the answer is over {MAX_RESPONSE_BYTES} bytes")
            try:
                result = json.loads(content, parse_constant=_no_constant)
            except (ValueError, UnicodeDecodeError):
                raise _Failed("the answer is not JSON") from None
            if not isinstance(result, dict):
                raise _Failed(f"the answer is a JSON {type(result).__name__}, not an object")
            return result

    async def _send(self, url: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes | None]:
        """POST once: the status and the body (None when over MAX_RESPONSE_BYTES; only a 2xx body is read)."""
        try:
            async with self._client().stream("POST", url, content=body, headers=headers) as response:
                if not 200 <= response.status_code <= 299:
                    return response.status_code, b""
                declared = response.headers.get("Content-Length")
                if declared is not None and declared.isdigit() and int(declared) > MAX_RESPONSE_BYTES:
                    return response.status_code, None
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > MAX_RESPONSE_BYTES:
                        return response.status_code, None
                    chunks.append(chunk)
                return response.status_code, b"".join(chunks)
        except httpx.HTTPError as exc:
            raise _Failed(f"could not call the endpoint ({type(exc).__name__})") from None


def _validate(result: Mapping[str, Any], validate: str) -> None:
    if validate == "string_map":
        wrong = sorted(str(k) for k, v in result.items() if not isinstance(v, str))
        if wrong:
            raise _Failed(f"string_map: not strings: {', '.join(wrong)}")
    elif validate != "json":
        raise _Failed(f"unknown validation {validate!r}")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _where(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "?"
    last = frames[-1]
    return f"{last.filename}:{last.lineno} in {last.name}"

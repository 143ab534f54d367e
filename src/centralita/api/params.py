"""Query and path parameters hold only what the stores take, on every route (a dependency of every router).

Text without control characters (`core.vocabulary.text_problem`), and whole numbers within 64 bits for
the integer parameters (`/api/contacts/99999999999999999999` is a 422 naming `contact_id`, not an
overflow in the driver). The bodies are checked by `Strict`, the input models' base.
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any, get_args

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import TypeAdapter, ValidationError

from centralita.core.errors import FieldError, InvalidInput
from centralita.core.vocabulary import int_problem, text_problem

_INT = TypeAdapter(int)
_CACHE = "_centralita_int_parameters"


def _holds_int(annotation: Any) -> bool:
    if annotation is int:
        return True
    return any(arg is not annotation and _holds_int(arg) for arg in get_args(annotation))


def _int_names(dependant: Dependant) -> set[str]:
    fields = (*dependant.path_params, *dependant.query_params)
    names = {f.alias for f in fields if _holds_int(f.field_info.annotation)}
    for sub in dependant.dependencies:
        names |= _int_names(sub)
    return names


def _int_parameters(route: APIRoute) -> frozenset[str]:
    found: frozenset[str] | None = getattr(route, _CACHE, None)
    if found is None:
        found = frozenset(_int_names(route.dependant))
        setattr(route, _CACHE, found)  # routes are not hashable: kept on the route itself
    return found


async def check_parameters(request: Request) -> None:
    """Every path and query parameter (declared or not) is storable text, and every integer parameter
    fits 64 bits. (Async: it does no I/O, so it runs on the event loop, not on a worker thread.)"""
    errors: list[FieldError] = []
    route = request.scope.get("route")
    integers = _int_parameters(route) if isinstance(route, APIRoute) else frozenset()
    for name, value in [*request.path_params.items(), *request.query_params.multi_items()]:
        said = text_problem(name) or text_problem(str(value))
        if said is None and name in integers:
            with suppress(ValidationError):  # not a whole number at all: the route's own validation says so
                said = int_problem(_INT.validate_python(value))
        if said is not None:
            errors.append(FieldError([name], said))
    if errors:
        raise InvalidInput("; ".join(str(e) for e in errors), errors)

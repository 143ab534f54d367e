"""Domain errors. The API turns each into an RFC 9457 problem document; the CLI into a message."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from centralita.core.i18n import _

__all__ = [
    "CentralitaError",
    "Conflict",
    "ErrorList",
    "FieldError",
    "Forbidden",
    "InvalidInput",
    "NotFound",
    "TooManyRequests",
    "Unauthorized",
    "Unavailable",
    "field_message",
    "title",
    "unknown_code",
]


@dataclass
class FieldError:
    """One problem with one input field (`loc` is the path, e.g. ["identities", 0, "value"])."""

    loc: list[str | int]
    message: str
    line: int | None = None
    column: int | None = None
    source: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"field": ".".join(str(p) for p in self.loc), "message": self.message}
        if self.source is not None:
            out["source"] = self.source
        if self.line is not None:
            out["line"] = self.line
        if self.column is not None:
            out["column"] = self.column
        return out

    def __str__(self) -> str:
        where = self.source or ""
        if self.line is not None:
            where += f":{self.line}" + (f":{self.column}" if self.column is not None else "")
        field_name = ".".join(str(p) for p in self.loc)
        prefix = f"{where}: " if where else ""
        return f"{prefix}{field_name}: {self.message}" if field_name else f"{prefix}{self.message}"


class CentralitaError(Exception):
    status = 400
    type_slug = "bad-request"
    title = "Bad request"

    def __init__(self, detail: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors: list[FieldError] = errors or []


class InvalidInput(CentralitaError):
    status = 422
    type_slug = "invalid-input"
    title = "Invalid input"

    @classmethod
    def field(cls, loc: list[str | int] | str, message: str) -> InvalidInput:
        path: list[str | int] = [loc] if isinstance(loc, str) else loc
        err = FieldError(path, message)
        return cls(str(err), [err])


class NotFound(CentralitaError):
    status = 404
    type_slug = "not-found"
    title = "Not found"


class Conflict(CentralitaError):
    status = 409
    type_slug = "conflict"
    title = "Conflict"


class Forbidden(CentralitaError):
    status = 403
    type_slug = "forbidden"
    title = "Forbidden"


class Unauthorized(CentralitaError):
    status = 401
    type_slug = "unauthorized"
    title = "Not authenticated"


class TooManyRequests(CentralitaError):
    status = 429
    type_slug = "too-many-requests"
    title = "Too many requests"

    def __init__(self, detail: str, retry_after_s: int, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail, errors)
        self.retry_after_s = retry_after_s


@dataclass
class ErrorList:
    """Collects every problem before failing, so a file's errors come all at once."""

    errors: list[FieldError] = field(default_factory=list)

    def add(self, loc: list[str | int], message: str, **where: Any) -> None:
        self.errors.append(FieldError(loc, message, **where))

    def raise_if_any(self, detail: str) -> None:
        if self.errors:
            raise InvalidInput(detail, self.errors)


class Unavailable(CentralitaError):
    status = 503
    type_slug = "unavailable"
    title = "Service unavailable"


def title(slug: str, fallback: str) -> str:
    """The title of a problem type (`CentralitaError.type_slug`, or an HTTP status's) in the current
    language; `fallback` for a type without one."""
    titles = {
        "bad-request": _("Bad request"),
        "invalid-input": _("Invalid input"),
        "not-found": _("Not found"),
        "conflict": _("Conflict"),
        "forbidden": _("Forbidden"),
        "unauthorized": _("Not authenticated"),
        "too-many-requests": _("Too many requests"),
        "unavailable": _("Service unavailable"),
        "method-not-allowed": _("Method not allowed"),
        "content-too-large": _("Content too large"),
        "request-timeout": _("Request timeout"),
        "headers-too-large": _("Request headers too large"),
        "internal-error": _("Internal error"),
    }
    return titles.get(slug, fallback)


def unknown_code(what: str, code: object) -> str:
    """`unknown <what> <code!r>` for a code that names no row. One whole sentence per kind of row, so
    Spanish gets its own noun and article; any other `what` is a field name, kept as it is."""
    messages = {
        "agent": lambda: _("unknown agent {code!r}", code=code),
        "queue": lambda: _("unknown queue {code!r}", code=code),
        "reason": lambda: _("unknown reason {code!r}", code=code),
        "sub_reason": lambda: _("unknown sub-reason {code!r}", code=code),
        "owner": lambda: _("unknown owner {code!r}", code=code),
        "hours": lambda: _("unknown hours {code!r}", code=code),
        "group": lambda: _("unknown group {code!r}", code=code),
    }
    message = messages.get(what)
    return message() if message is not None else _("unknown {field} {code!r}", field=what, code=code)


def _choices(expected: str) -> str:
    """pydantic's English `'a', 'b' or 'c'` as a plain list: `'a', 'b', 'c'`."""
    return expected.replace(" or ", ", ")


def field_message(err: Mapping[str, Any]) -> str:
    """One pydantic validation error as a message in the current language. A validator's own message
    (`ValueError(_("…"))`) is already translated; the common built-in checks get ours."""
    kind, ctx = str(err.get("type", "")), dict(err.get("ctx") or {})
    msg = str(err.get("msg", "")).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    builtin = {
        "missing": lambda: _("is required"),
        "extra_forbidden": lambda: _("is not a known field"),
        "string_too_short": lambda: _("must have at least {n} characters", n=ctx.get("min_length")),
        "string_too_long": lambda: _("must have at most {n} characters", n=ctx.get("max_length")),
        "too_short": lambda: _("must have at least {n} items", n=ctx.get("min_length")),
        "too_long": lambda: _("must have at most {n} items", n=ctx.get("max_length")),
        "greater_than": lambda: _("must be greater than {n}", n=ctx.get("gt")),
        "greater_than_equal": lambda: _("must be {n} or more", n=ctx.get("ge")),
        "less_than": lambda: _("must be less than {n}", n=ctx.get("lt")),
        "less_than_equal": lambda: _("must be {n} or less", n=ctx.get("le")),
        "string_pattern_mismatch": lambda: _("does not match the pattern {pattern}", pattern=ctx.get("pattern")),
        "string_type": lambda: _("must be text"),
        "int_type": lambda: _("must be a whole number"),
        "int_parsing": lambda: _("must be a whole number"),
        "int_from_float": lambda: _("must be a whole number"),
        "float_type": lambda: _("must be a number"),
        "float_parsing": lambda: _("must be a number"),
        "finite_number": lambda: _("must be a finite number"),
        "bool_type": lambda: _("must be true or false"),
        "bool_parsing": lambda: _("must be true or false"),
        "dict_type": lambda: _("must be an object"),
        "list_type": lambda: _("must be a list"),
        "literal_error": lambda: _("must be one of {choices}", choices=_choices(str(ctx.get("expected", "")))),
        "datetime_parsing": lambda: _("must be a date and time (ISO 8601)"),
        "datetime_type": lambda: _("must be a date and time (ISO 8601)"),
        "timezone_aware": lambda: _("must include its time zone (Z or ±HH:MM)"),
        "date_parsing": lambda: _("must be a date (YYYY-MM-DD)"),
        "date_from_datetime_parsing": lambda: _("must be a date (YYYY-MM-DD)"),
        "json_invalid": lambda: _("is not valid JSON"),
        "model_attributes_type": lambda: _("must be an object"),
    }
    if err.get("input", ...) is None and kind.endswith("_type"):
        return _("must not be null")
    if kind == "string_too_short" and ctx.get("min_length") == 1:
        return _("must not be empty")
    if kind == "too_short" and ctx.get("min_length") == 1:
        return _("must have at least one item")
    make = builtin.get(kind)
    return make() if make is not None else msg

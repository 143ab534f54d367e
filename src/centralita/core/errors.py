"""Domain errors. The API turns each into an RFC 9457 problem document; the CLI into a message."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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

    def __init__(self, detail: str, retry_after_s: int) -> None:
        super().__init__(detail)
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

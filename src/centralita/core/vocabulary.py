"""The shared vocabulary of every feature: codes, channels, strict input models, choice checks.

Features import these from here (never from each other), so no two feature packages depend on each
other for a word.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Self, get_args

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from centralita.core.i18n import _

__all__ = [
    "ATTRIBUTES_MAX_BYTES",
    "ATTRIBUTES_MAX_DEPTH",
    "ATTRIBUTES_MAX_KEYS",
    "CHANNELS",
    "CODE",
    "INT64_MAX",
    "INT64_MIN",
    "Attributes",
    "Stored",
    "Strict",
    "Text",
    "check_attributes",
    "int_problem",
    "one_of",
    "readable",
    "text_problem",
    "unknown_choice",
]

CODE = r"^[a-z0-9][a-z0-9_.-]{0,49}$"
CHANNELS = ("voice", "chat", "email", "sms", "social")

# Every integer the API takes fits a signed 64-bit column (PostgreSQL BIGINT, SQLite INTEGER).
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
# Free-form `attributes` (customers, agents, contacts): at most this deep, this many keys in all, this
# many bytes as compact JSON. A CRM's custom fields, not a document store (and every read can show them).
ATTRIBUTES_MAX_DEPTH = 5
ATTRIBUTES_MAX_KEYS = 200
ATTRIBUTES_MAX_BYTES = 16 * 1024

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # C0 controls and DEL: never in a one-line value
_CONTROL_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # TAB, LF and CR allowed
_SURROGATE = re.compile(r"[\ud800-\udfff]")  # a lone surrogate (JSON's "\\ud800") is no character
_WALK_DEPTH = 64


class _MultiLine:
    """Marks a text field where TAB, LF and CR are allowed (notes, descriptions)."""

    def __repr__(self) -> str:
        return "MultiLine"


MULTILINE = _MultiLine()
Text = Annotated[str, MULTILINE]
"""Multi-line free text: TAB, LF and CR allowed, other control characters refused like everywhere."""


def text_problem(value: str, multiline: bool = False) -> str | None:
    """Why `value` cannot be stored as text (a control character, a lone surrogate), else None."""
    found = (_CONTROL_MULTILINE if multiline else _CONTROL).search(value)
    if found is not None:
        return _("must not contain control characters (found U+{code:04X})", code=ord(found.group()))
    if _SURROGATE.search(value) is not None:
        return _("must be valid Unicode text (found a lone surrogate)")
    return None


def int_problem(value: int) -> str | None:
    if not INT64_MIN <= value <= INT64_MAX:
        return _("must be between {low} and {high}", low=INT64_MIN, high=INT64_MAX)
    return None


def _problems(value: Any, loc: tuple[str | int, ...], multiline: bool, out: list[InitErrorDetails]) -> None:
    """Every string, key and number under `value` that no store takes; nested input models check their own."""
    if len(loc) > _WALK_DEPTH or isinstance(value, BaseModel):
        return
    said: str | None = None
    if isinstance(value, str):
        said = text_problem(value, multiline)
    elif isinstance(value, bool):
        return
    elif isinstance(value, int):
        said = int_problem(value)
    elif isinstance(value, float) and not math.isfinite(value):
        said = _("must be a finite number")
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and (key_said := text_problem(key)) is not None:
                out.append(_error((*loc, key), key_said, key))
            _problems(item, (*loc, key), multiline, out)
    elif isinstance(value, list | tuple | set | frozenset):
        for index, item in enumerate(value):
            _problems(item, (*loc, index), multiline, out)
    if said is not None:
        out.append(_error(loc, said, value))


def _error(loc: tuple[str | int, ...], message: str, value: Any) -> InitErrorDetails:
    return InitErrorDetails(
        type=PydanticCustomError("value_error", "{message}", {"message": message}), loc=loc, input=value
    )


def _marked(annotation: Any) -> bool:
    """Whether a type (`Text | None`, `list[Text]`, …) holds multi-line text."""
    return any(arg is MULTILINE or (arg is not annotation and _marked(arg)) for arg in get_args(annotation))


class Strict(BaseModel):
    """An input model: unknown fields are an error, never silently dropped; and every value is one the
    stores take and every later read can show. Text has no control characters (TAB, LF and CR only in
    `Text` fields) and no lone surrogates; integers fit 64 bits; numbers are finite (no NaN, no Infinity).
    The checks walk lists and dicts (keys too), so they hold for every field without naming it."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    @model_validator(mode="after")
    def _storable(self) -> Self:
        errors: list[InitErrorDetails] = []
        fields = type(self).model_fields
        for name in sorted(self.model_fields_set, key=list(fields).index):  # defaults are ours
            info = fields[name]
            multiline = MULTILINE in info.metadata or _marked(info.annotation)
            _problems(getattr(self, name), (info.alias or name,), multiline, errors)
        if errors:
            raise ValidationError.from_exception_data(type(self).__name__, errors)
        return self


def check_attributes(value: dict[str, Any]) -> dict[str, Any]:
    """Free-form `attributes`: JSON values at most ATTRIBUTES_MAX_DEPTH deep, ATTRIBUTES_MAX_KEYS keys in
    all, ATTRIBUTES_MAX_BYTES as compact JSON (UTF-8)."""
    keys = 0
    level: list[Any] = [value]
    depth = 0
    while level:
        depth += 1
        if depth > ATTRIBUTES_MAX_DEPTH:
            raise ValueError(_("must not be nested more than {n} levels deep", n=ATTRIBUTES_MAX_DEPTH))
        below: list[Any] = []
        for item in level:
            if isinstance(item, dict):
                keys += len(item)
                below.extend(v for v in item.values() if isinstance(v, dict | list))
            else:
                below.extend(v for v in item if isinstance(v, dict | list))
        level = below
        if keys > ATTRIBUTES_MAX_KEYS:
            raise ValueError(_("must have at most {n} keys in all", n=ATTRIBUTES_MAX_KEYS))
    try:
        size = len(json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode())
    except (ValueError, TypeError, UnicodeEncodeError):
        return value  # a NaN or a lone surrogate: the model's check names the value
    if size > ATTRIBUTES_MAX_BYTES:
        raise ValueError(_("must be at most {n} bytes as JSON", n=ATTRIBUTES_MAX_BYTES))
    return value


READ_MAX_DEPTH = 64  # what a read shows of a stored value; the JSON encoders give up far deeper


def readable(value: Any, depth: int = 0) -> Any:
    """A stored JSON value as every read can show it, whatever an older version let in: what lies deeper
    than READ_MAX_DEPTH becomes null, and so does a NaN or an infinity (JSON has neither)."""
    if isinstance(value, dict):
        if depth >= READ_MAX_DEPTH:
            return None
        return {str(k): readable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return None if depth >= READ_MAX_DEPTH else [readable(v, depth + 1) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


Stored = Annotated[dict[str, Any], BeforeValidator(readable)]
"""A stored free-form object in an answer (attributes, event data): always readable (`readable`)."""

Attributes = Annotated[dict[str, Any], AfterValidator(check_attributes), MULTILINE]
"""Free-form attributes (a CRM's custom fields): limited in depth, keys and size (`check_attributes`);
their text values may span lines, their keys may not."""


def one_of(what: str, allowed: Sequence[str]) -> Callable[[str | None], str | None]:
    """A field validator: the value (when given) must be one of `allowed`; the error names them."""

    def check(value: str | None) -> str | None:
        if value is not None and value not in allowed:
            raise ValueError(unknown_choice(what, value, allowed))
        return value

    return check


def unknown_choice(what: str, value: object, allowed: Sequence[str]) -> str:
    """The message for a value not in `allowed`: `unknown <what> <value!r>; one of <allowed>`."""
    choices = ", ".join(allowed)
    messages: dict[str, Callable[[], str]] = {
        "channel": lambda: _("unknown channel {value!r}; one of {choices}", value=value, choices=choices),
        "direction": lambda: _("unknown direction {value!r}; one of {choices}", value=value, choices=choices),
        "overload metric": lambda: _(
            "unknown overload metric {value!r}; one of {choices}", value=value, choices=choices
        ),
    }
    message = messages.get(what)
    if message is not None:
        return message()
    # `what` is a field name (agent_selection, initiation_method, …): a technical token, kept as it is
    return _("unknown {what} {value!r}; one of {choices}", what=what, value=value, choices=choices)

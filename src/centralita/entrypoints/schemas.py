"""Schemas for entry points (where contacts come in, and the flow they run) and HTTP flow functions.

An entry point's `address` is normalised by its `kind`: a phone number to E.164 (a national number takes
the contact center's country, which only the action knows: the schema checks its shape, the action
finishes it), a chat widget key kept as it is, an e-mail address in lower case. `normalize_address` is
the one place that does it, so lookups and writes agree.
"""

from __future__ import annotations

import datetime as dt
import re
import urllib.parse
from typing import Annotated

from pydantic import MISSING, BaseModel, Field, StringConstraints, ValidationInfo, field_validator

from centralita.core.i18n import _
from centralita.core.phones import normalize_phone
from centralita.core.vocabulary import CODE, Strict, one_of, unknown_choice

__all__ = [
    "ENTRY_KINDS",
    "FLOW_CODE",
    "FUNCTION_CODE",
    "HEADERS_MAX",
    "HEADER_VALUE_MAX",
    "LANGUAGES",
    "EntryPointCreate",
    "EntryPointPublic",
    "EntryPointUpdate",
    "FunctionCreate",
    "FunctionPublic",
    "FunctionUpdate",
    "normalize_address",
]

ENTRY_KINDS = ("phone", "chat", "email")
LANGUAGES = ("es", "en")
FLOW_CODE = r"^[A-Za-z_][A-Za-z0-9_]{0,49}$"  # a flow's id (flowlang 1)
FUNCTION_CODE = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$"  # what flows `invoke`: banco.cambio
ADDRESS_MAX = 200
URL_MAX = 500
HEADERS_MAX = 20
HEADER_VALUE_MAX = 1000
# headers the HTTP client sets itself for every call: a function may not replace them
RESERVED_HEADERS = ("host", "content-length", "content-type", "transfer-encoding", "connection")

_WIDGET_KEY = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_EMAIL = re.compile(
    r"^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$"
)
_PHONE_SHAPE = re.compile(r"^\+?[0-9 ().\-/]{3,40}$")
_HEADER_VALUE_FORBIDDEN = re.compile(r"[\r\n\x00]")


def normalize_address(kind: str, address: str, country: str | None) -> str:
    """The stored form of an entry point's address of `kind`; ValueError (a translated message) when it is
    not one. `country` (ISO 3166 alpha-2) completes a national phone number; with None, a national number
    is only checked for its shape and returned stripped (the action completes it)."""
    text = address.strip()
    if kind == "phone":
        if not _PHONE_SHAPE.match(text) or sum(c.isdigit() for c in text) > 17:
            raise ValueError(_("not a phone number: {raw!r}", raw=address[:50]))
        if country is None and not text.startswith(("+", "00")):
            return text
        return normalize_phone(text, country or "ES")
    if kind == "chat":
        if not _WIDGET_KEY.match(text):
            raise ValueError(_("a chat widget key has 8 to 64 letters, digits, '_' or '-'"))
        return text
    if kind == "email":
        text = text.lower()
        if len(text) > ADDRESS_MAX or not _EMAIL.match(text) or len(text.partition("@")[0]) > 64:
            raise ValueError(_("not an e-mail address: {raw!r}", raw=address[:50]))
        return text
    raise ValueError(unknown_choice("kind", kind, ENTRY_KINDS))


def _address_by_kind(value: str, info: ValidationInfo) -> str:
    kind = info.data.get("kind")
    if not isinstance(kind, str):  # no kind, or a bad one (reported on its own): nothing to check against
        return value
    return normalize_address(kind, value, None)


class EntryPointCreate(Strict):
    """A new entry point: the flow must already be published in the contact center."""

    code: str = Field(pattern=CODE)
    name: str = Field(min_length=1, max_length=200)
    kind: str = Field(description="phone, chat or email")
    address: str = Field(
        min_length=1,
        max_length=ADDRESS_MAX,
        description="phone: the called number (E.164, or national in the contact center's country); "
        "chat: the web widget key (8-64 of A-Z a-z 0-9 _ -); email: the mailbox address",
    )
    flow: str = Field(pattern=FLOW_CODE, description="the code (id) of a published contact flow")
    language: str = Field(default="es", description="the contact's language on arrival: es or en")

    _kind = field_validator("kind")(one_of("kind", ENTRY_KINDS))
    _language = field_validator("language")(one_of("language", LANGUAGES))
    _address = field_validator("address")(_address_by_kind)


class EntryPointUpdate(Strict):
    """Only the fields given change; none of them may be null. `active: false` deactivates: contacts stop
    arriving there (its address stays taken)."""

    name: str | MISSING = Field(default=MISSING, min_length=1, max_length=200)
    kind: str | MISSING = MISSING
    address: str | MISSING = Field(default=MISSING, min_length=1, max_length=ADDRESS_MAX)
    flow: str | MISSING = Field(default=MISSING, pattern=FLOW_CODE)
    language: str | MISSING = MISSING
    active: bool | MISSING = MISSING

    _kind = field_validator("kind")(one_of("kind", ENTRY_KINDS))
    _language = field_validator("language")(one_of("language", LANGUAGES))
    _address = field_validator("address")(_address_by_kind)


class EntryPointPublic(BaseModel):
    code: str
    name: str
    kind: str
    address: str
    flow: str
    language: str
    active: bool
    created_at: dt.datetime
    updated_at: dt.datetime


HeaderName = Annotated[str, StringConstraints(pattern=r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$")]
HeaderValue = Annotated[str, StringConstraints(max_length=HEADER_VALUE_MAX)]


def _url(value: str) -> str:
    try:
        parts = urllib.parse.urlsplit(value)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        raise ValueError(_("not a URL: {value!r}", value=value[:80])) from None
    if parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
        raise ValueError(_("must be an http:// or https:// URL with a host"))
    if any(c.isspace() for c in value):
        raise ValueError(_("a URL cannot contain spaces"))
    if parts.username is not None or parts.password is not None:
        raise ValueError(_("a URL cannot carry credentials; send them in a header"))
    return value


def _headers(value: dict[str, str]) -> dict[str, str]:
    seen: dict[str, str] = {}
    for name, header in value.items():
        lower = name.lower()
        if lower in RESERVED_HEADERS:
            raise ValueError(_("header {name!r} is set by Centralita itself", name=name))
        if lower in seen:
            raise ValueError(_("headers {a!r} and {b!r} are the same header", a=seen[lower], b=name))
        seen[lower] = name
        if _HEADER_VALUE_FORBIDDEN.search(header):
            raise ValueError(_("header {name!r}: a value cannot contain CR, LF or NUL", name=name))
    return value


class FunctionCreate(Strict):
    """An HTTP function flows may `invoke`: POST to `url` with JSON in and out, `headers` sent with each
    call (header values may be secrets: only admins read them back)."""

    code: str = Field(max_length=100, pattern=FUNCTION_CODE, description="dotted lowercase name: banco.cambio")
    url: str = Field(min_length=1, max_length=URL_MAX, description="http:// or https://")
    headers: dict[HeaderName, HeaderValue] = Field(default_factory=dict, max_length=HEADERS_MAX)

    _url = field_validator("url")(_url)
    _headers = field_validator("headers")(_headers)


class FunctionUpdate(Strict):
    """Only the fields given change; none may be null. `headers` replaces them all."""

    url: str | MISSING = Field(default=MISSING, min_length=1, max_length=URL_MAX)
    headers: dict[HeaderName, HeaderValue] | MISSING = Field(default=MISSING, max_length=HEADERS_MAX)
    active: bool | MISSING = MISSING

    _url = field_validator("url")(_url)
    _headers = field_validator("headers")(_headers)


class FunctionPublic(BaseModel):
    """A function as the API shows it: header values only to admins (null for everyone else)."""

    code: str
    url: str
    headers: dict[str, str | None]
    active: bool
    created_at: dt.datetime
    updated_at: dt.datetime

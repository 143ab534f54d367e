"""Identity normalisation: phone numbers to E.164, e-mails to lower case. Pure."""

from __future__ import annotations

import phonenumbers

from centralita.core.errors import InvalidInput
from centralita.core.i18n import _

__all__ = ["IDENTITY_KINDS", "normalize_identity", "normalize_phone"]

IDENTITY_KINDS = ("phone", "email", "chat", "external", "national_id")


def normalize_phone(raw: str, default_region: str = "ES") -> str:
    """E.164 form of `raw`; national numbers take the tenant's region. Raises ValueError when invalid."""
    text = raw.strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, None if text.startswith("+") else default_region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(_("not a phone number: {raw!r}", raw=raw)) from exc
    if not phonenumbers.is_possible_number(number):
        raise ValueError(_("not a possible phone number: {raw!r}", raw=raw))
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def normalize_email(raw: str) -> str:
    text = raw.strip().lower()
    local, sep, domain = text.partition("@")
    if not sep or not local or "." not in domain or " " in text:
        raise ValueError(_("not an e-mail address: {raw!r}", raw=raw))
    return text


def normalize_identity(kind: str, value: str, default_region: str = "ES") -> str:
    """Canonical value for an identity of `kind`; raises InvalidInput naming the field."""
    if kind not in IDENTITY_KINDS:
        raise InvalidInput.field(
            "kind", _("unknown identity kind {kind!r}; one of {choices}", kind=kind, choices=", ".join(IDENTITY_KINDS))
        )
    try:
        if kind == "phone":
            return normalize_phone(value, default_region)
        if kind == "email":
            return normalize_email(value)
    except ValueError as exc:
        raise InvalidInput.field("value", str(exc)) from exc
    text = value.strip()
    if not text:
        raise InvalidInput.field("value", _("must not be empty"))
    if kind == "national_id":
        text = text.upper().replace("-", "").replace(" ", "")
    return text

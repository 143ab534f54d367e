"""What a code reads as in a table: `label("agent_state", "away")` → `ausente` (Spanish), `away` (English).

The one place that maps a (kind, code) pair to its words. Tables show labels; `--json` keeps the codes. A
code this table does not know (a tenant's own codes, or one added later) is shown as it is.
"""

from __future__ import annotations

from functools import cache
from typing import Literal

from centralita.core.i18n import _, language

Kind = Literal[
    "agent_selection",
    "agent_state",
    "case_status",
    "channel",
    "contact_status",
    "customer_kind",
    "direction",
    "hours_status",
    "identity_kind",
    "lifecycle_stage",
    "overflow_mode",
    "priority_mode",
    "queue_outcome",
    "role",
]


@cache
def _labels(lang: str) -> dict[str, dict[str, str]]:
    return {
        "agent_state": {
            "offline": _("offline", lang),
            "available": _("available", lang),
            "away": _("away", lang),
            "missed": _("missed offers", lang),
        },
        "agent_selection": {
            "longest_idle": _("longest idle", lang),
            "skill_then_longest_idle": _("most skilled, then longest idle", lang),
            "least_skill_then_longest_idle": _("least skilled, then longest idle", lang),
            "least_occupied": _("least occupied", lang),
            "skill_then_least_occupied": _("most skilled, then least occupied", lang),
            "fewest_contacts": _("fewest contacts", lang),
            "least_talk_time": _("least talk time", lang),
            "round_robin": _("round robin", lang),
            "linear": _("linear (fixed order)", lang),
            "random": _("random", lang),
            "ring_all": _("ring all", lang),
            "order_by": _("by agent attributes", lang),
        },
        "priority_mode": {
            "strict": _("strict priority", lang),
            "aged": _("priority with aging", lang),
        },
        "overflow_mode": {
            "add": _("add", lang),
            "move": _("move", lang),
        },
        "channel": {
            "voice": _("voice", lang),
            "chat": _("chat", lang),
            "email": _("email", lang),
            "sms": _("SMS", lang),
            "social": _("social media", lang),
        },
        "direction": {
            "inbound": _("inbound", lang),
            "outbound": _("outbound", lang),
        },
        "contact_status": {
            "arrived": _("arrived", lang),
            "queued": _("queued", lang),
            "connected": _("connected", lang),
            "held": _("on hold", lang),
            "acw": _("in wrap-up", lang),
            "closed": _("closed", lang),
        },
        "queue_outcome": {
            "answered": _("answered", lang),
            "abandoned": _("abandoned", lang),
            "transferred": _("transferred", lang),
            "closed_hours": _("outside hours", lang),
            "holiday": _("holiday", lang),
            "queue_full": _("queue full", lang),
        },
        "case_status": {
            "open": _("open", lang),
            "pending": _("pending", lang),
            "resolved": _("resolved", lang),
            "closed": _("closed", lang),
        },
        "hours_status": {
            "open": _("open", lang),
            "closed": _("closed", lang),
            "holiday": _("holiday", lang),
        },
        "identity_kind": {
            "phone": _("phone", lang),
            "email": _("email", lang),
            "chat": _("chat", lang),
            "external": _("external id", lang),
            "national_id": _("national id", lang),
        },
        "customer_kind": {
            "person": _("person", lang),
            "company": _("company", lang),
        },
        "lifecycle_stage": {
            "prospect": _("prospect", lang),
            "new": _("new", lang),
            "active": _("active", lang),
            "at_risk": _("at risk", lang),
            "lapsed": _("lapsed", lang),
        },
        "role": {
            "admin": _("admin", lang),
            "supervisor": _("supervisor", lang),
            "agent": _("agent", lang),
        },
    }


def label(kind: Kind, code: str | None) -> str | None:
    """The words for `code` in the current language; an unknown code as it is; None stays None."""
    if code is None:
        return None
    return _labels(language())[kind].get(code, code)


def labels(kind: Kind) -> dict[str, str]:
    """Every code of `kind` this table knows, with its words in the current language."""
    return dict(_labels(language())[kind])


def code_of(kind: Kind, text: str) -> str | None:
    """The code a person typed: the code itself, or its words in the current language (any case); else None."""
    words = _labels(language())[kind]
    if text in words:
        return text
    wanted = text.strip().casefold()
    return next((code for code, label_ in words.items() if label_.casefold() == wanted), None)


def choices(kind: Kind) -> str:
    """`open (abierto), pending (pendiente), …`: the codes of `kind`, each with its words when they differ."""
    return ", ".join(
        code if words == code else f"{code} ({words})" for code, words in _labels(language())[kind].items()
    )


def yes_no(value: bool | None) -> str | None:
    if value is None:
        return None
    return _("yes") if value else _("no")

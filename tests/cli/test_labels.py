"""One table maps (kind, code) to the words a table shows: every code the product has gets its words, in
Spanish and English; a code it does not know is shown as it is."""

from __future__ import annotations

import re

import pytest

from centralita.agents.schemas import AGENT_STATES
from centralita.cli.labels import Kind, label, labels, yes_no
from centralita.contacts.history import DIRECTIONS
from centralita.contacts.status import ContactStatus
from centralita.core.actor import ROLES
from centralita.core.i18n import using
from centralita.core.phones import IDENTITY_KINDS
from centralita.core.vocabulary import CHANNELS
from centralita.crm import schemas as crm_schemas
from centralita.queues import hours
from centralita.queues import schemas as queue_schemas
from centralita.routing.rules import AGENT_SELECTIONS


def _choices(pattern: str) -> tuple[str, ...]:
    """The codes of a `^(a|b|c)$` field pattern."""
    found = re.fullmatch(r"\^\((.*)\)\$", pattern)
    assert found, pattern
    return tuple(found.group(1).split("|"))


def _field_pattern(model: type, name: str) -> str:
    for meta in model.model_fields[name].metadata:  # type: ignore[attr-defined]
        if getattr(meta, "pattern", None):
            return str(meta.pattern)
    raise AssertionError(f"{model.__name__}.{name} has no pattern")


CODES: dict[Kind, tuple[str, ...]] = {
    "agent_state": (*AGENT_STATES, "missed"),  # missed: set by routing after unanswered offers
    "agent_selection": AGENT_SELECTIONS,
    "channel": CHANNELS,
    "direction": DIRECTIONS,
    "contact_status": tuple(ContactStatus),
    "case_status": _choices(crm_schemas.CASE_STATUS),
    "identity_kind": IDENTITY_KINDS,
    "customer_kind": _choices(_field_pattern(crm_schemas.CustomerCreate, "kind")),
    "lifecycle_stage": _choices(crm_schemas.LIFECYCLE),
    "priority_mode": _choices(_field_pattern(queue_schemas.QueueCreate, "priority_mode")),
    "overflow_mode": _choices(_field_pattern(queue_schemas.Overflow, "mode")),
    "hours_status": (hours.OPEN, hours.CLOSED, hours.HOLIDAY),
    "queue_outcome": ("answered", "abandoned", "transferred", "closed_hours", "holiday", "queue_full"),
    "role": ROLES,
}


@pytest.mark.parametrize("kind", sorted(CODES))
def test_every_code_has_words(kind: Kind) -> None:
    assert set(CODES[kind]) <= set(labels(kind)), f"{kind}: no words for {set(CODES[kind]) - set(labels(kind))}"
    with using("en"):
        english = labels(kind)
    with using("es"):
        spanish = labels(kind)
    assert all(english[c] and spanish[c] for c in CODES[kind])
    assert all("_" not in words for words in (*english.values(), *spanish.values())), (english, spanish)


def test_spanish_and_english_words() -> None:
    with using("es"):
        assert (
            label("agent_state", "offline") == "sin conexión" and label("agent_state", "missed") == "ofertas perdidas"
        )
        assert label("agent_selection", "longest_idle") == "más tiempo libre"
        assert label("contact_status", "queued") == "en cola" and label("channel", "voice") == "voz"
        assert (
            label("case_status", "resolved") == "resuelto"
            and label("priority_mode", "aged") == "prioridad con antigüedad"
        )
        assert yes_no(True) == "sí"
    with using("en"):
        assert (
            label("agent_state", "offline") == "offline" and label("agent_selection", "longest_idle") == "longest idle"
        )
        assert label("channel", "voice") == "voice" and yes_no(False) == "no"


def test_unknown_codes_shown_as_they_are() -> None:
    with using("es"):
        assert label("channel", "fax") == "fax"  # a code added later, or a tenant's own
        assert label("case_status", None) is None and yes_no(None) is None

"""Event payloads are declared once and checked when appended: every type, every key."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select

from centralita.events.log import append_event, append_events, read_events
from centralita.events.types import (
    BOOL,
    EVENT_TYPES,
    INT,
    LIST,
    MEMBERSHIP_KEYS,
    MEMBERSHIPS,
    NUM,
    OBJ,
    SUMMARY,
    SUMMARY_KEYS,
    TEXT,
    TS,
    Kind,
    PayloadError,
    catalogue_markdown,
    check_payload,
)
from centralita.service import Service
from centralita.store import tables as t
from tests.factories import make_world

NOW = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)
SAMPLES: dict[str, Any] = {
    TEXT.name: "x",
    INT.name: 3,
    NUM.name: 1.5,
    BOOL.name: True,
    TS.name: NOW.isoformat(),
    LIST.name: ["a"],
    OBJ.name: {"a": 1},
    MEMBERSHIPS.name: [dict.fromkeys(MEMBERSHIP_KEYS, None) | {"queue_id": 1, "joined_at": NOW.isoformat()}],
    SUMMARY.name: dict.fromkeys(SUMMARY_KEYS),
}
WRONG: dict[str, Any] = {
    TEXT.name: 3,
    INT.name: "3",
    NUM.name: True,
    BOOL.name: 1,
    TS.name: "yesterday",
    LIST.name: {},
    OBJ.name: [],
    MEMBERSHIPS.name: [{"queue_id": 1}],
    SUMMARY.name: {"id": 1},
}


def valid(type_: str) -> dict[str, Any]:
    return {key: SAMPLES[kind.name] for key, kind in EVENT_TYPES[type_].data.items()}


def test_every_kind_has_a_sample_and_a_wrong_value() -> None:
    kinds = {kind.name for e in EVENT_TYPES.values() for kind in e.data.values()}
    assert kinds <= set(SAMPLES) and kinds <= set(WRONG)
    for name, value in WRONG.items():
        kind = next(k for e in EVENT_TYPES.values() for k in e.data.values() if k.name == name)
        assert not Kind(kind.name, kind.check).accepts(value)
        assert not kind.accepts(value)


@pytest.mark.parametrize("type_", sorted(EVENT_TYPES))
def test_each_type_checks_its_declared_keys(type_: str) -> None:
    declared = EVENT_TYPES[type_].data
    check_payload(type_, valid(type_))
    with pytest.raises(PayloadError, match="undeclared surprise"):
        check_payload(type_, {**valid(type_), "surprise": 1})
    for key, kind in declared.items():
        missing = valid(type_)
        del missing[key]
        with pytest.raises(PayloadError, match=f"missing {key}"):
            check_payload(type_, missing)
        with pytest.raises(PayloadError, match=f"{key} must be"):
            check_payload(type_, {**valid(type_), key: WRONG[kind.name]})
        if kind.nullable:
            check_payload(type_, {**valid(type_), key: None})
        else:
            with pytest.raises(PayloadError, match=f"{key} must be"):
                check_payload(type_, {**valid(type_), key: None})


def test_unknown_type_is_refused() -> None:
    with pytest.raises(PayloadError, match="unknown event type"):
        check_payload("contact.teleported", {})


def test_every_type_is_appended_and_read_back_and_a_bad_payload_writes_nothing(service: Service) -> None:
    world = make_world(service, "norte")
    tenant = world.tenant_id
    with service.db.write() as s:
        for type_ in EVENT_TYPES:
            append_event(s, tenant, type_, NOW, valid(type_))
    with service.db.read() as s:
        seen = read_events(s, tenant, after_seq=0, limit=10_000)
        before = s.scalar(select(func.count()).select_from(t.Event).where(t.Event.tenant_id == tenant))
        seq = s.scalar(select(t.Tenant.event_seq).where(t.Tenant.id == tenant))
    assert {e.type for e in seen} >= set(EVENT_TYPES)
    for e in seen:
        if e.type in EVENT_TYPES and e.data == valid(e.type):
            check_payload(e.type, e.data)
    for bad in (
        {**valid("contact.queued"), "arrival_order": 9},
        {k: v for k, v in valid("contact.ended").items() if k != "channel"},
    ):
        type_ = "contact.queued" if "arrival_order" in bad else "contact.ended"
        with pytest.raises(PayloadError), service.db.write() as s:
            append_event(s, tenant, "contact.arrived", NOW, valid("contact.arrived"))
            append_event(s, tenant, type_, NOW, bad)
        with pytest.raises(PayloadError), service.db.write() as s:
            append_events(s, tenant, [("contact.held", NOW, {}, {}), (type_, NOW, bad, {})])
    with service.db.read() as s:  # the whole transaction rolled back: no row, no number taken
        assert s.scalar(select(func.count()).select_from(t.Event).where(t.Event.tenant_id == tenant)) == before
        assert s.scalar(select(t.Tenant.event_seq).where(t.Tenant.id == tenant)) == seq


def test_the_catalogue_lists_every_type_and_key() -> None:
    text = catalogue_markdown()
    for name, e in EVENT_TYPES.items():
        assert f"## `{name}`" in text
        for key in e.data:
            assert f"| `{key}` |" in text

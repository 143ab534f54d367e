"""Past contacts: `do_record_contacts` writes finished contacts and their timelines in the caller's transaction.

This is the seam for history: the demo loader uses it, and importers of another system's contact records
(CSV, CTI logs) will too; `do_record_contact` is the one-contact form. The timeline events carry the
historical timestamps (metrics.md §1.1), so every KPI computed from the event log gives the same figures
for an imported history as for a live one; a final `contact.recorded` event, stamped with the time of the
import, says where the record came from.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, cast

from pydantic import Field, field_validator, model_validator
from sqlalchemy import Table, insert, select, update
from sqlalchemy.orm import Session, make_transient_to_detached

from centralita.contacts import holds
from centralita.core.actor import Actor
from centralita.core.errors import ErrorList, InvalidInput, unknown_code
from centralita.core.i18n import _
from centralita.core.vocabulary import CHANNELS, CODE, Attributes, Strict, Text, one_of
from centralita.crm.schemas import LIFECYCLE
from centralita.events.log import append_events
from centralita.store import tables as t

__all__ = ["RecordedContact", "RecordedOffer", "do_record_contacts"]

DIRECTIONS = ("inbound", "outbound")
INITIATION_METHODS = ("INBOUND", "OUTBOUND", "TRANSFER", "CALLBACK", "API", "QUEUE_TRANSFER")
DISCONNECT_REASONS = ("CUSTOMER_DISCONNECT", "AGENT_DISCONNECT", "CONTACT_FLOW_DISCONNECT", "TELECOM_PROBLEM", "OTHER")
OFFER_RESULTS = ("accepted", "rejected", "timeout")
RECORDED_STATUS = "closed"  # a recorded contact is over: ended and wrapped up
_CACHE_KEY = "centralita_history_codes"

# Built once: executed with parameters, they skip statement construction on every contact.
_contacts = cast(Table, t.Contact.__table__)
_events = cast(Table, t.Event.__table__)
_tenants = cast(Table, t.Tenant.__table__)
_INSERT_CONTACTS = insert(_contacts).returning(_contacts.c.id, sort_by_parameter_order=True)


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError(_("must be a UTC-aware timestamp"))
    return value


class RecordedOffer(Strict):
    """One offer of the contact to an agent (metrics.md §1.1 `offers[]`)."""

    agent: str = Field(pattern=CODE, description="agent code")
    offered_ts: dt.datetime
    ended_ts: dt.datetime
    result: str = Field(default="accepted", pattern="^(" + "|".join(OFFER_RESULTS) + ")$")

    _tz = field_validator("offered_ts", "ended_ts")(_aware)

    @model_validator(mode="after")
    def _order(self) -> RecordedOffer:
        if self.ended_ts < self.offered_ts:
            raise ValueError(_("ended_ts is before offered_ts"))
        return self


class RecordedContact(Strict):
    """A finished contact with the timestamps of metrics.md §1.1. Codes name queues, agents and reasons.

    The segment, value tier and lifecycle stage are the snapshot when the contact happened; when left out
    they are copied from the customer as it is now.
    """

    channel: str
    direction: str = "inbound"
    initiation_method: str = "INBOUND"
    ani: str | None = Field(default=None, max_length=100)
    dnis: str | None = Field(default=None, max_length=100)
    language: str = Field(default="es", pattern="^(es|en)$")
    customer_id: int | None = None
    identified_by: str | None = Field(default=None, description="identity kind that matched the customer")
    segment: str | None = None
    value_tier: str | None = None
    lifecycle_stage: str | None = Field(default=None, pattern=LIFECYCLE)
    reason: str | None = Field(default=None, pattern=CODE, description="reason code")
    sub_reason: str | None = Field(default=None, pattern=CODE, description="sub-reason code")
    self_service: bool = False
    resolved: bool | None = None
    queue: str | None = Field(default=None, pattern=CODE, description="the queue the episode is attributed to")
    queues: list[str] = Field(default_factory=list, description="every queue the contact waited in")
    priority: int = 0
    agent: str | None = Field(default=None, pattern=CODE, description="the agent who handled it")
    initiation_ts: dt.datetime
    enqueue_ts: dt.datetime | None = None
    dequeue_ts: dt.datetime | None = None
    queue_outcome: str | None = Field(default=None, pattern=r"^(answered|abandoned|other:[a-z_]{1,34})$")
    offers: list[RecordedOffer] = Field(default_factory=list)
    agent_connected_ts: dt.datetime | None = None
    agent_end_ts: dt.datetime | None = None
    holds: list[tuple[dt.datetime, dt.datetime]] = Field(default_factory=list)
    acw_start_ts: dt.datetime | None = None
    acw_end_ts: dt.datetime | None = None
    disconnect_ts: dt.datetime
    disconnect_reason: str | None = None
    transferred_to: str | None = Field(default=None, max_length=100)
    disposition: str | None = Field(default=None, max_length=50)
    notes: Text | None = Field(default=None, max_length=10000)
    csat: int | None = Field(default=None, ge=1, le=5)
    ces: int | None = Field(default=None, ge=1, le=7)
    nps: int | None = Field(default=None, ge=0, le=10)
    survey_ts: dt.datetime | None = None
    cost: float | None = Field(default=None, ge=0)
    source: str = Field(default="import", min_length=1, max_length=50, description="where the record came from")
    attributes: Attributes = Field(default_factory=dict)

    _tz = field_validator(
        "initiation_ts",
        "enqueue_ts",
        "dequeue_ts",
        "agent_connected_ts",
        "agent_end_ts",
        "acw_start_ts",
        "acw_end_ts",
        "disconnect_ts",
        "survey_ts",
    )(_aware)

    @field_validator("holds")
    @classmethod
    def _holds(cls, v: list[tuple[dt.datetime, dt.datetime]]) -> list[tuple[dt.datetime, dt.datetime]]:
        for start, end in v:
            _aware(start)
            _aware(end)
            if end < start:
                raise ValueError(_("a hold ends before it starts"))
        return v

    _channel = field_validator("channel")(one_of("channel", CHANNELS))

    _direction = field_validator("direction")(one_of("direction", DIRECTIONS))

    _method = field_validator("initiation_method")(one_of("initiation_method", INITIATION_METHODS))

    _disconnect = field_validator("disconnect_reason")(one_of("disconnect_reason", DISCONNECT_REASONS))

    @model_validator(mode="after")
    def _check_timeline(self) -> RecordedContact:
        problems: list[str] = []

        def before(a: str, b: str) -> None:
            x, y = getattr(self, a), getattr(self, b)
            if x is not None and y is not None and y < x:
                problems.append(_("{later} is before {earlier}", later=b, earlier=a))

        if (self.enqueue_ts is None) != (self.dequeue_ts is None):
            problems.append(_("enqueue_ts and dequeue_ts go together"))
        if (self.enqueue_ts is None) != (self.queue_outcome is None):
            problems.append(_("a queue episode needs enqueue_ts, dequeue_ts and queue_outcome"))
        if self.enqueue_ts is not None and self.queue is None:
            problems.append(_("a queue episode needs its queue"))
        if (self.agent_connected_ts is None) != (self.agent_end_ts is None):
            problems.append(_("agent_connected_ts and agent_end_ts go together"))
        if self.agent_connected_ts is not None and self.agent is None:
            problems.append(_("a handled contact needs its agent"))
        if self.queue_outcome == "answered" and self.agent_connected_ts is None:
            problems.append(_("an answered contact needs agent_connected_ts"))
        if self.queue_outcome == "abandoned" and self.agent_connected_ts is not None:
            problems.append(_("an abandoned contact has no agent leg"))
        if (self.acw_start_ts is None) != (self.acw_end_ts is None):
            problems.append(_("acw_start_ts and acw_end_ts go together"))
        if self.acw_start_ts is not None and self.agent_connected_ts is None:
            problems.append(_("after-contact work needs an agent leg"))
        if (self.csat, self.ces, self.nps) != (None, None, None) and self.survey_ts is None:
            problems.append(_("survey answers need survey_ts"))
        for a, b in (
            ("initiation_ts", "enqueue_ts"),
            ("enqueue_ts", "dequeue_ts"),
            ("initiation_ts", "agent_connected_ts"),
            ("agent_connected_ts", "agent_end_ts"),
            ("agent_end_ts", "acw_start_ts"),
            ("acw_start_ts", "acw_end_ts"),
            ("initiation_ts", "disconnect_ts"),
            ("disconnect_ts", "survey_ts"),
        ):
            before(a, b)
        if self.agent_connected_ts is not None and self.agent_end_ts is not None:
            for start, end in self.holds:
                if start < self.agent_connected_ts or end > self.agent_end_ts:
                    problems.append(_("a hold lies outside the agent leg"))
                    break
        elif self.holds:
            problems.append(_("holds need an agent leg"))
        for offer in self.offers:
            if offer.offered_ts < self.initiation_ts:
                problems.append(_("an offer is before initiation_ts"))
                break
        if problems:
            raise ValueError("; ".join(problems))
        return self


def _code_id(session: Session, tenant_id: int, model: Any, code: str) -> int | None:
    """Id of the tenant's row with `code`, cached for the transaction (codes are never reused for another row)."""
    cache: dict[tuple[str, int, str], int] = session.info.setdefault(_CACHE_KEY, {})
    key = (model.__tablename__, tenant_id, code)
    if key not in cache:
        found = session.scalar(select(model.id).where(model.tenant_id == tenant_id, model.code == code))
        if found is None:
            return None
        cache[key] = int(found)
    return cache[key]


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat()


# The message for an unknown code, by field (made when the error is, in the current language).
def _resolve(
    session: Session, tenant_id: int, data: RecordedContact, loc: list[str | int], errors: ErrorList
) -> dict[str, int | None]:
    """Ids for the codes a record names; each unknown code is an error at its field."""
    out: dict[str, int | None] = {}
    for key, model, code in (
        ("reason_id", t.Reason, data.reason),
        ("sub_reason_id", t.Reason, data.sub_reason),
        ("queue_id", t.Queue, data.queue),
        ("agent_id", t.Agent, data.agent),
    ):
        out[key] = None if code is None else _code_id(session, tenant_id, model, code)
        if code is not None and out[key] is None:
            field = key.removesuffix("_id")
            errors.add([*loc, field], unknown_code(field, code))
    for i, code in enumerate(data.queues):
        if _code_id(session, tenant_id, t.Queue, code) is None:
            errors.add([*loc, "queues", i], unknown_code("queue", code))
    for i, offer in enumerate(data.offers):
        if _code_id(session, tenant_id, t.Agent, offer.agent) is None:
            errors.add([*loc, "offers", i, "agent"], unknown_code("agent", offer.agent))
    if data.sub_reason is not None and data.reason is None:
        errors.add([*loc, "sub_reason"], _("a sub-reason needs its reason"))
    return out


def _queues_of(data: RecordedContact) -> list[str]:
    """Every queue the contact waited in: the one its episode is attributed to first."""
    queues = list(data.queues)
    if data.queue is not None and data.queue not in queues:
        queues.insert(0, data.queue)
    return queues


def _row_values(
    tenant_id: int, data: RecordedContact, ids: dict[str, int | None], customer: t.Customer | None
) -> dict[str, Any]:
    snapshot = {
        key: getattr(data, key) if getattr(data, key) is not None else getattr(customer, key, None)
        for key in ("segment", "value_tier", "lifecycle_stage")
    }
    snapshot["customer_name"] = customer.name if customer is not None else None
    return {
        "tenant_id": tenant_id,
        "initial_contact_id": None,
        "previous_contact_id": None,
        "next_contact_id": None,
        "channel": data.channel,
        "direction": data.direction,
        "initiation_method": data.initiation_method,
        "status": RECORDED_STATUS,
        "ani": data.ani,
        "dnis": data.dnis,
        "language": data.language,
        "customer_id": data.customer_id,
        "self_service": data.self_service,
        "resolved": data.resolved,
        "priority": data.priority,
        "initiation_ts": data.initiation_ts,
        "enqueue_ts": data.enqueue_ts,
        "dequeue_ts": data.dequeue_ts,
        "queue_outcome": data.queue_outcome,
        "agent_connected_ts": data.agent_connected_ts,
        "agent_end_ts": data.agent_end_ts,
        "holds": holds.dump(holds.Hold(a, b) for a, b in data.holds),
        "acw_start_ts": data.acw_start_ts,
        "acw_end_ts": data.acw_end_ts,
        "disconnect_ts": data.disconnect_ts,
        "disconnect_reason": data.disconnect_reason,
        "transferred_to": data.transferred_to,
        "disposition": data.disposition,
        "notes": data.notes,
        "csat": data.csat,
        "ces": data.ces,
        "nps": data.nps,
        "survey_ts": data.survey_ts,
        "cost": data.cost,
        "attributes": dict(data.attributes, source=data.source),
        **ids,
        **snapshot,
    }


def do_record_contacts(session: Session, actor: Actor, records: Sequence[RecordedContact]) -> list[t.Contact]:
    """Write past contacts and their timelines (historical timestamps) in the caller's transaction.

    All or nothing: an unknown code or customer in any record raises InvalidInput naming `[index, field]`.
    A handful of statements per call whatever its size, so import in batches (hundreds to a few thousand).
    """
    if not records:
        return []
    tenant_id = actor.tenant_id
    errors = ErrorList()
    resolved = [_resolve(session, tenant_id, data, [i], errors) for i, data in enumerate(records)]
    wanted = {data.customer_id for data in records if data.customer_id is not None}
    customers: dict[int, t.Customer] = {}
    if wanted:
        found = session.scalars(
            select(t.Customer).where(t.Customer.tenant_id == tenant_id, t.Customer.id.in_(sorted(wanted)))
        )
        customers = {row.id: row for row in found}
    for i, data in enumerate(records):
        if data.customer_id is not None and data.customer_id not in customers:
            errors.add([i, "customer_id"], _("no customer {id}", id=data.customer_id))
    errors.raise_if_any(_("the contact is not valid") if len(records) == 1 else _("some contacts are not valid"))

    values = [
        _row_values(tenant_id, data, ids, customers.get(data.customer_id) if data.customer_id else None)
        for data, ids in zip(records, resolved, strict=True)
    ]
    # Core statements (no unit of work per row); the rows then join the session as if loaded.
    contact_ids = [int(x) for x in session.execute(_INSERT_CONTACTS, values).scalars()]
    session.execute(  # a recorded contact starts its own chain
        update(_contacts).where(_contacts.c.id.in_(contact_ids)).values(initial_contact_id=_contacts.c.id)
    )
    contacts = []
    membership_rows: list[dict[str, Any]] = []
    offer_rows: list[dict[str, Any]] = []
    timelines: list[tuple[str, dt.datetime, dict[str, Any], dict[str, int | None]]] = []
    for contact_id, data, row in zip(contact_ids, records, values, strict=True):
        contact = t.Contact(**dict(row, id=contact_id, initial_contact_id=contact_id))
        make_transient_to_detached(contact)
        session.add(contact)
        contacts.append(contact)
        subjects = {
            "contact_id": contact_id,
            "customer_id": data.customer_id,
            "queue_id": row["queue_id"],
            "agent_id": row["agent_id"],
            "user_id": actor.user_id,
        }
        queues = _queues_of(data)
        summary = {
            "id": contact_id,
            "channel": data.channel,
            "queue": data.queue,
            "priority": data.priority,
            "ani": data.ani,
            "customer_id": data.customer_id,
            "customer_name": row["customer_name"],
            "segment": row["segment"],
            "value_tier": row["value_tier"],
            "lifecycle_stage": row["lifecycle_stage"],
            "language": data.language,
            "self_service": data.self_service,
            "collected": {},
        }
        queue_ids = {c: _code_id(session, tenant_id, t.Queue, c) or 0 for c in queues}
        items = _timeline(data, queues, row["segment"], queue_ids, summary)
        memberships, offers = _record_routing(session, tenant_id, contact_id, data, queues)
        membership_rows += memberships
        offer_rows += offers
        items.append(("contact.recorded", actor.now(), {"channel": data.channel, "source": data.source}))
        timelines.extend((type_, ts, payload, subjects) for type_, ts, payload in items)
    if membership_rows:
        session.execute(insert(t.ContactMembership), membership_rows)
    if offer_rows:
        session.execute(insert(t.ContactOffer), offer_rows)
    append_events(session, tenant_id, timelines)
    return contacts


def do_record_contact(session: Session, actor: Actor, data: RecordedContact) -> t.Contact:
    """Write one past contact and its timeline events in the caller's transaction."""
    try:
        return do_record_contacts(session, actor, [data])[0]
    except InvalidInput as exc:
        for err in exc.errors:
            err.loc = err.loc[1:]
        raise


def _record_routing(
    session: Session, tenant_id: int, contact_id: int, data: RecordedContact, queues: list[str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The recorded contact's memberships (every queue it waited in, left when it left them) and offers,
    as rows to insert."""
    if data.enqueue_ts is None:
        return [], []
    left_at = data.dequeue_ts or data.disconnect_ts
    memberships = [
        {
            "tenant_id": tenant_id,
            "contact_id": contact_id,
            "queue_id": _code_id(session, tenant_id, t.Queue, code),
            "joined_at": data.enqueue_ts,
            "arrival_seq": 0,
            "priority": data.priority,
            "age_adjust_s": 0.0,
            "for_agent_id": None,
            "overflowed": False,
            "left_at": left_at,
            "left_why": data.queue_outcome or "ended",
        }
        for code in queues
    ]
    offers = [
        {
            "tenant_id": tenant_id,
            "contact_id": contact_id,
            "agent_id": _code_id(session, tenant_id, t.Agent, offer.agent),
            "queue_id": memberships[0]["queue_id"],
            "offered_at": offer.offered_ts,
            "timeout_at": offer.ended_ts,
            "ended_at": offer.ended_ts,
            "result": offer.result,
        }
        for offer in (data.offers if memberships else [])
    ]
    return memberships, offers


def _timeline(
    data: RecordedContact,
    queues: list[str],
    segment: str | None,
    queue_ids: dict[str, int],
    summary: dict[str, Any],
) -> list[tuple[str, dt.datetime, dict[str, Any]]]:
    """The contact's events in time order (ties keep the order of the lifecycle), with the same payloads
    as a live contact's (`events/types.py`)."""
    items: list[tuple[str, dt.datetime, dict[str, Any]]] = [
        (
            "contact.arrived",
            data.initiation_ts,
            {
                "channel": data.channel,
                "direction": data.direction,
                "ani": data.ani,
                "dnis": data.dnis,
                "initiation_method": data.initiation_method,
                "previous_contact_id": None,
            },
        )
    ]
    if data.customer_id is not None:
        by = data.identified_by or {"voice": "phone", "sms": "phone", "email": "email"}.get(data.channel, "chat")
        items.append(("contact.identified", data.initiation_ts, {"by": by, "segment": segment}))
    if data.enqueue_ts is not None and data.dequeue_ts is not None:
        memberships = [
            {
                "queue_id": queue_ids[code],
                "joined_at": _iso(data.enqueue_ts),
                "priority": data.priority,
                "age_adjust_s": 0.0,
                "for_agent_id": None,
                "overflowed": False,
                "routing": None,
            }
            for code in queues
        ]
        for i, code in enumerate(queues):
            queued = {
                "queue": code,
                "priority": data.priority,
                "for_agent": None,
                "channel": data.channel,
                "arrival_seq": None,
            }
            items.append(("contact.queued", data.enqueue_ts, {**queued, "memberships": memberships[: i + 1]}))
        for offer in data.offers:
            offered = {
                "agent": offer.agent,
                "queue": queues[0] if queues else "",
                "timeout_at": _iso(offer.ended_ts),
                "contact": summary,
            }
            items.append(("contact.offered", offer.offered_ts, offered))
            ended = {"agent": offer.agent, "result": offer.result, "offers_left": 0}
            items.append(("contact.offer_ended", offer.ended_ts, ended))
        wait = (data.dequeue_ts - data.enqueue_ts).total_seconds()
        dequeued = {"outcome": data.queue_outcome or "other:ended", "queue": data.queue or None, "wait_s": wait}
        items.append(("contact.dequeued", data.dequeue_ts, dequeued))
    if data.agent_connected_ts is not None:
        connected = {"agent": data.agent, "queue": data.queue, "contact": summary}
        items.append(("contact.connected", data.agent_connected_ts, connected))
    for start, end in data.holds:
        items.append(("contact.held", start, {}))
        items.append(("contact.resumed", end, {}))
    if data.transferred_to is not None:
        transferred = {"to": data.transferred_to, "next_contact_id": None}
        items.append(("contact.transferred", data.agent_end_ts or data.disconnect_ts, transferred))
    ended = {
        "reason": data.disconnect_reason,
        "acw": data.acw_start_ts is not None,
        "outcome": None,
        "channel": data.channel,
        "acw_due": None,
    }
    items.append(("contact.ended", data.disconnect_ts, ended))
    if data.agent_connected_ts is not None and (data.acw_end_ts is not None or data.disposition is not None):
        wrapped = data.acw_end_ts or data.agent_end_ts or data.disconnect_ts
        handle = (wrapped - data.agent_connected_ts).total_seconds()
        wrapped_up = {
            "disposition": data.disposition,
            "reason": data.reason,
            "sub_reason": data.sub_reason,
            "resolved": data.resolved,
            "handle_s": handle,
            "timed_out": False,
        }
        items.append(("contact.wrapped_up", wrapped, wrapped_up))
    if data.survey_ts is not None:
        items.append(("contact.surveyed", data.survey_ts, {"csat": data.csat, "ces": data.ces, "nps": data.nps}))
    return sorted(items, key=lambda item: item[1])  # stable: ties keep the lifecycle order

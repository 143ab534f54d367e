"""Every event type and its payload, declared once. Names are `<noun>.<past verb>`.

Each type lists the keys of its `data` with their kind; `append_event` checks every payload against this
list (`check_payload`): a declared key missing, an undeclared key or a value of the wrong kind is a bug
in the emitting action and fails the transaction. Consumers (the routing runner, the WebSocket clients,
analytics) rely on these keys: add a type or a key here before any action emits it. `docs/events.md` is
generated from this list (`python -m centralita.events.types`).

Timestamps in payloads are ISO 8601 strings in UTC; durations are seconds (`_s`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["EVENT_TYPES", "EventType", "Kind", "PayloadError", "check_payload"]


class PayloadError(ValueError):
    """An event payload that does not match its declaration (a programming error, never bad input)."""


@dataclass(frozen=True)
class Kind:
    """What one payload value may be."""

    name: str
    check: Callable[[Any], bool]
    nullable: bool = False

    def accepts(self, value: Any) -> bool:
        return (value is None and self.nullable) or (value is not None and self.check(value))

    @property
    def optional(self) -> Kind:
        return Kind(self.name, self.check, nullable=True)

    def __str__(self) -> str:
        return f"{self.name} or null" if self.nullable else self.name


def _is_ts(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        dt.datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


TEXT = Kind("text", lambda v: isinstance(v, str))
INT = Kind("integer", lambda v: isinstance(v, int) and not isinstance(v, bool))
NUM = Kind("number", lambda v: isinstance(v, int | float) and not isinstance(v, bool))
BOOL = Kind("boolean", lambda v: isinstance(v, bool))
TS = Kind("timestamp", _is_ts)
LIST = Kind("list", lambda v: isinstance(v, list))
OBJ = Kind("object", lambda v: isinstance(v, dict))
# A contact's open membership as `contact.queued` and `contact.overflowed` carry it (contacts/live.py)
MEMBERSHIP_KEYS = ("queue_id", "joined_at", "priority", "age_adjust_s", "for_agent_id", "overflowed", "routing")
# What an agent's screen shows of a contact (contacts/live.py `contact_summary`)
SUMMARY_KEYS = (
    "id",
    "channel",
    "queue",
    "priority",
    "ani",
    "customer_id",
    "customer_name",
    "segment",
    "value_tier",
    "lifecycle_stage",
    "language",
    "self_service",
    "collected",
)
SUMMARY = Kind("contact summary", lambda v: isinstance(v, dict) and set(v) == set(SUMMARY_KEYS))
MEMBERSHIPS = Kind(
    "memberships",
    lambda v: isinstance(v, list) and all(isinstance(m, dict) and set(m) == set(MEMBERSHIP_KEYS) for m in v),
)


@dataclass(frozen=True)
class EventType:
    name: str
    description: str
    data: Mapping[str, Kind] = field(default_factory=dict)


def _t(event: str, description: str, /, **data: Kind) -> EventType:
    """A type; a key that is a Python keyword is written with a trailing `_` (`from_`)."""
    return EventType(event, description, {key.removesuffix("_"): kind for key, kind in data.items()})


_ALL = [
    # tenants and users
    _t("tenant.created", "A contact center was created", slug=TEXT, name=TEXT, timezone=TEXT),
    _t("tenant.updated", "A contact center's settings changed", changes=OBJ),
    _t("user.created", "A user was created", username=TEXT, role=TEXT),
    _t("user.updated", "A user's role, password or status changed", username=TEXT, changes=OBJ),
    _t("user.logged_in", "A user logged in", username=TEXT, via=TEXT),
    _t("user.logged_out", "A user logged out", username=TEXT),
    _t(
        "api_token.created",
        "An API token was issued (`expires_at`: null, it never expires)",
        name=TEXT,
        role=TEXT,
        expires_at=TS.optional,
    ),
    _t("api_token.revoked", "An API token was revoked", name=TEXT),
    # configuration
    _t(
        "flow.published",
        "A contact flow's new version was published; new contacts run it (`checksum`: SHA-256 of its text)",
        code=TEXT,
        version=INT,
        checksum=TEXT,
    ),
    _t(
        "flow.rolled_back",
        "An earlier version of a contact flow is current again",
        code=TEXT,
        version=INT,
        previous=INT,
    ),
    _t(
        "flow.started",
        "A contact arrived at an entry point and started its flow, at the version it keeps to the end",
        flow=TEXT,
        version=INT,
        entry_point=TEXT.optional,
    ),
    _t(
        "flow.step",
        "A node of a contact's flow ran: its outcome, and for `collect` the input (`***` for a sensitive"
        " variable such as a PIN)",
        flow=TEXT,
        node=TEXT,
        node_type=TEXT,
        outcome=TEXT,
        input=TEXT.optional,
    ),
    _t(
        "flow.ended",
        "A contact's flow stopped running: connected to an agent, transferred, queued (it waits on), or ended (`why`)",
        flow=TEXT,
        status=TEXT,
        why=TEXT.optional,
    ),
    _t("prompt.saved", "A prompt of the library was created or changed (its languages)", code=TEXT, languages=LIST),
    _t(
        "kb_article.saved",
        "An article of the knowledge base was created (`created`) or changed (`active` false: hidden from agents)",
        code=TEXT,
        created=BOOL,
        active=BOOL,
        reasons=LIST,
    ),
    _t("kb_article.deleted", "An article of the knowledge base was deleted", code=TEXT),
    _t(
        "agent_script.saved",
        "An agent script was created (`created`) or changed: the contact reasons it serves and its number of steps",
        code=TEXT,
        created=BOOL,
        active=BOOL,
        reasons=LIST,
        steps=INT,
    ),
    _t("agent_script.deleted", "An agent script was deleted", code=TEXT),
    _t(
        "entry_point.created",
        "An entry point was created: contacts arriving at `address` (of `kind` phone, chat or email) run `flow`",
        code=TEXT,
        kind=TEXT,
        address=TEXT,
        flow=TEXT,
    ),
    _t("entry_point.updated", "An entry point changed (`active` false: deactivated)", code=TEXT, changes=OBJ),
    _t(
        "flow_function.created",
        "An HTTP function for flows was created (`headers`: their names; values are never recorded)",
        code=TEXT,
        url=TEXT,
        headers=LIST,
    ),
    _t(
        "flow_function.updated",
        "An HTTP function for flows changed (`changes.headers`: the header names before and after, never values)",
        code=TEXT,
        changes=OBJ,
    ),
    _t("hours.created", "An hours calendar was created", code=TEXT),
    _t("hours.updated", "An hours calendar changed", code=TEXT, changes=OBJ),
    _t("hours.deleted", "An hours calendar was removed", code=TEXT),
    _t("skill.created", "A skill was created", code=TEXT),
    _t("skill.updated", "A skill changed", code=TEXT, changes=OBJ),
    _t("skill.deleted", "A skill was removed", code=TEXT),
    _t("queue.created", "A queue was created", code=TEXT, name=TEXT),
    _t("queue.updated", "A queue's settings changed", code=TEXT, changes=OBJ),
    _t("queue.deleted", "A queue was deactivated", code=TEXT),
    _t("reason.created", "A contact reason or group was created", code=TEXT, kind=TEXT),
    _t("reason.updated", "A contact reason or group changed", code=TEXT, kind=TEXT, changes=OBJ),
    _t("reason.deleted", "A contact reason was deactivated", code=TEXT),
    _t("away_reason.created", "An away reason was created", code=TEXT),
    _t("away_reason.updated", "An away reason changed", code=TEXT, changes=OBJ),
    _t(
        "config.applied",
        "A configuration file was applied (`prune`: rows it does not list were deactivated)",
        source=TEXT,
        summary=OBJ,
        prune=BOOL,
    ),
    # agents
    _t("agent.created", "An agent was created", code=TEXT, name=TEXT),
    _t("agent.updated", "An agent's profile, skills or queues changed", code=TEXT, changes=OBJ),
    _t("agent.deleted", "An agent was deactivated", code=TEXT),
    _t(
        "agent.state_changed",
        "An agent's state changed (`missed`: set by routing after too many unanswered offers)",
        code=TEXT,
        from_=TEXT,
        to=TEXT,
        away_reason=TEXT.optional,
    ),
    # customers and cases
    _t(
        "customer.created",
        "A customer was created (`identities`: [kind, value] pairs)",
        name=TEXT,
        segment=TEXT.optional,
        identities=LIST,
    ),
    _t("customer.updated", "A customer's profile changed", changes=OBJ),
    _t("customer.identity_added", "An identity was linked to a customer", kind=TEXT, value=TEXT),
    _t("customer.identity_removed", "An identity was unlinked", kind=TEXT, value=TEXT),
    _t("customer.pin_set", "The customer's self-service PIN was set or changed (never what to)"),
    _t(
        "customers.imported",
        "A customer file was imported",
        source=TEXT,
        created=INT,
        updated=INT,
        unchanged=INT,
        rejected=INT,
    ),
    _t("case.opened", "A case was opened", reference=TEXT, subject=TEXT, status=TEXT),
    _t("case.updated", "A case's status, owner or due date changed", reference=TEXT, changes=OBJ),
    _t("case.note_added", "A note was added to a case", reference=TEXT, note_id=INT),
    _t("case.contact_linked", "A contact was linked to a case", reference=TEXT),
    # contacts (the timeline; live contacts: contacts/live.py)
    _t(
        "contact.arrived",
        "A contact reached Centralita (`previous_contact_id`: the contact a transfer came from)",
        channel=TEXT,
        direction=TEXT,
        ani=TEXT.optional,
        dnis=TEXT.optional,
        initiation_method=TEXT,
        previous_contact_id=INT.optional,
    ),
    _t("contact.identified", "A contact was matched to a customer", by=TEXT, segment=TEXT.optional),
    _t(
        "contact.queued",
        "A contact joined a queue; its arrival order (FIFO within a priority) is this event's seq, or"
        " `arrival_seq` when it keeps an earlier one (a flow joining a further queue or changing a"
        " priority, a callback keeping the original's place). `memberships`: every queue it now waits in"
        " (queue_id, joined_at, priority, age_adjust_s, for_agent_id, overflowed): they replace what it had;"
        " `for_agent`: only that agent may take it (a transfer to an agent)",
        queue=TEXT,
        priority=INT,
        for_agent=TEXT.optional,
        channel=TEXT,
        memberships=MEMBERSHIPS,
        arrival_seq=INT.optional,
    ),
    _t(
        "contact.dequeued",
        "A contact left its queues: answered, abandoned, or other:<cause>",
        outcome=TEXT,
        queue=TEXT.optional,
        wait_s=NUM.optional,
    ),
    _t(
        "contact.overflowed",
        "Queue overflow (R10): after `after_s` in `from`, or at once when `from` is unstaffed, the waiting contact"
        " also joined (`add`) or moved to (`move`) `to` (null: it was there already or in 3 queues; mode `stay`:"
        " refused, a cycle), keeping its age. `memberships`: the queues it waits in now",
        from_=TEXT.optional,
        to=TEXT.optional,
        mode=TEXT,
        memberships=MEMBERSHIPS,
    ),
    _t(
        "contact.offered",
        "A contact was offered to an agent; `contact`: what the agent's screen shows of it (channel, queue,"
        " priority, caller, customer id and name, segment, value tier, lifecycle stage, as recognised)",
        agent=TEXT,
        queue=TEXT,
        timeout_at=TS,
        contact=SUMMARY,
    ),
    _t(
        "contact.offer_ended",
        "An offer ended: accepted, rejected, timeout (no answer) or withdrawn (the contact left, or a restart);"
        " `offers_left`: the contact's offers still ringing (ring_all)",
        agent=TEXT.optional,
        result=TEXT,
        offers_left=INT,
    ),
    _t(
        "contact.connected",
        "An agent connected to the contact (`queue`: the one that answered; `contact` as on `contact.offered`)",
        agent=TEXT.optional,
        queue=TEXT.optional,
        contact=SUMMARY,
    ),
    _t(
        "contact.message",
        "The customer or the agent said something on a chat with an agent (`sender`: customer or agent;"
        " `author`: the agent's name, on an agent's message)",
        message_id=INT,
        sender=TEXT,
        text=TEXT,
        author=TEXT.optional,
    ),
    _t("contact.held", "The contact was put on hold"),
    _t("contact.resumed", "The contact was taken off hold"),
    _t("contact.transferred", "The contact was transferred", to=TEXT, next_contact_id=INT.optional),
    _t(
        "contact.ended",
        "The contact ended; with `acw` the agent wraps up until it is done or `acw_due` passes (null: no"
        " time-out). `outcome`: closed_hours, holiday, queue_full, abandoned, transferred; ended in its flow:"
        " self_service, hung_up_in_flow, flow_disconnect, callback",
        reason=TEXT.optional,
        acw=BOOL,
        outcome=TEXT.optional,
        channel=TEXT,
        acw_due=TS.optional,
    ),
    _t(
        "contact.wrapped_up",
        "The agent wrapped the contact up, or its ACW timed out (`timed_out`: no disposition or reason)",
        disposition=TEXT.optional,
        reason=TEXT.optional,
        sub_reason=TEXT.optional,
        resolved=BOOL.optional,
        handle_s=NUM.optional,
        timed_out=BOOL,
    ),
    _t(
        "contact.surveyed",
        "The customer answered the survey",
        csat=INT.optional,
        ces=INT.optional,
        nps=INT.optional,
    ),
    _t("contact.recorded", "A past contact was imported with its timeline", channel=TEXT, source=TEXT),
    _t(
        "calls.imported",
        "A batch of a call-history file was imported (`centralita import calls`): lines `first_line`–`last_line`"
        " of `file` (`format`: anonymous-bank), `rows` data rows, `imported` new contacts (ids"
        " `first_contact_id`–`last_contact_id`, null when none), `skipped` already imported, `phantom` virtual"
        " calls left out, `rejected` bad rows, `customers_created` new customers. The contacts carry their"
        " historical timestamps; no timeline events are written for them",
        file=TEXT,
        format=TEXT,
        first_line=INT,
        last_line=INT,
        rows=INT,
        imported=INT,
        skipped=INT,
        phantom=INT,
        rejected=INT,
        customers_created=INT,
        first_contact_id=INT.optional,
        last_contact_id=INT.optional,
    ),
]

EVENT_TYPES: dict[str, EventType] = {e.name: e for e in _ALL}


def check_payload(type_: str, data: Mapping[str, Any]) -> None:
    """Raise PayloadError unless `data` has exactly the declared keys of `type_`, each of its kind."""
    declared = EVENT_TYPES.get(type_)
    if declared is None:
        raise PayloadError(f"unknown event type {type_!r}: add it to centralita.events.types first")
    missing = sorted(set(declared.data) - set(data))
    extra = sorted(set(data) - set(declared.data))
    wrong = sorted(key for key, kind in declared.data.items() if key in data and not kind.accepts(data[key]))
    if missing or extra or wrong:
        problems = []
        if missing:
            problems.append(f"missing {', '.join(missing)}")
        if extra:
            problems.append(f"undeclared {', '.join(extra)}")
        for key in wrong:
            problems.append(f"{key} must be {declared.data[key]}, not {data[key]!r}")
        raise PayloadError(f"{type_} payload: {'; '.join(problems)}")


def catalogue_markdown() -> str:
    """The event catalogue as Markdown (docs/events.md)."""
    lines = [
        "# Events",
        "",
        "Generated from `src/centralita/events/types.py` (`python -m centralita.events.types > docs/events.md`).",
        "Every event has `id`, `seq` (gapless per contact center, in commit order), `type`, `ts` and the ids",
        "of what it is about (`contact_id`, `agent_id`, `customer_id`, `case_id`, `queue_id`, `user_id`);",
        "`data` holds exactly the keys below. Timestamps are ISO 8601 in UTC.",
        "",
    ]
    for e in _ALL:
        lines += [f"## `{e.name}`", "", e.description + ".", ""]
        if e.data:
            lines += ["| key | kind |", "| --- | --- |"]
            lines += [f"| `{key}` | {kind} |" for key, kind in e.data.items()]
            lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(catalogue_markdown(), end="")

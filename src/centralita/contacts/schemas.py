"""Schemas for hours calendars, queues, reasons and contacts."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Callable, Sequence
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from centralita.contacts.hours import parse_hhmm
from centralita.core.i18n import _
from centralita.routing.rules import AGENT_SELECTIONS

CODE = r"^[a-z0-9][a-z0-9_.-]{0,49}$"
CHANNELS = ("voice", "chat", "email", "sms", "social")
OVERLOAD_METRICS = ("ewt", "oldest_wait")
ORDER_BY = re.compile(r"^agent\.([a-z_][a-z0-9_]{0,49})(?:\s+(ASC|DESC))?$", re.IGNORECASE)


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


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Interval(Strict):
    start: str
    end: str

    @field_validator("start", "end")
    @classmethod
    def _hhmm(cls, v: str) -> str:
        parse_hhmm(v)
        return v

    @model_validator(mode="after")
    def _not_empty(self) -> Interval:
        if self.start == self.end:
            raise ValueError(_("an interval must not be empty"))
        return self


class WeeklyInterval(Interval):
    day: int = Field(ge=1, le=7, description="ISO day: 1 = Monday … 7 = Sunday")


class HoursOverride(Strict):
    date: dt.date
    name: str = ""
    closed: bool = True
    intervals: list[Interval] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> HoursOverride:
        if self.closed and self.intervals:
            raise ValueError(_("a closed day has no intervals"))
        if not self.closed and not self.intervals:
            raise ValueError(_("special hours need intervals"))
        return self


def _tz(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(_("unknown time zone {value!r}", value=value)) from None
    return value


class HoursCreate(Strict):
    code: str = Field(pattern=CODE)
    name: str = Field(min_length=1, max_length=200)
    timezone: str | None = Field(default=None, description="IANA zone; default: the contact center's")
    weekly: list[WeeklyInterval] = Field(default_factory=list)
    overrides: list[HoursOverride] = Field(default_factory=list)

    _tz = field_validator("timezone")(lambda v: v if v is None else _tz(v))

    @model_validator(mode="after")
    def _unique_dates(self) -> HoursCreate:
        dates = [o.date for o in self.overrides]
        if len(dates) != len(set(dates)):
            raise ValueError(_("an override date is listed twice"))
        return self


class HoursUpdate(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    timezone: str | None = None
    weekly: list[WeeklyInterval] | None = None
    overrides: list[HoursOverride] | None = None

    _tz = field_validator("timezone")(lambda v: v if v is None else _tz(v))


class HoursPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    code: str
    name: str
    timezone: str
    weekly: list[dict[str, Any]]
    overrides: list[dict[str, Any]]


class HoursStatus(BaseModel):
    code: str
    at: dt.datetime
    status: str


class SlTarget(Strict):
    threshold_s: int = Field(default=20, ge=1, le=86400)
    percent: float = Field(default=80.0, gt=0, le=100)


class Overflow(Strict):
    queue: str = Field(pattern=CODE)
    after_s: int | None = Field(default=None, ge=0)
    when_unstaffed: bool = False
    mode: str = Field(default="add", pattern="^(add|move)$")


class Overload(Strict):
    """R9: the queue's overload level (0, 1, 2) compares `metric` with `level1_s < level2_s`; reserve agents
    of level 1 serve the queue from level 1, those of level 2 only at level 2."""

    metric: str = Field(default="ewt", description="ewt (for a new contact) or oldest_wait")
    level1_s: int = Field(gt=0, le=86400)
    level2_s: int = Field(gt=0, le=86400)

    _metric = field_validator("metric")(one_of("overload metric", OVERLOAD_METRICS))

    @field_validator("level2_s")
    @classmethod
    def _above_level1(cls, v: int, info: ValidationInfo) -> int:
        level1 = info.data.get("level1_s")
        if level1 is not None and v <= level1:
            raise ValueError(_("level2_s must be greater than level1_s ({level1})", level1=level1))
        return v


def order_by_clause(value: str) -> str:
    """One R5 `order_by` clause, `agent.<integer attribute> ASC|DESC` (ASC when left out), normalised."""
    found = ORDER_BY.match(value.strip())
    if found is None:
        raise ValueError(_("{value!r} is not 'agent.<attribute> ASC|DESC'", value=value))
    return f"agent.{found.group(1)} {(found.group(2) or 'ASC').upper()}"


def parse_order_by(clauses: Sequence[str]) -> tuple[tuple[str, bool], ...]:
    """Stored `order_by` clauses as the routing engine's (attribute, descending) pairs."""
    out = []
    for clause in clauses:
        found = ORDER_BY.match(clause.strip())
        if found is not None:
            out.append((found.group(1), (found.group(2) or "ASC").upper() == "DESC"))
    return tuple(out)


OrderByClause = Annotated[str, AfterValidator(order_by_clause)]
ORDER_BY_HELP = (
    "used with agent_selection order_by: ['agent.<integer attribute> ASC|DESC', …] (up to 5); agents lacking "
    "an attribute come last, ties by agent id"
)


def order_by_needed() -> str:
    """The message for agent_selection order_by without clauses (shared by create and update)."""
    return _("agent_selection order_by needs at least one order_by clause")


class QueueFields(Strict):
    channels: list[str] | None = None
    required_skills: dict[str, int] | None = None
    segment_priority: dict[str, int] | None = None
    sl_target: SlTarget | None = None
    hours: str | None = Field(default=None, description="hours calendar code")
    overflow: Overflow | None = None
    max_contacts: int | None = Field(default=None, ge=1)
    priority_mode: str | None = Field(default=None, pattern="^(strict|aged)$")
    aging_s_per_point: int | None = Field(default=None, ge=1)
    agent_selection: str | None = None
    order_by: list[OrderByClause] | None = Field(default=None, max_length=5, description=ORDER_BY_HELP)
    overload: Overload | None = Field(default=None, description="R9 thresholds for reserve agents; none: level 0")
    offer_timeout_s: int | None = Field(default=None, ge=5, le=600)
    default_aht_s: int | None = Field(default=None, ge=1)

    @field_validator("channels")
    @classmethod
    def _channels(cls, v: list[str] | None) -> list[str] | None:
        for c in v or []:
            if c not in CHANNELS:
                raise ValueError(unknown_choice("channel", c, CHANNELS))
        return v

    @field_validator("required_skills")
    @classmethod
    def _levels(cls, v: dict[str, int] | None) -> dict[str, int] | None:
        for skill, level in (v or {}).items():
            if not 1 <= level <= 5:
                raise ValueError(_("skill {skill!r}: level must be 1..5 (5 = most proficient)", skill=skill))
        return v

    _selection = field_validator("agent_selection")(one_of("agent_selection", AGENT_SELECTIONS))


class QueueCreate(QueueFields):
    code: str = Field(pattern=CODE)
    name: str = Field(min_length=1, max_length=200)
    order_by: list[OrderByClause] | None = Field(
        default=None, max_length=5, validate_default=True, description=ORDER_BY_HELP
    )

    @field_validator("order_by")
    @classmethod
    def _order_by_given(cls, v: list[str] | None, info: ValidationInfo) -> list[str] | None:
        if info.data.get("agent_selection") == "order_by" and not v:
            raise ValueError(order_by_needed())
        return v


class QueueUpdate(QueueFields):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    active: bool | None = None


class QueuePublic(BaseModel):
    id: int
    code: str
    name: str
    channels: list[str]
    required_skills: dict[str, int]
    segment_priority: dict[str, int]
    sl_target: SlTarget
    hours: str | None
    overflow: dict[str, Any] | None
    max_contacts: int | None
    priority_mode: str
    aging_s_per_point: int
    agent_selection: str
    order_by: list[str]
    overload: Overload | None
    offer_timeout_s: int
    default_aht_s: int
    active: bool


class ReasonGroupCreate(Strict):
    code: str = Field(pattern=CODE)
    name_es: str = Field(min_length=1, max_length=200)
    name_en: str = Field(min_length=1, max_length=200)


class ReasonGroupPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    code: str
    name_es: str
    name_en: str


class ReasonCreate(Strict):
    code: str = Field(pattern=CODE)
    group: str = Field(pattern=CODE, description="reason group code")
    parent: str | None = Field(default=None, description="parent reason code, for a sub-reason")
    name_es: str = Field(min_length=1, max_length=200)
    name_en: str = Field(min_length=1, max_length=200)
    avoidable: bool = False


class ReasonUpdate(Strict):
    name_es: str | None = Field(default=None, min_length=1, max_length=200)
    name_en: str | None = Field(default=None, min_length=1, max_length=200)
    avoidable: bool | None = None
    active: bool | None = None


class ReasonPublic(BaseModel):
    id: int
    code: str
    group: str
    parent: str | None
    name_es: str
    name_en: str
    avoidable: bool
    active: bool


class ContactPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    initial_contact_id: int | None
    previous_contact_id: int | None
    next_contact_id: int | None
    channel: str
    direction: str
    initiation_method: str
    status: str
    ani: str | None
    dnis: str | None
    language: str
    customer_id: int | None
    segment: str | None
    value_tier: str | None
    lifecycle_stage: str | None
    reason_id: int | None
    sub_reason_id: int | None
    self_service: bool
    resolved: bool | None
    queue_id: int | None
    priority: int
    agent_id: int | None
    initiation_ts: dt.datetime
    enqueue_ts: dt.datetime | None
    dequeue_ts: dt.datetime | None
    queue_outcome: str | None
    agent_connected_ts: dt.datetime | None
    agent_end_ts: dt.datetime | None
    acw_start_ts: dt.datetime | None
    acw_end_ts: dt.datetime | None
    disconnect_ts: dt.datetime | None
    disconnect_reason: str | None
    transferred_to: str | None
    disposition: str | None
    csat: int | None
    ces: int | None
    nps: int | None
    cost: float | None


# live contacts (contacts/live.py) ------------------------------------------------------------------

LIVE_CHANNELS = ("voice", "chat", "email")
LIVE_STATUSES = ("queued", "connected", "held", "acw", "closed")


class LiveContactCreate(Strict):
    """A contact entering now: a chat, an e-mail or a simulated call, queued in `queue`."""

    channel: str = Field(description="voice (a simulated call), chat or email")
    from_: str = Field(alias="from", min_length=1, max_length=100, description="caller number, e-mail or chat id")
    to: str | None = Field(default=None, max_length=100, description="number or address dialled")
    queue: str = Field(pattern=CODE, description="queue code")
    priority: int | None = Field(
        default=None, ge=-100, le=100, description="higher first; default: the queue's segment priority, else 0"
    )
    language: str = Field(default="es", pattern="^(es|en)$")
    attributes: dict[str, Any] = Field(default_factory=dict)

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    _channel = field_validator("channel")(one_of("channel", LIVE_CHANNELS))


class TransferRequest(Strict):
    """To a queue (re-queued there) or to one agent (queued for that agent only). Exactly one."""

    queue: str | None = Field(default=None, pattern=CODE)
    agent: str | None = Field(default=None, pattern=CODE)

    @model_validator(mode="after")
    def _one_target(self) -> TransferRequest:
        if (self.queue is None) == (self.agent is None):
            raise ValueError(_("give exactly one of queue or agent"))
        return self


class WrapUp(Strict):
    disposition: str = Field(pattern=CODE, description="the outcome code, e.g. resolved, callback, sale")
    reason: str = Field(pattern=CODE, description="contact reason code (taxonomy)")
    sub_reason: str | None = Field(default=None, pattern=CODE, description="a sub-reason of `reason`")
    resolved: bool | None = None
    notes: str | None = Field(default=None, max_length=4000)


class LiveContactPublic(ContactPublic):
    """A contact with its live routing state."""

    outcome: str | None = None
    offered_to: int | None = Field(default=None, description="agent id of the open offer (the first, with ring_all)")
    offered_agents: list[int] = Field(default_factory=list, description="agent ids of every open offer")
    queues: list[Any] = Field(default_factory=list)

"""Schemas for queues, hours calendars and contact reasons."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import (
    MISSING,
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from centralita.core.i18n import _
from centralita.core.vocabulary import CHANNELS, CODE, Strict, one_of, unknown_choice
from centralita.queues.hours import parse_hhmm
from centralita.routing.rules import AGENT_SELECTIONS

__all__ = [
    "HoursCreate",
    "HoursOverride",
    "HoursPublic",
    "HoursStatus",
    "HoursUpdate",
    "Overflow",
    "QueueCreate",
    "QueuePublic",
    "QueueUpdate",
    "ReasonCreate",
    "ReasonGroupCreate",
    "ReasonGroupPublic",
    "ReasonPublic",
    "ReasonUpdate",
    "SlTarget",
    "WeeklyInterval",
    "parse_order_by",
]

OVERLOAD_METRICS = ("ewt", "oldest_wait")
ORDER_BY = re.compile(r"^agent\.([a-z_][a-z0-9_]{0,49})(?:\s+(ASC|DESC))?$", re.IGNORECASE)


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
    """Only the fields given change; none of them may be null."""

    name: str | MISSING = Field(default=MISSING, min_length=1, max_length=200)
    timezone: str | MISSING = MISSING
    weekly: list[WeeklyInterval] | MISSING = MISSING
    overrides: list[HoursOverride] | MISSING = MISSING

    _tz = field_validator("timezone")(_tz)


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
    name: str | MISSING = Field(default=MISSING, min_length=1, max_length=200)
    active: bool | MISSING = MISSING


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
    """Only the fields given change; none of them may be null."""

    name_es: str | MISSING = Field(default=MISSING, min_length=1, max_length=200)
    name_en: str | MISSING = Field(default=MISSING, min_length=1, max_length=200)
    avoidable: bool | MISSING = MISSING
    active: bool | MISSING = MISSING


class ReasonPublic(BaseModel):
    id: int
    code: str
    group: str
    parent: str | None
    name_es: str
    name_en: str
    avoidable: bool
    active: bool

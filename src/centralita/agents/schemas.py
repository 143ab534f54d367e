"""Agent and skill schemas."""

from __future__ import annotations

import datetime as dt

from pydantic import MISSING, BaseModel, ConfigDict, Field, field_validator

from centralita.core.i18n import _
from centralita.core.vocabulary import CHANNELS, CODE, Attributes, Stored, Strict, one_of
from centralita.routing.rules import CALL_SELECTIONS

__all__ = [
    "AgentCreate",
    "AgentPublic",
    "AgentStateChange",
    "AgentUpdate",
    "AwayReasonCreate",
    "AwayReasonPublic",
    "ProfileEntry",
    "SkillCreate",
    "SkillPublic",
    "SkillUpdate",
]

AGENT_STATES = ("offline", "available", "away")


class SkillCreate(Strict):
    code: str = Field(pattern=CODE)
    name: str = Field(min_length=1, max_length=200)


class SkillUpdate(Strict):
    name: str = Field(min_length=1, max_length=200)


class SkillPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    code: str
    name: str


class AwayReasonCreate(Strict):
    code: str = Field(pattern=CODE)
    name_es: str = Field(min_length=1, max_length=200)
    name_en: str = Field(min_length=1, max_length=200)
    productive: bool = False


class AwayReasonPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    code: str
    name_es: str
    name_en: str
    productive: bool


class ProfileEntry(Strict):
    queue: str = Field(pattern=CODE)
    rank: int = Field(default=1, ge=1, le=99)
    delay_s: int = Field(default=0, ge=0, le=86400)
    reserve: int | None = Field(default=None, ge=1, le=2, description="reserve level: joins only when q is behind")


def _capacity(v: dict[str, int] | None) -> dict[str, int] | None:
    for channel, slots in (v or {}).items():
        if channel not in CHANNELS:
            raise ValueError(
                _("unknown channel {value!r}; one of {choices}", value=channel, choices=", ".join(CHANNELS))
            )
        if not 0 <= slots <= 50:
            raise ValueError(_("{channel}: capacity must be 0..50", channel=channel))
    return v


def _skills(v: dict[str, int] | None) -> dict[str, int] | None:
    for skill, level in (v or {}).items():
        if not 1 <= level <= 5:
            raise ValueError(_("skill {skill!r}: level must be 1..5 (5 = most proficient)", skill=skill))
    return v


def _exclusive(v: list[str] | None) -> list[str] | None:
    for channel in v or []:
        if channel not in CHANNELS:
            raise ValueError(_("unknown channel {value!r}", value=channel))
    return v


class AgentFields(Strict):
    email: str | None = Field(default=None, max_length=200)
    languages: list[str] | None = None
    skills: dict[str, int] | None = Field(default=None, description="{skill code: level 1..5}")
    queues: list[ProfileEntry] | None = None
    capacity: dict[str, int] | None = Field(default=None, description="{channel: simultaneous contacts}")
    exclusive_channels: list[str] | None = None
    max_occupancy: float | None = Field(default=None, gt=0, le=1)
    acw_timeout_s: int | None = Field(
        default=None, ge=0, le=3600, description="after-contact work ends by itself after this; 0: never"
    )
    acw_counts_as_idle: bool | None = Field(default=None, description="leave ACW out of routing occupancy (R8)")
    max_missed_offers: int | None = Field(default=None, ge=1, le=10)
    call_selection: str | None = None
    hourly_cost: float | None = Field(default=None, ge=0)
    attributes: Attributes | None = None

    _cap = field_validator("capacity")(_capacity)
    _sk = field_validator("skills")(_skills)
    _ex = field_validator("exclusive_channels")(_exclusive)

    _cs = field_validator("call_selection")(one_of("call_selection", CALL_SELECTIONS))

    @field_validator("languages")
    @classmethod
    def _langs(cls, v: list[str] | None) -> list[str] | None:
        for lang in v or []:
            if len(lang) != 2 or not lang.isalpha() or not lang.islower():
                raise ValueError(_("{value!r} is not a two-letter language code", value=lang))
        return v


class AgentCreate(AgentFields):
    code: str = Field(pattern=CODE)
    name: str = Field(min_length=1, max_length=200)


class AgentUpdate(AgentFields):
    name: str | MISSING = Field(default=MISSING, min_length=1, max_length=200)
    active: bool | MISSING = MISSING


class AgentPublic(BaseModel):
    id: int
    code: str
    name: str
    email: str | None
    languages: list[str]
    skills: dict[str, int]
    queues: list[ProfileEntry]
    capacity: dict[str, int]
    exclusive_channels: list[str]
    max_occupancy: float | None
    acw_timeout_s: int
    acw_counts_as_idle: bool
    max_missed_offers: int
    call_selection: str
    hourly_cost: float | None
    attributes: Stored
    state: str
    away_reason: str | None
    state_since: dt.datetime | None
    active: bool


class AgentStateChange(Strict):
    state: str
    away_reason: str | None = Field(default=None, description="away reason code, required with state away")

    _state = field_validator("state")(one_of("state", AGENT_STATES))

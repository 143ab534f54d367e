"""Account schemas: tenants, users, tokens, login."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Literal

from pydantic import MISSING, AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from centralita.accounts.passwords import MIN_PASSWORD_LENGTH
from centralita.core.i18n import _
from centralita.core.metrics_settings import MetricsSettings
from centralita.core.vocabulary import Strict

__all__ = [
    "ApiTokenCreate",
    "ApiTokenIssued",
    "ApiTokenPublic",
    "LoginRequest",
    "TenantCreate",
    "TenantPublic",
    "TenantSettingsPublic",
    "TenantSettingsUpdate",
    "UserCreate",
    "UserPublic",
    "UserUpdate",
]

SLUG = r"^[a-z0-9][a-z0-9_-]{0,49}$"
CustomerField = Literal[
    "name",
    "kind",
    "external_id",
    "segment",
    "value_tier",
    "lifecycle_stage",
    "lifetime_value",
    "owner",
    "language",
    "notes",
    "attributes",
    "identities",
]  # access.CUSTOMER_FIELDS (a test keeps them the same)
Role = str


def _check_tz(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(_("unknown time zone {value!r}", value=value)) from None
    return value


class TenantCreate(Strict):
    slug: str = Field(pattern=SLUG)
    name: str = Field(min_length=1, max_length=200)
    timezone: str = "Europe/Madrid"
    language: str = Field(default="es", pattern="^(es|en)$")
    country: str = Field(default="ES", pattern="^[A-Z]{2}$")

    _tz = field_validator("timezone")(_check_tz)


class TenantPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    slug: str
    name: str
    timezone: str
    language: str
    country: str


class UserCreate(Strict):
    username: str = Field(pattern=r"^[a-zA-Z0-9._@-]{2,100}$")
    password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=200)
    role: str = Field(pattern="^(admin|supervisor|agent)$")
    display_name: str = ""
    agent: str | None = Field(default=None, description="agent code, for role agent")
    language: str = Field(default="es", pattern="^(es|en)$")


class UserUpdate(Strict):
    """Only the fields given change; none of them may be null."""

    password: str | MISSING = Field(default=MISSING, min_length=MIN_PASSWORD_LENGTH, max_length=200)
    role: str | MISSING = Field(default=MISSING, pattern="^(admin|supervisor|agent)$")
    display_name: str | MISSING = MISSING
    active: bool | MISSING = MISSING
    language: str | MISSING = Field(default=MISSING, pattern="^(es|en)$")


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    username: str
    display_name: str
    role: str
    agent_id: int | None
    language: str
    active: bool


class LoginRequest(Strict):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=200)
    tenant: str | None = Field(default=None, description="contact center slug; optional when unambiguous")


MAX_TOKEN_DAYS = 3650


class ApiTokenCreate(Strict):
    name: str = Field(min_length=1, max_length=100)
    role: str = Field(pattern="^(admin|supervisor|agent)$")
    expires_at: AwareDatetime | None = Field(default=None, description="when the token stops working (with its zone)")
    expires_in_days: int | None = Field(
        default=None, ge=1, le=MAX_TOKEN_DAYS, description="or: days from now until the token stops working"
    )


class ApiTokenPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    role: str = Field(description="the role it was issued with; a user's token acts with at most that user's role")
    user_id: int | None = Field(description="the user who issued it (null: issued by the CLI)")
    created_at: dt.datetime
    expires_at: dt.datetime | None
    last_used_at: dt.datetime | None = Field(description="kept to about a minute")
    revoked_at: dt.datetime | None


class ApiTokenIssued(ApiTokenPublic):
    token: str = Field(description="shown once; only its hash is stored")


class TenantSettingsUpdate(Strict):
    """Contact-center settings an admin changes (`PATCH /api/tenant/settings`)."""

    supervisor_only_customer_fields: list[CustomerField] | None = Field(
        default=None,
        description="customer fields only supervisors and admins may set; default: segment, value_tier,"
        " lifetime_value, owner",
    )
    metrics: MetricsSettings | None = Field(
        default=None, description="the KPI variants and the cost model (docs/analytics.md); replaces the stored ones"
    )


class TenantSettingsPublic(BaseModel):
    segments: list[str]
    value_tiers: list[str]
    supervisor_only_customer_fields: list[str]
    metrics: MetricsSettings

"""CRM schemas: `XCreate` / `XUpdate` / `XPublic` per resource."""

from __future__ import annotations

import datetime as dt

from pydantic import MISSING, BaseModel, ConfigDict, Field

from centralita.core.phones import IDENTITY_KINDS
from centralita.core.vocabulary import Attributes, Stored, Strict, Text

__all__ = [
    "LIFECYCLE",
    "CaseCreate",
    "CasePublic",
    "CaseUpdate",
    "ContactSummary",
    "Customer360",
    "CustomerCreate",
    "CustomerPublic",
    "CustomerUpdate",
    "CustomerView",
    "IdentityCreate",
    "IdentityPublic",
    "NoteCreate",
    "NotePublic",
]

_KINDS = "^(" + "|".join(IDENTITY_KINDS) + ")$"
LIFECYCLE = "^(prospect|new|active|at_risk|lapsed)$"
CASE_STATUS = "^(open|pending|resolved|closed)$"


class IdentityCreate(Strict):
    kind: str = Field(pattern=_KINDS)
    value: str = Field(min_length=1, max_length=200)
    verified: bool = False


class IdentityPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    kind: str
    value: str
    verified: bool


class CustomerCreate(Strict):
    name: str = Field(min_length=1, max_length=200)
    kind: str = Field(default="person", pattern="^(person|company)$")
    external_id: str | None = Field(default=None, max_length=100)
    segment: str | None = None
    value_tier: str | None = None
    lifecycle_stage: str | None = Field(default=None, pattern=LIFECYCLE)
    lifetime_value: float | None = Field(default=None, ge=0)
    owner: str | None = Field(default=None, description="owner agent code")
    language: str = Field(default="es", pattern="^(es|en)$")
    notes: Text | None = Field(default=None, max_length=4000)
    attributes: Attributes = Field(default_factory=dict)
    identities: list[IdentityCreate] = Field(default_factory=list, max_length=50)


class CustomerUpdate(Strict):
    """Only the fields given change; null clears a field that may be empty."""

    name: str | MISSING = Field(default=MISSING, min_length=1, max_length=200)
    kind: str | MISSING = Field(default=MISSING, pattern="^(person|company)$")
    external_id: str | None = Field(default=None, max_length=100)
    segment: str | None = None
    value_tier: str | None = None
    lifecycle_stage: str | None = Field(default=None, pattern=LIFECYCLE)
    lifetime_value: float | None = Field(default=None, ge=0)
    owner: str | None = None
    language: str | MISSING = Field(default=MISSING, pattern="^(es|en)$")
    notes: Text | None = Field(default=None, max_length=4000)
    attributes: Attributes | MISSING = MISSING


class CustomerPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    kind: str
    external_id: str | None
    segment: str | None
    value_tier: str | None
    lifecycle_stage: str | None
    lifetime_value: float | None
    owner_agent_id: int | None
    language: str
    notes: str | None = None
    attributes: Stored
    created_at: dt.datetime
    updated_at: dt.datetime
    identities: list[IdentityPublic] = Field(default_factory=list)


class CaseCreate(Strict):
    subject: Text = Field(min_length=1, max_length=300)
    customer_id: int | None = None
    reason: str | None = Field(default=None, description="reason code")
    priority: int = Field(default=0, ge=0, le=10)
    owner: str | None = Field(default=None, description="owner agent code")
    queue: str | None = Field(default=None, description="queue code")
    due_at: dt.datetime | None = None
    contact_id: int | None = Field(default=None, description="contact to link at once")
    note: Text | None = Field(default=None, max_length=10000)


class CaseUpdate(Strict):
    """Only the fields given change; null clears a field that may be empty."""

    subject: Text | MISSING = Field(default=MISSING, min_length=1, max_length=300)
    status: str | MISSING = Field(default=MISSING, pattern=CASE_STATUS)
    reason: str | None = None
    priority: int | MISSING = Field(default=MISSING, ge=0, le=10)
    owner: str | None = None
    queue: str | None = None
    due_at: dt.datetime | None = None


class NoteCreate(Strict):
    text: Text = Field(min_length=1, max_length=10000)


class NotePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    text: str
    author_user_id: int | None
    created_at: dt.datetime


class CasePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    reference: str
    customer_id: int | None
    reason_id: int | None
    subject: str
    status: str
    priority: int
    owner_agent_id: int | None
    queue_id: int | None
    due_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    closed_at: dt.datetime | None
    contact_ids: list[int] = Field(default_factory=list)
    notes: list[NotePublic] = Field(default_factory=list)


class ContactSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    channel: str
    direction: str
    status: str
    initiation_ts: dt.datetime
    disconnect_ts: dt.datetime | None
    reason_id: int | None
    queue_id: int | None
    agent_id: int | None
    disposition: str | None
    resolved: bool | None


class Customer360(BaseModel):
    """The screen pop: who is calling, what they are worth, what is open, what happened last."""

    customer: CustomerPublic
    matched_by: IdentityPublic
    open_cases: list[CasePublic]
    last_contacts: list[ContactSummary]


class CustomerView(BaseModel):
    """The customer as an agent's screen pop shows them, reached from a contact (not by an identity)."""

    customer: CustomerPublic
    open_cases: list[CasePublic]
    last_contacts: list[ContactSummary] = Field(description="the latest contacts on every channel, newest first")

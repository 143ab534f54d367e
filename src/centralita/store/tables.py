"""All tables. Every row belongs to a tenant (a contact center); every timestamp is UTC-aware.

Names follow the vocabulary of docs/architecture.md. Only `do_*` actions write these tables.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from centralita.core.clock import as_utc

__all__ = [
    "Agent",
    "AgentQueue",
    "AgentScript",
    "AgentSkill",
    "ApiToken",
    "AwayReason",
    "Base",
    "BigId",
    "Case",
    "CaseContact",
    "CaseNote",
    "Contact",
    "ContactMembership",
    "ContactOffer",
    "Customer",
    "CustomerIdentity",
    "CustomerPin",
    "Event",
    "HoursCalendar",
    "Json",
    "KbArticle",
    "Queue",
    "Reason",
    "ReasonGroup",
    "Session",
    "Skill",
    "Tenant",
    "UTCDateTime",
    "User",
]

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets 64-bit ids.
BigId = BigInteger().with_variant(Integer(), "sqlite")
Json = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Stores aware datetimes as UTC; always returns aware UTC datetimes (SQLite keeps them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use UTC-aware datetimes")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        return None if value is None else as_utc(value)


class Base(DeclarativeBase):
    type_annotation_map = {  # noqa: RUF012
        dt.datetime: UTCDateTime,
        dict[str, Any]: Json,
        list[Any]: Json,
    }


def _tenant_fk() -> Mapped[int]:
    return mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=False)


class Tenant(Base):
    """A contact center: its own time zone, users and data. `event_seq` is the last event number."""

    __tablename__ = "tenants"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    slug: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Madrid")
    language: Mapped[str] = mapped_column(String(5), default="es")
    country: Mapped[str] = mapped_column(String(2), default="ES")
    event_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime]


class User(Base):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("tenant_id", "username"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    username: Mapped[str] = mapped_column(String(100))
    display_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))  # admin | supervisor | agent
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    language: Mapped[str] = mapped_column(String(5), default="es")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime]


class Session(Base):
    """A browser session: the cookie carries the token, the row keeps only its SHA-256."""

    __tablename__ = "sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    tenant_id: Mapped[int] = _tenant_fk()
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]


class ApiToken(Base):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # issued by a user (the API): never more rights than that user has now, refused once the user is
    # inactive or gone (user_id SET NULL on delete, so this flag is what remembers there was an owner)
    user_bound: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime | None]
    last_used_at: Mapped[dt.datetime | None]  # kept to the minute (api/auth.py TOUCH_EVERY)
    revoked_at: Mapped[dt.datetime | None]


class ContactFlow(Base):
    """A contact flow (flowlang 1) by its id (`code`); `current_version` is the one new contacts run."""

    __tablename__ = "contact_flows"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    code: Mapped[str] = mapped_column(String(50))
    current_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class ContactFlowVersion(Base):
    """Every published text of a flow, kept: a contact keeps the version it started with, and a rollback
    makes an earlier one current again."""

    __tablename__ = "contact_flow_versions"
    __table_args__ = (UniqueConstraint("flow_id", "version"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    flow_id: Mapped[int] = mapped_column(ForeignKey("contact_flows.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(Text)
    checksum: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[dt.datetime]
    published_by: Mapped[str] = mapped_column(String(150))


class EntryPoint(Base):
    """Where contacts come in: a called number (`phone`), a web chat widget key (`chat`) or an e-mail
    address (`email`), mapped to the flow its contacts run. An address belongs to one contact center."""

    __tablename__ = "entry_points"
    __table_args__ = (
        UniqueConstraint("tenant_id", "code"),
        UniqueConstraint("kind", "address", name="uq_entry_point_address"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    code: Mapped[str] = mapped_column(String(50))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10))  # phone | chat | email
    address: Mapped[str] = mapped_column(String(200))  # E.164 number, widget key or e-mail address
    flow: Mapped[str] = mapped_column(String(50))  # a contact flow's code
    language: Mapped[str] = mapped_column(String(5), default="es")  # the contact's language at arrival
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class FlowFunction(Base):
    """A function flows may `invoke` that is an HTTP endpoint of the contact center's own systems (JSON in
    and out, POST). Python functions (crm.*, the demo bank's) are registered in code instead."""

    __tablename__ = "flow_functions"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    code: Mapped[str] = mapped_column(String(100))  # the dotted lowercase name flows call
    url: Mapped[str] = mapped_column(String(500))
    headers: Mapped[dict[str, Any]] = mapped_column(default=dict)  # sent with every call
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class Prompt(Base):
    """A prompt of the library flows name by id (`prompt: banco.bienvenida`): its text per language, said
    in the contact's language (else Spanish); `{{…}}` inside is evaluated like a `tts:` prompt's."""

    __tablename__ = "prompts"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    code: Mapped[str] = mapped_column(String(100))
    texts: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {"es": "...", "en": "..."}
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class KbArticle(Base):
    """An article of the knowledge base agents search: Markdown text, tags and the contact reasons it helps
    with (knowledge/)."""

    __tablename__ = "kb_articles"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    code: Mapped[str] = mapped_column(String(50))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)  # Markdown
    tags: Mapped[list[Any]] = mapped_column(default=list)
    reasons: Mapped[list[Any]] = mapped_column(default=list)  # contact reason codes
    language: Mapped[str] = mapped_column(String(5), default="es")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[dt.datetime]


class AgentScript(Base):
    """The guided steps an agent follows for the contact reasons it names; a step's text may hold
    placeholders (`{customer.name}`) filled in with the contact's data (knowledge/)."""

    __tablename__ = "agent_scripts"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    code: Mapped[str] = mapped_column(String(50))
    name: Mapped[str] = mapped_column(String(200))
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    language: Mapped[str] = mapped_column(String(5), default="es")
    steps: Mapped[list[Any]] = mapped_column(default=list)  # [{"title": ..., "text": ...}]
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[dt.datetime]


class FlowGlobal(Base):
    """A flow variable of scope `global`: one value per contact center, last write wins."""

    __tablename__ = "flow_globals"
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[Any] = mapped_column(Json, nullable=True)
    updated_at: Mapped[dt.datetime]


class ContactFlowRun(Base):
    """A contact's place in its flow, stored with every step so that a restart resumes it: the flow and
    the version it started with, the interpreter's state, its running timers (name → due time and the
    node run they answer) and the function call in flight. `status` mirrors the state's."""

    __tablename__ = "contact_flow_runs"
    __table_args__ = (Index("ix_flow_runs_status", "status", "tenant_id"),)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    flow_code: Mapped[str] = mapped_column(String(50))
    flow_version: Mapped[int] = mapped_column(Integer)
    versions: Mapped[dict[str, Any]] = mapped_column(default=dict)  # every flow it entered: {code: version}
    status: Mapped[str] = mapped_column(String(20))  # running | queued | connected | transferred | ended
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    timers: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {name: {"due": epoch s, "wait": n}}
    invoke: Mapped[dict[str, Any] | None] = mapped_column(Json, nullable=True)
    started_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class ContactMessage(Base):
    """What was said on a contact, in order: the bot's prompts (with its buttons), the customer's replies
    and digits (masked when the flow keeps them secret). The web chat reads it; on voice it is the
    transcript of what was played and keyed."""

    __tablename__ = "contact_messages"
    __table_args__ = (Index("ix_contact_messages_contact", "contact_id", "id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    sender: Mapped[str] = mapped_column(String(10))  # bot | customer | agent | system
    text: Mapped[str] = mapped_column(Text)
    options: Mapped[list[Any]] = mapped_column(default=list)  # [{"value", "label"}]: buttons on chat
    created_at: Mapped[dt.datetime]


class HoursCalendar(Base):
    """Opening hours: weekly [start, end) intervals in local time plus dated overrides (holidays)."""

    __tablename__ = "hours_calendars"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    code: Mapped[str] = mapped_column(String(50))
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    weekly: Mapped[list[Any]] = mapped_column(default=list)  # [{"day": 1..7, "start": "08:00", "end": "20:00"}]
    overrides: Mapped[list[Any]] = mapped_column(default=list)  # [{"date", "name", "closed", "intervals"}]


class Skill(Base):
    __tablename__ = "skills"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    code: Mapped[str] = mapped_column(String(50))
    name: Mapped[str] = mapped_column(String(200))


class Queue(Base):
    """Where contacts wait for agents. Field meanings: flows-and-routing §6.1."""

    __tablename__ = "queues"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    code: Mapped[str] = mapped_column(String(50))
    name: Mapped[str] = mapped_column(String(200))
    channels: Mapped[list[Any]] = mapped_column(default=list)
    required_skills: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {skill code: min level}
    segment_priority: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {segment: priority}
    sl_threshold_s: Mapped[int] = mapped_column(Integer, default=20)
    sl_percent: Mapped[float] = mapped_column(Float, default=80.0)
    hours_id: Mapped[int | None] = mapped_column(ForeignKey("hours_calendars.id", ondelete="SET NULL"))
    overflow: Mapped[dict[str, Any] | None] = mapped_column(Json)  # {queue, after_s, when_unstaffed, mode}
    max_contacts: Mapped[int | None] = mapped_column(Integer)
    priority_mode: Mapped[str] = mapped_column(String(10), default="strict")
    aging_s_per_point: Mapped[int] = mapped_column(Integer, default=60)
    agent_selection: Mapped[str] = mapped_column(String(40), default="longest_idle")
    order_by: Mapped[list[Any]] = mapped_column(default=list, server_default=text("'[]'"))  # ["agent.<attr> ASC"]
    overload: Mapped[dict[str, Any] | None] = mapped_column(Json)  # R9 {metric, level1_s, level2_s}
    offer_timeout_s: Mapped[int] = mapped_column(Integer, default=20)
    default_aht_s: Mapped[int] = mapped_column(Integer, default=300)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class ReasonGroup(Base):
    __tablename__ = "reason_groups"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    code: Mapped[str] = mapped_column(String(50))
    name_es: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))


class Reason(Base):
    """A contact reason (parent_id null) or sub-reason (parent_id set), in a group."""

    __tablename__ = "reasons"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    code: Mapped[str] = mapped_column(String(50))
    group_id: Mapped[int] = mapped_column(ForeignKey("reason_groups.id", ondelete="RESTRICT"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("reasons.id", ondelete="RESTRICT"))
    name_es: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    avoidable: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class AwayReason(Base):
    __tablename__ = "away_reasons"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    code: Mapped[str] = mapped_column(String(50))
    name_es: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    productive: Mapped[bool] = mapped_column(Boolean, default=False)


class Agent(Base):
    """A person who handles contacts. Routing fields: flows-and-routing §6.1."""

    __tablename__ = "agents"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    code: Mapped[str] = mapped_column(String(50))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200))
    languages: Mapped[list[Any]] = mapped_column(default=list)
    capacity: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {channel: slots}
    exclusive_channels: Mapped[list[Any]] = mapped_column(default=list)
    max_occupancy: Mapped[float | None] = mapped_column(Float)
    acw_timeout_s: Mapped[int] = mapped_column(Integer, default=0)
    acw_counts_as_idle: Mapped[bool] = mapped_column(Boolean, default=False)  # R8: ACW left out of occupancy
    max_missed_offers: Mapped[int] = mapped_column(Integer, default=1)
    call_selection: Mapped[str] = mapped_column(String(30), default="queue_rank")
    hourly_cost: Mapped[float | None] = mapped_column(Float)
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    state: Mapped[str] = mapped_column(String(20), default="offline")  # offline | available | away | missed
    away_reason: Mapped[str | None] = mapped_column(String(50))
    state_since: Mapped[dt.datetime | None]
    logged_in_at: Mapped[dt.datetime | None]  # since coming online (R8 routing occupancy); None: offline
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class AgentSkill(Base):
    __tablename__ = "agent_skills"
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True)
    skill_id: Mapped[int] = mapped_column(ForeignKey("skills.id", ondelete="CASCADE"), primary_key=True)
    level: Mapped[int] = mapped_column(Integer)  # 1..5, 5 = most proficient


class AgentQueue(Base):
    """An agent's routing profile entry: serves `queue_id` at `rank` after `delay_s`, or as a reserve."""

    __tablename__ = "agent_queues"
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True)
    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id", ondelete="CASCADE"), primary_key=True)
    rank: Mapped[int] = mapped_column(Integer, default=1)
    delay_s: Mapped[int] = mapped_column(Integer, default=0)
    reserve_level: Mapped[int | None] = mapped_column(Integer)  # 1 | 2: joins only when q is behind


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = (
        UniqueConstraint("tenant_id", "external_id"),
        Index("ix_customers_tenant_name", "tenant_id", "name"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    external_id: Mapped[str | None] = mapped_column(String(100))  # the CRM's own id
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10), default="person")  # person | company
    segment: Mapped[str | None] = mapped_column(String(50))
    value_tier: Mapped[str | None] = mapped_column(String(20))
    lifecycle_stage: Mapped[str | None] = mapped_column(String(20))
    lifetime_value: Mapped[float | None] = mapped_column(Float)
    owner_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    language: Mapped[str] = mapped_column(String(5), default="es")
    notes: Mapped[str | None] = mapped_column(Text)  # free notes agents keep about the customer
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class CustomerIdentity(Base):
    """A way to recognise a customer: phone (E.164), email, chat id, external CRM id, national id."""

    __tablename__ = "customer_identities"
    __table_args__ = (UniqueConstraint("tenant_id", "kind", "value", name="uq_identity"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(String(200))
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime]


class CustomerPin(Base):
    """A customer's self-service PIN (what an IVR asks before a balance or a card block), salted and hashed
    (crm/pins.py). Kept apart from the customer's attributes, which agents and flows see: the hash is
    never shown, exported nor put in an event."""

    __tablename__ = "customer_pins"
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    pin_hash: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[dt.datetime]


class Case(Base):
    """The customer's matter across contacts; `reference` is speakable and never reused."""

    __tablename__ = "cases"
    __table_args__ = (
        UniqueConstraint("tenant_id", "reference"),
        Index("ix_cases_customer_status", "tenant_id", "customer_id", "status"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    reference: Mapped[str] = mapped_column(String(10))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    reason_id: Mapped[int | None] = mapped_column(ForeignKey("reasons.id", ondelete="SET NULL"))
    subject: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | pending | resolved | closed
    priority: Mapped[int] = mapped_column(Integer, default=0)
    owner_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    queue_id: Mapped[int | None] = mapped_column(ForeignKey("queues.id", ondelete="SET NULL"))
    due_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    closed_at: Mapped[dt.datetime | None]


class CaseNote(Base):
    __tablename__ = "case_notes"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime]


class CaseContact(Base):
    __tablename__ = "case_contacts"
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True, index=True)


class Contact(Base):
    """One interaction on one channel; carries every timestamp metrics.md §1.1 needs."""

    __tablename__ = "contacts"
    __table_args__ = (
        Index("ix_contacts_tenant_time", "tenant_id", "initiation_ts"),
        Index("ix_contacts_customer_time", "tenant_id", "customer_id", "initiation_ts"),
        Index("ix_contacts_queue_time", "tenant_id", "queue_id", "initiation_ts"),
        Index("ix_contacts_agent_time", "tenant_id", "agent_id", "initiation_ts"),
        Index("ix_contacts_status", "tenant_id", "status"),
        Index("uq_contacts_external_ref", "tenant_id", "external_ref", unique=True),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    initial_contact_id: Mapped[int | None] = mapped_column(BigInteger)
    previous_contact_id: Mapped[int | None] = mapped_column(BigInteger)
    next_contact_id: Mapped[int | None] = mapped_column(BigInteger)
    channel: Mapped[str] = mapped_column(String(10))  # voice | chat | email | sms | social
    direction: Mapped[str] = mapped_column(String(10), default="inbound")
    initiation_method: Mapped[str] = mapped_column(String(20), default="INBOUND")
    status: Mapped[str] = mapped_column(String(20), default="arrived")
    ani: Mapped[str | None] = mapped_column(String(100))  # caller number or sender address
    dnis: Mapped[str | None] = mapped_column(String(100))
    language: Mapped[str] = mapped_column(String(5), default="es")
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    customer_name: Mapped[str | None] = mapped_column(String(200))  # snapshot when identified, as the rest
    segment: Mapped[str | None] = mapped_column(String(50))  # snapshot when identified
    value_tier: Mapped[str | None] = mapped_column(String(20))
    lifecycle_stage: Mapped[str | None] = mapped_column(String(20))
    reason_id: Mapped[int | None] = mapped_column(ForeignKey("reasons.id", ondelete="SET NULL"))
    sub_reason_id: Mapped[int | None] = mapped_column(ForeignKey("reasons.id", ondelete="SET NULL"))
    self_service: Mapped[bool] = mapped_column(Boolean, default=False)
    resolved: Mapped[bool | None] = mapped_column(Boolean)
    queue_id: Mapped[int | None] = mapped_column(ForeignKey("queues.id", ondelete="SET NULL"))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    initiation_ts: Mapped[dt.datetime]
    enqueue_ts: Mapped[dt.datetime | None]
    dequeue_ts: Mapped[dt.datetime | None]
    queue_outcome: Mapped[str | None] = mapped_column(String(40))  # answered | abandoned | other:<cause>
    agent_connected_ts: Mapped[dt.datetime | None]
    agent_end_ts: Mapped[dt.datetime | None]
    holds: Mapped[list[Any]] = mapped_column(default=list)  # [[start iso, end iso], ...]
    acw_start_ts: Mapped[dt.datetime | None]
    acw_end_ts: Mapped[dt.datetime | None]
    disconnect_ts: Mapped[dt.datetime | None]
    disconnect_reason: Mapped[str | None] = mapped_column(String(40))
    transferred_to: Mapped[str | None] = mapped_column(String(100))
    disposition: Mapped[str | None] = mapped_column(String(50))
    notes: Mapped[str | None] = mapped_column(Text)
    csat: Mapped[int | None] = mapped_column(Integer)
    ces: Mapped[int | None] = mapped_column(Integer)
    nps: Mapped[int | None] = mapped_column(Integer)
    survey_ts: Mapped[dt.datetime | None]
    cost: Mapped[float | None] = mapped_column(Float)
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # what its flow collected for the agent (never asked twice): flow and version, identification,
    # non-secret variables, self-service steps, the case opened (flowrun/)
    collected: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # how the contact ended when it never reached an agent, or left its agent early: closed_hours, holiday,
    # queue_full, abandoned, transferred (contacts/live.py)
    outcome: Mapped[str | None] = mapped_column(String(40))
    # the contact's key in the system it was imported from (`anonymous-bank:AA0101:33116`), unique in the
    # contact center: importing a file again adds nothing (contacts/bulk_import.py); null for live contacts
    external_ref: Mapped[str | None] = mapped_column(String(120))


class ContactMembership(Base):
    """A contact's place in one queue (R10: up to three at once). Open while `left_at` is null; the open
    memberships of a queue are what `max_contacts` counts. `arrival_seq` is the contact's arrival order
    (the seq of its first `contact.queued` event: FIFO within a priority), the same on every membership
    of the contact; `joined_at` and `age_adjust_s` place it in this queue (an overflow keeps the contact's
    earliest ordering time). `for_agent_id`: only that agent may take it here (a transfer to an agent: the
    membership's one routing step, kept for ever). `overflowed`: this queue's overflow rule has been
    applied (R10, never twice). `left_why`: answered, abandoned, moved (an overflow moved it on), ended."""

    __tablename__ = "contact_memberships"
    __table_args__ = (
        UniqueConstraint("contact_id", "queue_id", name="uq_membership_contact_queue"),
        Index(
            "ix_memberships_open",
            "tenant_id",
            "queue_id",
            sqlite_where=text("left_at IS NULL"),
            postgresql_where=text("left_at IS NULL"),
        ),
        Index("ix_memberships_queue_time", "tenant_id", "queue_id", "joined_at"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id", ondelete="CASCADE"))
    joined_at: Mapped[dt.datetime]
    arrival_seq: Mapped[int] = mapped_column(BigInteger)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    age_adjust_s: Mapped[float] = mapped_column(Float, default=0.0)
    for_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    overflowed: Mapped[bool] = mapped_column(Boolean, default=False)
    # a flow's routing steps here (flows-and-routing §2 `queue.steps`): {"steps": [{"skills": [[skill, level]],
    # "agents": [agent ids] | null, "duration_s": s | null}], "after_steps", "skip_unstaffed_steps"}
    routing: Mapped[dict[str, Any] | None] = mapped_column(Json, nullable=True)
    left_at: Mapped[dt.datetime | None]
    left_why: Mapped[str | None] = mapped_column(String(40))  # as contacts.queue_outcome, or moved


class ContactOffer(Base):
    """One offer of a contact to an agent (R6): open while `ended_at` is null (several at once only for a
    ring_all round: same queue, same timeout). `result`: accepted, rejected, timeout or withdrawn."""

    __tablename__ = "contact_offers"
    __table_args__ = (
        Index(
            "ix_offers_open_contact",
            "contact_id",
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
        Index("ix_offers_agent_time", "tenant_id", "agent_id", "offered_at"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id", ondelete="CASCADE"))
    offered_at: Mapped[dt.datetime]
    timeout_at: Mapped[dt.datetime]
    ended_at: Mapped[dt.datetime | None]
    result: Mapped[str | None] = mapped_column(String(20))


class Event(Base):
    """The append-only log. `seq` numbers a tenant's events without gaps, in commit order."""

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("tenant_id", "seq", name="uq_events_tenant_seq"),
        Index("ix_events_contact", "tenant_id", "contact_id"),
        Index("ix_events_tenant_ts", "tenant_id", "ts"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    seq: Mapped[int] = mapped_column(BigInteger)
    type: Mapped[str] = mapped_column(String(50))
    ts: Mapped[dt.datetime]
    contact_id: Mapped[int | None] = mapped_column(BigInteger)
    agent_id: Mapped[int | None] = mapped_column(BigInteger)
    customer_id: Mapped[int | None] = mapped_column(BigInteger)
    case_id: Mapped[int | None] = mapped_column(BigInteger)
    queue_id: Mapped[int | None] = mapped_column(BigInteger)
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)

"""flows live: entry points, HTTP flow functions, global flow variables, each contact's stored flow run and
its messages, what the flow collected for the agent (contacts.collected) and a flow's routing steps
in a queue (contact_memberships.routing)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 17:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from centralita.store.tables import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _tenant() -> sa.Column[int]:
    return sa.Column("tenant_id", sa.Integer(), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "entry_points",
        sa.Column("id", _ID, primary_key=True),
        _tenant(),
        sa.Column("code", sa.String(50), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("address", sa.String(200), nullable=False),
        sa.Column("flow", sa.String(50), nullable=False),
        sa.Column("language", sa.String(5), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("tenant_id", "code"),
        sa.UniqueConstraint("kind", "address", name="uq_entry_point_address"),
    )
    op.create_table(
        "flow_functions",
        sa.Column("id", _ID, primary_key=True),
        _tenant(),
        sa.Column("code", sa.String(100), nullable=False),
        sa.Column("url", sa.String(500), nullable=False),
        sa.Column("headers", _JSON, nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("tenant_id", "code"),
    )
    op.create_table(
        "flow_globals",
        sa.Column("tenant_id", sa.Integer(), sa.ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("name", sa.String(50), primary_key=True),
        sa.Column("value", _JSON, nullable=True),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "contact_flow_runs",
        sa.Column("contact_id", _ID, sa.ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True),
        _tenant(),
        sa.Column("flow_code", sa.String(50), nullable=False),
        sa.Column("flow_version", sa.Integer(), nullable=False),
        sa.Column("versions", _JSON, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("state", _JSON, nullable=False),
        sa.Column("timers", _JSON, nullable=False),
        sa.Column("invoke", _JSON, nullable=True),
        sa.Column("started_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_flow_runs_status", "contact_flow_runs", ["status", "tenant_id"])
    op.create_table(
        "contact_messages",
        sa.Column("id", _ID, primary_key=True),
        _tenant(),
        sa.Column("contact_id", _ID, sa.ForeignKey("contacts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("sender", sa.String(10), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("options", _JSON, nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_contact_messages_contact", "contact_messages", ["contact_id", "id"])
    op.add_column("contacts", sa.Column("collected", _JSON, nullable=False, server_default=sa.text("'{}'")))
    op.add_column("contact_memberships", sa.Column("routing", _JSON, nullable=True))


def downgrade() -> None:
    op.drop_column("contact_memberships", "routing")
    op.drop_column("contacts", "collected")
    op.drop_index("ix_contact_messages_contact", "contact_messages")
    op.drop_table("contact_messages")
    op.drop_index("ix_flow_runs_status", "contact_flow_runs")
    op.drop_table("contact_flow_runs")
    op.drop_table("flow_globals")
    op.drop_table("flow_functions")
    op.drop_table("entry_points")

"""contact_external_ref: an imported contact's key in its source system, unique per contact center

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("contacts", sa.Column("external_ref", sa.String(120), nullable=True))
    op.create_index("uq_contacts_external_ref", "contacts", ["tenant_id", "external_ref"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_contacts_external_ref", table_name="contacts")
    op.drop_column("contacts", "external_ref")

"""agents: acw_counts_as_idle and logged_in_at (R8 routing occupancy: ACW left out of it, and the login
it counts from, so a rebuilt router keeps it)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 17:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from centralita.store.tables import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("acw_counts_as_idle", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("logged_in_at", UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.drop_column("logged_in_at")
        batch_op.drop_column("acw_counts_as_idle")

"""api_tokens: user_bound (a token issued by a user follows that user's current role and status) and
expires_at (an optional expiry)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from centralita.store.tables import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("user_bound", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("expires_at", UTCDateTime(timezone=True), nullable=True))
    # every token issued so far with an owner is bound to that owner (tokens of a user deleted before
    # this migration lost their owner already and keep their own role, like the CLI's)
    op.execute(sa.text("UPDATE api_tokens SET user_bound = true WHERE user_id IS NOT NULL"))


def downgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_column("expires_at")
        batch_op.drop_column("user_bound")

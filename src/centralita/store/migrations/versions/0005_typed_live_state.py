"""typed live state: contact_memberships and contact_offers replace the contacts.routing JSON and the
contacts.queues codes; contacts.outcome

Existing rows are converted: each membership of `routing.memberships` (or, for rows written before
memberships, one per code in `queues`) becomes a `contact_memberships` row, open while the contact is
queued, left when it was answered, abandoned or moved on by an overflow (`routing.overflowed_from`); each
open offer (`routing.offers`, or the older single `routing.offer`) becomes a `contact_offers` row;
`routing.outcome` becomes `contacts.outcome`. Customers get `notes` (free text agents keep); contacts keep
the customer's name as recognised. Offers that ended before this migration are in the event log only.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 09:00:00
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from centralita.store.tables import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _create_tables() -> None:
    op.create_table(
        "contact_memberships",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("tenant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("contact_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("queue_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("joined_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("arrival_seq", sa.BigInteger(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("age_adjust_s", sa.Float(), nullable=False),
        sa.Column("for_agent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("overflowed", sa.Boolean(), nullable=False),
        sa.Column("left_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("left_why", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["queue_id"], ["queues.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["for_agent_id"], ["agents.id"], ondelete="SET NULL"),
        sa.UniqueConstraint("contact_id", "queue_id", name="uq_membership_contact_queue"),
    )
    op.create_index(
        "ix_memberships_open",
        "contact_memberships",
        ["tenant_id", "queue_id"],
        sqlite_where=sa.text("left_at IS NULL"),
        postgresql_where=sa.text("left_at IS NULL"),
    )
    op.create_index("ix_memberships_queue_time", "contact_memberships", ["tenant_id", "queue_id", "joined_at"])
    op.create_table(
        "contact_offers",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("tenant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("contact_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("agent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("queue_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("offered_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("timeout_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("result", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["queue_id"], ["queues.id"], ondelete="CASCADE"),
    )
    op.create_index(
        "ix_offers_open_contact",
        "contact_offers",
        ["contact_id"],
        sqlite_where=sa.text("ended_at IS NULL"),
        postgresql_where=sa.text("ended_at IS NULL"),
    )
    op.create_index("ix_offers_agent_time", "contact_offers", ["tenant_id", "agent_id", "offered_at"])


def _epoch(value: Any) -> dt.datetime:
    return dt.datetime.fromtimestamp(float(value), dt.UTC)


def _aware(value: Any) -> dt.datetime | None:
    """A timestamp as read back by a plain (untyped) select: SQLite gives text, PostgreSQL aware values."""
    if value is None:
        return None
    when: dt.datetime = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def convert_rows(conn: sa.Connection) -> None:
    """Every contact's `routing` and `queues` as membership and offer rows (see the module docstring)."""
    memberships = sa.table(
        "contact_memberships",
        *(
            sa.column(c)
            for c in (
                "tenant_id",
                "contact_id",
                "queue_id",
                "arrival_seq",
                "priority",
                "age_adjust_s",
                "for_agent_id",
                "overflowed",
                "left_why",
            )
        ),
        sa.column("joined_at", UTCDateTime(timezone=True)),
        sa.column("left_at", UTCDateTime(timezone=True)),
    )
    offers = sa.table(
        "contact_offers",
        *(sa.column(c) for c in ("tenant_id", "contact_id", "agent_id", "queue_id")),
        *(sa.column(c, UTCDateTime(timezone=True)) for c in ("offered_at", "timeout_at")),
    )
    queue_ids: dict[tuple[int, str], int] = {
        (int(tenant), str(code)): int(qid)
        for qid, tenant, code in conn.execute(sa.text("SELECT id, tenant_id, code FROM queues"))
    }
    agents = {int(a) for (a,) in conn.execute(sa.text("SELECT id FROM agents"))}
    rows = conn.execute(
        sa.text(
            "SELECT id, tenant_id, status, queue_id, queues, routing, priority, initiation_ts, enqueue_ts,"
            " dequeue_ts, disconnect_ts, queue_outcome FROM contacts"
            " WHERE routing IS NOT NULL OR queue_id IS NOT NULL ORDER BY id"
        )
    )
    outcomes: list[dict[str, Any]] = []
    new_memberships: list[dict[str, Any]] = []
    new_offers: list[dict[str, Any]] = []
    for (
        cid,
        tenant,
        status,
        first_queue,
        codes,
        routing_raw,
        priority,
        initiated,
        enqueued,
        dequeued,
        ended,
        qout,
    ) in rows:
        routing = _json(routing_raw) or {}
        codes = _json(codes) or []
        queued = status == "queued"
        left_at = None if queued else (_aware(dequeued) or _aware(ended) or _aware(initiated))
        left_why = None if queued else (qout or "ended")
        arrival = int(routing.get("arrival_seq") or cid)
        seen: set[int] = set()
        for m in routing.get("memberships") or []:
            qid = int(m["queue_id"])
            agent_ids = m.get("agent_ids") or []
            new_memberships.append(
                {
                    "tenant_id": tenant,
                    "contact_id": cid,
                    "queue_id": qid,
                    "joined_at": _epoch(m["enqueue_ts"]),
                    "arrival_seq": arrival,
                    "priority": int(m.get("priority") or 0),
                    "age_adjust_s": float(m.get("age_adjust_s") or 0.0),
                    "for_agent_id": int(agent_ids[0]) if agent_ids and int(agent_ids[0]) in agents else None,
                    "overflowed": bool(m.get("overflowed")),
                    "left_at": left_at,
                    "left_why": left_why,
                }
            )
            seen.add(qid)
        moved = [int(q) for q in routing.get("overflowed_from") or [] if int(q) not in seen]
        if not routing.get("memberships"):  # rows written before memberships: the queues they named
            moved = []
            named = [queue_ids[(int(tenant), str(c))] for c in codes if (int(tenant), str(c)) in queue_ids]
            if not named and first_queue is not None and queued:
                named = [int(first_queue)]
            for qid in dict.fromkeys(named):
                new_memberships.append(
                    {
                        "tenant_id": tenant,
                        "contact_id": cid,
                        "queue_id": qid,
                        "joined_at": _aware(enqueued) or _aware(initiated),
                        "arrival_seq": arrival,
                        "priority": int(priority or 0),
                        "age_adjust_s": 0.0,
                        "for_agent_id": None,
                        "overflowed": False,
                        "left_at": left_at,
                        "left_why": left_why,
                    }
                )
                seen.add(qid)
        for qid in moved:  # queues an overflow moved it out of: left, never back (R10)
            new_memberships.append(
                {
                    "tenant_id": tenant,
                    "contact_id": cid,
                    "queue_id": qid,
                    "joined_at": _aware(enqueued) or _aware(initiated),
                    "arrival_seq": arrival,
                    "priority": int(priority or 0),
                    "age_adjust_s": 0.0,
                    "for_agent_id": None,
                    "overflowed": True,
                    "left_at": _aware(enqueued) or _aware(initiated),
                    "left_why": "moved",
                }
            )
        open_offers = routing.get("offers")
        if open_offers is None:  # the single-offer form of the first live rows
            open_offers = [routing["offer"]] if routing.get("offer") else []
        for o in open_offers if queued else []:
            if int(o["agent_id"]) in agents:
                new_offers.append(
                    {
                        "tenant_id": tenant,
                        "contact_id": cid,
                        "agent_id": int(o["agent_id"]),
                        "queue_id": int(o["queue_id"]),
                        "offered_at": _epoch(o.get("offered_ts") or o["timeout_at"]),
                        "timeout_at": _epoch(o["timeout_at"]),
                    }
                )
        if routing.get("outcome"):
            outcomes.append({"cid": cid, "outcome": str(routing["outcome"])})
    if new_memberships:
        conn.execute(memberships.insert(), new_memberships)
    if new_offers:
        conn.execute(offers.insert(), new_offers)
    if outcomes:
        conn.execute(sa.text("UPDATE contacts SET outcome = :outcome WHERE id = :cid"), outcomes)


def upgrade() -> None:
    # In place on both engines (SQLite >= 3.35 drops a plain column natively): a batch "move and copy" of
    # `contacts` would drop the old table, and with foreign keys on SQLite deletes its rows first, which
    # cascades to every table that refers to contacts (case links, the new memberships and offers).
    _create_tables()
    op.add_column("contacts", sa.Column("outcome", sa.String(length=40), nullable=True))
    op.add_column("customers", sa.Column("notes", sa.Text(), nullable=True))
    op.add_column("contacts", sa.Column("customer_name", sa.String(length=200), nullable=True))
    op.execute(  # contacts recognised before: the customer's name now (the closest to then that is known)
        "UPDATE contacts SET customer_name = (SELECT name FROM customers WHERE customers.id = contacts.customer_id)"
        " WHERE customer_id IS NOT NULL"
    )
    convert_rows(op.get_bind())
    op.execute("ALTER TABLE contacts DROP COLUMN routing")
    op.execute("ALTER TABLE contacts DROP COLUMN queues")


def downgrade() -> None:
    op.add_column("contacts", sa.Column("queues", _JSON, nullable=False, server_default=sa.text("'[]'")))
    op.add_column("contacts", sa.Column("routing", _JSON, nullable=True))
    op.execute("ALTER TABLE contacts DROP COLUMN outcome")
    op.execute("ALTER TABLE customers DROP COLUMN notes")
    op.execute("ALTER TABLE contacts DROP COLUMN customer_name")
    op.drop_table("contact_offers")
    op.drop_table("contact_memberships")

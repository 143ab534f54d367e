"""Reads for contacts: search with filters, a contact's timeline, its memberships and offers, the tenant's
counts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from centralita.events.log import EventRecord
from centralita.store import tables as t


def search_contacts(
    session: Session,
    tenant_id: int,
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    channel: str | None = None,
    queue_id: int | None = None,
    agent_id: int | None = None,
    reason_id: int | None = None,
    segment: str | None = None,
    customer_id: int | None = None,
    status: str | None = None,
    visible: ColumnElement[bool] | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[t.Contact], int]:
    """Contacts by time range [since, until) on initiation, and by any of the filters.

    `visible`: the contacts the actor may see (`access.contacts_visible`).
    """
    stmt = select(t.Contact).where(t.Contact.tenant_id == tenant_id)
    if since is not None:
        stmt = stmt.where(t.Contact.initiation_ts >= since)
    if until is not None:
        stmt = stmt.where(t.Contact.initiation_ts < until)
    if channel:
        stmt = stmt.where(t.Contact.channel == channel)
    if queue_id is not None:
        stmt = stmt.where(t.Contact.queue_id == queue_id)
    if agent_id is not None:
        stmt = stmt.where(t.Contact.agent_id == agent_id)
    if reason_id is not None:
        stmt = stmt.where(or_(t.Contact.reason_id == reason_id, t.Contact.sub_reason_id == reason_id))
    if segment:
        stmt = stmt.where(t.Contact.segment == segment)
    if customer_id is not None:
        stmt = stmt.where(t.Contact.customer_id == customer_id)
    if status:
        stmt = stmt.where(t.Contact.status == status)
    if visible is not None:
        stmt = stmt.where(visible)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = list(
        session.scalars(stmt.order_by(t.Contact.initiation_ts.desc(), t.Contact.id.desc()).limit(limit).offset(offset))
    )
    return rows, int(total)


def contact_timeline(session: Session, tenant_id: int, contact_id: int) -> list[EventRecord]:
    rows = session.scalars(
        select(t.Event).where(t.Event.tenant_id == tenant_id, t.Event.contact_id == contact_id).order_by(t.Event.seq)
    )
    return [EventRecord.from_row(r) for r in rows]


def counts(session: Session, tenant_id: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, model in (
        ("customers", t.Customer),
        ("agents", t.Agent),
        ("queues", t.Queue),
        ("reasons", t.Reason),
        ("cases", t.Case),
        ("contacts", t.Contact),
        ("events", t.Event),
    ):
        out[name] = session.scalar(select(func.count()).select_from(model).where(model.tenant_id == tenant_id)) or 0
    return out


def open_memberships(session: Session, contact_id: int) -> list[t.ContactMembership]:
    """The queues the contact waits in now (none unless it is queued), in the order it joined them."""
    return list(
        session.scalars(
            select(t.ContactMembership)
            .where(t.ContactMembership.contact_id == contact_id, t.ContactMembership.left_at.is_(None))
            .order_by(t.ContactMembership.id)
        )
    )


def open_offers(session: Session, contact_id: int) -> list[t.ContactOffer]:
    """The contact's open offers (several for a ring_all round), oldest first."""
    return list(
        session.scalars(
            select(t.ContactOffer)
            .where(t.ContactOffer.contact_id == contact_id, t.ContactOffer.ended_at.is_(None))
            .order_by(t.ContactOffer.id)
        )
    )


def queue_codes(session: Session, contact_id: int) -> list[str]:
    """Every queue the contact waited in (also those it left), in the order it joined them."""
    return list(
        session.scalars(
            select(t.Queue.code)
            .join(t.ContactMembership, t.ContactMembership.queue_id == t.Queue.id)
            .where(t.ContactMembership.contact_id == contact_id)
            .order_by(t.ContactMembership.id)
        )
    )


def waiting_in(session: Session, queue: t.Queue) -> int:
    """Contacts waiting in `queue` now, by open membership: those that arrived there and those an overflow
    brought (not those it moved on). An indexed count (`ix_memberships_open`)."""
    count = session.scalar(
        select(func.count())
        .select_from(t.ContactMembership)
        .where(
            t.ContactMembership.tenant_id == queue.tenant_id,
            t.ContactMembership.queue_id == queue.id,
            t.ContactMembership.left_at.is_(None),
        )
    )
    return int(count or 0)


def overflowed_from(memberships: Iterable[t.ContactMembership]) -> set[int]:
    """The queues the contact overflowed out of (R10: never back): applied there, or moved on."""
    return {m.queue_id for m in memberships if m.overflowed or m.left_why == "moved"}

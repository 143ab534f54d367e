"""Account reads: tenants by slug, users, session and token authentication."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from centralita.accounts.passwords import token_hash
from centralita.store import tables as t


def list_tenants(session: Session) -> list[t.Tenant]:
    return list(session.scalars(select(t.Tenant).order_by(t.Tenant.id)))


def find_login_user(session: Session, username: str, tenant_slug: str | None) -> t.User | None:
    """The user to check a password against; None when unknown or ambiguous across tenants."""
    stmt = select(t.User).where(t.User.username == username, t.User.active.is_(True))
    if tenant_slug is not None:
        stmt = stmt.join(t.Tenant, t.Tenant.id == t.User.tenant_id).where(t.Tenant.slug == tenant_slug)
    users = list(session.scalars(stmt.limit(2)))
    return users[0] if len(users) == 1 else None


def session_user(session: Session, token: str, now: dt.datetime) -> tuple[t.User, t.Session] | None:
    row = session.get(t.Session, token_hash(token))
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    user = session.get(t.User, row.user_id)
    if user is None or not user.active:
        return None
    return user, row


def token_row(session: Session, token: str) -> t.ApiToken | None:
    row = session.scalar(select(t.ApiToken).where(t.ApiToken.token_hash == token_hash(token)))
    if row is None or row.revoked_at is not None:
        return None
    return row


def list_users(session: Session, tenant_id: int) -> list[t.User]:
    return list(session.scalars(select(t.User).where(t.User.tenant_id == tenant_id).order_by(t.User.username)))


def get_user(session: Session, tenant_id: int, user_id: int) -> t.User | None:
    return session.scalar(select(t.User).where(t.User.tenant_id == tenant_id, t.User.id == user_id))


def list_api_tokens(session: Session, tenant_id: int) -> list[t.ApiToken]:
    return list(session.scalars(select(t.ApiToken).where(t.ApiToken.tenant_id == tenant_id).order_by(t.ApiToken.id)))

"""Account reads: tenants by slug, users, session and token authentication."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from centralita.accounts.passwords import token_hash
from centralita.core.actor import ROLES
from centralita.core.errors import Unauthorized
from centralita.core.i18n import _
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


@dataclass(frozen=True)
class TokenAccess:
    """What an API token may do now: its row, its effective role and the agent it acts as."""

    row: t.ApiToken
    role: str
    agent_id: int | None


def lower_role(a: str, b: str) -> str:
    return a if ROLES.index(a) <= ROLES.index(b) else b


def token_access(session: Session, token: str, now: dt.datetime) -> TokenAccess:
    """Authenticate an API token, or raise Unauthorized saying why not.

    A token issued by a user never has more rights than that user has now: its role is the lower of
    its own and the user's current one, and it stops working once the user is deactivated or deleted.
    A token issued by the CLI (no user) keeps its own role.
    """
    row = session.scalar(select(t.ApiToken).where(t.ApiToken.token_hash == token_hash(token)))
    if row is None or row.revoked_at is not None:
        raise Unauthorized(_("invalid or revoked API token"))
    if row.expires_at is not None and row.expires_at <= now:
        raise Unauthorized(
            _("the API token expired on {when}; issue a new one", when=row.expires_at.isoformat(timespec="seconds"))
        )
    if not row.user_bound:
        return TokenAccess(row=row, role=row.role, agent_id=None)
    user = get_user(session, row.tenant_id, row.user_id) if row.user_id is not None else None
    if user is None or not user.active:
        raise Unauthorized(_("the user who issued this API token is deactivated or deleted; the token no longer works"))
    return TokenAccess(row=row, role=lower_role(row.role, user.role), agent_id=user.agent_id)


def list_users(session: Session, tenant_id: int) -> list[t.User]:
    return list(session.scalars(select(t.User).where(t.User.tenant_id == tenant_id).order_by(t.User.username)))


def get_user(session: Session, tenant_id: int, user_id: int) -> t.User | None:
    return session.scalar(select(t.User).where(t.User.tenant_id == tenant_id, t.User.id == user_id))


def list_api_tokens(session: Session, tenant_id: int) -> list[t.ApiToken]:
    return list(session.scalars(select(t.ApiToken).where(t.ApiToken.tenant_id == tenant_id).order_by(t.ApiToken.id)))

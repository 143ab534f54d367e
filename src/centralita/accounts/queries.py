"""Account reads: tenants by slug, users, session and token authentication."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, bindparam, select
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
    """What an API token may do now: the token, its effective role, the agent it acts as, and its tenant's
    country (read in the same statement, for the routes that normalise phone numbers)."""

    token_id: int
    name: str
    tenant_id: int
    user_id: int | None
    last_used_at: dt.datetime | None
    role: str
    agent_id: int | None
    tenant_country: str


def lower_role(a: str, b: str) -> str:
    return a if ROLES.index(a) <= ROLES.index(b) else b


_TOKENS = t.ApiToken.__table__
_USERS = t.User.__table__
_TENANTS = t.Tenant.__table__
# The token, its tenant's country and its user's current role and state, in one statement built once
# (SQLAlchemy caches its compiled form); the user must belong to the token's tenant.
_TOKEN_ACCESS = (
    select(
        _TOKENS.c.id,
        _TOKENS.c.name,
        _TOKENS.c.tenant_id,
        _TOKENS.c.role,
        _TOKENS.c.user_id,
        _TOKENS.c.user_bound,
        _TOKENS.c.expires_at,
        _TOKENS.c.last_used_at,
        _TOKENS.c.revoked_at,
        _TENANTS.c.country,
        _USERS.c.role.label("user_role"),
        _USERS.c.active.label("user_active"),
        _USERS.c.agent_id.label("user_agent_id"),
    )
    .select_from(
        _TOKENS.join(_TENANTS, _TENANTS.c.id == _TOKENS.c.tenant_id).outerjoin(
            _USERS, and_(_USERS.c.id == _TOKENS.c.user_id, _USERS.c.tenant_id == _TOKENS.c.tenant_id)
        )
    )
    .where(_TOKENS.c.token_hash == bindparam("token_hash"))
)


def token_access(session: Session, token: str, now: dt.datetime) -> TokenAccess:
    """Authenticate an API token, or raise Unauthorized saying why not. Reads the database every time.

    A token issued by a user never has more rights than that user has now: its role is the lower of
    its own and the user's current one, and it stops working once the user is deactivated or deleted.
    A token issued by the CLI (no user) keeps its own role.
    """
    row = session.execute(_TOKEN_ACCESS, {"token_hash": token_hash(token)}).first()
    if row is None or row.revoked_at is not None:
        raise Unauthorized(_("invalid or revoked API token"))
    expires_at = row.expires_at
    if expires_at is not None and expires_at <= now:
        raise Unauthorized(
            _("the API token expired on {when}; issue a new one", when=expires_at.isoformat(timespec="seconds"))
        )
    role, agent_id = row.role, None
    if row.user_bound:
        if row.user_id is None or row.user_role is None or not row.user_active:
            raise Unauthorized(
                _("the user who issued this API token is deactivated or deleted; the token no longer works")
            )
        role, agent_id = lower_role(row.role, row.user_role), row.user_agent_id
    return TokenAccess(
        token_id=row.id,
        name=row.name,
        tenant_id=row.tenant_id,
        user_id=row.user_id,
        last_used_at=row.last_used_at,
        role=role,
        agent_id=agent_id,
        tenant_country=row.country,
    )


_TENANT_COUNTRY = select(_TENANTS.c.country).where(_TENANTS.c.id == bindparam("tenant_id"))


def tenant_country(session: Session, tenant_id: int) -> str:
    country: str = session.execute(_TENANT_COUNTRY, {"tenant_id": tenant_id}).scalar_one()
    return country


def list_users(session: Session, tenant_id: int) -> list[t.User]:
    return list(session.scalars(select(t.User).where(t.User.tenant_id == tenant_id).order_by(t.User.username)))


def get_user(session: Session, tenant_id: int, user_id: int) -> t.User | None:
    return session.scalar(select(t.User).where(t.User.tenant_id == tenant_id, t.User.id == user_id))


def list_api_tokens(session: Session, tenant_id: int) -> list[t.ApiToken]:
    return list(session.scalars(select(t.ApiToken).where(t.ApiToken.tenant_id == tenant_id).order_by(t.ApiToken.id)))

"""Account actions: the only writers of tenants, users, sessions and API tokens."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from pydantic import MISSING
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from centralita.access import supervisor_only_customer_fields
from centralita.accounts.passwords import hash_password, new_token, token_hash
from centralita.accounts.schemas import (
    ApiTokenCreate,
    TenantCreate,
    TenantSettingsPublic,
    TenantSettingsUpdate,
    UserCreate,
    UserUpdate,
)
from centralita.core.actor import Actor
from centralita.core.clock import Clock
from centralita.core.diff import apply_changes
from centralita.core.errors import Conflict, InvalidInput, NotFound
from centralita.core.i18n import _
from centralita.core.metrics_settings import metrics_settings
from centralita.events.log import append_event
from centralita.store import tables as t

__all__ = ["do_create_tenant", "do_create_user", "do_update_tenant_settings"]

SESSION_DAYS = 7
DEFAULT_SETTINGS = {
    "segments": ["particulares", "premium", "empresas"],
    "value_tiers": ["bajo", "medio", "alto", "muy_alto"],
}
LIFECYCLE_STAGES = ("prospect", "new", "active", "at_risk", "lapsed")


def do_create_tenant(session: Session, data: TenantCreate, clock: Clock) -> t.Tenant:
    if session.scalar(select(t.Tenant.id).where(t.Tenant.slug == data.slug)) is not None:
        raise Conflict(_("contact center {slug!r} already exists", slug=data.slug), [])
    now = clock.now()
    tenant = t.Tenant(**data.model_dump(), created_at=now, event_seq=0, settings=dict(DEFAULT_SETTINGS))
    session.add(tenant)
    session.flush()
    append_event(
        session,
        tenant.id,
        "tenant.created",
        now,
        {"slug": tenant.slug, "name": tenant.name, "timezone": tenant.timezone},
    )
    return tenant


def do_create_user(session: Session, actor: Actor, data: UserCreate) -> t.User:
    exists = session.scalar(
        select(t.User.id).where(t.User.tenant_id == actor.tenant_id, t.User.username == data.username)
    )
    if exists is not None:
        raise Conflict(_("user {username!r} already exists", username=data.username))
    agent_id = None
    if data.agent is not None:
        agent_id = session.scalar(
            select(t.Agent.id).where(t.Agent.tenant_id == actor.tenant_id, t.Agent.code == data.agent)
        )
        if agent_id is None:
            raise InvalidInput.field("agent", _("no agent with code {code!r}", code=data.agent))
    elif data.role == "agent":
        raise InvalidInput.field("agent", _("a user with role agent must name their agent"))
    now = actor.now()
    user = t.User(
        tenant_id=actor.tenant_id,
        username=data.username,
        display_name=data.display_name or data.username,
        password_hash=hash_password(data.password),
        role=data.role,
        agent_id=agent_id,
        language=data.language,
        active=True,
        created_at=now,
    )
    session.add(user)
    session.flush()
    append_event(
        session,
        actor.tenant_id,
        "user.created",
        now,
        {"username": user.username, "role": user.role},
        user_id=actor.user_id,
        agent_id=agent_id,
    )
    return user


def do_update_user(session: Session, actor: Actor, user: t.User, data: UserUpdate) -> t.User:
    values = data.model_dump(exclude_unset=True, exclude={"password"})
    changes = apply_changes(user, values)
    if data.password is not MISSING:
        user.password_hash = hash_password(data.password)
        changes["password"] = ["***", "***"]
        # a new password ends every open session of that user
        for s in session.scalars(select(t.Session).where(t.Session.user_id == user.id, t.Session.revoked_at.is_(None))):
            s.revoked_at = actor.now()
    if not changes:
        return user
    if "active" in changes and not user.active:
        for s in session.scalars(select(t.Session).where(t.Session.user_id == user.id, t.Session.revoked_at.is_(None))):
            s.revoked_at = actor.now()
    append_event(
        session,
        actor.tenant_id,
        "user.updated",
        actor.now(),
        {"username": user.username, "changes": changes},
        user_id=actor.user_id,
    )
    return user


def do_login(session: Session, user: t.User, now: dt.datetime) -> tuple[str, t.Session]:
    """Open a browser session; returns the cookie token (only its hash is stored) and the row."""
    token = new_token("cs")
    row = t.Session(
        id=token_hash(token),
        user_id=user.id,
        tenant_id=user.tenant_id,
        csrf_token=secrets.token_urlsafe(24),
        created_at=now,
        expires_at=now + dt.timedelta(days=SESSION_DAYS),
    )
    session.add(row)
    append_event(
        session,
        user.tenant_id,
        "user.logged_in",
        now,
        {"username": user.username, "via": "password"},
        user_id=user.id,
    )
    return token, row


def do_logout(session: Session, user: t.User, row: t.Session, now: dt.datetime) -> None:
    row.revoked_at = now
    append_event(session, user.tenant_id, "user.logged_out", now, {"username": user.username}, user_id=user.id)


def do_create_api_token(session: Session, actor: Actor, data: ApiTokenCreate) -> tuple[str, t.ApiToken]:
    """Issue a token. Issued by a user (`actor.user_id`), it is bound to that user: it acts with at most
    the user's role at each use and stops when the user is deactivated. The CLI's tokens are unbound."""
    if not actor.at_least(data.role):
        raise InvalidInput.field("role", _("cannot issue a token with more rights than your own"))
    now = actor.now()
    expires_at = data.expires_at
    if expires_at is not None and data.expires_in_days is not None:
        raise InvalidInput.field("expires_in_days", _("give expires_at or expires_in_days, not both"))
    if data.expires_in_days is not None:
        expires_at = now + dt.timedelta(days=data.expires_in_days)
    if expires_at is not None and expires_at <= now:
        raise InvalidInput.field("expires_at", _("must be in the future"))
    token = new_token("ctk")
    row = t.ApiToken(
        tenant_id=actor.tenant_id,
        name=data.name,
        token_hash=token_hash(token),
        role=data.role,
        user_id=actor.user_id,
        user_bound=actor.user_id is not None,
        created_at=now,
        expires_at=expires_at,
    )
    session.add(row)
    session.flush()
    append_event(
        session,
        actor.tenant_id,
        "api_token.created",
        now,
        {"name": row.name, "role": row.role, "expires_at": expires_at.isoformat() if expires_at else None},
        user_id=actor.user_id,
    )
    return token, row


TOKEN_TOUCH_S = 60  # last_used_at is written at most once a minute per token


def record_token_use(session: Session, token_id: int, now: dt.datetime) -> bool:
    """Set the token's `last_used_at` to `now` unless it was set less than TOKEN_TOUCH_S ago.

    The one account write without an event, on purpose: it is bookkeeping about a read, and an event per
    token per minute would flood the log and every supervisor's WebSocket. One conditional UPDATE, so
    concurrent requests with the same token write it once. True when this call wrote it.
    """
    stale = now - dt.timedelta(seconds=TOKEN_TOUCH_S)
    result = session.execute(
        update(t.ApiToken)
        .where(t.ApiToken.id == token_id, or_(t.ApiToken.last_used_at.is_(None), t.ApiToken.last_used_at <= stale))
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


def do_revoke_api_token(session: Session, actor: Actor, token_id: int) -> t.ApiToken:
    row = session.scalar(select(t.ApiToken).where(t.ApiToken.tenant_id == actor.tenant_id, t.ApiToken.id == token_id))
    if row is None:
        raise NotFound(_("no API token {id}", id=token_id))
    if row.revoked_at is None:
        row.revoked_at = actor.now()
        append_event(
            session,
            actor.tenant_id,
            "api_token.revoked",
            actor.now(),
            {"name": row.name},
            user_id=actor.user_id,
        )
    return row


def tenant_settings(tenant: t.Tenant) -> TenantSettingsPublic:
    settings = tenant.settings or {}
    return TenantSettingsPublic(
        segments=list(settings.get("segments") or []),
        value_tiers=list(settings.get("value_tiers") or []),
        supervisor_only_customer_fields=sorted(supervisor_only_customer_fields(settings)),
        metrics=metrics_settings(settings),
    )


def do_update_tenant_settings(session: Session, actor: Actor, data: TenantSettingsUpdate) -> t.Tenant:
    """Change the contact center's settings (a `tenant.updated` event with what changed)."""
    tenant = session.get_one(t.Tenant, actor.tenant_id, with_for_update=True)
    settings = dict(tenant.settings or {})
    changes: dict[str, Any] = {}
    if data.supervisor_only_customer_fields is not None:
        new = sorted(set(data.supervisor_only_customer_fields))
        old = sorted(supervisor_only_customer_fields(settings))
        if new != old:
            settings["supervisor_only_customer_fields"] = new
            changes["supervisor_only_customer_fields"] = [old, new]
    if data.metrics is not None:
        new_metrics = data.metrics.model_dump(mode="json", exclude_defaults=True)
        old_metrics = settings.get("metrics") or {}
        if new_metrics != old_metrics:
            settings["metrics"] = new_metrics
            changes["metrics"] = [old_metrics, new_metrics]
    if changes:
        tenant.settings = settings
        append_event(
            session, actor.tenant_id, "tenant.updated", actor.now(), {"changes": changes}, user_id=actor.user_id
        )
    return tenant

"""Account actions: the only writers of tenants, users, sessions and API tokens."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from pydantic import MISSING
from sqlalchemy import select
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
from centralita.events.log import append_event
from centralita.store import tables as t

__all__ = ["do_create_tenant", "do_create_user"]

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
    if not actor.at_least(data.role):
        raise InvalidInput.field("role", _("cannot issue a token with more rights than your own"))
    token = new_token("ctk")
    row = t.ApiToken(
        tenant_id=actor.tenant_id,
        name=data.name,
        token_hash=token_hash(token),
        role=data.role,
        user_id=actor.user_id,
        created_at=actor.now(),
    )
    session.add(row)
    session.flush()
    append_event(
        session,
        actor.tenant_id,
        "api_token.created",
        actor.now(),
        {"name": row.name, "role": row.role},
        user_id=actor.user_id,
    )
    return token, row


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
    if changes:
        tenant.settings = settings
        append_event(
            session, actor.tenant_id, "tenant.updated", actor.now(), {"changes": changes}, user_id=actor.user_id
        )
    return tenant

"""Login, logout, the current user, users and API tokens."""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from centralita.accounts import actions, queries
from centralita.accounts.passwords import burn_verification_time, verify_password
from centralita.accounts.schemas import (
    ApiTokenCreate,
    ApiTokenIssued,
    ApiTokenPublic,
    LoginRequest,
    TenantPublic,
    TenantSettingsPublic,
    TenantSettingsUpdate,
    UserCreate,
    UserPublic,
    UserUpdate,
)
from centralita.api.auth import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    AdminActor,
    AgentActor,
    ServiceDep,
    SupervisorActor,
    public,
)
from centralita.api.openapi import problem_response
from centralita.core.errors import NotFound, Unauthorized
from centralita.core.i18n import _
from centralita.service import Service
from centralita.store.tables import Tenant, User

router = APIRouter(tags=["accounts"])


class LoginResult(BaseModel):
    user: UserPublic
    tenant: TenantPublic
    csrf_token: str


class Me(BaseModel):
    user: UserPublic | None
    role: str
    tenant: TenantPublic


# Password checks run on their own few threads: a burst of logins queues here instead of taking the
# threads every other request needs (argon2id with RFC 9106 parameters costs 64 MiB and tens of ms each).
_HASHING = ThreadPoolExecutor(max_workers=max(2, min(4, os.cpu_count() or 2)), thread_name_prefix="centralita-login")


def _check_password(svc: Service, body: LoginRequest) -> int | None:
    """The id of the user these credentials log in, else None; the hash is checked outside any transaction."""
    with svc.db.read() as s:
        user = queries.find_login_user(s, body.username, body.tenant)
        user_id, stored = (user.id, user.password_hash) if user is not None else (None, None)
    if stored is None:
        burn_verification_time(body.password)  # unknown users cost the same time (no enumeration)
        return None
    return user_id if verify_password(stored, body.password) else None


def _open_session(svc: Service, user_id: int) -> tuple[str, LoginResult] | None:
    with svc.db.write() as s:
        user = s.get(User, user_id)
        if user is None or not user.active:  # deactivated while its password was being checked
            return None
        token, row = actions.do_login(s, user, svc.clock.now())
        tenant = s.get_one(Tenant, user.tenant_id)
        result = LoginResult(
            user=UserPublic.model_validate(user), tenant=TenantPublic.model_validate(tenant), csrf_token=row.csrf_token
        )
        return token, result


@router.post(
    "/auth/login",
    dependencies=[Depends(public())],
    responses={401: problem_response("Wrong username or password"), 429: problem_response("Too many login attempts")},
)
async def login(body: LoginRequest, request: Request, response: Response, svc: ServiceDep) -> LoginResult:
    limiter = request.app.state.login_limiter
    client = request.client.host if request.client else "unknown"  # the proxy's client only when trusted
    await run_in_threadpool(limiter.reserve, client, body.username)  # counted before the hash is checked
    user_id = await asyncio.get_running_loop().run_in_executor(_HASHING, _check_password, svc, body)
    opened = await run_in_threadpool(_open_session, svc, user_id) if user_id is not None else None
    if opened is None:
        raise Unauthorized(_("wrong username or password"))
    await run_in_threadpool(limiter.give_back, client, body.username)  # only failures count
    token, result = opened
    secure = request.url.scheme == "https"
    max_age = actions.SESSION_DAYS * 86400
    response.set_cookie(SESSION_COOKIE, token, max_age=max_age, httponly=True, samesite="lax", secure=secure, path="/")
    response.set_cookie(
        CSRF_COOKIE, result.csrf_token, max_age=max_age, httponly=False, samesite="lax", secure=secure, path="/"
    )
    return result


@router.post("/auth/logout", status_code=204)
def logout(request: Request, response: Response, actor: AgentActor, svc: ServiceDep) -> None:
    row = getattr(request.state, "session_row", None)
    if row is not None:
        with svc.db.write() as s:
            user = queries.get_user(s, actor.tenant_id, actor.user_id or 0)
            session_row = s.merge(row)
            if user is not None:
                actions.do_logout(s, user, session_row, svc.clock.now())
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")


@router.get("/auth/me")
def me(actor: AgentActor, svc: ServiceDep) -> Me:
    with svc.db.read() as s:
        user = queries.get_user(s, actor.tenant_id, actor.user_id) if actor.user_id else None
        tenant = s.get_one(Tenant, actor.tenant_id)
        return Me(
            user=UserPublic.model_validate(user) if user else None,
            role=actor.role,
            tenant=TenantPublic.model_validate(tenant),
        )


@router.get("/users")
def list_users(actor: AdminActor, svc: ServiceDep) -> list[UserPublic]:
    with svc.db.read() as s:
        return [UserPublic.model_validate(u) for u in queries.list_users(s, actor.tenant_id)]


@router.post("/users", status_code=201)
def create_user(body: UserCreate, actor: AdminActor, svc: ServiceDep) -> UserPublic:
    with svc.db.write() as s:
        return UserPublic.model_validate(actions.do_create_user(s, actor, body))


@router.patch("/users/{user_id}")
def update_user(user_id: int, body: UserUpdate, actor: AdminActor, svc: ServiceDep) -> UserPublic:
    with svc.db.write() as s:
        user = queries.get_user(s, actor.tenant_id, user_id)
        if user is None:
            raise NotFound(_("no user {id}", id=user_id))
        return UserPublic.model_validate(actions.do_update_user(s, actor, user, body))


@router.get("/tokens")
def list_tokens(actor: AdminActor, svc: ServiceDep) -> list[ApiTokenPublic]:
    with svc.db.read() as s:
        return [ApiTokenPublic.model_validate(r) for r in queries.list_api_tokens(s, actor.tenant_id)]


@router.post("/tokens", status_code=201)
def create_token(body: ApiTokenCreate, actor: AdminActor, svc: ServiceDep) -> ApiTokenIssued:
    with svc.db.write() as s:
        token, row = actions.do_create_api_token(s, actor, body)
        return ApiTokenIssued(token=token, **ApiTokenPublic.model_validate(row).model_dump())


@router.delete("/tokens/{token_id}")
def revoke_token(token_id: int, actor: AdminActor, svc: ServiceDep) -> ApiTokenPublic:
    with svc.db.write() as s:
        return ApiTokenPublic.model_validate(actions.do_revoke_api_token(s, actor, token_id))


@router.get("/tenant/settings")
def get_tenant_settings(actor: SupervisorActor, svc: ServiceDep) -> TenantSettingsPublic:
    """The contact center's settings: segments, value tiers, the customer fields reserved to supervisors."""
    with svc.db.read() as s:
        return actions.tenant_settings(s.get_one(Tenant, actor.tenant_id))


@router.patch("/tenant/settings")
def update_tenant_settings(body: TenantSettingsUpdate, actor: AdminActor, svc: ServiceDep) -> TenantSettingsPublic:
    with svc.db.write() as s:
        return actions.tenant_settings(actions.do_update_tenant_settings(s, actor, body))

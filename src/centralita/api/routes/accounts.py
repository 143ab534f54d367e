"""Login, logout, the current user, users and API tokens."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel

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
from centralita.store.tables import Tenant

router = APIRouter(tags=["accounts"])


class LoginResult(BaseModel):
    user: UserPublic
    tenant: TenantPublic
    csrf_token: str


class Me(BaseModel):
    user: UserPublic | None
    role: str
    tenant: TenantPublic


@router.post(
    "/auth/login",
    dependencies=[Depends(public())],
    responses={401: problem_response("Wrong username or password"), 429: problem_response("Too many login attempts")},
)
def login(body: LoginRequest, request: Request, response: Response, svc: ServiceDep) -> LoginResult:
    limiter = request.app.state.login_limiter
    client = request.client.host if request.client else "unknown"
    limiter.check(client, body.username)
    with svc.db.write() as s:
        user = queries.find_login_user(s, body.username, body.tenant)
        if user is None:
            burn_verification_time(body.password)
        if user is None or not verify_password(user.password_hash, body.password):
            limiter.failed(client, body.username)
            raise Unauthorized(_("wrong username or password"))
        token, row = actions.do_login(s, user, svc.clock.now())
        tenant = s.get_one(Tenant, user.tenant_id)
        result = LoginResult(
            user=UserPublic.model_validate(user), tenant=TenantPublic.model_validate(tenant), csrf_token=row.csrf_token
        )
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

"""`centralita tenant …`, `centralita user …`, `centralita token …`: contact centers and access."""

from __future__ import annotations

import getpass
from typing import Annotated

import typer
from pydantic import ValidationError

from centralita.accounts import actions, queries
from centralita.accounts.schemas import (
    ApiTokenCreate,
    ApiTokenPublic,
    TenantCreate,
    TenantPublic,
    UserCreate,
    UserPublic,
)
from centralita.cli._common import (
    JsonOption,
    TenantOption,
    cli_actor,
    console,
    ctx_obj,
    emit,
    fail_on_error,
    resolve_tenant,
)
from centralita.core.errors import InvalidInput, field_message
from centralita.core.i18n import _


def register(app: typer.Typer) -> None:
    tenant = typer.Typer(help=_("Contact centers (tenants)."), no_args_is_help=True)
    tenant.command("create", help=_("Create a contact center."))(tenant_create)
    tenant.command("list", help=_("List contact centers."))(tenant_list)
    app.add_typer(tenant, name="tenant")
    user = typer.Typer(help=_("Users and roles (admin, supervisor, agent)."), no_args_is_help=True)
    user.command("create", help=_("Create a user; asks for the password when not given."))(user_create)
    user.command("list", help=_("List users."))(user_list)
    app.add_typer(user, name="user")
    token = typer.Typer(help=_("API tokens for integrations."), no_args_is_help=True)
    token.command("create", help=_("Issue an API token (printed once)."))(token_create)
    token.command("list", help=_("List API tokens: role, owner, expiry, last use."))(token_list)
    app.add_typer(token, name="token")


def validated(model: type, **values: object) -> object:
    """Build a schema from CLI values; a bad value is reported as --<option>."""
    try:
        return model(**values)
    except ValidationError as exc:
        errors = []
        for err in exc.errors():
            name = "--" + str(err["loc"][0]).replace("_", "-") if err.get("loc") else "value"
            errors.append((name, field_message(err)))
        raise InvalidInput("; ".join(f"{n}: {m}" for n, m in errors)) from None


def tenant_create(
    ctx: typer.Context,
    slug: Annotated[str, typer.Argument(help=_("Short id, e.g. banco-norte"))],
    name: Annotated[str, typer.Option(help=_("Display name"))],
    timezone: Annotated[str, typer.Option(help=_("IANA time zone"))] = "Europe/Madrid",
    language: Annotated[str, typer.Option(help=_("es or en"))] = "es",
    country: Annotated[str, typer.Option(help=_("Country for national phone numbers (ISO 3166)"))] = "ES",
) -> None:
    with ctx_obj(ctx).service() as svc, fail_on_error():
        data = validated(TenantCreate, slug=slug, name=name, timezone=timezone, language=language, country=country)
        with svc.db.write() as s:
            row = actions.do_create_tenant(s, data, svc.clock)  # type: ignore[arg-type]
        console.print(_("Created contact center {slug}", slug=row.slug))


def tenant_list(ctx: typer.Context, as_json: bool = JsonOption) -> None:
    with ctx_obj(ctx).service() as svc, svc.db.read() as s:
        rows = [TenantPublic.model_validate(r) for r in queries.list_tenants(s)]
    emit(rows, as_json, ["slug", "name", "timezone", "language", "country"])


def user_create(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument()],
    role: Annotated[str, typer.Option(help="admin | supervisor | agent")],
    password: Annotated[str | None, typer.Option(help=_("Password (asked when omitted)"))] = None,
    agent: Annotated[str | None, typer.Option(help=_("Agent code, for role agent"))] = None,
    display_name: Annotated[str, typer.Option()] = "",
    tenant: str | None = TenantOption,
) -> None:
    if password is None:
        password = getpass.getpass(_("Password: "))
    with ctx_obj(ctx).service() as svc, fail_on_error():
        row_tenant = resolve_tenant(svc, tenant)
        data = validated(
            UserCreate, username=username, role=role, password=password, agent=agent, display_name=display_name
        )
        with svc.db.write() as s:
            user = actions.do_create_user(s, cli_actor(svc, row_tenant), data)  # type: ignore[arg-type]
        console.print(_("Created user {username} ({role})", username=user.username, role=user.role))


def user_list(ctx: typer.Context, as_json: bool = JsonOption, tenant: str | None = TenantOption) -> None:
    with ctx_obj(ctx).service() as svc:
        row_tenant = resolve_tenant(svc, tenant)
        with svc.db.read() as s:
            rows = [UserPublic.model_validate(u) for u in queries.list_users(s, row_tenant.id)]
    emit(rows, as_json, ["id", "username", "display_name", "role", "agent_id", "active"], kinds={"role": "role"})


def token_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument()],
    role: Annotated[str, typer.Option(help="admin | supervisor | agent")],
    expires_in_days: Annotated[
        int | None, typer.Option(help=_("Days until the token stops working (default: it does not expire)"))
    ] = None,
    tenant: str | None = TenantOption,
) -> None:
    with ctx_obj(ctx).service() as svc, fail_on_error():
        row_tenant = resolve_tenant(svc, tenant)
        data = validated(ApiTokenCreate, name=name, role=role, expires_in_days=expires_in_days)
        with svc.db.write() as s:
            token, _row = actions.do_create_api_token(s, cli_actor(svc, row_tenant), data)  # type: ignore[arg-type]
        console.print(token, soft_wrap=True)


def token_list(ctx: typer.Context, as_json: bool = JsonOption, tenant: str | None = TenantOption) -> None:
    with ctx_obj(ctx).service() as svc:
        row_tenant = resolve_tenant(svc, tenant)
        with svc.db.read() as s:
            rows = [ApiTokenPublic.model_validate(r) for r in queries.list_api_tokens(s, row_tenant.id)]
    emit(rows, as_json, ["id", "name", "role", "user_id", "created_at", "expires_at", "last_used_at", "revoked_at"])

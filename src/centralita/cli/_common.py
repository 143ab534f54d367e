"""Shared CLI plumbing: settings and service from the global options, JSON or table output, errors."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from centralita.core import i18n
from centralita.core.actor import Actor
from centralita.core.errors import CentralitaError
from centralita.core.i18n import _
from centralita.core.settings import Settings, load_settings
from centralita.service import Service
from centralita.store import tables as t

console = Console()
err_console = Console(stderr=True)

JsonOption = typer.Option(False, "--json", help=_("Print JSON instead of a table"))
TenantOption = typer.Option(None, "--tenant", help=_("Contact center slug (default: the only one, else 'demo')"))


@dataclass
class Context:
    options: dict[str, Any]
    _settings: Settings | None = field(default=None)

    def settings(self) -> Settings:
        if self._settings is None:
            with fail_on_error():
                self._settings = load_settings(self.options)
            i18n.set_language(self._settings.language)  # --lang, else CENTRALITA_LANGUAGE, else the config file
        return self._settings

    @contextmanager
    def service(self, upgrade: bool = True) -> Iterator[Service]:
        with fail_on_error():
            svc = Service.start(self.settings(), upgrade=upgrade)
        try:
            yield svc
        finally:
            svc.close()


def ctx_obj(ctx: typer.Context) -> Context:
    obj: Context = ctx.obj
    return obj


@contextmanager
def fail_on_error() -> Iterator[None]:
    """Turn domain errors into a clear message on stderr and exit code 2 (nothing was changed)."""
    try:
        yield
    except CentralitaError as exc:
        err_console.print(f"[bold red]{_('error')}:[/] {exc.detail}", highlight=False, markup=True)
        for e in exc.errors:
            err_console.print(f"  - {e}", highlight=False, markup=False)
        raise typer.Exit(2) from None


def resolve_tenant(svc: Service, slug: str | None) -> t.Tenant:
    with svc.db.read() as s:
        if slug is not None:
            tenant = s.scalar(select(t.Tenant).where(t.Tenant.slug == slug))
            if tenant is None:
                err_console.print(f"[bold red]{_('error')}:[/] --tenant: " + _("no contact center {slug!r}", slug=slug))
                raise typer.Exit(2)
            return tenant
        tenants = list(s.scalars(select(t.Tenant).order_by(t.Tenant.id)))
        if len(tenants) == 1:
            return tenants[0]
        for tenant in tenants:
            if tenant.slug == "demo":
                return tenant
        if not tenants:
            err_console.print(
                f"[bold red]{_('error')}:[/] "
                + _("no contact center yet: run `centralita demo` or `centralita tenant create`")
            )
        else:
            err_console.print(f"[bold red]{_('error')}:[/] " + _("several contact centers: choose one with --tenant"))
        raise typer.Exit(2)


def cli_actor(svc: Service, tenant: t.Tenant) -> Actor:
    return Actor(tenant_id=tenant.id, role="admin", username="cli", clock=svc.clock)


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return value


def emit(rows: Sequence[Any] | Any, as_json: bool, columns: Sequence[str] = (), title: str | None = None) -> None:
    """Print rows (models or dicts) as JSON, or a Rich table of `columns`."""
    if as_json:
        data = [_plain(r) for r in rows] if isinstance(rows, list) else _plain(rows)
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")
        return
    items = [_plain(r) for r in (rows if isinstance(rows, list) else [rows])]
    table = Table(title=title, show_lines=False)
    cols = list(columns) or (list(items[0].keys()) if items else [])
    for col in cols:
        table.add_column(column_label(col))
    for item in items:
        table.add_row(*["—" if item.get(c) is None else _cell(item.get(c)) for c in cols])
    console.print(table)


def column_label(name: str) -> str:
    """A column's header in the current language (field names stay the keys of --json output)."""
    labels = {
        "active": _("active"),
        "agent_id": _("agent_id"),
        "agents": _("agents"),
        "avoidable": _("avoidable"),
        "capacity": _("capacity"),
        "cases": _("cases"),
        "channel": _("channel"),
        "channels": _("channels"),
        "code": _("code"),
        "contact_id": _("contact_id"),
        "contacts": _("contacts"),
        "country": _("country"),
        "created_at": _("created_at"),
        "customer_id": _("customer_id"),
        "customers": _("customers"),
        "data": _("data"),
        "database": _("database"),
        "direction": _("direction"),
        "display_name": _("display_name"),
        "disposition": _("disposition"),
        "events": _("events"),
        "expires_at": _("expires_at"),
        "external_id": _("external_id"),
        "group": _("group"),
        "head": _("head"),
        "hours": _("hours"),
        "id": _("id"),
        "identities": _("identities"),
        "initiation_ts": _("initiation_ts"),
        "kind": _("kind"),
        "agent_selection": _("agent_selection"),
        "overflow": _("overflow"),
        "language": _("language"),
        "last_used_at": _("last_used_at"),
        "languages": _("languages"),
        "lifecycle_stage": _("lifecycle_stage"),
        "lifetime_value": _("lifetime_value"),
        "name": _("name"),
        "name_en": _("name_en"),
        "name_es": _("name_es"),
        "now": _("now"),
        "parent": _("parent"),
        "password": _("password"),
        "queues": _("queues"),
        "reasons": _("reasons"),
        "reference": _("reference"),
        "required_skills": _("required_skills"),
        "revoked_at": _("revoked_at"),
        "revision": _("revision"),
        "role": _("role"),
        "segment": _("segment"),
        "segment_priority": _("segment_priority"),
        "seq": _("seq"),
        "skills": _("skills"),
        "sl_target": _("sl_target"),
        "slug": _("slug"),
        "state": _("state"),
        "status": _("status"),
        "subject": _("subject"),
        "tenant": _("tenant"),
        "tenants": _("tenants"),
        "timezone": _("timezone"),
        "ts": _("ts"),
        "type": _("type"),
        "up_to_date": _("up_to_date"),
        "user_id": _("user_id"),
        "username": _("username"),
        "value_tier": _("value_tier"),
    }
    return labels.get(name, name)


def _cell(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}:{v}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_cell(v) for v in value)
    return str(value)

"""Shared CLI plumbing: settings and service from the global options, JSON or table output, errors."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import typer
from pydantic import BaseModel
from rich.console import Console
from sqlalchemy import select

from centralita.cli import tables
from centralita.cli.labels import Kind, label, yes_no
from centralita.cli.tables import Col
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


def read_file_argument(path: Path, max_bytes: int | None = None) -> str:
    """A file named on the command line, as UTF-8 text; exit 2 with the reason when it cannot be read (or
    is over `max_bytes`)."""
    try:
        if max_bytes is not None and path.stat().st_size > max_bytes:
            raise ValueError(_("larger than {size} bytes", size=max_bytes))
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        typer.echo(f"{_('error')}: {path}: {exc}", err=True)
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


def print_json(data: Any) -> None:
    """Models, dicts or lists of them as JSON on stdout: field names and codes as they are, untranslated."""
    plain = [_plain(r) for r in data] if isinstance(data, list) else _plain(data)
    sys.stdout.write(json.dumps(plain, ensure_ascii=False, indent=2, default=str) + "\n")


def print_table(
    columns: Sequence[Col], rows: Sequence[Mapping[str, str | None]], title: str | None = None, note: str | None = None
) -> None:
    """Rows of display text (see cli/tables.py) as a table as wide as the terminal."""
    if not rows:
        console.print(f"{title}: {_('none')}" if title else _("Nothing to show."), highlight=False)
        return
    console.print(tables.render(columns, rows, console.width, title=title, note=note))


def print_record(pairs: Sequence[tuple[str, str | None]], title: str | None = None, note: str | None = None) -> None:
    """One item as `label  value` lines."""
    console.print(tables.render_record(pairs, console.width, title=title, note=note))


def emit(
    rows: Sequence[Any] | Any,
    as_json: bool,
    columns: Sequence[str] = (),
    title: str | None = None,
    kinds: Mapping[str, Kind] | None = None,
) -> None:
    """Print rows (models or dicts) as JSON, or a table of `columns` (field names) with their values as text;
    the fields named in `kinds` hold codes of that kind, shown by their label."""
    if as_json:
        print_json(rows)
        return
    if not isinstance(rows, list):  # one item: `label  value` lines
        item = _plain(rows)
        keys = list(columns) or list(item)
        print_record([(column_label(k), v) for k, v in cells(item, keys, kinds).items()], title)
        return
    items = [_plain(r) for r in rows]
    keys = list(columns) or (list(items[0].keys()) if items else [])
    cols = [Col(k, column_label(k), wrap=k not in _UNBROKEN, right=_numeric(items, k)) for k in keys]
    print_table(cols, [cells(i, keys, kinds) for i in items], title)


def _numeric(items: Sequence[Mapping[str, Any]], key: str) -> bool:
    """Whether a column holds only numbers (right-aligned)."""
    values = [i.get(key) for i in items if i.get(key) is not None]
    return bool(values) and all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)


_UNBROKEN = frozenset({"id", "code", "slug", "username", "password", "seq", "reference"})


def cells(
    item: Mapping[str, Any], keys: Sequence[str], kinds: Mapping[str, Kind] | None = None
) -> dict[str, str | None]:
    """The display text of `item`'s `keys`: None stays None (shown as —), codes of `kinds` by their label, the
    rest through `cell`."""
    out: dict[str, str | None] = {}
    for k in keys:
        value = item.get(k)
        if value is None:
            out[k] = None
        elif kinds and k in kinds:
            out[k] = label(kinds[k], str(value))
        else:
            out[k] = cell(value)
    return out


def column_label(name: str) -> str:
    """A column's header in the current language (field names stay the keys of --json output)."""
    labels = {
        "about": _("about"),
        "active": _("active"),
        "agent": _("agent"),
        "agent_id": _("agent"),
        "agents": _("agents"),
        "attributes": _("attributes"),
        "avoidable": _("avoidable"),
        "capacity": _("capacity"),
        "cases": _("cases"),
        "channel": _("channel"),
        "channels": _("channels"),
        "code": _("code"),
        "contact_id": _("contact"),
        "contacts": _("contacts"),
        "country": _("country"),
        "created_at": _("created at"),
        "customer_id": _("customer"),
        "customers": _("customers"),
        "data": _("data"),
        "database": _("database"),
        "direction": _("direction"),
        "display_name": _("display name"),
        "disposition": _("disposition"),
        "events": _("events"),
        "expires_at": _("expires"),
        "external_id": _("external id"),
        "group": _("group"),
        "head": _("head"),
        "hours": _("hours"),
        "id": _("id"),
        "identities": _("identities"),
        "initiation_ts": _("started"),
        "kind": _("kind"),
        "agent_selection": _("agent selection"),
        "overflow": _("overflow"),
        "language": _("language"),
        "last_used_at": _("last_used_at"),
        "languages": _("languages"),
        "lifecycle_stage": _("lifecycle stage"),
        "lifetime_value": _("lifetime value"),
        "name": _("name"),
        "name_en": _("name (English)"),
        "name_es": _("name (Spanish)"),
        "now": _("now"),
        "parent": _("parent"),
        "password": _("password"),
        "priority_mode": _("priority mode"),
        "queue": _("queue"),
        "queues": _("queues"),
        "reasons": _("reasons"),
        "reference": _("reference"),
        "required_skills": _("required skills"),
        "revoked_at": _("revoked"),
        "revision": _("revision"),
        "role": _("role"),
        "segment": _("segment"),
        "segment_priority": _("segment priority"),
        "seq": _("seq"),
        "skills": _("skills"),
        "sl_target": _("SL target"),
        "slug": _("slug"),
        "state": _("state"),
        "status": _("status"),
        "subject": _("subject"),
        "tenant": _("tenant"),
        "tenants": _("tenants"),
        "timezone": _("timezone"),
        "ts": _("time"),
        "type": _("type"),
        "up_to_date": _("up to date"),
        "user_id": _("user"),
        "username": _("username"),
        "users": _("users"),
        "value_tier": _("value tier"),
    }
    return labels.get(name, name)


def cell(value: Any) -> str:
    """A value as table text: yes/no for booleans, `key: value` for mappings, lists joined by commas."""
    if isinstance(value, bool):
        return yes_no(value) or ""
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {cell(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(cell(v) for v in value)
    return str(value)

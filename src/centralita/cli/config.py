"""`centralita config check|apply|export`: queues, skills, reasons, hours, agents, flow functions and entry
points as a YAML file.

A bad file gets every problem on stderr as FILE:LINE:COL: field: message, exit code 2, and changes nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import select

from centralita.cli._common import (
    TenantOption,
    cli_actor,
    console,
    ctx_obj,
    err_console,
    read_file_argument,
    resolve_tenant,
)
from centralita.configuration.document import check
from centralita.configuration.export import export_config
from centralita.configuration.plan import UNCHANGED, Plan, do_apply_config, invalid
from centralita.configuration.state import read_current
from centralita.core.errors import CentralitaError
from centralita.core.i18n import _
from centralita.service import Service
from centralita.store import tables as t

FileArgument = typer.Argument(help=_("Configuration file (YAML)"), show_default=False)

_ACTION_STYLE = {"create": "green", "update": "yellow", "deactivate": "red", "unchanged": "dim"}


def register(app: typer.Typer) -> None:
    config = typer.Typer(
        help=_("Configuration as code: queues, skills, reasons, hours, agents, functions and entry points in YAML."),
        no_args_is_help=True,
    )
    config.command("check", help=_("Check a configuration file; print every problem with its line."))(config_check)
    config.command("apply", help=_("Apply a configuration file: create and update items by code."))(config_apply)
    config.command("export", help=_("Write the current configuration as YAML."))(config_export)
    app.add_typer(config, name="config")


def _fail(exc: CentralitaError) -> typer.Exit:
    """Every problem on its own line, unwrapped (editors and CI jump to FILE:LINE:COL)."""
    typer.echo(f"{_('error')}: {exc.detail}", err=True)
    for e in exc.errors:
        typer.echo(str(e), err=True)
    return typer.Exit(2)


def _optional_tenant(svc: Service, slug: str | None) -> t.Tenant | None:
    """The --tenant, else the only or demo contact center, else none (check the file on its own)."""
    if slug is not None:
        return resolve_tenant(svc, slug)
    with svc.db.read() as s:
        tenants = list(s.scalars(select(t.Tenant).order_by(t.Tenant.id)))
    if len(tenants) == 1:
        return tenants[0]
    return next((x for x in tenants if x.slug == "demo"), None)


def config_check(
    ctx: typer.Context,
    file: Annotated[Path, FileArgument],
    tenant: str | None = TenantOption,
) -> None:
    text = read_file_argument(file)
    with ctx_obj(ctx).service() as svc:
        row_tenant = _optional_tenant(svc, tenant)
        current = None
        if row_tenant is not None:
            with svc.db.read() as s:
                current = read_current(s, row_tenant.id)
    checked = check(text, str(file), current)
    if not checked.ok:
        raise _fail(invalid(checked))
    count = sum(len(items) for items in checked.items.values())
    console.print(_("{file}: valid ({count} items)", file=str(file), count=count), highlight=False)


def _plan_table(plan: Plan, show_unchanged: bool) -> Table:
    table = Table(title=_("Plan for {source}", source=plan.source))
    for col in (_("kind"), _("code"), _("action"), _("changed fields")):
        table.add_column(col)
    labels = {"create": _("create"), "update": _("update"), "deactivate": _("deactivate"), "unchanged": _("unchanged")}
    for step in plan.steps:
        if step.action == UNCHANGED and not show_unchanged:
            continue
        style = _ACTION_STYLE.get(step.action, "")
        table.add_row(step.kind, step.code, f"[{style}]{labels[step.action]}[/]", ", ".join(step.fields))
    return table


def config_apply(
    ctx: typer.Context,
    file: Annotated[Path, FileArgument],
    dry_run: Annotated[bool, typer.Option("--dry-run", help=_("Show the plan; change nothing"))] = False,
    prune: Annotated[
        bool,
        typer.Option(
            "--prune", help=_("Deactivate queues, reasons, agents, functions and entry points that are not in the file")
        ),
    ] = False,
    show_unchanged: Annotated[bool, typer.Option("--all", help=_("List unchanged items too"))] = False,
    tenant: str | None = TenantOption,
) -> None:
    text = read_file_argument(file)
    with ctx_obj(ctx).service() as svc:
        row_tenant = resolve_tenant(svc, tenant)
        actor = cli_actor(svc, row_tenant)
        try:
            if dry_run:
                with svc.db.read() as s:
                    plan = do_apply_config(s, actor, text, str(file), prune=prune, dry_run=True)
            else:
                with svc.db.write() as s:
                    plan = do_apply_config(s, actor, text, str(file), prune=prune)
        except CentralitaError as exc:
            raise _fail(exc) from None
    if show_unchanged or plan.changed:
        console.print(_plan_table(plan, show_unchanged))
    c = plan.counts()
    summary = _(
        "{create} to create, {update} to update, {deactivate} to deactivate, {unchanged} unchanged",
        create=c["create"],
        update=c["update"],
        deactivate=c["deactivate"],
        unchanged=c["unchanged"],
    )
    if dry_run:
        console.print(_("Dry run: nothing was changed.") + " " + summary)
    elif plan.applied:
        console.print(
            _(
                "Applied {source} to {slug}: {create} created, {update} updated, {deactivate} deactivated, "
                "{unchanged} unchanged.",
                source=plan.source,
                slug=row_tenant.slug,
                create=c["create"],
                update=c["update"],
                deactivate=c["deactivate"],
                unchanged=c["unchanged"],
            ),
            highlight=False,
        )
    else:
        console.print(
            _("Nothing to change: {slug} already matches {source}.", slug=row_tenant.slug, source=plan.source)
        )


def config_export(
    ctx: typer.Context,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help=_("Write to this file (default: stdout)"))
    ] = None,
    tenant: str | None = TenantOption,
) -> None:
    with ctx_obj(ctx).service() as svc:
        row_tenant = resolve_tenant(svc, tenant)
        with svc.db.read() as s:
            text = export_config(s, row_tenant.id)
    if output is None:
        sys.stdout.write(text)
        return
    output.write_text(text, encoding="utf-8")
    err_console.print(_("Wrote {path}", path=str(output)), highlight=False)

"""`centralita import customers FILE.csv`: validate every row, report bad rows by line and column, import the rest.
`centralita import calls --format anonymous-bank FILE...`: call history, bad rows reported by file and line.

Exit codes: 0 every row was fine, 1 some rows were rejected (the others were imported, unless --strict or
--dry-run), 2 the file could not be imported at all (missing, not UTF-8 CSV, unknown columns; for calls: a
file missing, unreadable or without the format's header, an unknown format, a contact center in another time
zone): nothing changed. For calls, a file that breaks while it is read (a corrupt gzip stream) is reported,
nothing of it is imported, the other files are, and the exit code is 2.
"""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from centralita.cli._common import (
    JsonOption,
    TenantOption,
    cli_actor,
    console,
    ctx_obj,
    err_console,
    fail_on_error,
    print_json,
    print_table,
    resolve_tenant,
)
from centralita.cli.tables import Col
from centralita.contacts.bulk_import import (
    FORMATS,
    CallFileError,
    CallImportResult,
    check_file,
    ensure_tenant,
    import_calls,
)
from centralita.contacts.bulk_import import problem_rows as call_problem_rows
from centralita.core.actor import Actor
from centralita.core.i18n import _
from centralita.crm.importing import ImportFileError, ImportResult, import_customers, problem_rows

SHOWN_PROBLEMS = 20


def register(app: typer.Typer) -> None:
    imp = typer.Typer(help=_("Import data from files."), no_args_is_help=True)
    imp.command("customers", help=_("Import customers from a CSV file (UTF-8, ',' or ';')."))(customers)
    imp.command("calls", help=_("Import call history (the Anonymous Bank 1999 files, .tsv or .tsv.gz)."))(calls)
    app.add_typer(imp, name="import")


def customers(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help=_("CSV file; the first line is the header"))],
    tenant: str | None = TenantOption,
    strict: Annotated[bool, typer.Option("--strict", help=_("Import nothing if any row is bad"))] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help=_("Check and report only; change nothing"))] = False,
    report: Annotated[
        Path | None, typer.Option("--report", help=_("Write every rejected row to this CSV file"))
    ] = None,
) -> None:
    with ctx_obj(ctx).service() as svc, fail_on_error():
        row_tenant = resolve_tenant(svc, tenant)
        actor = cli_actor(svc, row_tenant)
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err_console,
            transient=True,
        ) as bar:
            tasks: dict[str, TaskID] = {}
            labels = {"check": _("Checking rows"), "import": _("Importing rows")}

            def on_progress(stage: str, done: int, total: int) -> None:
                if stage not in tasks:
                    tasks[stage] = bar.add_task(labels.get(stage, stage), total=total)
                bar.update(tasks[stage], completed=done, total=total)

            try:
                result = import_customers(svc.db, actor, file, strict=strict, dry_run=dry_run, progress=on_progress)
            except ImportFileError as exc:
                bar.stop()
                for err in exc.errors or []:
                    err_console.print(f"[bold red]{_('error')}:[/] {err}", highlight=False)
                err_console.print(_("Nothing was imported."), highlight=False)
                raise typer.Exit(2) from None
    _print_problems(result, file)
    if report is not None:
        _write_report(result, report)
    _print_summary(result)
    raise typer.Exit(0 if result.ok else 1)


def _print_problems(result: ImportResult, file: Path) -> None:
    for problem in result.problems[:SHOWN_PROBLEMS]:
        where = f"{file}:{problem.line}"
        text = f"{where}: {problem.column}: {problem.message}" if problem.column else f"{where}: {problem.message}"
        err_console.print(text, highlight=False, markup=False, soft_wrap=True)
    hidden = len(result.problems) - SHOWN_PROBLEMS
    if hidden > 0:
        err_console.print(_("… and {count} more problems (see --report)", count=hidden), highlight=False)


def _write_report(result: ImportResult, report: Path) -> None:
    with report.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(problem_rows(result))
    err_console.print(_("Report written to {path}", path=str(report)), highlight=False)


def _print_summary(result: ImportResult) -> None:
    if result.applied:
        title = _("Imported {source}", source=result.source)
    elif result.dry_run:
        title = _("Dry run of {source}: nothing was changed", source=result.source)
    else:
        title = _("{source} has bad rows and --strict is set: nothing was imported", source=result.source)
    table = Table(title=title)
    table.add_column(_("rows"), justify="right")
    table.add_column(_("created"), justify="right")
    table.add_column(_("updated"), justify="right")
    table.add_column(_("unchanged"), justify="right")
    table.add_column(_("rejected"), justify="right")
    table.add_row(
        str(result.rows),
        str(result.created),
        str(result.updated),
        str(result.unchanged),
        str(result.rejected),
    )
    console.print(table)


def calls(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(help=_("Files to import, in order (tab-separated, gzipped or not)"))],
    format_: Annotated[
        str, typer.Option("--format", help=_("The files' format: {formats}", formats=", ".join(FORMATS)))
    ],
    tenant: Annotated[
        str | None,
        typer.Option(
            "--tenant",
            help=_(
                "Contact center slug; its time zone must be Asia/Jerusalem (default: anonymous-bank, created"
                " when missing)"
            ),
        ),
    ] = None,
    report: Annotated[
        Path | None, typer.Option("--report", help=_("Write every rejected row to this CSV file"))
    ] = None,
    as_json: bool = JsonOption,
) -> None:
    if format_ not in FORMATS:
        err_console.print(
            f"[bold red]{_('error')}:[/] --format: "
            + _("unknown format {value!r}; one of {choices}", value=format_, choices=", ".join(FORMATS)),
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(2)
    with ctx_obj(ctx).service() as svc, fail_on_error():
        try:
            for path in files:
                check_file(path)
        except CallFileError as exc:
            err_console.print(f"[bold red]{_('error')}:[/] {exc.detail}", highlight=False, soft_wrap=True)
            err_console.print(_("Nothing was imported."), highlight=False)
            raise typer.Exit(2) from None
        row_tenant, created = ensure_tenant(svc.db, svc.clock, tenant)
        if created:
            err_console.print(
                _("Contact center {slug!r} created ({timezone})", slug=row_tenant.slug, timezone=row_tenant.timezone),
                highlight=False,
            )
        actor: Actor = cli_actor(svc, row_tenant)
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err_console,
            transient=True,
        ) as bar:
            tasks: dict[str, TaskID] = {}

            def on_progress(label: str, done: int, total: int) -> None:
                if label not in tasks:
                    tasks[label] = bar.add_task(label, total=total)
                bar.update(tasks[label], completed=done, total=total)

            result = import_calls(svc.db, actor, files, tenant=row_tenant.slug, progress=on_progress)
        result.tenant_created = created
    _print_call_problems(result)
    if report is not None:
        with report.open("w", encoding="utf-8", newline="") as fh:
            csv.writer(fh).writerows(call_problem_rows(result))
        err_console.print(_("Report written to {path}", path=str(report)), highlight=False)
    if as_json:
        print_json(
            {
                "tenant": result.tenant,
                "tenant_created": result.tenant_created,
                "files": [dataclasses.asdict(f) for f in result.files],
                "problems": [dataclasses.asdict(p) for p in result.problems],
            }
        )
    else:
        _print_call_summary(result)
    broken = any(f.error is not None for f in result.files)
    raise typer.Exit(2 if broken else 0 if result.ok else 1)


def _print_call_problems(result: CallImportResult) -> None:
    for f in result.files:
        if f.error is not None:
            err_console.print(f"{f.file}: {f.error}", highlight=False, markup=False, soft_wrap=True)
    for problem in result.problems[:SHOWN_PROBLEMS]:
        err_console.print(str(problem), highlight=False, markup=False, soft_wrap=True)
    hidden = len(result.problems) - SHOWN_PROBLEMS
    if hidden > 0:
        err_console.print(_("… and {count} more problems (see --report)", count=hidden), highlight=False)


def _print_call_summary(result: CallImportResult) -> None:
    keys = ("rows", "imported", "skipped", "phantom", "rejected", "customers_created", "agents_created")
    headers = {
        "rows": _("rows"),
        "imported": _("imported"),
        "skipped": _("already there"),
        "phantom": _("phantom"),
        "rejected": _("rejected"),
        "customers_created": _("new customers"),
        "agents_created": _("new agents"),
    }
    columns = [Col("file", _("file"), wrap=False)]
    columns += [Col(key, headers[key], wrap=False, right=True, drop=i) for i, key in enumerate(keys)]
    rows: list[dict[str, str | None]] = [
        {"file": f.file, **{key: str(getattr(f, key)) for key in keys}} for f in result.files
    ]
    if len(result.files) > 1:
        rows.append({"file": _("total"), **{key: str(result.total(key)) for key in keys}})
    print_table(columns, rows, title=_("Calls imported into {tenant}", tenant=result.tenant))

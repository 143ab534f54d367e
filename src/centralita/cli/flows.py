"""`centralita flow check FILE... [--strict]`: contact flows (flowlang 1) checked without a server.

Every problem of every file on stderr as `FILE:LINE:COL: error|warning: node '<id>': <message>` (editors
and CI jump to it), then a summary line per file on stdout. Exit code 0 when no file has an error (nor,
with --strict, a warning), 1 when one has, 2 when a file cannot be read. The files are checked together:
they must agree on every variable's type and scope.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from centralita.core.i18n import _, ngettext
from centralita.flows.document import check_flows

MAX_FILE_BYTES = 1_048_576


def register(app: typer.Typer) -> None:
    flow = typer.Typer(help=_("Contact flows (IVR and chat bot): check them."), no_args_is_help=True)
    flow.command("check", help=_("Check flow files; print every problem with its line and column."))(flow_check)
    app.add_typer(flow, name="flow")


def _read(path: Path) -> str:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ValueError(_("larger than {size} bytes", size=MAX_FILE_BYTES))
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        typer.echo(f"{_('error')}: {path}: {exc}", err=True)
        raise typer.Exit(2) from None


def flow_check(
    files: Annotated[list[Path], typer.Argument(help=_("Flow files (YAML)"), show_default=False)],
    strict: Annotated[bool, typer.Option("--strict", help=_("Warnings count as errors"))] = False,
) -> None:
    checked = check_flows([(_read(path), str(path)) for path in files])
    failed = False
    for result in checked:
        for diagnostic in result.diagnostics:
            typer.echo(str(diagnostic), err=True)
        errors, warnings = len(result.errors), len(result.warnings)
        failed = failed or not result.ok(strict)
        if errors or warnings:
            summary = ", ".join(
                [
                    ngettext("{n} error", "{n} errors", errors),
                    ngettext("{n} warning", "{n} warnings", warnings),
                ]
            )
            typer.echo(f"{result.source}: {summary}")
        else:
            typer.echo(_("{file}: valid", file=result.source))
    if failed:
        raise typer.Exit(1)

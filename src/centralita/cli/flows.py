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
from centralita.core.located_yaml import load_yaml
from centralita.flows.conversation import ScriptError, play
from centralita.flows.document import Flow, check_flows

MAX_FILE_BYTES = 1_048_576


def register(app: typer.Typer) -> None:
    flow = typer.Typer(help=_("Contact flows (IVR and chat bot): check and test them."), no_args_is_help=True)
    flow.command("check", help=_("Check flow files; print every problem with its line and column."))(flow_check)
    flow.command("test", help=_("Play a scripted conversation against a flow; show a diff when it differs."))(flow_test)
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


def _checked_flows(paths: list[Path]) -> list[Flow]:
    """The flows of `paths`, checked together; their errors printed and exit 1 when any has one."""
    checked = check_flows([(_read(path), str(path)) for path in paths])
    flows = []
    for result in checked:
        for diagnostic in result.errors:
            typer.echo(str(diagnostic), err=True)
        if result.flow is None:
            raise typer.Exit(1)
        flows.append(result.flow)
    return flows


def flow_test(
    file: Annotated[Path, typer.Argument(help=_("Flow file (YAML)"), show_default=False)],
    script: Annotated[Path, typer.Option("--script", help=_("Conversation script (YAML)"), show_default=False)],
    flows: Annotated[
        list[Path] | None, typer.Option("--flow", help=_("Another flow it enters (subflow or transfer)"))
    ] = None,
) -> None:
    flow, *others = _checked_flows([file, *(flows or [])])
    located = load_yaml(_read(script), str(script))
    for error in located.errors:
        typer.echo(str(error), err=True)
    if located.errors or not isinstance(located.data, dict):
        if not located.errors:
            typer.echo(
                f"{script}:1:1: {_('a script is a mapping (channel, customer, conversation, expect…)')}", err=True
            )
        raise typer.Exit(2)
    try:
        outcome = play(flow, located.data, others)
    except ScriptError as exc:
        line, column = located.position(tuple(exc.path.split(".")))
        typer.echo(f"{script}:{line}:{column}: {exc.path}: {exc.message}", err=True)
        raise typer.Exit(2) from None
    if outcome.ok:
        message = _(
            "{file}: {script}: the conversation went as written ({lines} lines)",
            file=file,
            script=script,
            lines=len(outcome.transcript),
        )
        typer.echo(message)
        return
    for row in outcome.diff:
        typer.echo(row)
    for problem in outcome.problems:
        typer.echo(f"{_('expected')}: {problem}")
    raise typer.Exit(1)

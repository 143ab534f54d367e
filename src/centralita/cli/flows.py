"""`centralita flow check FILE... [--strict]`: contact flows (flowlang 1) checked without a server.

Every problem of every file on stderr as `FILE:LINE:COL: error|warning: node '<id>': <message>` (editors
and CI jump to it), then a summary line per file on stdout. Exit code 0 when no file has an error (nor,
with --strict, a warning), 1 when one has, 2 when a file cannot be read. The files are checked together:
they must agree on every variable's type and scope.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated

import typer

from centralita.cli._common import (
    JsonOption,
    TenantOption,
    cli_actor,
    ctx_obj,
    print_json,
    read_file_argument,
    resolve_tenant,
)
from centralita.core.i18n import _, ngettext
from centralita.core.located_yaml import load_yaml
from centralita.flows.conversation import ScriptError, play
from centralita.flows.document import Flow, check_flows

MAX_FILE_BYTES = 1_048_576


def register(app: typer.Typer) -> None:
    flow = typer.Typer(help=_("Contact flows (IVR and chat bot): check, test and draw them."), no_args_is_help=True)
    flow.command("check", help=_("Check flow files; print every problem with its line and column."))(flow_check)
    flow.command("test", help=_("Play a scripted conversation against a flow; show a diff when it differs."))(flow_test)
    flow.command("graph", help=_("Draw a flow as a graph (SVG through Graphviz, or DOT text)."))(flow_graph)
    flow.command("publish", help=_("Publish a flow as its next version (refused with every error)."))(flow_publish)
    flow.command("list", help=_("The published flows and their current versions."))(flow_list)
    flow.command("show", help=_("A published flow's text, at its current or any version."))(flow_show)
    flow.command("rollback", help=_("Make another published version of a flow current again."))(flow_rollback)
    app.add_typer(flow, name="flow")


def flow_check(
    files: Annotated[list[Path], typer.Argument(help=_("Flow files (YAML)"), show_default=False)],
    strict: Annotated[bool, typer.Option("--strict", help=_("Warnings count as errors"))] = False,
) -> None:
    checked = check_flows([(read_file_argument(path, MAX_FILE_BYTES), str(path)) for path in files])
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
    checked = check_flows([(read_file_argument(path, MAX_FILE_BYTES), str(path)) for path in paths])
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
    located = load_yaml(read_file_argument(script, MAX_FILE_BYTES), str(script))
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


# -- flow graph FILE -o OUT [--format svg|dot] -----------------------------------------------------------------

DOT_TIMEOUT_S = 60
GRAPH_FORMATS = ("svg", "dot")


def flow_graph(
    file: Annotated[Path, typer.Argument(help=_("Flow file (YAML)"), show_default=False)],
    output: Annotated[Path, typer.Option("--output", "-o", help=_("Where to write the drawing"), show_default=False)],
    graph_format: Annotated[
        str, typer.Option("--format", help=_("svg (drawn by Graphviz's dot) or dot (the graph as text)"))
    ] = "svg",
) -> None:
    """The flow checked first (its problems printed as `flow check` prints them, exit 1 on an error, nothing
    written), then drawn: DOT text from `flows.graph`, an SVG by Graphviz's `dot` (exit 2 without it)."""
    from centralita.flows.document import check_flow
    from centralita.flows.graph import to_dot

    if graph_format not in GRAPH_FORMATS:
        raise typer.BadParameter(_("must be svg or dot"), param_hint="--format")
    checked = check_flow(read_file_argument(file, MAX_FILE_BYTES), str(file))
    for diagnostic in checked.diagnostics:
        typer.echo(str(diagnostic), err=True)
    if checked.flow is None:
        errors, warnings = len(checked.errors), len(checked.warnings)
        summary = ", ".join(
            [ngettext("{n} error", "{n} errors", errors), ngettext("{n} warning", "{n} warnings", warnings)]
        )
        typer.echo(f"{checked.source}: {summary}")
        raise typer.Exit(1)
    dot_text = to_dot(checked.flow)
    drawing = dot_text.encode("utf-8") if graph_format == "dot" else _render_svg(dot_text)
    try:
        output.write_bytes(drawing)
    except OSError as exc:
        typer.echo(f"{_('error')}: {output}: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(_("{file}: drawn in {output}", file=checked.source, output=output))


def _render_svg(dot_text: str) -> bytes:
    """`dot -Tsvg` on `dot_text`; exit 2 when Graphviz is missing or fails."""
    from centralita.flowstore.drawing import DrawingError, render_svg

    try:
        return render_svg(dot_text, DOT_TIMEOUT_S)
    except DrawingError as exc:
        typer.echo(f"{_('error')}: {exc.message}", err=True)
        raise typer.Exit(2) from None


# -- published flows (the contact center's database) ---------------------------------------------------------


def flow_publish(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help=_("Flow file (YAML)"), show_default=False)],
    tenant: str | None = TenantOption,
) -> None:
    from centralita.core.errors import InvalidInput
    from centralita.flowstore.actions import do_publish_flow

    text = read_file_argument(file, MAX_FILE_BYTES)
    with ctx_obj(ctx).service() as svc:
        actor = cli_actor(svc, resolve_tenant(svc, tenant))
        try:
            with svc.db.write() as s:
                published = do_publish_flow(s, actor, text, str(file))
        except InvalidInput as exc:
            for error in exc.errors:
                where = f"{error.source}:{error.line}:{error.column}" if error.line else str(file)
                typer.echo(f"{where}: error: {error.message}", err=True)
            typer.echo(exc.detail, err=True)
            raise typer.Exit(1) from None
    for warning in published.checked.warnings:
        typer.echo(str(warning), err=True)
    if published.changed:
        typer.echo(
            _(
                "{code}: version {version} published; new contacts run it",
                code=published.code,
                version=published.version,
            )
        )
    else:
        typer.echo(
            _(
                "{code}: unchanged (it is version {version}, the current one)",
                code=published.code,
                version=published.version,
            )
        )


def flow_list(ctx: typer.Context, as_json: bool = JsonOption, tenant: str | None = TenantOption) -> None:
    from centralita.flowstore.queries import list_flows

    with ctx_obj(ctx).service() as svc:
        row_tenant = resolve_tenant(svc, tenant)
        with svc.db.read() as s:
            flows = list_flows(s, row_tenant.id)
    if as_json:
        print_json([dataclasses.asdict(f) for f in flows])
        return
    if not flows:
        typer.echo(_("No flow has been published yet."))
    for f in flows:
        typer.echo(
            _(
                "{code}: version {version} of {count}, published {when}",
                code=f.code,
                version=f.current_version,
                count=f.versions,
                when=f.updated_at.isoformat(timespec="seconds"),
            )
        )


def flow_show(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help=_("The flow's id"), show_default=False)],
    version: Annotated[
        int | None, typer.Option("--version", min=1, max=2**31 - 1, help=_("Version (default: the current one)"))
    ] = None,
    tenant: str | None = TenantOption,
) -> None:
    from centralita.flowstore.queries import flow_text

    with ctx_obj(ctx).service() as svc:
        row_tenant = resolve_tenant(svc, tenant)
        with svc.db.read() as s:
            found = flow_text(s, row_tenant.id, code, version)
    if found is None:
        typer.echo(f"{_('error')}: " + _("no flow {code!r} at that version", code=code), err=True)
        raise typer.Exit(1)
    typer.echo(found.source, nl=not found.source.endswith("\n"))


def flow_rollback(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help=_("The flow's id"), show_default=False)],
    version: Annotated[
        int, typer.Argument(min=1, max=2**31 - 1, help=_("The version to make current"), show_default=False)
    ],
    tenant: str | None = TenantOption,
) -> None:
    from centralita.core.errors import NotFound
    from centralita.flowstore.actions import do_rollback_flow

    with ctx_obj(ctx).service() as svc:
        actor = cli_actor(svc, resolve_tenant(svc, tenant))
        try:
            with svc.db.write() as s:
                do_rollback_flow(s, actor, code, version)
        except NotFound as exc:
            typer.echo(f"{_('error')}: {exc.detail}", err=True)
            raise typer.Exit(1) from None
    typer.echo(_("{code}: version {version} is current; new contacts run it", code=code, version=version))

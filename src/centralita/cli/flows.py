"""`centralita flow check FILE... [--strict]`: contact flows (flowlang 1) checked without a server.

Every problem of every file on stderr as `FILE:LINE:COL: error|warning: node '<id>': <message>` (editors
and CI jump to it), then a summary line per file on stdout. Exit code 0 when no file has an error (nor,
with --strict, a warning), 1 when one has, 2 when a file cannot be read. The files are checked together:
they must agree on every variable's type and scope.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any

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
from centralita.core.errors import InvalidInput
from centralita.core.i18n import _, ngettext
from centralita.core.located_yaml import load_yaml
from centralita.flows import interpreter as it
from centralita.flows.conversation import Player, ScriptedEnvironment, ScriptedStats, ScriptError, play
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
    flow.command("chat", help=_("Talk to a flow in the terminal, as a caller or chatter of the contact center."))(
        flow_chat
    )
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


def _prompt_library(path: Path) -> dict[str, str]:
    """The prompts of a file's `prompts:` list as `flow test` takes them: `code:lang` and `code` (Spanish
    first) → text. A bad file exits 2 with every problem at its FILE:LINE:COL."""
    from pydantic import ValidationError

    from centralita.prompts.library import PromptCreate

    located = load_yaml(read_file_argument(path, MAX_FILE_BYTES), str(path))
    problems = [str(error) for error in located.errors]
    items = located.data.get("prompts") if isinstance(located.data, dict) else None
    if not problems and not isinstance(items, list):
        problems.append(f"{path}:1:1: {_('a prompt library is a file with a prompts: list')}")
    library: dict[str, str] = {}
    for n, item in enumerate(items if isinstance(items, list) else []):
        try:
            prompt = PromptCreate.model_validate(item)
            texts = prompt.texts()
        except (ValidationError, ValueError) as exc:
            line, column = located.position(("prompts", n))
            message = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
            problems.append(f"{path}:{line}:{column}: prompts.{n}: {message}")
            continue
        for language, text in texts.items():
            library[f"{prompt.code}:{language}"] = text
        library[prompt.code] = texts.get("es") or next(iter(texts.values()))
    if problems:
        for problem in problems:
            typer.echo(problem, err=True)
        raise typer.Exit(2)
    return library


def flow_test(
    file: Annotated[Path, typer.Argument(help=_("Flow file (YAML)"), show_default=False)],
    script: Annotated[Path, typer.Option("--script", help=_("Conversation script (YAML)"), show_default=False)],
    flows: Annotated[
        list[Path] | None, typer.Option("--flow", help=_("Another flow it enters (subflow or transfer)"))
    ] = None,
    prompts: Annotated[
        Path | None,
        typer.Option("--prompts", help=_("A prompt library: a file with a prompts: list (a configuration file)")),
    ] = None,
) -> None:
    flow, *others = _checked_flows([file, *(flows or [])])
    library = _prompt_library(prompts) if prompts is not None else {}
    located = load_yaml(read_file_argument(script, MAX_FILE_BYTES), str(script))
    for error in located.errors:
        typer.echo(str(error), err=True)
    if located.errors or not isinstance(located.data, dict):
        if not located.errors:
            typer.echo(
                f"{script}:1:1: {_('a script is a mapping (channel, customer, conversation, expect…)')}", err=True
            )
        raise typer.Exit(2)
    data = dict(located.data)
    if library:
        own = data.get("prompts")
        data["prompts"] = {**library, **(own if isinstance(own, dict) else {})}
    try:
        outcome = play(flow, data, others)
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
    from centralita.flowrun.functions import python_functions
    from centralita.flowstore.actions import do_publish_flow

    text = read_file_argument(file, MAX_FILE_BYTES)
    with ctx_obj(ctx).service() as svc:
        actor = cli_actor(svc, resolve_tenant(svc, tenant))
        functions = python_functions(svc.settings.function_modules)
        try:
            with svc.db.write() as s:
                published = do_publish_flow(s, actor, text, str(file), functions)
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


# -- talking to a flow in the terminal -----------------------------------------------------------------------

CHAT_COMMANDS = {"/agent": "agent connects", "/hangup": "customer hangs up", "/wait": "time passes"}


def flow_chat(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help=_("Flow file (YAML)"), show_default=False)],
    as_number: Annotated[
        str | None, typer.Option("--as", help=_("The caller's number (or chat id): recognised like a real contact"))
    ] = None,
    channel: Annotated[str, typer.Option("--channel", help=_("voice (digits) or chat (text and buttons)"))] = "chat",
    tenant: str | None = TenantOption,
) -> None:
    """Each line typed is the customer's (digits on voice); /agent connects an agent, /wait lets a wait run
    out, /hangup (or end of input) hangs up. Queue figures and hours are the contact center's now; functions
    are not run: crm.identify looks the customer up, crm.open_case gives a sample reference, others fail."""
    from centralita.crm.queries import customer_360
    from centralita.flowstore.queries import figures_now, flow_text

    if channel not in ("voice", "chat"):
        typer.echo(f"{_('error')}: --channel: {_('must be voice or chat')}", err=True)
        raise typer.Exit(2)
    [flow] = _checked_flows([file])
    with ctx_obj(ctx).service() as svc:
        row_tenant = resolve_tenant(svc, tenant)
        now = svc.clock.now()
        with svc.db.read() as s:
            queues, schedules = figures_now(s, row_tenant.id, now)
            others = []
            for name in {str(n.params.get("flow")) for n in flow.nodes.values() if n.type == "subflow"}:
                found = flow_text(s, row_tenant.id, name)
                other = check_flows([(found.source, name)])[0].flow if found is not None else None
                if other is not None:
                    others.append(other)
            customer: dict[str, Any] | None = None
            if as_number:
                kind = "chat" if channel == "chat" and not as_number.startswith("+") else "phone"
                try:
                    found_360 = customer_360(s, row_tenant.id, row_tenant.country, kind, as_number)
                except InvalidInput:  # a number that does not normalise: an unknown caller
                    found_360 = None
                if found_360 is not None:
                    c = found_360.customer
                    customer = {
                        "id": c.id,
                        "name": c.name,
                        "segment": c.segment,
                        "value_tier": c.value_tier,
                        "lifecycle_stage": c.lifecycle_stage,
                        "lifetime_value": float(c.lifetime_value) if c.lifetime_value is not None else None,
                        "owner": c.owner_agent_id,
                        "open_cases": len(found_360.open_cases),
                        "attributes": dict(c.attributes or {}),
                    }
                    typer.echo(_("(recognised: {name}, segment {segment})", name=c.name, segment=c.segment))
                else:
                    typer.echo(_("(not recognised: an unknown caller)"))

            def identify(inputs: Mapping[str, Any]) -> dict[str, Any] | None:
                kind, value = str(inputs.get("kind")), str(inputs.get("value"))
                try:
                    hit = customer_360(s, row_tenant.id, row_tenant.country, kind, value)
                except InvalidInput:
                    return None
                if hit is None:
                    return None
                return {"customer": {"id": hit.customer.id, "name": hit.customer.name, "segment": hit.customer.segment}}

            env = ScriptedEnvironment(
                flows={f.id: f for f in (flow, *others)},
                stats=ScriptedStats(queues, schedules),
                queue_settings=queues,
                prompts={},
            )
            contact = {"id": 0, "channel": channel, "ani": as_number, "language": "es"}
            player = TerminalPlayer(flow, env, contact, customer, identify)
            player.run()
    typer.echo(f"({player.state.status})")


class TerminalPlayer(Player):
    """A `Player` whose customer types in the terminal, whose lines are printed as they happen, and whose
    functions are the few a terminal can stand in for."""

    def __init__(
        self,
        flow: Flow,
        env: ScriptedEnvironment,
        contact: dict[str, Any],
        customer: Mapping[str, Any] | None,
        identify: Callable[[Mapping[str, Any]], dict[str, Any] | None],
    ) -> None:
        super().__init__(flow, env, contact, customer, {}, [])
        self.identify = identify
        self.buttons: list[tuple[str, str]] = []  # the last question's (value, label), chosen by number or label

    def say(self, line: str) -> None:
        self.transcript.append(line)
        if line.startswith("buttons: ") and self.buttons:
            line = "buttons: " + " | ".join(f"{n}) {label}" for n, (_value, label) in enumerate(self.buttons, 1))
        typer.echo(line)

    def show(self, action: it.Action) -> None:
        if isinstance(action, it.Ask):
            self.buttons = list(action.options)
        super().show(action)

    def scripted(self) -> str | None:
        waiting = self.state.waiting or ("queued" if self.state.status == "queued" else "")
        hints = {"wait": _("(waiting: /wait, /agent, /hangup) "), "queued": _("(in the queue: /agent, /hangup) ")}
        try:
            typed = input(hints.get(waiting, "") + "> ").strip()
        except EOFError:
            return "customer hangs up"
        if typed in CHAT_COMMANDS:
            return CHAT_COMMANDS[typed]
        for n, (value, label) in enumerate(self.buttons, 1):
            if typed in (str(n), label) or typed.lower() == label.lower():
                return f"customer: {value}"
        return f"customer: {typed}"

    def invoke_result(self) -> it.Event:
        call = self.last_invoke
        name = call.function if call is not None else ""
        if name == "crm.identify" and call is not None:
            found = self.identify(call.input)
            return it.InvokeDone(found) if found is not None else it.InvokeDone(failure="error")
        if name == "crm.open_case":
            typer.echo(_("(crm.open_case: nothing written; a sample reference)"))
            return it.InvokeDone({"case_id": 0, "reference": "PRUEBA1"})
        typer.echo(_("({name}: not run here, so it fails)", name=name))
        return it.InvokeDone(failure="error")

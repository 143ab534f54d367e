"""`centralita report`: KPIs and the business reports from the history (docs/analytics.md).

`report kpis --from DATE --to DATE [--by DIM] [--interval …] [--threshold S] [--json]` prints the KPIs of
metrics.md for the whole range, per group, or per interval, with the tenant's metric variants. Dates are
local calendar days of the contact center, both included.

`report NAME --from DATE --to DATE [--format table|json|csv|parquet|xlsx|html|png] [--output FILE] [options]`
runs a business report of `analytics.reports.REPORTS` (one command each, with its own options); `report
list` names them. Binary formats need `--output`; json, csv and html go to stdout without it.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from centralita.analytics.engine import AGENT_DIMENSIONS, DIMENSIONS, INTERVALS, default_interval
from centralita.analytics.facts import TOP_SKILL_LEVEL
from centralita.analytics.queries import DateRange, kpi_report
from centralita.analytics.render import BINARY_FORMATS, FORMATS, Heading, cell_text, write
from centralita.analytics.reports import REPORTS, Report, tenant_report
from centralita.cli._common import (
    TenantOption,
    console,
    ctx_obj,
    fail_on_error,
    print_table,
    resolve_tenant,
)
from centralita.cli.tables import Col
from centralita.core.i18n import _
from centralita.core.metrics_settings import metrics_settings

__all__ = ["dimensions_option", "parse_range", "register", "report_app"]

MAX_DAYS = 3700  # about ten years: a longer range is a typo
FIRST_YEAR, LAST_YEAR = 1900, 2999  # the API's bounds too


class ReportGroup(TyperGroup):
    """`report NAME`: an unknown NAME is an error listing the reports (exit 2)."""

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            names = ", ".join(["kpis", "list", *REPORTS])
            raise typer.BadParameter(
                _("unknown report {name!r}; one of {names}", name=args[0], names=names), ctx, param_hint="NAME"
            )
        return super().resolve_command(ctx, args)


report_app = typer.Typer(
    help=_("Reports from the contact history: KPIs and business questions."), no_args_is_help=True, cls=ReportGroup
)


def register(app: typer.Typer) -> None:
    report_app.command("kpis", help=_("KPIs (offered, answered, abandonment, service level, ASA, AHT, …)."))(kpis_cmd)
    report_app.command("list", help=_("The business reports."))(list_cmd)
    for name, fn, text in _COMMANDS:
        report_app.command(name, help=text())(fn)
    app.add_typer(report_app, name="report")


def parse_range(first: str, last: str, timezone: str) -> DateRange:
    """`--from` and `--to` as local days; exit 2 naming the option when either is wrong."""
    days = []
    for flag, text in (("--from", first), ("--to", last)):
        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            raise typer.BadParameter(_("not a date (YYYY-MM-DD): {value!r}", value=text), param_hint=flag) from None
        if not FIRST_YEAR <= day.year <= LAST_YEAR:
            raise typer.BadParameter(
                _("a year from {first} to {last}", first=FIRST_YEAR, last=LAST_YEAR), param_hint=flag
            )
        days.append(day)
    if days[1] < days[0]:
        raise typer.BadParameter(_("is before --from"), param_hint="--to")
    if (days[1] - days[0]).days > MAX_DAYS:
        raise typer.BadParameter(_("the range is longer than {n} days", n=MAX_DAYS), param_hint="--to")
    return DateRange(days[0], days[1], timezone)


def dimensions_option(values: Sequence[str] | None) -> list[str]:
    """`--by` given once or several times, each possibly comma-separated; exit 2 naming a wrong one."""
    out: list[str] = []
    for value in values or ():
        for part in value.split(","):
            name = part.strip()
            if name not in DIMENSIONS:
                raise typer.BadParameter(
                    _("unknown dimension {name!r}; one of {names}", name=name, names=", ".join(DIMENSIONS)),
                    param_hint="--by",
                )
            if name not in out:
                out.append(name)
    return out


KPI_COLUMNS = ("offered", "answered", "abandoned", "abandon_rate", "service_level", "asa_s", "aht_s", "handled")
# by agent or team: what an agent's figures are (queue figures count where the contact was answered)
AGENT_COLUMNS = ("handled", "aht_s", "average_acw_s", "occupancy", "answer_rate", "transfer_rate", "fcr", "csat")
RATES = frozenset(
    {
        "abandon_rate",
        "service_level",
        "transfer_rate",
        "self_service_rate",
        "fcr",
        "repeat_rate",
        "occupancy",
        "answer_rate",
        "csat",
    }
)


def kpis_cmd(
    ctx: typer.Context,
    first: Annotated[str, typer.Option("--from", help=_("First day (YYYY-MM-DD, local), included"))],
    last: Annotated[str, typer.Option("--to", help=_("Last day (YYYY-MM-DD, local), included"))],
    by: Annotated[
        list[str] | None, typer.Option("--by", help=_("Group by: {names}", names=", ".join(DIMENSIONS)))
    ] = None,
    interval: Annotated[
        str | None,
        typer.Option("--interval", help=_("One row per interval: {names}", names="|".join([*INTERVALS, "default"]))),
    ] = None,
    threshold: Annotated[
        float | None,
        typer.Option("--threshold", help=_("Service-level threshold in seconds for every queue"), min=0, max=86400),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help=_("Print JSON instead of a table"))] = False,
    tenant_slug: str | None = TenantOption,
) -> None:
    if interval == "default":  # the contact center's own (metrics.interval_minutes), chosen below
        pass
    elif interval is not None and interval not in INTERVALS:
        raise typer.BadParameter(
            _("unknown interval {name!r}; one of {names}", name=interval, names=", ".join(INTERVALS)),
            param_hint="--interval",
        )
    if threshold is not None and not math.isfinite(threshold):
        raise typer.BadParameter(_("must be a number of seconds"), param_hint="--threshold")
    dims = dimensions_option(by)
    with ctx_obj(ctx).service() as svc:
        tenant = resolve_tenant(svc, tenant_slug)
        days = parse_range(first, last, tenant.timezone)
        if interval == "default":
            interval = default_interval(metrics_settings(tenant.settings))
        with fail_on_error(), svc.db.read() as s:
            rows = kpi_report(s, tenant, days, by=dims, interval=interval, threshold_s=threshold)
    if as_json:
        doc: dict[str, Any] = {
            "tenant": tenant.slug,
            "timezone": tenant.timezone,
            "from": days.first.isoformat(),
            "to": days.last.isoformat(),
            "by": dims,
            "interval": interval,
            "threshold_s": threshold,
        }
        if not dims and interval is None:
            doc.update(rows[0])
        else:
            doc["groups"] = rows
        sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
        return
    keys = (["interval"] if interval else []) + dims
    figures = AGENT_COLUMNS if dims and set(dims) <= AGENT_DIMENSIONS else KPI_COLUMNS
    columns = [Col(k, _column(k), wrap=False) for k in keys] + [Col(k, _column(k), right=True) for k in figures]
    title = _("KPIs {first} – {last} ({tz})", first=days.first, last=days.last, tz=tenant.timezone)
    print_table(columns, [{k: _text(_kind(k, row), row.get(k)) for k in [*keys, *figures]} for row in rows], title)


def _kind(name: str, row: dict[str, Any]) -> str:
    """CSAT is a share only in its `top2` variant (its mean is a rating)."""
    return "csat_mean" if name == "csat" and row.get("csat_variant") != "top2" else name


def _column(name: str) -> str:
    labels = {
        "interval": _("interval"),
        "offered": _("offered"),
        "answered": _("answered"),
        "abandoned": _("abandoned"),
        "abandon_rate": _("abandonment"),
        "service_level": _("service level"),
        "asa_s": _("ASA (s)"),
        "aht_s": _("AHT (s)"),
        "handled": _("handled"),
        "average_acw_s": _("ACW (s)"),
        "occupancy": _("occupancy"),
        "answer_rate": _("answer rate"),
        "transfer_rate": _("transfers"),
        "fcr": _("FCR"),
        "csat": _("CSAT"),
        "hour": _("hour"),
        "day_of_week": _("day of week"),
    }
    return labels.get(name, name.replace("_", " "))


def _text(name: str, value: Any) -> str | None:
    """A figure as table text: rates in percent, seconds with one decimal, null as —."""
    if value is None:
        return None
    if name in RATES:
        return f"{100 * value:.1f} %"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


# ---------------------------------------------------------------- business reports


def list_cmd() -> None:
    rows = [{"name": spec.name, "title": spec.title()} for spec in REPORTS.values()]
    print_table([Col("name", _("report"), wrap=False), Col("title", _("question"))], rows)


FromOption = Annotated[str, typer.Option("--from", help=_("First day (YYYY-MM-DD, local), included"))]
ToOption = Annotated[str, typer.Option("--to", help=_("Last day (YYYY-MM-DD, local), included"))]
FormatOption = Annotated[str, typer.Option("--format", help=_("Output: {names}", names="|".join(FORMATS)))]
OutputOption = Annotated[
    Path | None, typer.Option("--output", "-o", help=_("File to write (required for parquet, xlsx and png)"))
]


def _choice(value: str | None, choices: Sequence[str], flag: str) -> str | None:
    if value is not None and value not in choices:
        raise typer.BadParameter(
            _("unknown value {value!r}; one of {names}", value=value, names=", ".join(choices)), param_hint=flag
        )
    return value


def _run(
    ctx: typer.Context,
    name: str,
    first: str,
    last: str,
    fmt: str,
    output: Path | None,
    tenant_slug: str | None,
    **options: Any,
) -> None:
    """Check the options (exit 2 naming the wrong one), run the report, print or write it."""
    spec = REPORTS[name]
    _choice(fmt, FORMATS, "--format")
    if fmt in BINARY_FORMATS and output is None:
        raise typer.BadParameter(_("{format} is a binary format: give a file", format=fmt), param_hint="--output")
    if fmt == "table" and output is not None:
        raise typer.BadParameter(_("a table is printed; choose a file --format"), param_hint="--output")
    if output is not None and not output.parent.is_dir():
        raise typer.BadParameter(_("no directory {path}", path=str(output.parent)), param_hint="--output")
    _choice(options.get("by"), spec.by, "--by")
    _choice(options.get("interval"), spec.intervals, "--interval")
    with ctx_obj(ctx).service() as svc:
        tenant = resolve_tenant(svc, tenant_slug)
        days = parse_range(first, last, tenant.timezone)
        with fail_on_error(), svc.db.read() as s:
            report = tenant_report(s, tenant, name, days, **options)
    heading = Heading(tenant.slug, days.first.isoformat(), days.last.isoformat(), tenant.timezone)
    if fmt == "table":
        _print_report(report, heading)
        return
    try:
        text = write(report, fmt, heading, output)
    except OSError as exc:
        typer.echo(f"{_('error')}: --output: {exc}", err=True)
        raise typer.Exit(2) from None
    if text is not None:
        sys.stdout.write(text)
    else:
        typer.echo(_("Wrote {path}", path=str(output)), err=True)  # one line, however long the path


def _print_report(report: Report, heading: Heading) -> None:
    columns = [
        Col(c.key, c.title, wrap=c.kind == "text", right=c.kind != "text", drop=0 if c.kind == "text" or i < 2 else i)
        for i, c in enumerate(report.columns)
    ]
    rows = [{c.key: cell_text(row.get(c.key), c.kind, report.currency) for c in report.columns} for row in report.rows]
    print_table(columns, rows, f"{report.title} · {heading.text()}")
    for note in report.notes:
        console.print(f"· {note}", highlight=False, markup=False)


def reason_mix_cmd(
    ctx: typer.Context,
    first: FromOption,
    last: ToOption,
    by: Annotated[str, typer.Option("--by", help="segment|value_tier|lifecycle_stage")] = "segment",
    fmt: FormatOption = "table",
    output: OutputOption = None,
    tenant_slug: str | None = TenantOption,
) -> None:
    _run(ctx, "reason-mix", first, last, fmt, output, tenant_slug, by=by)


def cost_to_serve_cmd(
    ctx: typer.Context,
    first: FromOption,
    last: ToOption,
    by: Annotated[str, typer.Option("--by", help="segment|reason|customer")] = "segment",
    top: Annotated[int, typer.Option("--top", help=_("Customers shown with --by customer"), min=1, max=1000)] = 10,
    fmt: FormatOption = "table",
    output: OutputOption = None,
    tenant_slug: str | None = TenantOption,
) -> None:
    _run(ctx, "cost-to-serve", first, last, fmt, output, tenant_slug, by=by, top=top)


def satisfaction_cmd(
    ctx: typer.Context,
    first: FromOption,
    last: ToOption,
    by: Annotated[str, typer.Option("--by", help="segment|reason|channel|agent")] = "segment",
    fmt: FormatOption = "table",
    output: OutputOption = None,
    tenant_slug: str | None = TenantOption,
) -> None:
    _run(ctx, "satisfaction", first, last, fmt, output, tenant_slug, by=by)


def channel_preference_cmd(
    ctx: typer.Context,
    first: FromOption,
    last: ToOption,
    interval: Annotated[str, typer.Option("--interval", help="month|week")] = "month",
    fmt: FormatOption = "table",
    output: OutputOption = None,
    tenant_slug: str | None = TenantOption,
) -> None:
    _run(ctx, "channel-preference", first, last, fmt, output, tenant_slug, interval=interval)


def avoidable_contacts_cmd(
    ctx: typer.Context,
    first: FromOption,
    last: ToOption,
    by: Annotated[str, typer.Option("--by", help="kind|reason")] = "kind",
    fmt: FormatOption = "table",
    output: OutputOption = None,
    tenant_slug: str | None = TenantOption,
) -> None:
    _run(ctx, "avoidable-contacts", first, last, fmt, output, tenant_slug, by=by)


def agent_variability_cmd(
    ctx: typer.Context,
    first: FromOption,
    last: ToOption,
    z: Annotated[float, typer.Option("--z", help=_("Outlier when |z| is above this"), min=0.5, max=10)] = 2.0,
    fmt: FormatOption = "table",
    output: OutputOption = None,
    tenant_slug: str | None = TenantOption,
) -> None:
    _run(ctx, "agent-variability", first, last, fmt, output, tenant_slug, z=z)


def complaints_cmd(
    ctx: typer.Context,
    first: FromOption,
    last: ToOption,
    interval: Annotated[str, typer.Option("--interval", help="week|month")] = "week",
    fmt: FormatOption = "table",
    output: OutputOption = None,
    tenant_slug: str | None = TenantOption,
) -> None:
    _run(ctx, "complaints", first, last, fmt, output, tenant_slug, interval=interval)


def value_match_cmd(
    ctx: typer.Context,
    first: FromOption,
    last: ToOption,
    tier: Annotated[
        str | None, typer.Option("--tier", help=_("The high value tier (default: the last of value_tiers)"))
    ] = None,
    level: Annotated[int, typer.Option("--level", help=_("Top skill level (1-5)"), min=1, max=5)] = TOP_SKILL_LEVEL,
    fmt: FormatOption = "table",
    output: OutputOption = None,
    tenant_slug: str | None = TenantOption,
) -> None:
    _run(ctx, "value-match", first, last, fmt, output, tenant_slug, tier=tier, level=level)


_COMMANDS: list[tuple[str, Callable[..., None], Callable[[], str]]] = [
    ("reason-mix", reason_mix_cmd, lambda: _("Contact reasons by segment, value tier or lifecycle stage.")),
    ("cost-to-serve", cost_to_serve_cmd, lambda: _("Cost to serve per segment, reason or customer.")),
    ("satisfaction", satisfaction_cmd, lambda: _("CSAT, CES and NPS by segment, reason, channel or agent.")),
    ("channel-preference", channel_preference_cmd, lambda: _("How each segment is served, per month or week.")),
    (
        "avoidable-contacts",
        avoidable_contacts_cmd,
        lambda: _("Repeats, transfers and avoidable reasons, and their cost."),
    ),
    ("agent-variability", agent_variability_cmd, lambda: _("AHT, FCR, CSAT and transfers per agent, and outliers.")),
    ("complaints", complaints_cmd, lambda: _("Complaints per week and their cases' time to resolution.")),
    ("value-match", value_match_cmd, lambda: _("High-value customers: answered by the most skilled agents?")),
]

"""`centralita report`: KPIs and the business reports from the history (docs/analytics.md).

`report kpis --from DATE --to DATE [--by DIM] [--interval …] [--threshold S] [--json]` prints the KPIs of
metrics.md for the whole range, per group, or per interval, with the tenant's metric variants. Dates are
local calendar days of the contact center, both included.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Sequence
from typing import Annotated, Any

import typer

from centralita.analytics.engine import DIMENSIONS, INTERVALS
from centralita.analytics.queries import DateRange, kpi_report
from centralita.cli._common import TenantOption, ctx_obj, fail_on_error, print_table, resolve_tenant
from centralita.cli.tables import Col
from centralita.core.i18n import _

__all__ = ["dimensions_option", "parse_range", "register", "report_app"]

MAX_DAYS = 3700  # about ten years: a longer range is a typo

report_app = typer.Typer(help=_("Reports from the contact history: KPIs and business questions."), no_args_is_help=True)


def register(app: typer.Typer) -> None:
    report_app.command("kpis", help=_("KPIs (offered, answered, abandonment, service level, ASA, AHT, …)."))(kpis_cmd)
    app.add_typer(report_app, name="report")


def parse_range(first: str, last: str, timezone: str) -> DateRange:
    """`--from` and `--to` as local days; exit 2 naming the option when either is wrong."""
    days = []
    for flag, text in (("--from", first), ("--to", last)):
        try:
            days.append(dt.date.fromisoformat(text))
        except ValueError:
            raise typer.BadParameter(_("not a date (YYYY-MM-DD): {value!r}", value=text), param_hint=flag) from None
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
RATES = frozenset({"abandon_rate", "service_level", "transfer_rate", "self_service_rate", "fcr", "repeat_rate"})


def kpis_cmd(
    ctx: typer.Context,
    first: Annotated[str, typer.Option("--from", help=_("First day (YYYY-MM-DD, local), included"))],
    last: Annotated[str, typer.Option("--to", help=_("Last day (YYYY-MM-DD, local), included"))],
    by: Annotated[
        list[str] | None, typer.Option("--by", help=_("Group by: {names}", names=", ".join(DIMENSIONS)))
    ] = None,
    interval: Annotated[
        str | None, typer.Option("--interval", help=_("One row per interval: {names}", names="|".join(INTERVALS)))
    ] = None,
    threshold: Annotated[
        float | None,
        typer.Option("--threshold", help=_("Service-level threshold in seconds for every queue"), min=0, max=86400),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help=_("Print JSON instead of a table"))] = False,
    tenant_slug: str | None = TenantOption,
) -> None:
    if interval is not None and interval not in INTERVALS:
        raise typer.BadParameter(
            _("unknown interval {name!r}; one of {names}", name=interval, names=", ".join(INTERVALS)),
            param_hint="--interval",
        )
    dims = dimensions_option(by)
    with ctx_obj(ctx).service() as svc:
        tenant = resolve_tenant(svc, tenant_slug)
        days = parse_range(first, last, tenant.timezone)
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
    columns = [Col(k, _column(k), wrap=False) for k in keys] + [Col(k, _column(k), right=True) for k in KPI_COLUMNS]
    title = _("KPIs {first} – {last} ({tz})", first=days.first, last=days.last, tz=tenant.timezone)
    print_table(columns, [{k: _text(k, row.get(k)) for k in [*keys, *KPI_COLUMNS]} for row in rows], title)


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

"""The business reports: each a named question answered as a table and a chart, from the fact table.

A report is a function `(facts, ReportQuery, MetricsSettings) -> Report`, registered in `REPORTS` under its
name; the CLI (`centralita report NAME`), the API (`/api/reports/{name}`) and the web Reports area list and
run them from that registry, so a new report appears everywhere at once. Figures come from the engine and
`formulas.py`, never from formulas of their own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import polars as pl

from centralita.analytics.engine import KpiQuery, kpis
from centralita.analytics.settings import MetricsSettings
from centralita.core.i18n import _

__all__ = ["REPORTS", "Chart", "Column", "Report", "ReportQuery", "ReportSpec", "run_report"]

ColumnKind = Literal["text", "count", "rate", "seconds", "money", "score", "points"]


@dataclass(frozen=True)
class Column:
    """A table column: its key in the rows, its header (translated), and how to show its values:
    `rate` a fraction shown in percent, `seconds` a duration, `money` in the cost model's currency,
    `score` a mean rating, `points` NPS-like −100..+100, `count` an integer."""

    key: str
    title: str
    kind: ColumnKind = "count"


@dataclass(frozen=True)
class Chart:
    """How to draw the report: `bar` (grouped bars of `y` per `x`, one series per `series` value when set),
    `stacked` (stacked shares), or `line` (over time)."""

    type: Literal["bar", "stacked", "line"]
    x: str
    y: Sequence[str]
    series: str | None = None


@dataclass
class Report:
    name: str
    title: str
    description: str
    columns: list[Column]
    rows: list[dict[str, Any]]
    chart: Chart
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ReportQuery:
    """The range `[start, end)` in the tenant's time zone; `interval` for reports over time."""

    kpi: KpiQuery
    interval: str | None = None


ReportFn = Callable[[pl.DataFrame, ReportQuery, MetricsSettings], Report]


@dataclass(frozen=True)
class ReportSpec:
    name: str
    title: Callable[[], str]  # translated when asked (the language is per request)
    run: ReportFn


REPORTS: dict[str, ReportSpec] = {}


def report(name: str, title: Callable[[], str]) -> Callable[[ReportFn], ReportFn]:
    def register(fn: ReportFn) -> ReportFn:
        REPORTS[name] = ReportSpec(name, title, fn)
        return fn

    return register


def run_report(name: str, facts: pl.DataFrame, q: ReportQuery, s: MetricsSettings) -> Report:
    return REPORTS[name].run(facts, q, s)


@report("reason-mix", lambda: _("Contact-reason mix by segment"))
def reason_mix(facts: pl.DataFrame, q: ReportQuery, s: MetricsSettings) -> Report:
    """Why customers get in touch, per segment, value tier and lifecycle stage: contacts per reason and
    each reason's share of its segment."""
    query = KpiQuery(q.kpi.start, q.kpi.end, q.kpi.timezone, by=("segment", "reason"), families=("volume",))
    rows = kpis(facts, query, s)
    totals: dict[Any, int] = {}
    for row in rows:
        totals[row["segment"]] = totals.get(row["segment"], 0) + row["contacts"]
    table = [
        {
            "segment": row["segment"] or "unknown",
            "reason": row["reason"] or "unknown",
            "contacts": row["contacts"],
            "share": row["contacts"] / totals[row["segment"]] if totals[row["segment"]] else None,
        }
        for row in rows
        if row["contacts"]
    ]
    return Report(
        name="reason-mix",
        title=_("Contact-reason mix by segment"),
        description=_("Contacts per reason in each customer segment, and each reason's share of the segment."),
        columns=[
            Column("segment", _("segment"), "text"),
            Column("reason", _("reason"), "text"),
            Column("contacts", _("contacts"), "count"),
            Column("share", _("share of segment"), "rate"),
        ],
        rows=table,
        chart=Chart("stacked", x="segment", y=["share"], series="reason"),
    )

"""Reports from the contact history (supervisors and admins): the KPIs and the business reports.

- `GET /api/reports`: what there is to ask, the KPIs (their dimensions, intervals and columns) and every
  business report of `analytics.reports.REPORTS` (name, title, description, chart), with the contact
  center's time zone and local today (for a page's date presets).
- `GET /api/reports/kpis?from&to[&by][&interval][&threshold]`: `analytics.queries.kpi_report`'s rows (the
  keys of `centralita report kpis --json`), always as `groups` (one group without `by` or `interval`).
- `GET /api/reports/{name}?from&to[&by][&interval][&threshold]`: one business report: its columns (with
  how to show each), rows, chart and notes.

`from` and `to` are local calendar days of the contact center, both included (`analytics.queries.DateRange`),
at most `MAX_DAYS` apart; rates are fractions, durations seconds, and empty denominators null (metrics.md
§1.3). `format=csv` answers `text/csv` (a header of the column keys, then the rows as in JSON, null empty) as
a download. A range with too many intervals, or an answer with too many groups, is a 422 naming the field to
change, as is any other bad parameter; the reports are computed on the request's thread from the facts of the
range (`analytics.queries.tenant_facts`).
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import logging
import math
import zoneinfo
from collections.abc import Iterable, Sequence
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from centralita.analytics.engine import DIMENSIONS, INTERVALS, KpiQuery, default_interval
from centralita.analytics.facts import empty_facts
from centralita.analytics.queries import DateRange, kpi_report, tenant_facts
from centralita.analytics.reports import REPORTS, Report, ReportQuery, ReportSpec, run_report
from centralita.api.auth import ServiceDep, SupervisorActor
from centralita.core.actor import Actor
from centralita.core.errors import InvalidInput
from centralita.core.i18n import _
from centralita.core.metrics_settings import MetricsSettings, metrics_settings
from centralita.store import tables as t

__all__ = ["MAX_DAYS", "MAX_GROUPS", "MAX_INTERVALS", "router"]

router = APIRouter(tags=["reports"])

MAX_DAYS = 370  # a year and a bit: last year's month beside this one
MAX_INTERVALS = 5000  # intervals in one answer (15-minute ones: 52 days)
MAX_GROUPS = 10_000  # rows in one answer
MAX_DIMENSIONS = 3
FIRST_DAY, LAST_DAY = dt.date(1900, 1, 1), dt.date(2999, 12, 31)

Kind = Literal["text", "count", "rate", "seconds", "money", "score", "points", "number"]
CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "JSON, or CSV with format=csv"}
}


class ColumnOut(BaseModel):
    key: str = Field(description="the key of the values in each row")
    title: str = Field(description="the header, in the request's language")
    kind: Kind = Field(
        description="how to show the values: rate a fraction shown in percent, seconds a duration, money in the "
        "cost model's currency, score a mean rating, points −100..+100, count a whole number, number a plain "
        "decimal"
    )


class ChartOut(BaseModel):
    type: Literal["bar", "stacked", "line"]
    x: str = Field(description="the column along the x axis")
    y: list[str] = Field(description="the columns drawn")
    series: str | None = Field(default=None, description="a column whose values make one series each")


class Choice(BaseModel):
    name: str
    title: str


class ReportInfo(BaseModel):
    name: str
    title: str
    description: str
    chart: ChartOut
    by: list[Choice] = Field(description="its grouping choices (`by`, one of them), the first its default")
    intervals: list[Choice] = Field(description="its `interval` choices, the first its default")
    options: list[str] = Field(
        description="the parameters it takes besides from and to: by, interval, threshold, top, tier, z, level"
    )


class KpiInfo(BaseModel):
    name: Literal["kpis"] = "kpis"
    title: str
    description: str
    dimensions: list[Choice]
    intervals: list[Choice]
    default_interval: str = Field(description="the contact center's interval (`metrics.interval_minutes`)")
    columns: list[ColumnOut] = Field(description="every figure of a group, in the order a table shows them")
    max_dimensions: int


class ReportCatalog(BaseModel):
    timezone: str = Field(description="the contact center's time zone: days are its local days")
    today: dt.date = Field(description="today in that time zone")
    currency: str = Field(description="the cost model's currency (ISO 4217), for money columns")
    max_days: int
    max_intervals: int
    max_groups: int
    value_tiers: list[str] = Field(description="the contact center's value tiers, lowest first (for `tier`)")
    kpis: KpiInfo
    reports: list[ReportInfo]


class KpiRow(BaseModel):
    """One group's figures (metrics.md), plus `interval` (its local start) and one key per `by` dimension
    when asked. Counts are whole numbers, rates fractions, durations seconds; null: an empty denominator."""

    model_config = ConfigDict(extra="allow")

    contacts: int
    offered: int
    answered: int
    abandoned: int
    other_exits: int
    answered_within_threshold: int
    abandoned_within_threshold: int
    short_abandons: int
    service_level: float | None
    service_level_variant: str
    abandon_rate: float | None
    abandon_rate_variant: str
    asa_s: float | None
    average_wait_s: float | None
    average_abandon_time_s: float | None
    max_wait_s: float | None
    handled: int
    aht_s: float | None
    average_talk_s: float | None
    average_hold_s: float | None
    average_acw_s: float | None
    transfer_rate: float | None
    self_service_rate: float | None
    fcr: float | None
    fcr_eligible: int
    repeat_rate: float | None
    survey_responses: int
    csat: float | None
    ces: float | None
    nps: float | None


class KpiResult(BaseModel):
    timezone: str
    from_: dt.date = Field(alias="from", serialization_alias="from")
    to: dt.date
    by: list[str]
    interval: str | None
    threshold_s: float | None
    groups: list[KpiRow]

    model_config = ConfigDict(populate_by_name=True)


class ReportResult(BaseModel):
    name: str
    title: str
    description: str
    timezone: str
    currency: str = Field(description="the cost model's currency (ISO 4217), for money columns")
    from_: dt.date = Field(alias="from", serialization_alias="from")
    to: dt.date
    columns: list[ColumnOut]
    rows: list[dict[str, Any]]
    chart: ChartOut
    notes: list[str]

    model_config = ConfigDict(populate_by_name=True)


# the parameters every report takes
From = Annotated[str, Query(alias="from", description="the first local day, YYYY-MM-DD (included)")]
To = Annotated[str, Query(alias="to", description="the last local day, YYYY-MM-DD (included)")]
By = Annotated[
    list[str] | None,
    Query(description="group by these dimensions (comma-separated or repeated): " + ", ".join(DIMENSIONS)),
]
IntervalParam = Annotated[str | None, Query(description="one group per interval: " + ", ".join(INTERVALS))]
Threshold = Annotated[
    float | None,
    Query(ge=0, le=86400, allow_inf_nan=False, description="service-level threshold in seconds for every queue"),
]
Top = Annotated[int | None, Query(ge=1, le=1000, description="customers shown (reports that list customers)")]
Tier = Annotated[str | None, Query(max_length=50, description="the high value tier (default: the highest)")]
Z = Annotated[float | None, Query(ge=0.5, le=10, allow_inf_nan=False, description="an outlier is above this |z| score")]
Level = Annotated[int | None, Query(ge=1, le=5, description="the top skill level (1-5)")]
Format = Annotated[Literal["json", "csv"], Query(alias="format", description="csv: a text/csv download")]


def _day(name: str, text: str) -> dt.date:
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        raise InvalidInput.field(name, _("not a date (YYYY-MM-DD): {value!r}", value=text[:40]))
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidInput.field(name, _("not a date (YYYY-MM-DD): {value!r}", value=text)) from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise InvalidInput.field(name, _("must be between {first} and {last}", first=FIRST_DAY, last=LAST_DAY))
    return day


def _range(first: str, last: str, timezone: str) -> DateRange:
    a, b = _day("from", first), _day("to", last)
    if b < a:
        raise InvalidInput.field("to", _("is before from ({day})", day=a))
    if (b - a).days + 1 > MAX_DAYS:
        raise InvalidInput.field("to", _("the range is longer than {n} days", n=MAX_DAYS))
    return DateRange(a, b, timezone)


def _dimensions(values: Sequence[str] | None) -> list[str]:
    out: list[str] = []
    for value in values or ():
        for part in value.split(","):
            name = part.strip()
            if not name:
                continue
            if name not in DIMENSIONS:
                raise InvalidInput.field(
                    "by", _("unknown dimension {name!r}; one of {names}", name=name[:40], names=", ".join(DIMENSIONS))
                )
            if name not in out:
                out.append(name)
    if len(out) > MAX_DIMENSIONS:
        raise InvalidInput.field("by", _("at most {n} dimensions at once", n=MAX_DIMENSIONS))
    return out


def _interval(name: str | None, days: DateRange) -> str | None:
    if name is None or name == "":
        return None
    if name not in INTERVALS:
        raise InvalidInput.field(
            "interval", _("unknown interval {name!r}; one of {names}", name=name[:40], names=", ".join(INTERVALS))
        )
    minutes = INTERVALS[name]
    count = ((days.last - days.first).days + 1) * 24 * 60 // minutes if minutes else 0
    if count > MAX_INTERVALS:
        raise InvalidInput.field(
            "interval",
            _(
                "{count} intervals of {name} in the range, more than {n}: choose a longer interval or a shorter range",
                count=count,
                name=name,
                n=MAX_INTERVALS,
            ),
        )
    return name


def _too_many(count: int, interval: str | None) -> None:
    if count > MAX_GROUPS:
        field = "by" if interval is None else "interval"
        raise InvalidInput.field(
            field,
            _(
                "{count} groups, more than {n}: fewer dimensions, a longer interval or a shorter range",
                count=count,
                n=MAX_GROUPS,
            ),
        )


def _tenant(s: Session, actor: Actor) -> t.Tenant:
    tenant = s.get(t.Tenant, actor.tenant_id)
    assert tenant is not None  # the actor's session found it
    return tenant


def _csv(filename: str, keys: Sequence[str], rows: Iterable[dict[str, Any]]) -> Response:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(keys)
    for row in rows:
        writer.writerow([_cell(row.get(k)) for k in keys])
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def kpi_columns(settings: MetricsSettings) -> list[ColumnOut]:
    """The KPI figures a table shows, in order, with the kind the tenant's variants give them."""
    csat: Kind = "rate" if settings.csat.variant == "top2" else "score"
    ces: Kind = {"mean": "score", "agree": "rate"}.get(settings.ces.variant, "points")  # type: ignore[assignment]
    spec: list[tuple[str, str, Kind]] = [
        ("contacts", _("contacts"), "count"),
        ("offered", _("offered"), "count"),
        ("answered", _("answered"), "count"),
        ("abandoned", _("abandoned"), "count"),
        ("abandon_rate", _("abandonment"), "rate"),
        ("service_level", _("service level"), "rate"),
        ("asa_s", _("ASA"), "seconds"),
        ("asa_from_arrival_s", _("ASA from arrival"), "seconds"),
        ("average_wait_s", _("average wait"), "seconds"),
        ("max_wait_s", _("longest wait"), "seconds"),
        ("handled", _("handled"), "count"),
        ("aht_s", _("AHT"), "seconds"),
        ("average_talk_s", _("average talk"), "seconds"),
        ("average_hold_s", _("average hold"), "seconds"),
        ("average_acw_s", _("average wrap-up"), "seconds"),
        ("transfer_rate", _("transfers"), "rate"),
        ("self_service_rate", _("self-service"), "rate"),
        ("fcr", _("FCR"), "rate"),
        ("repeat_rate", _("repeats"), "rate"),
        ("segments_per_interaction", _("segments per interaction"), "number"),
        ("occupancy", _("occupancy"), "rate"),
        ("answer_rate", _("answer rate"), "rate"),
        ("survey_responses", _("surveys"), "count"),
        ("csat", _("CSAT"), csat),
        ("ces", _("CES"), ces),
        ("nps", _("NPS"), "points"),
        ("other_exits", _("other exits"), "count"),
        ("short_abandons", _("short abandons"), "count"),
    ]
    return [ColumnOut(key=k, title=title, kind=kind) for k, title, kind in spec]


def _dimension_title(name: str, fallback: str | None = None) -> str:
    titles = {
        "queue": _("queue"),
        "channel": _("channel"),
        "agent": _("agent"),
        "team": _("team"),
        "segment": _("segment"),
        "value_tier": _("value tier"),
        "lifecycle_stage": _("lifecycle stage"),
        "reason": _("reason"),
        "sub_reason": _("sub-reason"),
        "entry_point": _("entry point"),
        "direction": _("direction"),
        "hour": _("hour"),
        "day_of_week": _("day of week"),
        "customer": _("customer"),
    }
    return titles.get(name) or fallback or name.replace("_", " ")


def _interval_title(name: str) -> str:
    titles = {
        "15m": _("15 minutes"),
        "30m": _("30 minutes"),
        "1h": _("hour"),
        "day": _("day"),
        "week": _("week"),
        "month": _("month"),
    }
    return titles.get(name, name)


def _chart(report: Report) -> ChartOut:
    c = report.chart
    return ChartOut(type=c.type, x=c.x, y=list(c.y), series=c.series)


def _columns(report: Report) -> list[ColumnOut]:
    return [ColumnOut(key=c.key, title=c.title, kind=c.kind) for c in report.columns]


def _sample(spec: ReportSpec, days: DateRange, settings: MetricsSettings) -> Report:
    """The report run on no contacts: its translated title, description, columns and chart."""
    query = ReportQuery(KpiQuery(days.start, days.end, days.timezone))
    return spec.run(empty_facts(), query, settings)


def _declared(spec: ReportSpec) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]] | None:
    """A report's own `by` choices, `interval` choices and other options, when its registration says them."""
    if not hasattr(spec, "intervals"):
        return None
    return tuple(getattr(spec, "by", ())), tuple(getattr(spec, "intervals", ())), tuple(getattr(spec, "options", ()))


def _info(spec: ReportSpec, days: DateRange, settings: MetricsSettings) -> ReportInfo:
    declared = _declared(spec)
    sample: Report | None = None
    try:
        sample = _sample(spec, days, settings)
    except Exception:  # one report's fault must not hide the others: listed from its docstring, no chart
        logging.getLogger("centralita.api").exception("report %s fails on no contacts", spec.name)
        doc = (spec.run.__doc__ or "").strip().split("\n\n")[0]
        description, chart, line = " ".join(doc.split()), _NO_CHART, False
    else:
        description, chart, line = sample.description, _chart(sample), sample.chart.type == "line"
    titles = {} if sample is None else {c.key: c.title for c in sample.columns}
    if declared is None:  # a report that says nothing of its options: one drawn over time takes any interval
        by: tuple[str, ...] = ()
        intervals = tuple(INTERVALS) if line else ()
        options = ["interval"] if line else []
    else:
        by, intervals, others = declared
        options = (["by"] if by else []) + (["interval"] if intervals else []) + list(others)
    return ReportInfo(
        name=spec.name,
        title=spec.title(),
        description=description,
        chart=chart,
        by=[Choice(name=b, title=_dimension_title(b, titles.get(b))) for b in by],
        intervals=[Choice(name=i, title=_interval_title(i)) for i in intervals],
        options=options,
    )


_NO_CHART = ChartOut(type="bar", x="", y=[])


def _finite(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows with NaN and infinities as null (JSON has neither; metrics.md: an empty denominator is null)."""
    return [{k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in row.items()} for row in rows]


@router.get("/reports")
def list_reports(actor: SupervisorActor, svc: ServiceDep) -> ReportCatalog:
    """What there is to ask: the KPIs (dimensions, intervals, columns) and every business report."""
    with svc.db.read() as s:
        tenant = _tenant(s, actor)
        timezone, stored = tenant.timezone, tenant.settings
    tiers = [str(v) for v in (stored or {}).get("value_tiers") or []]
    settings = metrics_settings(stored)
    today = svc.clock.now().astimezone(zoneinfo.ZoneInfo(timezone)).date()
    days = DateRange(today, today, timezone)
    reports = [_info(spec, days, settings) for spec in REPORTS.values()]
    kpis = KpiInfo(
        title=_("KPIs"),
        description=_(
            "Offered, answered and abandoned contacts, service level, waits, handle times, transfers, FCR and "
            "surveys, for the whole range, per interval or per dimension."
        ),
        dimensions=[Choice(name=d, title=_dimension_title(d)) for d in DIMENSIONS],
        intervals=[Choice(name=i, title=_interval_title(i)) for i in INTERVALS],
        default_interval=default_interval(settings),
        columns=kpi_columns(settings),
        max_dimensions=MAX_DIMENSIONS,
    )
    return ReportCatalog(
        timezone=timezone,
        today=today,
        currency=settings.cost.currency,
        max_days=MAX_DAYS,
        max_intervals=MAX_INTERVALS,
        max_groups=MAX_GROUPS,
        value_tiers=tiers,
        kpis=kpis,
        reports=reports,
    )


@router.get("/reports/kpis", response_model=KpiResult, responses=CSV_RESPONSE)
def kpis(
    actor: SupervisorActor,
    svc: ServiceDep,
    first: From,
    last: To,
    by: By = None,
    interval: IntervalParam = None,
    threshold: Threshold = None,
    as_format: Format = "json",
) -> KpiResult | Response:
    """The KPIs of the local days `from` to `to`: one group for the whole range, or one per interval and
    dimension values (the keys of `centralita report kpis --json`), with the contact center's metric variants."""
    with svc.db.read() as s:
        tenant = _tenant(s, actor)
        days = _range(first, last, tenant.timezone)
        dims = _dimensions(by)
        step = _interval(interval, days)
        rows = _finite(kpi_report(s, tenant, days, by=dims, interval=step, threshold_s=threshold))
    _too_many(len(rows), step)
    if as_format == "csv":
        keys = (["interval"] if step else []) + [DIMENSIONS[d] for d in dims]
        keys += [k for k in (rows[0] if rows else KpiRow.model_fields) if k not in keys]
        return _csv(f"kpis_{days.first}_{days.last}.csv", keys, rows)
    return KpiResult(
        timezone=days.timezone,
        from_=days.first,
        to=days.last,
        by=dims,
        interval=step,
        threshold_s=threshold,
        groups=[KpiRow.model_validate(row) for row in rows],
    )


@router.get("/reports/{name}", response_model=ReportResult, responses=CSV_RESPONSE)
def business_report(
    name: str,
    actor: SupervisorActor,
    svc: ServiceDep,
    first: From,
    last: To,
    by: By = None,
    interval: IntervalParam = None,
    threshold: Threshold = None,
    top: Top = None,
    tier: Tier = None,
    z: Z = None,
    level: Level = None,
    as_format: Format = "json",
) -> ReportResult | Response:
    """One business report of the local days `from` to `to` (the names `GET /api/reports` lists): its columns,
    rows, chart and notes. It takes the options its listing names (`by` one of its choices, `interval` one of
    its intervals, `top`, `tier`, `z`, `level`); `threshold` reaches the KPIs it uses."""
    spec = REPORTS.get(name)
    if spec is None:
        raise InvalidInput.field(
            "name", _("unknown report {name!r}; one of {names}", name=name[:60], names=", ".join(["kpis", *REPORTS]))
        )
    declared = _declared(spec)
    with svc.db.read() as s:
        tenant = _tenant(s, actor)
        days = _range(first, last, tenant.timezone)
        settings = metrics_settings(tenant.settings)
        tiers = [str(v) for v in (tenant.settings or {}).get("value_tiers") or []]
        if declared is None:  # a report that says nothing of its options: dimensions and intervals reach it as such
            for key, value in (("top", top), ("tier", tier), ("z", z), ("level", level)):
                if value is not None:
                    raise InvalidInput.field(key, _("not an option here"))
            options: dict[str, Any] = {}
            dims, step = _dimensions(by), _interval(interval, days)
        else:
            dims, step, options = _report_options(name, declared, days, by, interval, top, tier, z, level, tiers)
        facts = tenant_facts(s, tenant, days, settings.fcr.window_days + 1)
    kpi = KpiQuery(days.start, days.end, days.timezone, by=dims, interval=step, threshold_s=threshold)
    known = {f.name for f in dataclasses.fields(ReportQuery)}
    options["interval"] = step
    report = run_report(name, facts, ReportQuery(kpi, **{k: v for k, v in options.items() if k in known}), settings)
    _too_many(len(report.rows), step)
    rows = _finite(report.rows)
    if as_format == "csv":
        return _csv(f"{name}_{days.first}_{days.last}.csv", [c.key for c in report.columns], rows)
    return ReportResult(
        name=report.name,
        title=report.title,
        description=report.description,
        timezone=days.timezone,
        currency=getattr(report, "currency", "") or settings.cost.currency,
        from_=days.first,
        to=days.last,
        columns=_columns(report),
        rows=rows,
        chart=_chart(report),
        notes=list(report.notes),
    )


def _report_options(
    name: str,
    declared: tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]],
    days: DateRange,
    by: Sequence[str] | None,
    interval: str | None,
    top: int | None,
    tier: str | None,
    z: float | None,
    level: int | None,
    tiers: list[str],
) -> tuple[list[str], str | None, dict[str, Any]]:
    """The options of a report that declares them, each checked against its choices (422 naming it)."""
    choices, intervals, others = declared
    options: dict[str, Any] = {}
    picked = [p.strip() for value in by or () for p in value.split(",") if p.strip()]
    if picked:
        if len(picked) > 1 or picked[0] not in choices:
            names = ", ".join(choices) or "—"
            raise InvalidInput.field(
                "by",
                _("{name} groups by one of {names}", name=name, names=names) if choices else _("not an option here"),
            )
        options["by"] = picked[0]
    step: str | None = None
    if interval:
        if interval not in intervals:
            raise InvalidInput.field(
                "interval",
                _("unknown interval {name!r}; one of {names}", name=interval[:40], names=", ".join(intervals) or "—"),
            )
        step = _interval(interval, days)
    for key, value in (("top", top), ("z", z), ("level", level)):
        if value is not None:
            if key not in others:
                raise InvalidInput.field(key, _("not an option here"))
            options[key] = value
    if "tier" in others:
        if tier is not None and tiers and tier not in tiers:
            raise InvalidInput.field(
                "tier", _("unknown value tier {name!r}; one of {names}", name=tier, names=", ".join(tiers))
            )
        options["tier"] = tier if tier is not None else (tiers[-1] if tiers else None)
    elif tier is not None:
        raise InvalidInput.field("tier", _("not an option here"))
    return [], step, options

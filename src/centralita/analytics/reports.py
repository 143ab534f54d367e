"""The business reports: each a named question answered as a table and a chart, from the fact table.

A report is a function `(facts, ReportQuery, MetricsSettings) -> Report`, registered in `REPORTS` under its
name; the CLI (`centralita report NAME`), the API (`/api/reports/{name}`) and the web Reports area list and
run them from that registry, so a new report appears everywhere at once. Figures come from the engine and
`formulas.py`, never from formulas of their own: KPIs by group from `kpis`, a contact's cost from
`formulas.contact_cost`, repeats from `formulas.repeat_contacts`, spreads from `formulas.spread`; a report
only counts, sums and selects. docs/analytics.md ("Business reports") defines each one.

Contacts count in the range by their `initiation_ts` (volume, cost, preference, avoidable contacts,
complaints); engine figures keep the engine's attribution (metrics.md §1.3).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import polars as pl
from sqlalchemy.orm import Session

from centralita.analytics import formulas as f
from centralita.analytics.engine import KpiQuery, add_local_time, interval_label, kpis
from centralita.analytics.facts import TOP_SKILL_LEVEL, to_us
from centralita.analytics.queries import DateRange, tenant_facts
from centralita.core.i18n import _
from centralita.core.metrics_settings import MetricsSettings, metrics_settings
from centralita.store import tables as t

__all__ = [
    "COMPLAINT_PATTERN",
    "REPORTS",
    "Chart",
    "Column",
    "Report",
    "ReportQuery",
    "ReportSpec",
    "contact_costs",
    "is_complaint",
    "run_report",
    "tenant_report",
]

ColumnKind = Literal["text", "count", "rate", "seconds", "money", "score", "points", "number"]
US = f.US
UNKNOWN = "unknown"
# a reason is a complaint when its code or its reason group's code says so (the demo bank's group
# `reclamaciones`): English, Spanish with or without the accent, and `queja`
COMPLAINT_PATTERN = re.compile(r"complaint|reclamaci[oó]n|queja", re.IGNORECASE)


@dataclass(frozen=True)
class Column:
    """A table column: its key in the rows, its header (translated), and how to show its values:
    `rate` a fraction shown in percent, `seconds` a duration, `money` in the cost model's currency,
    `score` a mean rating, `points` NPS-like −100..+100, `count` an integer, `number` a plain decimal."""

    key: str
    title: str
    kind: ColumnKind = "count"


@dataclass(frozen=True)
class Chart:
    """How to draw the report: `bar` (bars of each `y` per `x`, one series per `series` value when set),
    `stacked` (stacked shares of `y[0]` per `x`, one layer per `series` value), or `line` (each `y` over
    `x`, the time, one line per `series` value). Each `y` gets its own panel."""

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
    currency: str = ""  # of `money` columns


@dataclass(frozen=True)
class ReportQuery:
    """The range `[start, end)` in the tenant's time zone, and each report's options: `interval` for
    reports over time (week or month), `by` the grouping (a report's `by` choices), `top` the number of
    customers, `tier` the high value tier (default: the tenant's last `value_tiers`), `z` the outlier
    threshold, `level` the top skill level."""

    kpi: KpiQuery
    interval: str | None = None
    by: str | None = None
    top: int = 10
    tier: str | None = None
    z: float = 2.0
    level: int = TOP_SKILL_LEVEL


ReportFn = Callable[[pl.DataFrame, ReportQuery, MetricsSettings], Report]


@dataclass(frozen=True)
class ReportSpec:
    name: str
    title: Callable[[], str]  # translated when asked (the language is per request)
    run: ReportFn
    by: tuple[str, ...] = ()  # the `by` choices, the first the default
    intervals: tuple[str, ...] = ()  # the `interval` choices, the first the default
    options: tuple[str, ...] = ()  # other ReportQuery fields it reads: top, tier, z, level


REPORTS: dict[str, ReportSpec] = {}


def report(
    name: str,
    title: Callable[[], str],
    by: tuple[str, ...] = (),
    intervals: tuple[str, ...] = (),
    options: tuple[str, ...] = (),
) -> Callable[[ReportFn], ReportFn]:
    def register(fn: ReportFn) -> ReportFn:
        REPORTS[name] = ReportSpec(name, title, fn, by, intervals, options)
        return fn

    return register


def run_report(name: str, facts: pl.DataFrame, q: ReportQuery, s: MetricsSettings) -> Report:
    """Run a registered report; a `by` or `interval` not among its choices is a ValueError."""
    spec = REPORTS[name]
    if q.by is not None and q.by not in spec.by:
        raise ValueError(f"{name}: unknown by {q.by!r}; one of {', '.join(spec.by)}")
    if q.interval is not None and q.interval not in spec.intervals:
        raise ValueError(f"{name}: unknown interval {q.interval!r}; one of {', '.join(spec.intervals)}")
    return spec.run(facts, q, s)


def tenant_report(
    session: Session,
    tenant: t.Tenant,
    name: str,
    days: DateRange,
    settings: MetricsSettings | None = None,
    **options: Any,
) -> Report:
    """A report over the tenant's local `days`, with its metric choices and cost model; `options` are the
    ReportQuery fields (by, interval, top, tier, z, level)."""
    s = settings or metrics_settings(tenant.settings)
    facts = tenant_facts(session, tenant, days, s.fcr.window_days + 1)
    if options.get("tier") is None:
        tiers = (tenant.settings or {}).get("value_tiers") or []
        options["tier"] = tiers[-1] if tiers else None
    query = ReportQuery(KpiQuery(days.start, days.end, days.timezone), **options)
    return run_report(name, facts, query, s)


# ---------------------------------------------------------------- helpers


def _range(facts: pl.DataFrame, q: ReportQuery) -> pl.DataFrame:
    """The contacts begun in the range."""
    lo, hi = to_us(q.kpi.start), to_us(q.kpi.end)
    return facts.filter(
        pl.col("initiation_us").is_not_null() & (pl.col("initiation_us") >= lo) & (pl.col("initiation_us") < hi)
    )


def _text(value: Any) -> str:
    return UNKNOWN if value is None else str(value)


def _kpi(q: ReportQuery, by: Sequence[str] = (), families: Sequence[str] | None = None) -> KpiQuery:
    base = KpiQuery(q.kpi.start, q.kpi.end, q.kpi.timezone, by=by, threshold_s=q.kpi.threshold_s)
    if families is not None:
        base.families = families
    return base


def contact_costs(facts: pl.DataFrame, s: MetricsSettings) -> pl.DataFrame:
    """Each contact's cost (metrics.md §5, `formulas.contact_cost`) and its parts, in the cost model's
    currency: `cost_agent` (the agent's own hourly cost, else the model's, × handle time), `cost_telephony`
    (voice only: initiation to disconnect), `cost_flow` (the IVR or bot: initiation to enqueue, or to
    disconnect when it never queued nor reached an agent), `cost_fixed` (the channel's), and `cost`."""
    m = s.cost
    handle = (
        pl.when(pl.col("connected_us").is_not_null() & pl.col("agent_end_us").is_not_null())
        .then(
            pl.col("agent_end_us")
            - pl.col("connected_us")
            + (pl.col("acw_end_us") - pl.col("acw_start_us")).fill_null(0)
        )
        .otherwise(0)
    )
    call_end = pl.coalesce("disconnect_us", "agent_end_us", "initiation_us")
    call = pl.when(pl.col("channel") == "voice").then(call_end - pl.col("initiation_us")).otherwise(0)
    flow = (
        pl.when(pl.col("enqueue_us").is_not_null())
        .then(pl.col("enqueue_us") - pl.col("initiation_us"))
        .when(pl.col("connected_us").is_null() & pl.col("disconnect_us").is_not_null())
        .then(pl.col("disconnect_us") - pl.col("initiation_us"))
        .otherwise(0)
    )
    parts = facts.select(
        handle.fill_null(0).clip(lower_bound=0).alias("h"),
        call.fill_null(0).clip(lower_bound=0).alias("c"),
        flow.fill_null(0).clip(lower_bound=0).alias("w"),
        pl.col("agent_hourly_cost").fill_null(m.agent_hour).alias("rate"),
        pl.col("channel"),
    )
    agent, telephony, ivr, fixed, total = [], [], [], [], []
    per_channel: dict[str, float] = {str(k): v for k, v in m.per_channel.items()}
    for h, c, w, rate, channel in parts.iter_rows():
        handle_s, call_s, flow_s = h / US, c / US, w / US
        fix = per_channel.get(channel, 0.0)
        agent.append(f.contact_cost(handle_s, 0, 0, rate, 0, 0))
        telephony.append(f.contact_cost(0, call_s, 0, 0, m.telephony_minute, 0))
        ivr.append(f.contact_cost(0, 0, flow_s, 0, 0, m.ivr_minute))
        fixed.append(fix)
        total.append(f.contact_cost(handle_s, call_s, flow_s, rate, m.telephony_minute, m.ivr_minute, fix))
    return facts.with_columns(
        pl.Series("cost_agent", agent, pl.Float64),
        pl.Series("cost_telephony", telephony, pl.Float64),
        pl.Series("cost_flow", ivr, pl.Float64),
        pl.Series("cost_fixed", fixed, pl.Float64),
        pl.Series("cost", total, pl.Float64),
    )


def _repeat_flags(facts: pl.DataFrame, s: MetricsSettings) -> pl.DataFrame:
    """`repeat` per contact: its interaction (contacts sharing `initial_contact_id`) is a repeat of an
    earlier one of the same customer (`formulas.repeat_contacts`, metrics.md §4.2)."""
    chain = pl.coalesce("initial_contact_id", "id")
    key = "sub_reason" if s.fcr.match == "sub_reason" else "reason"
    framed = facts.with_columns(chain.alias("_chain"))
    chains = (
        framed.filter(pl.col("customer_id").is_not_null())
        .sort("_chain", "initiation_us", "id")
        .group_by("_chain", maintain_order=True)
        .agg(
            pl.col("customer_id").last(),
            pl.col(key).drop_nulls().last().alias("_reason"),
            pl.col("initiation_us").first(),
            pl.coalesce("disconnect_us", "agent_end_us", "initiation_us").max().alias("_end"),
            ((pl.col("direction").first() == "inbound") | (pl.col("initiation_method").first() == "CALLBACK")).alias(
                "_cust"
            ),
            pl.col("connected_us").is_not_null().any().alias("_handled"),
        )
    )
    interactions = [
        f.Interaction(str(cust), reason, reason, begin / US, end / US, bool(cust_init), bool(handled))
        for _chain, cust, reason, begin, end, cust_init, handled in chains.iter_rows()
    ]
    flags = f.repeat_contacts(interactions, s.fcr.window_days, s.fcr.match)
    marked = chains.select("_chain").with_columns(pl.Series("repeat", flags, pl.Boolean))
    return framed.join(marked, on="_chain", how="left").with_columns(pl.col("repeat").fill_null(False)).drop("_chain")


def is_complaint() -> pl.Expr:
    """A contact about a complaint: its reason's code or its reason group's code matches COMPLAINT_PATTERN."""
    pattern = "(?i)" + COMPLAINT_PATTERN.pattern
    return pl.col("reason").fill_null("").str.contains(pattern) | pl.col("reason_group").fill_null("").str.contains(
        pattern
    )


# ---------------------------------------------------------------- reason mix

MIX_BY = ("segment", "value_tier", "lifecycle_stage")


def _group_title(by: str) -> str:
    titles = {
        "segment": _("segment"),
        "value_tier": _("value tier"),
        "lifecycle_stage": _("lifecycle stage"),
        "reason": _("reason"),
        "channel": _("channel"),
        "agent": _("agent"),
        "customer": _("customer"),
    }
    return titles.get(by, by)


@report("reason-mix", lambda: _("Contact-reason mix by segment"), by=MIX_BY)
def reason_mix(facts: pl.DataFrame, q: ReportQuery, s: MetricsSettings) -> Report:
    """Why customers get in touch, per segment, value tier or lifecycle stage: contacts per reason and
    each reason's share of its group."""
    by = q.by or "segment"
    rows = kpis(facts, _kpi(q, by=(by, "reason"), families=("contacts",)), s)
    totals: dict[Any, int] = {}
    for row in rows:
        totals[row[by]] = totals.get(row[by], 0) + row["contacts"]
    table = [
        {
            by: _text(row[by]),
            "reason": _text(row["reason"]),
            "contacts": row["contacts"],
            "share": f.ratio(row["contacts"], totals[row[by]]),
        }
        for row in rows
        if row["contacts"]
    ]
    return Report(
        name="reason-mix",
        title=_("Contact-reason mix by {group}", group=_group_title(by)),
        description=_("Contacts per reason in each group of customers, and each reason's share of the group."),
        columns=[
            Column(by, _group_title(by), "text"),
            Column("reason", _("reason"), "text"),
            Column("contacts", _("contacts"), "count"),
            Column("share", _("share of group"), "rate"),
        ],
        rows=table,
        chart=Chart("stacked", x=by, y=["share"], series="reason"),
        notes=[_("Contacts count on the day they began; unidentified customers are in 'unknown'.")],
    )


# ---------------------------------------------------------------- cost to serve

COST_BY = ("segment", "reason", "customer")


@report("cost-to-serve", lambda: _("Cost to serve"), by=COST_BY, options=("top",))
def cost_to_serve(facts: pl.DataFrame, q: ReportQuery, s: MetricsSettings) -> Report:
    """What serving each segment, reason or customer (the `top` most expensive) costs: total, contacts and
    cost per contact, each contact costed from its own activity (metrics.md §5)."""
    by = q.by or "segment"
    column = "customer_id" if by == "customer" else by
    costed = contact_costs(_range(facts, q), s)
    if by == "customer":
        costed = costed.filter(pl.col("customer_id").is_not_null())
    grouped = costed.group_by(column).agg(
        pl.len().alias("contacts"),
        pl.col("connected_us").is_not_null().sum().alias("handled"),
        pl.col("cost_agent").sum(),
        pl.col("cost_telephony").sum(),
        pl.col("cost_flow").sum(),
        pl.col("cost_fixed").sum(),
        pl.col("cost").sum().alias("total_cost"),
    )
    grouped = grouped.sort(["total_cost", column], descending=[True, False], nulls_last=True)
    if by == "customer":
        grouped = grouped.head(q.top)
    rows = []
    for row in grouped.iter_rows(named=True):
        row[by] = _text(row.pop(column))
        row["cost_per_contact"] = f.ratio(row["total_cost"], row["contacts"])
        rows.append(row)
    total = float(costed["cost"].sum()) if costed.height else 0.0
    m = s.cost
    notes = [
        _(
            "A contact costs agent cost per hour × handle time + telephony per minute × call minutes (voice) + "
            "IVR per minute × flow minutes + the channel's fixed cost; a group's cost per contact is its cost "
            "over its contacts (metrics.md §5)."
        ),
        _(
            "Cost model: agent {agent}/h (or the agent's own), telephony {tel}/min, IVR {ivr}/min, {currency}.",
            agent=m.agent_hour,
            tel=m.telephony_minute,
            ivr=m.ivr_minute,
            currency=m.currency,
        ),
        _("All contacts: {n}, cost {cost:.2f} {currency}.", n=costed.height, cost=total, currency=m.currency),
    ]
    # the headline figure of metrics.md §5: the period's cost over handled (or inbound) contacts
    if s.cost_per_contact.denominator == "handled":
        denominator = int(costed["connected_us"].is_not_null().sum()) if costed.height else 0
        headline = _("Cost per handled contact: {cost} {currency}.", cost="{cost}", currency=m.currency)
    else:
        denominator = int((costed["direction"] == "inbound").sum()) if costed.height else 0
        headline = _("Cost per inbound contact: {cost} {currency}.", cost="{cost}", currency=m.currency)
    per_contact = f.ratio(total, denominator)
    notes.append(headline.replace("{cost}", "—" if per_contact is None else f"{per_contact:.2f}"))
    if by == "customer":
        notes.append(_("The {n} identified customers that cost the most.", n=q.top))
    return Report(
        name="cost-to-serve",
        title=_("Cost to serve by {group}", group=_group_title(by)),
        description=_("Total cost, contacts and cost per contact, each contact costed from its own activity."),
        columns=[
            Column(by, _group_title(by), "text"),
            Column("contacts", _("contacts"), "count"),
            Column("handled", _("handled"), "count"),
            Column("total_cost", _("total cost"), "money"),
            Column("cost_per_contact", _("cost per contact"), "money"),
            Column("cost_agent", _("agents"), "money"),
            Column("cost_telephony", _("telephony"), "money"),
            Column("cost_flow", _("IVR"), "money"),
            Column("cost_fixed", _("fixed"), "money"),
        ],
        rows=rows,
        chart=Chart("bar", x=by, y=["total_cost" if by == "customer" else "cost_per_contact"]),
        notes=notes,
        currency=m.currency,
    )


# ---------------------------------------------------------------- satisfaction

SATISFACTION_BY = ("segment", "reason", "channel", "agent")


def _survey_kinds(s: MetricsSettings) -> tuple[ColumnKind, ColumnKind]:
    csat: ColumnKind = "rate" if s.csat.variant == "top2" else "score"
    ces: ColumnKind = {"mean": "score", "agree": "rate", "index": "points"}[s.ces.variant]  # type: ignore[assignment]
    return csat, ces


@report("satisfaction", lambda: _("Customer satisfaction and effort"), by=SATISFACTION_BY)
def satisfaction(facts: pl.DataFrame, q: ReportQuery, s: MetricsSettings) -> Report:
    """CSAT, CES and NPS by segment, reason, channel or agent, with the tenant's variants and the number
    of survey responses behind each."""
    by = q.by or "segment"
    rows = kpis(facts, _kpi(q, by=(by,), families=("survey",)), s)
    table = [
        {by: _text(r[by]), "responses": r["survey_responses"], "csat": r["csat"], "ces": r["ces"], "nps": r["nps"]}
        for r in rows
        if r["survey_responses"]
    ]
    table.sort(key=lambda r: (-r["responses"], r[by]))
    csat_kind, ces_kind = _survey_kinds(s)
    return Report(
        name="satisfaction",
        title=_("Satisfaction by {group}", group=_group_title(by)),
        description=_("CSAT, CES and NPS over survey responses, with the contact center's chosen variants."),
        columns=[
            Column(by, _group_title(by), "text"),
            Column("responses", _("responses"), "count"),
            Column("csat", _("CSAT ({variant})", variant=s.csat.variant), csat_kind),
            Column("ces", _("CES ({variant})", variant=s.ces.variant), ces_kind),
            Column("nps", _("NPS"), "points"),
        ],
        rows=table,
        chart=Chart("bar", x=by, y=["csat", "ces", "nps"]),
        notes=[
            _(
                "CSAT top2: share of answers 4–5 (mean: mean rating 1–5); CES mean 1–7 (agree: share 5–7; index: "
                "% 6–7 − % 1–3); NPS: % 9–10 − % 0–6 (metrics.md §4.3). A survey counts with its contact's end."
            )
        ],
    )


# ---------------------------------------------------------------- channel preference

PREFERENCE = ("self_service", "agent_voice", "agent_chat_email", "agent_other", "not_served")


@report("channel-preference", lambda: _("Channel preference"), intervals=("month", "week"))
def channel_preference(facts: pl.DataFrame, q: ReportQuery, s: MetricsSettings) -> Report:
    """How each segment is served — self-service in the flow, an agent on voice, an agent on chat or
    e-mail, an agent elsewhere, or not at all — and how the shares move per month or week."""
    interval = q.interval or "month"
    frame = _range(facts, q)
    agent = pl.col("connected_us").is_not_null()
    kind = (
        pl.when(pl.col("self_service").fill_null(False) & pl.col("enqueue_us").is_null() & ~agent)
        .then(pl.lit("self_service"))
        .when(agent & (pl.col("channel") == "voice"))
        .then(pl.lit("agent_voice"))
        .when(agent & pl.col("channel").is_in(["chat", "email"]))
        .then(pl.lit("agent_chat_email"))
        .when(agent)
        .then(pl.lit("agent_other"))
        .otherwise(pl.lit("not_served"))
    )
    frame = add_local_time(frame.with_columns(kind.alias("_kind")), "initiation_us", q.kpi.timezone, interval)
    counts = frame.group_by("interval", "segment", "_kind").agg(pl.len().alias("n"))
    table: dict[tuple[int, str], dict[str, Any]] = {}
    for key, segment, k, n in counts.iter_rows():
        table.setdefault((key, _text(segment)), dict.fromkeys(PREFERENCE, 0))[k] = n
    rows = []
    for (key, segment), n in sorted(table.items()):
        contacts = sum(n.values())
        row: dict[str, Any] = {"period": interval_label(key, interval, q.kpi.timezone), "segment": segment}
        row["contacts"] = contacts
        row.update({k: f.ratio(n[k], contacts) for k in PREFERENCE})
        rows.append(row)
    return Report(
        name="channel-preference",
        title=_("Channel preference by segment"),
        description=_(
            "Share of each segment's contacts served by self-service in the flow, by an agent on voice, by an "
            "agent on chat or e-mail, by an agent on another channel, or not served, per {interval}.",
            interval=_("month") if interval == "month" else _("week"),
        ),
        columns=[
            Column("period", _("period"), "text"),
            Column("segment", _("segment"), "text"),
            Column("contacts", _("contacts"), "count"),
            Column("self_service", _("self-service"), "rate"),
            Column("agent_voice", _("agent, voice"), "rate"),
            Column("agent_chat_email", _("agent, chat or e-mail"), "rate"),
            Column("agent_other", _("agent, other"), "rate"),
            Column("not_served", _("not served"), "rate"),
        ],
        rows=rows,
        chart=Chart("line", x="period", y=["self_service", "agent_voice", "agent_chat_email"], series="segment"),
        notes=[
            _(
                "Self-service: ended in the flow with self_service set and never queued (metrics.md §5). Not "
                "served: abandoned, or left the flow or the queue without an agent. Periods are local; a "
                "contact counts in the period it began."
            )
        ],
    )


# ---------------------------------------------------------------- avoidable contacts

AVOIDABLE_BY = ("kind", "reason")


@report("avoidable-contacts", lambda: _("Avoidable contacts"), by=AVOIDABLE_BY)
def avoidable_contacts(facts: pl.DataFrame, q: ReportQuery, s: MetricsSettings) -> Report:
    """Contacts that need not have happened: repeats within the FCR window, transfers, and contacts whose
    reason is marked avoidable; how many and what they cost, ranked by cost."""
    flagged = _repeat_flags(facts, s)
    costed = contact_costs(_range(flagged, q), s).with_columns(
        (pl.col("transferred").fill_null(False) & pl.col("connected_us").is_not_null()).alias("transfer"),
        pl.col("reason_avoidable").fill_null(False).alias("avoidable_reason"),
    )
    total_n, total_cost = costed.height, float(costed["cost"].sum()) if costed.height else 0.0
    kinds = {
        "repeat": _("repeat contact"),
        "transfer": _("transferred"),
        "avoidable_reason": _("avoidable reason"),
    }
    keys = ["kind"] + (["reason"] if q.by == "reason" else [])
    parts = []
    for kind in kinds:
        part = costed.filter(pl.col(kind)).with_columns(pl.lit(kind).alias("kind"))
        parts.append(part.select("kind", "reason", "cost"))
    any_kind = costed.filter(pl.col("repeat") | pl.col("transfer") | pl.col("avoidable_reason"))
    parts.append(any_kind.with_columns(pl.lit("any").alias("kind")).select("kind", "reason", "cost"))
    if q.by != "reason":  # every kind gets a row, none of them too
        parts.append(pl.DataFrame({"kind": [*kinds, "any"]}).with_columns(reason=pl.lit(None, pl.String), cost=None))
    grouped = (
        pl.concat(parts, how="vertical_relaxed")
        .group_by(keys)
        .agg(pl.col("cost").is_not_null().sum().alias("contacts"), pl.col("cost").sum())
        .sort(["cost", *keys], descending=[True] + [False] * len(keys), nulls_last=True)
    )
    labels = {**kinds, "any": _("any of them")}
    rows = []
    for row in grouped.iter_rows(named=True):
        out: dict[str, Any] = {"kind": labels[row["kind"]]}
        if q.by == "reason":
            out["reason"] = _text(row["reason"])
        out.update(
            contacts=row["contacts"],
            share=f.ratio(row["contacts"], total_n),
            cost=row["cost"],
            cost_share=f.ratio(row["cost"], total_cost),
            cost_per_contact=f.ratio(row["cost"], row["contacts"]),
        )
        rows.append(out)
    columns = [Column("kind", _("kind"), "text")]
    if q.by == "reason":
        columns.append(Column("reason", _("reason"), "text"))
    columns += [
        Column("contacts", _("contacts"), "count"),
        Column("share", _("share of contacts"), "rate"),
        Column("cost", _("cost"), "money"),
        Column("cost_share", _("share of cost"), "rate"),
        Column("cost_per_contact", _("cost per contact"), "money"),
    ]
    return Report(
        name="avoidable-contacts",
        title=_("Avoidable contacts"),
        description=_("Repeat contacts, transfers and contacts about avoidable reasons: how many, and their cost."),
        columns=columns,
        rows=rows,
        chart=Chart("bar", x="kind", y=["cost"], series="reason" if q.by == "reason" else None),
        notes=[
            _(
                "Repeat: the same customer with the same reason ({match}) within {days} days of the end of an "
                "earlier handled interaction (metrics.md §4.2). Transferred: handled and transferred. Avoidable "
                "reason: the reason is marked avoidable (self-service could serve it). A contact can be of "
                "several kinds; 'any of them' counts it once.",
                match=s.fcr.match,
                days=s.fcr.window_days,
            ),
            _("All contacts: {n}, cost {cost:.2f} {currency}.", n=total_n, cost=total_cost, currency=s.cost.currency),
        ],
        currency=s.cost.currency,
    )


# ---------------------------------------------------------------- agent variability

VARIABILITY = ("aht_s", "aht_ratio", "fcr", "csat", "transfer_rate")


@report("agent-variability", lambda: _("Agent variability"), options=("z",))
def agent_variability(facts: pl.DataFrame, q: ReportQuery, s: MetricsSettings) -> Report:
    """How far apart agents are: AHT (and AHT against what their mix of reasons would take at the
    center's AHT per reason), FCR, CSAT and transfer rate, with mean, standard deviation and outliers."""
    agents = [r for r in kpis(facts, _kpi(q, by=("agent",)), s) if r["agent"] is not None and r["handled"]]
    center = {r["reason"]: r["aht_s"] for r in kpis(facts, _kpi(q, by=("reason",), families=("handle",)), s)}
    expected_s: dict[str, float] = {}
    for r in kpis(facts, _kpi(q, by=("agent", "reason"), families=("handle",)), s):
        if r["agent"] is not None and r["handled"] and center.get(r["reason"]) is not None:
            expected_s[r["agent"]] = expected_s.get(r["agent"], 0.0) + r["handled"] * center[r["reason"]]
    rows = []
    for r in agents:
        expected = f.ratio(expected_s.get(r["agent"], 0.0), r["handled"])
        rows.append(
            {
                "agent": r["agent"],
                "handled": r["handled"],
                "aht_s": r["aht_s"],
                "expected_aht_s": expected,
                "aht_ratio": None if r["aht_s"] is None or not expected else r["aht_s"] / expected,
                "fcr": r["fcr"],
                "csat": r["csat"],
                "transfer_rate": r["transfer_rate"],
            }
        )
    names = {
        "aht_s": _("AHT"),
        "aht_ratio": _("AHT / expected"),
        "fcr": _("FCR"),
        "csat": _("CSAT"),
        "transfer_rate": _("transfer rate"),
    }
    notes = [
        _(
            "Expected AHT: what the agent's contacts would take at the center's AHT for each reason "
            "(Σ handled × center AHT of the reason / handled). Outliers: |z| > {z}, z = (value − mean) / "
            "standard deviation across agents.",
            z=q.z,
        )
    ]
    for metric in VARIABILITY:
        mean, sd = f.spread([row[metric] for row in rows if row[metric] is not None])
        for row in rows:
            row[f"z_{metric}"] = f.zscore(row[metric], mean, sd)
        if mean is not None:
            notes.append(
                _("{metric}: mean {mean:.3f}, standard deviation {sd:.3f}", metric=names[metric], mean=mean, sd=sd)
            )
    for row in rows:
        row["outliers"] = ", ".join(
            names[m] for m in VARIABILITY if row[f"z_{m}"] is not None and abs(row[f"z_{m}"]) > q.z
        )
    rows.sort(key=lambda row: (row["aht_ratio"] is None, -(row["aht_ratio"] or 0), row["agent"]))
    csat_kind, _ces = _survey_kinds(s)
    return Report(
        name="agent-variability",
        title=_("Agent variability"),
        description=_("AHT, FCR, CSAT and transfer rate per agent, their spread, and the agents far from the rest."),
        columns=[
            Column("agent", _("agent"), "text"),
            Column("handled", _("handled"), "count"),
            Column("aht_s", _("AHT"), "seconds"),
            Column("expected_aht_s", _("expected AHT"), "seconds"),
            Column("aht_ratio", _("AHT / expected"), "number"),
            Column("fcr", _("FCR"), "rate"),
            Column("csat", _("CSAT"), csat_kind),
            Column("transfer_rate", _("transfer rate"), "rate"),
            Column("z_aht_ratio", _("z AHT"), "number"),
            Column("outliers", _("outliers"), "text"),
        ],
        rows=rows,
        chart=Chart("bar", x="agent", y=["aht_ratio", "fcr", "csat"]),
        notes=notes,
    )


# ---------------------------------------------------------------- complaints


@report("complaints", lambda: _("Complaints"), intervals=("week", "month"))
def complaints(facts: pl.DataFrame, q: ReportQuery, s: MetricsSettings) -> Report:
    """Contacts about complaints per week (or month), their share of all contacts, and how long the cases
    they opened took to resolve."""
    interval = q.interval or "week"
    frame = _range(facts, q).with_columns(is_complaint().alias("_complaint"))
    frame = add_local_time(frame, "initiation_us", q.kpi.timezone, interval)
    volume = frame.group_by("interval").agg(pl.len().alias("contacts"), pl.col("_complaint").sum().alias("complaints"))
    cases = (
        frame.filter(pl.col("_complaint") & pl.col("case_id").is_not_null())
        .sort("initiation_us")
        .unique("case_id", keep="first")
        .with_columns((pl.col("case_closed_us") - pl.col("case_opened_us")).alias("_resolution"))
        .group_by("interval")
        .agg(
            pl.len().alias("cases"),
            pl.col("case_closed_us").is_not_null().sum().alias("closed"),
            pl.col("_resolution").sum().alias("_sum"),
            pl.col("_resolution").median().alias("_median"),
        )
    )
    table = volume.join(cases, on="interval", how="left").sort("interval")
    rows = []
    for r in table.iter_rows(named=True):
        closed = r["closed"] or 0
        rows.append(
            {
                "period": interval_label(r["interval"], interval, q.kpi.timezone),
                "contacts": r["contacts"],
                "complaints": r["complaints"],
                "share": f.ratio(r["complaints"], r["contacts"]),
                "cases": r["cases"] or 0,
                "closed": closed,
                "open": (r["cases"] or 0) - closed,
                "mean_resolution_s": f.ratio(r["_sum"] or 0, closed * US),
                "median_resolution_s": None if r["_median"] is None else r["_median"] / US,
            }
        )
    reasons = sorted({_text(v) for v in frame.filter(pl.col("_complaint"))["reason"].to_list()})
    return Report(
        name="complaints",
        title=_("Complaints"),
        description=_(
            "Contacts about complaints per {interval}, and the time their cases took to resolve.",
            interval=_("month") if interval == "month" else _("week"),
        ),
        columns=[
            Column("period", _("period"), "text"),
            Column("contacts", _("contacts"), "count"),
            Column("complaints", _("complaints"), "count"),
            Column("share", _("share of contacts"), "rate"),
            Column("cases", _("cases"), "count"),
            Column("closed", _("closed"), "count"),
            Column("open", _("open"), "count"),
            Column("mean_resolution_s", _("mean time to resolution"), "seconds"),
            Column("median_resolution_s", _("median time to resolution"), "seconds"),
        ],
        rows=rows,
        chart=Chart("line", x="period", y=["complaints", "median_resolution_s"]),
        notes=[
            _(
                "A complaint: a contact whose reason's code or reason group's code contains 'complaint', "
                "'reclamación' or 'queja' (here: {reasons}). Cases: the cases linked to the period's complaint "
                "contacts, each counted once, in the period of its first complaint; time to resolution from the "
                "case's opening to its closing, over closed cases.",
                reasons=", ".join(reasons) or "—",
            )
        ],
    )


# ---------------------------------------------------------------- value match


@report("value-match", lambda: _("High-value customers and skilled agents"), options=("tier", "level"))
def value_match(facts: pl.DataFrame, q: ReportQuery, s: MetricsSettings) -> Report:
    """Are the most valuable customers answered by the most skilled agents, and served faster? The top
    value tier's answered contacts answered by agents at the top skill level for the queue, and the
    service level of that tier against everyone else's."""
    tier = q.tier
    top = pl.col("value_tier") == tier if tier is not None else pl.lit(False)
    lo, hi = to_us(q.kpi.start), to_us(q.kpi.end)
    answered = facts.filter(
        (pl.col("queue_outcome") == "answered")
        & pl.col("dequeue_us").is_not_null()
        & (pl.col("dequeue_us") >= lo)
        & (pl.col("dequeue_us") < hi)
    )
    top = top.fill_null(False)
    groups = [(_("tier {tier}", tier=tier or "—"), top), (_("everyone else"), ~top)]
    rows = []
    for label, condition in groups:
        (k,) = kpis(facts.filter(condition), _kpi(q, families=("queue", "survey")), s)
        mine = answered.filter(condition)
        skilled = int((mine["agent_skill_level"].fill_null(0) >= q.level).sum()) if mine.height else 0
        rows.append(
            {
                "group": label,
                "answered": mine.height,
                "top_skill": skilled,
                "top_skill_share": f.ratio(skilled, mine.height),
                "service_level": k["service_level"],
                "asa_s": k["asa_s"],
                "abandon_rate": k["abandon_rate"],
                "csat": k["csat"],
            }
        )
    csat_kind, _ces = _survey_kinds(s)
    return Report(
        name="value-match",
        title=_("High-value customers and skilled agents"),
        description=_(
            "Share of the top value tier's answered contacts answered by the most skilled agents, and its "
            "service against everyone else's."
        ),
        columns=[
            Column("group", _("customers"), "text"),
            Column("answered", _("answered"), "count"),
            Column("top_skill", _("by top-skill agents"), "count"),
            Column("top_skill_share", _("top-skill share"), "rate"),
            Column("service_level", _("service level ({variant})", variant=s.service_level.variant), "rate"),
            Column("asa_s", _("ASA"), "seconds"),
            Column("abandon_rate", _("abandonment"), "rate"),
            Column("csat", _("CSAT"), csat_kind),
        ],
        rows=rows,
        chart=Chart("bar", x="group", y=["top_skill_share", "service_level"]),
        notes=[
            _(
                "Top tier: {tier}. Top-skill agent: the answering agent's level for the queue's required "
                "skills (the lowest over them, with the agent's current skills) is at least {level}. Answered "
                "contacts count when they left the queue.",
                tier=tier or "—",
                level=q.level,
            )
        ],
    )

"""Reports over the store: a tenant's date range in its own time zone → facts → the engine's rows."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl
from sqlalchemy.orm import Session

from centralita.analytics.engine import AGENT_DIMENSIONS, OFFER_DIMENSIONS, KpiQuery, kpis
from centralita.analytics.facts import load_agent_states, load_facts, load_offers
from centralita.core.metrics_settings import MetricsSettings, metrics_settings
from centralita.store import tables as t

__all__ = ["DateRange", "kpi_report", "tenant_facts"]


@dataclass(frozen=True)
class DateRange:
    """Local calendar days `first` to `last`, both included, in the tenant's time zone."""

    first: dt.date
    last: dt.date
    timezone: str

    @property
    def start(self) -> dt.datetime:
        """The UTC instant of local midnight starting `first`."""
        return _midnight(self.first, self.timezone)

    @property
    def end(self) -> dt.datetime:
        """The UTC instant of local midnight after `last` (the range is half-open)."""
        return _midnight(self.last + dt.timedelta(days=1), self.timezone)


def _midnight(day: dt.date, tz: str) -> dt.datetime:
    local = dt.datetime(day.year, day.month, day.day, tzinfo=zoneinfo.ZoneInfo(tz))
    return local.astimezone(dt.UTC)


def tenant_facts(session: Session, tenant: t.Tenant, days: DateRange, lookback_days: int) -> pl.DataFrame:
    """The facts a report over `days` needs, reading `lookback_days` earlier for repeats."""
    return load_facts(session, tenant.id, days.start - dt.timedelta(days=lookback_days), days.end)


def kpi_report(
    session: Session,
    tenant: t.Tenant,
    days: DateRange,
    by: Sequence[str] = (),
    interval: str | None = None,
    threshold_s: float | None = None,
    settings: MetricsSettings | None = None,
) -> list[dict[str, Any]]:
    """The KPIs of `days` by interval and dimensions, with the tenant's metric variants."""
    s = settings or metrics_settings(tenant.settings)
    facts = tenant_facts(session, tenant, days, s.fcr.window_days + 1)
    query = KpiQuery(days.start, days.end, days.timezone, by=by, interval=interval, threshold_s=threshold_s)
    states = load_agent_states(session, tenant.id, days.start, days.end) if set(by) <= AGENT_DIMENSIONS else None
    offers = load_offers(session, tenant.id, days.start, days.end) if set(by) <= OFFER_DIMENSIONS else None
    return kpis(facts, query, s, agent_states=states, offers=offers)

"""Hours of operation, evaluated in the calendar's time zone. Pure: calendar + instant → status.

Weekly intervals are `[start, end)` in local time on ISO days (1 = Monday … 7 = Sunday); an interval
whose end is not after its start crosses midnight into the next day. A dated override either closes the
day (a holiday) or replaces that day's intervals (special hours).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from centralita.core.i18n import _

__all__ = ["OPEN", "hours_status"]

OPEN, CLOSED, HOLIDAY = "open", "closed", "holiday"


def parse_hhmm(text: str) -> int:
    """Minutes since midnight for 'HH:MM' (00:00..24:00). Raises ValueError."""
    hh, sep, mm = text.partition(":")
    if not sep or not text.isascii() or not hh.isdigit() or not mm.isdigit() or len(mm) != 2:
        raise ValueError(_("{value!r} is not HH:MM", value=text))
    minutes = int(hh) * 60 + int(mm)
    if int(mm) > 59 or minutes > 24 * 60:
        raise ValueError(_("{value!r} is not a time of day", value=text))
    return minutes


def _spans(intervals: list[dict[str, Any]]) -> list[tuple[int, int]]:
    return [(parse_hhmm(i["start"]), parse_hhmm(i["end"])) for i in intervals]


def _override(overrides: list[dict[str, Any]], day: dt.date) -> dict[str, Any] | None:
    iso = day.isoformat()
    for o in overrides:
        if o.get("date") == iso:
            return o
    return None


def _day_intervals(
    weekly: list[dict[str, Any]], overrides: list[dict[str, Any]], day: dt.date
) -> list[tuple[int, int]]:
    o = _override(overrides, day)
    if o is not None:
        return [] if o.get("closed") else _spans(o.get("intervals", []))
    return _spans([i for i in weekly if int(i["day"]) == day.isoweekday()])


def hours_status(
    timezone: str, weekly: list[dict[str, Any]], overrides: list[dict[str, Any]], when: dt.datetime
) -> str:
    """`open`, `closed` or `holiday` at the aware instant `when`."""
    local = when.astimezone(zoneinfo.ZoneInfo(timezone))
    minute = local.hour * 60 + local.minute + local.second / 60
    today = local.date()
    for start, end in _day_intervals(weekly, overrides, today):
        if (start < end and start <= minute < end) or (end <= start and minute >= start):
            return OPEN
    yesterday = today - dt.timedelta(days=1)
    for start, end in _day_intervals(weekly, overrides, yesterday):
        if end <= start and minute < end:  # yesterday's interval crossing midnight
            o = _override(overrides, today)
            if not (o and o.get("closed")):
                return OPEN
    o = _override(overrides, today)
    if o is not None and o.get("closed"):
        return HOLIDAY
    return CLOSED

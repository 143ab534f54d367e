"""Hours of operation: [start, end) intervals, crossing midnight, holidays, DST, in the calendar's zone."""

from __future__ import annotations

import datetime as dt

from centralita.queues.hours import hours_status

UTC = dt.UTC
NIGHT = [{"day": 5, "start": "22:00", "end": "02:00"}]  # Friday night into Saturday


def at(s: str) -> dt.datetime:
    return dt.datetime.fromisoformat(s).replace(tzinfo=UTC)


def test_interval_crossing_midnight() -> None:
    assert hours_status("UTC", NIGHT, [], at("2026-11-27T23:30:00")) == "open"  # Friday 23:30
    assert hours_status("UTC", NIGHT, [], at("2026-11-28T01:59:00")) == "open"  # Saturday 01:59
    assert hours_status("UTC", NIGHT, [], at("2026-11-28T02:00:00")) == "closed"
    assert hours_status("UTC", NIGHT, [], at("2026-11-27T21:59:00")) == "closed"


def test_special_hours_override_replace_the_day() -> None:
    weekly = [{"day": 4, "start": "08:00", "end": "20:00"}]
    overrides = [{"date": "2026-12-24", "closed": False, "intervals": [{"start": "08:00", "end": "14:00"}]}]
    assert hours_status("UTC", weekly, overrides, at("2026-12-24T13:00:00")) == "open"
    assert hours_status("UTC", weekly, overrides, at("2026-12-24T15:00:00")) == "closed"  # not a holiday


def test_local_time_across_daylight_saving_change() -> None:
    weekly = [{"day": 7, "start": "08:00", "end": "09:00"}]
    # 2026-03-29 (Sunday) Madrid moves from UTC+1 to UTC+2: 08:00 local is 06:00 UTC
    assert hours_status("Europe/Madrid", weekly, [], at("2026-03-29T06:30:00")) == "open"
    assert hours_status("Europe/Madrid", weekly, [], at("2026-03-29T07:30:00")) == "closed"
    # a week earlier (UTC+1) 08:00 local is 07:00 UTC
    assert hours_status("Europe/Madrid", weekly, [], at("2026-03-22T07:30:00")) == "open"

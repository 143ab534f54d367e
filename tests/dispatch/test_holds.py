"""The holds codec: the one JSON value of a contact's live state, written in one place."""

from __future__ import annotations

import datetime as dt

from centralita.contacts import holds

T = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)


def test_start_end_and_round_trip() -> None:
    raw = holds.start_hold(None, T)
    assert raw == [[T.isoformat(), None]]
    raw = holds.end_hold(raw, T + dt.timedelta(seconds=30))
    assert holds.parse(raw) == [holds.Hold(T, T + dt.timedelta(seconds=30))]
    assert holds.end_hold(raw, T + dt.timedelta(seconds=90)) == raw  # no open hold: nothing to end
    madrid = dt.timezone(dt.timedelta(hours=1))
    assert holds.dump([holds.Hold(T.astimezone(madrid))]) == [[T.isoformat(), None]]  # stored in UTC
    assert holds.parse([["2026-12-07T09:00:00", None], ["bad"], None]) == [holds.Hold(T)]  # naive → UTC

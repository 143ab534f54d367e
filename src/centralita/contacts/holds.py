"""A contact's holds, the one JSON value of its live state (`contacts.holds`): the codec, pure.

Stored as `[[start, end], ...]`, ISO 8601 UTC strings, `end` null while the hold lasts. Everything that
reads or writes holds goes through `parse` and `dump`, so the stored shape is written in one place.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Hold", "dump", "end_hold", "parse", "start_hold"]


@dataclass(frozen=True)
class Hold:
    start: dt.datetime
    end: dt.datetime | None = None


def _when(raw: Any) -> dt.datetime | None:
    if raw is None:
        return None
    when = dt.datetime.fromisoformat(str(raw))
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)


def parse(raw: Sequence[Any] | None) -> list[Hold]:
    """The stored value as holds; pairs that are not a start and an end (never written by us) are skipped."""
    out = []
    for item in raw or []:
        if isinstance(item, list | tuple) and len(item) == 2 and item[0] is not None:
            start = _when(item[0])
            assert start is not None
            out.append(Hold(start, _when(item[1])))
    return out


def dump(holds: Iterable[Hold]) -> list[list[str | None]]:
    return [
        [h.start.astimezone(dt.UTC).isoformat(), h.end.astimezone(dt.UTC).isoformat() if h.end else None] for h in holds
    ]


def start_hold(raw: Sequence[Any] | None, now: dt.datetime) -> list[list[str | None]]:
    """The stored value with a hold starting at `now`."""
    return dump([*parse(raw), Hold(now)])


def end_hold(raw: Sequence[Any] | None, now: dt.datetime) -> list[list[str | None]]:
    """The stored value with its open hold (if any) ended at `now`."""
    holds = parse(raw)
    if holds and holds[-1].end is None:
        holds[-1] = Hold(holds[-1].start, now)
    return dump(holds)

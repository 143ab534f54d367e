"""Apply a partial update to an object and return what changed, for the event's `changes`."""

from __future__ import annotations

import datetime as dt
from typing import Any

__all__ = ["apply_changes"]


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.datetime | dt.date) else value


def apply_changes(obj: Any, values: dict[str, Any]) -> dict[str, list[Any]]:
    changes: dict[str, list[Any]] = {}
    for key, new in values.items():
        old = getattr(obj, key)
        if old != new:
            setattr(obj, key, new)
            changes[key] = [_plain(old), _plain(new)]
    return changes

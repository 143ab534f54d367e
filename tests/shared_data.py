"""Where tests find the real data sets (never copied into the repository)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# The real data sets (never copied into the repository): ../shared/data beside the checkout, or
# wherever CENTRALITA_SHARED_DATA points (a clone made elsewhere).
SHARED_DATA = Path(os.environ.get("CENTRALITA_SHARED_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data")


def shared_data(name: str) -> Path:
    """The data set `name` under SHARED_DATA; fails (never skips) naming the setting when it is absent."""
    where = SHARED_DATA / name
    if not where.is_dir():
        pytest.fail(f"{where} is missing: set CENTRALITA_SHARED_DATA to the shared/data folder")
    return where

"""Fixtures of the event-log tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from centralita.core.clock import FakeClock
from centralita.service import Service
from tests.conftest import _truncate_pg, make_service


@pytest.fixture
def pg_service(pg_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[Service]:
    """A service on an emptied PostgreSQL database (for tests that need PostgreSQL's own behaviour)."""
    _truncate_pg(pg_url)
    svc = make_service(pg_url, tmp_path, clock)
    yield svc
    svc.close()

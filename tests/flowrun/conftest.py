"""Fixtures for flows running live: the API world with routing and the flow runner started."""

from __future__ import annotations

from tests.dispatch.conftest import Live, live

__all__ = ["Live", "live"]

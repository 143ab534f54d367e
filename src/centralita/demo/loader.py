"""Loading the demo (placeholder until the generator lands)."""

from __future__ import annotations

from typing import Any

from centralita.service import Service


def load_demo_if_empty(svc: Service, console: Any = None) -> list[dict[str, str]] | None:
    return None

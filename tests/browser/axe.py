"""axe-core (the npm package in web/) run in a page: its serious and critical violations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page

AXE = Path(__file__).resolve().parents[2] / "web" / "node_modules" / "axe-core" / "axe.min.js"


def serious_violations(page: Page, include: str | None = None) -> list[dict[str, Any]]:
    """The page's violations of impact serious or critical (within `include`, a CSS selector, if given)."""
    assert AXE.exists(), "axe-core is missing: the setup command installs web/'s npm packages"
    # evaluated through the DevTools protocol: the page's own Content-Security-Policy (no inline scripts)
    # stays in force for everything else
    page.evaluate(AXE.read_text(encoding="utf-8") + "\n;true")
    context = f"{{include: [[{include!r}]]}}" if include else "document"
    found: list[dict[str, Any]] = page.evaluate(f"async () => (await axe.run({context})).violations")
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in found
        if v["impact"] in ("serious", "critical")
    ]

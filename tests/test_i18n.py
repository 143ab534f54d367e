"""Every translatable string (`_("…")` in the source) has a Spanish translation with the same fields."""

from __future__ import annotations

import ast
import string
from pathlib import Path

from centralita.core.i18n import catalog

SRC = Path(__file__).resolve().parent.parent / "src" / "centralita"


def translatable() -> dict[str, str]:
    """msgid → first place it is used."""
    found: dict[str, str] = {}
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("_", "translate")
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.setdefault(node.args[0].value, f"{path.relative_to(SRC)}:{node.lineno}")
    return found


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_string_has_a_spanish_translation() -> None:
    es = catalog("es")
    missing = {msg: where for msg, where in translatable().items() if msg not in es}
    assert not missing, "missing in src/centralita/locale/es.json:\n" + "\n".join(
        f"  {where}: {msg!r}" for msg, where in missing.items()
    )


def test_translations_keep_the_fields() -> None:
    es = catalog("es")
    for msg in translatable():
        if msg in es:
            assert _fields(es[msg]) == _fields(msg), f"{msg!r} → {es[msg]!r}"


def test_no_stale_entries() -> None:
    stale = set(catalog("es")) - set(translatable())
    assert not stale, f"entries no code uses: {sorted(stale)}"

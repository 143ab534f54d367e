"""Every translatable string (`_("…")`, `ngettext("…", "…", n)` in the source) has a Spanish translation
with the same fields."""

from __future__ import annotations

import ast
import string
from pathlib import Path

from centralita.core.i18n import catalog, ngettext, plural_catalog

SRC = Path(__file__).resolve().parent.parent / "src" / "centralita"


def _calls(names: tuple[str, ...]) -> list[tuple[ast.Call, str]]:
    """Every call of a function named one of `names` (`f(…)` or `module.f(…)`), with where it is."""
    found = []
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
                if name in names:
                    found.append((node, f"{path.relative_to(SRC)}:{node.lineno}"))
    return found


def _literal(node: ast.Call, index: int) -> str | None:
    if len(node.args) > index and isinstance(node.args[index], ast.Constant):
        value = node.args[index].value  # type: ignore[attr-defined]
        return value if isinstance(value, str) else None
    return None


def translatable() -> dict[str, str]:
    """msgid → first place it is used."""
    found: dict[str, str] = {}
    for node, where in _calls(("_", "translate")):
        if isinstance(node.func, ast.Name) and (msg := _literal(node, 0)) is not None:
            found.setdefault(msg, where)
    return found


def plurals() -> dict[str, tuple[str, str, str]]:
    """English singular → (singular, plural, first place it is used)."""
    found: dict[str, tuple[str, str, str]] = {}
    for node, where in _calls(("ngettext",)):
        singular, plural = _literal(node, 0), _literal(node, 1)
        assert singular is not None and plural is not None, f"{where}: ngettext needs two string literals"
        found.setdefault(singular, (singular, plural, where))
    return found


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_string_has_a_spanish_translation() -> None:
    es = catalog("es")
    missing = {msg: where for msg, where in translatable().items() if msg not in es}
    assert not missing, "missing in src/centralita/locale/es.json:\n" + "\n".join(
        f"  {where}: {msg!r}" for msg, where in missing.items()
    )


def test_every_plural_has_both_spanish_forms() -> None:
    es = plural_catalog("es")
    missing = {msg: where for msg, (_s, _p, where) in plurals().items() if msg not in es}
    assert not missing, "missing in src/centralita/locale/es.json (as [one, other]):\n" + "\n".join(
        f"  {where}: {msg!r}" for msg, where in missing.items()
    )
    for msg, (singular, plural, where) in plurals().items():
        one, other = es[msg]
        assert _fields(one) == _fields(singular) and _fields(other) == _fields(plural), f"{where}: {msg!r}"


def test_translations_keep_the_fields() -> None:
    es = catalog("es")
    for msg in translatable():
        if msg in es:
            assert _fields(es[msg]) == _fields(msg), f"{msg!r} → {es[msg]!r}"


def test_no_stale_entries() -> None:
    stale = set(catalog("es")) - set(translatable())
    assert not stale, f"entries no code uses: {sorted(stale)}"
    stale_plurals = set(plural_catalog("es")) - set(plurals())
    assert not stale_plurals, f"plural entries no code uses: {sorted(stale_plurals)}"
    both = set(translatable()) & set(plurals())
    assert not both, f"msgids used both by _() and ngettext(): {sorted(both)}"


def test_plural_forms() -> None:
    assert ngettext("{n} arrival", "{n} arrivals", 1, lang="es") == "1 llegada"
    assert ngettext("{n} arrival", "{n} arrivals", 0, lang="es") == "0 llegadas"
    assert ngettext("{n} arrival", "{n} arrivals", 2, lang="es") == "2 llegadas"
    assert ngettext("{n} arrival", "{n} arrivals", 1, lang="en") == "1 arrival"
    assert ngettext("{n} arrival", "{n} arrivals", 0, lang="en") == "0 arrivals"
    # the same English word for both counts, two Spanish forms
    assert ngettext("{n} abandoned", "{n} abandoned", 1, lang="es") == "1 abandono"
    assert ngettext("{n} abandoned", "{n} abandoned", 3, lang="es") == "3 abandonos"
    assert ngettext("{n} abandoned", "{n} abandoned", 3, lang="en") == "3 abandoned"

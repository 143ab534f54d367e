"""Translations: English source strings, Spanish first. Catalogs live in centralita/locale/<lang>.json.

`_("text")` translates to the current language (CENTRALITA_LANGUAGE, default `es`); `{name}` fields are
formatted after translation. tests/test_i18n.py checks that every `_()` literal has a Spanish entry.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path

LANGUAGES = ("es", "en")
_LOCALE = Path(__file__).resolve().parent.parent / "locale"
_current = os.environ.get("CENTRALITA_LANGUAGE", "es")


@cache
def catalog(lang: str) -> dict[str, str]:
    path = _LOCALE / f"{lang}.json"
    if not path.exists():
        return {}
    data: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    return data


def set_language(lang: str) -> None:
    global _current
    if lang not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}")
    _current = lang


def language() -> str:
    return _current if _current in LANGUAGES else "es"


def translate(text: str, lang: str | None = None, **fields: object) -> str:
    out = catalog(lang or language()).get(text, text)
    return out.format(**fields) if fields else out


_ = translate

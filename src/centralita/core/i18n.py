"""Translations: English source strings, Spanish first. Catalogs live in centralita/locale/<lang>.json.

`_("text")` translates to the current language; `{name}` fields are formatted after translation. The
current language is the request's (the API sets it per request from `?lang=` or Accept-Language, with
`using`), else the process's (CENTRALITA_LANGUAGE or the CLI's `--lang`; default `es`).
`ngettext(singular, plural, n)` picks the form for a count: in the catalog its entry is keyed by the English
singular and holds the forms `[one, other]` (`"{n} arrival": ["{n} llegada", "{n} llegadas"]`), since the
English forms may be the same word ("1 answered", "2 answered") where the Spanish ones differ.
tests/test_i18n.py checks that every `_()` and `ngettext()` literal has a Spanish entry.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path

__all__ = ["LANGUAGES", "_", "language", "ngettext", "using"]

LANGUAGES = ("es", "en")
_LOCALE = Path(__file__).resolve().parent.parent / "locale"
_current = os.environ.get("CENTRALITA_LANGUAGE", "es")
_scoped: ContextVar[str | None] = ContextVar("centralita_language", default=None)


@cache
def _entries(lang: str) -> dict[str, str | list[str]]:
    path = _LOCALE / f"{lang}.json"
    if not path.exists():
        return {}
    data: dict[str, str | list[str]] = json.loads(path.read_text(encoding="utf-8"))
    return data


@cache
def catalog(lang: str) -> dict[str, str]:
    """msgid → translation, for `_()`."""
    return {key: value for key, value in _entries(lang).items() if isinstance(value, str)}


@cache
def plural_catalog(lang: str) -> dict[str, tuple[str, str]]:
    """English singular → (one, other), for `ngettext()`."""
    return {key: (value[0], value[1]) for key, value in _entries(lang).items() if isinstance(value, list)}


def set_language(lang: str) -> None:
    global _current
    if lang not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}")
    _current = lang


def language() -> str:
    scoped = _scoped.get()
    if scoped is not None:
        return scoped
    return _current if _current in LANGUAGES else "es"


@contextmanager
def using(lang: str) -> Iterator[None]:
    """Translate to `lang` within this context only (one API request), whatever the process language."""
    token = _scoped.set(lang if lang in LANGUAGES else language())
    try:
        yield
    finally:
        _scoped.reset(token)


def negotiate(accept_language: str | None, default: str = "es") -> str:
    """The best of LANGUAGES for an Accept-Language header (`en-GB,en;q=0.8,es;q=0.5`), else `default`."""
    best, best_q = default, -1.0
    for part in (accept_language or "").split(","):
        tag, _sep, params = part.strip().partition(";")
        lang = tag.strip().lower().split("-")[0]
        q = 1.0
        for param in params.split(";"):
            key, _eq, value = param.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if lang in LANGUAGES and q > best_q and q > 0:
            best, best_q = lang, q
    return best


def translate(text: str, lang: str | None = None, **fields: object) -> str:
    out = catalog(lang or language()).get(text, text)
    return out.format(**fields) if fields else out


def plural_index(n: int) -> int:
    """Which form a count takes: 0 (one) for exactly 1, else 1 (other) — the rule of Spanish and English."""
    return 0 if n == 1 else 1


def ngettext(singular: str, plural: str, n: int, lang: str | None = None, **fields: object) -> str:
    """The form of a message for the count `n` in the current language; `{n}` and `{fields}` are filled in.

    `ngettext("{n} arrival", "{n} arrivals", 1)` → `1 llegada` in Spanish, `1 arrival` in English.
    """
    index = plural_index(n)
    forms = plural_catalog(lang or language()).get(singular)
    text = forms[index] if forms is not None else (singular, plural)[index]
    return text.format(n=n, **fields)


_ = translate

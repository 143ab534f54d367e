"""Case references: short, speakable, checksummed (`K7M-42Q`).

Alphabet: digits 2-9 and letters without I and O (32 symbols), so 0/O and 1/I are never confused when
a reference is read over the phone. Five random symbols plus one check symbol. The check is Damm's
algorithm over the field GF(32) with the quasigroup x∘y = 2·x + y, which is totally anti-symmetric:
it catches every single-symbol error and every adjacent transposition (tested exhaustively by property
tests). Uniqueness per tenant is enforced by the store; cases are never deleted, so a reference is
never reused.
"""

from __future__ import annotations

import secrets

__all__ = ["new_case_reference", "normalize_case_reference"]

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
_INDEX = {c: i for i, c in enumerate(ALPHABET)}
BODY_LENGTH = 5
_POLY = 0b100101  # x^5 + x^2 + 1, primitive over GF(2)


def _times_x(v: int) -> int:
    """Multiply by x (the element 2) in GF(32)."""
    v <<= 1
    return v ^ _POLY if v & 0b100000 else v


def _damm(symbols: str) -> int:
    interim = 0
    for ch in symbols:
        interim = _times_x(interim) ^ _INDEX[ch]  # x∘y = 2x + y; addition in GF(2^5) is XOR
    return interim


def check_symbol(body: str) -> str:
    """The symbol c with 2·interim + c = 0, so a valid reference reduces to 0."""
    return ALPHABET[_times_x(_damm(body))]


def new_case_reference() -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(BODY_LENGTH))
    full = body + check_symbol(body)
    return f"{full[:3]}-{full[3:]}"


def normalize_case_reference(text: str) -> str | None:
    """Canonical `XXX-XXX` form of a reference as typed (any case, spaces or dashes), or None when it is
    not a well-formed reference with a correct check symbol."""
    cleaned = "".join(ch for ch in text.upper() if ch.isalnum())
    if len(cleaned) != BODY_LENGTH + 1 or any(ch not in _INDEX for ch in cleaned):
        return None
    if _damm(cleaned) != 0:
        return None
    return f"{cleaned[:3]}-{cleaned[3:]}"


def is_valid_case_reference(text: str) -> bool:
    return normalize_case_reference(text) == text

"""Case references: short, speakable, checksummed (`K7M-42Q`).

Alphabet: digits 2-9 and letters without I and O (32 symbols), so 0/O and 1/I are never confused when
a reference is read over the phone. Five random symbols plus one check symbol (Luhn mod 32, which
catches every single-symbol error and every adjacent transposition). Uniqueness per tenant is enforced
by the store; a reference is never reused because cases are never deleted.
"""

from __future__ import annotations

import secrets

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
_INDEX = {c: i for i, c in enumerate(ALPHABET)}
_N = len(ALPHABET)
BODY_LENGTH = 5


def check_symbol(body: str) -> str:
    """Luhn mod N check symbol for `body` (symbols of ALPHABET)."""
    factor = 2
    total = 0
    for ch in reversed(body):
        addend = factor * _INDEX[ch]
        factor = 1 if factor == 2 else 2
        total += addend // _N + addend % _N
    return ALPHABET[(_N - total % _N) % _N]


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
    if check_symbol(cleaned[:-1]) != cleaned[-1]:
        return None
    return f"{cleaned[:3]}-{cleaned[3:]}"


def is_valid_case_reference(text: str) -> bool:
    return normalize_case_reference(text) == text

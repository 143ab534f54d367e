"""Customers' self-service PINs: set (`do_set_pin`) and checked (`pin_matches`), never read back.

Stored in `customer_pins` apart from the customer's attributes (which agents see in the screen pop and flows
as `customer.attributes`), as PBKDF2-HMAC-SHA256 with a random 16-byte salt and 1,000 iterations:
`pbkdf2_sha256$<iterations>$<salt>$<hash>` (base64). The cost is deliberately small (≈0.4 ms): a PIN of four
digits has 10,000 values, so no hashing cost would save one whose hash leaked; what protects a PIN is that
the hash is kept out of every answer, export and event, while checking stays cheap enough for an IVR under
load and for loading 200,000 demo customers (argon2, as for passwords, would cost ~50 ms a check). The
iteration count is stored with each hash, so it can be raised later without invalidating the PINs set.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from sqlalchemy import select
from sqlalchemy.orm import Session

from centralita.core.actor import Actor
from centralita.core.errors import InvalidInput
from centralita.core.i18n import _
from centralita.events.log import append_event
from centralita.store import tables as t

__all__ = ["PIN_ITERATIONS", "do_set_pin", "hash_pin", "pin_matches"]

PIN_ITERATIONS = 1000
_SCHEME = "pbkdf2_sha256"
PIN_LENGTHS = range(4, 9)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def hash_pin(pin: str, salt: bytes | None = None, iterations: int = PIN_ITERATIONS) -> str:
    """The stored form of `pin` (a fresh random salt unless one is given)."""
    salt = os.urandom(16) if salt is None else salt
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt, iterations)
    return f"{_SCHEME}${iterations}${_b64(salt)}${_b64(digest)}"


def _matches(stored: str, pin: str) -> bool:
    try:
        scheme, iterations, salt, digest = stored.split("$")
        if scheme != _SCHEME:
            return False
        expected = base64.b64decode(digest)
        got = hashlib.pbkdf2_hmac("sha256", pin.encode(), base64.b64decode(salt), int(iterations))
    except ValueError:
        return False
    return hmac.compare_digest(expected, got)


def do_set_pin(session: Session, actor: Actor, customer: t.Customer, pin: str) -> None:
    """Set (or change) the customer's PIN: 4 to 8 digits. The event `customer.pin_set` says that it
    changed, never what to."""
    if not (pin.isascii() and pin.isdigit() and len(pin) in PIN_LENGTHS):
        raise InvalidInput.field("pin", _("a PIN is 4 to 8 digits"))
    if customer.tenant_id != actor.tenant_id:
        raise ValueError("the customer is another tenant's")
    row = session.get(t.CustomerPin, customer.id)
    if row is None:
        row = t.CustomerPin(customer_id=customer.id, tenant_id=customer.tenant_id, pin_hash="", updated_at=actor.now())
        session.add(row)
    row.pin_hash = hash_pin(pin)
    row.updated_at = actor.now()
    append_event(
        session,
        actor.tenant_id,
        "customer.pin_set",
        actor.now(),
        {},
        customer_id=customer.id,
        user_id=actor.user_id,
    )


def pin_matches(session: Session, tenant_id: int, customer_id: int, pin: str) -> bool:
    """Whether `pin` is the customer's PIN (False when the customer has none, or is another tenant's)."""
    stored = session.scalar(
        select(t.CustomerPin.pin_hash).where(
            t.CustomerPin.tenant_id == tenant_id, t.CustomerPin.customer_id == customer_id
        )
    )
    return stored is not None and _matches(stored, pin)

"""The demo bank's accounts: what each demo customer has at Banco Ejemplo (a balance, a card, a PIN), laid out
when the demo loads; the self-service functions that use them are in demo/banking.py.

The balance and the card live in the customer's attributes under `banco` (`saldo`, `tarjeta`: its last four
digits, `tarjeta_estado`: activa | bloqueada), where agents see them; the PIN is hashed into
`customer_pins` (crm/pins.py), which nobody sees. A demo customer's PIN is the last four digits of their
first phone number.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from centralita.crm.schemas import CustomerCreate

__all__ = [
    "ACCOUNT_KEY",
    "ACTIVE",
    "BLOCKED",
    "BankAccount",
    "demo_pin",
    "plan_account",
    "spanish_amount",
    "with_account",
]

ACCOUNT_KEY = "banco"  # in the customer's attributes
ACTIVE, BLOCKED = "activa", "bloqueada"


@dataclass(frozen=True)
class BankAccount:
    """One demo customer's account: balance in euros, the card's last four digits, the PIN."""

    saldo: float
    tarjeta: str
    pin: str

    def attributes(self) -> dict[str, Any]:
        return {"saldo": self.saldo, "tarjeta": self.tarjeta, "tarjeta_estado": ACTIVE}


def demo_pin(first_phone: str) -> str:
    """A demo customer's PIN: the last four digits of their first phone number."""
    digits = "".join(ch for ch in first_phone if ch.isdigit())
    return digits[-4:].rjust(4, "0")


def plan_account(seed: int, number: int, first_phone: str) -> BankAccount:
    """The account of the `number`th customer of a load with `seed`: from its own random stream, so the
    rest of the demo's data is the same with or without it."""
    rng = random.Random(f"banco:{seed}:{number}")
    saldo = round(rng.lognormvariate(7.5, 1.2), 2)  # a median around 1,800 €, a long tail
    return BankAccount(saldo=saldo, tarjeta=f"{rng.randrange(10_000):04d}", pin=demo_pin(first_phone))


def with_account(create: CustomerCreate, account: BankAccount) -> CustomerCreate:
    """The customer to create, with the account in its attributes."""
    return create.model_copy(update={"attributes": {**create.attributes, ACCOUNT_KEY: account.attributes()}})


def spanish_amount(amount: float) -> str:
    """1234.5 → `1.234,50` (thousands with dots, decimals with a comma, as Spanish speech engines read it)."""
    text = f"{amount:,.2f}"
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")

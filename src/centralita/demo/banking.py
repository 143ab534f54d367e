"""The demo bank's self-service functions, against its customers' data: `banco.saldo` (the balance, after a
PIN check) and `banco.bloquear_tarjeta` (blocking a lost card). The demo flows call them
(demo/flows/*.yaml) and mark the contact self-service with its reason; the service loads this module with its
flow-function modules setting (`flowrun.functions.load_modules(["centralita.demo.banking"])`).

**The data** (demo/accounts.py, which the loader uses without registering these functions). Every demo
customer has an account: under the customer's attributes key `banco`,
`{saldo: <euros>, tarjeta: <card's last 4 digits>, tarjeta_estado: activa | bloqueada}` (agents see these in
the screen pop, as a bank's agents would), and a PIN in `customer_pins`, hashed (crm/pins.py), which nobody
sees. **A demo customer's PIN is the last four digits of their first phone number** (the screen pop shows
it), so a newcomer can try the IVR as any customer. Balances and cards come from the load's seed and the
customer's number (`plan_account`): the same seed gives the same bank.

No lockout after wrong PINs: a demo. A wrong or missing PIN, an unidentified caller, a customer without an
account: the function fails (the flow's `error` branch), saying nothing of which.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from centralita.crm.actions import do_update_customer
from centralita.crm.pins import pin_matches
from centralita.crm.schemas import CustomerUpdate
from centralita.demo.accounts import ACCOUNT_KEY, BLOCKED, spanish_amount
from centralita.flowrun.functions import Call, FunctionFailed, flow_function
from centralita.store import tables as t

__all__ = ["bloquear_tarjeta", "saldo"]


def _customer_id(call: Call) -> int:
    raw = call.input.get("cliente")
    if isinstance(raw, str) and raw.isascii() and raw.isdigit():
        raw = int(raw)
    if not isinstance(raw, int) or isinstance(raw, bool):
        raise FunctionFailed("no customer (the caller is not identified)")
    return raw


def _checked(session: Session, call: Call, lock: bool = False) -> tuple[t.Customer, dict[str, Any]]:
    """The customer named by `cliente` when `pin` is theirs, and their account."""
    customer_id = _customer_id(call)
    pin = call.input.get("pin")
    if not isinstance(pin, str) or not pin_matches(session, call.tenant_id, customer_id, pin):
        raise FunctionFailed("wrong or missing PIN")
    customer = session.get(t.Customer, customer_id, with_for_update=lock)
    if customer is None or customer.tenant_id != call.tenant_id:
        raise FunctionFailed("no such customer")
    account = (customer.attributes or {}).get(ACCOUNT_KEY)
    if not isinstance(account, dict):
        raise FunctionFailed("the customer has no account")
    return customer, account


@flow_function("banco.saldo")
def saldo(call: Call) -> Mapping[str, Any]:
    """`{cliente, pin}` → `{disponible: "1.234,56"}`: the available balance, formatted the Spanish way."""
    with call.db.read() as session:
        _customer, account = _checked(session, call)
        amount = account.get("saldo")
        if not isinstance(amount, int | float) or isinstance(amount, bool):
            raise FunctionFailed("the account has no balance")
        return {"disponible": spanish_amount(float(amount))}


@flow_function("banco.bloquear_tarjeta")
def bloquear_tarjeta(call: Call) -> Mapping[str, Any]:
    """`{cliente, pin}` → `{tarjeta: <last 4 digits>, estado: "bloqueada"}`: the card blocked, through the
    CRM's customer update (its `customer.updated` event). A card already blocked stays so: the same answer."""
    with call.db.write() as session:
        customer, account = _checked(session, call, lock=True)
        card = str(account.get("tarjeta", ""))
        if account.get("tarjeta_estado") != BLOCKED:
            attributes = {**customer.attributes, ACCOUNT_KEY: {**account, "tarjeta_estado": BLOCKED}}
            do_update_customer(session, call.actor(), customer, CustomerUpdate(attributes=attributes))
        return {"tarjeta": card, "estado": BLOCKED}

"""A contact's status and the moves between statuses, in one table (pure: no I/O).

```
arrived ──► queued ──► connected ⇄ held
   │          │            │        │
   │          │            └──► acw ◄┘ ──► closed
   └──────────┴──────────────────────────► closed
```

`arrived`: recognised, not yet queued (its flow runs; a flow taking it out of every queue brings it back
here); `queued`: waiting in one to
three queues, maybe ringing an agent (its open offers); `connected` / `held`: with an agent; `acw`: the
conversation ended and the agent wraps up; `closed`: over (answered and wrapped up, abandoned, ended at
arrival because the queue was closed or full, or an imported past contact).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from enum import StrEnum

from centralita.core.errors import Conflict
from centralita.core.i18n import _

__all__ = ["LIVE", "TRANSITIONS", "ContactStatus", "check_move", "require", "status_label"]


class ContactStatus(StrEnum):
    ARRIVED = "arrived"
    QUEUED = "queued"
    CONNECTED = "connected"
    HELD = "held"
    ACW = "acw"
    CLOSED = "closed"


S = ContactStatus
TRANSITIONS: Mapping[ContactStatus, frozenset[ContactStatus]] = {
    S.ARRIVED: frozenset({S.QUEUED, S.CLOSED}),
    S.QUEUED: frozenset({S.CONNECTED, S.CLOSED, S.ARRIVED}),  # back to its flow: out of every queue
    S.CONNECTED: frozenset({S.HELD, S.ACW}),
    S.HELD: frozenset({S.CONNECTED, S.ACW}),
    S.ACW: frozenset({S.CLOSED}),
    S.CLOSED: frozenset(),
}
LIVE = frozenset({S.QUEUED, S.CONNECTED, S.HELD, S.ACW})  # routing and the agent's screen care about these


def status_label(status: str) -> str:
    """The status in the current language (messages); the code stays the code in data."""
    labels = {
        S.ARRIVED: lambda: _("arrived"),
        S.QUEUED: lambda: _("queued"),
        S.CONNECTED: lambda: _("connected"),
        S.HELD: lambda: _("on hold"),
        S.ACW: lambda: _("in after-contact work"),
        S.CLOSED: lambda: _("closed"),
    }
    label = labels.get(status)  # type: ignore[call-overload]
    return label() if label is not None else status


def check_move(
    contact_id: int, current: str, to: ContactStatus, needs: Collection[ContactStatus] | None = None
) -> ContactStatus:
    """`to`, when the contact may move there now: from one of `needs` (the statuses the action starts
    from; by default every status TRANSITIONS lets move to `to`) and along TRANSITIONS. Else a Conflict
    saying what the contact is and what the action needs."""
    sources = [s for s in ContactStatus if to in TRANSITIONS[s] and (needs is None or s in needs)]
    if current in sources:
        return to
    raise _conflict(contact_id, current, sources)


def require(contact_id: int, current: str, *statuses: ContactStatus) -> None:
    """A Conflict unless the contact is in one of `statuses` (an action that acts on it as it is)."""
    if current not in statuses:
        raise _conflict(contact_id, current, list(statuses))


def _conflict(contact_id: int, current: str, needed: list[ContactStatus]) -> Conflict:
    names = [status_label(s) for s in needed] or [_("in no status")]
    wanted = names[0] if len(names) == 1 else _("{a} or {b}", a=", ".join(names[:-1]), b=names[-1])
    return Conflict(
        _(
            "contact {id} is {status}; this needs it {needed}",
            id=contact_id,
            status=status_label(current),
            needed=wanted,
        )
    )

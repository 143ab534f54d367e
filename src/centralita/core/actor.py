"""Who is acting: the tenant, the user and role, and the clock every action reads time from."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from centralita.core.clock import Clock, SystemClock

__all__ = ["ROLES", "Actor", "role_at_least"]

ROLES = ("agent", "supervisor", "admin")
_RANK = {r: i for i, r in enumerate(ROLES)}


def role_at_least(role: str, minimum: str) -> bool:
    return _RANK.get(role, -1) >= _RANK[minimum]


@dataclass(frozen=True)
class Actor:
    tenant_id: int
    role: str = "admin"
    user_id: int | None = None
    agent_id: int | None = None
    username: str = "system"
    clock: Clock = field(default_factory=SystemClock)
    token_id: int | None = None  # the API token it authenticated with (None: a session, the CLI, the system)

    def now(self) -> dt.datetime:
        return self.clock.now()

    def at_least(self, minimum: str) -> bool:
        return role_at_least(self.role, minimum)

    @property
    def integration(self) -> bool:
        """An API token that acts for no agent: a channel connector, a CRM, a simulator."""
        return self.token_id is not None and self.agent_id is None

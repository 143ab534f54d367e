"""Drive the indexed Router and the ReferenceRouter side by side: every call goes to both, with its own
copy of the arguments, and must give the same answer and leave the same state."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from centralita.routing.engine import Router
from centralita.routing.model import QueueConfig
from centralita.routing.reference import ReferenceRouter


class Both:
    def __init__(self, queues: dict[int, QueueConfig] | list[QueueConfig]) -> None:
        if isinstance(queues, list):
            queues = {q.id: q for q in queues}
        self.fast = Router(queues)
        self.ref = ReferenceRouter(queues)

    def __getattr__(self, name: str) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            got = getattr(self.fast, name)(*copy.deepcopy(args), **copy.deepcopy(kwargs))
            want = getattr(self.ref, name)(*copy.deepcopy(args), **copy.deepcopy(kwargs))
            assert got == want, f"{name}{args}: indexed {got!r} != reference {want!r}"
            assert self.fast.agents == self.ref.agents, name
            assert self.fast.contacts == self.ref.contacts, (
                name,
                [(c, self.ref.contacts.get(k)) for k, c in self.fast.contacts.items() if c != self.ref.contacts.get(k)],
            )
            assert self.fast.offered == self.ref.offered, name
            assert self.fast.levels == self.ref.levels, name
            return got

        return call

    def offers(self, now: float) -> list[tuple[int, int]]:
        """Step both to `now`; the new offers as (contact, agent)."""
        made, _ = self.step(now)
        return [(o.contact_id, o.agent_id) for o in made]

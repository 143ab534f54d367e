"""What a live flow reads from outside (the interpreter's `Environment`): the router's live queue figures,
the contact's own place in its queues, queue settings, hours calendars, the flows it may enter (each at
the version the contact first entered it), the prompt library and the tenant's global variables.

Figures that are the router's (agents staffed and available, expected wait, rolling ASA) come from the
routing runner (`Figures`: the leader's, or a standby's copy of them); counts and places in queues are
read from the store in the contact's own transaction, so they are exact on every process.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from centralita.core.errors import InvalidInput
from centralita.core.phones import normalize_identity
from centralita.flows.document import Flow, check_flow
from centralita.flows.interpreter import QueueInfo
from centralita.flowstore.queries import flow_text
from centralita.prompts.library import prompt_texts
from centralita.queues.hours import hours_status
from centralita.store import tables as t

__all__ = ["Figures", "LiveEnvironment", "load_flow", "no_figures"]

# tenant id -> {queue code: the router's figures of it (dispatch/stats.py queue_figures)}
Figures = Callable[[int], Mapping[str, Mapping[str, Any]]]


def no_figures(tenant_id: int) -> Mapping[str, Mapping[str, Any]]:
    return {}


@functools.lru_cache(maxsize=512)
def _parsed(checksum: str, source: str, code: str) -> Flow | None:
    return check_flow(source, f"{code}.yaml").flow


def load_flow(session: Session, tenant_id: int, code: str, version: int | None) -> tuple[Flow, int] | None:
    """A published flow at `version` (None: the current one), parsed once per text (versions never change)."""
    found = flow_text(session, tenant_id, code, version)
    if found is None:
        return None
    flow = _parsed(found.checksum, found.source, code)
    return (flow, found.version) if flow is not None else None


class LiveStats:
    """flows-and-routing §3's statistics functions for one contact, now."""

    def __init__(self, env: LiveEnvironment) -> None:
        self.env = env

    def _queue(self, code: str) -> t.Queue:
        return self.env.queue_row(code)

    def _figure(self, code: str, key: str, default: Any) -> Any:
        self._queue(code)
        value = self.env.figures.get(code, {}).get(key)
        return default if value is None else value

    def _open(self, code: str, min_priority: int | None = None) -> Any:
        q = self._queue(code)
        query = select(t.ContactMembership).where(
            t.ContactMembership.tenant_id == self.env.tenant_id,
            t.ContactMembership.queue_id == q.id,
            t.ContactMembership.left_at.is_(None),
        )
        if min_priority is not None:
            query = query.where(t.ContactMembership.priority >= min_priority)
        return query

    def queue_size(self, queue: str, min_priority: int | None) -> int:
        sub = self._open(queue, min_priority).where(t.ContactMembership.contact_id != self.env.contact_id).subquery()
        others = int(self.env.session.scalar(select(func.count()).select_from(sub)) or 0)
        mine = self.env.mine(queue)
        return others + (1 if mine is not None and (min_priority is None or mine["priority"] >= min_priority) else 0)

    def oldest_wait(self, queue: str, min_priority: int | None) -> float:
        sub = self._open(queue, min_priority).subquery()
        first = self.env.session.scalar(select(func.min(sub.c.joined_at)))
        if first is None:
            return 0.0
        if isinstance(first, str):  # SQLite's min() over the column loses its type
            first = dt.datetime.fromisoformat(first)
        if first.tzinfo is None:
            first = first.replace(tzinfo=dt.UTC)
        return max(0.0, (self.env.now - first).total_seconds())

    def agents_staffed(self, queue: str) -> int:
        return int(self._figure(queue, "staffed", 0))

    def agents_available(self, queue: str) -> int:
        return int(self._figure(queue, "available", 0))

    def agents_online(self, queue: str) -> int:
        return self.agents_staffed(queue)

    def ewt(self, queue: str, priority: int) -> float:
        if self.agents_staffed(queue) == 0:
            return math.inf
        return float(self._figure(queue, "ewt_s", math.inf))

    def rolling_asa(self, queue: str) -> float | None:
        self._queue(queue)
        value = self.env.figures.get(queue, {}).get("rolling_asa_s")
        return None if value is None else float(value)

    def my_ewt(self) -> float:
        waits = [self.ewt(code, 0) for code in self.env.my_queues()]
        return min(waits, default=math.inf)

    def in_queue(self, queue: str | None) -> bool:
        return bool(self.env.state_queues) if queue is None else queue in self.env.state_queues

    def time_in_queue(self, queue: str) -> float | None:
        if self.env.mine(queue) is None:
            return None
        m = self.env.my_queues().get(queue)  # none yet: it joins in this very step
        return 0.0 if m is None else max(0.0, (self.env.now - m.joined_at).total_seconds())

    def position(self, queue: str) -> int | None:
        """1-based: the contacts before this one in the queue (a higher priority, or the same one and
        earlier); a contact joining in this very step comes after every one of its priority."""
        mine = self.env.mine(queue)
        if mine is None:
            return None
        q = self._queue(queue)
        cm = t.ContactMembership
        m = self.env.my_queues().get(queue)
        before = (cm.priority > mine["priority"]) | (cm.priority == mine["priority"])
        if m is not None and m.arrival_seq:
            before = (cm.priority > mine["priority"]) | (
                (cm.priority == mine["priority"]) & (cm.arrival_seq < m.arrival_seq) & (cm.arrival_seq > 0)
            )
        ahead = self.env.session.scalar(
            select(func.count())
            .select_from(cm)
            .where(
                cm.tenant_id == self.env.tenant_id,
                cm.queue_id == q.id,
                cm.left_at.is_(None),
                cm.contact_id != self.env.contact_id,
                before,
            )
        )
        return int(ahead or 0) + 1

    def in_hours(self, schedule: str) -> bool:
        return self.env.schedule_state(schedule, self.env.now) == "open"

    def is_holiday(self, schedule: str) -> bool:
        return self.env.schedule_state(schedule, self.env.now) == "holiday"


class LiveEnvironment:
    """The interpreter's `Environment` for one contact's event, inside its transaction."""

    def __init__(
        self,
        session: Session,
        tenant_id: int,
        contact_id: int,
        now: dt.datetime,
        figures: Mapping[str, Mapping[str, Any]],
        versions: dict[str, Any],
        prompts: Callable[[str, str], str | None] | None = None,
    ) -> None:
        self.session = session
        self.tenant_id = tenant_id
        self.contact_id = contact_id
        self.now = now
        self.figures = figures
        self.versions = versions  # the run's {code: version}: entering a flow pins its version
        self._prompts = prompts
        self._queues: dict[str, t.Queue | None] = {}
        self._flows: dict[str, Flow | None] = {}
        self._globals: dict[str, Any] | None = None
        self._country: str | None = None
        self.stats = LiveStats(self)
        self.state_queues: Mapping[str, Mapping[str, Any]] = {}  # the flow's own view: set by the driver

    def mine(self, code: str) -> Mapping[str, Any] | None:
        """The contact's place in `code` as its flow holds it (it may join in this very step)."""
        self.queue_row(code)
        return self.state_queues.get(code)

    # queues

    def queue_row(self, code: str) -> t.Queue:
        if code not in self._queues:
            self._queues[code] = self.session.scalar(
                select(t.Queue).where(t.Queue.tenant_id == self.tenant_id, t.Queue.code == code, t.Queue.active)
            )
        row = self._queues[code]
        if row is None:
            raise KeyError(code)
        return row

    def my_queues(self) -> dict[str, t.ContactMembership]:
        rows = self.session.execute(
            select(t.Queue.code, t.ContactMembership)
            .join(t.Queue, t.Queue.id == t.ContactMembership.queue_id)
            .where(t.ContactMembership.contact_id == self.contact_id, t.ContactMembership.left_at.is_(None))
        ).all()
        return {code: m for code, m in rows}

    def queue(self, queue: str) -> QueueInfo | None:
        try:
            row = self.queue_row(queue)
        except KeyError:
            return None
        schedule = None
        if row.hours_id is not None:
            hours = self.session.get(t.HoursCalendar, row.hours_id)
            schedule = hours.code if hours is not None else None
        return QueueInfo(
            max_contacts=row.max_contacts, segment_priority=dict(row.segment_priority or {}), schedule=schedule
        )

    # hours, flows, prompts, globals, numbers

    def schedule_state(self, schedule: str, now: dt.datetime) -> str | None:
        row = self.session.scalar(
            select(t.HoursCalendar).where(t.HoursCalendar.tenant_id == self.tenant_id, t.HoursCalendar.code == schedule)
        )
        if row is None:
            return None
        return hours_status(row.timezone, row.weekly, row.overrides, now)

    def flow(self, flow_id: str) -> Flow | None:
        """The flow at the version the contact entered it (its first entry pins the current one); read once
        per event: the interpreter asks for it at every node."""
        if flow_id not in self._flows:
            pinned = self.versions.get(flow_id)
            found = load_flow(self.session, self.tenant_id, flow_id, int(pinned) if pinned is not None else None)
            if found is not None:
                self.versions.setdefault(flow_id, found[1])
            self._flows[flow_id] = found[0] if found is not None else None
        return self._flows[flow_id]

    def prompt(self, prompt_id: str, language: str) -> str | None:
        """The library prompt's text in `language`, else in Spanish, else in any language it has."""
        if self._prompts is not None:
            return self._prompts(prompt_id, language)
        texts = prompt_texts(self.session, self.tenant_id, prompt_id)
        if not texts:
            return None
        found = texts.get(language) or texts.get("es") or next(iter(texts.values()))
        return str(found) if found is not None else None

    @property
    def globals(self) -> Mapping[str, Any]:
        if self._globals is None:
            rows = self.session.execute(
                select(t.FlowGlobal.name, t.FlowGlobal.value).where(t.FlowGlobal.tenant_id == self.tenant_id)
            ).all()
            self._globals = {name: value for name, value in rows}
        return self._globals

    def dialable(self, number: str) -> bool:
        if self._country is None:
            tenant = self.session.get(t.Tenant, self.tenant_id)
            self._country = tenant.country if tenant is not None else "ES"
        try:
            normalize_identity("phone", number, self._country)
        except InvalidInput:
            return False
        return True

"""The routing runner's inbox: committed events in, handed over per tenant in `seq` order, each exactly once.

The bus delivers events after commit, possibly out of order across processes and with losses (a Redis
message dropped); a tenant's events are numbered without gaps in commit order, so a seq beyond the next
one means the ones between exist and are read from the log, page by page, before it.
"""

from __future__ import annotations

import queue as queue_mod
import threading
from collections.abc import Iterator
from dataclasses import dataclass

from centralita.events.log import EventRecord, read_events
from centralita.store.db import Database

__all__ = ["GAP_PAGE", "AcceptPending", "FiguresWanted", "Inbox", "Sync", "in_order", "read_gap"]

GAP_PAGE = 1000


class Sync:
    """A marker: set once every event put before it is applied and its decisions written (tests)."""

    def __init__(self) -> None:
        self.done = threading.Event()


@dataclass(frozen=True)
class AcceptPending:
    """An agent's accept of an offer reached a server at `received_at` (epoch seconds) and is on its way to
    the store: the router keeps the offer ringing meanwhile (api/routes/live.py sends it as a bus note)."""

    tenant_id: int
    contact_id: int
    agent_id: int
    received_at: float


@dataclass(frozen=True)
class FiguresWanted:
    """A process that does not route has no figures yet for this tenant (it started after the leader last
    sent them): the leader sends its current figures at once rather than at the next change."""

    tenant_id: int


Item = EventRecord | Sync | AcceptPending | FiguresWanted | None  # None: stop


class Inbox:
    """A thread-safe queue of committed events (and sync markers) for the routing thread."""

    def __init__(self) -> None:
        self._queue: queue_mod.Queue[Item] = queue_mod.Queue()

    def put(self, item: Item) -> None:
        self._queue.put(item)

    def get(self, timeout: float) -> Item:
        """The next item; raises queue.Empty after `timeout` seconds."""
        return self._queue.get(timeout=timeout)

    def get_nowait(self) -> Item:
        return self._queue.get_nowait()

    def empty(self) -> bool:
        return self._queue.empty()


def read_gap(db: Database, tenant_id: int, after: int, upto: int, page: int = GAP_PAGE) -> Iterator[EventRecord]:
    """The tenant's events with seq in (after, upto], from the log, a page at a time (any gap size)."""
    cursor = after
    while cursor < upto:
        with db.read() as s:
            batch = [e for e in read_events(s, tenant_id, after_seq=cursor, limit=page) if e.seq <= upto]
        if not batch:
            return
        yield from batch
        cursor = batch[-1].seq


def in_order(db: Database, last_seq: int, record: EventRecord) -> Iterator[EventRecord]:
    """What applying `record` to a tenant that has applied up to `last_seq` takes: nothing for a seq already
    applied (a redelivery), else the gap before it from the log, then the record."""
    if record.seq <= last_seq:
        return
    if record.seq > last_seq + 1:  # committed elsewhere and not (yet) delivered: read the log
        yield from read_gap(db, record.tenant_id, last_seq, record.seq - 1)
    yield record

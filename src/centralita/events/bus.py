"""Fan-out of committed events: in-process by default, through Redis pub/sub between processes.

Besides events, a bus carries notes: ephemeral messages between the processes of one service that are
not events (never written, never replayed), such as the routing leader's queue figures or "an accept
for this offer reached a server". `note` hands one to every note handler of this process and, on a bus
between processes (`shares_notes`), of the others.

`publish` is called after commit (from any thread). Subscribers are asyncio queues bound to their
loop, or plain callables. Every subscriber is idempotent by event: it remembers the last `seq` it saw
per tenant and drops anything at or below it, so a redelivery changes nothing. A subscriber that sees
a gap (seq jumps) reads the missing events from the log itself (see realtime).

Redis pub/sub channels are server-wide (not per Redis database), so the channels are named after the
service (`namespace`: the setting `redis_namespace`, by default a hash of the database URL without its
password): two installations sharing one Redis never see each other's events or notes.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import threading
import uuid
from collections.abc import Callable
from typing import Any

from centralita.events.log import EventRecord

__all__ = ["LocalBus", "make_bus", "namespace_of"]

log = logging.getLogger(__name__)
CHANNEL = "centralita:{namespace}:events"
NOTES_CHANNEL = "centralita:{namespace}:notes"


def namespace_of(database_url: str) -> str:
    """The bus namespace of a database: the same for every process of one service, another for another."""
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    key = url.render_as_string(hide_password=True).replace(":***@", "@")  # the password is not the database
    return hashlib.sha256(key.encode()).hexdigest()[:16]


class Subscription:
    """An asyncio queue of events for one tenant (or all tenants when tenant_id is None).

    `wants`, when set, drops the events its consumer does not need before they reach its loop (the lean
    fan-out: no wake-up, no encoding). The consumer must still tell a dropped event from a lost one (a seq
    gap it fills from the log), so a drop is silent only when the event directly follows the last one the
    subscription passed (queued, dropped or `seen`); anything else is queued and the consumer decides.
    `next()` gives each event with the seq up to which everything before it was accounted for: seqs in
    (that, event seq) were never offered here and are a real gap."""

    def __init__(self, bus: LocalBus, loop: asyncio.AbstractEventLoop, tenant_id: int | None) -> None:
        self.bus = bus
        self.loop = loop
        self.tenant_id = tenant_id
        self.queue: asyncio.Queue[EventRecord] = asyncio.Queue()
        self.wants: Callable[[EventRecord], bool] | None = None
        self._last_seq: dict[int, int] = {}
        self._before: dict[tuple[int, int], int] = {}
        self._lock = threading.Lock()

    def offer(self, record: EventRecord) -> None:
        if self.tenant_id is not None and record.tenant_id != self.tenant_id:
            return
        wants = self.wants
        with self._lock:
            last = self._last_seq.get(record.tenant_id, 0)
            if record.seq <= last:
                return  # already delivered: idempotent by event
            self._last_seq[record.tenant_id] = record.seq
            if wants is not None and record.seq == last + 1 and not wants(record):
                return  # not needed, and the consumer can tell: the next event it gets says so
            self._before[(record.tenant_id, record.seq)] = last
            # under the lock: the loop gets the events in the order their seqs were accounted for here
            self.loop.call_soon_threadsafe(self.queue.put_nowait, record)

    async def next(self) -> tuple[int, EventRecord]:
        """The next event and the seq up to which every earlier one was delivered, dropped or seen."""
        record = await self.queue.get()
        with self._lock:
            before = self._before.pop((record.tenant_id, record.seq), 0)  # unknown: check it all
        return before, record

    def seen(self, tenant_id: int, seq: int) -> None:
        """Tell the subscription what the consumer already has (from a snapshot or a backfill)."""
        with self._lock:
            if seq > self._last_seq.get(tenant_id, 0):
                self._last_seq[tenant_id] = seq

    def close(self) -> None:
        self.bus.unsubscribe(self)


class LocalBus:
    """In-process fan-out."""

    shares_notes = False  # notes reach this process's handlers only

    def __init__(self) -> None:
        self._subs: list[Subscription] = []
        self._handlers: list[Callable[[EventRecord], None]] = []
        self._handler_seen: dict[tuple[int, int], int] = {}
        self._note_handlers: list[Callable[[dict[str, Any]], None]] = []
        self._lock = threading.Lock()

    def on_note(self, handler: Callable[[dict[str, Any]], None]) -> None:
        with self._lock:
            self._note_handlers.append(handler)

    def note(self, message: dict[str, Any]) -> None:
        """Hand an ephemeral message to every note handler (here; and elsewhere when `shares_notes`)."""
        self.deliver_note(message)

    def deliver_note(self, message: dict[str, Any]) -> None:
        with self._lock:
            handlers = list(self._note_handlers)
        for handler in handlers:
            try:
                handler(message)
            except Exception:  # a consumer's bug must not break the sender
                log.exception("note handler failed for %s", message.get("kind"))

    def subscribe(self, tenant_id: int | None, loop: asyncio.AbstractEventLoop | None = None) -> Subscription:
        sub = Subscription(self, loop or asyncio.get_running_loop(), tenant_id)
        with self._lock:
            self._subs.append(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            if sub in self._subs:
                self._subs.remove(sub)

    def add_handler(self, handler: Callable[[EventRecord], None]) -> None:
        with self._lock:
            self._handlers.append(handler)

    def publish(self, records: list[EventRecord]) -> None:
        self.deliver(records)

    def deliver(self, records: list[EventRecord]) -> None:
        with self._lock:
            subs = list(self._subs)
            handlers = list(enumerate(self._handlers))
        for record in records:
            for sub in subs:
                sub.offer(record)
            for idx, handler in handlers:
                key = (idx, record.tenant_id)
                with self._lock:
                    if record.seq <= self._handler_seen.get(key, 0):
                        continue
                    self._handler_seen[key] = record.seq
                try:
                    handler(record)
                except Exception:  # a consumer's bug must not break the writer
                    log.exception("event handler failed for %s", record.type)

    def close(self) -> None:
        with self._lock:
            self._subs.clear()


class RedisBus(LocalBus):
    """Delivers locally at once and publishes to Redis for the other processes; relays theirs here."""

    shares_notes = True

    def __init__(self, url: str, namespace: str) -> None:
        super().__init__()
        import redis

        self.channel = CHANNEL.format(namespace=namespace)
        self.notes_channel = NOTES_CHANNEL.format(namespace=namespace)
        self.origin = uuid.uuid4().hex
        self._redis = redis.Redis.from_url(url)
        self._redis.ping()  # fail at start, with a clear error, when Redis is unreachable
        self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
        self._pubsub.subscribe(self.channel, self.notes_channel)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._listen, name="centralita-redis-bus", daemon=True)
        self._thread.start()

    def publish(self, records: list[EventRecord]) -> None:
        self.deliver(records)
        payload = json.dumps({"origin": self.origin, "events": [r.to_dict() for r in records]})
        try:
            self._redis.publish(self.channel, payload)
        except Exception:  # the log has the events; other processes backfill on the next seq gap
            log.exception("could not publish %d event(s) to Redis", len(records))

    def note(self, message: dict[str, Any]) -> None:
        self.deliver_note(message)
        try:
            self._redis.publish(self.notes_channel, json.dumps({"origin": self.origin, "note": message}))
        except Exception:  # ephemeral: the next one carries the news
            log.exception("could not send a note to Redis")

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                message: dict[str, Any] | None = self._pubsub.get_message(timeout=0.5)
            except Exception:
                if self._stop.is_set():
                    return
                log.exception("Redis bus listener error")
                self._stop.wait(1.0)
                continue
            if not message or message.get("type") != "message":
                continue
            try:
                body = json.loads(message["data"])
                if body.get("origin") == self.origin:
                    continue
                if "note" in body:
                    self.deliver_note(body["note"])
                    continue
                self.deliver([EventRecord.from_dict(e) for e in body["events"]])
            except Exception:
                log.exception("bad message on the Redis bus")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        try:
            self._pubsub.close()
            self._redis.close()
        finally:
            super().close()


def make_bus(redis_url: str | None, database_url: str, namespace: str | None = None) -> LocalBus:
    """Redis between processes when configured (channels of `namespace`, by default of this database's
    URL), else in-process."""
    return RedisBus(redis_url, namespace or namespace_of(database_url)) if redis_url else LocalBus()

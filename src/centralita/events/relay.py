"""The relay between the worker processes of one `centralita up`, when there is no Redis.

`centralita up` with several workers (api/workers.py) runs the hub in the supervisor process, on a Unix
socket in the data directory; each worker connects to it with a `RelayBus`. It is the embedded
default's stand-in for Redis, needing no server, and carries three things:

- **Events.** A worker publishes what it committed; the hub sends every event to every worker, the
  publisher included, in seq order per tenant. Publishers reach the hub in the order they happen to
  send, which is not always commit order, so the hub holds an event that comes before its predecessor
  for up to `REORDER_S` (that one is usually a fraction of a millisecond behind); past that it lets it
  go and the subscribers fill the gap from the log, as they do for any gap.
- **Ephemeral messages** (the routing leader's queue figures): sent to every other worker as they come.
- **Counters** (the login limit): a reservation checks and takes several counts in one step, as the
  Redis script does (api/auth.py), so the limit holds across workers.

Frames: a 4-byte big-endian length, then JSON. The hub greets each connection (`hello`) once it is
registered, and a `RelayBus` waits for that greeting: from then on it gets every event published, so an
event published right after a worker connected is never missed. A worker that loses the hub logs it and tries again; the
event log has every event, so nothing is lost, only delivered later.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import json
import logging
import socket
import struct
import threading
import time
from pathlib import Path
from typing import Any

from centralita.events.bus import LocalBus
from centralita.events.log import EventRecord

__all__ = ["RelayBus", "RelayHub"]

log = logging.getLogger(__name__)

REORDER_S = 0.1  # under load a publisher is often tens of ms late (GIL): holding beats every socket reading the gap
MAX_FRAME = 64 * 1024 * 1024
_LEN = struct.Struct(">I")


def _frame(message: dict[str, Any]) -> bytes:
    body = json.dumps(message, separators=(",", ":")).encode()
    return _LEN.pack(len(body)) + body


class _Order:
    """One tenant's events on their way through the hub: released in seq order, a gap waited for briefly."""

    def __init__(self, reorder_s: float) -> None:
        self.reorder_s = reorder_s
        self.next_seq: int | None = None
        self.held: list[tuple[int, int, dict[str, Any]]] = []  # (seq, arrival, event): a heap
        self.since = 0.0  # when the hub began waiting for the gap before `held`
        self._arrivals = itertools.count()

    def add(self, event: dict[str, Any], now: float) -> list[dict[str, Any]]:
        seq = int(event["seq"])
        if self.next_seq is None:
            self.next_seq = seq
        if seq < self.next_seq:
            return [event]  # late, after its gap was given up: subscribers drop it or fill from it
        if not self.held:
            self.since = now
        heapq.heappush(self.held, (seq, next(self._arrivals), event))
        return self._drain(now)

    def _drain(self, now: float) -> list[dict[str, Any]]:
        assert self.next_seq is not None
        out: list[dict[str, Any]] = []
        while self.held and self.held[0][0] <= self.next_seq:
            seq, _n, event = heapq.heappop(self.held)
            out.append(event)
            self.next_seq = max(self.next_seq, seq + 1)
        if out and self.held:
            self.since = now  # a new gap: its wait starts now
        return out

    def overdue(self, now: float) -> bool:
        return bool(self.held) and now - self.since >= self.reorder_s

    def give_up(self, now: float) -> list[dict[str, Any]]:
        """Skip the gap (its events come from the log) and release what follows it."""
        self.next_seq = self.held[0][0]
        return self._drain(now)


class RelayHub:
    """The supervisor's side: a thread with an asyncio loop serving the Unix socket at `path`."""

    def __init__(self, path: Path, reorder_s: float = REORDER_S) -> None:
        self.path = path
        self.reorder_s = reorder_s
        self._writers: set[asyncio.StreamWriter] = set()
        self._order: dict[int, _Order] = {}
        self._counters: dict[str, tuple[int, float]] = {}  # key → (count, expires at)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="centralita-relay", daemon=True)

    def start(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()  # a leftover of a process that was killed
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError(f"the relay did not start on {self.path}")

    def stop(self) -> None:
        loop = self._loop
        if loop is not None:
            loop.call_soon_threadsafe(loop.stop)
        self._thread.join(timeout=5)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._server = loop.run_until_complete(asyncio.start_unix_server(self._serve, path=str(self.path)))
        self.path.chmod(0o600)
        loop.call_soon(self._ready.set)
        loop.call_later(self.reorder_s / 2, self._flush_late)
        try:
            loop.run_forever()
        finally:
            self._server.close()
            for writer in list(self._writers):
                writer.close()
            loop.run_until_complete(asyncio.sleep(0))
            loop.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        writer.write(_frame({"op": "hello"}))  # registered: it gets every broadcast from now on
        try:
            while True:
                head = await reader.readexactly(_LEN.size)
                (size,) = _LEN.unpack(head)
                if size > MAX_FRAME:
                    log.error("relay: a %d-byte frame; closing that worker's connection", size)
                    return
                self._handle(json.loads(await reader.readexactly(size)), writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        except Exception:
            log.exception("relay: a bad message; closing that worker's connection")
        finally:
            self._writers.discard(writer)
            writer.close()

    def _broadcast(self, message: dict[str, Any], skip: asyncio.StreamWriter | None = None) -> None:
        frame = _frame(message)
        for writer in list(self._writers):
            if writer is not skip and not writer.is_closing():
                writer.write(frame)

    def _handle(self, message: dict[str, Any], writer: asyncio.StreamWriter) -> None:
        op = message.get("op")
        if op == "pub":
            now = time.monotonic()
            out: list[dict[str, Any]] = []
            for event in message["events"]:
                out += self._order.setdefault(int(event["tenant_id"]), _Order(self.reorder_s)).add(event, now)
            if out:
                self._broadcast({"op": "events", "events": out})
        elif op == "note":
            self._broadcast({"op": "note", "message": message["message"]}, skip=writer)
        elif op == "reserve":
            refused, ttl = self._reserve(message["keys"], message["limits"], float(message["window"]))
            writer.write(_frame({"op": "reply", "id": message["id"], "refused": refused, "ttl": ttl}))
        elif op == "give_back":
            for key in message["keys"]:
                count, expires = self._counters.get(key, (0, 0.0))
                if count > 0:
                    self._counters[key] = (count - 1, expires)

    def _reserve(self, keys: list[str], limits: list[int], window: float) -> tuple[int, int]:
        now = time.monotonic()
        for key in [k for k, (_c, expires) in self._counters.items() if expires <= now]:
            del self._counters[key]
        for i, (key, limit) in enumerate(zip(keys, limits, strict=True), start=1):
            count, expires = self._counters.get(key, (0, now + window))
            if count >= limit:
                return i, max(1, int(expires - now + 0.999))
        for key in keys:
            count, expires = self._counters.get(key, (0, now + window))
            self._counters[key] = (count + 1, expires)
        return 0, 0

    def _flush_late(self) -> None:
        """Let go of events whose predecessor did not come within `reorder_s`."""
        now = time.monotonic()
        out: list[dict[str, Any]] = []
        for order in self._order.values():
            while order.overdue(now):
                out += order.give_up(now)
        if out:
            self._broadcast({"op": "events", "events": out})
        assert self._loop is not None
        self._loop.call_later(min(self.reorder_s / 2, 0.01), self._flush_late)


class RelayBus(LocalBus):
    """A worker's side: publishes through the hub and delivers what the hub sends (its own events too, so
    every worker sees one order); `note` sends an ephemeral message to the other workers; `reserve` and
    `give_back` keep the shared counters."""

    shares_notes = True

    def __init__(self, path: Path, reply_timeout: float = 5.0) -> None:
        super().__init__()
        self.path = path
        self.reply_timeout = reply_timeout
        self._send_lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._stop = threading.Event()
        self._ids = itertools.count(1)
        self._replies: dict[int, tuple[threading.Event, list[dict[str, Any]]]] = {}
        self._connect()  # fail at start, with a clear error, when the hub is not there
        self._thread = threading.Thread(target=self._listen, name="centralita-relay-bus", daemon=True)
        self._thread.start()

    def _connect(self) -> socket.socket:
        """Connect and wait for the hub's greeting, which says this connection gets every broadcast."""
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(self.reply_timeout)
            sock.connect(str(self.path))
            (size,) = _LEN.unpack(_read_exactly(sock, _LEN.size))
            if size > MAX_FRAME or json.loads(_read_exactly(sock, size)).get("op") != "hello":
                raise ConnectionError(f"the relay at {self.path} did not greet")
            sock.settimeout(None)
        except (OSError, EOFError, ValueError) as error:
            sock.close()
            raise ConnectionError(f"cannot join the relay at {self.path}: {error}") from error
        self._sock = sock
        return sock

    def _send(self, message: dict[str, Any]) -> None:
        frame = _frame(message)
        with self._send_lock:
            if self._sock is None:
                raise ConnectionError("no connection to the relay")
            self._sock.sendall(frame)

    def publish(self, records: list[EventRecord]) -> None:
        try:
            self._send({"op": "pub", "events": [r.to_dict() for r in records]})
        except OSError:  # the log has them: subscribers read them on the next gap
            log.exception("could not publish %d event(s) to the relay", len(records))

    def note(self, message: dict[str, Any]) -> None:
        self.deliver_note(message)
        with contextlib.suppress(OSError):
            self._send({"op": "note", "message": message})

    def reserve(self, keys: list[str], limits: list[int], window: float) -> tuple[int, int]:
        """Check and take one count of each key at once: (0, 0), or (1-based index of the full one, ttl)."""
        request_id = next(self._ids)
        done, box = threading.Event(), list[dict[str, Any]]()
        self._replies[request_id] = (done, box)
        try:
            self._send({"op": "reserve", "id": request_id, "keys": keys, "limits": limits, "window": window})
            if not done.wait(self.reply_timeout):
                raise TimeoutError("the relay did not answer")
            return int(box[0]["refused"]), int(box[0]["ttl"])
        finally:
            self._replies.pop(request_id, None)

    def give_back(self, keys: list[str]) -> None:
        with contextlib.suppress(OSError):
            self._send({"op": "give_back", "keys": keys})

    def _listen(self) -> None:
        while not self._stop.is_set():
            sock = self._sock
            try:
                if sock is None:
                    sock = self._connect()
                while not self._stop.is_set():
                    (size,) = _LEN.unpack(_read_exactly(sock, _LEN.size))
                    self._dispatch(json.loads(_read_exactly(sock, size)))
            except (OSError, EOFError):
                if self._stop.is_set():
                    return
                log.warning("lost the relay at %s; trying again", self.path)
                with self._send_lock:
                    if self._sock is sock and sock is not None:
                        sock.close()
                        self._sock = None
                self._stop.wait(0.5)
            except Exception:
                log.exception("bad message from the relay")

    def _dispatch(self, message: dict[str, Any]) -> None:
        op = message.get("op")
        if op == "events":
            self.deliver([EventRecord.from_dict(e) for e in message["events"]])
        elif op == "reply":
            waiting = self._replies.get(int(message["id"]))
            if waiting is not None:
                waiting[1].append(message)
                waiting[0].set()
        elif op == "note":
            self.deliver_note(message["message"])

    def close(self) -> None:
        self._stop.set()
        with self._send_lock:
            if self._sock is not None:
                with contextlib.suppress(OSError):
                    self._sock.shutdown(socket.SHUT_RDWR)
                self._sock.close()
                self._sock = None
        self._thread.join(timeout=2)
        super().close()


def _read_exactly(sock: socket.socket, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)

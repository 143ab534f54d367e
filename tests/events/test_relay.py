"""The relay between worker processes (events/relay.py): a real hub on a Unix socket, real bus clients."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from centralita.events.log import EventRecord
from centralita.events.relay import REORDER_S, RelayBus, RelayHub


@pytest.fixture
def hub(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[RelayHub]:
    # a short path: a Unix socket's path must fit in about 100 bytes
    path = Path("/tmp") / f"relay-{tmp_path.name[-20:]}.sock"
    h = RelayHub(path, reorder_s=getattr(request, "param", REORDER_S))
    h.start()
    yield h
    h.stop()


def _event(seq: int, tenant_id: int = 1) -> EventRecord:
    return EventRecord(
        id=seq, tenant_id=tenant_id, seq=seq, type="contact.arrived", ts=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    )


class Seen:
    def __init__(self, bus: RelayBus) -> None:
        self.seqs: list[int] = []
        self.notes: list[dict[str, object]] = []
        self.lock = threading.Lock()
        bus.add_handler(self._event)
        bus.on_note(self.notes.append)

    def _event(self, record: EventRecord) -> None:
        with self.lock:
            self.seqs.append(record.seq)

    def wait_for(self, n: int, timeout: float = 5.0) -> list[int]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.seqs) >= n:
                    return list(self.seqs)
            time.sleep(0.005)
        return list(self.seqs)


def test_events_reach_every_worker_the_publisher_too_in_order(hub: RelayHub) -> None:
    a, b = RelayBus(hub.path), RelayBus(hub.path)
    try:
        seen_a, seen_b = Seen(a), Seen(b)
        a.publish([_event(1), _event(2)])
        b.publish([_event(3)])
        a.publish([_event(4)])
        assert seen_a.wait_for(4) == [1, 2, 3, 4]
        assert seen_b.wait_for(4) == [1, 2, 3, 4]
    finally:
        a.close()
        b.close()


def test_a_worker_gets_every_event_published_once_it_has_connected(hub: RelayHub) -> None:
    """Connected means registered: the hub greets a connection only once it will get every broadcast, so an
    event published the moment another worker's bus is built is not missed (it was, under load)."""
    publisher = RelayBus(hub.path)
    try:
        for seq in range(1, 31):
            bus = RelayBus(hub.path)
            try:
                seen = Seen(bus)
                publisher.publish([_event(seq)])
                assert seen.wait_for(1) == [seq]
            finally:
                bus.close()
    finally:
        publisher.close()


def test_a_hub_that_is_not_there_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConnectionError, match="cannot join the relay"):
        RelayBus(tmp_path / "none.sock")


@pytest.mark.parametrize("hub", [30.0], indirect=True)  # a long wait: however loaded the machine is
def test_an_event_ahead_of_its_predecessor_waits_for_it(hub: RelayHub) -> None:
    """Two workers commit 2 then 3 but publish 3 first: every worker still gets 2 before 3 (delivering 3
    first would make each subscriber read 2 from the log)."""
    a, b = RelayBus(hub.path), RelayBus(hub.path)
    try:
        seen = Seen(b)
        a.publish([_event(1)])
        assert seen.wait_for(1) == [1]
        b.publish([_event(3)])
        time.sleep(0.05)
        assert seen.wait_for(2, timeout=0.1) == [1]  # held
        a.publish([_event(2)])
        assert seen.wait_for(3) == [1, 2, 3]
    finally:
        a.close()
        b.close()


def test_a_gap_that_never_fills_is_given_up(hub: RelayHub) -> None:
    """The publisher of seq 2 died after its commit: 3 goes out after REORDER_S (2 comes from the log)."""
    a = RelayBus(hub.path)
    try:
        seen = Seen(a)
        a.publish([_event(1)])
        a.publish([_event(3)])
        started = time.monotonic()
        assert seen.wait_for(2) == [1, 3]
        assert time.monotonic() - started >= REORDER_S * 0.5
        a.publish([_event(4)])  # in order again: no wait
        assert seen.wait_for(3) == [1, 3, 4]
    finally:
        a.close()


def test_tenants_are_ordered_each_on_its_own(hub: RelayHub) -> None:
    a = RelayBus(hub.path)
    try:
        seen = Seen(a)
        a.publish([_event(7, tenant_id=1), _event(1, tenant_id=2), _event(8, tenant_id=1), _event(2, tenant_id=2)])
        assert sorted(seen.wait_for(4)) == [1, 2, 7, 8]
    finally:
        a.close()


def test_notes_go_to_every_worker_once(hub: RelayHub) -> None:
    a, b = RelayBus(hub.path), RelayBus(hub.path)
    try:
        seen_a, seen_b = Seen(a), Seen(b)
        a.note({"kind": "queue_stats", "tenant_id": 1, "message": {"queues": []}})
        deadline = time.monotonic() + 5
        while not seen_b.notes and time.monotonic() < deadline:
            time.sleep(0.005)
        assert seen_b.notes == [{"kind": "queue_stats", "tenant_id": 1, "message": {"queues": []}}]
        time.sleep(0.05)
        assert seen_a.notes == seen_b.notes  # the sender's own handlers got it here, not again from the hub
    finally:
        a.close()
        b.close()


def test_counters_are_shared_and_checked_together(hub: RelayHub) -> None:
    a, b = RelayBus(hub.path), RelayBus(hub.path)
    try:
        assert a.reserve(["u", "c"], [2, 3], 60) == (0, 0)
        assert b.reserve(["u", "c"], [2, 3], 60) == (0, 0)
        refused, ttl = a.reserve(["u", "c"], [2, 3], 60)
        assert refused == 1 and 1 <= ttl <= 60  # the first key is full; nothing was taken
        assert b.reserve(["v", "c"], [2, 3], 60) == (0, 0)  # "c" is at 3 now
        assert b.reserve(["w", "c"], [2, 3], 60)[0] == 2
        a.give_back(["u", "c"])
        time.sleep(0.05)
        assert b.reserve(["u", "c"], [2, 3], 60) == (0, 0)
    finally:
        a.close()
        b.close()


def test_a_worker_without_the_hub_fails_at_start(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        RelayBus(Path("/tmp") / f"absent-{tmp_path.name[-20:]}.sock")

"""The event log and the bus: gapless per-tenant seq, publish only after commit, Redis fan-out, idempotence."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from centralita.core.clock import FakeClock
from centralita.events.bus import LocalBus, RedisBus, namespace_of
from centralita.events.log import EventRecord, append_event, read_events
from centralita.service import Service
from tests.conftest import REDIS_URL, make_service


def _tenant(svc: Service) -> int:
    from centralita.accounts.actions import do_create_tenant
    from centralita.accounts.schemas import TenantCreate

    with svc.db.write() as s:
        return do_create_tenant(s, TenantCreate(slug="t1", name="T1"), svc.clock).id


def test_events_publish_only_after_commit(service: Service) -> None:
    tenant_id = _tenant(service)
    seen: list[EventRecord] = []
    service.bus.add_handler(seen.append)
    with pytest.raises(RuntimeError), service.db.write() as s:
        append_event(s, tenant_id, "skill.created", service.clock.now(), {"code": "x"})
        raise RuntimeError("boom")
    assert seen == []
    with service.db.read() as s:
        assert [e.type for e in read_events(s, tenant_id)] == ["tenant.created"]
    with service.db.write() as s:
        append_event(s, tenant_id, "skill.created", service.clock.now(), {"code": "y"})
    assert [(e.type, e.seq) for e in seen] == [("skill.created", 2)]


def test_seq_is_gapless_under_concurrent_writers(service: Service) -> None:
    tenant_id = _tenant(service)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(15):
                with service.db.write() as s:
                    append_event(s, tenant_id, "skill.created", service.clock.now(), {"code": f"{n}-{i}"})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with service.db.read() as s:
        seqs = [e.seq for e in read_events(s, tenant_id, limit=10_000)]
    assert seqs == list(range(1, 8 * 15 + 2))


def test_unknown_event_type_is_refused(service: Service) -> None:
    tenant_id = _tenant(service)
    with pytest.raises(ValueError, match="unknown event type"), service.db.write() as s:
        append_event(s, tenant_id, "contact.teleported", service.clock.now())


def test_handlers_are_idempotent_by_event() -> None:
    import datetime as dt

    bus = LocalBus()
    got: list[int] = []
    bus.add_handler(lambda e: got.append(e.seq))
    ev = EventRecord(id=1, tenant_id=1, seq=1, type="skill.created", ts=dt.datetime.now(dt.UTC))
    bus.publish([ev])
    bus.publish([ev])  # redelivery
    assert got == [1]


def test_redis_fans_out_between_processes(sqlite_url: str, tmp_path: Path) -> None:
    """Two services on one database, each with its own Redis bus, as two processes would be."""
    clock = FakeClock()
    bus_a, bus_b = RedisBus(REDIS_URL, namespace_of(sqlite_url)), RedisBus(REDIS_URL, namespace_of(sqlite_url))
    svc_a = make_service(sqlite_url, tmp_path, clock, bus_a)
    svc_b = make_service(sqlite_url, tmp_path, clock, bus_b)
    try:
        tenant_id = _tenant(svc_a)

        async def scenario() -> list[int]:
            sub = bus_b.subscribe(tenant_id)
            sub.seen(tenant_id, 1)  # the consumer has the log up to seq 1 (a late tenant.created is dropped)
            with svc_a.db.write() as s:
                append_event(s, tenant_id, "skill.created", clock.now(), {"code": "a"})
            with svc_a.db.write() as s:
                append_event(s, tenant_id, "skill.created", clock.now(), {"code": "b"})
            got = [await asyncio.wait_for(sub.queue.get(), 5) for _ in range(2)]
            # a duplicate delivery (e.g. a replay) is dropped
            bus_b.deliver(got)
            await asyncio.sleep(0.2)
            assert sub.queue.empty()
            sub.close()
            return [e.seq for e in got]

        assert asyncio.run(scenario()) == [2, 3]
    finally:
        svc_a.close()
        svc_b.close()


def test_two_services_sharing_one_redis_never_see_each_others_events_or_notes() -> None:
    """Redis pub/sub channels are server-wide: the channels are named after the service's database."""
    import datetime as dt
    import time

    mine = "postgresql://app:secret@db1:5432/bank"
    assert namespace_of(mine) == namespace_of("postgresql://app:other@db1:5432/bank")  # not the password
    assert namespace_of(mine) != namespace_of("postgresql://app:secret@db1:5432/retail")
    a1, a2 = RedisBus(REDIS_URL, namespace_of(mine)), RedisBus(REDIS_URL, namespace_of(mine))
    other = RedisBus(REDIS_URL, namespace_of("postgresql://app:secret@db1:5432/retail"))
    try:
        got: dict[str, list[int]] = {"a2": [], "other": []}
        notes: dict[str, list[object]] = {"a2": [], "other": []}
        a2.add_handler(lambda e: got["a2"].append(e.seq))
        other.add_handler(lambda e: got["other"].append(e.seq))
        a2.on_note(notes["a2"].append)
        other.on_note(notes["other"].append)
        ev = EventRecord(id=7, tenant_id=1, seq=7, type="skill.created", ts=dt.datetime.now(dt.UTC))
        a1.publish([ev])
        a1.note({"kind": "queue_stats", "tenant_id": 1, "message": {}})
        deadline = time.monotonic() + 5
        while (not got["a2"] or not notes["a2"]) and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)  # anything for the other service would be there by now
        assert got == {"a2": [7], "other": []}
        assert len(notes["a2"]) == 1 and notes["other"] == []
    finally:
        for bus in (a1, a2, other):
            bus.close()


def test_a_subscription_drops_unneeded_events_and_still_tells_a_real_gap() -> None:
    """`wants` drops an event silently only right after the last seq the subscription accounted for, so
    its consumer can tell a filtered stretch (no log read) from events the bus lost (a gap to fill)."""
    import datetime as dt

    def rec(seq: int, agent: int) -> EventRecord:
        ts = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        return EventRecord(id=seq, tenant_id=1, seq=seq, type="contact.held", ts=ts, agent_id=agent)

    async def run() -> list[tuple[int, int]]:
        bus = LocalBus()
        sub = bus.subscribe(1)
        sub.seen(1, 10)
        sub.wants = lambda e: e.agent_id == 5
        bus.publish([rec(11, 6), rec(12, 6), rec(13, 5)])  # a filtered stretch, then one it needs
        bus.publish([rec(16, 6)])  # 14 and 15 lost on the way: passed on although not needed
        bus.publish([rec(17, 6), rec(18, 5)])
        got = [await asyncio.wait_for(sub.next(), 5) for _ in range(3)]
        assert sub.queue.empty()
        return [(before, record.seq) for before, record in got]

    # 13: everything up to 12 was accounted for (filtered); 16: after 13 nothing came, a real gap (14, 15);
    # 18: 17 was filtered right after 16
    assert asyncio.run(run()) == [(12, 13), (13, 16), (17, 18)]


def test_sockets_filling_the_same_gap_share_one_log_read(service: Service) -> None:
    """When the bus skips a seq every socket of the tenant sees the same gap at once: one read of the log
    serves them all (realtime/ws.py `_Pages`), and each gets exactly the events."""
    import datetime as dt

    from sqlalchemy import event

    from centralita.realtime.ws import _Pages

    tenant_id = _tenant(service)
    with service.db.write() as s:
        for code in ("a", "b", "c"):
            append_event(s, tenant_id, "skill.created", dt.datetime.now(dt.UTC), {"code": code})
    with service.db.read() as s:
        top = max(e.seq for e in read_events(s, tenant_id, after_seq=0))
    pages, checkouts, results = _Pages(), [0], []
    lock, go = threading.Lock(), threading.Event()

    def on_checkout(*_args: object) -> None:
        with lock:
            checkouts[0] += 1

    def socket() -> None:
        go.wait()
        found = pages.read(service, tenant_id, top - 3, top - 1)
        with lock:
            results.append([e.seq for e in found])

    event.listen(service.db.engine.pool, "checkout", on_checkout)
    try:
        threads = [threading.Thread(target=socket) for _ in range(20)]
        for th in threads:
            th.start()
        go.set()
        for th in threads:
            th.join(timeout=10)
    finally:
        event.remove(service.db.engine.pool, "checkout", on_checkout)
    assert results == [[top - 2, top - 1]] * 20
    assert checkouts[0] == 1, f"{checkouts[0]} reads for one gap"

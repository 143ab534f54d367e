"""GET /api/queues/today: today's figures per queue and 15-minute interval, since midnight in the contact
center's time zone (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from centralita.core.clock import FakeClock
from centralita.store import tables as t
from tests.conftest import Api

UTC = dt.UTC


def _contact(
    api: Api, tenant_id: int, queue: str, enq: dt.datetime, deq: dt.datetime | None, outcome: str | None
) -> None:
    with api.service.db.write() as s:
        qid = s.scalar(select(t.Queue.id).where(t.Queue.tenant_id == tenant_id, t.Queue.code == queue))
        s.add(
            t.Contact(
                tenant_id=tenant_id,
                channel="voice",
                status="ended",
                queue_id=qid,
                initiation_ts=enq,
                enqueue_ts=enq,
                dequeue_ts=deq,
                queue_outcome=outcome,
            )
        )


def _queue(body: dict[str, Any], code: str) -> dict[str, Any]:
    return next(q for q in body["queues"] if q["code"] == code)


def test_today_per_interval_and_totals(api: Api, clock: FakeClock) -> None:
    # 2026-01-05 09:00 UTC is 10:00 in Madrid (the tenants' default zone)
    a = api.a.tenant_id
    base = dt.datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    clock.set(base + dt.timedelta(minutes=40))  # 10:40 local: intervals 00:00 .. 10:30
    _contact(api, a, "atencion", base + dt.timedelta(minutes=1), base + dt.timedelta(minutes=1, seconds=10), "answered")
    _contact(api, a, "atencion", base + dt.timedelta(minutes=2), base + dt.timedelta(minutes=3), "answered")
    _contact(api, a, "atencion", base + dt.timedelta(minutes=5), base + dt.timedelta(minutes=6), "abandoned")
    _contact(api, a, "atencion", base + dt.timedelta(minutes=14), base + dt.timedelta(minutes=16), "answered")
    _contact(api, a, "atencion", base + dt.timedelta(minutes=20), None, None)  # still waiting
    _contact(api, a, "atencion", base + dt.timedelta(minutes=21), base + dt.timedelta(minutes=22), "other:overflow")
    body = api.client("supervisor").get("/api/queues/today").json()
    assert body["timezone"] == "Europe/Madrid"
    assert body["date"] == "2026-01-05"
    assert body["start"].startswith("2026-01-05T00:00:00+01:00")
    q = _queue(body, "atencion")
    assert len(q["intervals"]) == 43  # 10:30 is the 43rd quarter of the day
    ten, quarter = q["intervals"][40], q["intervals"][41]
    assert ten["start"].startswith("2026-01-05T10:00:00+01:00")
    assert (ten["offered"], ten["answered"], ten["abandoned"], ten["answered_within_threshold"]) == (4, 2, 1, 1)
    assert ten["service_level"] == 1 / 3
    assert ten["max_wait_s"] == 60 and ten["avg_wait_s"] == (10 + 60 + 60) / 3
    # answered in the next interval (dequeued at 10:16), offered in this one
    assert (quarter["offered"], quarter["answered"], quarter["service_level"]) == (2, 1, 0.0)
    assert q["totals"]["offered"] == 6 and q["totals"]["answered"] == 3 and q["totals"]["abandoned"] == 1
    assert q["totals"]["service_level"] == 1 / 4
    empty = _queue(body, "cobros")
    assert empty["totals"]["service_level"] is None and empty["intervals"][40]["offered"] == 0
    assert empty["sl_threshold_s"] == 20 and empty["sl_percent"] == 80.0


def test_day_starts_at_local_midnight(api: Api, clock: FakeClock) -> None:
    a = api.a.tenant_id
    midnight_utc = dt.datetime(2026, 1, 4, 23, 0, tzinfo=UTC)  # 00:00 in Madrid
    clock.set(midnight_utc + dt.timedelta(minutes=20))
    _contact(
        api, a, "atencion", midnight_utc - dt.timedelta(minutes=1), midnight_utc - dt.timedelta(seconds=30), "answered"
    )
    _contact(
        api, a, "atencion", midnight_utc + dt.timedelta(seconds=1), midnight_utc + dt.timedelta(seconds=5), "answered"
    )
    # queued yesterday, answered today: answered today, not offered today
    _contact(
        api,
        a,
        "atencion",
        midnight_utc - dt.timedelta(seconds=30),
        midnight_utc + dt.timedelta(seconds=30),
        "abandoned",
    )
    q = _queue(api.client("supervisor").get("/api/queues/today").json(), "atencion")
    assert len(q["intervals"]) == 2
    assert q["totals"]["offered"] == 1
    assert (q["totals"]["answered"], q["totals"]["abandoned"]) == (1, 1)
    assert q["intervals"][0]["max_wait_s"] == 60


def test_daylight_saving_day(api: Api, clock: FakeClock) -> None:
    # 2026-03-29: Madrid springs forward at 02:00 → 03:00; at 04:00 local (02:00 UTC) 12 quarters went by
    clock.set(dt.datetime(2026, 3, 29, 2, 0, tzinfo=UTC))
    body = api.client("admin").get("/api/queues/today").json()
    intervals = _queue(body, "atencion")["intervals"]
    assert len(intervals) == 13
    assert intervals[8]["start"].startswith("2026-03-29T03:00:00+02:00")


def test_roles_and_tenants(api: Api, clock: FakeClock) -> None:
    base = dt.datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    clock.set(base + dt.timedelta(hours=1))
    _contact(api, api.b.tenant_id, "atencion", base, base + dt.timedelta(seconds=5), "answered")
    assert api.client("agent").get("/api/queues/today").status_code == 403
    assert api.anonymous().get("/api/queues/today").status_code == 401
    mine = api.client("supervisor").get("/api/queues/today").json()
    assert all(q["totals"]["offered"] == 0 and q["totals"]["answered"] == 0 for q in mine["queues"])
    theirs = api.client("supervisor", api.b).get("/api/queues/today").json()
    assert _queue(theirs, "atencion")["totals"]["answered"] == 1

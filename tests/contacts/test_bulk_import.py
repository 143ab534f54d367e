"""Call history in bulk (contacts/bulk_import.py) on both engines: mapping, batches and their events, idempotence,
bad rows, the contact center's time zone, and one real month of the Anonymous Bank data."""

from __future__ import annotations

import datetime as dt
import gzip
from pathlib import Path

import pytest
from sqlalchemy import func, select

from centralita.accounts.actions import do_create_tenant
from centralita.accounts.schemas import TenantCreate
from centralita.contacts.bulk_import import CallFileError, CallImportResult, ensure_tenant, import_calls
from centralita.core.actor import Actor
from centralita.core.clock import FakeClock
from centralita.core.errors import InvalidInput
from centralita.events.log import last_seq, read_events
from centralita.service import Service
from centralita.store import tables as t
from tests.conftest import make_service
from tests.shared_data import shared_data

HEADER = (
    "vru+line call_id customer_id priority type date vru_entry vru_exit vru_time q_start q_exit q_time outcome"
    " ser_start ser_exit ser_time server"
)
# One space between fields here; the file gets tabs. Line numbers count the header as line 1.
ROWS = [
    "AA0101 33116 1 2 PS 990101 0:00:31 0:00:36 5 0:00:36 0:03:09 153 HANG 0:00:00 0:00:00 0 NO_SERVER",  # 2 abandoned
    "AA0101 33117 0 0 NW 990101 0:34:12 0:34:23 11 0:00:00 0:00:00 0 HANG 0:00:00 0:00:00 0 NO_SERVER",  # 3 VRU only
    "AA0101 33118 2 1 PS 990101 6:55:20 6:55:26 6 6:55:26 6:55:43 17 AGENT 6:55:43 6:56:37 54 MICHAL",  # 4 answered
    "AA0101 33180 18 2 PS 990103 10:19:09 10:19:15 6 10:19:15 10:19:31 16 PHANTOM 10:19:30 10:20:13 43 NO_SERVER",  # 5
    "AA0101 33119 0 0 PE 990101 7:41:16 7:41:26 10 0:00:00 0:00:00 0 AGENT 7:41:25 7:44:53 208 BASCH",  # 6 no queue
    "AA0101 33120 0 0 PS 9901O1 8:03:14 8:03:24 10 0:00:00 0:00:00 0 AGENT 8:03:23 8:05:10 107 MICHAL",  # 7 bad date
    "AA0102 33116 1 2 NE 990131 23:59:30 23:59:40 10 23:59:40 0:00:20 40 AGENT 0:00:20 0:02:00 100 SHARON",  # 8
    "AA0102 33121 3 1 TT 990131 12:00:00 12:00:05 5 12:00:05 12:00:07 2 BUSY 0:00:00 0:00:00 0 NO_SERVER",  # 9 bad
    "AA0103 1 3 1 IN 990131 12:00:00 12:00:05 5 12:00:05 12:00:07 2",  # 10 too few columns
    "AA0103 2 0 0 AA 990131 11:07:30 11:07:38 8 0:00:00 0:00:00 0 AGENT 11:07:43 11:07:46 3 NO_SERVER",  # 11 no agent
]


def write_calls(path: Path, rows: list[str], header: str = HEADER) -> Path:
    text = "\n".join(line.replace(" ", "\t") for line in [header, *rows]) + "\n"
    path.write_bytes(gzip.compress(text.encode("utf-8"), mtime=0))
    return path


def _import(service: Service, paths: list[Path], batch_size: int = 3) -> tuple[Actor, CallImportResult]:
    tenant, _created = ensure_tenant(service.db, service.clock, None)
    actor = Actor(tenant_id=tenant.id, role="admin", username="cli", clock=service.clock)
    return actor, import_calls(service.db, actor, paths, tenant=tenant.slug, batch_size=batch_size)


def _contacts(service: Service, tenant_id: int) -> dict[str, t.Contact]:
    with service.db.read() as s:
        rows = s.scalars(select(t.Contact).where(t.Contact.tenant_id == tenant_id))
        return {str(c.external_ref): c for c in rows}


def _codes(service: Service, model: type[t.Agent] | type[t.Reason] | type[t.Queue], ids: list[int]) -> list[str]:
    with service.db.read() as s:
        found = {a: b for a, b in s.execute(select(model.id, model.code).where(model.id.in_(ids)))}
    return [found[i] for i in ids]


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def test_import_maps_every_kind_of_call_and_a_second_run_adds_nothing(service: Service, tmp_path: Path) -> None:
    path = write_calls(tmp_path / "1999-01.tsv.gz", ROWS)
    actor, result = _import(service, [path])
    (f,) = result.files
    assert (f.rows, f.imported, f.skipped, f.phantom, f.rejected) == (10, 6, 0, 1, 3)
    assert (f.customers_created, f.agents_created) == (2, 3)  # customers 1 and 2; MICHAL, BASCH, SHARON
    assert [(p.line, p.column) for p in result.problems] == [(7, "date"), (9, "outcome"), (10, "")]
    assert not result.ok

    with service.db.read() as s:
        tenant = s.get_one(t.Tenant, actor.tenant_id)
        assert (tenant.slug, tenant.timezone, tenant.country) == ("anonymous-bank", "Asia/Jerusalem", "IL")
        assert tenant.settings["segments"][-2:] == ["priority", "regular"]
        customers = {a: b for a, b in s.execute(select(t.Customer.external_id, t.Customer.segment))}
        assert customers == {"ab-1": "priority", "ab-2": "regular"}
        queue = s.scalar(select(t.Queue).where(t.Queue.tenant_id == actor.tenant_id))
        assert queue is not None and (queue.code, queue.sl_threshold_s, queue.channels) == ("general", 20, ["voice"])
        reasons = {a: b for a, b in s.execute(select(t.Reason.code, t.Reason.name_en))}
        assert set(reasons) == {"ab_ps", "ab_pe", "ab_in", "ab_ne", "ab_nw", "ab_tt", "ab_aa"}

    contacts = _contacts(service, actor.tenant_id)
    assert set(contacts) == {
        "anonymous-bank:AA0101:33116",
        "anonymous-bank:AA0101:33117",
        "anonymous-bank:AA0101:33118",
        "anonymous-bank:AA0101:33119",
        "anonymous-bank:AA0102:33116",
        "anonymous-bank:AA0103:2",
    }
    for c in contacts.values():
        assert (c.status, c.channel, c.direction, c.initiation_method) == ("closed", "voice", "inbound", "INBOUND")
        assert c.initial_contact_id == c.id and c.dnis == c.external_ref.split(":")[1]  # type: ignore[union-attr]

    abandoned = contacts["anonymous-bank:AA0101:33116"]
    assert (abandoned.queue_outcome, abandoned.outcome, abandoned.disconnect_reason) == (
        "abandoned",
        "abandoned",
        "CUSTOMER_DISCONNECT",
    )
    assert abandoned.initiation_ts == utc("1998-12-31 22:00:31")
    assert (abandoned.enqueue_ts, abandoned.dequeue_ts) == (utc("1998-12-31 22:00:36"), utc("1998-12-31 22:03:09"))
    assert (
        abandoned.segment == "priority"
        and abandoned.agent_id is None
        and abandoned.disconnect_ts == abandoned.dequeue_ts
    )

    vru = contacts["anonymous-bank:AA0101:33117"]
    assert (vru.queue_id, vru.enqueue_ts, vru.queue_outcome, vru.self_service, vru.outcome) == (
        None,
        None,
        None,
        True,
        "self_service",
    )
    assert vru.customer_id is None and vru.segment is None

    answered = contacts["anonymous-bank:AA0101:33118"]
    assert answered.queue_outcome == "answered" and answered.outcome is None and answered.disconnect_reason is None
    assert _codes(service, t.Agent, [answered.agent_id]) == ["michal"]  # type: ignore[list-item]
    assert _codes(service, t.Reason, [answered.reason_id]) == ["ab_ps"]  # type: ignore[list-item]
    assert answered.segment == "regular" and answered.priority == 0
    assert (answered.agent_connected_ts, answered.agent_end_ts) == (
        utc("1999-01-01 04:55:43"),
        utc("1999-01-01 04:56:37"),
    )
    assert answered.acw_start_ts is None and answered.holds == []

    direct = contacts["anonymous-bank:AA0101:33119"]
    assert direct.enqueue_ts == direct.dequeue_ts == utc("1999-01-01 05:41:26") and direct.queue_outcome == "answered"
    assert direct.language == "en" and direct.queue_id is not None

    midnight = contacts["anonymous-bank:AA0102:33116"]
    assert (midnight.enqueue_ts, midnight.dequeue_ts) == (utc("1999-01-31 21:59:40"), utc("1999-01-31 22:00:20"))
    assert midnight.customer_id == abandoned.customer_id  # customer 1, created once

    no_agent = contacts["anonymous-bank:AA0103:2"]
    assert no_agent.queue_outcome == "answered" and no_agent.agent_id is None

    with service.db.read() as s:
        events = read_events(s, actor.tenant_id, types=["calls.imported"])
        seq = last_seq(s, actor.tenant_id)
        assert [e.seq for e in read_events(s, actor.tenant_id, limit=10_000)] == list(range(1, seq + 1))
    # batches of 3 data rows: lines 2-4, 5-7, 8-10, 11
    assert [(e.data["first_line"], e.data["last_line"], e.data["imported"]) for e in events] == [
        (2, 4, 3),
        (5, 7, 1),
        (8, 10, 1),
        (11, 11, 1),
    ]
    assert [e.data["phantom"] for e in events] == [0, 1, 0, 0]
    assert [e.data["rejected"] for e in events] == [0, 1, 2, 0]
    assert all(e.data["file"] == "1999-01.tsv.gz" and e.data["format"] == "anonymous-bank" for e in events)
    assert events[0].data["first_contact_id"] == min(c.id for c in contacts.values())

    _actor, again = _import(service, [path])
    (f,) = again.files
    assert (f.imported, f.skipped, f.customers_created, f.agents_created) == (0, 6, 0, 0)
    with service.db.read() as s:
        assert last_seq(s, actor.tenant_id) == seq  # nothing written, not even an event
        assert s.scalar(select(func.count()).select_from(t.Contact)) == 6
        assert s.scalar(select(func.count()).select_from(t.Customer)) == 2


def test_files_that_cannot_be_imported(service: Service, tmp_path: Path) -> None:
    tenant, created = ensure_tenant(service.db, service.clock, None)
    assert created
    actor = Actor(tenant_id=tenant.id, clock=service.clock)
    good = write_calls(tmp_path / "good.tsv.gz", ROWS[:1])
    bad_header = write_calls(tmp_path / "other.tsv.gz", ROWS[:1], header=HEADER.replace("vru+line", "vru_line"))
    for paths in ([good, tmp_path / "missing.tsv.gz"], [good, bad_header], [good, tmp_path]):
        with pytest.raises(CallFileError):
            import_calls(service.db, actor, paths, tenant=tenant.slug)
    with service.db.read() as s:
        assert s.scalar(select(func.count()).select_from(t.Contact)) == 0
    plain = tmp_path / "plain.tsv"  # not gzipped: read as it is (here with a BOM and CRLF line ends)
    plain.write_text("\r\n".join(x.replace(" ", "\t") for x in [HEADER, *ROWS[:2]]) + "\r\n", encoding="utf-8-sig")
    assert import_calls(service.db, actor, [plain], tenant=tenant.slug).files[0].imported == 2


def test_the_contact_center_keeps_the_banks_time_zone(service: Service) -> None:
    with service.db.write() as s:
        do_create_tenant(s, TenantCreate(slug="madrid", name="Madrid", timezone="Europe/Madrid"), service.clock)
        do_create_tenant(s, TenantCreate(slug="tlv", name="Tel Aviv", timezone="Asia/Jerusalem"), service.clock)
    with pytest.raises(InvalidInput, match="Asia/Jerusalem"):
        ensure_tenant(service.db, service.clock, "madrid")
    with pytest.raises(InvalidInput):
        ensure_tenant(service.db, service.clock, "nowhere")
    tenant, created = ensure_tenant(service.db, service.clock, "tlv")
    assert tenant.slug == "tlv" and not created


@pytest.mark.slow
def test_a_real_month(sqlite_url: str, tmp_path: Path) -> None:
    """1999-01 of the real data (31,599 rows, 240 PHANTOM): every other row is a contact."""

    path = shared_data("anonymous-bank-1999") / "1999-01.tsv.gz"
    service = make_service(sqlite_url, tmp_path, FakeClock())
    try:
        actor, result = _import(service, [path], batch_size=10_000)
        (f,) = result.files
        assert (f.rows, f.phantom, f.rejected, f.imported) == (31_599, 240, 0, 31_359) and result.ok
        with service.db.read() as s:
            count = s.scalar(select(func.count()).select_from(t.Contact).where(t.Contact.tenant_id == actor.tenant_id))
            answered = s.scalar(
                select(func.count()).select_from(t.Contact).where(t.Contact.queue_outcome == "answered")
            )
            events = read_events(s, actor.tenant_id, types=["calls.imported"])
        assert count == 31_359
        assert answered == 27_060  # the AGENT rows (HANG: 3,101 queued, abandoned; 1,198 in the VRU only)
        assert sum(e.data["imported"] for e in events) == 31_359 and len(events) == 4
        with service.db.read() as s:
            episodes = s.scalars(select(t.Contact).where(t.Contact.enqueue_ts.is_not(None)))
            stored = {
                str(c.external_ref): (str(c.queue_outcome), (c.dequeue_ts - c.enqueue_ts).total_seconds())  # type: ignore[operator]
                for c in episodes
            }
        assert stored == _episodes_by_the_documented_rule(path)
    finally:
        service.close()


def _episodes_by_the_documented_rule(path: Path) -> dict[str, tuple[str, float]]:
    """docs/analytics.md: every queue episode and its wait, from the raw rows with the standard library only."""
    out: dict[str, tuple[str, float]] = {}
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        next(fh)
        for text_line in fh:
            row = text_line.rstrip("\n").split("\t")
            vru_line, call_id, q_start, q_exit, q_time, outcome = row[0], row[1], row[9], row[10], row[11], row[12]
            if outcome == "PHANTOM":
                continue
            queued = q_start != "0:00:00" or q_exit != "0:00:00" or q_time != "0"
            if queued:
                out[f"anonymous-bank:{vru_line}:{call_id}"] = (
                    "answered" if outcome == "AGENT" else "abandoned",
                    float(int(q_time)),
                )
            elif outcome == "AGENT":
                out[f"anonymous-bank:{vru_line}:{call_id}"] = ("answered", 0.0)
    return out


def test_a_file_that_breaks_while_read_is_reported_and_the_others_imported(service: Service, tmp_path: Path) -> None:
    many = [
        f"AA0104 {n} 0 0 PS 990105 10:{n // 60 % 60:02d}:{n % 60:02d} 10:59:59 5 0:00:00 0:00:00 0 HANG"
        " 0:00:00 0:00:00 0 NO_SERVER"
        for n in range(20_000)
    ]
    broken = write_calls(tmp_path / "broken.tsv.gz", many)
    data = broken.read_bytes()
    broken.write_bytes(data[: len(data) // 2])  # a gzip stream cut in the middle: the header still reads
    good = write_calls(tmp_path / "good.tsv.gz", ROWS[:2])
    _actor, result = _import(service, [broken, good])
    assert [(f.file, f.error is not None, f.imported) for f in result.files] == [
        ("broken.tsv.gz", True, 0),
        ("good.tsv.gz", False, 2),
    ]
    assert not result.ok

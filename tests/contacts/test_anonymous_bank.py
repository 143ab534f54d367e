"""The Anonymous Bank row parser on literal rows: mapping, midnight, daylight time, PHANTOM, bad rows."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from centralita.contacts.anonymous_bank import COLUMNS, BadRow, CallRecord, Phantom, check_header, parse_row

ZONE = ZoneInfo("Asia/Jerusalem")


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def parse(row: str | list[str], line: int = 2) -> CallRecord | Phantom | BadRow:
    """A row written with single spaces between its fields (the files' tabs), or its fields."""
    return parse_row(row.split(" ") if isinstance(row, str) else row, line, ZONE)


def call(row: str) -> CallRecord:
    record = parse(row)
    assert isinstance(record, CallRecord), record
    return record


def test_header() -> None:
    assert check_header(list(COLUMNS)) is None
    assert check_header(["vru_line", *COLUMNS[1:]]) is not None


def test_queued_and_answered() -> None:
    r = call("AA0101 33118 2 2 PS 990101 6:55:20 6:55:26 6 6:55:26 6:55:43 17 AGENT 6:55:43 6:56:37 54 MICHAL")
    assert r.external_ref == "anonymous-bank:AA0101:33118"
    assert (r.dnis, r.customer, r.segment, r.priority, r.reason, r.agent) == (
        "AA0101",
        2,
        "priority",
        1,
        "ab_ps",
        "MICHAL",
    )
    assert r.initiation_ts == utc("1999-01-01 04:55:20")  # UTC+2 in winter
    assert (r.enqueue_ts, r.dequeue_ts, r.wait_s) == (utc("1999-01-01 04:55:26"), utc("1999-01-01 04:55:43"), 17)
    assert (r.agent_connected_ts, r.agent_end_ts) == (utc("1999-01-01 04:55:43"), utc("1999-01-01 04:56:37"))
    assert (r.queue_outcome, r.outcome, r.disconnect_reason, r.self_service) == ("answered", None, None, False)
    assert r.disconnect_ts == r.agent_end_ts


def test_answered_without_queueing_waits_zero() -> None:
    r = call("AA0101 33119 0 0 PS 990101 7:41:16 7:41:26 10 0:00:00 0:00:00 0 AGENT 7:41:25 7:44:53 208 BASCH")
    assert (r.customer, r.segment, r.priority) == (None, None, 0)
    assert r.enqueue_ts == r.dequeue_ts == utc("1999-01-01 05:41:26") and r.wait_s == 0
    assert r.agent_connected_ts == utc("1999-01-01 05:41:25")  # the bank's ser_start, kept as recorded
    assert r.agent_end_ts == r.agent_connected_ts + dt.timedelta(seconds=208)
    assert r.queue_outcome == "answered"


def test_abandoned_after_queueing() -> None:
    r = call("AA0101 33116 1 1 PS 990101 0:00:31 0:00:36 5 0:00:36 0:03:09 153 HANG 0:00:00 0:00:00 0 NO_SERVER")
    assert (r.segment, r.priority, r.agent) == ("regular", 0, None)
    assert r.wait_s == 153 and r.dequeue_ts == r.enqueue_ts + dt.timedelta(seconds=153)  # type: ignore[operator]
    assert (r.queue_outcome, r.outcome, r.disconnect_reason) == ("abandoned", "abandoned", "CUSTOMER_DISCONNECT")
    assert r.disconnect_ts == r.dequeue_ts and r.agent_connected_ts is None


def test_hung_up_in_the_vru_is_self_service() -> None:
    r = call("AA0101 33117 0 0 NW 990101 0:34:12 0:34:23 11 0:00:00 0:00:00 0 HANG 0:00:00 0:00:00 0 NO_SERVER")
    assert (r.enqueue_ts, r.dequeue_ts, r.wait_s, r.queue_outcome) == (None, None, None, None)
    assert (r.self_service, r.outcome, r.disconnect_reason, r.reason) == (
        True,
        "self_service",
        "CUSTOMER_DISCONNECT",
        "ab_nw",
    )
    assert r.disconnect_ts - r.initiation_ts == dt.timedelta(seconds=11)


def test_hang_with_a_server_name_is_abandoned_without_agent() -> None:
    r = call("AA0103 24653 0 0 NW 990113 6:27:54 6:28:03 9 6:28:03 6:46:10 1087 HANG 7:26:44 7:30:08 204 DARMON")
    assert (r.queue_outcome, r.agent, r.agent_connected_ts, r.wait_s) == ("abandoned", None, None, 1087)


def test_answered_without_a_named_server_and_without_service_times() -> None:
    r = call("AA0101 33134 0 0 PE 990101 11:07:30 11:07:38 8 0:00:00 0:00:00 0 AGENT 11:07:43 11:07:46 3 NO_SERVER")
    assert (r.agent, r.queue_outcome, r.language) == (None, "answered", "en")
    r = call("AA0102 28607 486 1 PS 990104 13:01:45 13:01:51 6 13:01:51 13:04:08 137 AGENT 0:00:00 0:00:00 0 IDIT")
    assert r.agent_connected_ts == r.agent_end_ts == r.dequeue_ts  # no service times: connected as it left


def test_midnight_crossings() -> None:
    # queue from 23:59:40 to 0:00:20 the next day; service to 0:02:00
    r = call("AA0101 1 5 2 PS 990131 23:59:30 23:59:40 10 23:59:40 0:00:20 40 AGENT 0:00:20 0:02:00 100 SHARON")
    assert r.enqueue_ts == utc("1999-01-31 21:59:40")
    assert r.dequeue_ts == utc("1999-01-31 22:00:20") and r.wait_s == 40
    assert r.agent_connected_ts == utc("1999-01-31 22:00:20") and r.agent_end_ts == utc("1999-01-31 22:02:00")
    # entering the queue exactly at midnight (q_start 0:00:00 but a q_time): queued on the next day
    r = call("AA0102 31056 1286 2 PS 990215 23:59:54 23:59:54 0 0:00:00 0:00:27 27 AGENT 0:00:26 0:01:33 67 AVNI")
    assert r.enqueue_ts == utc("1999-02-15 22:00:00") and r.wait_s == 27


def test_vru_exit_before_entry_starts_the_call_at_the_exit() -> None:
    r = call("AA0101 33757 247 1 PS 990113 15:46:01 15:45:24 -37 15:45:24 15:46:41 77 HANG 0:00:00 0:00:00 0 NO_SERVER")
    assert r.initiation_ts == r.enqueue_ts == utc("1999-01-13 13:45:24")


def test_daylight_time() -> None:
    summer = call("AA0101 2 0 0 PS 990701 10:00:00 10:00:10 10 0:00:00 0:00:00 0 HANG 0:00:00 0:00:00 0 NO_SERVER")
    assert summer.initiation_ts == utc("1999-07-01 07:00:00")  # UTC+3
    # 1999-04-02 02:00 → 03:00: a time in the skipped hour takes the offset before the change (UTC+2)
    skipped = call("AA0101 3 0 0 PS 990402 1:59:50 1:59:55 5 1:59:55 3:00:05 10 HANG 0:00:00 0:00:00 0 NO_SERVER")
    assert skipped.initiation_ts == utc("1999-04-01 23:59:50")
    assert skipped.enqueue_ts == utc("1999-04-01 23:59:55")
    assert skipped.dequeue_ts == utc("1999-04-02 00:00:05") and skipped.wait_s == 10  # elapsed, from q_time
    gap = call("AA0101 4 0 0 PS 990402 2:30:00 2:30:05 5 0:00:00 0:00:00 0 HANG 0:00:00 0:00:00 0 NO_SERVER")
    assert gap.initiation_ts == utc("1999-04-02 00:30:00")
    # 1999-09-03 02:00 → 01:00: a repeated time is its first occurrence (daylight time, UTC+3)
    twice = call("AA0101 5 0 0 PS 990903 1:30:00 1:30:05 5 0:00:00 0:00:00 0 HANG 0:00:00 0:00:00 0 NO_SERVER")
    assert twice.initiation_ts == utc("1999-09-02 22:30:00")


def test_phantom_is_not_a_contact() -> None:
    row = "AA0101 33180 18 2 PS 990103 10:19:09 10:19:15 6 10:19:15 10:19:31 16 PHANTOM 10:19:30 10:20:13 43 NO_SERVER"
    assert parse(row, 7) == Phantom(7)


GOOD = "AA0101 33118 2 2 PS 990101 6:55:20 6:55:26 6 6:55:26 6:55:43 17 AGENT 6:55:43 6:56:37 54 MICHAL"


def _with(column: str, value: str) -> list[str]:
    fields = GOOD.split(" ")
    fields[COLUMNS.index(column)] = value
    return fields


@pytest.mark.parametrize(
    ("row", "column"),
    [
        ([*GOOD.split(" "), "extra"], ""),
        (["AA0101", "33118"], ""),
        (_with("date", "991301"), "date"),
        (_with("date", "99-1-1"), "date"),
        (_with("vru_entry", "25:00:00"), "vru_entry"),
        (_with("q_exit", "6:5:43"), "q_exit"),
        (_with("ser_start", "noon"), "ser_start"),
        (_with("q_time", "1.5"), "q_time"),
        (_with("call_id", "x1"), "call_id"),
        (_with("customer_id", ""), "customer_id"),
        (_with("ser_time", "-3"), "ser_time"),
        (_with("priority", "3"), "priority"),
        (_with("outcome", "BUSY"), "outcome"),
        (_with("type", "ZZ"), "type"),
        (_with("server", "DR WHO"), "server"),
        # rows that would overflow a date, an integer conversion or a column: refused by line, never a crash
        (_with("q_time", "999999999"), "q_time"),
        (_with("ser_time", "86401"), "ser_time"),
        (_with("vru_time", "-90000"), "vru_time"),
        (_with("call_id", "9" * 5000), "call_id"),
        (_with("customer_id", "1" * 16), "customer_id"),
        (_with("vru+line", "AA\x0001"), "vru+line"),
    ],
)
def test_bad_rows_name_their_column(row: list[str], column: str) -> None:
    bad = parse(row, 9)
    assert isinstance(bad, BadRow)
    assert (bad.line, bad.column) == (9, column)
    assert bad.message

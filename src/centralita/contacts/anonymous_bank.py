"""The "Anonymous Bank" 1999 call-center records (Technion SEE Center), row by row (pure: no I/O, no store).

One tab-separated row of the bank's monthly files (17 columns, header `vru+line call_id customer_id priority
type date vru_entry vru_exit vru_time q_start q_exit q_time outcome ser_start ser_exit ser_time server`)
becomes a `CallRecord`: a finished voice contact with the timestamps of metrics.md §1.1, in UTC; a PHANTOM
row becomes a `Phantom` (not a contact); a row that cannot be read becomes a `BadRow` naming its field.
`docs/analytics.md` ("Importing call history") states every rule; in short:

- **Clock times** are the bank's local wall clock (`H:MM:SS`) on the row's `date` (the day the call entered
  the VRU). Every clock time of a call is placed within 12 hours of its `vru_entry`: with `E` the seconds of
  `vru_entry` and `c` those of another clock time, `c` lies `((c - E + 43200) mod 86400) - 43200` seconds
  after `vru_entry` (so `0:00:40` after a `23:59:30` entry is the next day, and a `vru_exit` 37 s before its
  entry stays on the same day, as the bank's negative `vru_time` says).
- **Time zone**: the local times are read in Asia/Jerusalem with `fold=0`: a time in the hour skipped when
  daylight time starts (1999-04-02 02:00–03:00) takes the offset in force before the change (02:30 is
  00:30 UTC), and a time in the hour that repeats when it ends (1999-09-03 01:00–02:00) is its first
  occurrence (daylight time, UTC+3).
- **Durations** come from the duration columns, not from the clocks: `dequeue_ts = enqueue_ts + q_time`
  and `agent_end_ts = agent_connected_ts + ser_time`, so the wait is exactly `q_time` seconds (0 for a
  call answered without queueing) and the talk time exactly `ser_time`, also across midnight and daylight
  changes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import cast
from zoneinfo import ZoneInfo

from centralita.core.i18n import _

__all__ = [
    "COLUMNS",
    "REASONS",
    "SEGMENTS",
    "SOURCE",
    "TIMEZONE",
    "BadRow",
    "CallRecord",
    "Phantom",
    "agent_code",
    "check_header",
    "customer_external_id",
    "parse_row",
]

SOURCE = "anonymous-bank"  # contacts' `attributes.source` and the prefix of their `external_ref`
TIMEZONE = "Asia/Jerusalem"
COLUMNS = (
    "vru+line",
    "call_id",
    "customer_id",
    "priority",
    "type",
    "date",
    "vru_entry",
    "vru_exit",
    "vru_time",
    "q_start",
    "q_exit",
    "q_time",
    "outcome",
    "ser_start",
    "ser_exit",
    "ser_time",
    "server",
)
OUTCOMES = ("AGENT", "HANG", "PHANTOM")
# The `type` column → contact reason code, with its Spanish and English names (the documentation's meanings)
REASONS: dict[str, tuple[str, str, str]] = {
    "PS": ("ab_ps", "Servicio habitual", "Regular service"),
    "PE": ("ab_pe", "Servicio habitual en inglés", "Regular service in English"),
    "IN": ("ab_in", "Servicio por internet", "Internet service"),
    "NE": ("ab_ne", "Bolsa de valores", "Stock exchange"),
    "NW": ("ab_nw", "Cliente potencial", "Prospective customer"),
    "TT": ("ab_tt", "Devolución de llamada en espera", "Call-back put on hold"),
    "AA": ("ab_aa", "Sin clasificar (AA)", "Unclassified (AA)"),
}
PRIORITY_SEGMENT = "priority"  # priority 2 (the bank's priority customers)
REGULAR_SEGMENT = "regular"  # priority 0 or 1 with a customer id
SEGMENTS = (PRIORITY_SEGMENT, REGULAR_SEGMENT)
NO_SERVER = "NO_SERVER"
MAX_DURATION_S = 86400  # a call's time in the VRU, the queue or with an agent: a day at most
_ZERO = "0:00:00"
_DAY = 86400
_HALF_DAY = 43200
_AGENT_CODE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_.-")


@dataclass(frozen=True, slots=True)
class CallRecord:
    """A finished inbound voice call, as a contact row holds it (timestamps UTC-aware).

    `queued`: the call has a queue episode (entered the queue, or was answered: wait 0); `wait_s` is its
    exact wait. `agent` is the server's name (None: NO_SERVER). `customer` the pseudonymised customer id
    (None: unidentified)."""

    line: int
    external_ref: str
    dnis: str
    customer: int | None
    segment: str | None
    priority: int
    type: str
    reason: str
    language: str
    agent: str | None
    self_service: bool
    initiation_ts: dt.datetime
    enqueue_ts: dt.datetime | None
    dequeue_ts: dt.datetime | None
    wait_s: int | None
    queue_outcome: str | None
    agent_connected_ts: dt.datetime | None
    agent_end_ts: dt.datetime | None
    disconnect_ts: dt.datetime
    disconnect_reason: str | None
    outcome: str | None


@dataclass(frozen=True, slots=True)
class Phantom:
    """A PHANTOM row: a virtual call the documentation says to ignore (not a contact)."""

    line: int


@dataclass(frozen=True, slots=True)
class BadRow:
    """A row that cannot be imported: its line (header = 1), the column at fault ("" for the whole row)."""

    line: int
    column: str
    message: str


def check_header(fields: Sequence[str]) -> str | None:
    """None when `fields` is the files' header, else what is wrong with it."""
    if tuple(f.strip() for f in fields) == COLUMNS:
        return None
    return _("the header is not the Anonymous Bank header ({columns})", columns=" ".join(COLUMNS))


def customer_external_id(customer: int) -> str:
    return f"ab-{customer}"


def agent_code(server: str) -> str:
    """The agent's code for a server name (lower case)."""
    return server.lower()


@cache  # at most 86,400 valid times (plus the few bad ones): a file's rows repeat them
def _clock(text: str) -> int | None:
    """Seconds since midnight of `H:MM:SS`, or None when it is not a time of day."""
    parts = text.split(":")
    if len(parts) != 3 or not all(p.isdigit() and p.isascii() for p in parts):
        return None
    h, m, s = (int(p) for p in parts)
    if len(parts[1]) != 2 or len(parts[2]) != 2 or h > 23 or m > 59 or s > 59:
        return None
    return h * 3600 + m * 60 + s


def _integer(text: str) -> int | None:
    """A whole number of at most 15 digits (every id and duration of the files has far fewer)."""
    body = text[1:] if text.startswith("-") else text
    return int(text) if 0 < len(body) <= 15 and body.isdigit() and body.isascii() else None


@cache
def _date(text: str) -> dt.date | None:
    if len(text) != 6 or not (text.isdigit() and text.isascii()):
        return None
    yy, mm, dd = int(text[:2]), int(text[2:4]), int(text[4:])
    try:
        return dt.date(1900 + yy if yy >= 50 else 2000 + yy, mm, dd)
    except ValueError:
        return None


_INT_COLUMNS = ("call_id", "customer_id", "priority", "vru_time", "q_time", "ser_time")
_INT_INDEX = tuple(COLUMNS.index(c) for c in _INT_COLUMNS)
_CLOCK_COLUMNS = ("vru_entry", "vru_exit", "q_start", "q_exit", "ser_start", "ser_exit")
_CLOCK_INDEX = tuple(COLUMNS.index(c) for c in _CLOCK_COLUMNS)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_UTC_OFFSETS: dict[tuple[str, dt.date, int], int] = {}


@cache
def _day_seconds(day: dt.date) -> int:
    """Seconds from the epoch to the day's midnight, as if it were UTC."""
    return (day - _EPOCH.date()).days * 86400


def _utc_offset(zone: ZoneInfo, day: dt.date, hour: int) -> int:
    """The zone's UTC offset in seconds at the local hour `hour` of `day` (maybe outside 0..23: the day
    before or after), read with fold=0. Within a local hour it is the same for every minute, because the
    zone (Asia/Jerusalem) changes its offset on the hour: kept per hour, not computed per timestamp."""
    key = (zone.key, day, hour)
    found = _UTC_OFFSETS.get(key)
    if found is None:
        local = dt.datetime(day.year, day.month, day.day) + dt.timedelta(hours=hour)
        offset = local.replace(tzinfo=zone).utcoffset()
        assert offset is not None
        found = _UTC_OFFSETS[key] = int(offset.total_seconds())
    return found


def _offset(clock: int, entry: int) -> int:
    """Seconds from the VRU entry to `clock`, placed within 12 hours of it (midnight crossings)."""
    return (clock - entry + _HALF_DAY) % _DAY - _HALF_DAY


def parse_row(fields: Sequence[str], line: int, zone: ZoneInfo) -> CallRecord | Phantom | BadRow:
    """One data row (already split on tabs) of a monthly file; `line` is its line number (header = 1)."""
    if len(fields) != len(COLUMNS):
        return BadRow(line, "", _("{found} columns instead of {expected}", found=len(fields), expected=len(COLUMNS)))
    (
        vru_line,
        call_id,
        customer_id,
        priority_text,
        type_,
        date_text,
        vru_entry,
        vru_exit,
        vru_time_text,
        q_start,
        q_exit,
        q_time_text,
        outcome,
        ser_start,
        ser_exit,
        ser_time_text,
        server,
    ) = fields
    if outcome not in OUTCOMES:
        return BadRow(
            line,
            "outcome",
            _("unknown outcome {value!r}; one of {choices}", value=outcome, choices=", ".join(OUTCOMES)),
        )
    if outcome == "PHANTOM":
        return Phantom(line)
    ints = [_integer(text) for text in (call_id, customer_id, priority_text, vru_time_text, q_time_text, ser_time_text)]
    if None in ints:
        i = ints.index(None)
        return BadRow(line, _INT_COLUMNS[i], _("not an integer: {value!r}", value=fields[_INT_INDEX[i]]))
    call_no, customer_no, priority, _vru_time, q_time, ser_time = cast(list[int], ints)
    for column, number in (
        ("call_id", call_no),
        ("customer_id", customer_no),
        ("q_time", q_time),
        ("ser_time", ser_time),
    ):
        if number < 0:
            return BadRow(line, column, _("must not be negative: {value}", value=number))
    for column, number in (("vru_time", _vru_time), ("q_time", q_time), ("ser_time", ser_time)):
        if abs(number) > MAX_DURATION_S:
            return BadRow(line, column, _("more than a day: {value} s", value=number))
    if priority not in (0, 1, 2):
        return BadRow(line, "priority", _("unknown priority {value}; one of 0, 1, 2", value=priority))
    day = _date(date_text)
    if day is None:
        return BadRow(line, "date", _("not a date (YYMMDD): {value!r}", value=date_text))
    clocks = [_clock(text) for text in (vru_entry, vru_exit, q_start, q_exit, ser_start, ser_exit)]
    if None in clocks:
        i = clocks.index(None)
        return BadRow(line, _CLOCK_COLUMNS[i], _("not a time (H:MM:SS): {value!r}", value=fields[_CLOCK_INDEX[i]]))
    entry, vru_exit_clock, q_start_clock, _q_exit_clock, ser_start_clock, _ser_exit_clock = cast(list[int], clocks)
    if type_ not in REASONS:
        return BadRow(
            line, "type", _("unknown type {value!r}; one of {choices}", value=type_, choices=", ".join(REASONS))
        )
    agent = None if server == NO_SERVER else server
    if agent is not None and not (0 < len(agent) <= 50 and set(agent_code(agent)) <= _AGENT_CODE_CHARS):
        return BadRow(line, "server", _("not a server name: {value!r}", value=server))
    if not vru_line or len(vru_line) > 40 or not vru_line.isprintable():
        return BadRow(line, "vru+line", _("not a VRU line: {value!r}", value=vru_line))

    base = _day_seconds(day)

    def utc(offset: int) -> dt.datetime:
        """The instant `offset` seconds of wall clock after the VRU entry (fold=0: see the module's text)."""
        local = entry + offset  # seconds of wall clock since the day's midnight (maybe < 0 or ≥ 24 h)
        return _EPOCH + dt.timedelta(seconds=base + local - _utc_offset(zone, day, local // 3600))

    vru_exit_at = _offset(vru_exit_clock, entry)
    initiation_ts = utc(min(0, vru_exit_at))  # a VRU exit before its entry (vru_time < 0) starts the call
    queued = q_start != _ZERO or q_exit != _ZERO or q_time != 0
    answered = outcome == "AGENT"
    enqueue_ts = dequeue_ts = agent_connected_ts = agent_end_ts = None
    wait_s: int | None = None
    queue_outcome = disconnect_reason = contact_outcome = None
    if queued:
        enqueue_ts = utc(_offset(q_start_clock, entry))
        wait_s = q_time
        dequeue_ts = enqueue_ts + dt.timedelta(seconds=wait_s)
    elif answered:  # straight from the VRU to an agent: offered and answered at once
        enqueue_ts = dequeue_ts = utc(vru_exit_at)
        wait_s = 0
    if answered:
        assert dequeue_ts is not None
        served = ser_start != _ZERO or ser_exit != _ZERO or ser_time != 0
        agent_connected_ts = utc(_offset(ser_start_clock, entry)) if served else dequeue_ts
        agent_end_ts = agent_connected_ts + dt.timedelta(seconds=ser_time)
        queue_outcome = "answered"
        disconnect_ts = agent_end_ts
    elif queued:  # hung up while queued
        assert dequeue_ts is not None
        queue_outcome = contact_outcome = "abandoned"
        disconnect_reason = "CUSTOMER_DISCONNECT"
        disconnect_ts = dequeue_ts
    else:  # ended in the VRU: served by it
        contact_outcome = "self_service"
        disconnect_reason = "CUSTOMER_DISCONNECT"
        disconnect_ts = utc(max(0, vru_exit_at))
    customer = customer_no or None
    segment = None if customer is None else PRIORITY_SEGMENT if priority == 2 else REGULAR_SEGMENT
    return CallRecord(
        line=line,
        external_ref=f"{SOURCE}:{vru_line}:{call_id}",
        dnis=vru_line,
        customer=customer,
        segment=segment,
        priority=1 if priority == 2 else 0,
        type=type_,
        reason=REASONS[type_][0],
        language="en" if type_ == "PE" else "es",
        agent=agent if answered else None,
        self_service=not queued and not answered,
        initiation_ts=initiation_ts,
        enqueue_ts=enqueue_ts,
        dequeue_ts=dequeue_ts,
        wait_s=wait_s,
        queue_outcome=queue_outcome,
        agent_connected_ts=agent_connected_ts,
        agent_end_ts=agent_end_ts,
        disconnect_ts=disconnect_ts,
        disconnect_reason=disconnect_reason,
        outcome=contact_outcome,
    )

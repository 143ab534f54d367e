"""A month of the Anonymous Bank 1999 calls: the KPIs of `centralita report kpis` equal figures computed
here from the raw file with the standard library only, by the import's published rules (docs/analytics.md,
"Importing call history"): every count exactly, every average to the last bit."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from tests.clirun import run_cli
from tests.shared_data import shared_data

pytestmark = pytest.mark.slow

DAY, HALF_DAY = 86400, 43200
THRESHOLD_S = 20  # the queue `general` the import creates


def _clock(text: str) -> int:
    h, m, s = (int(p) for p in text.split(":"))
    return h * 3600 + m * 60 + s


def _after_entry(clock: int, entry: int) -> int:
    """Seconds from the VRU entry to a clock time placed within 12 hours of it."""
    return (clock - entry + HALF_DAY) % DAY - HALF_DAY


class Figures:
    def __init__(self) -> None:
        self.contacts = self.answered = self.abandoned = self.within = self.handled = 0
        self.wait_answered = self.talk = 0
        self.max_wait: int | None = None

    def episode(self, answered: bool, wait: int) -> None:
        self.max_wait = wait if self.max_wait is None else max(self.max_wait, wait)
        if answered:
            self.answered += 1
            self.within += wait <= THRESHOLD_S
            self.wait_answered += wait
        else:
            self.abandoned += 1

    def expected(self) -> dict[str, Any]:
        offered = self.answered + self.abandoned
        return {
            "contacts": self.contacts,
            "offered": offered,
            "answered": self.answered,
            "abandoned": self.abandoned,
            "answered_within_threshold": self.within,
            "service_level": self.within / offered if offered else None,
            "abandon_rate": self.abandoned / offered if offered else None,
            "asa_s": self.wait_answered / self.answered if self.answered else None,
            "max_wait_s": float(self.max_wait) if self.max_wait is not None else None,
            "handled": self.handled,
            "aht_s": self.talk / self.handled if self.handled else None,
        }


def _from_raw(path: Path, month: tuple[int, int]) -> tuple[Figures, dict[str, Figures]]:
    """The month's figures and each local day's, by the import's rules, in local wall-clock time (no
    daylight-saving change falls in the month tested)."""
    whole = Figures()
    days: defaultdict[str, Figures] = defaultdict(Figures)

    def counted(at: dt.datetime) -> list[Figures]:
        """The figures an event at local time `at` counts in: the month's and its day's, if in the month."""
        return [whole, days[at.date().isoformat()]] if (at.year, at.month) == month else []

    with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            if row["outcome"] == "PHANTOM":
                continue
            yy, mm, dd = int(row["date"][:2]), int(row["date"][2:4]), int(row["date"][4:])
            midnight = dt.datetime(1900 + yy, mm, dd)
            entry = _clock(row["vru_entry"])

            def local(offset: int, entry: int = entry, midnight: dt.datetime = midnight) -> dt.datetime:
                return midnight + dt.timedelta(seconds=entry + offset)

            vru_exit = _after_entry(_clock(row["vru_exit"]), entry)
            for fig in counted(local(min(0, vru_exit))):
                fig.contacts += 1
            zero = "0:00:00"
            queued = row["q_start"] != zero or row["q_exit"] != zero or int(row["q_time"]) != 0
            answered = row["outcome"] == "AGENT"
            if not (queued or answered):
                continue  # ended in the VRU: no queue episode
            enqueue = _after_entry(_clock(row["q_start"]), entry) if queued else vru_exit
            wait = int(row["q_time"]) if queued else 0
            for fig in counted(local(enqueue + wait)):
                fig.episode(answered, wait)
            if answered:
                served = row["ser_start"] != zero or row["ser_exit"] != zero or int(row["ser_time"]) != 0
                connected = _after_entry(_clock(row["ser_start"]), entry) if served else enqueue + wait
                talk = int(row["ser_time"])
                for fig in counted(local(connected + talk)):
                    fig.handled += 1
                    fig.talk += talk
    return whole, days


def test_a_month_of_the_anonymous_bank_matches_the_raw_file(tmp_path: Path) -> None:
    source = shared_data("anonymous-bank-1999") / "1999-01.tsv.gz"
    code, out, err = run_cli(tmp_path, "import", "calls", "--format", "anonymous-bank", str(source))
    assert code == 0, out + err
    # the only contact center (created by the import, in the bank's time zone): no --tenant needed
    code, out, err = run_cli(tmp_path, "report", "kpis", "--from", "1999-01-01", "--to", "1999-01-31", "--json")
    assert code == 0, out + err
    report = json.loads(out)
    assert report["timezone"] == "Asia/Jerusalem" and report["service_level_variant"] == "neg"
    whole, days = _from_raw(source, (1999, 1))
    expected = whole.expected()
    assert {k: report[k] for k in expected} == expected
    assert expected["offered"] > 20_000 and expected["answered"] > 15_000  # the real month, not a sample

    code, out, err = run_cli(
        tmp_path, "report", "kpis", "--from", "1999-01-01", "--to", "1999-01-31", "--interval", "day", "--json"
    )
    assert code == 0, out + err
    per_day = {g["interval"]: g for g in json.loads(out)["groups"]}
    assert set(per_day) == set(days)
    for day, figures in days.items():
        want = figures.expected()
        assert {k: per_day[day][k] for k in want} == want, day

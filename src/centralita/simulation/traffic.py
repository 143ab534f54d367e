"""Pure parts of the traffic simulator: when customers arrive, how long they talk and wait, option parsing.

No I/O except `derive_bank_profile`, which recomputes the constants below from the data files. Every random
draw goes through the `random.Random` passed in, so a seed reproduces a run's schedule exactly.

The constants come from the "Anonymous Bank" call-center data, 1999 (Technion SEE Center, I. Guedj and
A. Mandelbaum; Brown et al. 2005, JASA 100(469)), read from `../shared/data/anonymous-bank-1999` by
`derive_bank_profile` (tests/simulation/test_traffic.py checks that they still match); the data itself is
not part of Centralita:

- `BANK_HOURLY`: calls asking for an agent (queued, or served; PHANTOM calls left out) by hour of the VRU
  entry, averaged over the 191 Sunday–Thursday working days, relative to the peak hour (10:00–11:00,
  128.0 calls per hour).
- `BANK_LN_HANDLE`: mean and standard deviation of ln(service seconds) of the calls served by an agent
  (median ≈ 105 s, mean ≈ 191 s, a long right tail: the log-normal of Brown et al.).
- `BANK_PATIENCE_S`: the exponential-patience estimate Σ queue time of queued calls / number of abandons.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import math
import random
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from centralita.core.i18n import _

__all__ = ["OptionError", "parse_duration", "parse_weights"]

BANK_HOURLY: tuple[float, ...] = (
    0.003, 0.001, 0.000, 0.000, 0.000, 0.001, 0.012, 0.310, 0.675, 0.869, 1.000, 0.870,
    0.792, 0.826, 0.875, 0.859, 0.869, 0.691, 0.569, 0.470, 0.428, 0.435, 0.390, 0.294,
)  # fmt: skip
BANK_PEAK_PER_HOUR = 128.0
BANK_LN_HANDLE = (4.661, 1.229)
BANK_PATIENCE_S = 387.0
FLAT_HOURLY: tuple[float, ...] = (1.0,) * 24

CHANNELS = ("voice", "chat", "email")
# Assumptions (the bank data is voice only): a chat lasts longer than a call (the customer types, the agent
# serves other chats meanwhile), an e-mail takes a few minutes of reading and writing. Multipliers of the
# voice log-normal; e-mail customers never abandon (nobody hangs up on an e-mail).
HANDLE_SCALE = {"voice": 1.0, "chat": 1.6, "email": 1.4}
ABANDONS = {"voice": True, "chat": True, "email": False}
MIN_HANDLE_S = 10.0
MAX_HANDLE_S = 3600.0


class OptionError(ValueError):
    """A bad option value; `option` is the command-line spelling (`--rate`)."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(f"{option}: {message}")
        self.option = option
        self.message = message


# --- arrivals ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArrivalProfile:
    """Arrivals per hour for each local hour of the day: `peak_per_hour × hourly[h]`, never below
    `floor × peak_per_hour` (a quiet night still has a few arrivals)."""

    peak_per_hour: float
    hourly: tuple[float, ...] = BANK_HOURLY
    floor: float = 0.0

    def __post_init__(self) -> None:
        if len(self.hourly) != 24 or min(self.hourly) < 0 or max(self.hourly) <= 0:
            raise ValueError("hourly needs 24 non-negative weights, one positive")
        if not self.peak_per_hour > 0 or not math.isfinite(self.peak_per_hour):
            raise ValueError("peak_per_hour must be positive")
        if not 0 <= self.floor <= 1:
            raise ValueError("floor must be from 0 to 1")

    def rate(self, hour: int) -> float:
        """Arrivals per hour during local hour `hour` (0–23)."""
        return self.peak_per_hour * max(self.floor, self.hourly[hour % 24] / max(self.hourly))

    def expected(self, start_s: float, end_s: float) -> float:
        """Expected arrivals in [start_s, end_s), times in seconds since local midnight of day 0."""
        total, t = 0.0, start_s
        while t < end_s:
            boundary = min(end_s, (math.floor(t / 3600) + 1) * 3600)
            total += self.rate(int(t // 3600)) * (boundary - t) / 3600
            t = boundary
        return total

    def arrivals(self, rng: random.Random, start_s: float, end_s: float = math.inf) -> Iterator[float]:
        """Arrival times in [start_s, end_s) (seconds since local midnight of day 0): a Poisson process
        with a piecewise-constant rate per hour. Within an hour the gaps are exponential; a gap that crosses
        the hour's end is redrawn from the boundary with the next hour's rate, which is exact because the
        exponential distribution has no memory."""
        t = start_s
        while t < end_s:
            boundary = (math.floor(t / 3600) + 1) * 3600
            per_s = self.rate(int(t // 3600)) / 3600
            if per_s <= 0:
                t = boundary
                continue
            nxt = t + rng.expovariate(per_s)
            if nxt >= boundary:
                t = boundary
                continue
            if nxt >= end_s:
                return
            t = nxt
            yield t


# --- service, patience, after-contact work ------------------------------------------------------------


def handle_time(
    rng: random.Random, channel: str, ln_mu: float = BANK_LN_HANDLE[0], ln_sigma: float = BANK_LN_HANDLE[1]
) -> float:
    """Seconds of conversation: the bank's log-normal, scaled per channel, within [10 s, 1 h]."""
    value = rng.lognormvariate(ln_mu, ln_sigma) * HANDLE_SCALE[channel]
    return min(MAX_HANDLE_S, max(MIN_HANDLE_S, value))


def patience(rng: random.Random, channel: str, mean_s: float) -> float:
    """Seconds a customer waits in queue before hanging up (exponential); infinite for e-mail or mean 0."""
    if mean_s <= 0 or not ABANDONS[channel]:
        return math.inf
    return rng.expovariate(1 / mean_s)


def acw_time(rng: random.Random, mean_s: float) -> float:
    """After-contact work: uniform within ±50 % of the mean."""
    return rng.uniform(0.5, 1.5) * mean_s if mean_s > 0 else 0.0


def ring_time(rng: random.Random, offer_timeout_s: float) -> float:
    """Seconds before a bot answers an offer: 1–6 s, always well inside the offer timeout."""
    return min(rng.uniform(1.0, 6.0), max(0.1, offer_timeout_s / 2))


def weighted_choice(rng: random.Random, weights: Mapping[str, float]) -> str:
    keys = [k for k, w in weights.items() if w > 0]
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


# --- options ------------------------------------------------------------------------------------------

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str, option: str = "--duration") -> float:
    """`90`, `90s`, `15m`, `2h`, `1d` → seconds (> 0)."""
    match = _DURATION.match(text.lower())
    if match is None:
        raise OptionError(option, _("give a number of seconds, or a number with s, m, h or d (e.g. 15m)"))
    seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if seconds <= 0:
        raise OptionError(option, _("must be more than zero"))
    return seconds


def parse_weights(text: str, option: str, allowed: Iterable[str] | None = None) -> dict[str, float]:
    """`voice=70,chat=20,email=10` → weights; names must be in `allowed` (when given), one weight > 0."""
    known = list(allowed) if allowed is not None else None
    out: dict[str, float] = {}
    for raw in text.split(","):
        part = raw.strip()
        if not part:
            continue
        name, sep, value = part.partition("=")
        name = name.strip()
        if not sep or not name:
            raise OptionError(option, _("write NAME=WEIGHT pairs separated by commas, not {part!r}", part=part))
        if known is not None and name not in known:
            raise OptionError(option, _("unknown {name!r}; use {allowed}", name=name, allowed=", ".join(known)))
        try:
            weight = float(value)
        except ValueError:
            raise OptionError(option, _("the weight of {name!r} is not a number", name=name)) from None
        if weight < 0 or not math.isfinite(weight):
            raise OptionError(option, _("the weight of {name!r} must be zero or more", name=name))
        if name in out:
            raise OptionError(option, _("{name!r} is given twice", name=name))
        out[name] = weight
    if not out or not any(w > 0 for w in out.values()):
        raise OptionError(option, _("at least one weight must be more than zero"))
    return out


def check_probability(value: float, option: str) -> float:
    if not 0 <= value <= 1:
        raise OptionError(option, _("must be between 0 and 1"))
    return value


# --- the data the constants come from -----------------------------------------------------------------


@dataclass(frozen=True)
class BankProfile:
    hourly: tuple[float, ...]
    peak_per_hour: float
    ln_handle: tuple[float, float]
    patience_s: float
    days: int


def derive_bank_profile(files: Iterable[Path]) -> BankProfile:
    """Recompute the `BANK_*` constants from the Anonymous Bank monthly files (`1999-MM.tsv.gz`)."""
    by_hour = [0] * 24
    days: set[dt.date] = set()
    n_ln = 0
    sum_ln = sum_ln2 = 0.0
    queue_time = 0.0
    abandons = 0
    for path in files:
        with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh, delimiter="\t"):
                if row["outcome"] == "PHANTOM":
                    continue
                queued = row["q_start"] != "0:00:00"
                served = row["outcome"] == "AGENT" and row["server"] != "NO_SERVER"
                seconds = int(row["ser_time"])
                if served and seconds > 0:
                    ln = math.log(seconds)
                    n_ln += 1
                    sum_ln += ln
                    sum_ln2 += ln * ln
                if queued:
                    queue_time += int(row["q_time"])
                    abandons += row["outcome"] == "HANG"
                day = dt.datetime.strptime(row["date"], "%y%m%d").date()
                if day.isoweekday() in (5, 6):  # the bank worked Sunday to Thursday
                    continue
                days.add(day)
                if queued or row["outcome"] == "AGENT":
                    by_hour[int(row["vru_entry"].split(":", 1)[0]) % 24] += 1
    per_hour = [count / len(days) for count in by_hour]
    peak = max(per_hour)
    mean = sum_ln / n_ln
    return BankProfile(
        hourly=tuple(round(x / peak, 3) for x in per_hour),
        peak_per_hour=round(peak, 1),
        ln_handle=(round(mean, 3), round(math.sqrt(sum_ln2 / n_ln - mean * mean), 3)),
        patience_s=round(queue_time / abandons, 1),
        days=len(days),
    )

"""The simulator's pure parts: the arrival schedule, handle/patience/ACW times, option parsing, the constants."""

from __future__ import annotations

import itertools
import math
import random
import statistics
from collections.abc import Iterator

import pytest

from centralita.core import i18n
from centralita.simulation import traffic
from centralita.simulation.traffic import ArrivalProfile, OptionError
from tests.shared_data import shared_data


def test_flat_profile_is_a_poisson_process() -> None:
    rng = random.Random(7)
    hours = 400
    times = list(ArrivalProfile(30.0, traffic.FLAT_HOURLY).arrivals(rng, 0.0, hours * 3600.0))
    assert times == sorted(times) and all(0 <= t < hours * 3600 for t in times)
    # 12,000 expected: the count is within 4 standard deviations (sd = sqrt(12,000) ≈ 110)
    assert abs(len(times) - 12_000) < 4 * math.sqrt(12_000)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert statistics.fmean(gaps) == pytest.approx(120.0, rel=0.03)
    assert statistics.pstdev(gaps) / statistics.fmean(gaps) == pytest.approx(1.0, abs=0.04)  # exponential: CV 1
    # counts per hour: Poisson, so variance ≈ mean
    per_hour = [0] * hours
    for t in times:
        per_hour[int(t // 3600)] += 1
    assert statistics.pvariance(per_hour) / statistics.fmean(per_hour) == pytest.approx(1.0, abs=0.2)


def test_bank_profile_follows_the_hour_of_day() -> None:
    profile = ArrivalProfile(120.0)
    days = 60
    rng = random.Random(11)
    per_hour = [0] * 24
    for t in profile.arrivals(rng, 0.0, days * 86400.0):
        per_hour[int(t // 3600) % 24] += 1
    for hour in range(24):
        expected = profile.rate(hour) * days
        assert abs(per_hour[hour] - expected) <= 4 * math.sqrt(expected) + 1, (hour, per_hour[hour], expected)
    assert per_hour[2] == per_hour[3] == per_hour[4] == 0  # the bank's rate is zero there
    assert per_hour.index(max(per_hour)) in (9, 10, 11, 14, 16)  # the busiest hours of the profile
    assert sum(per_hour) == pytest.approx(profile.expected(0.0, days * 86400.0), rel=0.02)


def test_rate_and_expected_count() -> None:
    profile = ArrivalProfile(128.0)
    assert profile.rate(10) == 128.0 and profile.rate(34) == profile.rate(10)
    assert profile.rate(7) == pytest.approx(128.0 * 0.31)
    # 09:30–10:30: half an hour at each rate
    assert profile.expected(9.5 * 3600, 10.5 * 3600) == pytest.approx((128 * 0.869 + 128) / 2)
    with pytest.raises(ValueError):
        ArrivalProfile(0.0)
    with pytest.raises(ValueError):
        ArrivalProfile(10.0, (0.0,) * 24)


def test_floor_keeps_nights_alive() -> None:
    """`simulate --live` keeps a least rate (a share of the peak) so a wallboard moves at 3 a.m. too; the
    busy hours keep the profile's own rate."""
    profile = ArrivalProfile(120.0, floor=0.2)
    assert profile.rate(3) == pytest.approx(24.0) and profile.rate(10) == 120.0
    assert profile.rate(7) == pytest.approx(120.0 * 0.31)  # above the floor: the profile's
    night = list(profile.arrivals(random.Random(5), 2 * 3600.0, 5 * 3600.0))
    assert abs(len(night) - 72) <= 4 * math.sqrt(72)
    assert ArrivalProfile(120.0).rate(3) == 0.0  # without a floor, the bank's night is empty
    with pytest.raises(ValueError):
        ArrivalProfile(10.0, floor=1.5)


def test_same_seed_same_schedule_and_window_bounds() -> None:
    profile = ArrivalProfile(300.0)
    first = list(profile.arrivals(random.Random(3), 23.5 * 3600, 24.5 * 3600))
    again = list(profile.arrivals(random.Random(3), 23.5 * 3600, 24.5 * 3600))
    other = list(profile.arrivals(random.Random(4), 23.5 * 3600, 24.5 * 3600))
    assert first == again and first != other
    assert all(23.5 * 3600 <= t < 24.5 * 3600 for t in first)
    # across midnight: 23:00 (0.294) then 00:00 (0.003) of the next day
    late = sum(1 for t in first if t < 24 * 3600)
    assert late > sum(1 for t in first if t >= 24 * 3600)


def test_handle_time_is_the_banks_log_normal() -> None:
    rng = random.Random(5)
    voice = [traffic.handle_time(rng, "voice") for _ in range(40_000)]
    mu, sigma = traffic.BANK_LN_HANDLE
    assert statistics.median(voice) == pytest.approx(math.exp(mu), rel=0.04)  # ≈ 106 s
    deciles = statistics.quantiles(voice, n=10)  # inside [10 s, 1 h]: clamping does not move them
    assert deciles[0] == pytest.approx(math.exp(mu - 1.2816 * sigma), rel=0.05)  # ≈ 22 s
    assert deciles[-1] == pytest.approx(math.exp(mu + 1.2816 * sigma), rel=0.05)  # ≈ 510 s
    assert min(voice) >= traffic.MIN_HANDLE_S and max(voice) <= traffic.MAX_HANDLE_S
    # the log-normal's mean exp(mu + sigma²/2) ≈ 225 s, a little less after the 1-hour cap (the bank: 191 s)
    assert 190 < statistics.fmean(voice) < 235
    chat = [traffic.handle_time(rng, "chat") for _ in range(20_000)]
    assert statistics.median(chat) == pytest.approx(math.exp(mu) * traffic.HANDLE_SCALE["chat"], rel=0.05)


def test_patience_acw_and_ring() -> None:
    rng = random.Random(9)
    waits = [traffic.patience(rng, "voice", 387.0) for _ in range(20_000)]
    assert statistics.fmean(waits) == pytest.approx(387.0, rel=0.04)
    assert traffic.patience(rng, "email", 387.0) == math.inf
    assert traffic.patience(rng, "chat", 0.0) == math.inf
    acw = [traffic.acw_time(rng, 20.0) for _ in range(2000)]
    assert min(acw) >= 10.0 and max(acw) <= 30.0 and traffic.acw_time(rng, 0) == 0.0
    assert all(0.1 <= traffic.ring_time(rng, 20.0) <= 6.0 for _ in range(200))
    assert traffic.ring_time(rng, 2.0) <= 1.0  # never more than half the offer timeout


def test_parse_duration() -> None:
    assert traffic.parse_duration("90") == 90.0
    assert traffic.parse_duration("90s") == 90.0
    assert traffic.parse_duration("15m") == 900.0
    assert traffic.parse_duration("1.5h") == 5400.0
    assert traffic.parse_duration("1d") == 86400.0
    for bad in ("", "soon", "-5m", "0", "5 minutes"):
        with pytest.raises(OptionError) as info:
            traffic.parse_duration(bad)
        assert info.value.option == "--duration"


@pytest.fixture
def english() -> Iterator[None]:
    """The messages below are the English source strings: pin the language whatever ran before."""
    before = i18n.language()
    i18n.set_language("en")
    yield
    i18n.set_language(before)


def test_parse_weights(english: None) -> None:
    assert traffic.parse_weights("voice=70, chat=20,email=0", "--channels", traffic.CHANNELS) == {
        "voice": 70.0,
        "chat": 20.0,
        "email": 0.0,
    }
    cases = {
        "fax=1": "unknown 'fax'",
        "voice": "NAME=WEIGHT",
        "voice=lots": "not a number",
        "voice=-1": "zero or more",
        "voice=1,voice=2": "given twice",
        "voice=0": "at least one weight",
        "": "at least one weight",
    }
    for text, message in cases.items():
        with pytest.raises(OptionError) as info:
            traffic.parse_weights(text, "--channels", traffic.CHANNELS)
        assert info.value.option == "--channels" and message in info.value.message, (text, info.value.message)
    with pytest.raises(OptionError, match="--known: must be between 0 and 1"):
        traffic.check_probability(1.5, "--known")


def test_constants_match_the_anonymous_bank_data() -> None:
    """The BANK_* constants are what `derive_bank_profile` computes from the shared data (never copied
    here): ../shared/data, or CENTRALITA_SHARED_DATA."""
    bank = shared_data("anonymous-bank-1999")
    files = sorted(bank.glob("*.tsv.gz"))
    assert len(files) == 9, f"the nine monthly files of the Anonymous Bank data are expected in {bank}"
    derived = traffic.derive_bank_profile(files)
    assert derived.days == 191
    assert derived.hourly == traffic.BANK_HOURLY
    assert derived.peak_per_hour == traffic.BANK_PEAK_PER_HOUR
    assert derived.ln_handle == traffic.BANK_LN_HANDLE
    assert derived.patience_s == traffic.BANK_PATIENCE_S

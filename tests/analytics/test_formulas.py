"""The KPI formulas against metrics.md §6's reference vectors, variant by variant."""

from __future__ import annotations

import pytest

from centralita.analytics import formulas as f
from centralita.analytics.formulas import Episode, HandleTotals, Interaction, QueueTotals, SurveyTotals

M = 1_000_000
T, S = 20 * M, 5 * M
# c1..c5, c10 answered; c6..c8 abandoned; c9 a callback request (metrics.md §6)
VECTOR = [("answered", w) for w in (5, 15, 20, 25, 40, 0)] + [("abandoned", w) for w in (3, 12, 30)]
VECTOR.append(("other:callback", 50))


@pytest.fixture
def q() -> QueueTotals:
    return QueueTotals.of((Episode(o, w * M, T) for o, w in VECTOR), short_abandon_us=S)


def test_reference_counts(q: QueueTotals) -> None:
    assert (q.answered, q.answered_within, q.abandoned, q.abandoned_within, q.abandoned_short) == (6, 4, 3, 2, 1)
    assert (q.other, q.callbacks_within, q.offered) == (1, 0, 10)


@pytest.mark.parametrize(
    ("variant", "expected"),
    [("ans", 4 / 6), ("neg", 4 / 9), ("pos", 6 / 9), ("ign", 4 / 7), ("short", 4 / 8), ("amazon", 6 / 10)],
)
def test_service_level_variants(q: QueueTotals, variant: f.SlVariant, expected: float) -> None:
    assert f.service_level(q, variant) == pytest.approx(expected, abs=1e-12)


def test_service_level_genesys_switches(q: QueueTotals) -> None:
    assert f.service_level(q, "genesys") == pytest.approx(4 / 9)
    assert f.service_level(q, "genesys", f.GenesysSwitches(flow_outs=True)) == pytest.approx(0.4)
    assert f.service_level(q, "genesys", f.GenesysSwitches(short_abandons=True)) == pytest.approx(4 / 8)
    assert f.service_level(q, "genesys", f.GenesysSwitches(abandons=True)) == pytest.approx(4 / 6)


def test_short_with_zero_threshold_equals_neg() -> None:
    q = QueueTotals.of((Episode(o, w * M, T) for o, w in VECTOR), short_abandon_us=0)
    assert q.abandoned_short == 0
    assert f.service_level(q, "short") == f.service_level(q, "neg")


def test_threshold_is_inclusive_on_the_exact_wait() -> None:
    q = QueueTotals.of([Episode("answered", 20 * M, 20 * M), Episode("answered", 20 * M + 1, 20 * M)])
    assert q.answered_within == 1


def test_waits(q: QueueTotals) -> None:
    assert f.asa(q) == pytest.approx(17.5)
    assert f.average_wait(q) == pytest.approx(20.0)
    assert f.average_abandon_time(q) == pytest.approx(15.0)
    assert q.max_wait_s == 50


@pytest.mark.parametrize(("variant", "expected"), [("queued", 0.3), ("answered_abandoned", 3 / 9), ("adjusted", 2 / 9)])
def test_abandon_rate_variants(q: QueueTotals, variant: f.AbandonVariant, expected: float) -> None:
    assert f.abandon_rate(q, variant) == pytest.approx(expected, abs=1e-12)


def test_published_icmi_check() -> None:
    q = QueueTotals(
        offered=1060, answered=1000, abandoned=60, answered_within=860, abandoned_within=20, abandoned_short=10
    )
    expected = {"pos": 0.830189, "ans": 0.86, "neg": 0.811321, "ign": 0.826923, "short": 0.819048}
    for variant, value in expected.items():
        assert f.service_level(q, variant) == pytest.approx(value, abs=5e-7), variant  # type: ignore[arg-type]


def test_empty_denominators_are_none_not_zero() -> None:
    empty = QueueTotals()
    for variant in f.SL_VARIANTS:
        assert f.service_level(empty, variant) is None
    for av in f.ABANDON_VARIANTS:
        assert f.abandon_rate(empty, av) is None
    assert f.asa(empty) is None and f.average_wait(empty) is None and empty.max_wait_s is None
    assert f.aht(HandleTotals()) is None and f.average_hold(HandleTotals()) is None
    assert f.csat(SurveyTotals()) is None and f.ces(SurveyTotals(), "index") is None and f.nps(SurveyTotals()) is None
    assert f.occupancy(0, 0) is None
    # only abandons: answered-only SL has no denominator, `neg` is 0 (a real zero, not an empty set)
    only_b = QueueTotals.of([Episode("abandoned", 30 * M, 20 * M)])
    assert f.service_level(only_b, "ans") is None and f.service_level(only_b, "neg") == 0.0


def test_totals_add_up(q: QueueTotals) -> None:
    halves = QueueTotals.of(Episode(o, w * M, T) for o, w in VECTOR[:4]) + QueueTotals.of(
        Episode(o, w * M, T) for o, w in VECTOR[4:]
    )
    whole = QueueTotals.of(Episode(o, w * M, T) for o, w in VECTOR)
    assert halves == whole


def test_handle_reference() -> None:
    h = HandleTotals()
    for talk, hold, acw in ((300, 60, 30), (200, 0, 20), (400, 30, 50)):
        h.add(talk * M, hold * M, acw * M)
    assert f.aht(h) == pytest.approx(363.333333, abs=1e-6)
    assert f.average_acw(h) == pytest.approx(33.333333, abs=1e-6)
    assert f.average_hold(h, "held") == pytest.approx(45.0)
    assert f.average_hold(h, "handled") == pytest.approx(30.0)


def test_agent_hour_reference() -> None:
    assert f.occupancy(2700, 600) == pytest.approx(0.818182, abs=1e-6)
    assert f.utilization(2700, 600, 3600) == pytest.approx(0.916667, abs=1e-6)
    assert f.productive_ratio(2700, 3600) == pytest.approx(0.75)


def test_fcr_reference() -> None:
    day = 86400.0
    xs = [Interaction("X", "r", None, d * day, d * day + 300) for d in (0, 3, 12)]
    ys = [Interaction("Y", "r", None, 1 * day, 1 * day + 300)]
    resolved, eligible = f.fcr(xs + ys, report_end_s=40 * day)
    assert (resolved, eligible) == (3, 4)
    assert 1 - resolved / eligible == pytest.approx(0.25)  # repeat rate


def test_fcr_window_reason_match_and_eligibility() -> None:
    day = 86400.0
    a = Interaction("X", "balance", None, 0, 300)
    other_reason = Interaction("X", "card", None, 2 * day, 2 * day + 60)
    unknown = Interaction("X", None, None, 3 * day, 3 * day + 60)
    assert f.fcr([a, other_reason], 40 * day) == (2, 2)
    assert f.fcr([a, other_reason], 40 * day, match="customer") == (1, 2)
    assert f.fcr([a, unknown], 40 * day)[0] == 1  # unknown reasons match: a repeats, unknown resolves
    # the window has not elapsed by the report's end: not eligible yet (provisional)
    assert f.fcr([a], 5 * day) == (0, 0)
    # an outbound contact is never eligible, and never makes an earlier one a repeat
    outbound = Interaction("X", "balance", None, 1 * day, 1 * day + 60, customer_initiated=False)
    assert f.fcr([a, outbound], 40 * day) == (1, 1)
    # exactly N days later still repeats (≤)
    at_edge = Interaction("X", "balance", None, 300 + 7 * day, 400 + 7 * day)
    assert f.fcr([a, at_edge], 40 * day) == (1, 2)


def test_surveys_reference() -> None:
    s = SurveyTotals()
    for c in (5, 4, 3, 5, 2, 4, 1, 5, 4, 3):
        s.add(c, None, None)
    for e in (7, 6, 5, 4, 3, 2, 7, 6, 1, 5):
        s.add(None, e, None)
    for n in (10, 9, 9, 8, 7, 6, 5, 10, 3, 9):
        s.add(None, None, n)
    assert f.csat(s) == pytest.approx(0.6) and f.csat(s, "mean") == pytest.approx(3.6)
    assert f.ces(s) == pytest.approx(4.6) and f.ces(s, "agree") == pytest.approx(0.6)
    assert f.ces(s, "index") == pytest.approx(10.0)
    assert f.nps(s) == pytest.approx(20.0)

"""A longer run of the general routing state machine (`test_engine.RouterMachine`): more and longer
random event sequences than the quick one, each run with fresh random draws. Every rare divergence the
quick run missed so far (float rounding at a wake-up instant, a level read before the offers it led to, an
offer left ringing after a capacity cut) needed sequences this long to appear."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

from tests.routing.test_engine import RouterMachine

pytestmark = pytest.mark.slow


def test_router_machine_soak() -> None:
    run_state_machine_as_test(
        RouterMachine,
        settings=settings(
            max_examples=1500, stateful_step_count=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
        ),
    )

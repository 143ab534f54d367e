"""The engine's column-wise figures are exactly the pure formulas' figures, row by row, for every variant."""

from __future__ import annotations

import random
from typing import Any

import polars as pl
import pytest

from centralita.analytics.engine import _QUEUE_COUNTS, KpiQuery, _figures, _rows
from centralita.core.metrics_settings import MetricsSettings
from tests.analytics.test_engine import T0

COUNTS = (
    *_QUEUE_COUNTS,
    "max_wait_us",
    "handled",
    "held",
    "talk_us",
    "hold_us",
    "acw_us",
    "contacts",
    "entered_flow",
    "self_served",
    "transferred_records",
    "transferred_interactions",
    "handled_interactions",
    "fcr_eligible",
    "fcr_resolved",
    *(f"csat_{k}" for k in range(1, 6)),
    *(f"ces_{k}" for k in range(1, 8)),
    *(f"nps_{k}" for k in range(11)),
)


def _table(rng: random.Random, n: int) -> pl.DataFrame:
    def value(name: str) -> int | None:
        if rng.random() < 0.15:
            return None if name == "max_wait_us" or rng.random() < 0.5 else 0
        big = name.endswith("_us") and rng.random() < 0.1  # sums past 2**53: Python's exact int / int
        return rng.randrange(2**60) if big else rng.randrange(0, 50)

    rows: list[dict[str, Any]] = []
    for i in range(n):
        row: dict[str, Any] = {"interval": 1_800_000_000 * (i // 3) + 1_798_000_000_000_000, "queue": f"q{i % 3}"}
        row.update({name: value(name) for name in COUNTS})
        rows.append(row)
    return pl.DataFrame(rows, schema={"interval": pl.Int64, "queue": pl.String, **dict.fromkeys(COUNTS, pl.Int64)})


SETTINGS = [
    {},
    {"service_level": {"variant": "ans"}, "abandon_rate": {"variant": "answered_abandoned"}},
    {"service_level": {"variant": "pos"}, "csat": {"variant": "mean"}, "ces": {"variant": "agree"}},
    {"service_level": {"variant": "ign"}, "average_hold": {"over": "handled"}, "ces": {"variant": "index"}},
    {"service_level": {"variant": "short", "short_abandon_s": 5}, "abandon_rate": {"variant": "adjusted"}},
    {"service_level": {"variant": "amazon"}, "transfer_rate": {"per": "record"}},
    {"service_level": {"variant": "genesys", "genesys": {"flow_outs": True, "short_abandons": True}}},
    {"service_level": {"variant": "genesys", "genesys": {"abandons": True}}},
]


@pytest.mark.parametrize("settings", SETTINGS)
def test_column_wise_figures_equal_the_formulas_row_by_row(settings: dict[str, Any]) -> None:
    s = MetricsSettings.model_validate(settings)
    table = _table(random.Random(len(str(settings))), 300)
    q = KpiQuery(T0, T0, "Europe/Madrid", by=("queue",), interval="30m")
    keys = ["interval", "queue"]
    expected = [_figures(row, keys, q, s) for row in table.iter_rows(named=True)]
    got = _rows(table, keys, q, s)
    assert [list(r) for r in got] == [list(r) for r in expected]  # the same keys in the same order
    for g, e in zip(got, expected, strict=True):
        for name, value in e.items():
            assert g[name] == value and type(g[name]) is type(value), (name, g[name], value)

"""The benchmarks still run, on tiny sizes (both database engines where there is one). No timing is asserted:
speed is read from bench/."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PG_ADMIN_URL

ROOT = Path(__file__).resolve().parents[1]


def _run(module: str, *args: str, pg: bool = True) -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, "-m", module, *args, *(("--pg-url", PG_ADMIN_URL) if pg else ())],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    result: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.slow
@pytest.mark.postgres
def test_lookup_bench_runs(tmp_path: Path) -> None:
    args = (
        "--engine",
        "both",
        "--customers",
        "2000",
        "--lookups",
        "200",
        "--warmup",
        "20",
        "--http-lookups",
        "30",
        "--http-warmup",
        "5",
        "--cache-dir",
        str(tmp_path),
    )
    out = _run("bench.lookup", *args)
    engines = out["engines"]
    assert isinstance(engines, dict) and set(engines) == {"sqlite", "postgresql"}
    for r in engines.values():
        assert r["direct"]["wrong"] == 0 and r["http"]["wrong"] == 0
        assert r["direct"]["ours"]["n"] == 200 and r["http"]["ours"]["n"] == 30 == r["http"]["floor"]["n"]
        assert r["reused_cache"] is False
        assert isinstance(r["http"]["ours"]["p99_us"], float) and isinstance(r["http_p99_under_5ms"], bool)
    # the SQLite build is cached and reused
    again = _run("bench.lookup", *args[:1], "sqlite", *args[2:])
    assert again["engines"]["sqlite"]["reused_cache"] is True  # type: ignore[index]


@pytest.mark.slow
@pytest.mark.postgres
def test_events_bench_runs(tmp_path: Path) -> None:
    out = _run(
        "bench.events",
        "--engine",
        "both",
        "--events",
        "16",
        "--batch-events",
        "80",
        "--batch",
        "10",
        "--writers",
        "2",
        "--mode",
        "both",
        "--cache-dir",
        str(tmp_path),
    )
    assert out["all_seq_ok"] is True
    engines = out["engines"]
    assert isinstance(engines, dict)
    for r in engines.values():
        assert len(r["configs"]) == 6
        assert all(c["ours_events_s"] > 0 and c["baseline_events_s"] > 0 for c in r["configs"])


@pytest.mark.slow
def test_routing_bench_runs() -> None:
    out = _run(
        "bench.routing",
        *("--agents", "60", "--skills", "8", "--waiting", "40", "--events", "3000", "--naive-events", "3000"),
        pg=False,
    )
    for key in ("p50_us", "p99_us", "max_us", "events_per_s", "speedup_vs_naive", "sizes", "loadavg", "python"):
        assert key in out, key
    # every event went through both routers with the same decisions
    assert out["identical_decisions"] is True and out["naive_events_compared"] == 3000
    assert out["sizes"] == {"agents": 60, "skills": 8, "queues": 8, "waiting_target": 40, "events": 3000}
    mix = out["event_mix"]
    assert isinstance(mix, dict)
    # the stream has every kind of event
    kinds = {"arrival", "accept", "reject", "release", "release_acw", "end_acw", "abandon", "break", "wakeup"}
    assert kinds <= set(mix)


@pytest.mark.slow
@pytest.mark.postgres
def test_e2e_bench_runs() -> None:
    """A real server per engine, a few bot agents on WebSockets, a few contacts: every contact is offered
    once, accepted, ended and wrapped up, and the event log has no gap."""
    out = _run(
        "bench.e2e",
        *("--engine", "both", "--rate", "4", "--seconds", "2", "--agents", "3", "--handle-ms", "50-100"),
    )
    engines = out["engines"]
    assert isinstance(engines, dict) and set(engines) == {"sqlite", "postgresql"}
    for r in engines.values():
        for key in ("rate_per_s", "seconds", "p99_offer_ms", "lost", "duplicated"):
            assert key in r, key
        assert r["created"] == r["posted"] == 8 and r["completed"] == 8
        assert r["lost"] == 0 and r["duplicated"] == 0 and r["seq_gaps"] == 0 and r["overtaken"] == 0
        assert r["p99_offer_ms"] is not None and r["health_ms"]["p50"] is not None
    assert engines["postgresql"]["vacuumed"] is True


def test_e2e_counts_contacts_overtaken_by_later_ones() -> None:
    from bench.e2e import overtaken

    enqueued = {1: 1.0, 2: 2.0, 3: 3.0, 4: 4.0}
    queued = {1: 10, 2: 11, 3: 12, 4: 13}

    def offers(**at: float) -> dict[int, tuple[int, float]]:  # contact → time; seqs follow the times
        ordered = sorted(at.items(), key=lambda item: item[1])
        return {int(c[1:]): (20 + n, t) for n, (c, t) in enumerate(ordered)}

    assert overtaken(enqueued, queued, offers(c1=5, c2=6, c3=7, c4=8)) == 0
    assert overtaken(enqueued, queued, offers(c1=7, c2=5, c3=6, c4=8)) == 1  # 1 waited while 2 and 3 went
    assert overtaken(enqueued, queued, offers(c1=8, c2=7, c3=6)) == 2  # 4 never offered: not counted
    assert overtaken(enqueued, queued, offers(c1=5.05, c2=5.0, c3=6, c4=7)) == 0  # the same moment
    # 1 arrived first but committed after 2 was offered: it was not waiting yet, nobody overtook it
    assert overtaken(enqueued, {1: 15, 2: 11}, {1: (16, 9.0), 2: (12, 5.0)}) == 0


def test_fanout_bench_runs() -> None:
    out = _run("bench.fanout", *("--agents", "10", "--contacts", "5", "--rounds", "1"), pg=False)
    ways = out["ways"]
    assert isinstance(ways, dict)
    # the same frames whether encoded per socket or once; the lean fan-out sends an agent its own only
    assert ways["baseline"]["frames_per_contact"] == ways["encode once"]["frames_per_contact"] == 8 * 12
    assert ways["lean, encode once, no deflate"]["frames_per_contact"] == 6 + 8 * 2


@pytest.mark.slow
def test_flows_bench_runs() -> None:
    out = _run("bench.flows", "--contacts", "200", "--rounds", "1", pg=False)
    assert out["contacts"] == 200 and out["ended_or_connected"] == 200
    assert isinstance(out["steps_per_s"], int) and out["steps_per_s"] > 0
    assert isinstance(out["p99_step_us"], float)
    assert isinstance(out["steps"], int) and out["steps"] > 200


@pytest.mark.slow
def test_desktop_bench_runs() -> None:
    out = _run("bench.desktop", "--runs", "2", pg=False)
    assert out["runs"] == 2
    assert isinstance(out["desktop_ms"], dict) and out["desktop_ms"]["median"] > 0


@pytest.mark.slow
def test_wallboard_bench_runs() -> None:
    """A real server, a small contact center, both pages in chromium for a few seconds: every socket frame
    reached both pages and their figures are printed (the web pages must be built, as for tests/browser)."""
    out = _run(
        "bench.wallboard",
        *("--agents", "20", "--queues", "3", "--seconds", "3", "--changes", "5", "--arrivals", "1"),
        pg=False,
    )
    for way in ("ours", "baseline"):
        r = out[way]
        assert isinstance(r, dict)
        assert r["rows"] == 20 and r["frames_applied"] > 0 and r["renders"] > 0, r
        for key in ("lag_p50_ms", "lag_p99_ms", "long_task_share", "fps"):
            assert key in r, key
    driver = out["driver"]
    assert isinstance(driver, dict) and driver["errors"] == 0


@pytest.mark.slow
def test_analytics_bench_runs() -> None:
    """Both reports by the engine and by pandas on a small fact frame: every group and figure identical."""
    out = _run("bench.analytics", *("--contacts", "20000", "--runs", "1"), pg=False)
    assert out["contacts"] == 20000 and out["identical"] is True and out["engine"] == "polars"
    for report in ("interval_by_queue", "reason_by_segment"):
        for key in ("s", "pandas_s", "speedup_vs_pandas", "groups"):
            assert f"{report}_{key}" in out, (report, key)
        assert isinstance(out[f"{report}_s"], float) and out[f"{report}_groups"] > 0  # type: ignore[operator]
    assert isinstance(out["polars"], str) and isinstance(out["pandas"], str)

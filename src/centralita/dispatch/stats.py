"""Live queue statistics: the router's figures (R7) plus service level over the last 15 and 30 minutes,
and the hub that pushes them to WebSocket wallboards (ephemeral: never written to the event log)."""

from __future__ import annotations

import asyncio
import contextlib
import math
import threading
from collections import deque
from dataclasses import asdict
from typing import Any

from centralita.analytics import formulas as f
from centralita.core.metrics_settings import ServiceLevelSettings
from centralita.routing.engine import Router

WINDOWS_MIN = (15, 30)


class ServiceLevelWindow:
    """Queue episodes that ended in the last 30 minutes: (queue id, dequeue time, outcome, wait in whole
    microseconds). Figures come from the analytics formulas, with the tenant's service-level variant, so a
    history report over the same episodes gives the same numbers (metrics.md §1.3 "live windows")."""

    def __init__(self, settings: ServiceLevelSettings | None = None) -> None:
        self.items: deque[tuple[int, float, str, int]] = deque()
        self.settings = settings or ServiceLevelSettings()

    def add(self, queue_id: int, ts: float, outcome: str, wait_s: float) -> None:
        self.items.append((queue_id, ts, outcome, round(wait_s * f.US)))

    def trim(self, now: float) -> None:
        horizon = now - max(WINDOWS_MIN) * 60
        while self.items and self.items[0][1] <= horizon:
            self.items.popleft()

    def figures(self, queue_id: int, threshold_s: float, now: float) -> dict[str, dict[str, Any]]:
        """Per window `(now − W, now]`: answered (A), abandoned (B), other exits, answered within the
        threshold (A_T), and the service level by the tenant's variant (null with no episode)."""
        s = self.settings
        genesys = f.GenesysSwitches(s.genesys.flow_outs, s.genesys.short_abandons, s.genesys.abandons)
        threshold_us = round((s.threshold_s if s.threshold_s is not None else threshold_s) * f.US)
        out: dict[str, dict[str, Any]] = {}
        for minutes in WINDOWS_MIN:
            since = now - minutes * 60
            totals = f.QueueTotals.of(
                (
                    f.Episode(outcome, wait_us, threshold_us)
                    for qid, ts, outcome, wait_us in self.items
                    if qid == queue_id and since < ts <= now
                ),
                short_abandon_us=s.short_abandon_s * f.US,
            )
            out[f"last_{minutes}m"] = {
                "answered": totals.answered,
                "abandoned": totals.abandoned,
                "other": totals.other,
                "answered_within_threshold": totals.answered_within,
                "service_level": f.service_level(totals, s.variant, genesys),
                "service_level_variant": s.variant,
            }
        return out


def queue_figures(
    router: Router, queue_id: int, code: str, name: str, window: ServiceLevelWindow, now: float
) -> dict[str, Any]:
    stats = asdict(router.stats(queue_id, now))
    ewt = stats.get("ewt_s")
    if ewt is not None and not math.isfinite(ewt):
        stats["ewt_s"] = None  # no agent staffed: the wait cannot be estimated (infinite)
    stats.update(code=code, name=name, sl_threshold_s=router.queues[queue_id].sl_threshold_s)
    stats.update(window.figures(queue_id, router.queues[queue_id].sl_threshold_s, now))
    return stats


class StatsHub:
    """Fan-out of `queue_stats` messages to the WebSocket connections of one process."""

    MAX_PENDING = 16

    def __init__(self) -> None:
        self._subs: list[tuple[int, asyncio.AbstractEventLoop, asyncio.Queue[dict[str, Any]]]] = []
        self._latest: dict[int, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)

    def subscribe(self, tenant_id: int, loop: asyncio.AbstractEventLoop) -> asyncio.Queue[dict[str, Any]]:
        q: asyncio.Queue[dict[str, Any]] = asyncio.Queue(self.MAX_PENDING)
        with self._lock:
            self._subs.append((tenant_id, loop, q))
            latest = self._latest.get(tenant_id)
        if latest is not None:
            q.put_nowait(latest)
        return q

    def unsubscribe(self, q: asyncio.Queue[dict[str, Any]]) -> None:
        with self._lock:
            self._subs = [s for s in self._subs if s[2] is not q]

    def latest(self, tenant_id: int) -> dict[str, Any] | None:
        with self._lock:
            return self._latest.get(tenant_id)

    def wait_latest(self, tenant_id: int, timeout: float) -> dict[str, Any] | None:
        """The tenant's latest figures, waiting up to `timeout` for the first ones."""
        with self._arrived:
            self._arrived.wait_for(lambda: tenant_id in self._latest, timeout)
            return self._latest.get(tenant_id)

    def publish(self, tenant_id: int, message: dict[str, Any]) -> None:
        with self._lock:
            self._latest[tenant_id] = message
            self._arrived.notify_all()
            subs = [s for s in self._subs if s[0] == tenant_id]
        for _, loop, q in subs:
            with contextlib.suppress(RuntimeError):  # the loop closed with its socket
                loop.call_soon_threadsafe(_put_latest, q, message)


def _put_latest(q: asyncio.Queue[dict[str, Any]], message: dict[str, Any]) -> None:
    """A slow wallboard skips old figures: only the newest matter."""
    if q.full():
        with contextlib.suppress(asyncio.QueueEmpty):
            q.get_nowait()
    q.put_nowait(message)

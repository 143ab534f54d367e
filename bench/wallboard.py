"""Wallboard in the browser: does the page keep up with 500 agents and 50 queues changing every second?

Seeds a contact center through the real actions (50 queues, 500 agents each in two queues, a supervisor),
starts `centralita up` on it, and opens the wallboard twice in Debian's chromium (Playwright, headless, the
flags of tests/browser/conftest.py), side by side in the same browser at the same time:

- **ours**: the page as shipped (one render per animation frame, memoized agent rows, clocks that tick
  without rendering);
- **baseline**: the same page with `?render=naive` — a render for every socket frame and every agent row
  re-rendered each time.

Then, every second for `--seconds`, it changes the state of `--changes` agents (away ↔ offline ↔ away
with another reason, through `POST /api/agents/{code}/state`) and brings in `--arrivals` chats into random
queues, each hung up by its customer a few seconds later (nobody is available: the contacts wait, the queue
figures move, abandons count). Each page records, per socket frame, the lag from the frame's server time
(an event's `ts`, a `queue_stats` frame's `at`) to the render that showed it, plus the main thread's long
tasks (> 50 ms, PerformanceObserver) and animation frames per second. Prints both pages' figures and the
ratios ours/baseline; the last line is JSON. Not a timed test.

    .venv/bin/python -m bench.wallboard                    # 500 agents, 50 queues, 30 s
    .venv/bin/python -m bench.wallboard --agents 50 --queues 5 --seconds 5   # a quick look
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench._common import machine, percentile, ratio

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
TENANT = "bench"
PASSWORD = "bench-password"
REASONS = ("descanso", "comida")

# before any page script: long tasks and animation frames, counted from the page's start
PROBE = """
window.__perf = { longTasks: [], frames: 0 };
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) window.__perf.longTasks.push([e.startTime, e.duration]);
}).observe({ type: "longtask", buffered: true });
(function count() { window.__perf.frames += 1; requestAnimationFrame(count); })();
"""


def _config(agents: int, queues: int) -> str:
    lines = ["version: 1", "away_reasons:"]
    lines += [f"  - {{code: {r}, name_es: {r}, name_en: {r}}}" for r in REASONS]
    lines.append("queues:")
    lines += [f"  - {{code: q{i:02d}, name: Cola {i:02d}, channels: [chat, voice]}}" for i in range(queues)]
    lines.append("agents:")
    for i in range(agents):
        a, b = i % queues, (i * 7 + 3) % queues
        served = f"[{{queue: q{a:02d}}}, {{queue: q{b:02d}, rank: 2}}]" if a != b else f"[{{queue: q{a:02d}}}]"
        lines.append(f"  - {{code: a{i:03d}, name: Agente {i:03d}, queues: {served}}}")
    return "\n".join(lines) + "\n"


def prepare(data_dir: Path, agents: int, queues: int) -> str:
    """The contact center, through the real actions; returns an admin API token for the driver."""
    os.environ["CENTRALITA_ARGON2_PROFILE"] = "test"
    from centralita.accounts.actions import do_create_api_token, do_create_tenant, do_create_user
    from centralita.accounts.schemas import ApiTokenCreate, TenantCreate, UserCreate
    from centralita.configuration.plan import do_apply_config
    from centralita.core.actor import Actor
    from centralita.core.settings import load_settings
    from centralita.service import Service

    svc = Service.start(load_settings({}, env={"CENTRALITA_DATA_DIR": str(data_dir)}))
    try:
        with svc.db.write() as s:
            tenant = do_create_tenant(s, TenantCreate(slug=TENANT, name="Bench"), svc.clock)
            admin = Actor(tenant_id=tenant.id, role="admin", username="bench", clock=svc.clock)
            do_apply_config(s, admin, _config(agents, queues), "bench.yaml")
            do_create_user(s, admin, UserCreate(username="supervisor", password=PASSWORD, role="supervisor"))
            token, _row = do_create_api_token(s, admin, ApiTokenCreate(name="driver", role="admin"))
    finally:
        svc.close()
    return token


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def server(data_dir: Path) -> Iterator[str]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CENTRALITA_")}
    env.update(CENTRALITA_DATA_DIR=str(data_dir), CENTRALITA_WORKERS="1", CENTRALITA_ARGON2_PROFILE="test")
    log = data_dir / "up.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "centralita", "up", "--no-demo", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start:\n{log.read_text(errors='replace')[-3000:]}")
            with contextlib.suppress(OSError), urllib.request.urlopen(f"{url}/api/health", timeout=2) as answer:
                if answer.status == 200:
                    break
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


class Driver:
    """The load: agent state changes and short-lived chats, through the API, every second."""

    def __init__(self, url: str, token: str, agents: int, queues: int, seed: int) -> None:
        self.url = url
        self.token = token
        self.agents = agents
        self.queues = queues
        self.rng = random.Random(seed)
        self.states: dict[int, str] = {}
        self.sent = 0
        self.errors = 0
        self.late_ticks = 0
        self.pool = ThreadPoolExecutor(16)

    def call(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any] | None:
        request = urllib.request.Request(
            f"{self.url}{path}",
            data=json.dumps(body or {}).encode(),
            method="POST",
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                self.sent += 1
                result: dict[str, Any] = json.loads(answer.read() or b"{}")
                return result
        except (urllib.error.URLError, OSError):
            self.errors += 1
            return None

    def change(self, i: int) -> None:
        now = self.states.get(i, "offline")
        if now == "offline" or self.rng.random() < 0.5:
            body = {"state": "away", "away_reason": self.rng.choice(REASONS)}
        else:
            body = {"state": "offline"}
        self.states[i] = body["state"]
        self.pool.submit(self.call, f"/api/agents/a{i:03d}/state", body)

    def arrive(self, n: int) -> None:
        queue = f"q{self.rng.randrange(self.queues):02d}"
        patience = self.rng.uniform(2.0, 12.0)

        def life() -> None:
            made = self.call("/api/contacts", {"channel": "chat", "from": f"chat-{n}", "queue": queue})
            if made is not None:
                time.sleep(patience)
                self.call(f"/api/contacts/{made['id']}/customer-disconnect")

        self.pool.submit(life)

    def warm_up(self) -> None:
        """Every agent logged in (away) before measuring: their first change is a change like any other."""
        for i in range(self.agents):
            self.change(i)

    def run(self, seconds: float, changes: int, arrivals: int, stop: threading.Event) -> None:
        n = 0
        start = time.monotonic()
        for tick in range(int(seconds)):
            for i in self.rng.sample(range(self.agents), min(changes, self.agents)):
                self.change(i)
            for _ in range(arrivals):
                n += 1
                self.arrive(n)
            due = start + tick + 1
            if time.monotonic() > due:
                self.late_ticks += 1
            time.sleep(max(0.0, due - time.monotonic()))
        stop.set()


def _figures(page: Any, seconds: float) -> dict[str, Any]:
    probe = page.evaluate(
        "() => ({wb: window.__wallboard, perf: window.__perf,"
        " rows: document.querySelectorAll('tr[data-agent]').length})"
    )
    lags = sorted(float(x) for x in probe["wb"]["lags"])
    long_tasks = [d for _start, d in probe["perf"]["longTasks"]]
    return {
        "frames_applied": probe["wb"]["events"],
        "renders": probe["wb"]["renders"],
        "rows": probe["rows"],
        "lag_p50_ms": round(percentile(lags, 50), 1),
        "lag_p95_ms": round(percentile(lags, 95), 1),
        "lag_p99_ms": round(percentile(lags, 99), 1),
        "lag_max_ms": round(lags[-1], 1) if lags else None,
        "long_tasks": len(long_tasks),
        "long_task_ms": round(sum(long_tasks), 1),
        "long_task_share": round(sum(long_tasks) / (seconds * 1000), 3),
        "fps": round(probe["perf"]["frames"] / seconds, 1),
    }


def measure(url: str, token: str, args: argparse.Namespace) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    driver = Driver(url, token, args.agents, args.queues, args.seed)
    driver.warm_up()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        pages = {}
        for way, query in (("ours", ""), ("baseline", "?render=naive")):
            ctx = browser.new_context(viewport={"width": 1440, "height": 900}, locale="es-ES")
            ctx.add_init_script(PROBE)
            page = ctx.new_page()
            answer = page.request.post(
                f"{url}/api/auth/login", data={"username": "supervisor", "password": PASSWORD, "tenant": TENANT}
            )
            assert answer.ok, answer.text()
            page.goto(f"{url}/wallboard{query}")
            page.wait_for_selector("tr[data-agent]", timeout=60_000)
            pages[way] = page
        time.sleep(2.0)
        for page in pages.values():  # measure from here: the load of the page itself is not counted
            page.evaluate(
                "() => { window.__wallboard.lags = []; window.__wallboard.events = 0; "
                "window.__wallboard.renders = 0; window.__perf.longTasks = []; window.__perf.frames = 0; }"
            )
        stop = threading.Event()
        t0 = time.monotonic()
        thread = threading.Thread(target=driver.run, args=(args.seconds, args.changes, args.arrivals, stop))
        thread.start()
        # the pages need the browser's event loop turning: Playwright's sync API turns it while we wait here
        while not stop.is_set():
            for page in pages.values():
                page.wait_for_timeout(100)
        thread.join()
        for page in pages.values():
            page.wait_for_timeout(1000)  # the last frames arrive
        elapsed = time.monotonic() - t0 + 1.0
        out = {way: _figures(page, elapsed) for way, page in pages.items()}
        browser.close()
    driver.pool.shutdown(wait=True)
    out["driver"] = {"requests": driver.sent, "errors": driver.errors, "late_ticks": driver.late_ticks}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--queues", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--changes", type=int, default=50, help="agent state changes per second")
    parser.add_argument("--arrivals", type=int, default=5, help="chats per second (each hangs up in 2–12 s)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="centralita-bench-wallboard-") as tmp:
        data_dir = Path(tmp)
        token = prepare(data_dir, args.agents, args.queues)
        with server(data_dir) as url:
            result = measure(url, token, args)
    ours, base = result["ours"], result["baseline"]
    print(
        f"wallboard: {args.agents} agents, {args.queues} queues, {args.changes} state changes and "
        f"{args.arrivals} chats per second for {args.seconds:.0f} s (load average {os.getloadavg()[0]:.2f})"
    )
    print(f"{'':24} {'ours':>10} {'baseline':>10} {'ratio':>7}")
    for key in (
        "frames_applied",
        "renders",
        "lag_p50_ms",
        "lag_p95_ms",
        "lag_p99_ms",
        "lag_max_ms",
        "long_tasks",
        "long_task_ms",
        "long_task_share",
        "fps",
    ):
        a, b = ours[key], base[key]
        print(f"{key:24} {a!s:>10} {b!s:>10} {ratio(a or 0, b or 0)!s:>7}")
    print(f"driver: {result['driver']}")
    print(json.dumps({"args": vars(args), "machine": machine(), **result}))


if __name__ == "__main__":
    main()

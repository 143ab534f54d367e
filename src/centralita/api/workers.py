"""`centralita up` on several cores: a supervisor and its worker processes.

One Python process uses one core (the GIL). With `workers` above 1 (by default one per core), `up` is a
supervisor: it binds the port, runs the relay (events/relay.py) unless Redis is configured, and starts
the API workers (uvicorn's multiprocess supervisor: the socket is shared, the kernel spreads connections)
and one routing process. The routing process runs the routing runner alone, so that routing decisions
never wait for the GIL behind request threads; it holds the leader lock (dispatch/leader.py). Each API
worker serves the API and WebSockets and runs a standby routing runner, which serves the leader's queue
figures and takes the lock only when the routing process is gone (first try `API_STANDBY_S` after its
start, then every `Dispatcher.retry_s`). Committed events reach every process through the relay (or
Redis), so a WebSocket sees what any worker wrote.

- An API worker that dies is replaced (uvicorn checks its workers twice a second); so is the routing
  process (checked twice a second here). Meanwhile a standby takes the lock and rebuilds the queues from
  the store, as after a crash of a single process: nothing acknowledged is lost. (Routing then stays in
  that API worker until it stops; the new routing process stands by.)
- A process whose supervisor is gone (killed) is killed by the kernel: it does not serve on alone.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import logging
import multiprocessing
import os
import signal
import socket
import threading
import time
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from uvicorn.supervisors.multiprocess import Multiprocess

from centralita.api import access_log
from centralita.api.server import GuardedHttpProtocol, uvicorn_config
from centralita.core.errors import Conflict
from centralita.core.i18n import _
from centralita.core.settings import Settings

__all__ = ["WorkerApp", "serve_workers"]

log = logging.getLogger(__name__)

RELAY_SOCKET = "relay.sock"
PR_SET_PDEATHSIG = 1
BIND_RETRY_S = 10.0  # after a kill, the old workers' listening socket may take a moment to close
API_STANDBY_S = 15.0  # an API worker leaves the lock to the routing process this long after it starts
RESTART_CHECK_S = 0.5


def _route(settings: Settings, relay: Path | None, supervisor: int) -> None:
    """The routing process: the routing runner alone, with its own GIL, fed by the bus (its target)."""
    _die_with_parent(supervisor)
    from centralita.events.relay import RelayBus
    from centralita.service import Service

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    bus = RelayBus(relay) if relay is not None else None
    svc = Service.start(settings, routing=True, upgrade=False, bus=bus)
    try:
        stop.wait()
    finally:
        svc.close()


class RoutingProcess:
    """The supervisor's routing process, started again when it dies (its standby API workers route
    meanwhile, after their lock retry)."""

    def __init__(self, settings: Settings, relay: Path | None) -> None:
        self.settings = settings
        self.relay = relay
        self._context = multiprocessing.get_context("spawn")
        self._process: BaseProcess | None = None
        self._stop = threading.Event()
        self._watch = threading.Thread(target=self._keep_alive, name="centralita-routing-watch", daemon=True)

    def start(self) -> None:
        self._spawn()
        self._watch.start()

    def _spawn(self) -> None:
        process = self._context.Process(
            target=_route, args=(self.settings, self.relay, os.getpid()), name="centralita-routing", daemon=False
        )
        process.start()
        self._process = process

    def _keep_alive(self) -> None:
        while not self._stop.wait(RESTART_CHECK_S):
            process = self._process
            if process is not None and not process.is_alive():
                log.warning("the routing process [%s] died (exit %s); starting another", process.pid, process.exitcode)
                process.join()
                if not self._stop.is_set():
                    self._spawn()

    def stop(self) -> None:
        self._stop.set()
        self._watch.join(timeout=5)
        process = self._process
        if process is not None and process.is_alive():
            process.terminate()
            process.join(timeout=15)
            if process.is_alive():
                process.kill()
                process.join()


class WorkerApp:
    """The ASGI app of one worker: pickled by the supervisor with the settings, built in the worker at its
    first ASGI call (the lifespan's startup), where it opens its own database pool and bus."""

    def __init__(self, settings: Settings, relay: Path | None) -> None:
        self.settings = settings
        self.relay = relay
        self.supervisor = os.getpid()
        self._app: Any = None

    def __getstate__(self) -> dict[str, Any]:
        return {"settings": self.settings, "relay": self.relay, "supervisor": self.supervisor, "_app": None}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        _die_with_parent(self.supervisor)  # unpickled in the worker, before it serves

    def _build(self) -> Any:
        from centralita.api.app import create_app
        from centralita.events.relay import RelayBus
        from centralita.service import Service

        settings = self.settings
        GuardedHttpProtocol.header_timeout = settings.header_timeout
        GuardedHttpProtocol.body_timeout = settings.body_timeout
        access_log.configure(settings.access_log)
        bus = RelayBus(self.relay) if self.relay is not None else None
        # routes only when the routing process is gone (a standby; it serves the leader's figures meanwhile)
        svc = Service.start(settings, routing=True, upgrade=False, bus=bus, standby_s=API_STANDBY_S)
        return create_app(svc, close_on_shutdown=True, access_log=settings.access_log)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self._app is None:
            self._app = self._build()
        await self._app(scope, receive, send)


def _die_with_parent(parent: int) -> None:
    """End this worker the moment its supervisor ends, however it ended: the kernel sends SIGKILL (Linux's
    parent-death signal), as if the whole server had been killed, which loses nothing committed. A worker
    left behind would keep the port and serve on without its supervisor and relay."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # it ended before the signal was asked for
        os.kill(os.getpid(), signal.SIGKILL)


def serve_workers(settings: Settings, workers: int) -> None:
    """Serve with `workers` processes until SIGINT or SIGTERM (the supervisor's side)."""
    from centralita.events.relay import RelayHub

    hub = None
    if not settings.redis_url:
        hub = RelayHub(settings.data_dir / RELAY_SOCKET)
        hub.start()
    router = RoutingProcess(settings, hub.path if hub is not None else None)
    try:
        router.start()
        config = uvicorn_config(
            WorkerApp(settings, hub.path if hub is not None else None),
            settings,
            workers=workers,
            interface="asgi3",
            http="centralita.api.server:GuardedHttpProtocol",
        )
        sock = _bind(settings.host, settings.port)
        try:
            Multiprocess(config, sockets=[sock]).run()
        finally:
            with contextlib.suppress(OSError):
                sock.close()
    finally:
        router.stop()
        if hub is not None:
            hub.stop()


def _bind(host: str, port: int) -> socket.socket:
    """The listening socket the workers share; waits up to BIND_RETRY_S while the address is still in use."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    deadline = time.monotonic() + BIND_RETRY_S
    while True:
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            sock.close()
            if exc.errno != errno.EADDRINUSE or time.monotonic() > deadline:
                raise Conflict(_("cannot listen on {host}:{port}: {error}", host=host, port=port, error=exc)) from None
            time.sleep(0.1)
            continue
        sock.set_inheritable(True)
        return sock

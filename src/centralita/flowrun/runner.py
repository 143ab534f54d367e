"""The flow runner: fires the timers and makes the function calls of every contact's flow, on the routing
leader, and resumes them after a restart.

A flow moves on in whichever process receives the event (a chat message reaches an API worker, which runs
`advance` in its request); what a flow waits for that is not the customer — a `wait`, a `collect`'s
time-out, `max_wait`, a function's result — is stored in the contact's run (`timers`, `invoke`) and
carried out here, in the process that leads routing (one per database: `dispatch/leader.py`). A process
that moved a flow on tells the leader to look at the contact again (`poke`: in-process, or a bus note
between processes). The runner also brings a flow up to date when its contact connects to an agent or
ends (`contact.connected`, `contact.ended` on the bus), so a queued flow stops its music and timers.

**Restart.** When this process becomes the leader (start, or taking over from a dead one) it reads every
run still going and re-arms its timers from their stored due times (one that came due meanwhile fires at
once). A function call that was in flight when the old leader died is not made again (it may have written:
a case opened twice is worse than a branch taken): its node takes the `error` outcome.

Everything runs on one asyncio loop in a thread of its own; database work goes to worker threads, one
contact at a time (a lock per contact), so a slow function or a busy contact never holds up another.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import threading
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from sqlalchemy import select

from centralita.core.actor import Actor
from centralita.core.clock import Clock
from centralita.core.errors import CentralitaError
from centralita.events.bus import LocalBus
from centralita.events.log import EventRecord
from centralita.flowrun.advance import Moved, advance
from centralita.flowrun.environment import Figures, no_figures
from centralita.flows import interpreter as it
from centralita.store import tables as t
from centralita.store.db import Database

__all__ = ["Caller", "FlowRunner"]

log = logging.getLogger(__name__)

LEADER_CHECK_S = 1.0
STOP_WAIT_S = 10.0
SYNCING_EVENTS = frozenset({"contact.connected", "contact.ended"})


class Caller(Protocol):
    """Calls the functions flows `invoke` (flowrun/functions.py)."""

    async def call(
        self, tenant_id: int, contact_id: int, channel: str, language: str, invoke: it.Invoke, now: dt.datetime
    ) -> it.InvokeDone: ...


class FlowRunner:
    def __init__(
        self,
        db: Database,
        bus: LocalBus,
        clock: Clock,
        functions: Caller,
        figures: Figures = no_figures,
        is_leader: Callable[[], bool] = lambda: True,
    ) -> None:
        self.db = db
        self.bus = bus
        self.clock = clock
        self.functions = functions
        self.figures = figures
        self.is_leader = is_leader
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stopping = False
        self._leading = False
        self._timers: dict[int, dict[str, tuple[float, int, asyncio.TimerHandle]]] = {}
        self._calls: dict[int, tuple[int, asyncio.Task[None]]] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        self._active: set[int] = set()  # contacts whose flow runs or waits in a queue (while leading)
        self._tenant_of: dict[int, int] = {}
        self._lead_lock = threading.Lock()
        self._idle = threading.Condition()
        self._busy = 0

    # --- life cycle ----------------------------------------------------------------------------------

    def start(self) -> None:
        self.bus.add_handler(self._on_event)
        self.bus.on_note(self._on_note)
        self._thread = threading.Thread(target=self._run, name="centralita-flows", daemon=True)
        self._thread.start()
        self._ready.wait(10)

    def stop(self) -> None:
        loop = self._loop
        if loop is None:
            return
        self._stopping = True  # nothing new starts; what runs (a transaction, a call) finishes first, so no
        # worker thread still holds a database connection when the service closes its engine
        with self._idle:
            if not self._idle.wait_for(lambda: self._busy == 0, STOP_WAIT_S):
                log.warning("flow runner: %d tasks still running at stop", self._busy)
        close = getattr(self.functions, "aclose", None)
        if close is not None:
            try:
                asyncio.run_coroutine_threadsafe(close(), loop).result(5)
            except Exception:
                log.exception("flow functions did not close")
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._loop = None

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        loop.call_soon(self._ready.set)
        loop.call_soon(self._check_leader)
        try:
            loop.run_forever()
        finally:
            for task in asyncio.all_tasks(loop):
                task.cancel()
            loop.run_until_complete(asyncio.sleep(0))
            loop.close()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run `coro` on the runner's loop (from any thread)."""
        loop = self._loop
        if loop is None or self._stopping:
            coro.close()
            return
        with self._idle:
            self._busy += 1

        async def tracked() -> None:
            try:
                await coro
            except Exception:
                log.exception("flow runner task failed")
            finally:
                with self._idle:
                    self._busy -= 1
                    self._idle.notify_all()

        loop.call_soon_threadsafe(lambda: loop.create_task(tracked()))

    def _count(self, task: asyncio.Task[None]) -> None:
        """Count `task` as work in progress until it is done (cancelled before it started included)."""
        with self._idle:
            self._busy += 1

        def done(_task: asyncio.Task[None]) -> None:
            with self._idle:
                self._busy -= 1
                self._idle.notify_all()

        task.add_done_callback(done)

    def settle(self, timeout: float = 10.0) -> None:
        """Wait until no flow work is in progress (tests), function calls included: timers may still be
        armed."""
        with self._idle:
            if not self._idle.wait_for(lambda: self._busy == 0, timeout):
                raise TimeoutError("the flow runner did not settle")

    # --- leadership and resume -----------------------------------------------------------------------

    def _check_leader(self) -> None:
        loop = self._loop
        if loop is None or self._stopping:
            return
        if not self._leads() and self._leading:
            with self._lead_lock:
                self._leading = False
            self._drop_all()
        loop.call_later(LEADER_CHECK_S, self._check_leader)

    def _leads(self) -> bool:
        """Whether this process leads now; on becoming the leader, every run still going is resumed."""
        leading = self.is_leader()
        if leading and not self._leading:
            with self._lead_lock:
                if self._leading:
                    return True
                self._leading = True
            self._spawn(self._resume())
        return leading

    def fire_due(self) -> None:
        """Fire now every armed timer whose due time has come by the service's clock (a clock that jumps,
        in tests and simulations, does not move the loop's own timers)."""
        loop = self._loop
        if loop is None:
            return
        done = threading.Event()

        def due() -> None:
            now = self.clock.now().timestamp()
            for contact_id, armed in list(self._timers.items()):
                for name, (at, wait, handle) in list(armed.items()):
                    if at <= now:
                        handle.cancel()
                        self._fire(self._tenant_of[contact_id], contact_id, name, wait)
            done.set()

        loop.call_soon_threadsafe(due)
        done.wait(10)

    def _drop_all(self) -> None:
        for timers in self._timers.values():
            for _due, _wait, handle in timers.values():
                handle.cancel()
        self._timers.clear()
        self._active.clear()
        for _wait, task in self._calls.values():
            task.cancel()
        self._calls.clear()

    async def _resume(self) -> None:
        def read() -> list[tuple[int, int]]:
            with self.db.read() as s:
                rows = s.execute(
                    select(t.ContactFlowRun.contact_id, t.ContactFlowRun.tenant_id).where(
                        t.ContactFlowRun.status.in_(("running", "queued"))
                    )
                ).all()
            return [(int(c), int(tn)) for c, tn in rows]

        runs = await asyncio.to_thread(read)
        if runs:
            log.info("flow runner: resuming %d contacts in flows", len(runs))
        for contact_id, tenant_id in runs:
            await self._sync(tenant_id, contact_id, resuming=True)

    # --- what tells the runner to look -------------------------------------------------------------

    def poke(self, tenant_id: int, contact_id: int) -> None:
        """A contact's run changed (its timers or function call): look at it again, here or on the leader."""
        if self._leads():
            self._spawn(self._sync(tenant_id, contact_id))
        else:
            self.bus.note({"kind": "flow_poke", "tenant_id": tenant_id, "contact_id": contact_id})

    def moved(self, moved: Moved | None) -> None:
        """After the transaction that moved a flow committed."""
        if moved is not None and moved.timers_changed:
            self.poke(moved.tenant_id, moved.contact_id)

    def _on_note(self, note: dict[str, Any]) -> None:
        if note.get("kind") == "flow_poke" and self._leads():
            self._spawn(self._sync(int(note["tenant_id"]), int(note["contact_id"])))

    def _on_event(self, record: EventRecord) -> None:
        if record.type in SYNCING_EVENTS and record.contact_id in self._active and self._leads():
            self._spawn(self.send(record.tenant_id, record.contact_id, None))

    # --- moving a flow on ----------------------------------------------------------------------------

    def _lock(self, contact_id: int) -> asyncio.Lock:
        lock = self._locks.get(contact_id)
        if lock is None:
            lock = self._locks[contact_id] = asyncio.Lock()
        return lock

    def _actor(self, tenant_id: int) -> Actor:
        return Actor(tenant_id=tenant_id, role="admin", username="flows", clock=self.clock)

    async def send(self, tenant_id: int, contact_id: int, event: it.Event | None) -> None:
        """Apply `event` to the contact's flow (in a worker thread), then look at its timers again."""
        async with self._lock(contact_id):

            def work() -> Moved | None:
                with self.db.write() as s:
                    return advance(s, self._actor(tenant_id), contact_id, event, self.figures)

            try:
                await asyncio.to_thread(work)
            except CentralitaError as exc:
                log.info("contact %s: flow event not applied: %s", contact_id, exc)
        await self._sync(tenant_id, contact_id)

    async def _sync(self, tenant_id: int, contact_id: int, resuming: bool = False) -> None:
        """Arm the contact's timers and start its function call as its run has them now."""

        def read() -> tuple[str, dict[str, Any], dict[str, Any] | None, str, str] | None:
            with self.db.read() as s:
                run = s.get(t.ContactFlowRun, contact_id)
                contact = s.get(t.Contact, contact_id)
                if run is None or contact is None:
                    return None
                return run.status, dict(run.timers or {}), run.invoke, contact.channel, contact.language

        found = await asyncio.to_thread(read)
        loop = asyncio.get_running_loop()
        if found is None or found[0] not in ("running", "queued"):
            self._forget(contact_id)
            return
        _status, timers, invoke, channel, language = found
        self._active.add(contact_id)
        self._tenant_of[contact_id] = tenant_id
        armed = self._timers.setdefault(contact_id, {})
        for name in list(armed):
            due, wait, handle = armed[name]
            wanted = timers.get(name)
            if wanted is None or (float(wanted["due"]), int(wanted["wait"])) != (due, wait):
                handle.cancel()
                del armed[name]
        now = self.clock.now().timestamp()
        for name, spec in timers.items():
            if name in armed:
                continue
            due, wait = float(spec["due"]), int(spec["wait"])
            delay = max(0.0, due - now)
            handle = loop.call_later(delay, self._fire, tenant_id, contact_id, name, wait)
            armed[name] = (due, wait, handle)
        if not armed:
            self._timers.pop(contact_id, None)
        running = self._calls.get(contact_id)
        if invoke is None:
            if running is not None:
                running[1].cancel()
                self._calls.pop(contact_id, None)
            return
        wait = int(invoke["wait"])
        if running is not None and running[0] == wait:
            return  # in flight, or answered with its answer on its way
        if running is not None:
            running[1].cancel()
        if resuming:  # in flight when the last leader stopped: not made twice
            self._spawn(self.send(tenant_id, contact_id, it.InvokeDone(failure="error", wait=wait)))
            return
        call = it.Invoke(
            str(invoke["function"]),
            dict(invoke.get("input") or {}),
            float(invoke["timeout_s"]),
            int(invoke["retries"]),
            str(invoke["validate"]),
            wait,
        )
        task = loop.create_task(self._call(tenant_id, contact_id, channel, language, call))
        self._count(task)  # settle() waits for the function's answer too
        self._calls[contact_id] = (wait, task)

    def _forget(self, contact_id: int) -> None:
        for _due, _wait, handle in self._timers.pop(contact_id, {}).values():
            handle.cancel()
        running = self._calls.pop(contact_id, None)
        if running is not None:
            running[1].cancel()
        self._active.discard(contact_id)
        self._tenant_of.pop(contact_id, None)
        lock = self._locks.get(contact_id)
        if lock is not None and not lock.locked():
            del self._locks[contact_id]

    def _fire(self, tenant_id: int, contact_id: int, name: str, wait: int) -> None:
        armed = self._timers.get(contact_id, {})
        if name in armed and armed[name][1] == wait:
            del armed[name]
        self._spawn(self.send(tenant_id, contact_id, it.TimerFired(name, wait=wait)))

    async def _call(self, tenant_id: int, contact_id: int, channel: str, language: str, call: it.Invoke) -> None:
        try:
            done = await self.functions.call(tenant_id, contact_id, channel, language, call, self.clock.now())
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("function %s failed for contact %s", call.function, contact_id)
            done = it.InvokeDone(failure="error")
        done = it.InvokeDone(done.result, done.failure, wait=call.wait)
        # The call stays in `_calls` until its answer is applied (`_sync` then sees the run's invoke gone):
        # a `_sync` in between (another event for the contact) must not call the function a second time.
        self._spawn(self.send(tenant_id, contact_id, done))


class NoFunctions:
    """Every call fails (`error`): a runner without functions."""

    async def call(
        self, tenant_id: int, contact_id: int, channel: str, language: str, invoke: it.Invoke, now: dt.datetime
    ) -> it.InvokeDone:
        return it.InvokeDone(failure="error")

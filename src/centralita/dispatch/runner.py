"""The routing runner: one `Router` per tenant, fed from the committed events, turning decisions into actions.

Three parts, each in its own module:
- **Inbox** (`inbox.py`): a bus handler puts every committed event on a queue; the routing thread takes
  them per tenant in `seq` order, exactly once (a seq at or below the last applied one is dropped; a gap
  is read from the log, page by page).
- **Events → router** (`feed.py`): one handler per event type; the events carry what the router needs.
- **Decisions → actions** (`decisions.py`): after each batch of events and at the router's
  `next_wakeup()`, the round's offers, offer ends, overflows, `missed` agents and ACW time-outs are written
  in one transaction (`do_route_round`). The store has the last word: what it refuses corrects the router.

This module runs the loop: one thread, the leader lock (only the process holding it routes; the others
stand by and take over with a rebuild), the rebuild of a tenant's router from the store (on start, on
takeover, and when a tenant is out of step), and the live queue figures. Time comes from the injected
clock (FakeClock in tests).

**Recovery.** Queues, agents (with their connected, held and wrap-up contacts) and waiting contacts come
back from the store with their original enqueue times and arrival order; every offer open at the crash is
withdrawn (`contact.offer_ended`, result `withdrawn`) before the contact can be offered again, so nothing
is lost and no contact is ever offered to two agents.
"""

from __future__ import annotations

import contextlib
import logging
import queue as queue_mod
import threading
import time
from typing import Any

from sqlalchemy import select

from centralita.contacts.live import do_withdraw_offers, lock_contact
from centralita.core.actor import Actor
from centralita.core.clock import Clock
from centralita.core.metrics_settings import metrics_settings
from centralita.dispatch.decisions import collect_round, write_round
from centralita.dispatch.feed import Queued, TenantRouting, apply_event
from centralita.dispatch.inbox import AcceptPending, FiguresWanted, Inbox, Sync, in_order
from centralita.dispatch.leader import LeaderLock
from centralita.dispatch.snapshot import agent_state, load_tenant, queue_config
from centralita.dispatch.stats import StatsHub, queue_figures
from centralita.events.bus import LocalBus
from centralita.events.log import EventRecord
from centralita.routing.engine import Router
from centralita.store import tables as t
from centralita.store.db import Database

__all__ = ["Dispatcher"]

log = logging.getLogger(__name__)

# The live queue figures are computed and published at most this often per tenant (the latest always goes
# out): under load they move with every event, and computing them each round took a fifth of the
# process's CPU at 10 contacts/s.
STATS_INTERVAL_S = 0.25
FIGURES_WAIT_S = 2.0  # how long a standby waits for the figures it asked the leader for
# An accept that reached a server before its offer's timeout keeps the offer ringing this much longer
# while it is applied, so that the router never times out an offer the agent took because the server was
# slow (the store judges the accept by when it arrived: contacts/live.py `do_accept_contact`).
ACCEPT_GRACE_S = 15.0


class Dispatcher:
    """Routes every tenant of one database while this process holds the leader lock."""

    def __init__(
        self,
        db: Database,
        bus: LocalBus,
        clock: Clock,
        retry_s: float = 2.0,
        max_wait_s: float = 1.0,
        standby_s: float = 0.0,
    ) -> None:
        """`standby_s`: how long to stand by before the first try for the lock (an API worker leaves it to
        the routing process its supervisor starts beside it, and takes over only when that one is gone)."""
        self.db = db
        self.bus = bus
        self.clock = clock
        self.retry_s = retry_s
        self.max_wait_s = max_wait_s
        self.hub = StatsHub()
        self.lock = LeaderLock(db.engine)
        self.tenants: dict[int, TenantRouting] = {}
        self._inbox = Inbox()
        self._mutex = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_now = 0.0
        self._first_try_at = time.monotonic() + standby_s

    # --- life cycle --------------------------------------------------------------------------------

    def start(self) -> None:
        self.bus.add_handler(self._on_event)
        self.bus.on_note(self._on_note)
        self._thread = threading.Thread(target=self._run, name="centralita-routing", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._inbox.put(None)
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.lock.release()

    @property
    def is_leader(self) -> bool:
        return self.lock.held

    @property
    def hears_leader(self) -> bool:
        """Whether the leader's queue figures reach this process (its bus passes notes between processes)."""
        return self.bus.shares_notes

    def sync(self, timeout: float = 10.0) -> None:
        """Wait until every event published so far is applied and its decisions are written (tests)."""
        marker = Sync()
        self._inbox.put(marker)
        if not marker.done.wait(timeout):
            raise TimeoutError("the routing runner did not catch up")

    def _now(self) -> float:
        self._last_now = max(self._last_now, self.clock.now().timestamp())
        return self._last_now

    def _actor(self, tenant_id: int) -> Actor:
        return Actor(tenant_id=tenant_id, role="admin", username="routing", clock=self.clock)

    # --- the loop ----------------------------------------------------------------------------------

    def _run(self) -> None:
        pending: list[Sync] = []
        while not self._stop.is_set():
            try:
                if not self.lock.held:
                    if time.monotonic() < self._first_try_at or not self.lock.try_acquire():
                        self._idle_standby(pending)
                        continue
                    with self._mutex:
                        self._rebuild_all()
                item = self._inbox.get(timeout=self._wait_s())
                with self._mutex:
                    while item is not None:
                        if isinstance(item, Sync):
                            pending.append(item)
                        elif isinstance(item, AcceptPending):
                            self._accept_pending(item)
                        elif isinstance(item, FiguresWanted):
                            self._figures_wanted(item.tenant_id)
                        else:
                            self._receive(item)
                        try:
                            item = self._inbox.get_nowait()
                        except queue_mod.Empty:
                            break
                    self._tick()
            except queue_mod.Empty:
                with self._mutex:
                    self._tick()
            except Exception:  # the loop must survive a bad event or a lost database connection
                log.exception("routing runner error; resynchronising from the store")
                self._stop.wait(0.2)
                with self._mutex, contextlib.suppress(Exception):
                    self._rebuild_all()
            if self._inbox.empty():
                for marker in pending:
                    marker.done.set()
                pending.clear()
        for marker in pending:
            marker.done.set()

    def _idle_standby(self, pending: list[Sync]) -> None:
        """Not the leader: drop events (the leader has them) and wait before trying the lock again."""
        for marker in pending:
            marker.done.set()
        pending.clear()
        deadline = time.monotonic() + self.retry_s
        while (left := deadline - time.monotonic()) > 0:
            try:
                item = self._inbox.get(timeout=left)
            except queue_mod.Empty:
                return
            if item is None:
                return
            if isinstance(item, Sync):
                item.done.set()

    def _wait_s(self) -> float:
        now = self._now()
        times = [w for tr in self.tenants.values() if (w := tr.router.next_wakeup(now)) is not None]
        times += [min(tr.acw_due.values()) for tr in self.tenants.values() if tr.acw_due]
        wait = self.max_wait_s if not times else min(self.max_wait_s, max(0.0, min(times) - now))
        stats_due = [tr.stats_at + STATS_INTERVAL_S for tr in self.tenants.values() if tr.changed]
        if stats_due:
            wait = min(wait, max(0.0, min(stats_due) - time.monotonic()))
        return wait

    def _accept_pending(self, item: AcceptPending) -> None:
        tr = self.tenants.get(item.tenant_id)
        offer = tr.router.open_offer(item.contact_id, item.agent_id) if tr is not None else None
        if tr is not None and offer is not None and item.received_at < offer.timeout_at:
            tr.router.extend_offer(item.contact_id, item.agent_id, offer.timeout_at + ACCEPT_GRACE_S)

    def _figures_wanted(self, tenant_id: int) -> None:
        tr = self.tenants.get(tenant_id) or self._rebuild(tenant_id)
        tr.changed, tr.stats_at = True, 0.0  # sent by this round's tick

    def _receive(self, record: EventRecord) -> None:
        tr = self.tenants.get(record.tenant_id)
        if tr is None:
            tr = self._rebuild(record.tenant_id)
        for e in in_order(self.db, tr.last_seq, record):
            apply_event(tr, e, self._now(), self)
            tr.last_seq = e.seq

    def _tick(self) -> None:
        """Write each tenant's round (rebuilding first a tenant out of step), then publish its figures."""
        for tr in list(self.tenants.values()):
            if tr.resync:
                tr = self._rebuild(tr.tenant_id)
            decided = collect_round(tr, self._now())
            if decided:
                write_round(self.db, self._actor(tr.tenant_id), tr, decided, self._now())
                tr.changed = True
            if tr.resync:
                tr = self._rebuild(tr.tenant_id)
            if tr.changed and time.monotonic() - tr.stats_at >= STATS_INTERVAL_S:
                tr.changed = False
                tr.stats_at = time.monotonic()
                self._publish_stats(tr)

    # --- configuration from the store (feed.ConfigSource) ----------------------------------------------

    def reload_queue(self, tr: TenantRouting, queue_id: int, now: float) -> None:
        with self.db.read() as s:
            row = s.get(t.Queue, queue_id)
            if row is None or row.tenant_id != tr.tenant_id:
                return
            tr.queue_names[row.id] = (row.code, row.name)
            tr.router.set_queue(queue_config(s, row), now)

    def reload_agent(self, tr: TenantRouting, agent_id: int, now: float) -> None:
        with self.db.read() as s:
            row = s.get(t.Agent, agent_id)
            if row is None or row.tenant_id != tr.tenant_id or not row.active:
                tr.router.remove_agent(agent_id, now)
                return
            tr.router.set_agent(agent_state(s, row), now)

    def reload_all(self, tr: TenantRouting, now: float) -> None:
        with self.db.read() as s:
            tr.window.settings = metrics_settings(
                s.scalar(select(t.Tenant.settings).where(t.Tenant.id == tr.tenant_id))
            ).service_level
            for row in s.scalars(select(t.Queue).where(t.Queue.tenant_id == tr.tenant_id)):
                tr.queue_names[row.id] = (row.code, row.name)
                tr.router.set_queue(queue_config(s, row), now)
            for agent in s.scalars(select(t.Agent).where(t.Agent.tenant_id == tr.tenant_id)):
                if agent.active:
                    tr.router.set_agent(agent_state(s, agent), now)
                else:
                    tr.router.remove_agent(agent.id, now)

    # --- recovery ------------------------------------------------------------------------------------

    def _rebuild_all(self) -> None:
        with self.db.read() as s:
            tenant_ids = list(s.scalars(select(t.Tenant.id).order_by(t.Tenant.id)))
        for tenant_id in tenant_ids:
            self._rebuild(tenant_id)

    def _rebuild(self, tenant_id: int) -> TenantRouting:
        """The tenant's router from the store. Offers open in the store are withdrawn first (events, one
        transaction), so the contact can be offered again, once, by this router."""
        now_dt = self.clock.now()
        with self.db.read(snapshot=True) as s:
            snap = load_tenant(s, tenant_id, now_dt)
            names = {q.id: (q.code, q.name) for q in s.scalars(select(t.Queue).where(t.Queue.tenant_id == tenant_id))}
        actor = self._actor(tenant_id)
        ringing = sorted({contact_id for contact_id, _agent in snap.open_offers})
        if ringing:
            with self.db.write() as s:
                for contact_id in ringing:  # every one of a ring_all round's offers
                    do_withdraw_offers(s, actor, lock_contact(s, actor, contact_id))
        now = self._now()
        router = Router(snap.queues)
        for agent in snap.agents:
            router.set_agent(agent, now)
        queued = {}
        for contact in snap.waiting:
            queued[contact.id] = Queued.from_waiting(contact)
            router.enqueue(contact, now)
        for queue_id, wait in snap.answers:
            router.record_answer(queue_id, wait)
        for queue_id, handle in snap.handles:
            router.record_handle(queue_id, handle)
        tr = TenantRouting(
            tenant_id=tenant_id,
            router=router,
            last_seq=snap.last_seq,
            queue_names=names,
            acw_due=snap.acw_due,
            queued=queued,
        )
        tr.window.settings = snap.service_level
        for item in snap.dequeued:
            tr.window.add(*item)
        self.tenants[tenant_id] = tr
        return tr

    # --- statistics ----------------------------------------------------------------------------------

    def queue_stats(self, tenant_id: int, queue_ids: set[int] | None = None) -> list[dict[str, Any]]:
        """Live figures of the tenant's queues (all, or those in `queue_ids`), by queue code. A standby
        process gives the leader's latest (as of its last change), when the leader's bus passes them on."""
        if not self.is_leader:
            latest = self.hub.latest(tenant_id)
            if latest is None and self.bus.shares_notes:  # started after the leader last sent them: ask
                self.bus.note({"kind": "figures_wanted", "tenant_id": tenant_id})
                latest = self.hub.wait_latest(tenant_id, FIGURES_WAIT_S)
            queues: list[dict[str, Any]] = latest["queues"] if latest is not None else []
            return [q for q in queues if queue_ids is None or q["queue_id"] in queue_ids]
        with self._mutex:
            tr = self.tenants.get(tenant_id)
            if tr is None:
                return []
            return self._figures(tr, queue_ids)

    def _figures(self, tr: TenantRouting, queue_ids: set[int] | None = None) -> list[dict[str, Any]]:
        now = self._now()
        tr.window.trim(now)
        out = []
        for qid, (code, name) in sorted(tr.queue_names.items(), key=lambda item: item[1][0]):
            if qid in tr.router.queues and (queue_ids is None or qid in queue_ids):
                out.append(queue_figures(tr.router, qid, code, name, tr.window, now))
        return out

    def _publish_stats(self, tr: TenantRouting) -> None:
        message = {"type": "queue_stats", "at": self._now(), "queues": self._figures(tr)}
        self.hub.publish(tr.tenant_id, message)
        if self.bus.shares_notes:
            self.bus.note({"kind": "queue_stats", "tenant_id": tr.tenant_id, "message": message})

    def _on_event(self, record: EventRecord) -> None:
        """A committed event, from any thread: for the routing thread while this process leads. A standby
        drops it at once (queueing it cost an API worker a tenth of its time, measured): taking the lock,
        it rebuilds from the store, which has every event committed before then; later ones it queues."""
        if self.lock.held:
            self._inbox.put(record)

    def _on_note(self, note: dict[str, Any]) -> None:
        kind = note.get("kind")
        if kind == "queue_stats" and not self.is_leader:  # the leader's figures, for this standby's sockets
            self.hub.publish(int(note["tenant_id"]), note["message"])
        elif kind == "figures_wanted" and self.is_leader:
            self._inbox.put(FiguresWanted(tenant_id=int(note["tenant_id"])))
        elif kind == "accept_pending" and self.is_leader:
            pending = AcceptPending(
                tenant_id=int(note["tenant_id"]),
                contact_id=int(note["contact_id"]),
                agent_id=int(note["agent_id"]),
                received_at=float(note["received_at"]),
            )
            self._inbox.put(pending)

"""The routing runner: one `Router` per tenant, fed from the committed events, turning decisions into actions.

- **Input.** A bus handler puts every committed event on a queue; one thread applies them to the tenant's
  router in `seq` order, exactly once (a seq at or below the last applied one is dropped; a gap is read
  from the log first). The router is rebuilt from the store on start (recovery) and whenever the event
  stream and the router disagree (a rare race, e.g. an accept committed while the offer timed out).
- **Decisions.** After each batch of events and at the router's `next_wakeup()`, `step(now)` gives the new
  offers and the offers that ended; each becomes one action in its own transaction (`do_offer_contact`,
  `do_end_offer` timeout/withdrawn, `do_mark_agent_missed`). The store has the last word: an action that
  no longer fits (the contact was abandoned meanwhile) raises Conflict and the router is corrected.
- **Recovery.** Queues, agents (with their connected, held and wrap-up contacts) and waiting contacts come
  back from the store with their original enqueue times and arrival order; an offer open at the crash is
  withdrawn (a `contact.offer_ended` event, result `withdrawn`) before the contact can be offered again,
  so nothing is lost and no contact is ever offered to two agents.
- **One decider.** Only the process holding the leader lock (`leader.py`) routes; the others keep trying
  to take it over. Time comes from the injected clock (FakeClock in tests, the simulator's later).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import queue as queue_mod
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from centralita.contacts.live import (
    do_end_offer,
    do_mark_agent_missed,
    do_offer_contact,
    do_overflow_contact,
    do_time_out_acw,
    lock_contact,
    open_offers,
)
from centralita.core.actor import Actor
from centralita.core.clock import Clock
from centralita.core.errors import CentralitaError
from centralita.dispatch.leader import LeaderLock
from centralita.dispatch.snapshot import acw_deadline, agent_state, load_tenant, queue_config, waiting_contact
from centralita.dispatch.stats import ServiceLevelWindow, StatsHub, queue_figures
from centralita.events.bus import LocalBus
from centralita.events.log import EventRecord, read_events
from centralita.routing.engine import Router, RoutingError
from centralita.routing.lifecycle import Overflowed
from centralita.routing.model import Offer, OfferEnded
from centralita.store import tables as t
from centralita.store.db import Database

log = logging.getLogger(__name__)

_CONFIG = {"config.applied", "skill.updated", "skill.deleted"}


@dataclass
class TenantRouting:
    tenant_id: int
    router: Router
    last_seq: int
    queue_names: dict[int, tuple[str, str]] = field(default_factory=dict)  # id → (code, name)
    window: ServiceLevelWindow = field(default_factory=ServiceLevelWindow)
    changed: bool = True
    acw_due: dict[int, float] = field(default_factory=dict)  # contact id → when its ACW times out


class _Sync:
    def __init__(self) -> None:
        self.done = threading.Event()


class Dispatcher:
    """Routes every tenant of one database while this process holds the leader lock."""

    def __init__(
        self, db: Database, bus: LocalBus, clock: Clock, retry_s: float = 2.0, max_wait_s: float = 1.0
    ) -> None:
        self.db = db
        self.bus = bus
        self.clock = clock
        self.retry_s = retry_s
        self.max_wait_s = max_wait_s
        self.hub = StatsHub()
        self.lock = LeaderLock(db.engine)
        self.tenants: dict[int, TenantRouting] = {}
        self._inbox: queue_mod.Queue[EventRecord | _Sync | None] = queue_mod.Queue()
        self._mutex = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._resync: set[int] = set()
        self._last_now = 0.0

    # --- life cycle --------------------------------------------------------------------------------

    def start(self) -> None:
        self.bus.add_handler(self._inbox.put)
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

    def sync(self, timeout: float = 10.0) -> None:
        """Wait until every event published so far is applied and its decisions are written (tests)."""
        marker = _Sync()
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
        pending: list[_Sync] = []
        while not self._stop.is_set():
            try:
                if not self.lock.held:
                    if not self.lock.try_acquire():
                        self._idle_standby(pending)
                        continue
                    with self._mutex:
                        self._rebuild_all()
                item = self._inbox.get(timeout=self._wait_s())
                with self._mutex:
                    while item is not None:
                        if isinstance(item, _Sync):
                            pending.append(item)
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

    def _idle_standby(self, pending: list[_Sync]) -> None:
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
            if isinstance(item, _Sync):
                item.done.set()

    def _wait_s(self) -> float:
        now = self._now()
        times = [w for tr in self.tenants.values() if (w := tr.router.next_wakeup(now)) is not None]
        times += [min(tr.acw_due.values()) for tr in self.tenants.values() if tr.acw_due]
        if not times:
            return self.max_wait_s
        return min(self.max_wait_s, max(0.0, min(times) - now))

    # --- events → router -----------------------------------------------------------------------------

    def _receive(self, record: EventRecord) -> None:
        tr = self.tenants.get(record.tenant_id)
        if tr is None:
            tr = self._rebuild(record.tenant_id)
        if record.seq <= tr.last_seq:
            return
        if record.seq > tr.last_seq + 1:  # committed elsewhere and not (yet) delivered: read the log
            for missing in self._read_gap(record.tenant_id, tr.last_seq, record.seq - 1):
                self._apply(tr, missing)
                tr.last_seq = missing.seq
        self._apply(tr, record)
        tr.last_seq = record.seq

    def _read_gap(self, tenant_id: int, after: int, upto: int) -> Iterator[EventRecord]:
        cursor = after
        while cursor < upto:
            with self.db.read() as s:
                page = [e for e in read_events(s, tenant_id, after_seq=cursor, limit=1000) if e.seq <= upto]
            if not page:
                return
            yield from page
            cursor = page[-1].seq

    def _apply(self, tr: TenantRouting, e: EventRecord) -> None:
        r, now = tr.router, self._now()
        kind = e.type
        tr.changed = True
        try:
            if kind.startswith("queue.") and e.queue_id is not None:
                self._reload_queue(tr, e.queue_id)
            elif kind.startswith("agent.") and e.agent_id is not None:
                self._reload_agent(tr, e.agent_id)
                if kind == "agent.state_changed" and e.data.get("to") == "available" and e.agent_id in r.agents:
                    r.make_ready(e.agent_id, now)  # R6: available again clears `missed`
            elif kind in _CONFIG:
                self._reload_config(tr)
            elif e.contact_id is None:
                tr.changed = False
            elif kind == "contact.queued":
                self._ensure_waiting(tr, e.contact_id)
            elif kind == "contact.offer_ended":
                result = e.data.get("result")
                if result == "rejected" and e.agent_id is not None and r.open_offer(e.contact_id, e.agent_id):
                    r.reject(e.contact_id, e.agent_id, now)  # with ring_all the others keep ringing
                    self._check_missed(tr, e.agent_id)
                elif result != "accepted":
                    # a contact the router let go (an offer it could not write) waits again once the store's
                    # last offer has ended
                    self._ensure_waiting(tr, e.contact_id)
            elif kind == "contact.dequeued":
                wait = float(e.data.get("wait_s") or 0.0)
                outcome = str(e.data.get("outcome"))
                if e.queue_id is not None:
                    tr.window.add(e.queue_id, e.ts.timestamp(), outcome, wait)
                if outcome == "answered":
                    if e.queue_id in r.queues:
                        r.record_answer(e.queue_id, wait)
                else:
                    r.remove(e.contact_id, now)
            elif kind == "contact.connected" and e.agent_id is not None:
                r.accept(e.contact_id, e.agent_id, now)
            elif kind == "contact.ended" and e.data.get("acw") and e.agent_id is not None:
                with self.db.read() as s:
                    row = s.get(t.Contact, e.contact_id)
                    agent = s.get(t.Agent, e.agent_id)
                    assert row is not None
                    due = acw_deadline(row, agent.acw_timeout_s if agent is not None else 0)
                if due is not None:
                    tr.acw_due[e.contact_id] = due
                r.release(e.contact_id, now, acw=True)
            elif kind == "contact.wrapped_up" and e.agent_id is not None:
                tr.acw_due.pop(e.contact_id, None)
                r.end_acw(e.agent_id, now)
                if e.queue_id in r.queues:
                    r.record_handle(e.queue_id, float(e.data.get("handle_s") or 0.0))
        except (RoutingError, KeyError) as exc:
            log.info("router out of step with the store on %s #%s (%s): resynchronising", kind, e.seq, exc)
            self._resync.add(tr.tenant_id)

    def _ensure_waiting(self, tr: TenantRouting, contact_id: int) -> None:
        """Enqueue the contact as stored when the store has it waiting with no open offer and the router
        does not have it."""
        r = tr.router
        if contact_id in r.contacts or r.offers_of(contact_id):
            return
        with self.db.read() as s:
            row = s.get(t.Contact, contact_id)
            if row is None or row.status != "queued" or open_offers(row):
                return
            contact = waiting_contact(row)
        if contact.memberships and all(m.queue_id in r.queues for m in contact.memberships):
            r.enqueue(contact, self._now())

    def _reload_queue(self, tr: TenantRouting, queue_id: int) -> None:
        with self.db.read() as s:
            row = s.get(t.Queue, queue_id)
            if row is None:
                return
            tr.queue_names[row.id] = (row.code, row.name)
            tr.router.set_queue(queue_config(s, row), self._now())

    def _reload_agent(self, tr: TenantRouting, agent_id: int) -> None:
        with self.db.read() as s:
            row = s.get(t.Agent, agent_id)
            if row is None or not row.active:
                tr.router.remove_agent(agent_id, self._now())
                return
            tr.router.set_agent(agent_state(s, row), self._now())

    def _reload_config(self, tr: TenantRouting) -> None:
        with self.db.read() as s:
            for row in s.scalars(select(t.Queue).where(t.Queue.tenant_id == tr.tenant_id)):
                tr.queue_names[row.id] = (row.code, row.name)
                tr.router.set_queue(queue_config(s, row), self._now())
            for agent in s.scalars(select(t.Agent).where(t.Agent.tenant_id == tr.tenant_id)):
                if agent.active:
                    tr.router.set_agent(agent_state(s, agent), self._now())
                else:
                    tr.router.remove_agent(agent.id, self._now())

    # --- decisions → actions -------------------------------------------------------------------------

    def _tick(self) -> None:
        for tenant_id in sorted(self._resync):
            self._rebuild(tenant_id)
        self._resync.clear()
        for tr in list(self.tenants.values()):
            self._time_out_acw(tr)
            offers, ended = tr.router.step(self._now())
            for end in ended:
                self._write_ended(tr, end)
            overflows = tr.router.take_overflows()
            for overflow in overflows:
                self._write_overflow(tr, overflow)
            rounds: dict[int, list[Offer]] = {}  # contact id → its offers (several: ring_all), in order
            for offer in offers:
                rounds.setdefault(offer.contact_id, []).append(offer)
            for contact_id, round_ in rounds.items():
                written = [self._write_offer(tr, offer) for offer in round_]
                if not any(written):
                    self._restore_contact(tr, contact_id)
            if offers or ended or overflows:
                tr.changed = True
            if tr.changed:
                tr.changed = False
                self._publish_stats(tr)
        if self._resync:
            for tenant_id in sorted(self._resync):
                self._rebuild(tenant_id)
            self._resync.clear()

    def _time_out_acw(self, tr: TenantRouting) -> None:
        """After-contact work past the agent's `acw_timeout_s` ends (its event frees the agent)."""
        now = self._now()
        for contact_id in [c for c, due in tr.acw_due.items() if due <= now]:
            deadline = dt.datetime.fromtimestamp(tr.acw_due.pop(contact_id), dt.UTC)
            actor = self._actor(tr.tenant_id)
            try:
                with self.db.write() as s:
                    do_time_out_acw(s, actor, lock_contact(s, actor, contact_id), deadline)
            except CentralitaError:
                pass  # wrapped up meanwhile: its own event frees the agent

    def _write_offer(self, tr: TenantRouting, offer: Offer) -> bool:
        actor = self._actor(tr.tenant_id)
        try:
            with self.db.write() as s:
                row = lock_contact(s, actor, offer.contact_id)
                do_offer_contact(s, actor, row, offer.agent_id, offer.queue_id, offer.timeout_at)
            return True
        except CentralitaError as exc:
            # The store moved on (abandoned, agent logged off…). With no offer of the round written, the
            # contact is put back as the store has it. With others written (ring_all), this agent's offer
            # stays in the router until the agent's event withdraws it (its end is then not in the store:
            # `_write_ended` gets a Conflict and leaves it at that).
            log.info("offer of contact %s to agent %s not made: %s", offer.contact_id, offer.agent_id, exc.detail)
            return False

    def _restore_contact(self, tr: TenantRouting, contact_id: int) -> None:
        """Withdraw the router's offers of the contact and enqueue it again as the store has it (or not at
        all: the events that explain it are on their way)."""
        tr.router.remove(contact_id, self._now())
        self._ensure_waiting(tr, contact_id)
        # The router reports its offers as withdrawn at the next step; the store has no such offer, so
        # `_write_ended` gets a Conflict and leaves it at that.

    def _write_ended(self, tr: TenantRouting, end: OfferEnded) -> None:
        actor = self._actor(tr.tenant_id)
        offer = end.offer
        try:
            with self.db.write() as s:
                row = lock_contact(s, actor, offer.contact_id)
                do_end_offer(s, actor, row, offer.agent_id, end.result)
                if end.result == "timeout":
                    self._mark_missed(s, actor, tr, offer.agent_id)
        except CentralitaError as exc:
            if end.result == "timeout":
                # Accepted, rejected or withdrawn in the store before the timeout: the router must follow
                # the store (an accept it missed would leave the agent's slot free).
                log.info("offer timeout of contact %s not recorded: %s", offer.contact_id, exc.detail)
                self._resync.add(tr.tenant_id)

    def _write_overflow(self, tr: TenantRouting, overflow: Overflowed) -> None:
        """Record an overflow the router applied (event + stored memberships), before the offers it led to."""
        actor = self._actor(tr.tenant_id)
        try:
            with self.db.write() as s:
                row = lock_contact(s, actor, overflow.contact_id)
                do_overflow_contact(s, actor, row, overflow.from_queue, overflow.to_queue, overflow.mode, overflow.at)
        except CentralitaError as exc:
            # answered or abandoned meanwhile: the events that remove it from the router are on their way
            log.info("overflow of contact %s not recorded: %s", overflow.contact_id, exc.detail)

    def _check_missed(self, tr: TenantRouting, agent_id: int) -> None:
        agent = tr.router.agents.get(agent_id)
        if agent is None or not agent.missed:
            return
        actor = self._actor(tr.tenant_id)
        with self.db.write() as s:
            self._mark_missed(s, actor, tr, agent_id)

    def _mark_missed(self, s: Session, actor: Actor, tr: TenantRouting, agent_id: int) -> None:
        agent = tr.router.agents.get(agent_id)
        if agent is None or not agent.missed:
            return
        row = s.get(t.Agent, agent_id, with_for_update=True)
        if row is not None:
            do_mark_agent_missed(s, actor, row)

    # --- recovery ------------------------------------------------------------------------------------

    def _rebuild_all(self) -> None:
        with self.db.read() as s:
            tenant_ids = list(s.scalars(select(t.Tenant.id).order_by(t.Tenant.id)))
        for tenant_id in tenant_ids:
            self._rebuild(tenant_id)

    def _rebuild(self, tenant_id: int) -> TenantRouting:
        """The tenant's router from the store. Offers open in the store are withdrawn first (events), so
        the contact can be offered again, once, by this router."""
        now_dt = self.clock.now()
        with self.db.read() as s:
            if not self.db.is_sqlite:
                s.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            snap = load_tenant(s, tenant_id, now_dt)
            names = {q.id: (q.code, q.name) for q in s.scalars(select(t.Queue).where(t.Queue.tenant_id == tenant_id))}
        actor = self._actor(tenant_id)
        failed: set[int] = set()
        for contact_id, agent_id in snap.open_offers:  # every one of a ring_all contact's offers
            try:
                with self.db.write() as s:
                    do_end_offer(s, actor, lock_contact(s, actor, contact_id), agent_id, "withdrawn")
            except CentralitaError:
                failed.add(contact_id)  # accepted or ended meanwhile: its event follows after this snapshot
        now = self._now()
        router = Router(snap.queues)
        for agent in snap.agents:
            router.set_agent(agent, now)
        for contact in snap.waiting:
            if contact.id not in failed:
                router.enqueue(contact, now)
        for queue_id, wait in snap.answers:
            router.record_answer(queue_id, wait)
        for queue_id, handle in snap.handles:
            router.record_handle(queue_id, handle)
        tr = TenantRouting(
            tenant_id=tenant_id, router=router, last_seq=snap.last_seq, queue_names=names, acw_due=snap.acw_due
        )
        for item in snap.dequeued:
            tr.window.add(*item)
        self.tenants[tenant_id] = tr
        return tr

    # --- statistics ----------------------------------------------------------------------------------

    def queue_stats(self, tenant_id: int, queue_ids: set[int] | None = None) -> list[dict[str, Any]]:
        """Live figures of the tenant's queues (all, or those in `queue_ids`), by queue code."""
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
        self.hub.publish(tr.tenant_id, {"type": "queue_stats", "at": self._now(), "queues": self._figures(tr)})

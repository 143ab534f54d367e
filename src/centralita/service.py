"""The running service's parts in one object: settings, database, event bus, clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from centralita.core.clock import Clock, SystemClock
from centralita.core.settings import Settings
from centralita.events.bus import LocalBus, make_bus
from centralita.store import migrate
from centralita.store.db import Database

if TYPE_CHECKING:
    from centralita.dispatch.runner import Dispatcher
    from centralita.flowrun.advance import Moved
    from centralita.flowrun.runner import FlowRunner

__all__ = ["Service"]


@dataclass
class Service:
    settings: Settings
    db: Database
    bus: LocalBus
    clock: Clock = field(default_factory=SystemClock)
    dispatch: Dispatcher | None = None  # the routing runner, when this process routes (start_routing)
    flows: FlowRunner | None = None  # the flow runner (timers, function calls), started with routing

    @classmethod
    def start(
        cls,
        settings: Settings,
        clock: Clock | None = None,
        upgrade: bool = True,
        routing: bool = False,
        bus: LocalBus | None = None,
        standby_s: float = 0.0,
    ) -> Service:
        """The parts, started. `bus`: the fan-out between processes when it is not Redis (a worker of
        `centralita up` passes the supervisor's relay); by default Redis when configured, else in-process."""
        settings.secure_files()  # data directory 0700; database, secret key, demo logins 0600
        bus = bus if bus is not None else make_bus(settings.redis_url, settings.database_url, settings.redis_namespace)
        db = Database(settings.database_url, bus=bus)
        if upgrade:
            migrate.upgrade(db.engine)
        service = cls(settings=settings, db=db, bus=bus, clock=clock or SystemClock())
        if routing:
            service.start_routing(standby_s)
        return service

    def start_routing(self, standby_s: float = 0.0) -> Dispatcher:
        """Start the routing runner: it routes while this process holds the leader lock, else stands by
        (`standby_s`: at least that long before its first try)."""
        from centralita.dispatch.runner import Dispatcher

        if self.dispatch is None:
            self.dispatch = Dispatcher(self.db, self.bus, self.clock, standby_s=standby_s)
            self.dispatch.start()
            self.start_flows()
        return self.dispatch

    def start_flows(self) -> FlowRunner:
        """Start the flow runner: it fires flows' timers and calls their functions while this process leads
        routing (with routing running; alone, it always leads)."""
        from centralita.flowrun.functions import Functions, load_modules
        from centralita.flowrun.runner import FlowRunner

        if self.flows is None:
            load_modules(self.settings.function_modules.split(","))
            dispatch = self.dispatch
            self.flows = FlowRunner(
                self.db,
                self.bus,
                self.clock,
                Functions(self.db),
                figures=self.queue_figures,
                is_leader=(lambda: dispatch.is_leader) if dispatch is not None else (lambda: True),
            )
            self.flows.start()
        return self.flows

    def queue_figures(self, tenant_id: int) -> dict[str, dict[str, Any]]:
        """The router's live figures of the tenant's queues, by code (empty without routing)."""
        if self.dispatch is None:
            return {}
        return {q["code"]: q for q in self.dispatch.queue_stats(tenant_id)}

    def flow_moved(self, moved: Moved | None) -> None:
        """After a transaction that moved a contact's flow on committed: the flow runner looks at it."""
        if self.flows is not None:
            self.flows.moved(moved)

    def close(self) -> None:
        if self.flows is not None:
            self.flows.stop()
            self.flows = None
        if self.dispatch is not None:
            self.dispatch.stop()
            self.dispatch = None
        self.bus.close()
        self.db.dispose()

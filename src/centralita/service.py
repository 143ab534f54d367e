"""The running service's parts in one object: settings, database, event bus, clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from centralita.core.clock import Clock, SystemClock
from centralita.core.settings import Settings
from centralita.events.bus import LocalBus, make_bus
from centralita.store import migrate
from centralita.store.db import Database

if TYPE_CHECKING:
    from centralita.dispatch.runner import Dispatcher

__all__ = ["Service"]


@dataclass
class Service:
    settings: Settings
    db: Database
    bus: LocalBus
    clock: Clock = field(default_factory=SystemClock)
    dispatch: Dispatcher | None = None  # the routing runner, when this process routes (start_routing)

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
        return self.dispatch

    def close(self) -> None:
        if self.dispatch is not None:
            self.dispatch.stop()
            self.dispatch = None
        self.bus.close()
        self.db.dispose()

"""The running service's parts in one object: settings, database, event bus, clock."""

from __future__ import annotations

from dataclasses import dataclass, field

from centralita.core.clock import Clock, SystemClock
from centralita.core.settings import Settings
from centralita.events.bus import LocalBus, make_bus
from centralita.store import migrate
from centralita.store.db import Database


@dataclass
class Service:
    settings: Settings
    db: Database
    bus: LocalBus
    clock: Clock = field(default_factory=SystemClock)

    @classmethod
    def start(cls, settings: Settings, clock: Clock | None = None, upgrade: bool = True) -> Service:
        if settings.is_sqlite:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        bus = make_bus(settings.redis_url)
        db = Database(settings.database_url, bus=bus)
        if upgrade:
            migrate.upgrade(db.engine)
        return cls(settings=settings, db=db, bus=bus, clock=clock or SystemClock())

    def close(self) -> None:
        self.bus.close()
        self.db.dispose()

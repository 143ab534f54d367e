"""The Alembic migrations create exactly the schema the models describe, on both engines."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from centralita.store import migrate
from centralita.store.db import Database
from centralita.store.tables import Base


def test_migrations_match_models(db_url: str) -> None:
    db = Database(db_url)
    try:
        assert migrate.current_revision(db.engine) == migrate.head_revision()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata)
        assert diff == []
    finally:
        db.dispose()

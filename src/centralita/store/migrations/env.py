"""Alembic environment: runs on the connection handed in by centralita.store.migrate."""

from __future__ import annotations

from alembic import context

from centralita.store.tables import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - only for the bare `alembic` command
    raise RuntimeError("run migrations through `centralita db upgrade`")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()

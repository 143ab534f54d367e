"""Migration 0011 (the knowledge base and agent scripts) goes up and back down on both engines."""

from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, inspect

from centralita.store import migrate
from tests.test_migration_0005 import old_db

__all__ = ["old_db"]


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_0011_up_and_down(old_db: str) -> None:
    engine = create_engine(old_db)
    try:
        migrate.upgrade(engine, "0010")
        assert not {"kb_articles", "agent_scripts"} & _tables(old_db)
        migrate.upgrade(engine, "0011")
        assert {"kb_articles", "agent_scripts"} <= _tables(old_db)
        cfg = migrate._config()
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0010")
        assert not {"kb_articles", "agent_scripts"} & _tables(old_db)
        assert migrate.current_revision(engine) == "0010"
        migrate.upgrade(engine)
        assert migrate.current_revision(engine) == migrate.head_revision()
    finally:
        engine.dispose()

"""Alembic migrations up and down on a real SQLite file."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect

from bot.db.migrate import downgrade, upgrade
from bot.db.session import make_engine

TABLES = {"organisations", "counsellors", "cases", "case_messages", "consents", "case_offers",
          "outbox"}


def test_upgrade_downgrade_upgrade(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade(engine)
    assert set(inspect(engine).get_table_names()) >= TABLES
    downgrade(engine)
    assert not TABLES & set(inspect(engine).get_table_names())
    upgrade(engine)
    assert set(inspect(engine).get_table_names()) >= TABLES


def test_migrations_leave_rasas_events_table_alone(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE events (id INTEGER PRIMARY KEY)")
    upgrade(engine)
    downgrade(engine)
    assert "events" in inspect(engine).get_table_names()


def test_models_and_migrations_agree(tmp_path: Path) -> None:
    """No drift: the newest migration creates exactly what bot/db/models.py declares."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from bot.db.models import Base

    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "include_name": lambda name, type_, parent: name != "bruecke_alembic_version"})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_processes_only_check_the_schema_and_say_what_to_run(tmp_path: Path) -> None:
    import pytest

    from bot.db.migrate import SchemaNotCurrentError, check_head
    from bot.db.session import engine_for

    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    with pytest.raises(SchemaNotCurrentError, match="python -m bot db upgrade"):
        engine_for(url)
    assert not TABLES & set(inspect(make_engine(url)).get_table_names())  # nothing migrated
    upgrade(make_engine(url))
    check_head(make_engine(url))
    assert engine_for(url) is engine_for(url)

"""Alembic environment: uses the engine handed over by bot.db.migrate, or DATABASE_URL."""

from __future__ import annotations

from alembic import context

from bot.db.models import Base

config = context.config
engine = config.attributes.get("engine")
if engine is None:
    from bot.db.session import make_engine
    from bot.settings import get_settings

    engine = make_engine(get_settings().database_url)

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        # Rasa's tracker store keeps its `events` table in the same database
        include_name=lambda name, type_, parent: type_ != "table" or name != "events",
        version_table="bruecke_alembic_version",
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()

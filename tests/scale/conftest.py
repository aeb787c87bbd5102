"""The application tables on a real PostgreSQL server: one fresh database per test, copied
from a migrated template, with the same fixture names as tests/db/conftest.py (`engine`,
`session`, `directory_file`), so the SQLite tests run here unchanged."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.db.migrate import upgrade
from bot.db.session import make_engine
from tests.backends import PostgresServer, postgres_server, postgres_url, redis_server, redis_url

__all__ = ["postgres_server", "postgres_url", "redis_server", "redis_url"]

TEMPLATE = "bruecke_migrated"


@pytest.fixture(scope="session")
def pg_template(postgres_server: PostgresServer) -> str:
    """A database migrated to head once; each test gets a copy (fast, and independent)."""
    url = postgres_server.create_database(TEMPLATE)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()  # a template must have no open connections when it is copied
    return TEMPLATE


@pytest.fixture
def pg_database(postgres_server: PostgresServer) -> str:
    """URL of a new, empty database."""
    return postgres_server.create_database(f"t_{uuid.uuid4().hex[:12]}")


@pytest.fixture
def pg_engine(postgres_server: PostgresServer, pg_template: str) -> Iterator[Engine]:
    """An engine on a new database at the newest migration."""
    url = postgres_server.create_database(f"t_{uuid.uuid4().hex[:12]}", template=pg_template)
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(pg_engine: Engine) -> Engine:
    return pg_engine


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with sessionmaker(bind=engine, future=True, expire_on_commit=False)() as session:
        yield session
        session.rollback()


@pytest.fixture
def directory_file() -> Path:
    return Path(__file__).resolve().parent.parent / "fixtures" / "directory.yml"

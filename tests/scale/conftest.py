"""The application tables on a real PostgreSQL server: one fresh database per test, copied
from a migrated template, with the same fixture names as tests/db/conftest.py (`engine`,
`session`, `directory_file`), so the SQLite tests run here unchanged."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from tests.backends import (
    pg_database,
    pg_engine,
    pg_template,
    postgres_server,
    postgres_url,
    redis_server,
    redis_url,
)

__all__ = ["pg_database", "pg_engine", "pg_template", "postgres_server", "postgres_url",
           "redis_server", "redis_url"]

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

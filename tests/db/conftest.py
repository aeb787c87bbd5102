"""Real databases, migrated with Alembic, one fresh one per test: every test here runs on
SQLite (the embedded default) and on PostgreSQL (a server from the system's packages on
loopback, tests/backends.py; skipped with the reason where it is not installed)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.db.migrate import upgrade
from bot.db.session import make_engine
from tests.backends import pg_engine, pg_template, postgres_server  # noqa: F401 (fixtures)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "postgresql":
        yield request.getfixturevalue("pg_engine")
        return
    engine = make_engine(f"sqlite:///{tmp_path / 'test.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with sessionmaker(bind=engine, future=True, expire_on_commit=False)() as session:
        yield session
        session.rollback()


@pytest.fixture
def directory_file() -> Path:
    return Path(__file__).resolve().parent.parent / "fixtures" / "directory.yml"

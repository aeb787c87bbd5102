"""Real SQLite databases, migrated with Alembic; one fresh file per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.db.migrate import upgrade
from bot.db.session import make_engine


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
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

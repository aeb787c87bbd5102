"""Engine and sessions: one engine per database URL and process, one short session per
action run or update. Migrations are an explicit step (`python -m bot db upgrade`); an
engine only checks that the schema is at head when a process first uses it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.settings import get_settings


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    # WAL lets Rasa's tracker store and the action server write the same file concurrently
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def make_engine(url: str) -> Engine:
    """A new engine for the URL (SQLite gets WAL and foreign keys)."""
    # hide_parameters: SQL errors and echo never show bound values (message texts, ids)
    kwargs: dict = {"future": True, "pool_pre_ping": True, "hide_parameters": True}
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"check_same_thread": False}
    engine = create_engine(url, **kwargs)
    if url.startswith("sqlite"):
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


@lru_cache(maxsize=4)
def engine_for(url: str) -> Engine:
    """The process-wide engine of a URL; fails with SchemaNotCurrentError (naming the
    command to run) unless the schema is at the newest migration."""
    from bot.db.migrate import check_head

    engine = make_engine(url)
    check_head(engine)
    return engine


@lru_cache(maxsize=4)
def _factory(engine: Engine) -> sessionmaker:
    return sessionmaker(bind=engine, future=True, expire_on_commit=False)


def get_engine() -> Engine:
    return engine_for(get_settings().database_url)


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A short transaction: committed on success, rolled back on error."""
    session = _factory(engine or get_engine())()
    try:
        yield session
        session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        session.close()

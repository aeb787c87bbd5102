"""What only a server database can show (tests/db runs every database test on SQLite and
PostgreSQL already): migrations against a real server next to Rasa's table, the atomic claim
under a real race, 64-bit Telegram ids."""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

from sqlalchemy import inspect, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from bot import cases
from bot.db.migrate import downgrade, upgrade
from bot.db.models import Case, Counsellor
from bot.db.session import make_engine
from bot.directory import import_file
from tests.db.test_cases import new, team  # noqa: F401 (fixture and helper)
from tests.db.test_migrations import TABLES


def test_runs_on_postgresql(engine: Engine) -> None:
    assert engine.dialect.name == "postgresql"


def test_upgrade_downgrade_upgrade(pg_database: str) -> None:
    engine = make_engine(pg_database)
    try:
        with engine.begin() as conn:  # Rasa's table shares the database and must survive
            conn.exec_driver_sql("CREATE TABLE events (id SERIAL PRIMARY KEY)")
        upgrade(engine)
        assert set(inspect(engine).get_table_names()) >= TABLES
        downgrade(engine)
        assert not TABLES & set(inspect(engine).get_table_names())
        assert "events" in inspect(engine).get_table_names()
        upgrade(engine)
        assert set(inspect(engine).get_table_names()) >= TABLES
        with engine.connect() as conn:
            head = conn.execute(text("SELECT version_num FROM bruecke_alembic_version"))
            assert len(head.all()) == 1
    finally:
        engine.dispose()


def test_schema_matches_the_models(engine: Engine) -> None:
    """What autogenerate would change: nothing (types, nullability, indexes on PostgreSQL)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from bot.db.models import Base

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={
            "include_name": lambda name, type_, parent: type_ != "table" or name not in (
                "events", "bruecke_alembic_version")})
        assert compare_metadata(context, Base.metadata) == []


def test_claim_race_has_exactly_one_winner(engine: Engine, directory_file: Path) -> None:
    """Three counsellors press "Take" at the same instant, each in its own connection and
    transaction, held open past the UPDATE so the others must wait on the row lock."""
    factory = sessionmaker(bind=engine, future=True, expire_on_commit=False)
    with factory() as s:
        import_file(s, directory_file)
        case_id = new(s, language="de", region=None).case.id  # offered to all three
        s.commit()
    counsellors = ["olena", "karim", "ayse"]
    start, updated = threading.Barrier(len(counsellors)), threading.Barrier(len(counsellors),
                                                                            timeout=2)
    results: dict[str, bool] = {}

    def take(counsellor: str) -> None:
        with factory() as s:
            s.get(Counsellor, counsellor)  # the lookup claim() starts with, before the race
            start.wait()
            won = cases.claim(s, case_id=case_id, counsellor_id=counsellor)
            # the winner holds its row lock until all have tried (the others block: timeout)
            with contextlib.suppress(threading.BrokenBarrierError):
                updated.wait()
            s.commit()
            results[counsellor] = won

    threads = [threading.Thread(target=take, args=(c,)) for c in counsellors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == sorted(counsellors)
    assert list(results.values()).count(True) == 1
    winner = next(c for c, won in results.items() if won)
    with factory() as s:
        case = s.get(Case, case_id)
        assert case.status is cases.CaseStatus.CLAIMED and case.assignee_id == winner


def test_telegram_ids_beyond_32_bits(team) -> None:  # noqa: F811  # type: ignore[no-untyped-def]
    """Telegram ids do not fit 32 bits (supergroup chats are below -2^31, user ids above
    2^32 exist); message ids grow without bound."""
    chat_id, message_id = -1002233445566, 2**33 + 7
    counsellor = team.get(Counsellor, "olena")
    counsellor.telegram_user_id = chat_id
    case = new(team).case
    cases.record_offer(team, case_id=case.id, counsellor_id="olena", chat_id=chat_id,
                       message_id=message_id)
    team.commit()
    assert cases.case_of_message(team, chat_id=chat_id, message_id=message_id).id == case.id
    assert cases.case_of_message(team, chat_id=chat_id, message_id=message_id + 1) is None
    assert team.execute(select(Counsellor.id).where(
        Counsellor.telegram_user_id == chat_id)).scalar_one() == "olena"


def test_json_and_enum_columns_round_trip(team) -> None:  # noqa: F811  # type: ignore[no-untyped-def]
    case = new(team).case
    team.commit()
    team.expire_all()
    stored = team.get(Case, case.id)
    assert stored.status is cases.CaseStatus.OFFERED
    assert stored.routing[0]["counsellor_id"] == "olena"
    raw = team.execute(text("SELECT status FROM cases WHERE id = :i"), {"i": case.id})
    assert raw.scalar_one() == "OFFERED"  # SQLAlchemy stores the name, as on SQLite

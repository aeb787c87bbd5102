"""Retention on real SQLite with a fake clock: closed cases and their rows after N days, idle
Rasa conversations after M days; open cases, recent data and active conversations stay."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.db.models import (
    Case,
    CaseMessage,
    CaseOffer,
    CaseStatus,
    Consent,
    Counsellor,
    Outcome,
    TrackerState,
)
from bot.retention import purge

TODAY = dt.datetime(2026, 12, 1, 12, 0)


@pytest.fixture
def events_table(engine: Engine) -> Engine:
    """Rasa's own tracker-store table, created by Rasa's model, in the same database."""
    from rasa.core.tracker_store import SQLTrackerStore

    SQLTrackerStore.SQLEvent.__table__.create(engine)
    return engine


def _case(session: Session, ref: str, *, closed_days_ago: int | None) -> Case:
    case = Case(user_ref=ref, conversation_id=f"chat-{ref}", language="uk",
                topic="recognition", routing=[],
                created_at=TODAY - dt.timedelta(days=(closed_days_ago or 0) + 10))
    if closed_days_ago is not None:
        case.status, case.outcome = CaseStatus.CLOSED, Outcome.RESOLVED
        case.closed_at = TODAY - dt.timedelta(days=closed_days_ago)
    else:
        case.status = CaseStatus.CLAIMED
    session.add(case)
    session.flush()
    session.add(CaseMessage(case_id=case.id, sender="user", text="my question"))
    session.add(Consent(user_ref=ref, purpose="handover", fields=["language"],
                        created_at=case.created_at))
    return case


def _events(session: Session, sender: str, days_ago: float, n: int = 3) -> None:
    stamp = (TODAY - dt.timedelta(days=days_ago)).replace(tzinfo=dt.timezone.utc).timestamp()
    for i in range(n):
        session.execute(text(
            "INSERT INTO events (sender_id, type_name, timestamp, data) "
            "VALUES (:s, 'user', :t, :d)"), {"s": sender, "t": stamp + i,
                                              "d": json.dumps({"text": "hello"})})


def _count(session: Session, model: type) -> int:
    return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def test_closed_cases_are_purged_after_the_retention_time(session: Session,
                                                         directory_file: Path) -> None:
    from bot.directory import import_file

    import_file(session, directory_file)
    counsellor = session.execute(select(Counsellor.id)).scalars().first()
    old = _case(session, "old", closed_days_ago=181)
    recent = _case(session, "recent", closed_days_ago=179)
    open_case = _case(session, "open", closed_days_ago=None)
    session.add(CaseOffer(case_id=old.id, counsellor_id=counsellor, chat_id=1, message_id=1))
    session.flush()

    result = purge(session, now=TODAY, cases_days=180, idle_days=365)

    assert (result.cases, result.case_messages, result.case_offers, result.consents) == \
        (1, 1, 1, 1)
    assert set(session.execute(select(Case.user_ref)).scalars()) == {"recent", "open"}
    assert {c.user_ref for c in session.execute(select(Consent)).scalars()} == \
        {"recent", "open"}
    assert _count(session, CaseMessage) == 2 and _count(session, CaseOffer) == 0
    assert session.get(Case, recent.id) and session.get(Case, open_case.id)


def test_a_person_with_another_case_keeps_the_consent(session: Session) -> None:
    _case(session, "p", closed_days_ago=400)
    _case(session, "p", closed_days_ago=None)
    purge(session, now=TODAY, cases_days=180, idle_days=365)
    assert _count(session, Case) == 1
    assert _count(session, Consent) == 2  # the person still has an open case


def test_idle_conversations_are_deleted_active_ones_kept(session: Session,
                                                         events_table: Engine) -> None:
    _events(session, "idle", days_ago=366)
    _events(session, "active", days_ago=400)
    _events(session, "active", days_ago=2, n=1)  # wrote again recently: the whole stays
    _events(session, "young", days_ago=10)
    for sender in ("idle", "young"):  # the state rows the tracker store keeps (slots)
        session.add(TrackerState(sender_id=sender, event_id=1, session_from=0,
                                 state='{"slots": {"profession": "nurse"}}'))
    session.flush()

    result = purge(session, now=TODAY, cases_days=180, idle_days=365)

    assert (result.conversations, result.events) == (1, 3)
    senders = set(session.execute(text("SELECT DISTINCT sender_id FROM events")).scalars())
    assert senders == {"active", "young"}
    assert set(session.execute(select(TrackerState.sender_id)).scalars()) == {"young"}


def test_dry_run_counts_without_deleting(session: Session, events_table: Engine) -> None:
    _case(session, "old", closed_days_ago=500)
    _events(session, "idle", days_ago=500)
    result = purge(session, now=TODAY, cases_days=180, idle_days=365, dry_run=True)
    assert result.cases == 1 and result.conversations == 1
    assert _count(session, Case) == 1
    assert session.execute(text("SELECT COUNT(*) FROM events")).scalar_one() == 3


def test_the_clock_decides(session: Session) -> None:
    _case(session, "x", closed_days_ago=100)
    assert purge(session, now=TODAY, cases_days=180, idle_days=365).cases == 0
    later = TODAY + dt.timedelta(days=81)
    assert purge(session, now=later, cases_days=180, idle_days=365).cases == 1


def test_cli_purge_prints_counts(engine: Engine, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import main
    from bot.db.session import engine_for
    from bot.settings import get_settings

    monkeypatch.setenv("DATABASE_URL", str(engine.url))
    monkeypatch.setenv("RETENTION_CASES_DAYS", "30")
    get_settings.cache_clear()
    engine_for.cache_clear()
    try:
        with Session(engine) as session, session.begin():
            _case(session, "cli", closed_days_ago=40)
        assert main(["purge", "--today", "2026-12-01", "--dry-run"]) == 0
        assert "would delete" in capsys.readouterr().out
        assert main(["purge", "--today", "2026-12-01"]) == 0
        out = capsys.readouterr().out
        assert "cases 1" in out and "consents 1" in out
        with Session(engine) as session:
            assert _count(session, Case) == 0
    finally:
        get_settings.cache_clear()
        engine_for.cache_clear()

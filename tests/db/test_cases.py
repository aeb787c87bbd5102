"""Case lifecycle on a real database: create with routing, one open case per person, atomic
claim, release, reassign, close, cancel, erase."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from bot import cases
from bot.db.models import Case, CaseMessage, CaseStatus, Consent, Outcome
from bot.directory import import_file
from bot.privacy import erase_user

NOW = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def team(session, directory_file: Path):  # type: ignore[no-untyped-def]
    import_file(session, directory_file)
    session.commit()
    return session


def new(session, conversation="c1", language="uk", region="BY"):  # type: ignore[no-untyped-def]
    return cases.create_case(session, conversation_id=conversation, language=language,
                             topic="recognition", region=region, profession="nurse",
                             country="UA", at=NOW)


def test_create_routes_and_stores_reasons(team) -> None:
    created = new(team)
    assert created.case.status is CaseStatus.OFFERED
    assert created.candidates[0].counsellor_id == "olena"
    assert created.case.routing[0]["reasons"][0] == "speaks uk"
    assert created.case.conversation_id == "c1" and created.case.user_ref != "c1"


def test_no_match_is_queued(team) -> None:
    created = new(team, language="vi")
    assert created.case.status is CaseStatus.QUEUED and created.candidates == []


def test_one_open_case_per_person(team) -> None:
    new(team)
    with pytest.raises(cases.CaseError):
        new(team)
    assert cases.cancel_by_user(team, conversation_id="c1").outcome is Outcome.CANCELLED
    assert new(team).case.status is CaseStatus.OFFERED


def test_claim_first_wins_release_reassign_close(team) -> None:
    case = new(team).case
    assert cases.claim(team, case_id=case.id, counsellor_id="olena")
    assert not cases.claim(team, case_id=case.id, counsellor_id="karim")
    team.refresh(case)
    assert case.assignee_id == "olena" and case.status is CaseStatus.CLAIMED
    with pytest.raises(cases.CaseError):
        cases.release(team, case_id=case.id, counsellor_id="karim")
    cases.release(team, case_id=case.id, counsellor_id="olena")
    assert case.status is CaseStatus.OFFERED and case.assignee_id is None
    cases.reassign(team, case_id=case.id, to_counsellor_id="karim")
    assert case.assignee_id == "karim"
    cases.close(team, case_id=case.id, counsellor_id="karim", outcome=Outcome.RESOLVED)
    assert case.status is CaseStatus.CLOSED and case.outcome is Outcome.RESOLVED
    assert case.closed_at is not None


def test_a_released_case_is_announced_again(team) -> None:
    case = new(team).case
    assert cases.mark_notified(team, case_id=case.id)
    cases.record_offer(team, case_id=case.id, counsellor_id="olena", chat_id=9002,
                       message_id=1)
    assert cases.cases_to_notify(team) == []
    assert cases.claim(team, case_id=case.id, counsellor_id="olena")
    cases.release(team, case_id=case.id, counsellor_id="olena")
    assert [c.id for c in cases.cases_to_notify(team)] == [case.id]
    assert cases.offers(team, case_id=case.id) == []


def test_concurrent_claims_have_exactly_one_winner(engine, directory_file: Path) -> None:
    factory = sessionmaker(bind=engine, future=True, expire_on_commit=False)
    with factory() as s:
        import_file(s, directory_file)
        case_id = new(s).case.id
        s.commit()

    def take(counsellor: str) -> bool:
        with factory() as s:
            won = cases.claim(s, case_id=case_id, counsellor_id=counsellor)
            s.commit()
            return won

    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(take, ["olena", "karim", "ayse"]))
    assert results.count(True) == 1


def test_load_counts_claimed_cases_and_capacity_is_respected(team) -> None:
    karim_only = [new(team, conversation=f"p{i}", language="ar", region="NW").case
                  for i in range(5)]
    for case in karim_only:
        assert cases.claim(team, case_id=case.id, counsellor_id="karim")
    # Karim is full (capacity 5): the next Arabic request finds no one
    assert new(team, conversation="p9", language="ar", region="NW").candidates == []


def test_erase_user_removes_cases_messages_and_consents(team) -> None:
    case = new(team).case
    cases.add_message(team, case_id=case.id, sender="user", text="hello")
    cases.record_consent(team, conversation_id="c1", fields=["language"])
    new(team, conversation="other")
    assert erase_user(team, conversation_id="c1") == 3
    remaining = team.execute(select(func.count()).select_from(Case)).scalar_one()
    assert remaining == 1
    assert team.execute(select(func.count()).select_from(CaseMessage)).scalar_one() == 0
    assert team.execute(select(func.count()).select_from(Consent)).scalar_one() == 0

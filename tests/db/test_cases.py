"""Case lifecycle on a real database: create with routing, one open case per person, atomic
claim, release, reassign, close, cancel, erase."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from bot import cases
from bot.access import NotAllowed
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


def test_claim_only_if_offered_release_assign_close(team) -> None:
    case = new(team).case
    # Karim (another organisation, no Ukrainian) was never offered the case
    with pytest.raises(NotAllowed):
        cases.claim(team, case_id=case.id, counsellor_id="karim")
    assert cases.claim(team, case_id=case.id, counsellor_id="olena")
    assert not cases.claim(team, case_id=case.id, counsellor_id="olena")
    team.refresh(case)
    assert case.assignee_id == "olena" and case.status is CaseStatus.CLAIMED
    with pytest.raises(NotAllowed):
        cases.release(team, case_id=case.id, counsellor_id="karim")
    with pytest.raises(NotAllowed):
        cases.close(team, case_id=case.id, counsellor_id="olena", outcome=Outcome.CANCELLED)
    cases.release(team, case_id=case.id, counsellor_id="olena")
    assert case.status is CaseStatus.OFFERED and case.assignee_id is None
    # Olena's coordinator assigns it to herself; a foreign counsellor cannot assign
    with pytest.raises(NotAllowed):
        cases.assign(team, case_id=case.id, coordinator_id="ayse", to_counsellor_id="ayse")
    with pytest.raises(NotAllowed):
        cases.assign(team, case_id=case.id, coordinator_id="iryna", to_counsellor_id="karim")
    assert cases.assign(team, case_id=case.id, coordinator_id="iryna", to_counsellor_id="iryna")
    assert case.assignee_id == "iryna"
    cases.close(team, case_id=case.id, counsellor_id="iryna", outcome=Outcome.RESOLVED)
    assert case.status is CaseStatus.CLOSED and case.outcome is Outcome.RESOLVED
    assert case.closed_at is not None


def test_missing_counsellors_are_deactivated_and_their_cases_offered_again(
        team, tmp_path: Path, directory_file: Path) -> None:
    case = new(team).case
    assert cases.claim(team, case_id=case.id, counsellor_id="olena")
    without = tmp_path / "d.yml"
    text = directory_file.read_text()
    start = text.index("  - id: olena")
    without.write_text(text[:start] + text[text.index("  - id: ayse"):])
    result = import_file(team, without)
    assert result.deactivated == ("olena",) and result.reoffered == (case.id,)
    team.refresh(case)
    assert case.assignee_id is None and case.status is CaseStatus.QUEUED  # no other uk
    from bot.db.models import Counsellor
    assert not team.get(Counsellor, "olena").active


def test_a_released_case_is_announced_again(team) -> None:
    case = new(team).case
    assert cases.mark_notified(team, case_id=case.id)
    cases.record_offer(team, case_id=case.id, counsellor_id="olena", chat_id=9002,
                       message_id=1)
    assert cases.cases_to_notify(team) == []
    assert cases.claim(team, case_id=case.id, counsellor_id="olena")
    cases.release(team, case_id=case.id, counsellor_id="olena")
    assert [c.id for c in cases.cases_to_notify(team)] == [case.id]
    # the old offer stays recorded, so that an erasure can still remove it
    assert len(cases.offers(team, case_id=case.id)) == 1


def test_concurrent_claims_have_exactly_one_winner(engine, directory_file: Path) -> None:
    factory = sessionmaker(bind=engine, future=True, expire_on_commit=False)
    with factory() as s:
        import_file(s, directory_file)
        case_id = new(s, language="de", region=None).case.id  # offered to all three
        s.commit()

    start = threading.Barrier(3, timeout=10)  # all three press "Take" at the same instant

    def take(counsellor: str) -> bool:
        with factory() as s:
            start.wait()
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


def test_recent_cases_are_counted_in_utc_whatever_the_callers_time_zone(team) -> None:
    """The fairness window compares UTC times: a clock in another zone (here UTC+3) must
    not shift it by its offset."""
    case = new(team).case
    assert cases.claim(team, case_id=case.id, counsellor_id="olena")
    created = case.created_at.replace(tzinfo=dt.timezone.utc)  # stored as naive UTC
    later = (created + cases.FAIRNESS_WINDOW - dt.timedelta(hours=1)).astimezone(
        dt.timezone(dt.timedelta(hours=3)))
    assert sum(cases.recent_cases_per_organisation(team, now=later).values()) == 1
    assert sum(cases.recent_cases_per_organisation(
        team, now=later + dt.timedelta(hours=2)).values()) == 0

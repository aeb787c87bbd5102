"""Handover actions on a real (temporary) database: asking before another language."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.handover import ActionCreateCase
from bot.db.migrate import upgrade
from bot.db.models import Case, CaseStatus
from bot.db.session import make_engine, session_scope
from bot.directory import import_file
from bot.settings import get_settings
from tests.stalls import while_locked

GERMAN_ONLY = """
organisations:
  - {id: org, name: Brücke e.V., regions: [DE]}
counsellors:
  - {id: jonas, name: Jonas M., organisation: org, languages: [de, en],
     topics: [recognition], hours: "Mon-Sun 00:00-23:59"}
"""


@pytest.fixture
def german_only_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'h.db'}")
    get_settings.cache_clear()
    upgrade(make_engine(get_settings().database_url))  # migrations are an explicit step
    directory = tmp_path / "d.yml"
    directory.write_text(GERMAN_ONLY)
    with session_scope() as session:
        import_file(session, directory)
    yield
    get_settings.cache_clear()


def tracker(intent: str, state: str | None, sender: str = "p1") -> Tracker:
    slots: dict[str, Any] = {"language": "uk", "handover_topic": "recognition",
                             "region": "BY", "profession": "nurse", "country": "UA",
                             "handover_state": state}
    latest = {"text": f"/{intent}", "intent": {"name": intent}, "entities": []}
    return Tracker(sender, slots, latest, [], False, None, {}, "action_listen")


async def test_nobody_speaks_ukrainian_so_the_person_is_asked_first(german_only_db) -> None:
    events = await ActionCreateCase().run(CollectingDispatcher(),
                                          tracker("affirm", "consent"), {})
    assert events == [SlotSet("handover_state", "language_fallback")]
    with session_scope() as session:
        assert session.execute(select(Case)).scalars().all() == []


async def test_agreeing_routes_to_a_german_speaker(german_only_db) -> None:
    events = await ActionCreateCase().run(CollectingDispatcher(),
                                          tracker("affirm", "language_fallback"), {})
    assert SlotSet("handover_state", "assigned_now") in events
    assert SlotSet("counsellor", "Jonas") in events
    with session_scope() as session:
        [case] = session.execute(select(Case)).scalars().all()
        assert case.status is CaseStatus.OFFERED
        assert "agreed instead of uk" in case.routing[0]["reasons"][0]


async def test_declining_queues_the_case_for_the_own_language(german_only_db) -> None:
    events = await ActionCreateCase().run(CollectingDispatcher(),
                                          tracker("deny", "language_fallback"), {})
    assert SlotSet("handover_state", "queued") in events
    with session_scope() as session:
        [case] = session.execute(select(Case)).scalars().all()
        assert case.status is CaseStatus.QUEUED


async def test_a_locked_database_does_not_stall_the_action_server(german_only_db) -> None:  # type: ignore[no-untyped-def]
    """Another process holds the write lock for a second: this person's case waits for it
    off the event loop, other people's actions (other coroutines) go on meanwhile."""
    path = get_settings().database_url.removeprefix("sqlite:///")
    events, stall = await while_locked(path, ActionCreateCase().run(
        CollectingDispatcher(), tracker("affirm", "language_fallback"), {}))
    assert stall < 2.0, stall  # not the 5 s busy timeout
    assert SlotSet("handover_state", "assigned_now") in events

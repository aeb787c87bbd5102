"""The tracker store reads a bounded window per turn (the conversation's state row and its
last EVENTS_KEPT events) and ends in exactly the state a replay of the whole session gives:
slots, form, pause, latest message; across a new session; after an older version wrote
events without the row; and the row goes with an erasure. On SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from typing import Any

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.db.models import TrackerState
from extensions.tracker_store import EVENTS_KEPT, PrivacySQLTrackerStore
from tests.stalls import while_locked

DOMAIN = Domain.from_yaml("""
version: "3.1"
slots:
  language: {type: text, mappings: [{type: custom}]}
  profession: {type: text, mappings: [{type: custom}]}
""")


def store_on(engine: Engine) -> PrivacySQLTrackerStore:
    return PrivacySQLTrackerStore(domain=DOMAIN,
                                  url=engine.url.render_as_string(hide_password=False))


def turn(n: int, *extra: Any) -> list[Any]:
    return [UserUttered(f"message {n}", {"name": "greet", "confidence": 1.0}), *extra,
            ActionExecuted("utter_greet"), BotUttered(f"answer {n}"),
            ActionExecuted("action_listen")]


def session_start(*carried: Any) -> list[Any]:
    return [ActionExecuted("action_session_start"), SessionStarted(), *carried,
            ActionExecuted("action_listen")]


async def say(store: PrivacySQLTrackerStore, sender: str, events: list[Any]) -> None:
    """One turn as Rasa runs it: retrieve (or create), add the turn's events, save."""
    tracker = await store.retrieve(sender)
    if tracker is None:
        tracker = DialogueStateTracker(sender, DOMAIN.slots)
    for event in events:
        tracker.update(event)
    await store.save(tracker)


async def replayed(store: PrivacySQLTrackerStore, sender: str) -> DialogueStateTracker:
    """The current session replayed in full, as Rasa's own store does."""
    full = await store.retrieve_full_tracker(sender)
    assert full is not None
    return full


def same_state(a: DialogueStateTracker, b: DialogueStateTracker) -> None:
    assert {k: s.value for k, s in a.slots.items()} == {k: s.value for k, s in b.slots.items()}
    assert a.active_loop_name == b.active_loop_name
    assert a.is_paused() == b.is_paused()
    assert a.latest_message.text == b.latest_message.text
    assert a.latest_action_name == b.latest_action_name


async def test_a_long_conversation_reads_a_window_and_keeps_its_state(engine: Engine) -> None:
    store, sender = store_on(engine), f"w-{uuid.uuid4().hex[:8]}"
    await say(store, sender, session_start() + turn(0, SlotSet("language", "uk")))
    for n in range(1, 120):
        extra = []
        if n == 5:
            extra = [SlotSet("profession", "nurse")]
        if n == 90:
            extra = [SlotSet("profession", "doctor")]
        if n == 110:
            extra = [ActiveLoop("handover_form")]
        await say(store, sender, turn(n, *extra))
    kept = await store.retrieve(sender)
    assert kept is not None and len(kept.events) <= EVENTS_KEPT + 3
    same_state(kept, await replayed(store, sender))
    # Rasa copies trackers by replaying their events: a copy must not lose the state
    same_state(kept.copy(), await replayed(store, sender))
    assert kept.get_slot("language") == "uk" and kept.get_slot("profession") == "doctor"
    assert kept.active_loop_name == "handover_form"
    with store.session_scope() as session:  # what a turn reads: the row and a window
        found = store._window(session, sender)
        window = found[0] if found else None
        stored = session.execute(select(func.count()).select_from(store.SQLEvent).where(
            store.SQLEvent.sender_id == sender)).scalar_one()
    assert window is not None and len(window) <= EVENTS_KEPT + 3 < stored
    store.engine.dispose()


async def test_a_new_session_starts_from_its_own_first_event(engine: Engine) -> None:
    store, sender = store_on(engine), f"s-{uuid.uuid4().hex[:8]}"
    await say(store, sender, session_start() + turn(0, SlotSet("language", "ar"),
                                                     SlotSet("profession", "welder")))
    for n in range(1, 30):
        await say(store, sender, turn(n))
    # a new session carries the language over, not the profession
    await say(store, sender, session_start(SlotSet("language", "ar")) + turn(100))
    await say(store, sender, turn(101))
    kept = await store.retrieve(sender)
    assert kept is not None
    assert [e.text for e in kept.events if isinstance(e, UserUttered)] == ["message 100",
                                                                          "message 101"]
    assert kept.get_slot("language") == "ar" and kept.get_slot("profession") is None
    same_state(kept, await replayed(store, sender))
    store.engine.dispose()


async def test_events_written_without_the_state_row_are_replayed(engine: Engine) -> None:
    store, sender = store_on(engine), f"o-{uuid.uuid4().hex[:8]}"
    for n in range(3):
        await say(store, sender, (session_start() if n == 0 else []) + turn(n))
    # an older version (Rasa's own store) adds a turn and does not touch the row
    plain = SQLTrackerStore(domain=DOMAIN, dialect=engine.dialect.name,
                            host=engine.url.host, port=engine.url.port,
                            db=engine.url.database or "", username=engine.url.username,
                            password=engine.url.password)
    tracker = await plain.retrieve(sender)
    assert tracker is not None
    for event in turn(3, SlotSet("profession", "engineer")):
        tracker.update(event)
    await plain.save(tracker)
    kept = await store.retrieve(sender)
    assert kept is not None and kept.get_slot("profession") == "engineer"
    assert kept.latest_message.text == "message 3"
    plain.engine.dispose()
    store.engine.dispose()


async def test_erasure_removes_the_state_row_too(engine: Engine, session: Session) -> None:
    store, sender = store_on(engine), f"e-{uuid.uuid4().hex[:8]}"
    await say(store, sender, session_start() + turn(0, SlotSet("profession", "nurse")))
    assert session.get(TrackerState, sender) is not None
    store.erase(sender)
    session.expire_all()
    assert session.get(TrackerState, sender) is None
    assert await store.retrieve(sender) is None
    store.engine.dispose()


async def test_a_locked_sqlite_delays_only_its_own_conversation(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """While another process holds the write lock, a save waits (the busy timeout) off the
    event loop: other coroutines — other people's turns — go on meanwhile."""
    from bot.db.migrate import upgrade
    from bot.db.session import make_engine

    path = tmp_path / "locked.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    store, sender = store_on(engine), f"l-{uuid.uuid4().hex[:8]}"
    await say(store, sender, session_start() + turn(0))
    _, stall = await while_locked(path, say(store, sender, turn(1)))
    assert stall < 2.0, stall  # never the 5 s busy timeout
    kept = await store.retrieve(sender)
    assert kept is not None and kept.latest_message.text == "message 1"
    store.engine.dispose()
    engine.dispose()

"""A long conversation: the tracker keeps only the latest events (so a turn's cost does not
grow with the conversation), while slots stay exact and every event is stored exactly once."""

from __future__ import annotations

import json
from typing import Any

import pytest

import extensions.tracker_store as store_module

QUESTIONS = ["Скільки коштує визнання диплома медсестри?", "дякую", "А скільки це триває?",
             "Які документи потрібні для визнання?", "добре"]


async def test_a_long_conversation_keeps_its_slots_and_stores_every_event_once(
        chat: Any, agent: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_module, "EVENTS_KEPT", 30)
    person = chat(language_code="en")
    turns = [await person.say(QUESTIONS[i % len(QUESTIONS)]) for i in range(12)]
    assert all(turn.texts for turn in turns)  # every message answered
    assert turns[-1].slots["language"] == "uk"  # set on the first turn, long out of the window
    store = agent.tracker_store
    kept = await store.retrieve(person.sender_id)
    assert len(kept.events) <= 30 + 5  # the state (a few slot events) and the window
    assert kept.copy().get_slot("language") == "uk"  # Rasa's copies keep the state too
    full = await store.retrieve_full_tracker(person.sender_id)
    saved = agent.saved_events[person.sender_id]  # what the last save had in memory
    stored = [e.as_dict() for e in full.events]
    # no event twice (a timestamp and type identify an event here), none lost at the end
    keys = [(e["event"], e.get("timestamp"), e.get("name"), e.get("text")) for e in stored]
    assert len(keys) == len(set(keys))
    in_memory = json.loads(json.dumps([e.as_dict() for e in saved][-10:]))
    assert in_memory == json.loads(json.dumps(stored[-10:]))
    assert sum(1 for e in stored if e["event"] == "user") == len(turns)

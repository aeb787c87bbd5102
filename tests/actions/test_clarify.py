"""The clarifying action and the language-switch offer with a real rasa_sdk Tracker."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.clarify import ActionClarify
from actions.language import ActionResolveLanguage, ActionValidateSlotMappings
from bot.languages import detector


def fallback_tracker(ranking: list[tuple[str, float]], language: str = "de") -> Tracker:
    entries = [{"name": n, "confidence": c} for n, c in ranking]
    latest = {"text": "…", "intent": {"name": "nlu_fallback", "confidence": 0.6},
              "intent_ranking": [{"name": "nlu_fallback", "confidence": 0.6}, *entries],
              "entities": []}
    return Tracker("u1", {"language": language}, latest, [], False, None, {}, "action_listen")


async def run(action: Any, t: Tracker) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, t, {})
    return events, dispatcher.messages


async def test_unsure_between_topics_offers_them_in_the_conversation_language() -> None:
    _, messages = await run(ActionClarify(), fallback_tracker(
        [("recognition_costs", 0.55), ("recognition_duration", 0.3), ("greet", 0.1)]))
    [message] = messages
    assert message["text"].startswith("Ich bin nicht sicher")
    assert [(b["title"], b["payload"]) for b in message["buttons"]] == [
        ("Kosten der Anerkennung", "/recognition_costs"),
        ("Dauer der Anerkennung", "/recognition_duration"),
        ("Etwas anderes", "/nlu_fallback"),
        ("Persönliche Beratung", "/request_counsellor"),
    ]


async def test_no_plausible_topic_gives_the_plain_fallback() -> None:
    # what the language gate leaves for gibberish, and the "something else" button
    t = fallback_tracker([], language="ru")
    t.latest_message["intent_ranking"] = [{"name": "nlu_fallback", "confidence": 1.0}]
    _, messages = await run(ActionClarify(), t)
    [message] = messages
    assert message["response"] == "utter_fallback" and not message.get("buttons")


def language_tracker(text: str, slots: dict[str, Any]) -> Tracker:
    latest = {"text": text, "intent": {"name": "recognition_need", "confidence": 0.99},
              "entities": [], "metadata": {},
              "language_detection": detector().detect(text).as_dict()}
    return Tracker("u1", slots, latest, [], False, None, {}, "action_listen")


async def test_two_russian_messages_after_choosing_german_offer_a_switch_in_russian() -> None:
    slots: dict[str, Any] = {"language": "de", "language_source": "explicit"}
    first = "Нужно ли мне признание диплома медсестры в Германии?"
    events, messages = await run(ActionResolveLanguage(), language_tracker(first, slots))
    assert messages == [] and SlotSet("language_streak", "ru") in events
    assert SlotSet("language", "ru") not in events  # an explicit choice is not overridden
    slots["language_streak"] = "ru"
    second = "Сколько стоит признание и сколько времени это занимает?"
    t = language_tracker(second, slots)
    events, messages = await run(ActionResolveLanguage(), t)
    assert messages == []  # the decision alone sends nothing …
    assert SlotSet("language_offered", "ru") in events
    assert SlotSet("language_streak", None) in events
    # … the validation step, which Rasa runs once after every message, decides and asks
    events, messages = await run(ActionValidateSlotMappings(), language_tracker(second, slots))
    assert SlotSet("language_offered", "ru") in events
    [offer] = messages
    assert "Русский" in offer["text"] and offer["text"].startswith("Вы пишете")
    assert [(b["title"], b["payload"]) for b in offer["buttons"]] == [
        ("Да, переключить", '/change_language{"language":"ru"}'),
        ("Нет, оставить текущий язык", '/change_language{"language":"de"}'),
    ]
    # asked once: more Russian does not ask again
    slots.update(language_streak="ru", language_offered="ru")
    events, _ = await run(ActionResolveLanguage(), language_tracker(second, slots))
    assert not any(e["name"] == "language_offered" for e in events)
    _, messages = await run(ActionValidateSlotMappings(), language_tracker(second, slots))
    assert messages == []


async def test_no_offer_without_an_explicit_choice() -> None:
    slots = {"language": "de", "language_source": "detected", "language_streak": "ru"}
    events, messages = await run(ActionResolveLanguage(), language_tracker(
        "Сколько стоит признание и сколько времени это занимает?", slots))
    assert messages == [] and SlotSet("language", "ru") in events

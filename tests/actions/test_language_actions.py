"""Language actions with a real rasa_sdk Tracker and CollectingDispatcher."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.language import ActionChangeLanguage, ActionResolveLanguage
from bot.languages import detector


def tracker(text: str, *, intent: str = "recognition_need", slots: dict[str, Any] | None = None,
            entities: list[dict[str, Any]] | None = None,
            language_code: str | None = None) -> Tracker:
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.9},
        "entities": entities or [],
        "metadata": {"language_code": language_code} if language_code else {},
        # what the NLU pipeline's language gate decided for this message
        "language_detection": None if text.startswith("/") else detector().detect(text).as_dict(),
    }
    return Tracker("u1", slots or {}, latest, [], False, None, {}, "action_listen")


async def run(action: Any, t: Tracker) -> list[dict[str, Any]]:
    return await action.run(CollectingDispatcher(), t, {})


async def test_first_message_in_ukrainian_sets_the_language() -> None:
    events = await run(ActionResolveLanguage(),
                       tracker("Чи потрібно визнавати мій диплом медсестри?"))
    assert SlotSet("language", "uk") in events
    assert SlotSet("language_source", "detected") in events


async def test_short_message_takes_the_client_language() -> None:
    events = await run(ActionResolveLanguage(), tracker("ok", intent="affirm",
                                                        language_code="ar"))
    assert SlotSet("language", "ar") in events
    assert SlotSet("language_source", "client") in events


async def test_short_message_does_not_flip_an_established_language() -> None:
    events = await run(ActionResolveLanguage(), tracker(
        "Anerkennung", slots={"language": "uk", "language_source": "detected"}))
    assert events == []


async def test_explicit_request_sets_language_even_when_written_in_another() -> None:
    t = tracker("please answer in Turkish", intent="change_language",
                entities=[{"entity": "language", "value": "tr"}],
                slots={"language": "en", "language_source": "detected"})
    events = await run(ActionResolveLanguage(), t)
    assert SlotSet("language", "tr") in events and SlotSet("language_source", "explicit") in events


async def test_button_payloads_carry_no_language() -> None:
    events = await run(ActionResolveLanguage(), tracker(
        "/recognition_need", slots={"language": "ru", "language_source": "detected"}))
    assert events == []


async def test_change_language_outcomes() -> None:
    supported = tracker("auf Deutsch bitte", intent="change_language",
                        entities=[{"entity": "language", "value": "de"}])
    unsupported = tracker("en français s'il vous plaît", intent="change_language",
                          entities=[{"entity": "language", "value": "fr"}])
    missing = tracker("can I choose another language?", intent="change_language")
    assert await run(ActionChangeLanguage(), supported) == [SlotSet("language_request", "changed")]
    assert await run(ActionChangeLanguage(), unsupported) == [
        SlotSet("language_request", "unsupported")]
    assert await run(ActionChangeLanguage(), missing) == [SlotSet("language_request", "missing")]


async def test_the_action_uses_the_pipelines_decision_and_does_not_detect_again() -> None:
    """One language decision per message: made in NLU (it also knows Arabic in Latin
    letters, which a general detector does not), reused by the action."""
    t = tracker("3andi shahadet handase w bade a3mal mo3adale", language_code="en")
    t.latest_message["language_detection"] = {
        "code": "ar", "confidence": 0.97, "confident": True, "supported": True,
        "transliterated": True}
    events = await run(ActionResolveLanguage(), t)
    assert SlotSet("language", "ar") in events


async def test_no_decision_in_the_parse_data_falls_back_to_the_client_language() -> None:
    t = tracker("Чи потрібно визнавати мій диплом медсестри?", language_code="de")
    t.latest_message.pop("language_detection")
    events = await run(ActionResolveLanguage(), t)
    assert SlotSet("language", "de") in events

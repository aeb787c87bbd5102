"""Asking instead of guessing: the likeliest topics as buttons when the message was unclear."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from bot.texts import render, supported
from bot.understanding import Answer, Ask, Decision, decide, intent_title, is_offered_intent

CLARIFY_RESPONSE = "utter_clarify"
FALLBACK_RESPONSE = "utter_fallback"


def clarification(decision: Decision, language: str) -> tuple[str, list[dict[str, str]]] | None:
    """The question and its buttons (the candidate topics, then "something else" and the
    counsellor) for a decision; None when there is nothing to offer (ask to rephrase)."""
    if isinstance(decision, Answer):  # the fallback came from elsewhere: offer that one
        decision = Ask((decision.intent,)) if is_offered_intent(decision.intent) else decision
    if not isinstance(decision, Ask) or not decision.candidates:
        return None
    rendered = render(CLARIFY_RESPONSE, language)
    buttons = [{"title": intent_title(intent, language), "payload": f"/{intent}"}
               for intent in decision.candidates]
    buttons += [{"title": title, "payload": payload} for title, payload in rendered.buttons]
    return rendered.text, buttons


class ActionClarify(Action):
    """Runs on nlu_fallback: the ranking the NLU kept behind the fallback decides."""

    def name(self) -> str:
        return "action_clarify"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        ranking = tracker.latest_message.get("intent_ranking") or []
        language = supported(tracker.get_slot("language"))
        question = clarification(decide(ranking), language)
        if question is None:
            dispatcher.utter_message(response=FALLBACK_RESPONSE)
        else:
            text, buttons = question
            dispatcher.utter_message(text=text, buttons=buttons)
        return []

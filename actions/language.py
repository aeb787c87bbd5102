"""Actions that keep the conversation language: resolved every turn, changed on request."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.languages import Detection, registry, resolve_language
from bot.texts import render
from bot.understanding import language_offer

CHANGE_LANGUAGE_INTENT = "change_language"
OFFER_RESPONSE = "utter_offer_language_switch"


def change_payload(code: str) -> str:
    return f'/change_language{{"language":"{code}"}}'


def offer_message(new: str, current: str) -> tuple[str, list[dict[str, str]]]:
    """"Switch to Русский?" in the new language: switch / keep the chosen language."""
    rendered = render(OFFER_RESPONSE, new, language=registry().languages[new].name)
    payloads = (change_payload(new), change_payload(current))
    return rendered.text, [{"title": title, "payload": payload} for (title, _), payload
                           in zip(rendered.buttons, payloads, strict=True)]


def client_language_code(metadata: dict[str, Any] | None) -> str | None:
    """Telegram's `language_code`, as the connector puts it in the message metadata."""
    if not metadata:
        return None
    code = metadata.get("language_code")
    return str(code) if code else None


def requested_language(tracker: Tracker) -> str | None:
    """The language named in a change_language message (ISO code), if any."""
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    if intent != CHANGE_LANGUAGE_INTENT:
        return None
    return next(tracker.get_latest_entity_values("language"), None)


def detect_message(tracker: Tracker) -> Detection | None:
    """The language decision the NLU pipeline made for the latest message (the language
    gate); buttons and commands carry none."""
    text = tracker.latest_message.get("text") or ""
    if not text or text.startswith("/"):
        return None
    return Detection.from_dict(tracker.latest_message.get("language_detection"))


class ActionResolveLanguage(Action):
    """Custom slot mapping for `language`/`language_source`, run after every user message."""

    def name(self) -> str:
        return "action_resolve_language"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        state = resolve_language(
            current=tracker.get_slot("language"),
            current_source=tracker.get_slot("language_source"),
            detection=detect_message(tracker),
            client_code=client_language_code(tracker.latest_message.get("metadata")),
            explicit=requested_language(tracker),
        )
        events: list[EventType] = []
        if state.language != tracker.get_slot("language"):
            events.append(SlotSet("language", state.language))
        if state.source.name.lower() != tracker.get_slot("language_source"):
            events.append(SlotSet("language_source", state.source.name.lower()))
        events += self._offer_switch(tracker, state.language,
                                     state.source.name.lower())
        return events

    @staticmethod
    def _offer_switch(tracker: Tracker, language: str,
                      source: str) -> list[EventType]:
        """Probe m9: a language chosen explicitly is not a cage. Two messages in a row
        confidently in another supported language → ask, in that language, whether to
        switch (the buttons are change_language requests, so the answer is a new choice)."""
        detection = detect_message(tracker)
        detected = (detection.code if detection and detection.confident
                    and detection.supported else None)
        if requested_language(tracker):
            detected = None  # this message is itself a choice
        offer = language_offer(language=language, source=source, detected=detected,
                               streak=tracker.get_slot("language_streak"),
                               offered=tracker.get_slot("language_offered"))
        events: list[EventType] = []
        if offer.streak != tracker.get_slot("language_streak"):
            events.append(SlotSet("language_streak", offer.streak))
        if offer.offer:  # sent by action_validate_slot_mappings
            events.append(SlotSet("language_offered", offer.offer))
        return events


class ActionValidateSlotMappings(Action):
    """Runs once after every user message (Rasa's slot-validation step): decides the
    conversation language (action_resolve_language's work) and, when two messages in a row
    came in another language, sends the offer to switch. One action-server call per message
    instead of two; Rasa 3.6 sends the messages of this step (not those of custom
    slot-mapping actions)."""

    def name(self) -> str:
        return "action_validate_slot_mappings"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        events = await ActionResolveLanguage().run(dispatcher, tracker, domain)
        slots = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
        offer = slots.get("language_offered")
        language = slots.get("language", tracker.get_slot("language"))
        if offer and language and offer != language and registry().is_supported(offer):
            text, buttons = offer_message(offer, str(language))
            dispatcher.utter_message(text=text, buttons=buttons)
        return events


class ActionChangeLanguage(Action):
    """Classifies a change_language request; the rules answer from the `language_request`
    slot (the language itself was already set this turn by action_resolve_language)."""

    def name(self) -> str:
        return "action_change_language"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        asked = requested_language(tracker)
        if asked and registry().normalise(asked):
            outcome = "changed"
        elif asked:
            outcome = "unsupported"
        else:
            outcome = "missing"
        return [SlotSet("language_request", outcome)]

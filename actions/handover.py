"""Handover to a counsellor: consent, the form that collects what routing needs, routing and
case creation, and cancelling. The rules choose the answer from the `handover_state` slot."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot import cases, desk
from bot.db.models import Counsellor, Organisation
from bot.db.session import session_scope
from bot.directory import STATES, TOPICS
from bot.entities import matcher
from bot.hours import describe_next, parse_hours
from bot.languages import registry
from bot.normalise import fold
from bot.routing import Request

CONSENTED_FIELDS = ["language", "topic", "region", "profession", "country"]
UNKNOWN, SKIPPED = "unknown", "skipped"
MAX_FREE_TEXT = 80

# intent name prefix → catalogue topic
_TOPIC_OF_INTENT = {"recognition_": "recognition", "work_during_recognition": "recognition",
                    "visa_": "visa", "residence_": "visa", "refugee_status_work": "visa",
                    "entry_": "entry", "scam_check": "entry",
                    "work_": "integration", "language_learning": "integration",
                    "social_housing": "integration", "discrimination": "integration"}


def topic_of_intent(intent: str | None) -> str | None:
    for prefix, topic in _TOPIC_OF_INTENT.items():
        if intent and intent.startswith(prefix):
            return topic
    return None


def last_topic(tracker: Tracker) -> str | None:
    """The topic of the person's most recent topic question in this conversation."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            topic = topic_of_intent(((event.get("parse_data") or {}).get("intent") or {})
                                    .get("name"))
            if topic:
                return topic
    return None


def latest_intent(tracker: Tracker) -> str | None:
    return (tracker.latest_message.get("intent") or {}).get("name")


def language_of(tracker: Tracker) -> str:
    return tracker.get_slot("language") or registry().default


class ActionStartHandover(Action):
    """A person asked for a counsellor: ask consent, or tell them about their open case."""

    def name(self) -> str:
        return "action_start_handover"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        ref = await asyncio.to_thread(_open_case_ref, tracker.sender_id)
        if ref is not None:
            return [SlotSet("case_ref", ref), SlotSet("handover_state", "open_case")]
        # a new handover asks the topic again; region, profession, country carry over
        return [SlotSet("handover_topic", None),
                SlotSet("handover_state", "consent")]


class ActionRecordConsent(Action):
    """Store the consent (purpose and fields only) and pre-fill the topic from the
    conversation, so the form does not ask for it again."""

    def name(self) -> str:
        return "action_record_consent"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        await asyncio.to_thread(_record_consent, tracker.sender_id)
        topic = last_topic(tracker)
        return [SlotSet("handover_topic", topic)] if topic else []


class ValidateHandoverForm(FormValidationAction):
    """Normalises the answers: topic code, state code (or unknown), canonical profession
    and country where known, free text (shortened) otherwise, "skip" allowed."""

    def name(self) -> str:
        return "validate_handover_form"

    async def validate_handover_topic(self, value: Any, dispatcher: CollectingDispatcher,
                                      tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        text = fold(str(value or "")).strip()
        if text in TOPICS:
            return {"handover_topic": text}
        topic = topic_of_intent(latest_intent(tracker))
        return {"handover_topic": topic}  # None → the form asks again

    async def validate_region(self, value: Any, dispatcher: CollectingDispatcher,
                              tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        text = str(value or "").strip()
        if text.upper() in STATES:
            return {"region": text.upper()}
        if fold(text) == UNKNOWN or latest_intent(tracker) == "deny":
            return {"region": UNKNOWN}
        found = [m.value for m in matcher().find(text) if m.entity == "region"]
        if found:
            return {"region": found[0]}
        dispatcher.utter_message(response="utter_invalid_region")
        return {"region": None}

    async def validate_profession(self, value: Any, dispatcher: CollectingDispatcher,
                                  tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        return {"profession": self._canonical_or_text(value, tracker, "profession")}

    async def validate_country(self, value: Any, dispatcher: CollectingDispatcher,
                               tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        return {"country": self._canonical_or_text(value, tracker, "country")}

    @staticmethod
    def _canonical_or_text(value: Any, tracker: Tracker, entity: str) -> str | None:
        text = str(value or "").strip()
        if not text:
            return None
        if fold(text) == "skip" or latest_intent(tracker) == "deny":
            return SKIPPED
        found = [m.value for m in matcher().find(text) if m.entity == entity]
        return found[0] if found else text[:MAX_FREE_TEXT]


class ActionCreateCase(Action):
    """Route the request and create the case; or first ask whether a counsellor in another
    language is acceptable when nobody speaks the person's own."""

    def name(self) -> str:
        return "action_create_case"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        now = dt.datetime.now(dt.timezone.utc)
        language = language_of(tracker)
        topic = tracker.get_slot("handover_topic") or last_topic(tracker) or "recognition"
        region = tracker.get_slot("region")
        region = region if region in STATES else None
        answered_fallback = tracker.get_slot("handover_state") == "language_fallback"
        accept_other = answered_fallback and latest_intent(tracker) == "affirm"
        # database work off the action server's event loop (a locked SQLite delays only
        # this person)
        return await asyncio.to_thread(
            _create_case, tracker.sender_id, now=now, language=language, topic=topic,
            region=region, profession=_value(tracker.get_slot("profession")),
            country=_value(tracker.get_slot("country")),
            answered_fallback=answered_fallback, accept_other=accept_other)


def _open_case_ref(conversation_id: str) -> str | None:
    with session_scope() as session:
        case = cases.open_case(session, conversation_id=conversation_id)
        return case.ref if case is not None else None


def _record_consent(conversation_id: str) -> None:
    with session_scope() as session:
        cases.record_consent(session, conversation_id=conversation_id,
                             fields=CONSENTED_FIELDS)


def _create_case(conversation_id: str, *, now: dt.datetime, language: str, topic: str,
                 region: str | None, profession: str | None, country: str | None,
                 answered_fallback: bool, accept_other: bool) -> list[EventType]:
    """Route and create the case (or say why not); the slots for the answer."""
    with session_scope() as session:
        if not answered_fallback and _only_other_languages(session, language, topic,
                                                           region, now):
            return [SlotSet("handover_state", "language_fallback")]
        existing = cases.open_case(session, conversation_id=conversation_id)
        if existing is not None:
            return [SlotSet("case_ref", existing.ref),
                    SlotSet("handover_state", "open_case")]
        new = cases.create_case(
            session, conversation_id=conversation_id, language=language, topic=topic,
            region=region, profession=profession, country=country,
            accept_other_language=accept_other, at=now)
        events: list[EventType] = [SlotSet("case_ref", new.case.ref)]
        if not new.candidates:
            return [*events, SlotSet("handover_state", "queued")]
        best = new.candidates[0]
        counsellor = session.get(Counsellor, best.counsellor_id)
        organisation = session.get(Organisation, best.organisation_id)
        events += [SlotSet("counsellor", counsellor.first_name),
                   SlotSet("organisation", organisation.name)]
        if best.on_duty:
            return [*events, SlotSet("handover_state", "assigned_now")]
        hours = describe_next(parse_hours(counsellor.hours), now)
        return [*events, SlotSet("office_hours", hours),
                SlotSet("handover_state", "assigned_later")]


def _only_other_languages(session: Any, language: str, topic: str, region: str | None,
                          now: dt.datetime) -> bool:
    """Nobody speaks the person's language, but someone could help in another one."""
    if cases.candidates_for(session, Request(language, topic, region), at=now):
        return False
    return bool(cases.candidates_for(
        session, Request(language, topic, region, accept_other_language=True), at=now))


def _value(slot: Any) -> str | None:
    return None if slot in (None, "", SKIPPED, UNKNOWN) else str(slot)


class ActionCancelCase(Action):
    """The person withdraws their open request."""

    def name(self) -> str:
        return "action_cancel_case"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        case = await asyncio.to_thread(desk.cancel_by_person, tracker.sender_id)
        return [SlotSet("handover_state", "cancelled" if case else "no_case")]

"""Showing a person what is stored about them (/mydata, GDPR Art. 15)."""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from bot.data_export import as_messages, export_user, summary
from bot.db.session import session_scope


class ActionShowMyData(Action):
    """Sends a short summary in the person's language, then the full stored content."""

    def name(self) -> str:
        return "action_show_my_data"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        export = await asyncio.to_thread(_export, tracker.sender_id, list(tracker.events))
        dispatcher.utter_message(response="utter_my_data_summary", **summary(export))
        for chunk in as_messages(export):
            dispatcher.utter_message(text=chunk)
        return []


def _export(conversation_id: str, tracker_events: list[Any]) -> dict[str, Any]:
    """Off the action server's event loop: a locked database delays only this person."""
    with session_scope() as session:
        return export_user(session, conversation_id, tracker_events=tracker_events)

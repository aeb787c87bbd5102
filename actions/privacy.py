"""Deleting a person's data on request.

The action marks the turn; the rule then confirms (utter_data_deleted). The conversation,
cases and consents are erased by the tracker store right after this turn is saved
(extensions/tracker_store.py), because anything the action deleted now
would be written back when Rasa stores the turn."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from bot.privacy import ERASE_ACTION


class ActionDeleteMyData(Action):
    """Marks the deletion; the tracker store erases the conversation after the turn."""

    def name(self) -> str:
        return ERASE_ACTION

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        return []

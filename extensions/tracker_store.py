"""Rasa's SQL tracker store, configured by DATABASE_URL, that erases a conversation when the
person asked for deletion (the turn in which `action_delete_my_data` ran)."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import delete
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from bot.privacy import ERASE_ACTION
from bot.settings import get_settings

logger = logging.getLogger(__name__)
# events of the current session the tracker keeps in memory (~10 turns; rules look 3 back)
EVENTS_KEPT = 100
STORED_UPTO = "_bruecke_stored_upto"  # the last event of a tracker that is in the database
T = TypeVar("T")

# How long a turn waits for the database to come back (a PostgreSQL restart or failover).
# Rasa wraps every tracker store in FailSafeTrackerStore, which on any error silently falls
# back to an in-memory store: the turn is answered but never stored, and a failed read starts
# the conversation afresh. Waiting here keeps that from happening for short outages.
DATABASE_RETRY_SECONDS = 20.0

def erase_requested(tracker: DialogueStateTracker) -> bool:
    """True when the deletion action ran after the latest user message."""
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return False
        if isinstance(event, ActionExecuted) and event.action_name == ERASE_ACTION:
            return True
    return False


def erase_application_data(sender_id: str, language: str | None = None) -> None:
    """Cases, case messages, consents and offers of the person; the bot's copies of their
    words in counsellors' chats go to the durable outbox, which the Telegram gateway works
    off (also later, if it is not running now) (bot.desk.erase_person)."""
    from bot.db.session import session_scope
    from bot.desk import erase_person

    with session_scope() as session:
        erased = erase_person(session, conversation_id=sender_id, language=language)
    logger.info("Erased application data on request (%d rows, %d chat copies queued).",
                erased.rows, erased.copies)


class PrivacySQLTrackerStore(SQLTrackerStore):
    """SQL tracker store on the project's database URL, with erase-on-request."""

    def __init__(self, domain: Domain | None = None, host: str | None = None,
                 event_broker: EventBroker | None = None, url: str | None = None,
                 **kwargs: Any) -> None:
        # Rasa passes the endpoint's `url` as `host`; a full SQLAlchemy URL is accepted there.
        database_url = url or (host if host and "://" in host else None)
        parsed = make_url(database_url or get_settings().database_url)
        super().__init__(
            domain=domain,
            dialect=parsed.drivername,
            host=parsed.host,
            port=parsed.port,
            db=parsed.database or "",
            username=parsed.username,
            password=parsed.password,
            event_broker=event_broker,
            query=dict(parsed.query) or None,
            **kwargs,
        )

    async def _retrying(self, operation: Callable[[], Awaitable[T]]) -> T:
        deadline = time.monotonic() + DATABASE_RETRY_SECONDS
        while True:
            try:
                return await operation()
            except OperationalError:  # unreachable or restarting; the pool was invalidated
                if time.monotonic() > deadline:
                    raise
                logger.warning("Tracker store: database unavailable, retrying.")
                await asyncio.sleep(0.5)

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        return await self._retrying(lambda: super(PrivacySQLTrackerStore, self)
                                    .retrieve(sender_id))

    async def _retrieve(self, sender_id: str, fetch_events_from_all_sessions: bool
                        ) -> DialogueStateTracker | None:
        """The session's events replayed in full (slots, form, language stay exact), but the
        tracker keeps only the last EVENTS_KEPT of them: what policies, the slot-validation
        step and every action call see — and ship — no longer grows with the length of the
        conversation. The full history is only loaded for the export and erasure."""
        with self.session_scope() as session:
            rows = self._event_query(session, sender_id,
                                     fetch_events_from_all_sessions=fetch_events_from_all_sessions
                                     ).all()
            events = [json.loads(row.data) for row in rows]
        if not (self.domain and events):
            return None
        tracker = DialogueStateTracker.from_dict(
            sender_id, events, self.domain.slots,
            max_event_history=None if fetch_events_from_all_sessions else EVENTS_KEPT)
        setattr(tracker, STORED_UPTO, tracker.events[-1] if tracker.events else None)
        return tracker

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator:
        """The tracker's events that are not stored yet: those after the last event it was
        loaded or saved with. (Rasa counts the stored events and skips as many, which is
        wrong once the tracker keeps only the latest ones.) A tracker this store never
        loaded — a new conversation — has only new events."""
        events = list(tracker.events)
        stored = getattr(tracker, STORED_UPTO, None)
        if stored is None:
            return iter(events)
        for i in range(len(events) - 1, -1, -1):
            if events[i] is stored:
                return iter(events[i + 1:])
        logger.warning("Tracker store: a turn added more than %d events.", EVENTS_KEPT)
        return iter(events)

    async def retrieve_full_tracker(self, sender_id: str) -> DialogueStateTracker | None:
        return await self._retrying(lambda: super(PrivacySQLTrackerStore, self)
                                    .retrieve_full_tracker(sender_id))

    async def save(self, tracker: DialogueStateTracker) -> None:
        # idempotent: a retry stores only the events the database does not have yet
        await self._retrying(lambda: super(PrivacySQLTrackerStore, self).save(tracker))
        if tracker.events:
            setattr(tracker, STORED_UPTO, tracker.events[-1])
        if erase_requested(tracker):
            language = tracker.get_slot("language")
            self.erase(tracker.sender_id)
            erase_application_data(tracker.sender_id,
                                   language if isinstance(language, str) else None)

    def erase(self, sender_id: str) -> int:
        """Delete every stored event of one conversation; returns the number deleted."""
        with self.session_scope() as session:
            result = session.execute(
                delete(self.SQLEvent).where(self.SQLEvent.sender_id == sender_id)
            )
            session.commit()
        # the sender id is a pseudonymous chat id, but we still keep it out of the logs
        logger.info("Erased a conversation on request (%d events).", result.rowcount)
        return int(result.rowcount or 0)

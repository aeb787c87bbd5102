"""Rasa's SQL tracker store, configured by DATABASE_URL, that erases a conversation when the
person asked for deletion (the turn in which `action_delete_my_data` ran), and whose cost per
turn does not grow with the conversation: each save also records where the conversation
stands (`tracker_state`: slots, active form, pause, the first row of the session), so a turn
loads that row and the last EVENTS_KEPT events instead of the whole session."""

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
from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy import delete, inspect, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from bot.db.models import TrackerState
from bot.privacy import ERASE_ACTION
from bot.settings import get_settings

logger = logging.getLogger(__name__)
# events the tracker keeps in memory (~7 turns; rules and memoization look 3 turns back)
EVENTS_KEPT = 50
STORED_UPTO = "_bruecke_stored_upto"  # the last event of a tracker that is in the database
SESSION_FROM = "_bruecke_session_from"  # its current session's first row, from the state row
T = TypeVar("T")

# How long a turn waits for the database to come back (a PostgreSQL restart or failover).
# Rasa wraps every tracker store in FailSafeTrackerStore, which on any error silently falls
# back to an in-memory store: the turn is answered but never stored, and a failed read starts
# the conversation afresh. Waiting here keeps that from happening for short outages.
DATABASE_RETRY_SECONDS = 20.0

def tracker_state(tracker: DialogueStateTracker) -> dict[str, Any]:
    """What replaying the whole session would leave behind, beyond the last events: slots
    that differ from their initial value, the active form, whether the bot is paused."""
    return {
        "slots": {name: slot.value for name, slot in tracker.slots.items()
                  if slot.value != slot.initial_value},
        "active_loop": tracker.active_loop_name,
        "paused": tracker.is_paused(),
    }


def state_events(state: dict[str, Any], timestamp: float | None) -> list[dict[str, Any]]:
    """The state as events put before the window (replaying the window after them ends in
    the same state as replaying the whole session: whatever the window changes, it changes
    again in order)."""
    ts = {"timestamp": timestamp} if timestamp is not None else {}
    events: list[dict[str, Any]] = [{"event": "slot", "name": name, "value": value, **ts}
                                    for name, value in state.get("slots", {}).items()]
    if state.get("active_loop"):
        events.append({"event": "active_loop", "name": state["active_loop"], **ts})
    if state.get("paused"):
        events.append({"event": "pause", **ts})
    return events


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
        self._has_state_table: bool | None = None  # known after the first look

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
        """A tracker of the conversation's state (as events) and its last EVENTS_KEPT
        events: what policies, the slot-validation step and every action call see — and
        ship — does not grow with the conversation. With a state row, only those events are
        read; without one (or a row behind the events, e.g. written by an older version),
        the session is replayed once to get the state. The full history is only loaded for
        the export and erasure."""
        if fetch_events_from_all_sessions:
            return await super()._retrieve(sender_id, True)
        # the database work and the replay run off the event loop: a locked SQLite or a slow
        # database delays this conversation, not every other one on this server
        return await asyncio.to_thread(self._retrieve_window, sender_id)

    def _retrieve_window(self, sender_id: str) -> DialogueStateTracker | None:
        with self.session_scope() as session:
            found = self._window(session, sender_id)
            replayed = found is None
            if found is None:
                rows = self._event_query(session, sender_id,
                                         fetch_events_from_all_sessions=False).all()
                events = [json.loads(row.data) for row in rows]
            else:
                events, session_from = found
        if not (self.domain and events):
            return None
        if replayed and len(events) > EVENTS_KEPT:
            # no state row: replay the session once for the state, keep state + window
            replay = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
            window = events[-EVENTS_KEPT:]
            events = state_events(tracker_state(replay), window[0].get("timestamp")) + window
        # The state comes first in the tracker's own events, and nothing is cut off later:
        # Rasa copies trackers by replaying their events (DialogueStateTracker.copy), and a
        # copy of a tracker that had dropped its oldest events (a capped deque) lost every
        # slot set before them -- e.g. the language of a form's last answer.
        tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        setattr(tracker, STORED_UPTO, tracker.events[-1] if tracker.events else None)
        if not replayed:
            setattr(tracker, SESSION_FROM, session_from)  # the save needs not read the row
        return tracker

    def _state_table(self) -> bool:
        """Whether the migration that adds `tracker_state` ran on this database."""
        known = self._has_state_table
        if known is None:
            known = inspect(self.engine).has_table(TrackerState.__tablename__)
            if not known:
                logger.warning("Tracker store: no tracker_state table (run `python -m bot db "
                               "upgrade`); every turn replays the whole session.")
            self._has_state_table = known
        return bool(known)

    def _window(self, session: Any, sender_id: str
                ) -> tuple[list[dict[str, Any]], int] | None:
        """The state row as events, then the last EVENTS_KEPT events of the session, and
        the session's first row; None when there is no usable state row."""
        if not self._state_table():
            return None
        state = session.get(TrackerState, sender_id)
        if state is None:
            return None
        rows = (session.query(self.SQLEvent)
                .filter(self.SQLEvent.sender_id == sender_id,
                        self.SQLEvent.id >= state.session_from)
                .order_by(self.SQLEvent.id.desc()).limit(EVENTS_KEPT).all())
        if not rows or rows[0].id != state.event_id:
            return None  # events stored without updating the row: replay instead
        window = [json.loads(row.data) for row in reversed(rows)]
        return (state_events(json.loads(state.state), window[0].get("timestamp")) + window,
                int(state.session_from))

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
        await self._retrying(lambda: self._save(tracker))
        if tracker.events:
            setattr(tracker, STORED_UPTO, tracker.events[-1])
        if erase_requested(tracker):
            language = tracker.get_slot("language")
            self.erase(tracker.sender_id)
            erase_application_data(tracker.sender_id,
                                   language if isinstance(language, str) else None)

    async def _save(self, tracker: DialogueStateTracker) -> None:
        """Rasa's save (the new events, one row each), and the state row, in one
        transaction."""
        await self.stream_events(tracker)
        await asyncio.to_thread(self._store, tracker)  # off the event loop, as above

    def _store(self, tracker: DialogueStateTracker) -> None:
        with self.session_scope() as session:
            added = []
            for event in self._additional_events(session, tracker):
                data = event.as_dict()
                row = self.SQLEvent(
                    sender_id=tracker.sender_id, type_name=event.type_name,
                    timestamp=data.get("timestamp"),
                    intent_name=data.get("parse_data", {}).get("intent", {}).get(
                        INTENT_NAME_KEY),
                    action_name=data.get("name"), data=json.dumps(data))
                session.add(row)
                added.append((event, row))
            if added and self._state_table():
                session.flush()  # row ids
                self._record_state(session, tracker, added)
            session.commit()

    def _record_state(self, session: Any, tracker: DialogueStateTracker,
                      added: list[tuple[Any, Any]]) -> None:
        """Write the state row; one UPDATE when the tracker was read through its row."""
        starts = [row.id for event, row in added if isinstance(event, SessionStarted)]
        session_from = starts[-1] if starts else getattr(tracker, SESSION_FROM, None)
        if session_from is None:  # read by a full replay: the row may exist or not
            state = session.get(TrackerState, tracker.sender_id)
            session_from = state.session_from if state is not None \
                else self._session_start(session, tracker.sender_id)
        values = {"event_id": added[-1][1].id, "session_from": session_from,
                  "state": json.dumps(tracker_state(tracker))}
        written = session.execute(
            update(TrackerState).where(TrackerState.sender_id == tracker.sender_id)
            .values(**values).execution_options(synchronize_session=False)).rowcount
        if not written:
            session.add(TrackerState(sender_id=tracker.sender_id, **values))
        setattr(tracker, SESSION_FROM, session_from)

    def _session_start(self, session: Any, sender_id: str) -> int:
        """Where the current session began (first save of a conversation with this version)."""
        first = (session.query(self.SQLEvent.id)
                 .filter(self.SQLEvent.sender_id == sender_id,
                         self.SQLEvent.type_name == SessionStarted.type_name)
                 .order_by(self.SQLEvent.id.desc()).first())
        return int(first[0]) if first else 0

    def erase(self, sender_id: str) -> int:
        """Delete every stored event of one conversation; returns the number deleted."""
        with self.session_scope() as session:
            result = session.execute(
                delete(self.SQLEvent).where(self.SQLEvent.sender_id == sender_id)
            )
            if self._state_table():
                session.execute(delete(TrackerState).where(TrackerState.sender_id == sender_id))
            session.commit()
        # the sender id is a pseudonymous chat id, but we still keep it out of the logs
        logger.info("Erased a conversation on request (%d events).", result.rowcount)
        return int(result.rowcount or 0)

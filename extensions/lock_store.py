"""Rasa's lock store chosen by the environment: Redis when REDIS_URL is set (several Rasa
servers keep one conversation in order), in memory otherwise (one server)."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from typing import Any
from urllib.parse import unquote, urlsplit

from rasa.core.lock import TicketLock
from rasa.core.lock_store import (
    LOCK_LIFETIME,
    InMemoryLockStore,
    LockError,
    LockStore,
    RedisLockStore,
)
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)

MUTEX_TIMEOUT = 2.0  # seconds a crashed server can hold a conversation's mutex at most
POLL_SECONDS = 0.1  # how often a waiting turn looks whether it is its turn (Rasa: 1 s)


def redis_settings(url: str) -> dict[str, Any]:
    """RedisLockStore's arguments from `redis[s]://[user[:password]@]host[:port][/db]`."""
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss"):
        raise ValueError("REDIS_URL must start with redis:// or rediss://")
    path = parts.path.strip("/")
    return {
        "host": parts.hostname or "localhost",
        "port": parts.port or 6379,
        "db": int(path) if path else 0,
        "username": unquote(parts.username) if parts.username else None,
        "password": unquote(parts.password) if parts.password else None,
        "use_ssl": parts.scheme == "rediss",
    }


class AtomicRedisLockStore(RedisLockStore):
    """Rasa's Redis lock store, with each read-modify-write of a conversation's ticket lock
    done under a short Redis mutex. Rasa's own store reads, changes and writes the lock in
    separate commands, so two servers taking a ticket at the same moment can both get
    ticket 0 (and process one person's messages at once), and a finished ticket can be
    written back by another server and block the conversation until it expires."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # the lifetime each of this server's tickets was issued with (kept alive with it)
        self._lifetimes: dict[tuple[str, int], float] = {}

    def _mutex(self, conversation_id: str) -> Any:
        return self.red.lock(f"{self.key_prefix}{conversation_id}:mutex",
                             timeout=MUTEX_TIMEOUT, blocking_timeout=MUTEX_TIMEOUT)

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        try:
            with self._mutex(conversation_id):
                lock = self.get_or_create_lock(conversation_id)
                ticket = lock.issue_ticket(lock_lifetime)
                self.save_lock(lock)
                self._lifetimes[(conversation_id, ticket)] = lock_lifetime
                return ticket
        except Exception as error:
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    async def _acquire_lock(self, conversation_id: str, ticket: int,
                            wait_time_in_seconds: float) -> TicketLock:
        """Rasa's wait for the conversation's turn, except that the waiting ticket is kept
        alive. Rasa lets a waiting ticket expire like a dead server's: a turn that waited
        behind a dead server's ticket about as long as the lifetime lost its own ticket too
        and then waited for ever (it can never be served), and the person got no answer."""
        while True:
            lock = self.get_lock(conversation_id)
            if not lock:
                break
            if not lock.is_locked(ticket):
                return lock
            await asyncio.sleep(min(wait_time_in_seconds, POLL_SECONDS))
            self._keep_alive_and_update(conversation_id, ticket)
        raise LockError(f"Could not acquire lock for conversation_id '{conversation_id}'.")

    def _keep_alive_and_update(self, conversation_id: str, ticket: int) -> None:
        """Push this server's waiting ticket's expiry forward, drop expired tickets."""
        lifetime = self._lifetimes.get((conversation_id, ticket), LOCK_LIFETIME)
        with self._mutex(conversation_id):
            lock: TicketLock | None = self.get_lock(conversation_id)
            if lock is None:
                return
            for waiting in lock.tickets:
                if waiting.number == ticket and not waiting.has_expired():
                    waiting.expires = max(waiting.expires, time.time() + lifetime)
            lock.remove_expired_tickets()
            self.save_lock(lock)

    def update_lock(self, conversation_id: str) -> None:
        with self._mutex(conversation_id):
            super().update_lock(conversation_id)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        with self._mutex(conversation_id):
            super().finish_serving(conversation_id, ticket_number)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        # one critical section: nobody may take a ticket between "no one waits" and delete
        self._lifetimes.pop((conversation_id, ticket_number), None)
        with self._mutex(conversation_id):
            lock: TicketLock | None = self.get_lock(conversation_id)
            if lock is None:
                return
            lock.remove_ticket_for(ticket_number)
            if lock.is_someone_waiting():
                self.save_lock(lock)
            else:
                self.delete_lock(conversation_id)


class EnvLockStore(LockStore):
    """`lock_store: type: extensions.lock_store.EnvLockStore` in endpoints.yml.

    Rasa creates custom lock stores as `cls(endpoint_config=…)`; this returns an
    `AtomicRedisLockStore` for the endpoint's `url` or else REDIS_URL, and an
    `InMemoryLockStore` when neither is set. Extra endpoint keys (key_prefix,
    socket_timeout) go to the Redis store."""

    def __new__(cls, endpoint_config: EndpointConfig | None = None,  # type: ignore[misc]
                **kwargs: Any) -> LockStore:
        url = (endpoint_config.url if endpoint_config else None) or os.environ.get(
            "REDIS_URL", "")
        if not url.strip():
            logger.info("Lock store: in memory (REDIS_URL not set; one Rasa server only).")
            return InMemoryLockStore()
        options = dict(endpoint_config.kwargs) if endpoint_config else {}
        options.update(kwargs)
        settings = redis_settings(url.strip())
        logger.info("Lock store: Redis at %s:%s, db %s.", settings["host"], settings["port"],
                    settings["db"])
        return AtomicRedisLockStore(**settings, **options)

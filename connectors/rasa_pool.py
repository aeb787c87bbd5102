"""Several Rasa servers behind one client: each person goes to one server chosen by
rendezvous hashing (stable while it is healthy, so one person's turns stay in order on one
server), and to the next server in that person's order when it cannot be reached or fails
(5xx); a failed server is skipped for a short back-off. Same interface as RasaAssistant."""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Callable, Sequence
from typing import Any

import httpx

from connectors.assistant import RasaAssistant, Reply

logger = logging.getLogger(__name__)

BACKOFF_SECONDS = 5.0


def failover_timeout(timeout: float) -> float:
    """A turn moved off a server that died mid-turn waits on the next server until the dead
    server's ticket in Redis expires (TICKET_LOCK_LIFETIME, Rasa's default 60 s; tools/run.py
    sets 20 s), so the move gets that much longer than an ordinary turn."""
    try:
        lifetime = float(os.environ.get("TICKET_LOCK_LIFETIME", "60"))
    except ValueError:
        lifetime = 60.0
    return timeout + lifetime


class NoRasaAvailable(httpx.HTTPError):
    """Every Rasa server failed for this message (the person gets the error answer); an
    httpx.HTTPError, so callers handle it like a failure of a single server."""


def _score(url: str, sender: str) -> int:
    digest = hashlib.blake2b(f"{url}\x00{sender}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def rendezvous_order(urls: Sequence[str], sender: str) -> list[str]:
    """The servers in the order this sender tries them (highest random weight first).
    Removing one server only moves the senders that were on it."""
    return sorted(urls, key=lambda url: _score(url, sender), reverse=True)


def _fails_over(error: Exception) -> bool:
    """A server that is down (nothing was delivered, or it died mid-turn) or broken (5xx).
    Not a 4xx, which another server would answer the same way, and not a turn that is only
    slow: that server may still finish and store it, and moving it would store it twice."""
    if isinstance(error, httpx.HTTPStatusError):
        return error.response.status_code >= 500
    if isinstance(error, (httpx.ReadTimeout, httpx.WriteTimeout)):
        return False
    # connect errors and timeouts, no free connection, a server that died mid-request
    return isinstance(error, httpx.TransportError)


def _may_have_arrived(error: Exception) -> bool:
    """The request reached the server, which then died (not: it never connected)."""
    return isinstance(error, (httpx.ReadError, httpx.RemoteProtocolError, httpx.WriteError))


class RasaPool:
    """Async client of N Rasa servers sharing one tracker store and one Redis lock store."""

    def __init__(self, urls: Sequence[str], api_token: str | None = None,
                 timeout: float = 30.0, backoff: float = BACKOFF_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        cleaned = [url.rstrip("/") for url in urls if url.strip()]
        if not cleaned:
            raise ValueError("RasaPool needs at least one Rasa URL")
        if len(set(cleaned)) != len(cleaned):
            raise ValueError("RasaPool: a Rasa URL is listed twice")
        self.urls = cleaned
        self._clients = {url: RasaAssistant(url, api_token, timeout) for url in cleaned}
        self.failover_timeout = failover_timeout(timeout)
        self._down_until: dict[str, float] = {}
        self._backoff = backoff
        self._clock = clock
        self.failovers = 0  # messages that were answered by a server other than the first

    @classmethod
    def from_setting(cls, value: str, api_token: str | None = None,
                     timeout: float = 30.0) -> RasaPool:
        """From RASA_INSTANCES: URLs separated by commas or spaces."""
        return cls(value.replace(",", " ").split(), api_token, timeout)

    def order(self, sender: str) -> list[str]:
        """Healthy servers first, each group in the sender's rendezvous order."""
        now = self._clock()
        ranked = rendezvous_order(self.urls, sender)
        return ([u for u in ranked if self._down_until.get(u, 0) <= now]
                + [u for u in ranked if self._down_until.get(u, 0) > now])

    def instance_for(self, sender: str) -> str:
        """The server the sender's next message goes to."""
        return self.order(sender)[0]

    def is_down(self, url: str) -> bool:
        return self._down_until.get(url.rstrip("/"), 0) > self._clock()

    def _mark_down(self, url: str, error: Exception) -> None:
        self._down_until[url] = self._clock() + self._backoff
        # the URL is infrastructure, never the person: no sender id or text in the log
        logger.warning("Rasa server %s failed (%s); skipped for %.0f s.", url,
                       type(error).__name__, self._backoff)

    async def respond(self, sender: str, text: str, metadata: dict[str, Any]) -> list[Reply]:
        last: Exception | None = None
        message_id = metadata.get("message_id")
        for attempt, url in enumerate(self.order(sender)):
            if message_id is not None and last is not None and _may_have_arrived(last):
                # the previous server may have stored this turn before it died: then the
                # stored answer is the answer, and running the turn again would store the
                # person's message twice
                stored = await self._clients[url].stored_turn(sender, str(message_id), text)
                if stored is not None:
                    self.failovers += 1
                    return stored
            try:
                replies = await self._clients[url].respond(
                    sender, text, metadata, timeout=self.failover_timeout if attempt else None)
            except httpx.HTTPError as error:
                if not _fails_over(error):
                    raise
                self._mark_down(url, error)
                last = error
                continue
            self._down_until.pop(url, None)
            if attempt:
                self.failovers += 1
            return replies
        raise NoRasaAvailable(f"none of {len(self.urls)} Rasa servers answered") from last

    async def language(self, sender: str) -> str | None:
        """The conversation's language from the sender's current server (None if unknown)."""
        return await self._clients[self.instance_for(sender)].language(sender)

    async def close(self) -> None:
        for client in self._clients.values():
            await client.close()

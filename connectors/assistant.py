"""Talking to the Rasa server: the REST channel for messages, the HTTP API for the
conversation language (loopback only, with a token)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import httpx

from bot.settings import TOKEN_HEADER

# seconds for one turn of the assistant: a burst (or one server of several gone) can make
# turns slow for a while; a person who waits with "typing…" is better off than one whose
# message is dropped with "please write again"
TIMEOUT = 25.0


@dataclass(frozen=True)
class Reply:
    """One message of the assistant, with its buttons."""

    text: str
    buttons: tuple[tuple[str, str], ...] = ()  # (title, payload)


class RasaAssistant:
    """Async client of one Rasa server."""

    def __init__(self, base_url: str, api_token: str | None = None,
                 timeout: float = TIMEOUT) -> None:
        self._base = base_url.rstrip("/")
        self._token = api_token
        rest_token = os.environ.get("RASA_REST_TOKEN")  # checked by extensions/rest_channel.py
        headers = {TOKEN_HEADER: rest_token} if rest_token else None
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(timeout, connect=3.0),
                                         headers=headers)

    async def respond(self, sender: str, text: str, metadata: dict[str, Any],
                      timeout: float | None = None) -> list[Reply]:
        """The assistant's replies; raises httpx.HTTPError when it is down, slow or fails
        (`timeout` overrides the client's for this turn)."""
        response = await self._client.post(
            f"{self._base}/webhooks/rest/webhook",
            json={"sender": sender, "message": text, "metadata": metadata},
            timeout=httpx.Timeout(timeout, connect=3.0) if timeout else httpx.USE_CLIENT_DEFAULT)
        response.raise_for_status()
        return [reply for item in response.json() or []
                if (reply := _reply(item.get("text"), item.get("buttons"))) is not None]

    async def _tracker(self, sender: str, include_events: str) -> dict[str, Any] | None:
        """The conversation from Rasa's HTTP API; None when the API is off or fails."""
        if not self._token:
            return None
        try:
            response = await self._client.get(
                f"{self._base}/conversations/{sender}/tracker",
                params={"include_events": include_events, "token": self._token})
            response.raise_for_status()
            tracker = response.json()
        except (httpx.HTTPError, ValueError):
            return None
        return tracker if isinstance(tracker, dict) else None

    async def language(self, sender: str) -> str | None:
        """The conversation's `language` slot, None when unknown or the API is off."""
        tracker = await self._tracker(sender, "NONE")
        return (tracker.get("slots") or {}).get("language") if tracker else None

    async def stored_turn(self, sender: str, message_id: str, text: str) -> list[Reply] | None:
        """The replies stored for the person's message `message_id` (its `message_id`
        metadata), or None when that message was not stored (or the API is off): a server
        that died after storing a turn but before answering is not asked to run it again."""
        tracker = await self._tracker(sender, "AFTER_RESTART")
        events = (tracker or {}).get("events") or []
        for i in range(len(events) - 1, -1, -1):
            event = events[i]
            if event.get("event") == "user" and event.get("text") == text \
                    and str((event.get("metadata") or {}).get("message_id")) == message_id:
                return _replies_after(events[i + 1:])
        return None

    async def close(self) -> None:
        await self._client.aclose()


def _reply(text: str | None, buttons: list[dict[str, Any]] | None) -> Reply | None:
    """A reply of Rasa's (REST answer or stored bot event); None when it has nothing."""
    pairs = tuple((str(b.get("title", "")), str(b.get("payload", ""))) for b in buttons or [])
    return Reply(text or "", pairs) if text or pairs else None


def _replies_after(events: list[dict[str, Any]]) -> list[Reply]:
    """The bot's replies of one stored turn: its bot events up to the next user message."""
    replies = []
    for event in events:
        if event.get("event") == "user":
            break
        if event.get("event") == "bot":
            reply = _reply(event.get("text"), (event.get("data") or {}).get("buttons"))
            if reply is not None:
                replies.append(reply)
    return replies

"""Telegram's pace inside PTB's rate limiter: about one message per second per chat and 30
per second overall, retrying on flood-wait. Waiting for chat A never delays chat B, and
every call is paced, also edits and deletions made by the outbox. With REDIS_URL the pace is
shared by every gateway process (connectors/telegram/shared.py)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from connectors.telegram.shared import SharedState

CHAT_INTERVAL = 1.0  # seconds between two calls to the same chat
OVERALL_RATE = 30  # calls per second, all chats together
# calls that show something in a chat; typing and button answers are not held back
PACED = frozenset({"sendMessage", "editMessageText", "editMessageReplyMarkup",
                   "deleteMessage", "sendPhoto", "sendDocument"})


class ChatTurns:
    """Per chat, the earliest time of the next call; each chat has its own lock."""

    def __init__(self, interval: float = CHAT_INTERVAL) -> None:
        self.interval = interval
        self._next: dict[Any, float] = {}
        self._locks: dict[Any, asyncio.Lock] = {}

    async def wait(self, chat: Any) -> None:
        lock = self._locks.setdefault(chat, asyncio.Lock())
        async with lock:
            loop = asyncio.get_running_loop()
            delay = self._next.get(chat, 0.0) - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            self._next[chat] = loop.time() + self.interval
            if len(self._next) > 10_000:  # forget idle chats
                now = loop.time()
                for idle in [c for c, t in self._next.items() if t < now]:
                    self._next.pop(idle, None)
                    if idle != chat:
                        self._locks.pop(idle, None)

    def due_at(self, chat: Any) -> float:
        return self._next.get(chat, 0.0)


class PacedRateLimiter(BaseRateLimiter[int]):
    """Per-chat turns, an overall limit, and retries after RetryAfter."""

    def __init__(self, chat_interval: float = CHAT_INTERVAL, overall_rate: int = OVERALL_RATE,
                 max_retries: int = 3, shared: SharedState | None = None) -> None:
        self.turns = ChatTurns(chat_interval)
        self._overall = AsyncLimiter(overall_rate, 1)
        self._overall_rate = overall_rate
        self._max_retries = max_retries
        self.shared = shared

    async def _shared_wait(self, key: str, interval: float, burst: int) -> bool:
        """Wait for this call's slot booked in Redis; False when there is no shared state
        (or Redis is unavailable) and the local pace applies."""
        if self.shared is None:
            return False
        wait = await self.shared.reserve(key, interval, burst)
        if wait is None:
            return False
        if wait > 0:
            await asyncio.sleep(wait)
        return True

    async def wait_chat(self, chat: str) -> None:
        if not await self._shared_wait("chat:" + chat, self.turns.interval, 1):
            await self.turns.wait(chat)

    async def wait_overall(self) -> None:
        if not await self._shared_wait("all", 1 / self._overall_rate, self._overall_rate):
            await self._overall.acquire()

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        chat = data.get("chat_id") if endpoint in PACED else None
        attempt = 0
        while True:
            if chat is not None:
                await self.wait_chat(str(chat))
            if endpoint != "getUpdates":
                await self.wait_overall()
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                if attempt >= self._max_retries:
                    raise
                attempt += 1
                delay = error.retry_after
                seconds = delay if isinstance(delay, (int, float)) else delay.total_seconds()
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.sleep(float(seconds) + 0.1)

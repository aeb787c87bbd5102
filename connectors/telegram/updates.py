"""How updates come in: chats in parallel, one chat strictly in order
(docs/decisions/0006-gateway-concurrency.md), and an update that cannot be parsed is logged
once by its update_id and skipped, so polling goes on."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor, ExtBot

from connectors.telegram.shared import SharedState

logger = logging.getLogger(__name__)


def update_key(update: object) -> int:
    """The chat (else the user) an update belongs to; 0 for anything else."""
    if isinstance(update, Update):
        if update.effective_chat is not None:
            return update.effective_chat.id
        if update.effective_user is not None:
            return update.effective_user.id
    return 0


class PerChatUpdates(BaseUpdateProcessor):
    """Concurrent across chats, in order within a chat (Rasa also serialises per sender).
    With shared state (several gateways) a chat is also held in Redis while one of its
    updates is handled, so two gateways never handle one chat at once."""

    def __init__(self, limit: int = 64, shared: SharedState | None = None) -> None:
        super().__init__(limit)
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}
        self.shared = shared

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = update_key(update)
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                if self.shared is None or key == 0:
                    await coroutine
                else:
                    async with self.shared.chat_turn(key):
                        await coroutine
        finally:
            self._users[key] -= 1
            if not self._users[key]:  # nobody waits: forget the chat's lock
                self._users.pop(key, None)
                self._locks.pop(key, None)

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None


class TolerantBot(ExtBot):
    """The PTB bot, except that an update it cannot parse is replaced by an empty update
    with the same id: logged once (id only, never content) and skipped, so the polling
    offset advances instead of fetching the same update for ever."""

    async def _post(self, endpoint: str, data: Any = None, *args: Any, **kwargs: Any) -> Any:
        result = await super()._post(endpoint, data, *args, **kwargs)
        if endpoint != "getUpdates" or not isinstance(result, list):
            return result
        clean = []
        for raw in result:
            try:
                Update.de_json(raw, self)
                clean.append(raw)
            except Exception as error:  # any parse failure; content stays out of logs
                update_id = raw.get("update_id") if isinstance(raw, dict) else None
                if not isinstance(update_id, int):
                    continue
                logger.warning("Skipped update %d that could not be read (%s)", update_id,
                               type(error).__name__)
                clean.append({"update_id": update_id})
        return clean

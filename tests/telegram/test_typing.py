"""The typing indicator: shown while the assistant takes its time, refreshed while it
thinks, and not sent at all for a reply that comes at once (one Bot API call less per
message). Against a stand-in assistant with a chosen delay."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest

from connectors.assistant import Reply
from tests.telegram.conftest import start_gateway, stop_gateway

_chats = itertools.count(7_300_000)


class TimedAssistant:
    """Answers every message after `delay` seconds."""

    def __init__(self, delay: float) -> None:
        self.delay = delay

    async def respond(self, sender: str, text: str, metadata: dict[str, Any]) -> list[Reply]:
        await asyncio.sleep(self.delay)
        return [Reply("answer")]

    async def language(self, sender: str) -> str | None:
        return None

    async def close(self) -> None:
        return None


@pytest.mark.parametrize("delay,typing", [(0.0, False), (2.5, True)])
async def test_typing_shows_only_while_the_assistant_takes_its_time(stub, delay: float,
                                                                    typing: bool) -> None:
    app = await start_gateway(stub, ("http://127.0.0.1:9", "t"), TimedAssistant(delay))
    try:
        chat = next(_chats)
        stub.say(chat, "Wie lange dauert die Anerkennung?", language_code="de")
        await stub.wait_for(lambda: stub.to(chat), timeout=15)
        await asyncio.sleep(0.3)
    finally:
        await stop_gateway(app)
    shown = [c for m, c in stub.calls if m == "sendChatAction" and c["chat_id"] == chat]
    assert bool(shown) is typing
    if typing:  # the indicator came before the answer
        order = [m for m, c in stub.calls if c.get("chat_id") == chat
                 and m in ("sendChatAction", "sendMessage")]
        assert order[0] == "sendChatAction" and order[-1] == "sendMessage"

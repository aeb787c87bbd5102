"""Several gateway processes on one Redis (connectors/telegram/shared.py): one chat's pace and
Telegram's overall limit hold across gateways, one chat is handled by one gateway at a time,
one gateway leads the background work, and without Redis each goes on with local state."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator

import pytest
from telegram import Update

from connectors.telegram.ratelimit import PacedRateLimiter
from connectors.telegram.shared import SharedState
from connectors.telegram.updates import PerChatUpdates
from tests.backends import free_port

_chats = itertools.count(int(time.time()) % 100_000 * 1000)


@pytest.fixture
async def two(redis_url: str) -> AsyncIterator[tuple[SharedState, SharedState]]:
    """Two gateways' connections to the same Redis."""
    a, b = SharedState(redis_url), SharedState(redis_url)
    yield a, b
    await a.close()
    await b.close()


def limiter(shared: SharedState | None, *, chat_interval: float = 0.3,
            overall_rate: int = 30) -> PacedRateLimiter:
    return PacedRateLimiter(chat_interval=chat_interval, overall_rate=overall_rate,
                            shared=shared)


async def send_through(rate_limiter: PacedRateLimiter, chat: int, times: list[float]) -> None:
    async def call() -> bool:
        times.append(time.monotonic())
        return True

    await rate_limiter.process_request(call, (), {}, "sendMessage", {"chat_id": chat}, None)


async def test_one_chats_pace_holds_across_gateways(two) -> None:  # type: ignore[no-untyped-def]
    a, b = (limiter(s) for s in two)
    chat, other = next(_chats), next(_chats)
    times: list[float] = []
    other_times: list[float] = []
    started = time.monotonic()
    await asyncio.gather(*(send_through(g, chat, times) for g in (a, b, a, b)),
                         send_through(b, other, other_times))
    times.sort()
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert len(times) == 4 and min(gaps) >= 0.25, gaps  # 0.3 s apart, whoever sends
    assert other_times[0] - started < 0.25  # another chat is not held back by this one


async def test_the_overall_limit_holds_across_gateways(two) -> None:  # type: ignore[no-untyped-def]
    a, b = (limiter(s, chat_interval=0.0, overall_rate=20) for s in two)
    times: list[float] = []
    chats = [next(_chats) for _ in range(40)]
    await asyncio.gather(*(send_through(a if i % 2 else b, chat, times)
                           for i, chat in enumerate(chats)))
    times.sort()
    # 20 at once, the next 20 spread over one second: together, not 20 per gateway
    assert times[-1] - times[0] >= 0.8
    assert sum(1 for t in times if t - times[0] < 0.3) <= 26


async def test_one_chat_is_handled_by_one_gateway_at_a_time(two) -> None:  # type: ignore[no-untyped-def]
    chat = next(_chats)
    gateways = [PerChatUpdates(shared=s) for s in two]
    busy: list[int] = []
    overlaps: list[int] = []
    handled: list[int] = []

    async def handle(n: int) -> None:
        busy.append(n)
        if len(busy) > 1:
            overlaps.append(n)
        await asyncio.sleep(0.05)
        busy.remove(n)
        handled.append(n)

    def update(n: int) -> Update:
        return Update.de_json({"update_id": n, "message": {
            "message_id": n, "date": 0, "chat": {"id": chat, "type": "private"},
            "text": "x"}}, None)

    await asyncio.gather(*(gateways[n % 2].do_process_update(update(n), handle(n))
                           for n in range(6)))
    assert sorted(handled) == list(range(6)) and overlaps == []


async def test_one_gateway_leads_the_background_work(two) -> None:  # type: ignore[no-untyped-def]
    a, b = two
    name = f"test-{next(_chats)}"
    assert await a.lead(name, 0.5) is True
    assert await b.lead(name, 0.5) is False
    assert await a.lead(name, 0.5) is True  # renewed by its holder
    await asyncio.sleep(0.7)  # the lead dies with its gateway: another takes over
    assert await b.lead(name, 0.5) is True
    assert await a.lead(name, 0.5) is False


async def test_without_redis_a_gateway_goes_on_with_local_state() -> None:
    shared = SharedState(f"redis://127.0.0.1:{free_port()}/0", socket_timeout=0.5)
    try:
        rate_limiter = limiter(shared)
        chat = next(_chats)
        times: list[float] = []
        await asyncio.gather(*(send_through(rate_limiter, chat, times) for _ in range(2)))
        assert len(times) == 2 and max(times) - min(times) >= 0.25  # paced locally
        handled: list[int] = []

        async def handle() -> None:
            handled.append(1)

        update = Update.de_json({"update_id": 1, "message": {
            "message_id": 1, "date": 0, "chat": {"id": chat, "type": "private"}, "text": "x"}},
            None)
        await PerChatUpdates(shared=shared).do_process_update(update, handle())
        assert handled == [1]
        assert await shared.lead("background", 1.0) is True
        assert shared.errors >= 1
    finally:
        await shared.close()

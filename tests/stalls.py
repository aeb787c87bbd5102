"""Running an operation while another process holds SQLite's write lock, and measuring how
long the event loop stood still meanwhile (the tests of "never block the loop")."""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
from collections.abc import Awaitable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


async def while_locked(database: Path | str, operation: Awaitable[T],
                       release_after: float = 1.0) -> tuple[T, float]:
    """Hold the write lock of `database` for `release_after` seconds (from a coroutine of
    this loop, so a blocked loop never releases it), run `operation`; returns its result and
    the longest gap between the ticks of a 50 ms heartbeat on the same loop."""
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    ticks: list[float] = []

    async def heartbeat() -> None:
        loop = asyncio.get_running_loop()
        while True:
            ticks.append(loop.time())
            await asyncio.sleep(0.05)

    async def release_later() -> None:
        await asyncio.sleep(release_after)
        holder.execute("ROLLBACK")

    running = [asyncio.create_task(heartbeat()), asyncio.create_task(release_later())]
    try:
        result = await asyncio.wait_for(operation, timeout=15)
    finally:
        for task in running:
            task.cancel()
        holder.close()
    assert len(ticks) >= 10, ticks
    return result, max(b - a for a, b in itertools.pairwise(ticks))

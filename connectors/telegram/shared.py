"""What several gateway processes share through Redis (REDIS_URL): Telegram's pace per chat
and overall, one chat's updates at a time, and one background pass at a time. Without
Redis each process keeps these in memory (one gateway). When Redis cannot be reached the
gateway goes on with its own, local state and says so in the log (counts only): a person
is answered rather than held back by a shared helper."""

from __future__ import annotations

import contextlib
import logging
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any

from redis import asyncio as aioredis
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

PREFIX = "bruecke:gw:"
CHAT_LOCK_LEASE = 60.0  # seconds a crashed gateway can hold a chat at most
CHAT_LOCK_WAIT = 90.0  # longer than a turn plus its paced replies can take
RETRY_AFTER_ERROR = 10.0  # seconds of local state after Redis failed, before trying again

# Generic cell rate algorithm as a reservation, on Redis' own clock (one clock for every
# host): returns the milliseconds the caller must wait before its call, and books its slot.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local wait = tat - tolerance - now
if wait < 0 then wait = 0 end
redis.call('SET', KEYS[1], tat + interval, 'PX', math.floor(tat + interval - now + 1000))
return wait
"""


class SharedState:
    """A Redis client for the gateway's shared state; `healthy` is False for a while after
    a Redis error, and callers then use their local state."""

    def __init__(self, url: str, *, owner: str | None = None,
                 socket_timeout: float = 2.0) -> None:
        self.client: Any = aioredis.from_url(url, socket_timeout=socket_timeout,
                                             socket_connect_timeout=socket_timeout)
        self.owner = owner or secrets.token_hex(8)  # this process, in lock values
        self._reserve = self.client.register_script(_RESERVE)
        self._down_until = 0.0
        self.errors = 0

    @property
    def healthy(self) -> bool:
        return time.monotonic() >= self._down_until

    def _failed(self, what: str, error: Exception) -> None:
        self.errors += 1
        if self.healthy:
            logger.warning("Redis unavailable for %s (%s); using local state for %.0f s",
                           what, type(error).__name__, RETRY_AFTER_ERROR)
        self._down_until = time.monotonic() + RETRY_AFTER_ERROR

    async def reserve(self, key: str, interval: float, burst: int = 1) -> float | None:
        """Seconds to wait before the next call under `key` (at most one per `interval`,
        `burst` at once); None when Redis is unavailable."""
        if not self.healthy:
            return None
        try:
            interval_ms = max(1, round(interval * 1000))
            wait = await self._reserve(keys=[PREFIX + "pace:" + key],
                                       args=[interval_ms, interval_ms * (burst - 1)])
            return float(wait) / 1000.0
        except (RedisError, OSError) as error:
            self._failed("pacing", error)
            return None

    @contextlib.asynccontextmanager
    async def chat_turn(self, chat: int) -> AsyncIterator[bool]:
        """Hold the chat across gateways while one update of it is handled; yields False
        (and handles it anyway) when Redis is unavailable or the wait was too long."""
        lock = None
        if self.healthy:
            lock = self.client.lock(f"{PREFIX}chat:{chat}", timeout=CHAT_LOCK_LEASE,
                                    blocking_timeout=CHAT_LOCK_WAIT, sleep=0.02)
            try:
                if not await lock.acquire():
                    logger.warning("A chat stayed busy for %.0f s on another gateway",
                                   CHAT_LOCK_WAIT)
                    lock = None
            except (RedisError, OSError) as error:
                self._failed("chat order", error)
                lock = None
        try:
            yield lock is not None
        finally:
            if lock is not None:
                with contextlib.suppress(RedisError, OSError):
                    await lock.release()

    async def lead(self, name: str, lease: float) -> bool:
        """Take (or keep) the lead for `name` for `lease` seconds; False when another
        gateway has it. Without Redis every gateway leads (the work is idempotent)."""
        if not self.healthy:
            return True
        key = f"{PREFIX}lead:{name}"
        try:
            if await self.client.set(key, self.owner, nx=True, px=round(lease * 1000)):
                return True
            holder = await self.client.get(key)
            if holder is not None and holder.decode() == self.owner:
                await self.client.pexpire(key, round(lease * 1000))
                return True
            return False
        except (RedisError, OSError) as error:
            self._failed("the background lead", error)
            return True

    async def close(self) -> None:
        with contextlib.suppress(RedisError, OSError):
            await self.client.close()

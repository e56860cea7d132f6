"""Token buckets per org and failure windows per client IP, in process or in Redis.

A bucket holds at most `burst` tokens and refills at `limit / 60` tokens a second; a
request takes `cost` tokens. The Redis store runs each decision as one Lua script, using
the Redis server's clock, so every worker and host shares one bucket.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis

PLAN_LIMITS: dict[str, tuple[int, int]] = {
    "starter": (100, 150),
    "growth": (500, 750),
    "pro": (2000, 3000),
}
PLANS = ("starter", "growth", "pro", "enterprise")


def plan_limits(plan: str, rate_limit: int | None, burst: int | None) -> tuple[int, int]:
    """(per-minute limit, burst) for an org; enterprise orgs carry their own numbers."""
    if plan == "enterprise" and rate_limit:
        return rate_limit, burst or rate_limit
    return PLAN_LIMITS.get(plan, PLAN_LIMITS["starter"])


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    retry_after: int


@dataclass(frozen=True)
class WindowState:
    count: int
    retry_after: int


def refill(tokens: float, elapsed: float, capacity: float, rate: float) -> float:
    """Tokens after `elapsed` seconds of refill at `rate`, never above `capacity`."""
    return min(capacity, tokens + max(0.0, elapsed) * rate)


def decide(tokens: float, cost: float, rate: float) -> tuple[bool, float, int]:
    """(allowed, tokens left, whole seconds until `cost` tokens are there)."""
    if tokens >= cost:
        return True, tokens - cost, 0
    return False, tokens, max(1, math.ceil((cost - tokens) / rate))


class RateLimitStore(Protocol):
    async def take(self, key: str, limit: int, burst: int, cost: int = 1) -> Decision: ...
    async def window_count(self, key: str) -> WindowState: ...
    async def window_hit(self, key: str, window_seconds: int) -> WindowState: ...
    async def window_release(self, key: str) -> None: ...
    async def close(self) -> None: ...


class MemoryStore:
    """In-process store for a single worker (the embedded default)."""

    def __init__(self) -> None:
        self._buckets: dict[str, tuple[float, float]] = {}
        self._windows: dict[str, tuple[int, float]] = {}

    @staticmethod
    def _now() -> float:
        return time.monotonic()

    async def take(self, key: str, limit: int, burst: int, cost: int = 1) -> Decision:
        rate = limit / 60.0
        now = self._now()
        tokens, stamp = self._buckets.get(key, (float(burst), now))
        tokens = refill(tokens, now - stamp, burst, rate)
        allowed, tokens, retry = decide(tokens, cost, rate)
        self._buckets[key] = (tokens, now)
        if len(self._buckets) > 100_000:
            self._evict_idle(now)
        return Decision(allowed, limit, int(tokens), retry)

    def _evict_idle(self, now: float) -> None:
        # An hour idle refills any plan's bucket, so forgetting it changes no decision.
        for k in [k for k, (_, t) in self._buckets.items() if now - t > 3600]:
            del self._buckets[k]

    async def window_count(self, key: str) -> WindowState:
        count, until = self._windows.get(key, (0, 0.0))
        now = self._now()
        if until <= now:
            return WindowState(0, 0)
        return WindowState(count, max(1, math.ceil(until - now)))

    async def window_hit(self, key: str, window_seconds: int) -> WindowState:
        now = self._now()
        count, until = self._windows.get(key, (0, 0.0))
        if until <= now:
            count, until = 0, now + window_seconds
        count += 1
        self._windows[key] = (count, until)
        return WindowState(count, max(1, math.ceil(until - now)))

    async def window_release(self, key: str) -> None:
        count, until = self._windows.get(key, (0, 0.0))
        if count <= 1:
            self._windows.pop(key, None)
        else:
            self._windows[key] = (count - 1, until)

    async def close(self) -> None:
        return None


_TAKE_LUA = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = capacity
  ts = now
end
local elapsed = now - ts
if elapsed < 0 then elapsed = 0 end
tokens = math.min(capacity, tokens + elapsed * rate)
local allowed = 0
local retry = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
else
  retry = math.ceil((cost - tokens) / rate)
  if retry < 1 then retry = 1 end
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate * 1000) + 1000)
return {allowed, math.floor(tokens), retry}
"""

_WINDOW_HIT_LUA = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then
  redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1]))
end
local ttl = redis.call('TTL', KEYS[1])
return {count, ttl}
"""


_WINDOW_RELEASE_LUA = """
local count = redis.call('DECR', KEYS[1])
if count <= 0 then
  redis.call('DEL', KEYS[1])
end
return count
"""


class RedisStore:
    """Shared store: every worker and host sees the same buckets."""

    def __init__(self, redis: Redis, prefix: str = "elevatedpos:rl:") -> None:
        self.redis = redis
        self.prefix = prefix
        self._take = redis.register_script(_TAKE_LUA)
        self._hit = redis.register_script(_WINDOW_HIT_LUA)
        self._release = redis.register_script(_WINDOW_RELEASE_LUA)

    async def take(self, key: str, limit: int, burst: int, cost: int = 1) -> Decision:
        allowed, remaining, retry = await self._take(
            keys=[self.prefix + key], args=[burst, limit / 60.0, cost]
        )
        return Decision(bool(allowed), limit, int(remaining), int(retry))

    async def window_count(self, key: str) -> WindowState:
        pipe = self.redis.pipeline(transaction=False)
        pipe.get(self.prefix + key)
        pipe.ttl(self.prefix + key)
        count, ttl = await pipe.execute()
        if count is None or ttl is None or int(ttl) <= 0:
            return WindowState(0, 0)
        return WindowState(int(count), int(ttl))

    async def window_hit(self, key: str, window_seconds: int) -> WindowState:
        count, ttl = await self._hit(keys=[self.prefix + key], args=[window_seconds])
        return WindowState(int(count), max(1, int(ttl)))

    async def window_release(self, key: str) -> None:
        await self._release(keys=[self.prefix + key])

    async def close(self) -> None:
        return None

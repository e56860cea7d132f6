"""Token buckets per org and failure windows per client IP, in process or in Redis.

A bucket holds at most `burst` tokens and refills at `limit / 60` tokens a second; a
request takes `cost` tokens. The Redis store runs each decision as one Lua script, using
the Redis server's clock, so every worker and host shares one bucket.

Leases: while an org's bucket is more than half full, a worker takes a small block of
tokens out of it in the same script (`LEASE_SECONDS` of the org's refill, at least
`MIN_LEASE` tokens) and spends them on that org's next requests without asking Redis
again. Every token a request spends was taken from the shared bucket atomically, so no
worker ever lets through more than the bucket holds; a lease ends after `LEASE_SECONDS`
and its unspent tokens go back to the bucket with the worker's next take. Small plans
(under `MIN_LEASE` tokens per lease) and nearly empty buckets are charged one request at
a time.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from redis.asyncio import Redis

log = logging.getLogger("elevatedpos.ratelimit")

PLAN_LIMITS: dict[str, tuple[int, int]] = {
    "starter": (100, 150),
    "growth": (500, 750),
    "pro": (2000, 3000),
}
PLANS = ("starter", "growth", "pro", "enterprise")
LEASE_SECONDS = 0.05
MIN_LEASE = 8


def plan_limits(plan: str, rate_limit: int | None, burst: int | None) -> tuple[int, int]:
    """(per-minute limit, burst) for an org; enterprise orgs carry their own numbers."""
    if plan == "enterprise" and rate_limit:
        return rate_limit, burst or rate_limit
    return PLAN_LIMITS.get(plan, PLAN_LIMITS["starter"])


def share_of(limit: int, burst: int, percent: int) -> tuple[int, int]:
    """A partner app's own (limit, burst): `percent` of its org's, at least 1 each."""
    return max(limit * percent // 100, 1), max(burst * percent // 100, 1)


class Decision(NamedTuple):  # made on every request: a tuple is the cheapest record
    allowed: bool
    limit: int
    remaining: int
    retry_after: int


@dataclass(frozen=True)
class WindowState:
    count: int
    retry_after: int


GO, WAIT, REFUSE = "go", "wait", "refuse"


@dataclass(frozen=True)
class Attempt:
    """May a guarded attempt (a login) start: `go`, `wait` for one in flight, or `refuse`."""

    outcome: str
    retry_after: int = 0


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
    def take_now(self, key: str, limit: int, burst: int, cost: int = 1) -> Decision | None:
        """`take` when it needs no I/O (a memory bucket, a lease in hand); None otherwise."""
        ...

    async def window_count(self, key: str) -> WindowState: ...
    async def attempt_begin(self, key: str, limit: int, window_seconds: int) -> Attempt: ...
    async def attempt_end(self, key: str, *, failed: bool, window_seconds: int) -> None: ...
    async def close(self) -> None: ...


class MemoryStore:
    """In-process store for a single worker (the embedded default)."""

    def __init__(self) -> None:
        self._buckets: dict[str, tuple[float, float]] = {}
        # key -> (failures in the window, end of that window, start times of attempts in flight)
        self._attempts: dict[str, tuple[int, float, list[float]]] = {}
        self._sweep_after = 0.0

    @staticmethod
    def _now() -> float:
        return time.monotonic()

    async def take(self, key: str, limit: int, burst: int, cost: int = 1) -> Decision:
        return self.take_now(key, limit, burst, cost)

    def take_now(self, key: str, limit: int, burst: int, cost: int = 1) -> Decision:
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

    def _attempt_state(self, key: str, now: float, window: float) -> tuple[int, float, list[float]]:
        failures, until, started = self._attempts.get(key, (0, 0.0, []))
        if until <= now:
            failures, until = 0, 0.0
        # An attempt still "in flight" after a whole window was lost (a cancelled request).
        return failures, until, [t for t in started if now - t < window]

    async def window_count(self, key: str) -> WindowState:
        now = self._now()
        failures, until, _ = self._attempt_state(key, now, float("inf"))
        if failures == 0:
            return WindowState(0, 0)
        return WindowState(failures, max(1, math.ceil(until - now)))

    async def attempt_begin(self, key: str, limit: int, window_seconds: int) -> Attempt:
        now = self._now()
        failures, until, started = self._attempt_state(key, now, window_seconds)
        if failures >= limit:
            return Attempt(REFUSE, max(1, math.ceil(until - now)))
        if failures + len(started) >= limit:
            return Attempt(WAIT)
        self._attempts[key] = (failures, until, [*started, now])
        return Attempt(GO)

    async def attempt_end(self, key: str, *, failed: bool, window_seconds: int) -> None:
        now = self._now()
        failures, until, started = self._attempt_state(key, now, window_seconds)
        started = started[1:]
        if failed:
            if failures == 0:
                until = now + window_seconds  # the window starts at the first failure
            failures += 1
        if failures == 0 and not started:
            self._attempts.pop(key, None)
        else:
            self._attempts[key] = (failures, until, started)
        if len(self._attempts) > 100_000 and now >= self._sweep_after:
            self._sweep_after = now + 10.0  # a flood of live windows is not rescanned per call
            self._evict_settled(now, window_seconds)

    def _evict_settled(self, now: float, window: float) -> None:
        # Addresses whose failure window has passed and that have nothing in flight: their
        # state is the empty one, so forgetting them changes no decision.
        for k in list(self._attempts):
            failures, _, started = self._attempt_state(k, now, window)
            if failures == 0 and not started:
                del self._attempts[k]

    async def close(self) -> None:
        return None


_TAKE_LUA = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local want = tonumber(ARGV[4] or '0')
local give_back = tonumber(ARGV[5] or '0')
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
tokens = math.min(capacity, tokens + elapsed * rate + give_back)
local allowed = 0
local retry = 0
local leased = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
  if want > 0 then
    leased = math.min(want, math.floor(tokens - capacity / 2))
    if leased < 0 then leased = 0 end
    tokens = tokens - leased
  end
else
  retry = math.ceil((cost - tokens) / rate)
  if retry < 1 then retry = 1 end
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate * 1000) + 1000)
return {allowed, math.floor(tokens), retry, leased}
"""

# The same take, refused without taking (-1) while the mark KEYS[2] exists: an
# authenticated request's session check and its token cost one round trip together.
_TAKE_UNLESS_MARKED_LUA = (
    """
if redis.call('EXISTS', KEYS[2]) == 1 then
  return {-1, 0, 0, 0}
end
"""
    + _TAKE_LUA
)

_ATTEMPT_BEGIN_LUA = """
local failures = tonumber(redis.call('HGET', KEYS[1], 'f') or '0')
local in_flight = tonumber(redis.call('HGET', KEYS[1], 'i') or '0')
local limit = tonumber(ARGV[1])
if failures >= limit then
  return {2, redis.call('TTL', KEYS[1])}
end
if failures + in_flight >= limit then
  return {1, 0}
end
redis.call('HINCRBY', KEYS[1], 'i', 1)
if redis.call('TTL', KEYS[1]) < 0 then
  redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
end
return {0, 0}
"""

_ATTEMPT_END_LUA = """
if redis.call('HINCRBY', KEYS[1], 'i', -1) < 0 then
  redis.call('HSET', KEYS[1], 'i', 0)
end
if ARGV[1] == '1' then
  if redis.call('HINCRBY', KEYS[1], 'f', 1) == 1 then
    redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
  end
end
if redis.call('TTL', KEYS[1]) < 0 then
  redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
end
return 0
"""

_OUTCOMES = (GO, WAIT, REFUSE)


def lease_size(limit: int, burst: int) -> int:
    """Tokens a worker may take ahead for an org: 0 when its plan is too small to lease."""
    size = int(limit / 60.0 * LEASE_SECONDS)
    return size if size >= MIN_LEASE and size * 4 <= burst else 0


class _Lease:
    __slots__ = ("burst", "limit", "low", "remaining", "renew_at", "tokens", "until")

    def __init__(self, limit: int, burst: int, tokens: int, remaining: int, now: float) -> None:
        self.limit = limit
        self.burst = burst
        self.tokens = tokens  # taken from the shared bucket, not spent yet
        self.remaining = remaining  # what the shared bucket held after this lease
        self.until = now + LEASE_SECONDS
        # The next lease is fetched in the background from half-life or a quarter left on.
        self.renew_at = now + LEASE_SECONDS / 2
        self.low = tokens // 4


class RedisStore:
    """Shared store: every worker and host sees the same buckets."""

    MAX_LEASES = 10_000

    def __init__(self, redis: Redis, prefix: str = "elevatedpos:rl:") -> None:
        self.redis = redis
        self.prefix = prefix
        self._take = redis.register_script(_TAKE_LUA)
        self._take_unless_marked = redis.register_script(_TAKE_UNLESS_MARKED_LUA)
        self._begin = redis.register_script(_ATTEMPT_BEGIN_LUA)
        self._end = redis.register_script(_ATTEMPT_END_LUA)
        self._leases: dict[str, _Lease] = {}
        self._renewing: dict[str, asyncio.Task[None]] = {}
        self._returns: dict[str, int] = {}  # unspent leased tokens owed back to a bucket
        self._no_lease_until: dict[str, float] = {}  # buckets at or under half: no leasing

    def take_leased(self, key: str, limit: int, cost: int = 1) -> Decision | None:
        """Spend `cost` tokens this worker already took for `key`; None when it holds too few."""
        lease = self._leases.get(key)
        if lease is None or lease.tokens < cost or lease.limit != limit:
            return None
        now = time.monotonic()
        if now >= lease.until:
            return None
        lease.tokens -= cost
        if (now >= lease.renew_at or lease.tokens <= lease.low) and key not in self._renewing:
            self._start_renewal(key, limit, lease.burst)
        return Decision(True, limit, lease.remaining + lease.tokens, 0)

    def take_now(self, key: str, limit: int, burst: int, cost: int = 1) -> Decision | None:
        return self.take_leased(key, limit, cost)

    async def take(self, key: str, limit: int, burst: int, cost: int = 1) -> Decision:
        decision = self.take_leased(key, limit, cost)
        if decision is not None:
            return decision
        lease = self._leases.get(key)
        if lease is not None and (lease.until <= time.monotonic() or lease.limit != limit):
            # An ended lease (or one under an old plan): its unspent tokens go back with
            # this request's round trip.
            self._owe(key, self._leases.pop(key).tokens)
        if lease_size(limit, burst) and self._no_lease_until.get(key, 0.0) <= time.monotonic():
            renewal = self._renewing.get(key) or self._start_renewal(key, limit, burst)
            await asyncio.shield(renewal)  # a cancelled request leaves the renewal running
            decision = self.take_leased(key, limit, cost)
            if decision is not None:
                return decision
        # Charged on its own, exactly.
        give_back = self._returns.pop(key, 0)
        allowed, remaining, retry, _ = await self._take(
            keys=[self.prefix + key], args=[burst, limit / 60.0, cost, 0, give_back]
        )
        return Decision(bool(allowed), limit, int(remaining), int(retry))

    def _owe(self, key: str, tokens: int) -> None:
        if tokens > 0:
            self._returns[key] = self._returns.get(key, 0) + tokens

    def _start_renewal(self, key: str, limit: int, burst: int) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(self._renew(key, limit, burst))
        self._renewing[key] = task
        return task

    async def _renew(self, key: str, limit: int, burst: int) -> None:
        """Take the next lease for `key` (and give back what is owed): one round trip."""
        give_back = self._returns.pop(key, 0)
        try:
            _, remaining, _, leased = await self._take(
                keys=[self.prefix + key],
                args=[burst, limit / 60.0, 0, lease_size(limit, burst), give_back],
            )
        except Exception as exc:  # noqa: BLE001 - requests fall back to taking one by one
            log.warning("rate-limit lease for %s failed: %s", key, exc)
            return
        finally:
            self._renewing.pop(key, None)
        now = time.monotonic()
        old = self._leases.pop(key, None)
        if old is not None:  # renewed ahead of its end: what it still holds goes back next time
            self._owe(key, old.tokens)
        if int(leased) > 0:
            if len(self._leases) >= self.MAX_LEASES:
                self._forget_idle(now)
            self._leases[key] = _Lease(limit, burst, int(leased), int(remaining), now)
        else:
            self._no_lease_until[key] = now + LEASE_SECONDS

    def _forget_idle(self, now: float) -> None:
        # Unspent tokens of a forgotten lease are not returned: the bucket refills them.
        for k in [k for k, lease in self._leases.items() if lease.until <= now]:
            del self._leases[k]
            self._returns.pop(k, None)
        self._no_lease_until = {k: t for k, t in self._no_lease_until.items() if t > now}

    async def take_unless_marked(
        self, key: str, limit: int, burst: int, mark: str
    ) -> Decision | None:
        """`take`, unless the Redis key `mark` exists: then None, and nothing is taken."""
        allowed, remaining, retry, _ = await self._take_unless_marked(
            keys=[self.prefix + key, mark], args=[burst, limit / 60.0, 1]
        )
        if int(allowed) < 0:
            return None
        return Decision(bool(allowed), limit, int(remaining), int(retry))

    async def window_count(self, key: str) -> WindowState:
        pipe = self.redis.pipeline(transaction=False)
        pipe.hget(self.prefix + key, "f")
        pipe.ttl(self.prefix + key)
        failures, ttl = await pipe.execute()
        if failures is None or ttl is None or int(ttl) <= 0 or int(failures) <= 0:
            return WindowState(0, 0)
        return WindowState(int(failures), int(ttl))

    async def attempt_begin(self, key: str, limit: int, window_seconds: int) -> Attempt:
        outcome, ttl = await self._begin(keys=[self.prefix + key], args=[limit, window_seconds])
        return Attempt(_OUTCOMES[int(outcome)], max(1, int(ttl)) if int(outcome) == 2 else 0)

    async def attempt_end(self, key: str, *, failed: bool, window_seconds: int) -> None:
        await self._end(keys=[self.prefix + key], args=[int(failed), window_seconds])

    async def close(self) -> None:
        """Stop lease renewals still in flight (the app is shutting down)."""
        pending = list(self._renewing.values())
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

"""Revoked sessions, pushed to every worker by Redis pub/sub.

A revocation (logout, refresh-token reuse) sets a mark in Redis and publishes the session
id. Each worker subscribes, loads the marks already set, and from then on answers "is this
session revoked?" from memory, so an authenticated request needs no Redis round trip for
it. While the subscription is not known to be live (starting, reconnecting, a missed ping)
`revoked()` says None and callers ask Redis per request, as before: a worker never trusts
a view it cannot vouch for.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid

from redis.asyncio import Redis

log = logging.getLogger("elevatedpos.auth")

REVOKED_PREFIX = "elevatedpos:revoked-session:"
CHANNEL_PREFIX = "elevatedpos:revoked-sessions:"
PING_SECONDS = 2.0
PURGE_SECONDS = 60.0


def channel_for(redis: Redis) -> str:
    """One channel per Redis database: pub/sub is server-wide, marks are per database."""
    db = redis.connection_pool.connection_kwargs.get("db", 0)
    return f"{CHANNEL_PREFIX}{db}"


class RevocationWatch:
    def __init__(self, redis: Redis, mark_seconds: int) -> None:
        self.redis = redis
        self.channel = channel_for(redis)
        self.mark_seconds = mark_seconds
        self._live = asyncio.Event()
        # session id -> monotonic time its mark expires (after that no token of it is valid)
        self._revoked: dict[uuid.UUID, float] = {}
        self._task: asyncio.Task[None] | None = None
        self._next_purge = 0.0

    @property
    def live(self) -> bool:
        return self._live.is_set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        task, self._task = self._task, None
        self._live.clear()
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def wait_live(self) -> None:
        """Until the subscription is live (for start-up and tests; bound it with a timeout)."""
        await self._live.wait()

    def revoked(self, session_id: uuid.UUID) -> bool | None:
        """Whether the session is revoked; None when this worker cannot vouch for its view."""
        if not self._live.is_set():
            return None
        return session_id in self._revoked

    def note(self, session_id: uuid.UUID) -> None:
        """Remember a revocation this worker made or heard of."""
        now = time.monotonic()
        self._revoked[session_id] = now + self.mark_seconds
        if now >= self._next_purge:
            self._next_purge = now + PURGE_SECONDS
            for sid in [s for s, until in self._revoked.items() if until <= now]:
                del self._revoked[sid]

    async def publish(self, session_id: uuid.UUID) -> None:
        """Set the mark (per-request checks see it) and tell every subscribed worker."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.set(f"{REVOKED_PREFIX}{session_id}", 1, ex=self.mark_seconds)
        pipe.publish(self.channel, str(session_id))
        await pipe.execute()
        self.note(session_id)

    async def _load_marks(self) -> None:
        async for key in self.redis.scan_iter(match=f"{REVOKED_PREFIX}*", count=1000):
            raw = key.decode() if isinstance(key, bytes) else str(key)
            with contextlib.suppress(ValueError):
                self.note(uuid.UUID(raw[len(REVOKED_PREFIX) :]))

    def _heard(self, data: object) -> None:
        raw = data.decode() if isinstance(data, bytes) else str(data)
        try:
            self.note(uuid.UUID(raw))
        except ValueError:
            log.warning("ignored a malformed revocation message %r", raw[:80])

    async def _run(self) -> None:
        backoff = 0.1
        while True:
            pubsub = self.redis.pubsub()
            try:
                await pubsub.subscribe(self.channel)
                # Marks are read only once the subscription is confirmed: a revocation is
                # then either in the marks, or in a message still to come.
                confirmed = await pubsub.get_message(timeout=PING_SECONDS * 2)
                if confirmed is None or confirmed["type"] != "subscribe":
                    raise ConnectionError("no subscription confirmation")
                await self._load_marks()
                self._live.set()
                backoff = 0.1
                await self._listen(pubsub)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - any failure: per-request checks until back
                if self.live:
                    log.warning("revocation feed lost (%s); checking sessions per request", exc)
            finally:
                self._live.clear()
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
            await asyncio.sleep(backoff)
            backoff = min(5.0, backoff * 2)

    async def _listen(self, pubsub: object) -> None:
        last_heard = time.monotonic()
        pinged = False
        while True:
            message = await pubsub.get_message(timeout=PING_SECONDS)  # type: ignore[attr-defined]
            now = time.monotonic()
            if message is not None:
                last_heard, pinged = now, False
                if message["type"] == "message":
                    self._heard(message["data"])
                continue
            if pinged and now - last_heard > PING_SECONDS * 2:
                raise ConnectionError("no answer to ping")
            if not pinged:
                await pubsub.ping()  # type: ignore[attr-defined]
                pinged = True

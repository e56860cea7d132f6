"""The events subscription's bus: committed events to the GraphQL subscribers of their org.

After each batch it publishes, the outbox relay announces the events (id, org, type). With
Redis the announcement goes to every worker and host through one pub/sub channel, so a
subscriber hears every event wherever it was published; without Redis, within the process
(run one worker then). A worker with subscribers of an event's org reads the envelopes it
needs in one query and hands them to their queues. A subscriber that falls 1000 events behind
is dropped, not waited for.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Sequence
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import select

from elevatedpos.db.engine import Database
from elevatedpos.db.models import OutboxEvent
from elevatedpos.events.outbox import envelope

log = logging.getLogger("elevatedpos.events")
CHANNEL = "elevatedpos:events"
QUEUE_SIZE = 1000
Ref = tuple[str, str, str]  # event id, org id, type


class Subscriber:
    def __init__(self, org_id: uuid.UUID, types: frozenset[str] | None) -> None:
        self.org_id = org_id
        self.types = types
        self.queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(QUEUE_SIZE)

    def wants(self, event_type: str) -> bool:
        return self.types is None or event_type in self.types


class EventBus:
    def __init__(self, db: Database, redis: Redis | None) -> None:
        self.db = db
        self.redis = redis
        self._subscribers: dict[uuid.UUID, set[Subscriber]] = {}
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.redis is not None:
            self._task = asyncio.get_running_loop().create_task(self._listen())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for subscribers in self._subscribers.values():
            for s in subscribers:
                with contextlib.suppress(asyncio.QueueFull):
                    s.queue.put_nowait(None)

    def subscribe(self, org_id: uuid.UUID, types: Sequence[str] | None) -> Subscriber:
        subscriber = Subscriber(org_id, frozenset(types) if types else None)
        self._subscribers.setdefault(org_id, set()).add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        subscribers = self._subscribers.get(subscriber.org_id)
        if subscribers is not None:
            subscribers.discard(subscriber)
            if not subscribers:
                del self._subscribers[subscriber.org_id]

    async def announce(self, refs: Sequence[Ref]) -> None:
        """Events committed (by this process's relay): to every worker, or to this one."""
        if not refs:
            return
        if self.redis is not None:
            try:
                await self.redis.publish(CHANNEL, orjson.dumps(list(refs)))
                return
            except (RedisError, OSError):  # Redis away: this process's subscribers hear them
                log.warning("events: Redis publish failed; delivering in this process only")
        await self.deliver(refs)

    async def deliver(self, refs: Sequence[Ref]) -> None:
        """Hand the announced events to this process's subscribers that want them."""
        wanted = [
            ref
            for ref in refs
            if any(s.wants(ref[2]) for s in self._subscribers.get(uuid.UUID(ref[1]), ()))
        ]
        if not wanted:
            return
        t = OutboxEvent.__table__
        async with self.db.read() as session:
            rows = (
                await session.scalars(
                    select(OutboxEvent)
                    .where(t.c.id.in_([uuid.UUID(r[0]) for r in wanted]))
                    .order_by(t.c.created_at, t.c.id)
                )
            ).all()
        for row in rows:
            data = envelope(row)
            for s in list(self._subscribers.get(row.org_id, ())):
                if not s.wants(row.type):
                    continue
                try:
                    s.queue.put_nowait(data)
                except asyncio.QueueFull:  # too slow: end its subscription
                    self.unsubscribe(s)
                    with contextlib.suppress(asyncio.QueueEmpty):
                        s.queue.get_nowait()
                    s.queue.put_nowait(None)

    async def _listen(self) -> None:
        assert self.redis is not None
        while True:
            try:
                pubsub = self.redis.pubsub()
                await pubsub.subscribe(CHANNEL)
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        await self.deliver([tuple(r) for r in orjson.loads(message["data"])])
            except asyncio.CancelledError:
                raise
            except Exception:  # reconnect after a pause
                log.warning("events: Redis subscription lost; reconnecting", exc_info=True)
                await asyncio.sleep(1.0)

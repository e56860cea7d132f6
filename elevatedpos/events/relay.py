"""The outbox relay: every committed event runs its org's automations, exactly once, and
is queued for the webhooks that subscribe to it; then due webhook deliveries are sent.

Each worker polls the outbox for events not yet published and, in one transaction, runs
the rules of each (`actions.automations.run_rules`) and marks it published: the actions
and the mark commit together, so an event's actions happen once even when a worker dies
mid-batch (the batch rolls back and is taken again). On PostgreSQL workers and hosts share
the work with `FOR UPDATE SKIP LOCKED`; on SQLite the write lock serializes them. Events an
automation caused are published without running automations (no rule sets off another).

It has its own small connection pool, so requests never wait behind it, and it opens a
write transaction only when a cheap read has found something to publish.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update

from elevatedpos.db.engine import Database
from elevatedpos.db.models import OutboxEvent
from elevatedpos.db.types import utcnow
from elevatedpos.events.bus import EventBus
from elevatedpos.events.outbox import envelope
from elevatedpos.events.webhooks import deliver_due

log = logging.getLogger("elevatedpos.relay")
# A worker's own writes wake its relay at once (`nudge`); the poll finds the rest: events
# another process wrote (a CLI command, a worker that died before publishing), retries due.
POLL_SECONDS = 1.0
# Woken by every commit, the relay still starts a pass at most this often: under a write
# load the events of many commits share one publishing transaction.
MIN_PASS_GAP_SECONDS = 0.02
PRUNE_FIRST_SECONDS = 60.0
PRUNE_EVERY_SECONDS = 300.0
PRUNE_BATCH = 1000
BATCH = 50


class OutboxRelay:
    def __init__(
        self,
        database_url: str,
        *,
        allow_private: bool = False,
        bus: EventBus | None = None,
        retention_days: int = 30,
    ) -> None:
        self.db = Database(database_url, pool="small")
        self.retention = timedelta(days=retention_days)
        self._next_prune = time.monotonic() + PRUNE_FIRST_SECONDS
        self.allow_private = allow_private  # webhooks to private addresses (tests, labs)
        self.bus = bus  # told of each published batch (GraphQL subscriptions)
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        # When the last pass ended (monotonic) and whether it succeeded: /metrics reports them.
        self.last_pass: float | None = None
        self.last_pass_ok = False

    def nudge(self) -> None:
        """Events were committed: publish them now rather than at the next poll."""
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.db.dispose()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stopping.is_set():
            started = loop.time()
            self._wake.clear()  # a commit from here on wakes the next pass
            try:
                published = await self.publish_pending()
                published += await deliver_due(self.db, allow_private=self.allow_private)
                if time.monotonic() >= self._next_prune:
                    self._next_prune = time.monotonic() + PRUNE_EVERY_SECONDS
                    await self.prune()
                self.last_pass_ok = True
            except asyncio.CancelledError:
                raise
            except Exception:  # a bad spell (the database restarting) is retried
                log.exception("outbox relay: publishing failed; retrying")
                published = 0
                self.last_pass_ok = False
            self.last_pass = time.monotonic()
            if not self.last_pass_ok:  # failing: commits do not hurry the retry
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), POLL_SECONDS)
            elif not published:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), POLL_SECONDS)
            gap = started + MIN_PASS_GAP_SECONDS - loop.time()
            if gap > 0 and published < BATCH and not self._stopping.is_set():
                await asyncio.sleep(gap)  # a backlog (full batches) is worked off at once

    async def publish_pending(self, now: datetime | None = None) -> int:
        """Publish up to BATCH pending events; how many were published."""
        from elevatedpos.actions.automations import enabled_rules, run_rules
        from elevatedpos.actions.integrations import active_webhooks, queue, subscribed

        t = OutboxEvent.__table__
        pending = t.c.published_at.is_(None)
        async with self.db.reader() as connection:
            found = (await connection.execute(select(t.c.id).where(pending).limit(1))).first()
        if found is None:
            return 0
        async with self.db.write() as session:
            # The batch, light: ids and what decides whether any rule runs, locked.
            batch = (
                select(t.c.id, t.c.org_id, t.c.type, t.c.caused_by)
                .where(pending)
                .order_by(t.c.created_at, t.c.id)
                .limit(BATCH)
            )
            if not self.db.is_sqlite:
                batch = batch.with_for_update(skip_locked=True)
            events = (await session.execute(batch)).all()
            if not events:
                return 0
            own = [e for e in events if e.caused_by is None]
            rules = (
                await enabled_rules(session, {e.org_id for e in own}, {e.type for e in own})
                if own
                else {}
            )
            hooks = await active_webhooks(session, {e.org_id for e in events})

            def takers(e: Any) -> tuple[list[Any], list[Any]]:
                mine = rules.get((e.org_id, e.type), []) if e.caused_by is None else []
                return mine, subscribed(hooks.get(e.org_id, []), e.type)

            # Only events some rule or webhook is waiting for are read whole.
            wanted = [e.id for e in events if any(takers(e))]
            if wanted:
                full = (
                    await session.scalars(
                        select(OutboxEvent)
                        .where(OutboxEvent.id.in_(wanted))
                        .order_by(OutboxEvent.created_at, OutboxEvent.id)
                    )
                ).all()
                for event in full:
                    event_rules, event_hooks = takers(event)
                    data = envelope(event)
                    for hook in event_hooks:
                        queue(session, hook, event.id, data)
                    if event_rules:
                        await run_rules(session, event.org_id, data, event.id, rules=event_rules)
            await session.execute(
                update(t)
                .where(t.c.id.in_([e.id for e in events]))
                .values(published_at=now or utcnow())
            )
        if self.bus is not None:
            await self.bus.announce([(str(e.id), str(e.org_id), e.type) for e in events])
        return len(events)

    async def prune(self, now: datetime | None = None) -> int:
        """Delete what is older than the retention: published events, delivered or failed
        webhook deliveries (their attempts with them), automation runs, OAuth codes. A batch
        of each per call, so a backlog is worked off over several passes; how many rows went."""
        from elevatedpos.db.models import AutomationRun, OAuthCode, WebhookDelivery

        cutoff = (now or utcnow()) - self.retention
        e, d, r = OutboxEvent.__table__, WebhookDelivery.__table__, AutomationRun.__table__
        c = OAuthCode.__table__
        old = (
            (e, (e.c.published_at.is_not(None)) & (e.c.published_at < cutoff)),
            (d, (d.c.status != "pending") & (d.c.created_at < cutoff)),
            (r, r.c.created_at < cutoff),
            (c, c.c.expires_at < cutoff),
        )
        removed = 0
        for table, condition in old:
            batch = select(table.c.id).where(condition).limit(PRUNE_BATCH).scalar_subquery()
            async with self.db.write() as session:
                result = await session.execute(delete(table).where(table.c.id.in_(batch)))
                removed += result.rowcount or 0
        return removed

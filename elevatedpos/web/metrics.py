"""`GET /metrics`: what the engineer on call asks first, in Prometheus' text format.

Is the outbox being published, are webhooks getting out, is this worker's relay alive.
The figures are read from the database when scraped, so every worker and host answers the
same totals and requests pay nothing for them; only the relay's own health is this
worker's. Request rates and latencies are the load balancer's to count.

Off unless `METRICS_TOKEN` is set; then a scrape must send it as a bearer token.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import Response

from elevatedpos.db.models import OutboxEvent, WebhookDelivery
from elevatedpos.db.types import utcnow
from elevatedpos.errors import NotFound, Unauthorized
from elevatedpos.runtime import Runtime

# Prometheus' text format 0.0.4, which every Prometheus reads (the names need no escaping).
TEXT_FORMAT = "text/plain; version=0.0.4; charset=utf-8"
# A pending delivery due longer ago than this is overdue: no relay is sending.
OVERDUE_AFTER = timedelta(minutes=1)
RECENT_FAILURES = timedelta(hours=1)


@dataclass(frozen=True)
class Snapshot:
    pending_events: int
    oldest_pending_seconds: float
    pending_deliveries: int
    overdue_deliveries: int
    failed_deliveries_last_hour: int
    relay_seconds_since_pass: float | None
    relay_last_pass_ok: bool


async def snapshot(runtime: Runtime) -> Snapshot:
    """The figures, each an index range read (`ix_outbox_events_unpublished`,
    `ix_webhook_deliveries_due`), so a scrape stays cheap however large the tables grow."""
    now = utcnow()
    e, d = OutboxEvent.__table__, WebhookDelivery.__table__
    pending = e.c.published_at.is_(None)
    async with runtime.db.reader() as connection:
        events, oldest = (
            await connection.execute(select(func.count(), func.min(e.c.created_at)).where(pending))
        ).one()
        waiting, overdue = (
            await connection.execute(
                select(
                    func.count(),
                    func.count().filter(d.c.next_attempt_at < now - OVERDUE_AFTER),
                ).where(d.c.status == "pending")
            )
        ).one()
        failed = await connection.scalar(
            select(func.count()).where(
                d.c.status == "failed", d.c.next_attempt_at >= now - RECENT_FAILURES
            )
        )
    relay = runtime.relay
    last = relay.last_pass if relay is not None else None
    return Snapshot(
        pending_events=events,
        oldest_pending_seconds=max(0.0, (now - oldest).total_seconds()) if oldest else 0.0,
        pending_deliveries=waiting,
        overdue_deliveries=overdue,
        failed_deliveries_last_hour=failed or 0,
        relay_seconds_since_pass=time.monotonic() - last if last is not None else None,
        relay_last_pass_ok=relay is not None and relay.last_pass_ok,
    )


class _Families(Collector):
    def __init__(self, s: Snapshot) -> None:
        self.s = s

    def collect(self) -> Iterator[GaugeMetricFamily]:
        s = self.s
        yield GaugeMetricFamily(
            "elevatedpos_outbox_pending_events",
            "Committed events not yet published to automations, webhooks and subscribers",
            value=s.pending_events,
        )
        yield GaugeMetricFamily(
            "elevatedpos_outbox_oldest_pending_seconds",
            "Age of the oldest unpublished event (0 when none waits)",
            value=s.oldest_pending_seconds,
        )
        yield GaugeMetricFamily(
            "elevatedpos_webhook_deliveries_pending",
            "Webhook deliveries waiting for their first attempt or a retry",
            value=s.pending_deliveries,
        )
        yield GaugeMetricFamily(
            "elevatedpos_webhook_deliveries_overdue",
            "Pending deliveries due more than a minute ago: no relay is sending them",
            value=s.overdue_deliveries,
        )
        yield GaugeMetricFamily(
            "elevatedpos_webhook_deliveries_failed_last_hour",
            "Deliveries that gave up (every retry failed) within the last hour",
            value=s.failed_deliveries_last_hour,
        )
        if s.relay_seconds_since_pass is not None:
            yield GaugeMetricFamily(
                "elevatedpos_relay_seconds_since_pass",
                "Seconds since this worker's outbox relay last finished a pass",
                value=s.relay_seconds_since_pass,
            )
        yield GaugeMetricFamily(
            "elevatedpos_relay_last_pass_ok",
            "1 when this worker's relay's last pass succeeded, 0 when it failed (see its log)",
            value=1 if s.relay_last_pass_ok else 0,
        )


async def metrics(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    token = runtime.settings.metrics_token
    if not token:
        raise NotFound("Metrics are off: set METRICS_TOKEN to serve them")
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode(), token.encode()
    ):
        raise Unauthorized(
            "Send METRICS_TOKEN as `Authorization: Bearer <token>`",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    registry = CollectorRegistry()
    registry.register(_Families(await snapshot(runtime)))
    return Response(generate_latest(registry), media_type=TEXT_FORMAT)

"""`GET /metrics`: off by default, behind METRICS_TOKEN when on; what it counts."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from asgi_lifespan import LifespanManager
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import delete
from starlette.applications import Starlette

from elevatedpos.app import create_app
from elevatedpos.db.engine import Database
from elevatedpos.db.models import OutboxEvent, WebhookDelivery
from elevatedpos.db.types import utcnow
from elevatedpos.events import relay
from elevatedpos.runtime import Runtime
from elevatedpos.settings import Settings
from tests.conftest import Tenant, new_client
from tests.test_integrations import install, register
from tests.test_loyalty import problem

TOKEN = "metrics-" + uuid.uuid4().hex


@pytest.fixture
async def watched(
    database_url: str, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Starlette]:
    """An app with metrics on, every relay of the test process waiting an hour between polls
    (so nothing is published or delivered behind the test's back)."""
    monkeypatch.setattr(relay, "POLL_SECONDS", 3600.0)
    application = create_app(Settings.from_env({"METRICS_TOKEN": TOKEN}, database_url=database_url))
    async with LifespanManager(application):
        await asyncio.sleep(1.5)  # relays that were waiting out a 1 s poll now wait an hour
        yield application
    monkeypatch.undo()
    assert runtime.relay is not None
    runtime.relay.nudge()  # the session's relay waits out the usual poll again


async def scrape(client: httpx.AsyncClient) -> dict[str, float]:
    response = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


async def test_metrics_are_off_unless_a_token_is_set(client, tenant: Tenant):
    problem(await client.get("/metrics"), 404, "not-found")
    problem(await client.get("/metrics", headers=tenant.headers), 404, "not-found")


async def test_metrics_need_their_own_token(watched, tenant: Tenant):
    async with new_client(watched) as client:
        for headers in ({}, {"Authorization": "Bearer nope"}, tenant.headers):
            refused = await client.get("/metrics", headers=headers)
            problem(refused, 401, "unauthorized")
            assert refused.headers["www-authenticate"].startswith("Bearer")
        figures = await scrape(client)
    assert figures["elevatedpos_relay_last_pass_ok"] == 1
    assert 0 <= figures["elevatedpos_relay_seconds_since_pass"] < 3600


async def test_metrics_count_what_waits_and_what_failed(watched, client, tenant: Tenant):
    integration = await install(client, tenant)
    hook = await register(client, tenant, integration["id"], "https://hooks.example/in", ["*"])
    await asyncio.sleep(0.2)  # the relay's pass for the webhook's own commit, if any, is over
    now = utcnow()
    event_id = uuid.uuid4()
    webhook_id = uuid.UUID(hook["id"])

    def delivery(status: str, due: timedelta) -> WebhookDelivery:
        return WebhookDelivery(
            id=uuid.uuid4(),
            org_id=tenant.org_id,
            webhook_id=webhook_id,
            event_id=event_id,
            event_type="order.created",
            envelope={},
            status=status,
            next_attempt_at=now - due,
        )

    rows = [
        delivery("pending", timedelta(minutes=5)),  # overdue: nothing is sending it
        delivery("pending", timedelta(minutes=-5)),  # a retry not due yet
        delivery("failed", timedelta(minutes=10)),  # gave up within the hour
        delivery("failed", timedelta(hours=2)),  # long ago
    ]
    # Written around the app (no relay is woken), as another process would.
    outside = Database(watched.state.runtime.settings.database_url)
    async with new_client(watched) as metrics_client:
        try:
            before = await scrape(metrics_client)
            async with outside.write() as session:
                session.add(
                    OutboxEvent(
                        id=event_id,
                        org_id=tenant.org_id,
                        type="order.created",
                        data={},
                        created_at=now - timedelta(minutes=2),
                    )
                )
                session.add_all(rows)
            after = await scrape(metrics_client)
        finally:
            async with outside.write() as session:
                await session.execute(
                    delete(WebhookDelivery).where(WebhookDelivery.event_id == event_id)
                )
                await session.execute(delete(OutboxEvent).where(OutboxEvent.id == event_id))
            await outside.dispose()
    grew = {name: after[name] - before[name] for name in after if name in before}
    assert grew["elevatedpos_outbox_pending_events"] == 1
    assert after["elevatedpos_outbox_oldest_pending_seconds"] >= 120
    assert grew["elevatedpos_webhook_deliveries_pending"] == 2
    assert grew["elevatedpos_webhook_deliveries_overdue"] == 1
    assert grew["elevatedpos_webhook_deliveries_failed_last_hour"] == 1

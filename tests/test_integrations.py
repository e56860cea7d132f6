"""Integrations and webhooks: installing (secrets once), registering, signed deliveries of
real events through the outbox relay, retries, the test endpoint, the private-address
guard, automations sending webhooks, roles."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import hmac
import json
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from elevatedpos.db.models import WebhookAttempt, WebhookDelivery
from elevatedpos.db.types import utcnow
from tests.conftest import Tenant, gql
from tests.test_automations import eventually
from tests.test_campaigns import member as member_of_org
from tests.test_loyalty import fields, new_customer, problem

API = "/api/v1"
INTEGRATIONS = f"{API}/integrations"


class Receiver:
    """An HTTP endpoint on 127.0.0.1 that records what it is sent and answers `statuses`
    in turn (then 200)."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.statuses: list[int] = []
        self.server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/hooks"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        k, _, v = line.partition(":")
                        headers[k.strip().lower()] = v.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                self.received.append((headers, body))
                status = self.statuses.pop(0) if self.statuses else 200
                writer.write(
                    f"HTTP/1.1 {status} X\r\nContent-Length: 2\r\n\r\nok".encode("latin-1")
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def __aenter__(self) -> Receiver:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()

    def envelopes(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.received]


@pytest.fixture
async def receiver(runtime) -> AsyncIterator[Receiver]:
    """A receiver, with webhooks to private addresses allowed while the test runs."""
    settings = runtime.settings
    runtime.settings = dataclasses.replace(settings, allow_private_webhook_targets=True)
    runtime.relay.allow_private = True
    try:
        async with Receiver() as r:
            yield r
    finally:
        runtime.settings = settings
        runtime.relay.allow_private = settings.allow_private_webhook_targets


async def install(client, tenant: Tenant, **extra: Any) -> dict[str, Any]:
    body = {"name": "Xero sync", "provider": "xero", "redirectUris": ["https://app.example/cb"]}
    response = await client.post(INTEGRATIONS, json={**body, **extra}, headers=tenant.headers)
    assert response.status_code == 201, response.text
    return response.json()["data"]  # type: ignore[no-any-return]


async def register(client, tenant: Tenant, integration: str, url: str, events: list[str]):
    response = await client.post(
        f"{INTEGRATIONS}/{integration}/webhooks",
        json={"url": url, "events": events},
        headers=tenant.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()["data"]


def signed_by(secret: str, headers: dict[str, str], body: bytes) -> bool:
    parts = dict(p.split("=", 1) for p in headers["x-elevatedpos-signature"].split(","))
    want = hmac.new(secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256)
    return hmac.compare_digest(parts["v1"], want.hexdigest())


async def deliveries(runtime, webhook_id: str) -> list[tuple[str, int]]:
    async with runtime.db.read() as session:
        rows = (
            await session.scalars(
                select(WebhookDelivery)
                .where(WebhookDelivery.webhook_id == uuid.UUID(webhook_id))
                .order_by(WebhookDelivery.created_at)
            )
        ).all()
    return [(r.status, r.attempts) for r in rows]


# --- integrations and webhooks ---------------------------------------------------------------


async def test_installing_shows_the_client_secret_once(client, tenant: Tenant):
    made = await install(client, tenant)
    assert made["clientId"].startswith("epos_") and len(made["clientSecret"]) >= 40
    assert made["status"] == "active" and made["redirectUris"] == ["https://app.example/cb"]
    listed = (await client.get(INTEGRATIONS, headers=tenant.headers)).json()["data"]
    assert [i["id"] for i in listed] == [made["id"]]
    assert "clientSecret" not in listed[0] and made["clientSecret"] not in json.dumps(listed)
    bad = await client.post(
        INTEGRATIONS,
        json={"name": " ", "provider": "", "redirectUris": ["not a url"]},
        headers=tenant.headers,
    )
    assert fields(problem(bad, 422, "validation")) == {"name", "provider", "redirectUris.0"}


async def test_webhooks_are_registered_with_their_secret_once(client, tenant: Tenant):
    integration = await install(client, tenant)
    hook = await register(client, tenant, integration["id"], "https://hooks.example/x", ["*"])
    assert hook["secret"].startswith("whsec_") and hook["active"] is True
    assert hook["events"] == ["*"]
    listed = await client.get(
        f"{INTEGRATIONS}/{integration['id']}/webhooks", headers=tenant.headers
    )
    assert [(w["id"], "secret" in w) for w in listed.json()["data"]] == [(hook["id"], False)]
    bad = await client.post(
        f"{INTEGRATIONS}/{integration['id']}/webhooks",
        json={"url": "ftp://x", "events": ["order.eaten"]},
        headers=tenant.headers,
    )
    assert fields(problem(bad, 422, "validation")) == {"url", "events.0"}
    missing = await client.post(
        f"{INTEGRATIONS}/{uuid.uuid4()}/webhooks",
        json={"url": "https://hooks.example/x", "events": ["*"]},
        headers=tenant.headers,
    )
    problem(missing, 404, "not-found")


# --- deliveries ------------------------------------------------------------------------------


async def test_real_events_are_delivered_signed(client, runtime, tenant: Tenant, receiver):
    integration = await install(client, tenant)
    hook = await register(client, tenant, integration["id"], receiver.url, ["customer.created"])
    customer = await new_customer(client, tenant)

    async def arrived() -> bool:
        return len(receiver.received) >= 1

    await eventually(arrived)
    [(headers, body)] = receiver.received
    assert signed_by(hook["secret"], headers, body)
    assert not signed_by("whsec_wrong", headers, body)
    [envelope] = receiver.envelopes()
    assert envelope["type"] == "customer.created" and envelope["data"]["id"] == customer
    assert envelope["orgId"] == str(tenant.org_id) and set(envelope) == {
        "id", "type", "orgId", "createdAt", "data",
    }  # fmt: skip
    assert headers["x-elevatedpos-event"] == "customer.created"

    async def recorded() -> bool:
        return await deliveries(runtime, hook["id"]) == [("delivered", 1)]

    await eventually(recorded)


async def test_a_failed_delivery_is_retried_and_each_attempt_recorded(
    client, runtime, tenant: Tenant, receiver
):
    integration = await install(client, tenant)
    hook = await register(client, tenant, integration["id"], receiver.url, ["customer.created"])
    receiver.statuses = [503]
    await new_customer(client, tenant)

    async def tried_once() -> bool:
        return await deliveries(runtime, hook["id"]) == [("pending", 1)]

    await eventually(tried_once)
    async with runtime.db.write() as session:  # the retry's 10 seconds pass
        await session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.webhook_id == uuid.UUID(hook["id"]))
            .values(next_attempt_at=utcnow() - timedelta(seconds=1))
        )

    async def delivered() -> bool:
        return await deliveries(runtime, hook["id"]) == [("delivered", 2)]

    await eventually(delivered)
    assert len(receiver.received) == 2
    assert receiver.envelopes()[0]["id"] == receiver.envelopes()[1]["id"]  # the same event
    async with runtime.db.read() as session:
        attempts = (
            await session.scalars(
                select(WebhookAttempt.response_status)
                .join(WebhookDelivery, WebhookDelivery.id == WebhookAttempt.delivery_id)
                .where(WebhookDelivery.webhook_id == uuid.UUID(hook["id"]))
                .order_by(WebhookAttempt.attempted_at)
            )
        ).all()
    assert list(attempts) == [503, 200]


async def test_the_test_endpoint_sends_now(client, runtime, tenant: Tenant, receiver):
    integration = await install(client, tenant)
    first = await register(client, tenant, integration["id"], receiver.url, ["order.created"])
    second = await register(client, tenant, integration["id"], receiver.url, ["*"])
    url = f"{INTEGRATIONS}/{integration['id']}/webhooks/test"
    one = await client.post(url, json={"webhookId": first["id"]}, headers=tenant.headers)
    assert one.status_code == 200, one.text
    result = one.json()["data"]
    assert result["webhookId"] == first["id"] and result["status"] == "delivered"
    assert result["responseStatus"] == 200 and result["durationMs"] >= 0
    assert receiver.envelopes()[0]["type"] == "webhook.test"
    assert signed_by(first["secret"], *receiver.received[0])
    receiver.statuses = [500]
    every = await client.post(url, json={}, headers=tenant.headers)
    statuses = {r["webhookId"]: (r["status"], r["responseStatus"]) for r in every.json()["data"]}
    assert statuses == {first["id"]: ("failed", 500), second["id"]: ("delivered", 200)}
    other = await install(client, tenant, name="Other")
    theirs = await register(client, tenant, other["id"], receiver.url, ["*"])
    wrong = await client.post(url, json={"webhookId": theirs["id"]}, headers=tenant.headers)
    assert fields(problem(wrong, 422, "validation")) == {"webhookId"}
    assert (await deliveries(runtime, first["id"]))[0] == ("delivered", 1)


async def test_a_delivery_goes_to_the_address_that_was_checked(client, tenant: Tenant, receiver):
    """The host is resolved once, checked, and connected to by that address; the request
    still names the host."""
    integration = await install(client, tenant)
    port = receiver.url.split(":")[2].split("/")[0]
    hook = await register(
        client, tenant, integration["id"], f"http://localhost:{port}/hooks", ["*"]
    )
    response = await client.post(
        f"{INTEGRATIONS}/{integration['id']}/webhooks/test",
        json={"webhookId": hook["id"]},
        headers=tenant.headers,
    )
    assert response.json()["data"]["status"] == "delivered", response.text
    [(headers, _)] = receiver.received
    assert headers["host"] == f"localhost:{port}"


async def test_private_addresses_are_refused_by_default(client, runtime, tenant: Tenant):
    integration = await install(client, tenant)
    hook = await register(client, tenant, integration["id"], "http://127.0.0.1:9/x", ["*"])
    response = await client.post(
        f"{INTEGRATIONS}/{integration['id']}/webhooks/test",
        json={"webhookId": hook["id"]},
        headers=tenant.headers,
    )
    result = response.json()["data"]
    assert result["status"] == "failed" and result["responseStatus"] is None
    assert "private address" in result["error"]


async def test_an_automation_sends_an_event_to_a_webhook(client, runtime, tenant: Tenant, receiver):
    integration = await install(client, tenant)
    hook = await register(client, tenant, integration["id"], receiver.url, ["order.voided"])
    bad = await client.post(
        f"{API}/automations",
        json={"name": "x", "trigger": "customer.created",
              "actions": [{"type": "send_webhook", "params": {"webhookId": str(uuid.uuid4())}}]},
        headers=tenant.headers,
    )  # fmt: skip
    assert fields(problem(bad, 422, "validation")) == {"actions.0.params.webhookId"}
    rule = await client.post(
        f"{API}/automations",
        json={"name": "Tell the CRM", "trigger": "customer.created",
              "actions": [{"type": "send_webhook", "params": {"webhookId": hook["id"]}}]},
        headers=tenant.headers,
    )  # fmt: skip
    assert rule.status_code == 201, rule.text
    customer = await new_customer(client, tenant)

    async def arrived() -> bool:
        return len(receiver.received) >= 1

    await eventually(arrived)
    await asyncio.sleep(0.5)
    [envelope] = receiver.envelopes()  # once: the webhook itself wants only order.voided
    assert envelope["type"] == "customer.created" and envelope["data"]["id"] == customer


# --- GraphQL, roles --------------------------------------------------------------------------


async def test_graphql_twins_and_roles(client, runtime, tenant: Tenant):
    made = await gql(
        client,
        """mutation($input: InstallIntegrationInput!) {
             installIntegration(input: $input) { id clientId clientSecret }
           }""",
        {"input": {"name": "Shop", "provider": "shopify"}},
        tenant.headers,
    )
    integration = made["data"]["installIntegration"]
    hook = await gql(
        client,
        """mutation($id: ID!, $input: CreateWebhookInput!) {
             createWebhook(id: $id, input: $input) { id secret events }
           }""",
        {"id": integration["id"], "input": {"url": "https://x.example/h", "events": ["*"]}},
        tenant.headers,
    )
    assert hook["data"]["createWebhook"]["events"] == ["*"]
    listed = await gql(
        client,
        "query($id: ID!) { webhooks(integrationId: $id) { nodes { id url } } }",
        {"id": integration["id"]},
        tenant.headers,
    )
    assert listed["data"]["webhooks"]["nodes"] == [
        {"id": hook["data"]["createWebhook"]["id"], "url": "https://x.example/h"}
    ]
    manager = await member_of_org(runtime, tenant, "manager")
    assert (await client.get(INTEGRATIONS, headers=manager.headers)).status_code == 200
    refused = await client.post(
        INTEGRATIONS, json={"name": "x", "provider": "y"}, headers=manager.headers
    )
    problem(refused, 403, "forbidden")

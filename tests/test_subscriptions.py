"""`subscription { events }` over graphql-transport-ws, through the ASGI app: events of the
caller's org as they are committed, narrowed by type and by what the caller may read."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from elevatedpos.db.models import OutboxEvent
from tests.conftest import REDIS_URL, Tenant
from tests.test_automations import settle
from tests.test_loyalty import new_customer

SUBSCRIBE = "subscription($types: [String!]) { events(types: $types) { type orgId data } }"


class Socket:
    """A graphql-transport-ws client talking to the ASGI app in-process."""

    def __init__(self, app: Any, headers: dict[str, str] | None = None) -> None:
        self.app = app
        self.to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.from_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.headers = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
        self.task: asyncio.Task[None] | None = None

    async def open(self) -> dict[str, Any]:
        scope = {
            "type": "websocket",
            "asgi": {"version": "3.0"},
            "scheme": "ws",
            "path": "/graphql",
            "raw_path": b"/graphql",
            "root_path": "",
            "query_string": b"",
            "headers": [(b"host", b"test"), *self.headers],
            "subprotocols": ["graphql-transport-ws"],
            "client": ("127.0.0.1", 50000),
            "server": ("test", 80),
        }
        self.task = asyncio.create_task(self.app(scope, self.to_app.get, self.from_app.put))
        await self.to_app.put({"type": "websocket.connect"})
        return await self.next_message()

    async def send(self, message: dict[str, Any]) -> None:
        await self.to_app.put({"type": "websocket.receive", "text": json.dumps(message)})

    async def next_message(self, seconds: float = 15.0) -> dict[str, Any]:
        async with asyncio.timeout(seconds):
            return await self.from_app.get()

    async def next_json(self, seconds: float = 15.0) -> dict[str, Any]:
        while True:
            message = await self.next_message(seconds)
            if message["type"] == "websocket.send":
                raw = message.get("text")
                return json.loads(raw if raw is not None else message["bytes"])  # type: ignore[no-any-return]
            if message["type"] == "websocket.close":
                return {"type": "closed", "code": message.get("code")}

    async def close(self) -> None:
        await self.to_app.put({"type": "websocket.disconnect", "code": 1000})
        if self.task is not None:
            try:
                async with asyncio.timeout(5):
                    await self.task
            except (TimeoutError, asyncio.CancelledError):
                self.task.cancel()


async def subscribed(app, tenant: Tenant, types: list[str] | None, *, in_init: bool) -> Socket:
    headers = None if in_init else tenant.headers
    socket = Socket(app, headers)
    accepted = await socket.open()
    assert accepted["type"] == "websocket.accept", accepted
    payload = {"Authorization": f"Bearer {tenant.access_token}"} if in_init else {}
    await socket.send({"type": "connection_init", "payload": payload})
    assert (await socket.next_json())["type"] == "connection_ack"
    await socket.send(
        {
            "id": "1",
            "type": "subscribe",
            "payload": {"query": SUBSCRIBE, "variables": {"types": types}},
        }
    )
    await asyncio.sleep(0.1)  # subscribed before anything happens
    return socket


@pytest.mark.parametrize("in_init", [True, False], ids=["token-in-init", "token-in-header"])
async def test_events_arrive_as_they_are_committed(
    app, client, tenant: Tenant, make_tenant, in_init
):
    socket = await subscribed(
        app, tenant, ["customer.created", "customer.updated"], in_init=in_init
    )
    try:
        other = await make_tenant()
        await new_customer(client, other)  # another org's: never heard
        customer = await new_customer(client, tenant)
        edited = await client.patch(
            f"/api/v1/customers/{customer}", json={"firstName": "Grace"}, headers=tenant.headers
        )
        assert edited.status_code == 200
        await client.post(  # not a type asked for
            "/api/v1/locations", json={"name": "Pier"}, headers=tenant.headers
        )
        first = await socket.next_json()
        second = await socket.next_json()
        assert [m["type"] for m in (first, second)] == ["next", "next"]
        events = [m["payload"]["data"]["events"] for m in (first, second)]
        assert [e["type"] for e in events] == ["customer.created", "customer.updated"]
        assert all(e["orgId"] == str(tenant.org_id) and e["data"]["id"] == customer for e in events)
        assert events[1]["data"]["firstName"] == "Grace"
        with pytest.raises(TimeoutError):
            await socket.next_json(seconds=1.0)
    finally:
        await socket.close()


async def test_a_subscriber_hears_only_what_it_may_read(app, client, runtime, tenant: Tenant):
    """A token that may read customers only (as a partner's might), subscribed to every
    event: it hears the customer, not the location created before it."""
    claims = runtime.issuer.decode_access(tenant.access_token)
    narrow, _ = runtime.issuer.access_token(
        user_id=tenant.user_id,
        org_id=tenant.org_id,
        scopes={"customers:read"},
        session_id=uuid.UUID(claims["sid"]),
    )

    await settle(runtime, tenant)  # the org's own start-up events are behind us
    socket = await subscribed(
        app, dataclasses.replace(tenant, access_token=narrow), None, in_init=True
    )
    try:
        made = await client.post("/api/v1/locations", json={"name": "Pier"}, headers=tenant.headers)
        assert made.status_code == 201
        customer = await new_customer(client, tenant)
        message = await socket.next_json()
        heard = message["payload"]["data"]["events"]
        assert heard["type"] == "customer.created" and heard["data"]["id"] == customer
    finally:
        await socket.close()


async def test_a_socket_without_a_valid_token_is_closed(app, tenant: Tenant):
    for payload in ({}, {"Authorization": "Bearer nope"}):
        socket = Socket(app)
        assert (await socket.open())["type"] == "websocket.accept"
        await socket.send({"type": "connection_init", "payload": payload})
        assert await socket.next_json() == {"type": "closed", "code": 4403}
        await socket.close()


@pytest.mark.skipif(REDIS_URL is None, reason="no Redis: set TEST_REDIS_URL (CI always has one)")
async def test_with_redis_a_subscriber_hears_events_another_worker_published(
    client, runtime, tenant: Tenant
):
    """Two workers' buses on one Redis: what one announces, the other's subscriber hears."""
    from redis.asyncio import Redis

    from elevatedpos.events.bus import EventBus

    customer = await new_customer(client, tenant)

    await settle(runtime, tenant)
    async with runtime.db.read() as session:
        event_id = await session.scalar(
            select(OutboxEvent.id).where(
                OutboxEvent.org_id == tenant.org_id, OutboxEvent.type == "customer.created"
            )
        )
    redis_a, redis_b = Redis.from_url(REDIS_URL), Redis.from_url(REDIS_URL)
    publisher, listener = EventBus(runtime.db, redis_a), EventBus(runtime.db, redis_b)
    listener.start()
    try:
        subscriber = listener.subscribe(tenant.org_id, ["customer.created"])
        await asyncio.sleep(0.3)  # its Redis subscription is live
        await publisher.announce([(str(event_id), str(tenant.org_id), "customer.created")])
        async with asyncio.timeout(10):
            heard = await subscriber.queue.get()
        assert heard is not None and heard["data"]["id"] == customer
        assert heard["id"] == str(event_id)
    finally:
        await listener.stop()
        await redis_a.aclose()
        await redis_b.aclose()


async def test_an_unknown_event_type_is_a_validation_error(app, tenant: Tenant):
    socket = Socket(app)
    assert (await socket.open())["type"] == "websocket.accept"
    await socket.send(
        {"type": "connection_init", "payload": {"Authorization": f"Bearer {tenant.access_token}"}}
    )
    assert (await socket.next_json())["type"] == "connection_ack"
    await socket.send(
        {"id": "1", "type": "subscribe",
         "payload": {"query": SUBSCRIBE, "variables": {"types": ["order.eaten"]}}}
    )  # fmt: skip
    message = await socket.next_json()  # an execution error: a `next` carrying it
    assert message["type"] == "next" and message["payload"]["data"] is None, message
    [error] = message["payload"]["errors"]
    assert error["extensions"]["code"] == "VALIDATION" and error["extensions"]["status"] == 422
    assert error["extensions"]["errors"] == [
        {"field": "types", "message": "types names no event type: order.eaten"}
    ]
    await socket.close()

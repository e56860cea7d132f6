"""Automations through REST and GraphQL: rules, versions, the manual trigger, real events
through the outbox relay (exactly once, no loops), roles."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from sqlalchemy import func, select, update

from elevatedpos.db.models import AutomationRun, OutboxEvent
from tests.conftest import Tenant, gql
from tests.test_campaigns import member as member_of_org
from tests.test_loyalty import create_program, fields, member, new_customer, problem

API = "/api/v1"
AUTOMATIONS = f"{API}/automations"
TRIGGER = f"{AUTOMATIONS}/trigger"

WELCOME = {
    "name": "Welcome",
    "trigger": "customer.created",
    "actions": [{"type": "tag_customer", "params": {"tag": "new"}}],
}
BIG_ORDER = {
    "name": "Big spenders",
    "trigger": "order.completed",
    "conditions": [{"field": "data.total.amount", "op": "gte", "value": 2000}],
    "actions": [
        {"type": "accrue_points", "params": {"points": 25}},
        {"type": "tag_customer", "params": {"tag": "big spender"}},
    ],
}


async def create(client, tenant: Tenant, body: dict[str, Any] | None = None) -> dict[str, Any]:
    response = await client.post(AUTOMATIONS, json=body or BIG_ORDER, headers=tenant.headers)
    assert response.status_code == 201, response.text
    return response.json()["data"]  # type: ignore[no-any-return]


async def customer_tags(client, tenant: Tenant, customer: str) -> list[str]:
    response = await client.get(f"{API}/customers/{customer}", headers=tenant.headers)
    return response.json()["data"]["tags"]  # type: ignore[no-any-return]


async def eventually(check: Any, seconds: float = 15.0) -> None:
    """Until `check()` is true (the relay runs in the background)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "the relay did not get to it"
        await asyncio.sleep(0.05)


async def all_published(runtime, tenant: Tenant) -> bool:
    async with runtime.db.read() as session:
        waiting = await session.scalar(
            select(func.count())
            .select_from(OutboxEvent)
            .where(OutboxEvent.org_id == tenant.org_id, OutboxEvent.published_at.is_(None))
        )
    return waiting == 0


async def settle(runtime, tenant: Tenant, seconds: float = 15.0) -> None:
    """Until the relay has published every event of the tenant's org."""

    async def published() -> bool:
        return await all_published(runtime, tenant)

    await eventually(published, seconds)


async def runs_of(runtime, automation_id: str) -> list[tuple[bool, bool, list[str]]]:
    async with runtime.db.read() as session:
        rows = (
            await session.scalars(
                select(AutomationRun)
                .where(AutomationRun.automation_id == uuid.UUID(automation_id))
                .order_by(AutomationRun.created_at, AutomationRun.id)
            )
        ).all()
    return [(r.manual, r.matched, [a["status"] for a in r.results]) for r in rows]


# --- the rules -------------------------------------------------------------------------------


async def test_a_rule_is_created_read_changed_and_deleted(client, tenant: Tenant):
    made = await create(client, tenant)
    assert made["trigger"] == "order.completed" and made["enabled"] is True
    assert made["conditions"] == BIG_ORDER["conditions"]
    assert made["actions"] == BIG_ORDER["actions"] and made["version"] == 1
    url = f"{AUTOMATIONS}/{made['id']}"
    got = await client.get(url, headers=tenant.headers)
    assert got.status_code == 200 and got.headers["etag"] == '"1"'
    listed = await client.get(AUTOMATIONS, headers=tenant.headers)
    assert [a["id"] for a in listed.json()["data"]] == [made["id"]]
    changed = await client.patch(
        url, json={"enabled": False}, headers={**tenant.headers, "If-Match": '"1"'}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["data"]["enabled"] is False and changed.json()["data"]["version"] == 2
    stale = await client.patch(
        url, json={"name": "x"}, headers={**tenant.headers, "If-Match": '"1"'}
    )
    problem(stale, 412, "precondition-failed")
    deleted = await client.delete(url, headers=tenant.headers)
    assert deleted.status_code == 200 and deleted.json()["data"]["id"] == made["id"]
    problem(await client.get(url, headers=tenant.headers), 404, "not-found")
    problem(await client.delete(url, headers=tenant.headers), 404, "not-found")
    assert (await client.get(AUTOMATIONS, headers=tenant.headers)).json()["data"] == []


async def test_a_bad_rule_is_422_naming_every_field(client, tenant: Tenant):
    response = await client.post(
        AUTOMATIONS,
        json={
            "name": "",
            "trigger": "order.eaten",
            "conditions": [{"field": "data.x", "op": "in", "value": 3}],
            "actions": [
                {"type": "accrue_points", "params": {"points": -1}},
                {"type": "send_webhook", "params": {"webhookId": str(uuid.uuid4())}},
            ],
        },
        headers=tenant.headers,
    )
    assert fields(problem(response, 422, "validation")) == {
        "name",
        "trigger",
        "conditions.0.value",
        "actions.0.params.points",
        "actions.1.params.webhookId",
    }
    unknown_op = await client.post(
        AUTOMATIONS,
        json={**BIG_ORDER, "conditions": [{"field": "data.x", "op": "like", "value": 1}]},
        headers=tenant.headers,
    )
    assert fields(problem(unknown_op, 422, "validation")) == {"conditions.0.op"}
    assert (await client.get(AUTOMATIONS, headers=tenant.headers)).json()["data"] == []


# --- firing them -----------------------------------------------------------------------------


async def test_the_manual_trigger_runs_matching_rules_for_real(client, runtime, tenant: Tenant):
    await create_program(client, tenant)
    customer = await new_customer(client, tenant)
    rule = await create(client, tenant)
    other = await create(
        client,
        tenant,
        {**BIG_ORDER, "name": "Tea drinkers", "conditions": [
            {"field": "data.note", "op": "contains", "value": "tea"}
        ]},
    )  # fmt: skip
    await create(client, tenant, {**BIG_ORDER, "name": "Off", "enabled": False})
    await create(client, tenant, {**BIG_ORDER, "name": "Voids", "trigger": "order.voided"})
    payload = {"customerId": customer, "total": {"amount": 2500, "currency": "AUD"}}
    response = await client.post(
        TRIGGER, json={"event": "order.completed", "payload": payload}, headers=tenant.headers
    )
    assert response.status_code == 200, response.text
    runs = {r["automationId"]: r for r in response.json()["data"]}
    assert set(runs) == {rule["id"], other["id"]}  # enabled rules of this event only
    assert runs[rule["id"]]["matched"] is True
    assert [(a["type"], a["status"]) for a in runs[rule["id"]]["actions"]] == [
        ("accrue_points", "ok"),
        ("tag_customer", "ok"),
    ]
    assert runs[other["id"]]["matched"] is False
    assert {a["status"] for a in runs[other["id"]]["actions"]} == {"skipped"}
    assert (await member(client, tenant, customer))["pointsBalance"] == 25
    assert await customer_tags(client, tenant, customer) == ["big spender"]
    assert await runs_of(runtime, rule["id"]) == [(True, True, ["ok", "ok"])]
    # no customer in the event: skipped, not failed; another org's customer: failed
    response = await client.post(
        TRIGGER,
        json={"event": "order.completed", "payload": {"total": {"amount": 5000}}},
        headers=tenant.headers,
    )
    statuses = [a["status"] for a in response.json()["data"][0]["actions"]]
    assert statuses == ["skipped", "skipped"]
    response = await client.post(
        TRIGGER,
        json={
            "event": "order.completed",
            "payload": {"customerId": str(uuid.uuid4()), "total": {"amount": 5000}},
        },
        headers=tenant.headers,
    )
    assert [a["status"] for a in response.json()["data"][0]["actions"]] == ["failed", "failed"]
    bad = await client.post(
        TRIGGER, json={"event": "nothing.happened", "payload": []}, headers=tenant.headers
    )
    assert fields(problem(bad, 422, "validation")) == {"event", "payload"}


async def test_real_events_run_rules_once_through_the_relay(client, runtime, tenant: Tenant):
    await create_program(client, tenant, pointsPerDollar=1)
    customer = await new_customer(client, tenant)
    rule = await create(client, tenant)
    product = await client.post(
        f"{API}/products",
        json={"name": "Cake", "sku": f"CK-{uuid.uuid4().hex[:6]}", "price": {"amount": 1250},
              "trackInventory": False},
        headers=tenant.headers,
    )  # fmt: skip
    line = {"productId": product.json()["data"]["id"], "quantity": 2}

    async def sell_and_complete(quantity: int) -> None:
        made = await client.post(
            f"{API}/orders",
            json={
                "locationId": str(tenant.location_id),
                "customerId": customer,
                "lineItems": [{**line, "quantity": quantity}],
            },
            headers=tenant.headers,
        )
        order = made.json()["data"]
        paid = await client.post(
            f"{API}/payments",
            json={"orderId": order["id"], "amount": order["total"], "method": "cash"},
            headers=tenant.headers,
        )
        assert paid.status_code == 201, paid.text
        done = await client.patch(
            f"{API}/orders/{order['id']}/status",
            json={"status": "completed"},
            headers=tenant.headers,
        )
        assert done.status_code == 200, done.text

    await sell_and_complete(2)  # 25.00: the rule matches
    await sell_and_complete(1)  # 12.50: it does not

    await settle(runtime, tenant)
    # 25 + 12 points for the orders themselves, 25 from the rule, once
    assert (await member(client, tenant, customer))["pointsBalance"] == 25 + 12 + 25
    assert await customer_tags(client, tenant, customer) == ["big spender"]
    assert await runs_of(runtime, rule["id"]) == [
        (False, True, ["ok", "ok"]),
        (False, False, ["skipped", "skipped"]),
    ]
    await asyncio.sleep(0.6)  # more polls of the relay change nothing
    assert len(await runs_of(runtime, rule["id"])) == 2


async def test_what_a_rule_does_sets_off_no_rule(client, runtime, tenant: Tenant):
    """A tag written by a rule is a customer.updated event that no rule runs on; the same
    change made by a person runs them."""
    await create(client, tenant, WELCOME)
    loop = await create(
        client,
        tenant,
        {"name": "Retag", "trigger": "customer.updated",
         "actions": [{"type": "tag_customer", "params": {"tag": "seen"}}]},
    )  # fmt: skip
    customer = await new_customer(client, tenant)

    await settle(runtime, tenant)
    assert await customer_tags(client, tenant, customer) == ["new"]
    assert await runs_of(runtime, loop["id"]) == []
    edited = await client.patch(
        f"{API}/customers/{customer}", json={"firstName": "Grace"}, headers=tenant.headers
    )
    assert edited.status_code == 200, edited.text
    await settle(runtime, tenant)
    assert await customer_tags(client, tenant, customer) == ["new", "seen"]
    assert await runs_of(runtime, loop["id"]) == [(False, True, ["ok"])]


# --- GraphQL, roles ------------------------------------------------------------------------


async def test_graphql_twins_and_roles(client, runtime, tenant: Tenant):
    created = await gql(
        client,
        """mutation($input: CreateAutomationInput!) {
             createAutomation(input: $input) { id trigger conditions { op value } actions { type } }
           }""",
        {
            "input": {
                "name": "Vip",
                "trigger": "customer.created",
                "conditions": [{"field": "data.email", "op": "CONTAINS", "value": "@vip."}],
                "actions": [{"type": "TAG_CUSTOMER", "params": {"tag": "vip"}}],
            }
        },
        tenant.headers,
    )
    rule = created["data"]["createAutomation"]
    assert rule["conditions"] == [{"op": "CONTAINS", "value": "@vip."}]
    assert rule["actions"] == [{"type": "TAG_CUSTOMER"}]
    fired = await gql(
        client,
        """mutation($input: TriggerAutomationsInput!) {
             triggerAutomations(input: $input) { automationId matched actions { status } }
           }""",
        {"input": {"event": "customer.created", "payload": {"email": "a@example.com"}}},
        tenant.headers,
    )
    assert fired["data"]["triggerAutomations"] == [
        {"automationId": rule["id"], "matched": False, "actions": [{"status": "SKIPPED"}]}
    ]
    listed = await gql(client, "{ automations(first: 5) { nodes { id } } }", None, tenant.headers)
    assert listed["data"]["automations"]["nodes"] == [{"id": rule["id"]}]
    staff = await member_of_org(runtime, tenant, "staff")
    assert (await client.get(AUTOMATIONS, headers=staff.headers)).status_code == 200
    refused = await client.post(AUTOMATIONS, json=BIG_ORDER, headers=staff.headers)
    problem(refused, 403, "forbidden")
    refused = await client.post(
        TRIGGER, json={"event": "order.completed", "payload": {}}, headers=staff.headers
    )
    problem(refused, 403, "forbidden")
    manager = await member_of_org(runtime, tenant, "manager")
    assert (
        await client.post(AUTOMATIONS, json=BIG_ORDER, headers=manager.headers)
    ).status_code == 201


async def test_relays_of_several_workers_run_each_event_once(client, runtime, tenant: Tenant):
    """Relays of several workers on one outbox: 40 events committed together and taken by
    three relays at once (and the app's own) run the rule once each."""
    from elevatedpos.events.outbox import new_event
    from elevatedpos.events.relay import OutboxRelay

    rule = await create(client, tenant, WELCOME)
    customer = await new_customer(client, tenant)

    await settle(runtime, tenant)
    before = len(await runs_of(runtime, rule["id"]))
    relays = [OutboxRelay(runtime.settings.database_url) for _ in range(3)]
    try:
        async with runtime.db.write() as session:
            for _ in range(40):
                session.add(new_event(tenant.org_id, "customer.created", {"id": customer}))
        await asyncio.gather(*(relay.publish_pending() for relay in relays))
        await settle(runtime, tenant)
    finally:
        for relay in relays:
            await relay.stop()
    async with runtime.db.read() as session:
        per_event = (
            await session.execute(
                select(AutomationRun.event_id, func.count())
                .where(AutomationRun.automation_id == uuid.UUID(rule["id"]))
                .group_by(AutomationRun.event_id)
            )
        ).all()
    assert len(per_event) == before + 40 and {n for _, n in per_event} == {1}


async def test_the_relay_prunes_what_is_past_its_retention(client, runtime, tenant: Tenant):
    """Published events, finished deliveries and runs older than the retention go; pending
    ones, and recent ones, stay."""
    from datetime import timedelta

    from elevatedpos.db.types import utcnow
    from elevatedpos.events.outbox import new_event
    from elevatedpos.events.relay import OutboxRelay

    rule = await create(client, tenant, WELCOME)
    await new_customer(client, tenant)

    await settle(runtime, tenant)
    long_ago = utcnow() - timedelta(days=31)
    async with runtime.db.write() as session:
        pending = new_event(tenant.org_id, "product.created", {"id": "x"})
        pending.created_at = long_ago
        session.add(pending)  # old but never published: kept
        await session.execute(
            update(OutboxEvent)
            .where(OutboxEvent.org_id == tenant.org_id, OutboxEvent.type == "customer.created")
            .values(published_at=long_ago)
        )
        await session.execute(
            update(AutomationRun)
            .where(AutomationRun.automation_id == uuid.UUID(rule["id"]))
            .values(created_at=long_ago)
        )
    relay = OutboxRelay(runtime.settings.database_url, retention_days=30)
    try:
        assert await relay.prune() >= 2
    finally:
        await relay.stop()
    async with runtime.db.read() as session:
        kinds = (
            await session.scalars(
                select(OutboxEvent.type).where(OutboxEvent.org_id == tenant.org_id)
            )
        ).all()
    assert "customer.created" not in kinds and "product.created" in kinds
    assert await runs_of(runtime, rule["id"]) == []


async def test_a_commit_wakes_its_workers_relay_at_once(database_url, runtime, tenant, monkeypatch):
    """Events are published when their transaction commits, not at the relay's next poll:
    with the poll an hour long, a product's and a sale's events are still published."""
    from asgi_lifespan import LifespanManager

    from elevatedpos.app import create_app
    from elevatedpos.events import relay
    from elevatedpos.settings import Settings
    from tests.conftest import new_client

    monkeypatch.setattr(relay, "POLL_SECONDS", 3600.0)
    await settle(runtime, tenant)  # the org's own events, by the session's app
    await asyncio.sleep(1.5)  # every relay that was waiting out a shorter poll now waits an hour
    worker = create_app(Settings.from_env({}, database_url=database_url))
    async with LifespanManager(worker), new_client(worker) as client:
        await asyncio.sleep(0.2)  # its relay's first pass is over: it waits to be woken
        made = await client.post(
            f"{API}/products",
            json={"name": "Flat white", "sku": f"FW-{uuid.uuid4().hex[:6]}",
                  "price": {"amount": 500, "currency": "AUD"}, "trackInventory": False},
            headers=tenant.headers,
        )  # fmt: skip
        assert made.status_code == 201, made.text
        await settle(runtime, tenant, seconds=10)
        sold = await client.post(
            f"{API}/orders",
            json={"locationId": str(tenant.location_id),
                  "lineItems": [{"productId": made.json()["data"]["id"], "quantity": 1}]},
            headers=tenant.headers,
        )  # fmt: skip
        assert sold.status_code == 201, sold.text
        await settle(runtime, tenant, seconds=10)
    monkeypatch.undo()
    runtime.relay.nudge()  # the session's relay waits out the usual poll again

"""Money and stock under concurrency and retries; statements per order and per orders page.

These run on SQLite (writers serialized) and on PostgreSQL, where the row locks do the work.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import pytest
from sqlalchemy import text

from tests.conftest import Tenant, gql

ORDERS = "/api/v1/orders"
PAYMENTS = "/api/v1/payments"


async def product(client, tenant: Tenant, price: int = 500, stock: int | None = 100) -> str:
    sku = f"SKU-{uuid.uuid4().hex[:10]}"
    created = await client.post(
        "/api/v1/products",
        json={"name": f"Item {sku}", "sku": sku, "price": {"amount": price}},
        headers=tenant.headers,
    )
    assert created.status_code == 201, created.text
    product_id: str = created.json()["data"]["id"]
    if stock:
        adjusted = await client.post(
            "/api/v1/inventory/adjust",
            json={
                "productId": product_id,
                "locationId": str(tenant.location_id),
                "delta": stock,
                "reason": "received",
            },
            headers=tenant.headers,
        )
        assert adjusted.status_code == 200, adjusted.text
    return product_id


def cart(tenant: Tenant, *lines: tuple[str, int], **extra: Any) -> dict[str, Any]:
    return {
        "locationId": str(tenant.location_id),
        "lineItems": [{"productId": p, "quantity": q} for p, q in lines],
        **extra,
    }


async def on_hand(client, tenant: Tenant, product_id: str) -> int:
    levels = await client.get(
        "/api/v1/inventory/levels", params={"productId": product_id}, headers=tenant.headers
    )
    return sum(level["onHand"] for level in levels.json()["data"])


async def new_order(client, tenant: Tenant, price: int = 1000) -> dict[str, Any]:
    pid = await product(client, tenant, price=price)
    created = await client.post(ORDERS, json=cart(tenant, (pid, 1)), headers=tenant.headers)
    assert created.status_code == 201, created.text
    return created.json()["data"]  # type: ignore[no-any-return]


async def order_of(client, tenant: Tenant, order_id: str) -> dict[str, Any]:
    response = await client.get(f"{ORDERS}/{order_id}", headers=tenant.headers)
    assert response.status_code == 200, response.text
    return response.json()["data"]  # type: ignore[no-any-return]


async def test_twenty_orders_for_the_last_five_units_sell_exactly_five(client, make_tenant) -> None:
    tenant = await make_tenant()
    pid = await product(client, tenant, stock=5)
    responses = await asyncio.wait_for(
        asyncio.gather(
            *(
                client.post(ORDERS, json=cart(tenant, (pid, 1)), headers=tenant.headers)
                for _ in range(20)
            )
        ),
        timeout=60,
    )
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 5, 409: 15}, [r.text for r in responses if r.status_code >= 500]
    assert await on_hand(client, tenant, pid) == 0
    # numbers count up from 1 with no gap and no duplicate, whatever lost the race
    numbers = sorted(r.json()["data"]["number"] for r in responses if r.status_code == 201)
    assert numbers == [1, 2, 3, 4, 5]
    sales = await client.get(
        "/api/v1/inventory/movements",
        params={"productId": pid, "type": "sale"},
        headers=tenant.headers,
    )
    assert [m["delta"] for m in sales.json()["data"]] == [-1] * 5


async def test_carts_locking_the_same_items_in_opposite_order_do_not_deadlock(
    client, tenant: Tenant
) -> None:
    a, b = await product(client, tenant), await product(client, tenant)
    bodies = [cart(tenant, (a, 1), (b, 1)), cart(tenant, (b, 1), (a, 1))] * 10
    responses = await asyncio.wait_for(
        asyncio.gather(
            *(client.post(ORDERS, json=body, headers=tenant.headers) for body in bodies)
        ),
        timeout=60,
    )
    assert [r.status_code for r in responses] == [201] * 20
    assert await on_hand(client, tenant, a) == 80
    assert await on_hand(client, tenant, b) == 80


@asynccontextmanager
async def holding_the_stock_of(runtime, tenant: Tenant, product_id: str) -> AsyncIterator[None]:
    """Another writer holds the item while the block runs: on PostgreSQL the advisory lock
    sales of it queue on, on SQLite the write lock."""
    if runtime.db.is_sqlite:
        async with runtime.db.write():
            yield
        return
    url = runtime.db.url.replace("postgresql+asyncpg://", "postgresql://")
    holder = await asyncpg.connect(url)
    try:
        async with holder.transaction():
            key = f"stock:{tenant.location_id}:{product_id}"
            await holder.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", key)
            yield
    finally:
        await holder.close()


async def sessions_left_in_a_transaction(runtime) -> int:
    if runtime.db.is_sqlite:
        return 0
    async with runtime.db.read() as session:
        return int(
            await session.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND state LIKE 'idle in transaction%'"
                )
            )
        )


async def test_a_sale_cancelled_while_it_queues_leaves_nothing_behind(
    client, runtime, tenant: Tenant
) -> None:
    """The client went away (or the server is stopping) while its sale waited for the item:
    nothing is written, and the connection it held goes back to the pool clean."""
    from elevatedpos.actions.orders import create_order
    from elevatedpos.schema.orders import CreateOrderInput, OrderLineInput

    pid = await product(client, tenant, stock=10)
    sale = CreateOrderInput(
        location_id=str(tenant.location_id),
        line_items=[OrderLineInput(product_id=pid, quantity=2)],
    )
    async with holding_the_stock_of(runtime, tenant, pid):
        task = asyncio.create_task(create_order(runtime.db, tenant.org_id, None, sale))
        await asyncio.sleep(0.3)  # priced, and now queued behind the holder
        assert not task.done()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    for _ in range(50):
        if await sessions_left_in_a_transaction(runtime) == 0:
            break
        await asyncio.sleep(0.05)
    assert await sessions_left_in_a_transaction(runtime) == 0
    assert await on_hand(client, tenant, pid) == 10
    for _ in range(3):
        made = await client.post(ORDERS, json=cart(tenant, (pid, 1)), headers=tenant.headers)
        assert made.status_code == 201, made.text
    listed = await client.get(ORDERS, headers=tenant.headers)
    assert sorted(o["number"] for o in listed.json()["data"]) == [1, 2, 3]
    assert await on_hand(client, tenant, pid) == 7


async def test_concurrent_payments_never_take_more_than_the_balance(client, tenant: Tenant) -> None:
    order = await new_order(client, tenant, price=1000)
    body = {"orderId": order["id"], "amount": {"amount": 400}, "method": "cash"}
    responses = await asyncio.wait_for(
        asyncio.gather(
            *(client.post(PAYMENTS, json=body, headers=tenant.headers) for _ in range(10))
        ),
        timeout=60,
    )
    assert Counter(r.status_code for r in responses) == {201: 2, 422: 8}
    after = await order_of(client, tenant, order["id"])
    assert after["amountPaid"]["amount"] == 800
    assert after["balance"]["amount"] == 200


async def test_concurrent_authorizations_and_cash_share_one_balance(client, tenant: Tenant) -> None:
    order = await new_order(client, tenant, price=1000)
    cash = {"orderId": order["id"], "amount": {"amount": 600}, "method": "cash"}
    card = {"orderId": order["id"], "amount": {"amount": 600}, "method": "card", "capture": False}
    responses = await asyncio.wait_for(
        asyncio.gather(
            *(client.post(PAYMENTS, json=body, headers=tenant.headers) for body in [cash, card] * 5)
        ),
        timeout=60,
    )
    assert Counter(r.status_code for r in responses) == {201: 1, 422: 9}
    after = await order_of(client, tenant, order["id"])
    held = after["amountPaid"]["amount"] + sum(
        p["amount"]["amount"] for p in after["payments"] if p["status"] == "authorized"
    )
    assert held == 600


async def test_an_authorization_is_captured_once_under_concurrent_captures(
    client, tenant: Tenant
) -> None:
    order = await new_order(client, tenant, price=1000)
    created = await client.post(
        PAYMENTS,
        json={
            "orderId": order["id"],
            "amount": {"amount": 1000},
            "method": "card",
            "capture": False,
        },
        headers=tenant.headers,
    )
    assert created.status_code == 201, created.text
    payment_id = created.json()["data"]["id"]
    responses = await asyncio.wait_for(
        asyncio.gather(
            *(
                client.post(f"{PAYMENTS}/{payment_id}/capture", json={}, headers=tenant.headers)
                for _ in range(10)
            )
        ),
        timeout=60,
    )
    assert Counter(r.status_code for r in responses) == {200: 1, 409: 9}
    after = await order_of(client, tenant, order["id"])
    assert after["amountPaid"]["amount"] == 1000
    assert [p["capturedAmount"]["amount"] for p in after["payments"]] == [1000]


async def test_concurrent_full_refunds_give_the_money_back_once(client, tenant: Tenant) -> None:
    order = await new_order(client, tenant, price=1000)
    paid = await client.post(
        PAYMENTS,
        json={"orderId": order["id"], "amount": {"amount": 1000}, "method": "cash"},
        headers=tenant.headers,
    )
    assert paid.status_code == 201
    done = await client.patch(
        f"{ORDERS}/{order['id']}/status", json={"status": "completed"}, headers=tenant.headers
    )
    assert done.status_code == 200, done.text
    responses = await asyncio.wait_for(
        asyncio.gather(
            *(
                client.post(
                    f"{ORDERS}/{order['id']}/refund",
                    json={"reason": "changed mind"},
                    headers=tenant.headers,
                )
                for _ in range(8)
            )
        ),
        timeout=60,
    )
    assert Counter(r.status_code for r in responses) == {201: 1, 409: 7}
    after = await order_of(client, tenant, order["id"])
    assert after["status"] == "refunded"
    assert after["amountRefunded"]["amount"] == 1000
    assert len(after["refunds"]) == 1


async def test_concurrent_retries_with_one_idempotency_key_charge_once(
    client, tenant: Tenant
) -> None:
    order = await new_order(client, tenant, price=1000)
    body = {"orderId": order["id"], "amount": {"amount": 300}, "method": "cash"}
    headers = {**tenant.headers, "Idempotency-Key": f"pay-{uuid.uuid4()}"}
    responses = await asyncio.wait_for(
        asyncio.gather(*(client.post(PAYMENTS, json=body, headers=headers) for _ in range(6))),
        timeout=60,
    )
    assert [r.status_code for r in responses] == [201] * 6
    assert len({r.json()["data"]["id"] for r in responses}) == 1
    after = await order_of(client, tenant, order["id"])
    assert after["amountPaid"]["amount"] == 300
    assert len(after["payments"]) == 1


CREATE_PAYMENT = """
mutation($input: CreatePaymentInput!) {
  createPayment(input: $input) { id status amount { amount } }
}
"""


async def test_graphql_mutations_honour_idempotency_keys(client, tenant: Tenant) -> None:
    order = await new_order(client, tenant, price=1000)
    variables = {"input": {"orderId": order["id"], "amount": {"amount": 250}, "method": "CASH"}}
    headers = {**tenant.headers, "Idempotency-Key": f"gql-{uuid.uuid4()}"}
    first = await client.post(
        "/graphql", json={"query": CREATE_PAYMENT, "variables": variables}, headers=headers
    )
    again = await client.post(
        "/graphql", json={"query": CREATE_PAYMENT, "variables": variables}, headers=headers
    )
    assert first.status_code == again.status_code == 200
    assert "errors" not in first.json(), first.text
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    after = await order_of(client, tenant, order["id"])
    assert after["amountPaid"]["amount"] == 250
    # the same key with another request is refused, and changes nothing
    other = {"input": {**variables["input"], "amount": {"amount": 100}}}
    changed = await client.post(
        "/graphql", json={"query": CREATE_PAYMENT, "variables": other}, headers=headers
    )
    assert changed.status_code == 422, changed.text
    assert (await order_of(client, tenant, order["id"]))["amountPaid"]["amount"] == 250
    # an answer where nothing ran (too much) is not kept: the corrected retry runs
    key = {**tenant.headers, "Idempotency-Key": f"gql-{uuid.uuid4()}"}
    too_much = {"input": {**variables["input"], "amount": {"amount": 5000}}}
    refused = await gql(client, CREATE_PAYMENT, too_much, key)
    assert refused["errors"][0]["extensions"]["code"] == "VALIDATION"
    corrected = {"input": {**variables["input"], "amount": {"amount": 50}}}
    fixed = await gql(client, CREATE_PAYMENT, corrected, key)
    assert fixed["data"]["createPayment"]["status"] == "CAPTURED", fixed
    assert (await order_of(client, tenant, order["id"]))["amountPaid"]["amount"] == 300


# --- statements ------------------------------------------------------------------------------


async def test_creating_an_order_runs_the_same_statements_for_1_and_20_lines(
    client, tenant: Tenant, count_statements
) -> None:
    group = await client.post(
        "/api/v1/modifiers",
        json={"name": "Milk", "options": [{"name": "Oat", "priceDelta": {"amount": 70}}]},
        headers=tenant.headers,
    )
    option = group.json()["data"]["options"][0]["id"]
    ids = []
    for i in range(20):
        sku = f"L-{i}-{uuid.uuid4().hex[:6]}"
        made = await client.post(
            "/api/v1/products",
            json={
                "name": f"Latte {i}",
                "sku": sku,
                "price": {"amount": 450 + i},
                "modifierGroupIds": [group.json()["data"]["id"]],
            },
            headers=tenant.headers,
        )
        ids.append(made.json()["data"]["id"])
        await client.post(
            "/api/v1/inventory/adjust",
            json={
                "productId": ids[-1],
                "locationId": str(tenant.location_id),
                "delta": 10,
                "reason": "received",
            },
            headers=tenant.headers,
        )

    def body(n: int) -> dict[str, Any]:
        return {
            "locationId": str(tenant.location_id),
            "lineItems": [
                {"productId": p, "quantity": 2, "modifierOptionIds": [option]} for p in ids[:n]
            ],
        }

    counts = {}
    for n in (1, 20):
        await client.get("/api/v1/auth/me", headers=tenant.headers)  # org limits cached
        with count_statements() as counter:
            created = await client.post(ORDERS, json=body(n), headers=tenant.headers)
        assert created.status_code == 201, created.text
        assert len(created.json()["data"]["lineItems"]) == n
        counts[n] = counter.count
    assert counts[1] == counts[20], counts


ORDERS_PAGE = """
query($n: Int!) {
  orders(first: $n) {
    edges { node {
      number total { amount }
      lineItems { name quantity product { name sku } }
      payments { status amount { amount } order { number } }
      refunds { amount { amount } }
      customer { email }
      location { name }
    } }
  }
}
"""


async def test_an_orders_page_runs_a_fixed_number_of_statements(
    client, tenant: Tenant, count_statements
) -> None:
    pid = await product(client, tenant, price=300, stock=500)
    customer = await client.post(
        "/api/v1/customers",
        json={"email": f"c-{uuid.uuid4().hex[:6]}@x.io"},
        headers=tenant.headers,
    )
    customer_id = customer.json()["data"]["id"]
    for i in range(30):
        created = await client.post(
            ORDERS,
            json=cart(tenant, (pid, 1 + i % 3), customerId=customer_id if i % 2 else None),
            headers=tenant.headers,
        )
        order = created.json()["data"]
        paid = await client.post(
            PAYMENTS,
            json={"orderId": order["id"], "amount": order["total"], "method": "cash"},
            headers=tenant.headers,
        )
        assert paid.status_code == 201, paid.text
    counts = {}
    for size in (5, 30):
        await gql(client, "{ __typename }", headers=tenant.headers)
        with count_statements() as counter:
            page = await gql(client, ORDERS_PAGE, {"n": size}, tenant.headers)
        assert "errors" not in page, page
        assert len(page["data"]["orders"]["edges"]) == size
        counts[size] = counter.count
    assert counts[5] == counts[30], counts
    node = page["data"]["orders"]["edges"][0]["node"]
    assert node["payments"][0]["order"] == {"number": node["number"]}
    assert node["lineItems"][0]["product"]["name"].startswith("Item ")

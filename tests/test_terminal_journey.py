"""A terminal rings up a sale the way CONTRACT.md describes it, and retries every call.

A latte with oat milk and a croissant under a campaign code, split between cash and a card
(authorized, then captured), completed, then part refunded with restock. Every call is sent
twice with the same Idempotency-Key, as after a lost answer: the second is a replay and
nothing is charged, taken or refunded twice. Once over REST, once over GraphQL.
"""

from __future__ import annotations

import uuid
from typing import Any

from tests.conftest import Tenant

API = "/api/v1"


async def _setup(client, tenant: Tenant) -> dict[str, Any]:
    h = tenant.headers
    milk = (
        await client.post(
            f"{API}/modifiers",
            json={"name": "Milk", "options": [{"name": "Oat", "priceDelta": {"amount": 80}}]},
            headers=h,
        )
    ).json()["data"]
    latte = (
        await client.post(
            f"{API}/products",
            json={
                "name": "Latte",
                "sku": f"LAT-{uuid.uuid4().hex[:6]}",
                "price": {"amount": 500},
                "modifierGroupIds": [milk["id"]],
            },
            headers=h,
        )
    ).json()["data"]
    croissant = (
        await client.post(
            f"{API}/products",
            json={
                "name": "Croissant",
                "sku": f"CRO-{uuid.uuid4().hex[:6]}",
                "price": {"amount": 600},
            },
            headers=h,
        )
    ).json()["data"]
    for product in (latte, croissant):
        stocked = await client.post(
            f"{API}/inventory/adjust",
            json={
                "productId": product["id"],
                "locationId": str(tenant.location_id),
                "delta": 10,
                "reason": "received",
            },
            headers=h,
        )
        assert stocked.status_code == 200, stocked.text
    code = f"HELLO{uuid.uuid4().hex[:4]}"
    campaign = await client.post(
        f"{API}/campaigns",
        json={
            "name": "Hello",
            "type": "discount",
            "status": "active",
            "code": code,
            "rules": {"percentOff": 10},
        },
        headers=h,
    )
    assert campaign.status_code == 201, campaign.text
    return {"latte": latte, "oat": milk["options"][0]["id"], "croissant": croissant, "code": code}


async def _twice(client, method: str, url: str, tenant: Tenant, body: Any, status: int) -> Any:
    """Send a call, then its retry with the same key; both answer the same."""
    headers = {**tenant.headers, "Idempotency-Key": str(uuid.uuid4())}
    first = await client.request(method, url, json=body, headers=headers)
    again = await client.request(method, url, json=body, headers=headers)
    assert first.status_code == status, first.text
    assert again.status_code == status and again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    return first.json()["data"]


async def _on_hand(client, tenant: Tenant, product_id: str) -> int:
    levels = await client.get(
        f"{API}/inventory/levels", params={"productId": product_id}, headers=tenant.headers
    )
    return sum(level["onHand"] for level in levels.json()["data"])


async def test_a_sale_over_rest_survives_every_retry(client, tenant: Tenant) -> None:
    menu = await _setup(client, tenant)
    cart = {
        "locationId": str(tenant.location_id),
        "lineItems": [
            {"productId": menu["latte"]["id"], "quantity": 2, "modifierOptionIds": [menu["oat"]]},
            {"productId": menu["croissant"]["id"], "quantity": 1},
        ],
        "campaignCode": menu["code"].lower(),
    }
    preview = (
        await client.post(f"{API}/orders/preview", json=cart, headers=tenant.headers)
    ).json()["data"]
    order = await _twice(client, "POST", f"{API}/orders", tenant, cart, 201)
    # 2 x (5.00 + 0.80) + 6.00 = 17.60, less 10 % = 15.84
    assert order["subtotal"]["amount"] == 1760
    assert order["discountTotal"]["amount"] == 176
    assert order["total"]["amount"] == preview["total"]["amount"] == 1584
    assert order["taxTotal"]["amount"] == sum(li["tax"]["amount"] for li in order["lineItems"])
    assert await _on_hand(client, tenant, menu["latte"]["id"]) == 8  # taken once

    cash = await _twice(
        client,
        "POST",
        f"{API}/payments",
        tenant,
        {"orderId": order["id"], "amount": {"amount": 584}, "method": "cash"},
        201,
    )
    assert cash["status"] == "captured"
    card = await _twice(
        client,
        "POST",
        f"{API}/payments",
        tenant,
        {"orderId": order["id"], "amount": {"amount": 1000}, "method": "card", "capture": False},
        201,
    )
    assert card["status"] == "authorized"
    captured = await _twice(client, "POST", f"{API}/payments/{card['id']}/capture", tenant, {}, 200)
    assert captured["capturedAmount"]["amount"] == 1000

    done = await client.patch(
        f"{API}/orders/{order['id']}/status",
        json={"status": "completed", "note": "thanks"},
        headers={**tenant.headers, "If-Match": f'"{order["version"] + 3}"'},
    )
    assert done.status_code == 200, done.text
    assert done.json()["data"]["amountPaid"]["amount"] == 1584

    latte_line = next(li for li in order["lineItems"] if li["productId"] == menu["latte"]["id"])
    refund = await _twice(
        client,
        "POST",
        f"{API}/orders/{order['id']}/refund",
        tenant,
        {
            "reason": "one latte spilt",
            "lineItems": [{"lineItemId": latte_line["id"], "quantity": 1}],
            "restock": True,
        },
        201,
    )
    assert refund["amount"]["amount"] == latte_line["total"]["amount"] // 2
    after = (await client.get(f"{API}/orders/{order['id']}", headers=tenant.headers)).json()["data"]
    assert after["status"] == "partially_refunded"
    assert after["amountRefunded"] == refund["amount"]
    assert [p["status"] for p in after["payments"]] == ["captured", "captured"]
    # the card (captured last) gives the money back first
    assert [p["refundedAmount"]["amount"] for p in after["payments"]] == [
        0,
        refund["amount"]["amount"],
    ]
    assert [h["status"] for h in after["history"]] == ["open", "completed", "partially_refunded"]
    assert await _on_hand(client, tenant, menu["latte"]["id"]) == 9  # restocked once


GQL_ORDER = """
mutation($input: CreateOrderInput!) {
  createOrder(input: $input) {
    id total { amount } discountTotal { amount }
    lineItems { id quantity total { amount } product { name } }
  }
}
"""
GQL_PAY = """
mutation($input: CreatePaymentInput!) { createPayment(input: $input) { id status } }
"""
GQL_CAPTURE = "mutation($id: ID!) { capturePayment(id: $id) { status capturedAmount { amount } } }"
GQL_COMPLETE = """
mutation($id: ID!) { updateOrderStatus(id: $id, input: {status: COMPLETED}) { status } }
"""
GQL_REFUND = """
mutation($id: ID!, $input: RefundOrderInput!) {
  refundOrder(id: $id, input: $input) { amount { amount } restock }
}
"""
GQL_READ = """
query($id: ID!) {
  order(id: $id) {
    status amountPaid { amount } amountRefunded { amount }
    payments { method status capturedAmount { amount } }
  }
}
"""


async def _gql_twice(client, tenant: Tenant, query: str, variables: dict[str, Any]) -> Any:
    headers = {**tenant.headers, "Idempotency-Key": str(uuid.uuid4())}
    body = {"query": query, "variables": variables}
    first = await client.post("/graphql", json=body, headers=headers)
    again = await client.post("/graphql", json=body, headers=headers)
    assert first.status_code == again.status_code == 200
    assert "errors" not in first.json(), first.text
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    return first.json()["data"]


async def test_a_sale_over_graphql_survives_every_retry(client, tenant: Tenant) -> None:
    menu = await _setup(client, tenant)
    cart = {
        "locationId": str(tenant.location_id),
        "lineItems": [
            {"productId": menu["latte"]["id"], "quantity": 2, "modifierOptionIds": [menu["oat"]]},
            {"productId": menu["croissant"]["id"], "quantity": 1},
        ],
        "campaignCode": menu["code"],
    }
    order = (await _gql_twice(client, tenant, GQL_ORDER, {"input": cart}))["createOrder"]
    assert order["total"] == {"amount": 1584} and order["discountTotal"] == {"amount": 176}
    assert order["lineItems"][0]["product"] == {"name": "Latte"}
    cash = {"orderId": order["id"], "amount": {"amount": 584}, "method": "CASH"}
    assert (await _gql_twice(client, tenant, GQL_PAY, {"input": cash}))["createPayment"][
        "status"
    ] == "CAPTURED"
    card_input = {
        "orderId": order["id"],
        "amount": {"amount": 1000},
        "method": "CARD",
        "capture": False,
    }
    card = (await _gql_twice(client, tenant, GQL_PAY, {"input": card_input}))["createPayment"]
    assert card["status"] == "AUTHORIZED"
    captured = await _gql_twice(client, tenant, GQL_CAPTURE, {"id": card["id"]})
    assert captured["capturePayment"] == {"status": "CAPTURED", "capturedAmount": {"amount": 1000}}
    completed = await _gql_twice(client, tenant, GQL_COMPLETE, {"id": order["id"]})
    assert completed["updateOrderStatus"] == {"status": "COMPLETED"}
    line = order["lineItems"][0]
    refund = await _gql_twice(
        client,
        tenant,
        GQL_REFUND,
        {
            "id": order["id"],
            "input": {
                "reason": "spilt",
                "lineItems": [{"lineItemId": line["id"], "quantity": 1}],
                "restock": True,
            },
        },
    )
    assert refund["refundOrder"] == {
        "amount": {"amount": line["total"]["amount"] // 2},
        "restock": True,
    }
    read = await client.post(
        "/graphql",
        json={"query": GQL_READ, "variables": {"id": order["id"]}},
        headers=tenant.headers,
    )
    final = read.json()["data"]["order"]
    assert final["status"] == "PARTIALLY_REFUNDED"
    assert final["amountPaid"] == {"amount": 1584}
    assert final["amountRefunded"] == {"amount": line["total"]["amount"] // 2}
    assert [(p["method"], p["capturedAmount"]["amount"]) for p in final["payments"]] == [
        ("CASH", 584),
        ("CARD", 1000),
    ]
    assert await _on_hand(client, tenant, menu["latte"]["id"]) == 9

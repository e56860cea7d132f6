"""Every route, tried with another org's ids: a 404 in a path, absent from every list."""

from __future__ import annotations

import json

from elevatedpos.rest_compat.routes import ROUTES
from tests.conftest import Tenant, gql


async def _their_world(client, other: Tenant) -> dict[str, str]:
    """Resources of another org, one of each kind, keyed by the path segment naming them."""
    h = other.headers
    category = (await client.post("/api/v1/categories", json={"name": "Theirs"}, headers=h)).json()
    group = (
        await client.post(
            "/api/v1/modifiers", json={"name": "Theirs", "options": [{"name": "o"}]}, headers=h
        )
    ).json()
    product = (
        await client.post(
            "/api/v1/products",
            json={
                "name": "Theirs",
                "sku": "THEIRS",
                "price": {"amount": 100},
                "categoryId": category["data"]["id"],
                "modifierGroupIds": [group["data"]["id"]],
            },
            headers=h,
        )
    ).json()
    stock = await client.post(
        "/api/v1/inventory/adjust",
        json={
            "productId": product["data"]["id"],
            "locationId": str(other.location_id),
            "delta": 1,
            "reason": "received",
        },
        headers=h,
    )
    assert stock.status_code == 200
    await client.post(
        "/api/v1/price-lists",
        json={"name": "Theirs", "locationIds": [str(other.location_id)], "prices": []},
        headers=h,
    )
    customer = (
        await client.post("/api/v1/customers", json={"email": "theirs@x.io"}, headers=h)
    ).json()
    campaign = (
        await client.post(
            "/api/v1/campaigns",
            json={
                "name": "Theirs",
                "type": "discount",
                "status": "active",
                "code": "THEIRS",
                "rules": {"percentOff": 10, "productIds": [product["data"]["id"]]},
            },
            headers=h,
        )
    ).json()
    order = (
        await client.post(
            "/api/v1/orders",
            json={
                "locationId": str(other.location_id),
                "customerId": customer["data"]["id"],
                "lineItems": [{"productId": product["data"]["id"], "quantity": 1}],
            },
            headers=h,
        )
    ).json()
    payment = (
        await client.post(
            "/api/v1/payments",
            json={
                "orderId": order["data"]["id"],
                "amount": {"amount": 50},
                "method": "card",
                "capture": False,
            },
            headers=h,
        )
    ).json()
    program = (
        await client.post(
            "/api/v1/loyalty/programs",
            json={
                "name": "Their club",
                "pointsPerDollar": 1,
                "rewards": [{"name": "Tea", "pointsCost": 1, "discount": {"amount": 300}}],
            },
            headers=h,
        )
    ).json()
    accrued = await client.post(
        "/api/v1/loyalty/points/accrue",
        json={"customerId": customer["data"]["id"], "points": 5, "reason": "theirs"},
        headers=h,
    )
    assert accrued.status_code == 200, accrued.text
    automation = (
        await client.post(
            "/api/v1/automations",
            json={
                "name": "Theirs",
                "trigger": "order.completed",
                "actions": [{"type": "accrue_points", "params": {"points": 5}}],
            },
            headers=h,
        )
    ).json()
    integration = (
        await client.post(
            "/api/v1/integrations", json={"name": "Theirs", "provider": "x"}, headers=h
        )
    ).json()
    return {
        "integrations": integration["data"]["id"],
        "automations": automation["data"]["id"],
        "loyalty": program["data"]["id"],
        "reward": program["data"]["rewards"][0]["id"],
        "orders": order["data"]["id"],
        "payments": payment["data"]["id"],
        "campaigns": campaign["data"]["id"],
        "customers": customer["data"]["id"],
        "locations": str(other.location_id),
        "products": product["data"]["id"],
        "modifiers": group["data"]["id"],
        "categories": category["data"]["id"],
    }


_VALID_BODIES = {
    "CreateWebhook": {"url": "https://hooks.example/x", "events": ["*"]},
    "UpdateOrderStatus": {"status": "voided"},
    "RefundOrder": {"reason": "theirs"},
}


async def test_no_route_reaches_or_lists_another_orgs_data(client, make_tenant):
    mine, other = await make_tenant(), await make_tenant()
    theirs = await _their_world(client, other)
    secret_ids = set(theirs.values()) | {str(other.org_id), str(other.user_id)}
    for route in ROUTES:
        if route.public or route.path.endswith("/logout"):
            continue
        if "{customerId}" in route.path:  # the loyalty member: their customer is none of mine
            url = route.path.replace("{customerId}", theirs["customers"])
            response = await client.get(url, headers=mine.headers)
            assert response.status_code == 404, (route.method, route.path, response.text)
        elif "{id}" in route.path:
            collection = route.path.split("/")[3]
            url = route.path.replace("{id}", theirs[collection])
            # a body valid in itself, so only the id can make the answer a 404
            body = _VALID_BODIES.get(route.operation, {}) if route.body else None
            response = await client.request(route.method, url, json=body, headers=mine.headers)
            assert response.status_code == 404, (route.method, route.path, response.text)
        elif route.method == "GET":
            response = await client.get(route.path, headers=mine.headers)
            assert response.status_code == 200, route.path
            text = json.dumps(response.json())
            leaked = [i for i in secret_ids if i in text]
            assert not leaked, (route.path, leaked)


NODE = "query($id: ID!) { node(id: $id) { id } }"


async def test_graphql_lookups_of_another_orgs_ids_find_nothing(client, make_tenant):
    mine, other = await make_tenant(), await make_tenant()
    theirs = await _their_world(client, other)
    for resource_id in [*theirs.values(), str(other.user_id)]:
        body = await gql(client, NODE, {"id": resource_id}, mine.headers)
        assert body["data"]["node"] is None, resource_id
    product = await gql(
        client,
        "query($id: ID!) { product(id: $id) { id } }",
        {"id": theirs["products"]},
        mine.headers,
    )
    assert product["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    # and their own ids work for them
    body = await gql(client, NODE, {"id": theirs["products"]}, other.headers)
    assert body["data"]["node"] == {"id": theirs["products"]}

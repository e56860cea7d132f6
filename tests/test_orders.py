"""Orders, payments and refunds through REST and GraphQL: server pricing, stock, numbering,
the status machine, card authorizations, refund arithmetic, idempotency, events, roles and
isolation."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import select

from elevatedpos.db.models import OutboxEvent
from tests.conftest import Tenant, gql
from tests.test_customers import scoped_headers
from tests.test_inventory import member

API = "/api/v1"
ORDERS = f"{API}/orders"
PREVIEW = f"{API}/orders/preview"
PAYMENTS = f"{API}/payments"
LEVELS = f"{API}/inventory/levels"
MOVEMENTS = f"{API}/inventory/movements"
ERRORS = "https://elevatedpos.com.au/errors/"
PROBLEM = "application/problem+json"

ORDER_KEYS = {
    "id",
    "number",
    "status",
    "locationId",
    "customerId",
    "lineItems",
    "subtotal",
    "discountTotal",
    "taxTotal",
    "total",
    "amountPaid",
    "amountRefunded",
    "balance",
    "campaignIds",
    "loyaltyReward",
    "payments",
    "refunds",
    "history",
    "note",
    "createdAt",
    "updatedAt",
    "version",
}
LINE_KEYS = {
    "id",
    "productId",
    "variantId",
    "name",
    "sku",
    "quantity",
    "unitPrice",
    "modifiers",
    "discount",
    "tax",
    "total",
}
PAYMENT_KEYS = {
    "id",
    "orderId",
    "amount",
    "method",
    "status",
    "capturedAmount",
    "refundedAmount",
    "createdAt",
    "capturedAt",
}
TEN = {"percentOff": 10}
REFUND_KEYS = {"id", "orderId", "amount", "lineItems", "reason", "restock", "createdAt"}


# --- helpers -------------------------------------------------------------------------------


def aud(amount: int) -> dict[str, Any]:
    return {"amount": amount, "currency": "AUD"}


def assert_problem(response, status: int, slug: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["type"] == ERRORS + slug and body["status"] == status
    return body


def error_fields(response) -> list[str]:
    assert response.status_code == 422, response.text
    return [e["field"] for e in response.json()["errors"]]


def parse_time(value: str) -> datetime:
    assert value.endswith("Z"), value
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def rfc3339(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def make_product(
    client,
    tenant: Tenant,
    *,
    price: int = 450,
    stock: int | None = 10,
    track: bool = True,
    tax_rate: int | None = None,
    variants: list[tuple[str, int | None]] | None = None,
    modifier_group_ids: list[str] | None = None,
    category_id: str | None = None,
    name: str | None = None,
) -> dict:
    """A product (with `stock` of each item at the tenant's location when tracked)."""
    sku = f"SKU-{uuid.uuid4().hex[:10]}"
    body: dict[str, Any] = {
        "name": name or f"Product {sku}",
        "sku": sku,
        "price": {"amount": price},
        "trackInventory": track,
        "variants": [
            {
                "name": vname,
                "sku": f"{sku}-{vname}",
                **({"price": {"amount": vprice}} if vprice is not None else {}),
            }
            for vname, vprice in variants or []
        ],
        "modifierGroupIds": modifier_group_ids or [],
    }
    if tax_rate is not None:
        body["taxRate"] = tax_rate
    if category_id is not None:
        body["categoryId"] = category_id
    response = await client.post(f"{API}/products", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    product = response.json()["data"]
    if track and stock:
        items = [v["id"] for v in product["variants"]] or [None]
        for variant_id in items:
            await receive(client, tenant, product["id"], stock, variant_id=variant_id)
    return product


async def receive(
    client, tenant: Tenant, product_id: str, quantity: int, *, location_id=None, variant_id=None
) -> None:
    body = {
        "productId": product_id,
        "locationId": str(location_id or tenant.location_id),
        "delta": quantity,
        "reason": "received",
    }
    if variant_id is not None:
        body["variantId"] = variant_id
    response = await client.post(f"{API}/inventory/adjust", json=body, headers=tenant.headers)
    assert response.status_code == 200, response.text


async def make_modifier_group(
    client, tenant: Tenant, options: list[tuple[str, int]], min_sel: int = 0, max_sel: int = 1
) -> dict:
    body = {
        "name": f"Group {uuid.uuid4().hex[:6]}",
        "minSelections": min_sel,
        "maxSelections": max_sel,
        "options": [{"name": n, "priceDelta": {"amount": d}} for n, d in options],
    }
    response = await client.post(f"{API}/modifiers", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    return response.json()["data"]


async def make_location(client, tenant: Tenant) -> str:
    response = await client.post(
        f"{API}/locations", json={"name": f"Store {uuid.uuid4().hex[:6]}"}, headers=tenant.headers
    )
    assert response.status_code == 201, response.text
    return response.json()["data"]["id"]


async def make_customer(client, tenant: Tenant) -> str:
    response = await client.post(
        f"{API}/customers",
        json={"email": f"c-{uuid.uuid4().hex[:8]}@example.com", "firstName": "Ada"},
        headers=tenant.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()["data"]["id"]


async def make_campaign(client, tenant: Tenant, **fields: Any) -> dict:
    body = {"name": "Promo", "type": "discount", "status": "active", **fields}
    response = await client.post(f"{API}/campaigns", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    return response.json()["data"]


def line(product: dict, quantity: int = 1, **extra: Any) -> dict[str, Any]:
    return {"productId": product["id"], "quantity": quantity, **extra}


def order_body(tenant: Tenant, *lines: dict, **extra: Any) -> dict[str, Any]:
    return {"locationId": str(tenant.location_id), "lineItems": list(lines), **extra}


async def post_order(client, tenant: Tenant, *lines: dict, headers=None, **extra: Any):
    return await client.post(
        ORDERS, json=order_body(tenant, *lines, **extra), headers=headers or tenant.headers
    )


async def create_order(client, tenant: Tenant, *lines: dict, **extra: Any) -> dict:
    response = await post_order(client, tenant, *lines, **extra)
    assert response.status_code == 201, response.text
    return response.json()["data"]


async def get_order(client, tenant: Tenant, order_id: str) -> dict:
    response = await client.get(f"{ORDERS}/{order_id}", headers=tenant.headers)
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def post_payment(
    client,
    tenant: Tenant,
    order_id: str,
    amount: int,
    method: str = "cash",
    headers=None,
    **extra: Any,
):
    body = {"orderId": order_id, "amount": aud(amount), "method": method, **extra}
    return await client.post(PAYMENTS, json=body, headers=headers or tenant.headers)


async def pay(client, tenant: Tenant, order_id: str, amount: int, method="cash", **extra) -> dict:
    response = await post_payment(client, tenant, order_id, amount, method, **extra)
    assert response.status_code == 201, response.text
    return response.json()["data"]


async def get_payment(client, tenant: Tenant, payment_id: str) -> dict:
    response = await client.get(f"{PAYMENTS}/{payment_id}", headers=tenant.headers)
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def set_status(client, tenant: Tenant, order_id: str, status: str, headers=None, **extra):
    return await client.patch(
        f"{ORDERS}/{order_id}/status",
        json={"status": status, **extra},
        headers={**tenant.headers, **(headers or {})},
    )


async def complete(client, tenant: Tenant, order_id: str) -> dict:
    response = await set_status(client, tenant, order_id, "completed")
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def post_refund(client, tenant: Tenant, order_id: str, headers=None, **body: Any):
    return await client.post(
        f"{ORDERS}/{order_id}/refund", json=body, headers=headers or tenant.headers
    )


async def refund(client, tenant: Tenant, order_id: str, **body: Any) -> dict:
    response = await post_refund(client, tenant, order_id, **body)
    assert response.status_code == 201, response.text
    return response.json()["data"]


async def paid_order(client, tenant: Tenant, *lines: dict) -> dict:
    """An order paid in cash and completed."""
    order = await create_order(client, tenant, *lines)
    await pay(client, tenant, order["id"], order["total"]["amount"])
    return await complete(client, tenant, order["id"])


async def list_all(client, tenant: Tenant, url: str, **params: Any) -> list[dict]:
    rows: list[dict] = []
    cursor = None
    for _ in range(100):
        query = {"limit": 100, **params, **({"cursor": cursor} if cursor else {})}
        response = await client.get(url, params=query, headers=tenant.headers)
        assert response.status_code == 200, response.text
        rows += response.json()["data"]
        cursor = response.json()["meta"]["nextCursor"]
        if cursor is None:
            return rows
    raise AssertionError("pagination did not end")


async def order_numbers(client, tenant: Tenant, **params: Any) -> list[int]:
    return [o["number"] for o in await list_all(client, tenant, ORDERS, **params)]


async def on_hand(client, tenant: Tenant, product_id: str, variant_id=None, location_id=None):
    rows = await list_all(
        client,
        tenant,
        LEVELS,
        productId=product_id,
        locationId=str(location_id or tenant.location_id),
    )
    rows = [r for r in rows if r["variantId"] == variant_id]
    assert len(rows) <= 1, rows
    return rows[0]["onHand"] if rows else 0


async def movements_of(client, tenant: Tenant, product_id: str, type_: str | None = None):
    params = {"productId": product_id, **({"type": type_} if type_ else {})}
    return await list_all(client, tenant, MOVEMENTS, **params)


async def events(runtime, tenant: Tenant, *types: str) -> list[tuple[str, dict]]:
    async with runtime.db.read() as session:
        rows = (
            await session.scalars(
                select(OutboxEvent)
                .where(OutboxEvent.org_id == tenant.org_id, OutboxEvent.type.in_(types))
                .order_by(OutboxEvent.created_at, OutboxEvent.id)
            )
        ).all()
    return [(row.type, row.data) for row in rows]


def with_key(tenant: Tenant, key: str | None = None) -> dict[str, str]:
    return {**tenant.headers, "Idempotency-Key": key or f"k-{uuid.uuid4()}"}


# --- creating orders -----------------------------------------------------------------------


async def test_create_prices_takes_stock_and_numbers_the_order(client, tenant: Tenant):
    latte = await make_product(client, tenant, price=450, stock=5)
    muffin = await make_product(client, tenant, price=395, stock=3)
    response = await post_order(client, tenant, line(latte, 2), line(muffin, 1), note="Table 4")
    assert response.status_code == 201, response.text
    order = response.json()["data"]
    assert set(order) == ORDER_KEYS
    assert order["number"] == 1 and order["status"] == "open"
    assert order["locationId"] == str(tenant.location_id) and order["customerId"] is None
    assert order["note"] == "Table 4" and order["version"] == 1 and order["loyaltyReward"] is None
    assert [set(li) >= LINE_KEYS for li in order["lineItems"]] == [True, True]
    first, second = order["lineItems"]
    assert (first["productId"], first["variantId"], first["sku"]) == (
        latte["id"],
        None,
        latte["sku"],
    )
    assert first["name"] == latte["name"] and first["quantity"] == 2
    assert first["unitPrice"] == aud(450) and first["total"] == aud(900)
    assert first["tax"] == aud(82)  # round_half_up(900 * 1000 / 11000) = 81.8
    assert first["discount"] == aud(0) and first["modifiers"] == []
    assert second["unitPrice"] == aud(395) and second["tax"] == aud(36)  # 35.9
    assert order["subtotal"] == aud(1295) and order["total"] == aud(1295)
    assert order["taxTotal"] == aud(118) and order["discountTotal"] == aud(0)
    assert order["amountPaid"] == aud(0) and order["amountRefunded"] == aud(0)
    assert order["balance"] == aud(1295)
    assert order["campaignIds"] == [] and order["payments"] == [] and order["refunds"] == []
    assert len(order["history"]) == 1
    entry = order["history"][0]
    assert (entry["status"], entry["userId"], entry["note"]) == ("open", str(tenant.user_id), None)
    assert parse_time(entry["at"]) == parse_time(order["createdAt"])

    fetched = await client.get(f"{ORDERS}/{order['id']}", headers=tenant.headers)
    assert fetched.status_code == 200 and fetched.headers["etag"] == '"1"'
    assert fetched.json()["data"] == order

    assert await on_hand(client, tenant, latte["id"]) == 3
    assert await on_hand(client, tenant, muffin["id"]) == 2
    sale = await movements_of(client, tenant, latte["id"], "sale")
    assert len(sale) == 1
    assert sale[0]["delta"] == -2 and sale[0]["balanceAfter"] == 3
    assert sale[0]["referenceId"] == order["id"] and sale[0]["userId"] == str(tenant.user_id)
    assert sale[0]["locationId"] == str(tenant.location_id)


async def test_a_price_sent_by_the_client_is_refused(client, tenant: Tenant):
    latte = await make_product(client, tenant, price=450)
    response = await post_order(
        client, tenant, line(latte, 1, unitPrice={"amount": 1, "currency": "AUD"})
    )
    # Unknown fields are refused rather than silently trusted.
    assert "lineItems.0.unitPrice" in error_fields(response)
    order = await create_order(client, tenant, line(latte))
    assert order["total"] == aud(450)


async def test_variants_price_lists_and_the_product_price(client, tenant: Tenant):
    other_location = await make_location(client, tenant)
    shirt = await make_product(client, tenant, price=2000, variants=[("S", None), ("L", 2500)])
    small, large = shirt["variants"]
    mug = await make_product(client, tenant, price=1200)
    plain = await make_product(client, tenant, price=800)
    response = await client.post(
        f"{API}/price-lists",
        json={
            "name": "Airport",
            "locationIds": [str(tenant.location_id)],
            "prices": [
                {"productId": shirt["id"], "variantId": large["id"], "price": {"amount": 2900}},
                {"productId": mug["id"], "price": {"amount": 1500}},
            ],
        },
        headers=tenant.headers,
    )
    assert response.status_code == 201, response.text
    order = await create_order(
        client,
        tenant,
        line(shirt, 1, variantId=small["id"]),
        line(shirt, 1, variantId=large["id"]),
        line(mug),
        line(plain),
    )
    prices = [li["unitPrice"]["amount"] for li in order["lineItems"]]
    assert prices == [2000, 2900, 1500, 800]  # variant (product's), list, list, product
    assert [li["variantId"] for li in order["lineItems"][:2]] == [small["id"], large["id"]]
    assert order["lineItems"][1]["sku"] == large["sku"]
    assert order["total"] == aud(7200)
    assert await on_hand(client, tenant, shirt["id"], variant_id=large["id"]) == 9
    assert await on_hand(client, tenant, shirt["id"], variant_id=small["id"]) == 9

    # A location the price list does not name sells at the catalog prices.
    await receive(client, tenant, mug["id"], 1, location_id=other_location)
    await receive(
        client, tenant, shirt["id"], 1, location_id=other_location, variant_id=large["id"]
    )
    elsewhere = await create_order(
        client,
        tenant,
        line(shirt, 1, variantId=large["id"]),
        line(mug),
        locationId=other_location,
    )
    assert [li["unitPrice"]["amount"] for li in elsewhere["lineItems"]] == [2500, 1200]
    assert elsewhere["locationId"] == other_location
    assert await on_hand(client, tenant, mug["id"], location_id=other_location) == 0
    assert await on_hand(client, tenant, mug["id"]) == 9


async def test_modifier_deltas_are_added_per_unit(client, tenant: Tenant):
    milk = await make_modifier_group(client, tenant, [("Oat", 70), ("Skim", 0)])
    extras = await make_modifier_group(
        client, tenant, [("Shot", 50), ("Syrup", 60), ("Discount cup", -30)], 0, 3
    )
    latte = await make_product(
        client, tenant, price=450, modifier_group_ids=[milk["id"], extras["id"]]
    )
    oat = milk["options"][0]["id"]
    shot, syrup, cup = (o["id"] for o in extras["options"])
    order = await create_order(
        client, tenant, line(latte, 3, modifierOptionIds=[oat, shot, syrup, cup])
    )
    (li,) = order["lineItems"]
    assert li["unitPrice"] == aud(450 + 70 + 50 + 60 - 30)
    assert li["total"] == aud(3 * 600) and li["tax"] == aud(164)  # 163.6
    assert li["modifiers"] == [
        {"optionId": oat, "name": "Oat", "priceDelta": aud(70)},
        {"optionId": shot, "name": "Shot", "priceDelta": aud(50)},
        {"optionId": syrup, "name": "Syrup", "priceDelta": aud(60)},
        {"optionId": cup, "name": "Discount cup", "priceDelta": aud(-30)},
    ]


async def test_modifier_choices_outside_the_groups_rules_are_422(client, tenant: Tenant):
    size = await make_modifier_group(client, tenant, [("Small", 0), ("Large", 100)], 1, 1)
    loose = await make_modifier_group(client, tenant, [("Lid", 0)])
    latte = await make_product(client, tenant, modifier_group_ids=[size["id"]])
    small, large = (o["id"] for o in size["options"])
    field = "lineItems.0.modifierOptionIds"
    for options in ([], [small, large], [loose["options"][0]["id"]], [str(uuid.uuid4())]):
        response = await post_order(client, tenant, line(latte, 1, modifierOptionIds=options))
        assert field in error_fields(response), options
    good = await create_order(client, tenant, line(latte, 1, modifierOptionIds=[large]))
    assert good["total"] == aud(550) and good["number"] == 1
    assert await on_hand(client, tenant, latte["id"]) == 9


async def test_tax_is_per_line_rounded_half_up_at_the_products_rate(client, tenant: Tenant):
    # 15 * 2000 / 12000 = 2.5 → 3 (half up, not to even); 9 → 1.5 → 2.
    fifteen = await make_product(client, tenant, price=15, tax_rate=2000)
    nine = await make_product(client, tenant, price=9, tax_rate=2000)
    exempt = await make_product(client, tenant, price=1000, tax_rate=0)
    order = await create_order(client, tenant, line(fifteen), line(nine), line(exempt))
    assert [li["tax"]["amount"] for li in order["lineItems"]] == [3, 2, 0]
    assert order["taxTotal"] == aud(5) and order["total"] == aud(1024)
    # Tax is of the whole line, not of each unit: 3 * 15 = 45 → 7.5 → 8 (3 * 3 would be 9).
    three = await create_order(client, tenant, line(fifteen, 3))
    assert three["lineItems"][0]["tax"] == aud(8)


async def test_a_customer_can_be_named(client, tenant: Tenant):
    customer_id = await make_customer(client, tenant)
    latte = await make_product(client, tenant)
    order = await create_order(client, tenant, line(latte), customerId=customer_id)
    assert order["customerId"] == customer_id
    assert (await get_order(client, tenant, order["id"]))["customerId"] == customer_id


async def test_the_same_product_on_two_lines_takes_stock_for_both(client, tenant: Tenant):
    milk = await make_modifier_group(client, tenant, [("Oat", 70)])
    latte = await make_product(client, tenant, stock=3, modifier_group_ids=[milk["id"]])
    order = await create_order(
        client,
        tenant,
        line(latte, 2),
        line(latte, 1, modifierOptionIds=[milk["options"][0]["id"]]),
    )
    assert [li["total"]["amount"] for li in order["lineItems"]] == [900, 520]
    assert await on_hand(client, tenant, latte["id"]) == 0
    sold = await movements_of(client, tenant, latte["id"], "sale")
    assert sum(m["delta"] for m in sold) == -3
    assert {m["referenceId"] for m in sold} == {order["id"]}
    short = await post_order(client, tenant, line(latte, 1))
    assert_problem(short, 409, "conflict")


# --- validation ----------------------------------------------------------------------------


async def test_invalid_carts_are_422_naming_each_field_and_write_nothing(
    client, tenant: Tenant, make_tenant
):
    other = await make_tenant()
    theirs = await make_product(client, other)
    their_customer = await make_customer(client, other)
    latte = await make_product(client, tenant, stock=5)
    shirt = await make_product(client, tenant, variants=[("S", None)])
    mug = await make_product(client, tenant, variants=[("Blue", None)])
    archived = await make_product(client, tenant)
    response = await client.delete(f"{API}/products/{archived['id']}", headers=tenant.headers)
    assert response.status_code == 200, response.text
    loc = str(tenant.location_id)
    ok = line(latte)
    cases: list[tuple[dict[str, Any], list[str]]] = [
        ({"locationId": loc, "lineItems": []}, ["lineItems"]),
        ({"locationId": loc, "lineItems": [ok] * 101}, ["lineItems"]),
        ({"locationId": loc, "lineItems": [line(latte, 0)]}, ["lineItems.0.quantity"]),
        ({"locationId": loc, "lineItems": [ok, line(latte, -1)]}, ["lineItems.1.quantity"]),
        ({"locationId": loc, "lineItems": [line(latte, 10_001)]}, ["lineItems.0.quantity"]),
        (
            {"locationId": loc, "lineItems": [{"productId": str(uuid.uuid4()), "quantity": 1}]},
            ["lineItems.0.productId"],
        ),
        (
            {"locationId": loc, "lineItems": [{"productId": "not-a-uuid", "quantity": 1}]},
            ["lineItems.0.productId"],
        ),
        ({"locationId": loc, "lineItems": [ok, line(theirs)]}, ["lineItems.1.productId"]),
        ({"locationId": loc, "lineItems": [line(archived)]}, ["lineItems.0.productId"]),
        ({"locationId": loc, "lineItems": [line(shirt)]}, ["lineItems.0.variantId"]),
        (
            {"locationId": loc, "lineItems": [line(shirt, variantId=mug["variants"][0]["id"])]},
            ["lineItems.0.variantId"],
        ),
        (
            {"locationId": loc, "lineItems": [line(latte, variantId=shirt["variants"][0]["id"])]},
            ["lineItems.0.variantId"],
        ),
        ({"locationId": str(uuid.uuid4()), "lineItems": [ok]}, ["locationId"]),
        ({"locationId": str(other.location_id), "lineItems": [ok]}, ["locationId"]),
        ({"locationId": "nowhere", "lineItems": [ok]}, ["locationId"]),
        ({"lineItems": [ok]}, ["locationId"]),
        ({"locationId": loc, "lineItems": [ok], "customerId": str(uuid.uuid4())}, ["customerId"]),
        ({"locationId": loc, "lineItems": [ok], "customerId": their_customer}, ["customerId"]),
        ({"locationId": loc, "lineItems": [ok], "note": "x" * 1001}, ["note"]),
        ({"locationId": loc, "lineItems": [ok], "campaignCode": "NOPE"}, ["campaignCode"]),
    ]
    for body, fields in cases:
        response = await client.post(ORDERS, json=body, headers=tenant.headers)
        assert response.status_code == 422, (body, response.text)
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["type"] == ERRORS + "validation"
        assert error_fields(response) == fields, (fields, response.text)
    assert await order_numbers(client, tenant) == []
    assert await on_hand(client, tenant, latte["id"]) == 5
    assert await movements_of(client, tenant, latte["id"], "sale") == []
    # The limits themselves are fine, and nothing above used up a number.
    edge = await create_order(
        client, tenant, *([line(latte, 1)] * 4), note="n" * 1000, customerId=None
    )
    assert edge["number"] == 1 and len(edge["lineItems"]) == 4
    untracked = await make_product(client, tenant, track=False)
    big = await create_order(client, tenant, *([line(untracked, 10_000)] * 100))
    assert big["number"] == 2 and len(big["lineItems"]) == 100


async def test_several_bad_lines_are_reported_together(client, tenant: Tenant):
    size = await make_modifier_group(client, tenant, [("Small", 0)], 1, 1)
    latte = await make_product(client, tenant, modifier_group_ids=[size["id"]])
    shape = await post_order(
        client, tenant, line(latte, 0), {"productId": "nope", "quantity": 1}, line(latte, 1)
    )
    assert set(error_fields(shape)) == {"lineItems.0.quantity", "lineItems.1.productId"}
    catalog = await post_order(
        client,
        tenant,
        {"productId": str(uuid.uuid4()), "quantity": 1},
        line(latte, 1, modifierOptionIds=[]),
    )
    assert set(error_fields(catalog)) == {
        "lineItems.0.productId",
        "lineItems.1.modifierOptionIds",
    }


async def test_invalid_json_and_wrong_types_are_400_and_422(client, tenant: Tenant):
    response = await client.post(
        ORDERS,
        content=b"{not json",
        headers={**tenant.headers, "Content-Type": "application/json"},
    )
    assert_problem(response, 400, "bad-request")
    latte = await make_product(client, tenant)
    response = await post_order(client, tenant, {"productId": latte["id"], "quantity": "two"})
    assert error_fields(response) == ["lineItems.0.quantity"]


# --- stock and numbering -------------------------------------------------------------------


async def test_short_stock_is_409_naming_the_skus_and_writes_nothing(client, tenant: Tenant):
    latte = await make_product(client, tenant, stock=2)
    muffin = await make_product(client, tenant, stock=1)
    scone = await make_product(client, tenant, stock=5)
    response = await post_order(client, tenant, line(latte, 3), line(scone, 1), line(muffin, 2))
    body = assert_problem(response, 409, "conflict")
    assert f"{latte['sku']} (on hand 2, needs 3)" in body["detail"]
    assert f"{muffin['sku']} (on hand 1, needs 2)" in body["detail"]
    assert scone["sku"] not in body["detail"]
    assert await order_numbers(client, tenant) == []
    for product, left in ((latte, 2), (muffin, 1), (scone, 5)):
        assert await on_hand(client, tenant, product["id"]) == left
        assert await movements_of(client, tenant, product["id"], "sale") == []
    # Stock at another location does not help.
    elsewhere = await make_location(client, tenant)
    await receive(client, tenant, muffin["id"], 10, location_id=elsewhere)
    assert_problem(await post_order(client, tenant, line(muffin, 2)), 409, "conflict")
    order = await create_order(client, tenant, line(latte, 2), line(muffin, 1))
    assert order["number"] == 1
    assert await on_hand(client, tenant, latte["id"]) == 0
    assert await on_hand(client, tenant, muffin["id"], location_id=elsewhere) == 10


async def test_a_product_never_stocked_is_short(client, tenant: Tenant):
    latte = await make_product(client, tenant, stock=None)
    response = await post_order(client, tenant, line(latte))
    assert latte["sku"] in assert_problem(response, 409, "conflict")["detail"]
    assert await order_numbers(client, tenant) == []


async def test_untracked_products_take_no_stock(client, tenant: Tenant):
    gift = await make_product(client, tenant, track=False, stock=None)
    order = await create_order(client, tenant, line(gift, 50))
    assert order["total"] == aud(50 * 450)
    assert await on_hand(client, tenant, gift["id"]) == 0
    assert await movements_of(client, tenant, gift["id"]) == []
    await pay(client, tenant, order["id"], order["total"]["amount"])
    assert (await set_status(client, tenant, order["id"], "completed")).status_code == 200
    everything = await refund(client, tenant, order["id"], reason="returned", restock=True)
    assert everything["restock"] is True
    assert await movements_of(client, tenant, gift["id"]) == []


async def test_variant_stock_is_taken_per_variant(client, tenant: Tenant):
    shirt = await make_product(client, tenant, variants=[("S", None), ("M", None)], stock=2)
    small, medium = shirt["variants"]
    await create_order(client, tenant, line(shirt, 2, variantId=medium["id"]))
    assert await on_hand(client, tenant, shirt["id"], variant_id=medium["id"]) == 0
    assert await on_hand(client, tenant, shirt["id"], variant_id=small["id"]) == 2
    (sale,) = await movements_of(client, tenant, shirt["id"], "sale")
    assert sale["variantId"] == medium["id"] and sale["delta"] == -2
    response = await post_order(client, tenant, line(shirt, 1, variantId=medium["id"]))
    assert medium["sku"] in assert_problem(response, 409, "conflict")["detail"]


async def test_numbers_count_per_org_and_failures_use_none(client, tenant: Tenant, make_tenant):
    other = await make_tenant()
    mine = await make_product(client, tenant, stock=3)
    theirs = await make_product(client, other, stock=3)
    assert (await create_order(client, tenant, line(mine)))["number"] == 1
    assert (await create_order(client, other, line(theirs)))["number"] == 1
    assert (await post_order(client, tenant, line(mine, 5))).status_code == 409
    assert (await post_order(client, tenant, line(mine, 0))).status_code == 422
    assert (await create_order(client, tenant, line(mine)))["number"] == 2
    assert (await create_order(client, other, line(theirs)))["number"] == 2
    assert (await create_order(client, tenant, line(mine)))["number"] == 3
    assert await order_numbers(client, tenant) == [3, 2, 1]
    assert await order_numbers(client, other) == [2, 1]


# --- listing -------------------------------------------------------------------------------


async def test_list_is_newest_first_with_filters(client, tenant: Tenant, make_tenant):
    latte = await make_product(client, tenant, stock=50)
    elsewhere = await make_location(client, tenant)
    await receive(client, tenant, latte["id"], 5, location_id=elsewhere)
    customer = await make_customer(client, tenant)
    first = await create_order(client, tenant, line(latte), customerId=customer)
    second = await paid_order(client, tenant, line(latte))
    third = await create_order(client, tenant, line(latte), locationId=elsewhere)
    fourth = await create_order(client, tenant, line(latte), customerId=customer)
    assert (await set_status(client, tenant, fourth["id"], "voided")).status_code == 200

    listed = await list_all(client, tenant, ORDERS)
    assert [o["number"] for o in listed] == [4, 3, 2, 1]
    assert set(listed[0]) == ORDER_KEYS
    assert listed[0] == await get_order(client, tenant, fourth["id"])
    assert await order_numbers(client, tenant, status="open") == [3, 1]
    assert await order_numbers(client, tenant, status="completed") == [2]
    assert await order_numbers(client, tenant, status="voided") == [4]
    assert await order_numbers(client, tenant, status="refunded") == []
    assert await order_numbers(client, tenant, locationId=elsewhere) == [3]
    assert await order_numbers(client, tenant, locationId=str(tenant.location_id)) == [4, 2, 1]
    assert await order_numbers(client, tenant, customerId=customer) == [4, 1]
    assert await order_numbers(client, tenant, customerId=customer, status="open") == [1]
    for unknown in ({"customerId": str(uuid.uuid4())}, {"locationId": str(uuid.uuid4())}):
        assert await order_numbers(client, tenant, **unknown) == []
    other = await make_tenant()
    assert await order_numbers(client, tenant, locationId=str(other.location_id)) == []
    assert await order_numbers(client, other) == []
    assert [first["id"], second["id"], third["id"]] == [o["id"] for o in reversed(listed[1:])]


async def test_from_is_inclusive_and_to_exclusive(client, tenant: Tenant):
    latte = await make_product(client, tenant, stock=10)
    orders = [await create_order(client, tenant, line(latte)) for _ in range(3)]
    times = [o["createdAt"] for o in orders]
    assert await order_numbers(client, tenant, **{"from": times[1]}) == [3, 2]
    assert await order_numbers(client, tenant, to=times[1]) == [1]
    assert await order_numbers(client, tenant, **{"from": times[0], "to": times[2]}) == [2, 1]
    assert await order_numbers(client, tenant, **{"from": times[1], "to": times[1]}) == []
    later = rfc3339(parse_time(times[2]) + timedelta(seconds=1))
    assert await order_numbers(client, tenant, **{"from": later}) == []
    earlier = rfc3339(parse_time(times[0]) - timedelta(days=1))
    assert await order_numbers(client, tenant, **{"from": earlier, "to": later}) == [3, 2, 1]
    # Another offset names the same instant.
    sydney = parse_time(times[1]).astimezone(timezone(timedelta(hours=10))).isoformat()
    assert "+10:00" in sydney
    assert await order_numbers(client, tenant, **{"from": sydney}) == [3, 2]
    bad = await client.get(ORDERS, params={"status": "paid"}, headers=tenant.headers)
    assert error_fields(bad) == ["status"]


async def test_a_malformed_date_filter_is_422_on_its_parameter(client, tenant: Tenant):
    for param in ("from", "to"):
        response = await client.get(ORDERS, params={param: "yesterday"}, headers=tenant.headers)
        assert error_fields(response) == [param]


async def test_pages_hold_every_order_once(client, tenant: Tenant):
    latte = await make_product(client, tenant, track=False, stock=None)
    for _ in range(7):
        await create_order(client, tenant, line(latte))
    seen: list[int] = []
    cursor = None
    while True:
        params = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        response = await client.get(ORDERS, params=params, headers=tenant.headers)
        assert response.status_code == 200, response.text
        page = response.json()
        assert page["meta"]["limit"] == 3 and len(page["data"]) <= 3
        seen += [o["number"] for o in page["data"]]
        cursor = page["meta"]["nextCursor"]
        if cursor is None:
            break
    assert seen == [7, 6, 5, 4, 3, 2, 1]
    for params in ({"limit": "0"}, {"limit": "101"}, {"cursor": "garbage"}):
        response = await client.get(ORDERS, params=params, headers=tenant.headers)
        assert error_fields(response) == [next(iter(params))]


# --- status --------------------------------------------------------------------------------


async def test_completing_needs_the_money_and_appends_history(client, tenant: Tenant):
    latte = await make_product(client, tenant, price=1000)
    order = await create_order(client, tenant, line(latte))
    url = f"{ORDERS}/{order['id']}"
    unpaid = await set_status(client, tenant, order["id"], "completed")
    assert "1000" in assert_problem(unpaid, 409, "conflict")["detail"]
    await pay(client, tenant, order["id"], 600)
    assert (await set_status(client, tenant, order["id"], "completed")).status_code == 409
    await pay(client, tenant, order["id"], 400, "card")
    before = await client.get(url, headers=tenant.headers)
    version = before.json()["data"]["version"]
    assert before.headers["etag"] == f'"{version}"'
    response = await set_status(
        client,
        tenant,
        order["id"],
        "completed",
        note="Paid at counter",
        headers={"If-Match": f'"{version}"'},
    )
    assert response.status_code == 200, response.text
    done = response.json()["data"]
    assert done["status"] == "completed" and done["version"] == version + 1
    assert response.headers["etag"] == f'"{version + 1}"'
    assert done["amountPaid"] == aud(1000) and done["balance"] == aud(0)
    assert [(h["status"], h["note"]) for h in done["history"]] == [
        ("open", None),
        ("completed", "Paid at counter"),
    ]
    assert done["history"][1]["userId"] == str(tenant.user_id)
    assert parse_time(done["history"][1]["at"]) >= parse_time(done["history"][0]["at"])
    assert [p["method"] for p in done["payments"]] == ["cash", "card"]
    assert await get_order(client, tenant, order["id"]) == done
    # Completing takes no more stock.
    assert await on_hand(client, tenant, latte["id"]) == 9


async def test_a_stale_if_match_is_412_and_changes_nothing(client, tenant: Tenant):
    latte = await make_product(client, tenant)
    order = await create_order(client, tenant, line(latte))
    await pay(client, tenant, order["id"], 450)  # a payment moves the version on
    current = await get_order(client, tenant, order["id"])
    assert current["version"] > 1
    stale = await set_status(client, tenant, order["id"], "voided", headers={"If-Match": '"1"'})
    assert_problem(stale, 412, "precondition-failed")
    after = await get_order(client, tenant, order["id"])
    assert after == current
    for header in ("bogus", 'W/"1"'):
        response = await set_status(
            client, tenant, order["id"], "voided", headers={"If-Match": header}
        )
        assert_problem(response, 412, "precondition-failed")
    assert await get_order(client, tenant, order["id"]) == current
    ok = await set_status(
        client, tenant, order["id"], "completed", headers={"If-Match": f'"{current["version"]}"'}
    )
    assert ok.status_code == 200, ok.text


async def test_voiding_returns_the_stock_and_releases_authorizations(
    client, runtime, tenant: Tenant
):
    latte = await make_product(client, tenant, stock=5)
    untracked = await make_product(client, tenant, track=False, stock=None)
    order = await create_order(client, tenant, line(latte, 3), line(untracked, 1))
    hold = await pay(client, tenant, order["id"], 500, "card", capture=False)
    assert hold["status"] == "authorized"
    assert (await get_order(client, tenant, order["id"]))["balance"] == aud(1800 - 500)
    response = await set_status(client, tenant, order["id"], "voided", note="Walked out")
    assert response.status_code == 200, response.text
    voided = response.json()["data"]
    assert voided["status"] == "voided"
    assert [(h["status"], h["note"]) for h in voided["history"]] == [
        ("open", None),
        ("voided", "Walked out"),
    ]
    assert voided["amountPaid"] == aud(0)
    assert [p["status"] for p in voided["payments"]] == ["voided"]
    assert (await get_payment(client, tenant, hold["id"]))["status"] == "voided"
    assert await on_hand(client, tenant, latte["id"]) == 5
    (back,) = await movements_of(client, tenant, latte["id"], "void")
    assert back["delta"] == 3 and back["balanceAfter"] == 5
    assert back["referenceId"] == order["id"]
    assert await movements_of(client, tenant, untracked["id"]) == []
    assert [t for t, _ in await events(runtime, tenant, "order.voided")] == ["order.voided"]


async def test_voiding_with_captured_money_is_409(client, tenant: Tenant):
    latte = await make_product(client, tenant, stock=5)
    order = await create_order(client, tenant, line(latte, 2))
    await pay(client, tenant, order["id"], 100)
    response = await set_status(client, tenant, order["id"], "voided")
    assert_problem(response, 409, "conflict")
    assert (await get_order(client, tenant, order["id"]))["status"] == "open"
    assert await on_hand(client, tenant, latte["id"]) == 3
    # Once the money is given back the order can be voided.
    await refund(client, tenant, order["id"], reason="changed mind")
    response = await set_status(client, tenant, order["id"], "voided")
    assert response.status_code == 200, response.text
    assert await on_hand(client, tenant, latte["id"]) == 5


@pytest.mark.parametrize(
    ("start", "target"),
    [
        ("open", "open"),
        ("completed", "completed"),
        ("completed", "voided"),
        ("completed", "open"),
        ("voided", "voided"),
        ("voided", "completed"),
        ("voided", "open"),
        ("refunded", "completed"),
        ("refunded", "voided"),
        ("partially_refunded", "completed"),
        ("completed", "refunded"),
    ],
)
async def test_every_other_move_is_409(client, tenant: Tenant, start, target):
    latte = await make_product(client, tenant, price=1000)
    order = await create_order(client, tenant, line(latte))
    if start != "open" and start != "voided":
        await pay(client, tenant, order["id"], 1000)
        await complete(client, tenant, order["id"])
    if start == "voided":
        assert (await set_status(client, tenant, order["id"], "voided")).status_code == 200
    if start == "refunded":
        await refund(client, tenant, order["id"], reason="r")
    if start == "partially_refunded":
        await refund(client, tenant, order["id"], reason="r", amount=aud(10))
    before = await get_order(client, tenant, order["id"])
    assert before["status"] == start
    response = await set_status(client, tenant, order["id"], target)
    assert_problem(response, 409, "conflict")
    assert await get_order(client, tenant, order["id"]) == before
    assert await on_hand(client, tenant, latte["id"]) == (10 if start == "voided" else 9)


async def test_a_status_outside_the_machine_is_422(client, tenant: Tenant):
    latte = await make_product(client, tenant)
    order = await create_order(client, tenant, line(latte))
    for body, field in (({"status": "shipped"}, "status"), ({}, "status")):
        response = await client.patch(
            f"{ORDERS}/{order['id']}/status", json=body, headers=tenant.headers
        )
        assert error_fields(response) == [field]
    long_note = await set_status(client, tenant, order["id"], "voided", note="x" * 1001)
    assert error_fields(long_note) == ["note"]
    assert (await get_order(client, tenant, order["id"]))["status"] == "open"


# --- payments ------------------------------------------------------------------------------


async def test_cash_is_captured_at_once(client, tenant: Tenant):
    latte = await make_product(client, tenant, price=1000)
    order = await create_order(client, tenant, line(latte))
    response = await post_payment(client, tenant, order["id"], 300)
    assert response.status_code == 201, response.text
    payment = response.json()["data"]
    assert set(payment) >= PAYMENT_KEYS
    assert payment["orderId"] == order["id"] and payment["method"] == "cash"
    assert payment["status"] == "captured"
    assert payment["amount"] == aud(300) and payment["capturedAmount"] == aud(300)
    assert payment["refundedAmount"] == aud(0)
    assert payment["capturedAt"] is not None and parse_time(payment["createdAt"])
    assert await get_payment(client, tenant, payment["id"]) == payment
    after = await get_order(client, tenant, order["id"])
    assert after["amountPaid"] == aud(300) and after["balance"] == aud(700)
    assert after["payments"] == [payment] and after["status"] == "open"
    explicit = await pay(client, tenant, order["id"], 700, capture=True)
    assert explicit["status"] == "captured"
    assert (await get_order(client, tenant, order["id"]))["balance"] == aud(0)


async def test_cash_cannot_be_only_authorized(client, tenant: Tenant):
    latte = await make_product(client, tenant)
    order = await create_order(client, tenant, line(latte))
    response = await post_payment(client, tenant, order["id"], 100, "cash", capture=False)
    assert error_fields(response) == ["capture"]
    assert (await get_order(client, tenant, order["id"]))["payments"] == []


async def test_bad_payment_bodies_are_422(client, tenant: Tenant, make_tenant):
    latte = await make_product(client, tenant, price=1000)
    order = await create_order(client, tenant, line(latte))
    other = await make_tenant()
    theirs = await create_order(
        client, other, line(await make_product(client, other, track=False, stock=None))
    )
    oid = order["id"]
    cases: list[tuple[dict[str, Any], str]] = [
        ({"orderId": oid, "amount": aud(0), "method": "cash"}, "amount"),
        ({"orderId": oid, "amount": aud(-5), "method": "card"}, "amount"),
        (
            {"orderId": oid, "amount": {"amount": 100, "currency": "USD"}, "method": "cash"},
            "amount",
        ),
        ({"orderId": oid, "amount": {"amount": 1.5}, "method": "cash"}, "amount"),
        ({"orderId": oid, "amount": aud(100), "method": "cheque"}, "method"),
        ({"orderId": oid, "amount": aud(100)}, "method"),
        ({"orderId": oid, "method": "cash"}, "amount"),
        ({"orderId": str(uuid.uuid4()), "amount": aud(100), "method": "cash"}, "orderId"),
        ({"orderId": "nope", "amount": aud(100), "method": "cash"}, "orderId"),
        ({"orderId": theirs["id"], "amount": aud(100), "method": "cash"}, "orderId"),
        ({"amount": aud(100), "method": "cash"}, "orderId"),
    ]
    for body, field in cases:
        response = await client.post(PAYMENTS, json=body, headers=tenant.headers)
        fields = error_fields(response)
        assert len(fields) == 1 and fields[0].split(".")[0] == field, (body, response.text)
    assert (await get_order(client, tenant, oid))["payments"] == []
    assert (await get_order(client, other, theirs["id"]))["payments"] == []


async def test_more_than_the_balance_is_422_counting_authorizations(client, tenant: Tenant):
    latte = await make_product(client, tenant, price=1000)
    order = await create_order(client, tenant, line(latte))
    assert error_fields(await post_payment(client, tenant, order["id"], 1001)) == ["amount"]
    await pay(client, tenant, order["id"], 300)
    hold = await pay(client, tenant, order["id"], 500, "card", capture=False)
    assert (await get_order(client, tenant, order["id"]))["balance"] == aud(200)
    for method in ("cash", "card"):
        response = await post_payment(client, tenant, order["id"], 201, method)
        assert error_fields(response) == ["amount"]
    await pay(client, tenant, order["id"], 200, "card")
    assert error_fields(await post_payment(client, tenant, order["id"], 1)) == ["amount"]
    # Voiding the hold frees its amount again.
    response = await client.post(f"{PAYMENTS}/{hold['id']}/void", headers=tenant.headers)
    assert response.status_code == 200, response.text
    assert (await get_order(client, tenant, order["id"]))["balance"] == aud(500)
    await pay(client, tenant, order["id"], 500)
    done = await get_order(client, tenant, order["id"])
    assert done["amountPaid"] == aud(1000) and done["balance"] == aud(0)


async def test_payments_need_an_open_order(client, tenant: Tenant):
    latte = await make_product(client, tenant, price=1000)
    done = await paid_order(client, tenant, line(latte))
    voided = await create_order(client, tenant, line(latte))
    assert (await set_status(client, tenant, voided["id"], "voided")).status_code == 200
    refunded = await paid_order(client, tenant, line(latte))
    await refund(client, tenant, refunded["id"], reason="r")
    for order in (done, voided, refunded):
        response = await post_payment(client, tenant, order["id"], 1)
        assert_problem(response, 409, "conflict")
        assert len((await get_order(client, tenant, order["id"]))["payments"]) == (
            0 if order is voided else 1
        )


async def test_a_card_amount_ending_in_13_cents_is_declined(client, runtime, tenant: Tenant):
    latte = await make_product(client, tenant, price=5000)
    order = await create_order(client, tenant, line(latte))
    for amount in (13, 1013, 4913):
        response = await post_payment(client, tenant, order["id"], amount, "card")
        assert response.status_code == 201, response.text
        declined = response.json()["data"]
        assert declined["status"] == "failed" and declined["failureReason"] == "card_declined"
        assert declined["capturedAmount"] == aud(0) and declined["capturedAt"] is None
    after = await get_order(client, tenant, order["id"])
    assert after["amountPaid"] == aud(0) and after["balance"] == aud(5000)
    assert [p["status"] for p in after["payments"]] == ["failed"] * 3
    held = await post_payment(client, tenant, order["id"], 113, "card", capture=False)
    assert held.json()["data"]["status"] == "failed"
    assert (await get_order(client, tenant, order["id"]))["balance"] == aud(5000)
    # Cash is never declined, nor are other card amounts.
    assert (await pay(client, tenant, order["id"], 13))["status"] == "captured"
    assert (await pay(client, tenant, order["id"], 1014, "card"))["status"] == "captured"
    assert (await pay(client, tenant, order["id"], 3973, "card"))["status"] == "captured"
    assert await events(runtime, tenant, "payment.failed") == []
    captured = await events(runtime, tenant, "payment.captured")
    assert [d["amount"]["amount"] for _, d in captured] == [13, 1014, 3973]


async def test_authorize_then_capture_all_or_less(client, tenant: Tenant):
    latte = await make_product(client, tenant, price=1000)
    order = await create_order(client, tenant, line(latte))
    full = await pay(client, tenant, order["id"], 400, "card", capture=False)
    assert full["status"] == "authorized" and full["capturedAmount"] == aud(0)
    assert full["capturedAt"] is None
    partial = await pay(client, tenant, order["id"], 600, "card", capture=False)
    state = await get_order(client, tenant, order["id"])
    assert state["amountPaid"] == aud(0) and state["balance"] == aud(0)

    response = await client.post(f"{PAYMENTS}/{full['id']}/capture", headers=tenant.headers)
    assert response.status_code == 200, response.text
    captured = response.json()["data"]
    assert captured["status"] == "captured" and captured["capturedAmount"] == aud(400)
    assert captured["capturedAt"] is not None

    too_much = await client.post(
        f"{PAYMENTS}/{partial['id']}/capture", json={"amount": aud(601)}, headers=tenant.headers
    )
    assert error_fields(too_much) == ["amount"]
    assert (await get_payment(client, tenant, partial["id"]))["status"] == "authorized"
    response = await client.post(
        f"{PAYMENTS}/{partial['id']}/capture", json={"amount": aud(450)}, headers=tenant.headers
    )
    assert response.status_code == 200, response.text
    less = response.json()["data"]
    assert less["status"] == "captured"
    assert less["capturedAmount"] == aud(450) and less["amount"] == aud(600)
    state = await get_order(client, tenant, order["id"])
    # The uncaptured 150 is released: it is owed again.
    assert state["amountPaid"] == aud(850) and state["balance"] == aud(150)
    assert_problem(await set_status(client, tenant, order["id"], "completed"), 409, "conflict")
    await pay(client, tenant, order["id"], 150)
    assert (await complete(client, tenant, order["id"]))["status"] == "completed"


async def test_capture_and_void_only_act_on_authorizations(client, tenant: Tenant):
    latte = await make_product(client, tenant, price=5000)
    order = await create_order(client, tenant, line(latte))
    cash = await pay(client, tenant, order["id"], 100)
    declined = await pay(client, tenant, order["id"], 213, "card")
    hold = await pay(client, tenant, order["id"], 300, "card", capture=False)
    response = await client.post(f"{PAYMENTS}/{hold['id']}/void", headers=tenant.headers)
    assert response.status_code == 200, response.text
    voided = response.json()["data"]
    assert voided["status"] == "voided" and voided["capturedAmount"] == aud(0)
    assert (await get_order(client, tenant, order["id"]))["balance"] == aud(4900)
    for payment in (cash, declined, voided):
        for action in ("capture", "void"):
            response = await client.post(
                f"{PAYMENTS}/{payment['id']}/{action}", headers=tenant.headers
            )
            assert_problem(response, 409, "conflict")
        assert (await get_payment(client, tenant, payment["id"]))["status"] == payment["status"]
    captured = await pay(client, tenant, order["id"], 400, "card", capture=False)
    response = await client.post(f"{PAYMENTS}/{captured['id']}/capture", headers=tenant.headers)
    assert response.status_code == 200
    for action in ("capture", "void"):
        response = await client.post(
            f"{PAYMENTS}/{captured['id']}/{action}", headers=tenant.headers
        )
        assert_problem(response, 409, "conflict")
    state = await get_order(client, tenant, order["id"])
    assert state["amountPaid"] == aud(500) and state["balance"] == aud(4500)


async def test_capture_amount_must_be_positive_aud(client, tenant: Tenant):
    latte = await make_product(client, tenant, price=1000)
    order = await create_order(client, tenant, line(latte))
    hold = await pay(client, tenant, order["id"], 500, "card", capture=False)
    for amount in (aud(0), {"amount": 100, "currency": "NZD"}):
        response = await client.post(
            f"{PAYMENTS}/{hold['id']}/capture", json={"amount": amount}, headers=tenant.headers
        )
        assert error_fields(response)[0].startswith("amount"), response.text
    assert (await get_payment(client, tenant, hold["id"]))["status"] == "authorized"


async def test_payment_methods(client, tenant: Tenant):
    response = await client.get(f"{PAYMENTS}/methods", headers=tenant.headers)
    assert response.status_code == 200, response.text
    methods = response.json()["data"]
    assert [(m["id"], m["type"], m["enabled"]) for m in methods] == [
        ("cash", "cash", True),
        ("card", "card", True),
    ]
    assert all(set(m) == {"id", "name", "type", "enabled"} and m["name"] for m in methods)
    body = await gql(client, "{ paymentMethods { id name type enabled } }", None, tenant.headers)
    assert [(m["id"], m["type"]) for m in body["data"]["paymentMethods"]] == [
        ("cash", "CASH"),
        ("card", "CARD"),
    ]


# --- refunds -------------------------------------------------------------------------------


async def test_a_refund_of_everything_lists_every_line(client, runtime, tenant: Tenant):
    latte = await make_product(client, tenant, price=450, stock=5)
    muffin = await make_product(client, tenant, price=395, stock=5)
    order = await paid_order(client, tenant, line(latte, 2), line(muffin))
    response = await post_refund(client, tenant, order["id"], reason="Wrong order")
    assert response.status_code == 201, response.text
    given = response.json()["data"]
    assert set(given) == REFUND_KEYS
    assert given["orderId"] == order["id"] and given["amount"] == aud(1295)
    assert given["reason"] == "Wrong order" and given["restock"] is False
    first, second = order["lineItems"]
    assert given["lineItems"] == [
        {"lineItemId": first["id"], "quantity": 2, "amount": aud(900)},
        {"lineItemId": second["id"], "quantity": 1, "amount": aud(395)},
    ]
    after = await get_order(client, tenant, order["id"])
    assert after["status"] == "refunded" and after["refunds"] == [given]
    assert after["amountRefunded"] == aud(1295) and after["amountPaid"] == aud(1295)
    assert [(h["status"], h["note"]) for h in after["history"]] == [
        ("open", None),
        ("completed", None),
        ("refunded", "Wrong order"),
    ]
    assert after["payments"][0]["refundedAmount"] == aud(1295)
    # No restock: the stock stays sold.
    assert await on_hand(client, tenant, latte["id"]) == 3
    assert await movements_of(client, tenant, latte["id"], "refund") == []
    again = await post_refund(client, tenant, order["id"], reason="again")
    assert_problem(again, 409, "conflict")
    assert len(await events(runtime, tenant, "order.refunded")) == 1


async def test_refunds_by_line_cost_what_the_lines_cost(client, tenant: Tenant):
    # 3 units for 1000 (a 10 % code discount on 3 x 370 = 1110 → 999): pieces sum to the line.
    cup = await make_product(client, tenant, price=370, stock=5)
    await make_campaign(client, tenant, code="TENOFF", rules={"percentOff": 10})
    order = await create_order(client, tenant, line(cup, 3), campaignCode="tenoff")
    (li,) = order["lineItems"]
    assert li["total"] == aud(999) and li["discount"] == aud(111)
    await pay(client, tenant, order["id"], 999)
    await complete(client, tenant, order["id"])
    pieces = []
    for n in range(3):
        body = {"reason": f"cup {n}", "lineItems": [{"lineItemId": li["id"], "quantity": 1}]}
        given = await refund(client, tenant, order["id"], **body)
        assert given["lineItems"][0]["quantity"] == 1
        assert given["amount"] == given["lineItems"][0]["amount"]
        pieces.append(given["amount"]["amount"])
        status = (await get_order(client, tenant, order["id"]))["status"]
        assert status == ("refunded" if n == 2 else "partially_refunded")
    assert sum(pieces) == 999 and sorted(pieces) == [333, 333, 333]

    # An uneven split: 2 units for 1001 → 501 + 500 (or 500 + 501), never 1000 or 1002.
    odd = await make_product(client, tenant, price=1001, stock=5)
    two = await paid_order(client, tenant, line(odd, 2))
    first_line = two["lineItems"][0]["id"]
    one = await refund(
        client, tenant, two["id"], reason="r", lineItems=[{"lineItemId": first_line, "quantity": 1}]
    )
    rest = await refund(client, tenant, two["id"], reason="rest")
    assert one["amount"]["amount"] + rest["amount"]["amount"] == 2002
    assert rest["lineItems"] == [
        {"lineItemId": first_line, "quantity": 1, "amount": rest["amount"]}
    ]


async def test_a_line_refund_with_a_matching_amount(client, tenant: Tenant):
    latte = await make_product(client, tenant, price=450)
    order = await paid_order(client, tenant, line(latte, 2))
    lines = [{"lineItemId": order["lineItems"][0]["id"], "quantity": 1}]
    wrong = await post_refund(
        client, tenant, order["id"], reason="r", lineItems=lines, amount=aud(400)
    )
    assert error_fields(wrong) == ["amount"]
    right = await refund(client, tenant, order["id"], reason="r", lineItems=lines, amount=aud(450))
    assert right["amount"] == aud(450)
    after = await get_order(client, tenant, order["id"])
    assert after["status"] == "partially_refunded" and after["amountRefunded"] == aud(450)
    assert [h["status"] for h in after["history"]][-1] == "partially_refunded"


async def test_bad_line_refunds_are_422_and_refund_nothing(client, tenant: Tenant):
    latte = await make_product(client, tenant, price=450)
    muffin = await make_product(client, tenant, price=395)
    order = await paid_order(client, tenant, line(latte, 2), line(muffin))
    other = await paid_order(client, tenant, line(latte))
    a, b = (li["id"] for li in order["lineItems"])
    cases: list[tuple[list[dict], list[str]]] = [
        ([{"lineItemId": a, "quantity": 3}], ["lineItems.0.quantity"]),
        (
            [{"lineItemId": b, "quantity": 1}, {"lineItemId": a, "quantity": 0}],
            ["lineItems.1.quantity"],
        ),
        ([{"lineItemId": str(uuid.uuid4()), "quantity": 1}], ["lineItems.0.lineItemId"]),
        ([{"lineItemId": other["lineItems"][0]["id"], "quantity": 1}], ["lineItems.0.lineItemId"]),
        ([{"lineItemId": "nope", "quantity": 1}], ["lineItems.0.lineItemId"]),
        ([{"quantity": 1}], ["lineItems.0.lineItemId"]),
        (
            [{"lineItemId": b, "quantity": 1}, {"lineItemId": b, "quantity": 1}],
            ["lineItems.1.lineItemId"],
        ),
    ]
    for lines, fields in cases:
        response = await post_refund(client, tenant, order["id"], reason="r", lineItems=lines)
        assert error_fields(response) == fields, (lines, response.text)
    await refund(
        client, tenant, order["id"], reason="r", lineItems=[{"lineItemId": a, "quantity": 1}]
    )
    beyond = await post_refund(
        client, tenant, order["id"], reason="r", lineItems=[{"lineItemId": a, "quantity": 2}]
    )
    assert error_fields(beyond) == ["lineItems.0.quantity"]
    after = await get_order(client, tenant, order["id"])
    assert after["amountRefunded"] == aud(450) and len(after["refunds"]) == 1


async def test_restock_puts_the_refunded_units_back(client, tenant: Tenant):
    latte = await make_product(client, tenant, price=450, stock=5)
    shirt = await make_product(client, tenant, price=2000, variants=[("S", None)], stock=4)
    small = shirt["variants"][0]["id"]
    order = await paid_order(client, tenant, line(latte, 3), line(shirt, 2, variantId=small))
    a, b = (li["id"] for li in order["lineItems"])
    given = await refund(
        client,
        tenant,
        order["id"],
        reason="damaged box",
        restock=True,
        lineItems=[{"lineItemId": a, "quantity": 2}, {"lineItemId": b, "quantity": 1}],
    )
    assert given["restock"] is True and given["amount"] == aud(900 + 2000)
    assert await on_hand(client, tenant, latte["id"]) == 4
    assert await on_hand(client, tenant, shirt["id"], variant_id=small) == 3
    (back,) = await movements_of(client, tenant, latte["id"], "refund")
    assert back["delta"] == 2 and back["balanceAfter"] == 4
    assert back["referenceId"] == order["id"]
    (shirt_back,) = await movements_of(client, tenant, shirt["id"], "refund")
    assert shirt_back["variantId"] == small and shirt_back["delta"] == 1
    # Refunding the rest with restock returns only what was not returned before.
    rest = await refund(client, tenant, order["id"], reason="all of it", restock=True)
    assert rest["lineItems"] == [
        {"lineItemId": a, "quantity": 1, "amount": aud(450)},
        {"lineItemId": b, "quantity": 1, "amount": aud(2000)},
    ]
    assert await on_hand(client, tenant, latte["id"]) == 5
    assert await on_hand(client, tenant, shirt["id"], variant_id=small) == 4
    assert (await get_order(client, tenant, order["id"]))["status"] == "refunded"


async def test_an_amount_refund(client, tenant: Tenant):
    latte = await make_product(client, tenant, price=1000, stock=5)
    order = await paid_order(client, tenant, line(latte))
    restock = await post_refund(
        client, tenant, order["id"], reason="r", amount=aud(100), restock=True
    )
    assert error_fields(restock) == ["restock"]
    too_much = await post_refund(client, tenant, order["id"], reason="r", amount=aud(1001))
    assert error_fields(too_much) == ["amount"]
    for amount in (aud(0), {"amount": 100, "currency": "USD"}):
        response = await post_refund(client, tenant, order["id"], reason="r", amount=amount)
        assert error_fields(response)[0].startswith("amount")
    given = await refund(client, tenant, order["id"], reason="cold", amount=aud(250))
    assert given["amount"] == aud(250) and given["lineItems"] == [] and given["restock"] is False
    after = await get_order(client, tenant, order["id"])
    assert after["status"] == "partially_refunded" and after["amountRefunded"] == aud(250)
    assert after["refunds"] == [given]
    assert await on_hand(client, tenant, latte["id"]) == 4
    over = await post_refund(client, tenant, order["id"], reason="r", amount=aud(751))
    assert error_fields(over) == ["amount"]
    last = await refund(client, tenant, order["id"], reason="r", amount=aud(750))
    assert last["amount"] == aud(750)
    final = await get_order(client, tenant, order["id"])
    assert final["status"] == "refunded" and final["amountRefunded"] == aud(1000)
    assert [h["status"] for h in final["history"]] == [
        "open",
        "completed",
        "partially_refunded",
        "refunded",
    ]


async def test_everything_left_after_an_amount_refund(client, tenant: Tenant):
    latte = await make_product(client, tenant, price=1000, stock=5)
    order = await paid_order(client, tenant, line(latte))
    await refund(client, tenant, order["id"], reason="cold", amount=aud(300))
    rest = await refund(client, tenant, order["id"], reason="the rest", restock=True)
    assert rest["amount"] == aud(700)
    # The lines it lists add up to the money it gives back.
    assert sum(li["amount"]["amount"] for li in rest["lineItems"]) == 700
    assert await on_hand(client, tenant, latte["id"]) == 5


async def test_an_empty_line_list_is_not_a_refund_of_everything(client, tenant: Tenant):
    latte = await make_product(client, tenant, price=1000, stock=5)
    order = await paid_order(client, tenant, line(latte, 2))
    response = await post_refund(client, tenant, order["id"], reason="oops", lineItems=[])
    assert error_fields(response) == ["lineItems"]
    after = await get_order(client, tenant, order["id"])
    assert after["refunds"] == [] and after["status"] == "completed"


async def test_a_reason_is_required(client, tenant: Tenant):
    latte = await make_product(client, tenant)
    order = await paid_order(client, tenant, line(latte))
    for body in ({}, {"reason": ""}, {"reason": "   "}, {"reason": "x" * 501}):
        response = await post_refund(client, tenant, order["id"], **body)
        assert error_fields(response) == ["reason"], body
    assert (await get_order(client, tenant, order["id"]))["refunds"] == []


async def test_an_open_orders_refund_gives_money_back_only(client, tenant: Tenant):
    latte = await make_product(client, tenant, price=1000, stock=5)
    order = await create_order(client, tenant, line(latte))
    await pay(client, tenant, order["id"], 600)
    line_id = order["lineItems"][0]["id"]
    by_line = await post_refund(
        client, tenant, order["id"], reason="r", lineItems=[{"lineItemId": line_id, "quantity": 1}]
    )
    assert error_fields(by_line) == ["lineItems"]
    restock = await post_refund(client, tenant, order["id"], reason="r", restock=True)
    assert error_fields(restock) == ["restock"]
    too_much = await post_refund(client, tenant, order["id"], reason="r", amount=aud(601))
    assert error_fields(too_much) == ["amount"]
    given = await refund(client, tenant, order["id"], reason="overpaid", amount=aud(200))
    assert given["lineItems"] == []
    after = await get_order(client, tenant, order["id"])
    assert after["status"] == "open" and after["amountRefunded"] == aud(200)
    assert after["balance"] == aud(600) and [h["status"] for h in after["history"]] == ["open"]
    everything = await refund(client, tenant, order["id"], reason="all")
    assert everything["amount"] == aud(400) and everything["lineItems"] == []
    assert (await get_order(client, tenant, order["id"]))["balance"] == aud(1000)
    assert await on_hand(client, tenant, latte["id"]) == 4
    # Nothing left to give back.
    assert_problem(await post_refund(client, tenant, order["id"], reason="r"), 422, "validation")


async def test_an_open_order_with_nothing_captured_has_nothing_to_refund(client, tenant: Tenant):
    latte = await make_product(client, tenant, price=1000)
    order = await create_order(client, tenant, line(latte))
    await pay(client, tenant, order["id"], 400, "card", capture=False)
    response = await post_refund(client, tenant, order["id"], reason="r", amount=aud(1))
    assert error_fields(response) == ["amount"]
    assert (await get_order(client, tenant, order["id"]))["refunds"] == []


async def test_voided_and_refunded_orders_cannot_be_refunded(client, tenant: Tenant):
    latte = await make_product(client, tenant)
    voided = await create_order(client, tenant, line(latte))
    assert (await set_status(client, tenant, voided["id"], "voided")).status_code == 200
    done = await paid_order(client, tenant, line(latte))
    await refund(client, tenant, done["id"], reason="r")
    for order in (voided, done):
        for body in ({"reason": "r"}, {"reason": "r", "amount": aud(1)}):
            assert_problem(await post_refund(client, tenant, order["id"], **body), 409, "conflict")


async def test_refunds_come_from_the_newest_captured_payment_first(client, tenant: Tenant):
    latte = await make_product(client, tenant, price=1000)
    order = await create_order(client, tenant, line(latte))
    card = await pay(client, tenant, order["id"], 500, "card", capture=False)  # made first
    cash = await pay(client, tenant, order["id"], 300)
    other = await pay(client, tenant, order["id"], 200, "card")
    response = await client.post(f"{PAYMENTS}/{card['id']}/capture", headers=tenant.headers)
    assert response.status_code == 200  # ...but captured last: the newest money in
    await complete(client, tenant, order["id"])

    async def refunded() -> list[int]:
        return [
            (await get_payment(client, tenant, p["id"]))["refundedAmount"]["amount"]
            for p in (card, cash, other)
        ]

    await refund(client, tenant, order["id"], reason="r", amount=aud(400))
    assert await refunded() == [400, 0, 0]
    await refund(client, tenant, order["id"], reason="r", amount=aud(250))
    assert await refunded() == [500, 0, 150]
    await refund(client, tenant, order["id"], reason="r")
    assert await refunded() == [500, 300, 200]
    after = await get_order(client, tenant, order["id"])
    assert [p["refundedAmount"]["amount"] for p in after["payments"]] == [500, 300, 200]
    assert after["status"] == "refunded"
    assert [p["capturedAmount"]["amount"] for p in after["payments"]] == [500, 300, 200]


# --- idempotency ---------------------------------------------------------------------------


async def test_an_order_post_replays_and_takes_stock_once(client, tenant: Tenant):
    latte = await make_product(client, tenant, stock=5)
    headers = with_key(tenant)
    body = order_body(tenant, line(latte, 2))
    first = await client.post(ORDERS, json=body, headers=headers)
    replay = await client.post(ORDERS, json=body, headers=headers)
    assert (first.status_code, replay.status_code) == (201, 201)
    assert replay.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert replay.json() == first.json()
    assert await order_numbers(client, tenant) == [1]
    assert await on_hand(client, tenant, latte["id"]) == 3
    assert len(await movements_of(client, tenant, latte["id"], "sale")) == 1
    changed = await client.post(ORDERS, json=order_body(tenant, line(latte, 1)), headers=headers)
    assert_problem(changed, 422, "validation")
    assert await order_numbers(client, tenant) == [1]
    # A fresh key makes a fresh order.
    other = await client.post(ORDERS, json=body, headers=with_key(tenant))
    assert other.status_code == 201 and other.json()["data"]["number"] == 2


async def test_a_failed_order_post_replays_its_failure(client, tenant: Tenant):
    latte = await make_product(client, tenant, stock=1)
    headers = with_key(tenant)
    body = order_body(tenant, line(latte, 2))
    first = await client.post(ORDERS, json=body, headers=headers)
    assert first.status_code == 409
    await receive(client, tenant, latte["id"], 5)
    replay = await client.post(ORDERS, json=body, headers=headers)
    assert replay.status_code == 409 and replay.headers["idempotent-replayed"] == "true"
    assert replay.json() == first.json()
    assert await order_numbers(client, tenant) == []


async def test_payment_capture_and_void_replay(client, tenant: Tenant):
    latte = await make_product(client, tenant, price=1000)
    order = await create_order(client, tenant, line(latte))
    headers = with_key(tenant)
    body = {"orderId": order["id"], "amount": aud(300), "method": "cash"}
    first = await client.post(PAYMENTS, json=body, headers=headers)
    replay = await client.post(PAYMENTS, json=body, headers=headers)
    assert (first.status_code, replay.status_code) == (201, 201)
    assert replay.headers["idempotent-replayed"] == "true" and replay.json() == first.json()
    state = await get_order(client, tenant, order["id"])
    assert len(state["payments"]) == 1 and state["amountPaid"] == aud(300)
    mismatch = await client.post(PAYMENTS, json={**body, "amount": aud(301)}, headers=headers)
    assert_problem(mismatch, 422, "validation")
    assert len((await get_order(client, tenant, order["id"]))["payments"]) == 1

    holds = [await pay(client, tenant, order["id"], 200, "card", capture=False) for _ in range(2)]
    capture_key = with_key(tenant)
    url = f"{PAYMENTS}/{holds[0]['id']}/capture"
    first = await client.post(url, json={"amount": aud(150)}, headers=capture_key)
    replay = await client.post(url, json={"amount": aud(150)}, headers=capture_key)
    assert (first.status_code, replay.status_code) == (200, 200)
    assert replay.headers["idempotent-replayed"] == "true" and replay.json() == first.json()
    assert (await get_order(client, tenant, order["id"]))["amountPaid"] == aud(450)
    changed = await client.post(url, json={"amount": aud(100)}, headers=capture_key)
    assert_problem(changed, 422, "validation")

    void_key = with_key(tenant)
    url = f"{PAYMENTS}/{holds[1]['id']}/void"
    first = await client.post(url, headers=void_key)
    replay = await client.post(url, headers=void_key)
    assert (first.status_code, replay.status_code) == (200, 200)
    assert replay.headers["idempotent-replayed"] == "true" and replay.json() == first.json()
    # The same key on another payment's route is a different request.
    elsewhere = await client.post(f"{PAYMENTS}/{holds[0]['id']}/void", headers=void_key)
    assert_problem(elsewhere, 422, "validation")
    final = await get_order(client, tenant, order["id"])
    assert final["amountPaid"] == aud(450) and final["balance"] == aud(550)


async def test_a_refund_replays_and_refunds_once(client, tenant: Tenant):
    latte = await make_product(client, tenant, price=1000, stock=5)
    order = await paid_order(client, tenant, line(latte, 2))
    headers = with_key(tenant)
    body = {
        "reason": "spilt",
        "restock": True,
        "lineItems": [{"lineItemId": order["lineItems"][0]["id"], "quantity": 1}],
    }
    url = f"{ORDERS}/{order['id']}/refund"
    first = await client.post(url, json=body, headers=headers)
    replay = await client.post(url, json=body, headers=headers)
    assert (first.status_code, replay.status_code) == (201, 201)
    assert replay.headers["idempotent-replayed"] == "true" and replay.json() == first.json()
    after = await get_order(client, tenant, order["id"])
    assert len(after["refunds"]) == 1 and after["amountRefunded"] == aud(1000)
    assert await on_hand(client, tenant, latte["id"]) == 4
    assert len(await movements_of(client, tenant, latte["id"], "refund")) == 1
    changed = await client.post(url, json={**body, "reason": "dropped"}, headers=headers)
    assert_problem(changed, 422, "validation")
    assert len((await get_order(client, tenant, order["id"]))["refunds"]) == 1


# --- events --------------------------------------------------------------------------------


SALES_EVENTS = (
    "order.created",
    "order.completed",
    "order.voided",
    "order.refunded",
    "payment.captured",
)


async def test_each_write_records_its_event(client, runtime, tenant: Tenant):
    latte = await make_product(client, tenant, price=1000, stock=5)
    customer = await make_customer(client, tenant)
    assert (await post_order(client, tenant, line(latte, 9))).status_code == 409
    order = await create_order(client, tenant, line(latte, 2), customerId=customer)
    await pay(client, tenant, order["id"], 113, "card")  # declined: no event
    hold = await pay(client, tenant, order["id"], 500, "card", capture=False)
    cash = await pay(client, tenant, order["id"], 1500)
    response = await client.post(f"{PAYMENTS}/{hold['id']}/capture", headers=tenant.headers)
    assert response.status_code == 200
    await complete(client, tenant, order["id"])
    given = await refund(client, tenant, order["id"], reason="cold", amount=aud(100))
    voided = await create_order(client, tenant, line(latte))
    assert (await set_status(client, tenant, voided["id"], "voided")).status_code == 200

    recorded = await events(runtime, tenant, *SALES_EVENTS)
    assert [t for t, _ in recorded] == [
        "order.created",
        "payment.captured",
        "payment.captured",
        "order.completed",
        "order.refunded",
        "order.created",
        "order.voided",
    ]
    created = recorded[0][1]
    assert created["id"] == order["id"] and created["number"] == 1
    assert created["customerId"] == customer and created["total"] == aud(2000)
    assert created["status"] == "open"
    assert [(li["productId"], li["quantity"]) for li in created["lineItems"]] == [(latte["id"], 2)]
    assert recorded[1][1]["id"] == cash["id"] and recorded[1][1]["amount"] == aud(1500)
    assert recorded[2][1]["id"] == hold["id"]
    assert recorded[2][1]["capturedAmount"] == aud(500)
    assert recorded[2][1]["orderId"] == order["id"]
    completed = recorded[3][1]
    assert completed["id"] == order["id"] and completed["status"] == "completed"
    assert completed["amountPaid"] == aud(2000)
    refunded = recorded[4][1]
    assert refunded["status"] == "partially_refunded"
    assert refunded["amountRefunded"] == aud(100)
    assert refunded["refund"]["id"] == given["id"] and refunded["refund"]["amount"] == aud(100)
    assert recorded[6][1]["id"] == voided["id"] and recorded[6][1]["status"] == "voided"


async def test_a_sale_writes_its_movements_and_event_as_the_order_answers(
    client, runtime, tenant: Tenant
):
    latte = await make_product(client, tenant, price=480, stock=7)
    shirt = await make_product(client, tenant, variants=[("S", None), ("M", None)], stock=4)
    medium = shirt["variants"][1]
    gift = await make_product(client, tenant, track=False, stock=None)
    order = await create_order(
        client,
        tenant,
        line(latte, 2),
        line(shirt, 1, variantId=medium["id"]),
        line(gift, 3),
        line(latte, 1),  # the same item twice: one movement of -3
        note="table 4",
    )
    assert order["number"] == 1
    assert [
        (m["delta"], m["balanceAfter"])
        for m in await movements_of(client, tenant, latte["id"], "sale")
    ] == [(-3, 4)]
    (sale,) = await movements_of(client, tenant, shirt["id"], "sale")
    assert (sale["variantId"], sale["delta"], sale["balanceAfter"]) == (medium["id"], -1, 3)
    assert await movements_of(client, tenant, gift["id"]) == []
    [(_, created)] = await events(runtime, tenant, "order.created")
    assert created["id"] == order["id"] and created["number"] == 1
    assert created["status"] == "open" and created["locationId"] == str(tenant.location_id)
    for key in ("subtotal", "discountTotal", "taxTotal", "total", "amountPaid", "createdAt"):
        assert created[key] == order[key], key
    assert [li["id"] for li in created["lineItems"]] == [li["id"] for li in order["lineItems"]]
    again = await get_order(client, tenant, order["id"])
    assert again["note"] == "table 4" and again["lineItems"] == order["lineItems"]
    assert again["history"] == order["history"] and again["total"] == order["total"]


async def test_a_sale_across_the_reorder_point_records_low_stock(client, runtime, tenant: Tenant):
    response = await client.post(
        f"{API}/products",
        json={
            "name": "Bagel",
            "sku": f"BAG-{uuid.uuid4().hex[:6]}",
            "price": {"amount": 300},
            "reorderPoint": 3,
        },
        headers=tenant.headers,
    )
    bagel = response.json()["data"]
    await receive(client, tenant, bagel["id"], 6)
    await create_order(client, tenant, line(bagel, 2))  # 4: above
    assert await events(runtime, tenant, "inventory.low_stock") == []
    await create_order(client, tenant, line(bagel, 2))  # 2: crosses
    [(_, low)] = await events(runtime, tenant, "inventory.low_stock")
    assert low == {
        "productId": bagel["id"],
        "variantId": None,
        "locationId": str(tenant.location_id),
        "onHand": 2,
        "reorderPoint": 3,
    }
    await create_order(client, tenant, line(bagel, 1))  # 1: already below
    assert_problem(await post_order(client, tenant, line(bagel, 2)), 409, "conflict")
    assert len(await events(runtime, tenant, "inventory.low_stock")) == 1
    assert [n for n in await order_numbers(client, tenant)] == [3, 2, 1]


async def test_failed_writes_record_no_events(client, runtime, tenant: Tenant):
    latte = await make_product(client, tenant, price=1000, stock=1)
    await post_order(client, tenant, line(latte, 2))
    await post_order(client, tenant, line(latte, 0))
    order = await create_order(client, tenant, line(latte))
    await set_status(client, tenant, order["id"], "completed")  # unpaid: 409
    await post_payment(client, tenant, order["id"], 5000)  # over the balance: 422
    await post_refund(client, tenant, order["id"], reason="r")  # nothing captured: 422
    assert [t for t, _ in await events(runtime, tenant, *SALES_EVENTS)] == ["order.created"]


# --- roles and isolation -------------------------------------------------------------------


async def test_staff_sell_take_payments_and_refund(client, tenant: Tenant, runtime):
    latte = await make_product(client, tenant, price=1000, stock=5)
    staff = await member(runtime, tenant, "staff")
    order = await create_order(client, staff, line(latte, 2))
    assert order["history"][0]["userId"] == str(staff.user_id)
    hold = await pay(client, staff, order["id"], 500, "card", capture=False)
    response = await client.post(f"{PAYMENTS}/{hold['id']}/capture", headers=staff.headers)
    assert response.status_code == 200, response.text
    await pay(client, staff, order["id"], 1500)
    done = await complete(client, staff, order["id"])
    assert done["history"][-1]["userId"] == str(staff.user_id)
    given = await refund(client, staff, order["id"], reason="r", amount=aud(100))
    assert given["amount"] == aud(100)
    assert (await client.get(f"{PAYMENTS}/{hold['id']}", headers=staff.headers)).status_code == 200
    assert (await client.get(ORDERS, headers=staff.headers)).status_code == 200


async def test_scopes_guard_the_writes(client, runtime, tenant: Tenant):
    latte = await make_product(client, tenant, price=1000, stock=5)
    order = await create_order(client, tenant, line(latte))
    hold = await pay(client, tenant, order["id"], 300, "card", capture=False)
    reader = scoped_headers(runtime, tenant, "orders:read", "payments:read", "catalog:read")
    attempts = [
        ("POST", ORDERS, order_body(tenant, line(latte))),
        ("PATCH", f"{ORDERS}/{order['id']}/status", {"status": "voided"}),
        ("POST", f"{ORDERS}/{order['id']}/refund", {"reason": "r"}),
        ("POST", PAYMENTS, {"orderId": order["id"], "amount": aud(100), "method": "cash"}),
        ("POST", f"{PAYMENTS}/{hold['id']}/capture", {}),
        ("POST", f"{PAYMENTS}/{hold['id']}/void", None),
    ]
    for method, url, body in attempts:
        response = await client.request(method, url, json=body, headers=reader)
        assert_problem(response, 403, "forbidden")
    assert (await client.get(ORDERS, headers=reader)).status_code == 200
    assert (await client.get(f"{ORDERS}/{order['id']}", headers=reader)).status_code == 200
    assert (await client.get(f"{PAYMENTS}/{hold['id']}", headers=reader)).status_code == 200
    state = await get_order(client, tenant, order["id"])
    assert state["status"] == "open" and [p["status"] for p in state["payments"]] == ["authorized"]
    assert await on_hand(client, tenant, latte["id"]) == 4
    # Orders scope without payments scope cannot take money.
    seller = scoped_headers(runtime, tenant, "orders:read", "orders:write")
    response = await post_payment(client, tenant, order["id"], 100, headers=seller)
    assert_problem(response, 403, "forbidden")
    outsider = scoped_headers(runtime, tenant, "catalog:read")
    assert_problem(await client.get(ORDERS, headers=outsider), 403, "forbidden")
    body = await gql(
        client,
        "mutation($i: CreateOrderInput!) { createOrder(input: $i) { id } }",
        {"i": order_body(tenant, line(latte))},
        reader,
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_another_orgs_orders_and_payments_do_not_exist(client, tenant: Tenant, make_tenant):
    other = await make_tenant()
    their_product = await make_product(client, other, price=1000, stock=5)
    theirs = await create_order(client, other, line(their_product))
    their_hold = await pay(client, other, theirs["id"], 300, "card", capture=False)
    their_cash = await pay(client, other, theirs["id"], 200)
    attempts = [
        ("GET", f"{ORDERS}/{theirs['id']}", None),
        ("PATCH", f"{ORDERS}/{theirs['id']}/status", {"status": "voided"}),
        ("POST", f"{ORDERS}/{theirs['id']}/refund", {"reason": "r"}),
        ("GET", f"{PAYMENTS}/{their_hold['id']}", None),
        ("POST", f"{PAYMENTS}/{their_hold['id']}/capture", {}),
        ("POST", f"{PAYMENTS}/{their_hold['id']}/void", None),
        ("GET", f"{ORDERS}/{uuid.uuid4()}", None),
        ("GET", f"{ORDERS}/not-a-uuid", None),
        ("GET", f"{PAYMENTS}/{uuid.uuid4()}", None),
        ("POST", f"{PAYMENTS}/not-a-uuid/void", None),
    ]
    for method, url, body in attempts:
        response = await client.request(method, url, json=body, headers=tenant.headers)
        assert_problem(response, 404, "not-found")
    assert await order_numbers(client, tenant) == []
    state = await get_order(client, other, theirs["id"])
    assert state["status"] == "open" and state["amountPaid"] == aud(200)
    assert [p["status"] for p in state["payments"]] == ["authorized", "captured"]
    assert state["refunds"] == []
    for query, variables in (
        ("query($id: ID!) { order(id: $id) { id } }", {"id": theirs["id"]}),
        ("query($id: ID!) { payment(id: $id) { id } }", {"id": their_cash["id"]}),
    ):
        body = await gql(client, query, variables, tenant.headers)
        assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    for node_id in (theirs["id"], their_cash["id"]):
        body = await gql(
            client, "query($id: ID!) { node(id: $id) { id } }", {"id": node_id}, tenant.headers
        )
        assert body["data"]["node"] is None
    body = await gql(
        client, "{ orders(first: 10) { edges { node { id } } } }", None, tenant.headers
    )
    assert body["data"]["orders"]["edges"] == []


# --- preview -------------------------------------------------------------------------------


async def test_preview_answers_what_create_charges_and_writes_nothing(
    client, runtime, tenant: Tenant
):
    milk = await make_modifier_group(client, tenant, [("Oat", 70)])
    latte = await make_product(client, tenant, price=450, stock=3, modifier_group_ids=[milk["id"]])
    shirt = await make_product(client, tenant, price=2000, variants=[("S", 1800)], stock=3)
    await make_campaign(client, tenant, code="SAVE", rules={"amountOff": aud(125)})
    body = order_body(
        tenant,
        line(latte, 3, modifierOptionIds=[milk["options"][0]["id"]]),
        line(shirt, 1, variantId=shirt["variants"][0]["id"]),
        campaignCode="save",
    )
    response = await client.post(PREVIEW, json=body, headers=tenant.headers)
    assert response.status_code == 200, response.text
    preview = response.json()["data"]
    assert await order_numbers(client, tenant) == []
    assert await on_hand(client, tenant, latte["id"]) == 3
    assert await movements_of(client, tenant, latte["id"], "sale") == []
    assert await events(runtime, tenant, *SALES_EVENTS) == []
    # Even what would be short is priced.
    big = await client.post(
        PREVIEW, json=order_body(tenant, line(latte, 50)), headers=tenant.headers
    )
    assert big.status_code == 200 and big.json()["data"]["total"] == aud(22500)

    order = await create_order(client, tenant, *body["lineItems"], campaignCode="save")
    for key in ("subtotal", "discountTotal", "taxTotal", "total", "campaignIds"):
        assert preview[key] == order[key], key
    assert preview["discountTotal"] == aud(125) and len(preview["campaignIds"]) == 1
    trimmed = [
        {k: v for k, v in li.items() if k in preview["lineItems"][0]} for li in order["lineItems"]
    ]
    assert preview["lineItems"] == trimmed
    invalid = await client.post(
        PREVIEW,
        json=order_body(tenant, line(latte, 0), campaignCode="nope"),
        headers=tenant.headers,
    )
    assert "lineItems.0.quantity" in error_fields(invalid)
    unknown_code = await client.post(
        PREVIEW, json=order_body(tenant, line(latte), campaignCode="nope"), headers=tenant.headers
    )
    assert error_fields(unknown_code) == ["campaignCode"]


# --- campaigns -----------------------------------------------------------------------------


async def test_a_code_campaign_applies_only_when_named(client, tenant: Tenant):
    latte = await make_product(client, tenant, price=1000, stock=10)
    campaign = await make_campaign(client, tenant, code="Coffee-10", rules={"percentOff": 10})
    plain = await create_order(client, tenant, line(latte))
    assert plain["discountTotal"] == aud(0) and plain["campaignIds"] == []
    coded = await create_order(client, tenant, line(latte, 2), campaignCode="  cOFFEE-10 ")
    assert coded["campaignIds"] == [campaign["id"]]
    (li,) = coded["lineItems"]
    assert li["discount"] == aud(200) and li["total"] == aud(1800)
    assert li["tax"] == aud(164)  # of the discounted line: 1800 / 11 = 163.6
    assert coded["subtotal"] == aud(2000) and coded["discountTotal"] == aud(200)
    assert coded["total"] == aud(1800) and coded["taxTotal"] == aud(164)
    assert coded["balance"] == aud(1800)
    assert error_fields(await post_order(client, tenant, line(latte), campaignCode="COFFEE")) == [
        "campaignCode"
    ]


async def test_a_discount_larger_than_the_order_makes_it_free(client, tenant: Tenant):
    latte = await make_product(client, tenant, price=1000, stock=5)
    await make_campaign(client, tenant, code="FREE", rules={"amountOff": aud(5000)})
    order = await create_order(client, tenant, line(latte), campaignCode="free")
    assert order["discountTotal"] == aud(1000) and order["total"] == aud(0)
    assert order["taxTotal"] == aud(0) and order["balance"] == aud(0)
    assert error_fields(await post_payment(client, tenant, order["id"], 1)) == ["amount"]
    done = await complete(client, tenant, order["id"])
    assert done["status"] == "completed"
    assert_problem(await post_refund(client, tenant, order["id"], reason="r"), 422, "validation")


async def test_codeless_active_campaigns_apply_to_every_order(client, tenant: Tenant):
    latte = await make_product(client, tenant, price=1000, stock=10)
    everyone = await make_campaign(client, tenant, rules={"amountOff": aud(100)})
    await make_campaign(client, tenant, status="draft", rules={"percentOff": 50})
    await make_campaign(client, tenant, status="paused", rules={"percentOff": 50})
    await make_campaign(client, tenant, status="ended", rules={"percentOff": 50})
    now = datetime.now(UTC)
    await make_campaign(
        client, tenant, rules={"percentOff": 50}, startsAt=rfc3339(now + timedelta(days=1))
    )
    await make_campaign(
        client,
        tenant,
        rules={"percentOff": 50},
        startsAt=rfc3339(now - timedelta(days=2)),
        endsAt=rfc3339(now - timedelta(days=1)),
    )
    current = await make_campaign(
        client,
        tenant,
        rules={"percentOff": 10},
        startsAt=rfc3339(now - timedelta(days=1)),
        endsAt=rfc3339(now + timedelta(days=1)),
    )
    order = await create_order(client, tenant, line(latte))
    assert sorted(order["campaignIds"]) == sorted([everyone["id"], current["id"]])
    # Percent first (10 % of 1000), then the amount off what is left.
    assert order["discountTotal"] == aud(200) and order["total"] == aud(800)
    draft_code = await make_campaign(client, tenant, status="draft", code="LATER", rules=TEN)
    assert error_fields(await post_order(client, tenant, line(latte), campaignCode="later")) == [
        "campaignCode"
    ]
    assert draft_code["status"] == "draft"


async def test_min_subtotal_and_product_and_category_scope(client, tenant: Tenant):
    response = await client.post(
        f"{API}/categories", json={"name": "Bakery"}, headers=tenant.headers
    )
    assert response.status_code == 201, response.text
    bakery = response.json()["data"]["id"]
    response = await client.post(
        f"{API}/categories", json={"name": "Cakes", "parentId": bakery}, headers=tenant.headers
    )
    cakes = response.json()["data"]["id"]
    latte = await make_product(client, tenant, price=1000, stock=10)
    tea = await make_product(client, tenant, price=500, stock=10)
    cake = await make_product(client, tenant, price=800, stock=10, category_id=cakes)
    big = await make_campaign(
        client, tenant, code="BIG", rules={"percentOff": 50, "minSubtotal": aud(2000)}
    )
    drinks = await make_campaign(
        client, tenant, code="LATTE", rules={"percentOff": 20, "productIds": [latte["id"]]}
    )
    baked = await make_campaign(
        client, tenant, code="BAKED", rules={"amountOff": aud(300), "categoryIds": [bakery]}
    )
    # Below the minimum: the code is accepted, the order is made, nothing comes off.
    small = await create_order(client, tenant, line(latte), campaignCode="big")
    assert small["discountTotal"] == aud(0) and small["campaignIds"] == []
    exactly = await create_order(client, tenant, line(latte, 2), campaignCode="big")
    assert exactly["discountTotal"] == aud(1000) and exactly["campaignIds"] == [big["id"]]

    scoped = await create_order(client, tenant, line(latte), line(tea), campaignCode="latte")
    assert [li["discount"]["amount"] for li in scoped["lineItems"]] == [200, 0]
    assert scoped["campaignIds"] == [drinks["id"]]
    none_eligible = await create_order(client, tenant, line(tea), campaignCode="latte")
    assert none_eligible["discountTotal"] == aud(0) and none_eligible["campaignIds"] == []

    # A parent category covers its subcategories.
    by_category = await create_order(client, tenant, line(cake), line(tea), campaignCode="baked")
    assert [li["discount"]["amount"] for li in by_category["lineItems"]] == [300, 0]
    assert by_category["campaignIds"] == [baked["id"]]
    assert by_category["lineItems"][0]["tax"] == aud(45)  # 500 / 11 = 45.45


# --- GraphQL -------------------------------------------------------------------------------


ORDER_FIELDS = """
  id number status locationId customerId version note
  subtotal { amount currency } discountTotal { amount } taxTotal { amount }
  total { amount } amountPaid { amount } amountRefunded { amount } balance { amount }
  campaignIds
  lineItems { id productId variantId name sku quantity unitPrice { amount }
              tax { amount } total { amount } product { id sku } }
  customer { id firstName }
  payments { id status method amount { amount } }
  refunds { id amount { amount } reason }
  history { status userId note }
"""
CREATE_ORDER = f"mutation($i: CreateOrderInput!) {{ createOrder(input: $i) {{ {ORDER_FIELDS} }} }}"
ONE_ORDER = f"query($id: ID!) {{ order(id: $id) {{ {ORDER_FIELDS} }} }}"
ORDERS_QUERY = """
query($first: Int, $after: String, $filter: OrderFilter) {
  orders(first: $first, after: $after, filter: $filter) {
    edges { node { number status } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
PREVIEW_QUERY = """
query($i: CreateOrderInput!) {
  previewOrder(input: $i) { subtotal { amount } taxTotal { amount } total { amount }
                            lineItems { unitPrice { amount } } }
}
"""
UPDATE_STATUS = """
mutation($id: ID!, $i: UpdateOrderStatusInput!, $v: Int) {
  updateOrderStatus(id: $id, input: $i, expectedVersion: $v) {
    id status version history { status note }
  }
}
"""
PAYMENT_FIELDS = """
  id orderId status method failureReason amount { amount currency }
  capturedAmount { amount } refundedAmount { amount } capturedAt
  order { id number balance { amount } }
"""
CREATE_PAYMENT = (
    f"mutation($i: CreatePaymentInput!) {{ createPayment(input: $i) {{ {PAYMENT_FIELDS} }} }}"
)
CAPTURE = f"""
mutation($id: ID!, $i: CapturePaymentInput) {{
  capturePayment(id: $id, input: $i) {{ {PAYMENT_FIELDS} }}
}}
"""
VOID = f"mutation($id: ID!) {{ voidPayment(id: $id) {{ {PAYMENT_FIELDS} }} }}"
ONE_PAYMENT = f"query($id: ID!) {{ payment(id: $id) {{ {PAYMENT_FIELDS} }} }}"
REFUND_ORDER = """
mutation($id: ID!, $i: RefundOrderInput!) {
  refundOrder(id: $id, input: $i) {
    id orderId amount { amount currency } reason restock
    lineItems { lineItemId quantity amount { amount } }
  }
}
"""


def code_of(body: dict) -> str:
    return body["errors"][0]["extensions"]["code"]  # type: ignore[no-any-return]


async def test_graphql_sells_pays_and_refunds(client, tenant: Tenant):
    latte = await make_product(client, tenant, price=1000, stock=5)
    customer = await make_customer(client, tenant)
    cart = {
        "locationId": str(tenant.location_id),
        "customerId": customer,
        "lineItems": [{"productId": latte["id"], "quantity": 2}],
        "note": "to go",
    }
    preview = await gql(client, PREVIEW_QUERY, {"i": cart}, tenant.headers)
    assert preview["data"]["previewOrder"] == {
        "subtotal": {"amount": 2000},
        "taxTotal": {"amount": 182},
        "total": {"amount": 2000},
        "lineItems": [{"unitPrice": {"amount": 1000}}],
    }
    created = (await gql(client, CREATE_ORDER, {"i": cart}, tenant.headers))["data"]["createOrder"]
    assert created["status"] == "OPEN" and created["number"] == 1
    assert created["customer"] == {"id": customer, "firstName": "Ada"}
    assert created["lineItems"][0]["product"] == {"id": latte["id"], "sku": latte["sku"]}
    assert created["payments"] == [] and created["refunds"] == []
    assert created["history"] == [{"status": "OPEN", "userId": str(tenant.user_id), "note": None}]
    assert await on_hand(client, tenant, latte["id"]) == 3
    rest = await get_order(client, tenant, created["id"])
    assert rest["total"]["amount"] == created["total"]["amount"] == 2000

    card = (
        await gql(
            client,
            CREATE_PAYMENT,
            {
                "i": {
                    "orderId": created["id"],
                    "amount": {"amount": 1500},
                    "method": "CARD",
                    "capture": False,
                }
            },
            tenant.headers,
        )
    )["data"]["createPayment"]
    assert card["status"] == "AUTHORIZED" and card["method"] == "CARD"
    assert card["order"] == {"id": created["id"], "number": 1, "balance": {"amount": 500}}
    captured = (
        await gql(
            client, CAPTURE, {"id": card["id"], "i": {"amount": {"amount": 1500}}}, tenant.headers
        )
    )["data"]["capturePayment"]
    assert captured["status"] == "CAPTURED" and captured["capturedAmount"] == {"amount": 1500}
    hold = (
        await gql(
            client,
            CREATE_PAYMENT,
            {
                "i": {
                    "orderId": created["id"],
                    "amount": {"amount": 300},
                    "method": "CARD",
                    "capture": False,
                }
            },
            tenant.headers,
        )
    )["data"]["createPayment"]
    voided = (await gql(client, VOID, {"id": hold["id"]}, tenant.headers))["data"]["voidPayment"]
    assert voided["status"] == "VOIDED"
    declined = (
        await gql(
            client,
            CREATE_PAYMENT,
            {"i": {"orderId": created["id"], "amount": {"amount": 213}, "method": "CARD"}},
            tenant.headers,
        )
    )["data"]["createPayment"]
    assert declined["status"] == "FAILED" and declined["failureReason"] == "card_declined"
    cash = (
        await gql(
            client,
            CREATE_PAYMENT,
            {"i": {"orderId": created["id"], "amount": {"amount": 500}, "method": "CASH"}},
            tenant.headers,
        )
    )["data"]["createPayment"]
    assert cash["status"] == "CAPTURED" and cash["order"]["balance"] == {"amount": 0}
    fetched = (await gql(client, ONE_PAYMENT, {"id": cash["id"]}, tenant.headers))["data"]
    assert fetched["payment"] == cash

    stale = await gql(
        client,
        UPDATE_STATUS,
        {"id": created["id"], "i": {"status": "COMPLETED"}, "v": created["version"]},
        tenant.headers,
    )
    assert code_of(stale) == "PRECONDITION_FAILED"
    version = (await get_order(client, tenant, created["id"]))["version"]
    done = (
        await gql(
            client,
            UPDATE_STATUS,
            {"id": created["id"], "i": {"status": "COMPLETED", "note": "ok"}, "v": version},
            tenant.headers,
        )
    )["data"]["updateOrderStatus"]
    assert done["status"] == "COMPLETED" and done["version"] == version + 1
    assert done["history"] == [
        {"status": "OPEN", "note": None},
        {"status": "COMPLETED", "note": "ok"},
    ]
    again = await gql(
        client, UPDATE_STATUS, {"id": created["id"], "i": {"status": "VOIDED"}}, tenant.headers
    )
    assert code_of(again) == "CONFLICT" and again["errors"][0]["extensions"]["status"] == 409

    line_id = created["lineItems"][0]["id"]
    given = (
        await gql(
            client,
            REFUND_ORDER,
            {
                "id": created["id"],
                "i": {
                    "reason": "spilt",
                    "restock": True,
                    "lineItems": [{"lineItemId": line_id, "quantity": 1}],
                },
            },
            tenant.headers,
        )
    )["data"]["refundOrder"]
    assert given["amount"] == {"amount": 1000, "currency": "AUD"} and given["restock"] is True
    assert given["lineItems"] == [
        {"lineItemId": line_id, "quantity": 1, "amount": {"amount": 1000}}
    ]
    assert await on_hand(client, tenant, latte["id"]) == 4

    final = (await gql(client, ONE_ORDER, {"id": created["id"]}, tenant.headers))["data"]["order"]
    assert final["status"] == "PARTIALLY_REFUNDED"
    assert final["amountPaid"] == {"amount": 2000} and final["amountRefunded"] == {"amount": 1000}
    assert [(p["method"], p["status"]) for p in final["payments"]] == [
        ("CARD", "CAPTURED"),
        ("CARD", "VOIDED"),
        ("CARD", "FAILED"),
        ("CASH", "CAPTURED"),
    ]
    assert final["refunds"] == [{"id": given["id"], "amount": {"amount": 1000}, "reason": "spilt"}]
    assert [h["status"] for h in final["history"]] == ["OPEN", "COMPLETED", "PARTIALLY_REFUNDED"]


async def test_graphql_lists_and_errors(client, tenant: Tenant):
    latte = await make_product(client, tenant, price=1000, stock=10)
    for _ in range(3):
        await create_order(client, tenant, line(latte))
    await paid_order(client, tenant, line(latte))
    page = (await gql(client, ORDERS_QUERY, {"first": 2}, tenant.headers))["data"]["orders"]
    assert [e["node"]["number"] for e in page["edges"]] == [4, 3]
    assert page["pageInfo"]["hasNextPage"] is True
    rest = await gql(
        client, ORDERS_QUERY, {"first": 5, "after": page["pageInfo"]["endCursor"]}, tenant.headers
    )
    assert [e["node"]["number"] for e in rest["data"]["orders"]["edges"]] == [2, 1]
    done = await gql(client, ORDERS_QUERY, {"filter": {"status": "COMPLETED"}}, tenant.headers)
    assert done["data"]["orders"]["edges"] == [{"node": {"number": 4, "status": "COMPLETED"}}]
    nobody = await gql(
        client, ORDERS_QUERY, {"filter": {"customerId": str(uuid.uuid4())}}, tenant.headers
    )
    assert nobody["data"]["orders"]["edges"] == []

    invalid = await gql(
        client,
        CREATE_ORDER,
        {
            "i": {
                "locationId": str(tenant.location_id),
                "lineItems": [{"productId": latte["id"], "quantity": 0}],
            }
        },
        tenant.headers,
    )
    assert code_of(invalid) == "VALIDATION"
    assert invalid["errors"][0]["extensions"]["status"] == 422
    assert [e["field"] for e in invalid["errors"][0]["extensions"]["errors"]] == [
        "lineItems.0.quantity"
    ]
    short = await gql(
        client,
        CREATE_ORDER,
        {
            "i": {
                "locationId": str(tenant.location_id),
                "lineItems": [{"productId": latte["id"], "quantity": 99}],
            }
        },
        tenant.headers,
    )
    assert code_of(short) == "CONFLICT" and latte["sku"] in short["errors"][0]["message"]
    missing = await gql(client, ONE_ORDER, {"id": str(uuid.uuid4())}, tenant.headers)
    assert code_of(missing) == "NOT_FOUND"
    unknown = await gql(
        client,
        CREATE_PAYMENT,
        {"i": {"orderId": str(uuid.uuid4()), "amount": {"amount": 1}, "method": "CASH"}},
        tenant.headers,
    )
    assert code_of(unknown) == "VALIDATION"
    assert unknown["errors"][0]["extensions"]["errors"][0]["field"] == "orderId"
    node = await gql(
        client,
        "query($id: ID!) { node(id: $id) { id ... on Order { number } } }",
        {"id": (await list_all(client, tenant, ORDERS))[0]["id"]},
        tenant.headers,
    )
    assert node["data"]["node"]["number"] == 4

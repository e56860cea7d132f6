"""Inventory through REST and GraphQL: adjust, transfer, levels, movements, alerts, the
low-stock event, isolation, roles, concurrency and the statement count of a level page."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from elevatedpos.actions.orgs import create_user
from elevatedpos.auth.sessions import start_session
from elevatedpos.db.models import OutboxEvent
from tests.conftest import PASSWORD, Tenant, gql

API = "/api/v1"
ADJUST = f"{API}/inventory/adjust"
TRANSFER = f"{API}/inventory/transfer"
LEVELS = f"{API}/inventory/levels"
MOVEMENTS = f"{API}/inventory/movements"
ALERTS = f"{API}/inventory/alerts"
ERRORS = "https://elevatedpos.com.au/errors/"
PROBLEM = "application/problem+json"

LEVEL_KEYS = {"productId", "variantId", "locationId", "onHand", "reorderPoint"}
MOVEMENT_KEYS = {
    "id",
    "productId",
    "variantId",
    "locationId",
    "delta",
    "balanceAfter",
    "type",
    "reason",
    "referenceId",
    "userId",
    "note",
    "createdAt",
}
ALERT_KEYS = {"productId", "variantId", "locationId", "onHand", "reorderPoint", "type"}


# --- helpers -------------------------------------------------------------------------------


async def make_product(
    client,
    tenant: Tenant,
    *,
    name: str | None = None,
    reorder_point: int = 0,
    track: bool = True,
    variants: int = 0,
) -> dict:
    sku = f"SKU-{uuid.uuid4().hex[:10]}"
    body = {
        "name": name or f"Product {sku}",
        "sku": sku,
        "price": {"amount": 450},
        "reorderPoint": reorder_point,
        "trackInventory": track,
        "variants": [{"name": f"V{i}", "sku": f"{sku}-V{i}"} for i in range(variants)],
    }
    response = await client.post(f"{API}/products", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    return response.json()["data"]


async def make_location(client, tenant: Tenant, name: str | None = None) -> str:
    response = await client.post(
        f"{API}/locations",
        json={"name": name or f"Store {uuid.uuid4().hex[:6]}"},
        headers=tenant.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()["data"]["id"]


async def adjust(
    client,
    tenant: Tenant,
    product_id,
    location_id,
    delta,
    reason: str = "received",
    **extra,
):
    body = {
        "productId": str(product_id),
        "locationId": str(location_id),
        "delta": delta,
        "reason": reason,
        **extra,
    }
    return await client.post(ADJUST, json=body, headers=tenant.headers)


async def adjust_ok(client, tenant: Tenant, product_id, location_id, delta, **extra) -> dict:
    response = await adjust(client, tenant, product_id, location_id, delta, **extra)
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def transfer(client, tenant: Tenant, product_id, source, target, quantity, **extra):
    body = {
        "productId": str(product_id),
        "fromLocationId": str(source),
        "toLocationId": str(target),
        "quantity": quantity,
        **extra,
    }
    return await client.post(TRANSFER, json=body, headers=tenant.headers)


async def list_all(client, tenant: Tenant, url: str, limit: int = 100, **params) -> list[dict]:
    """Every row of a list route, following nextCursor."""
    rows: list[dict] = []
    cursor = None
    for _ in range(200):
        query = {"limit": limit, **params}
        if cursor:
            query["cursor"] = cursor
        response = await client.get(url, params=query, headers=tenant.headers)
        assert response.status_code == 200, response.text
        body = response.json()
        rows.extend(body["data"])
        cursor = body["meta"]["nextCursor"]
        if cursor is None:
            return rows
    raise AssertionError("pagination did not end")


async def on_hand(client, tenant: Tenant, product_id, location_id, variant_id=None) -> int:
    """What the levels list says is on hand (0 when there is no level)."""
    rows = await list_all(
        client, tenant, LEVELS, productId=str(product_id), locationId=str(location_id)
    )
    rows = [r for r in rows if r["variantId"] == (str(variant_id) if variant_id else None)]
    assert len(rows) <= 1, rows
    return rows[0]["onHand"] if rows else 0


async def movements_of(client, tenant: Tenant, product_id) -> list[dict]:
    return await list_all(client, tenant, MOVEMENTS, productId=str(product_id))


async def low_stock_events(runtime, org_id) -> list[dict]:
    async with runtime.db.read() as session:
        rows = (
            await session.scalars(
                select(OutboxEvent)
                .where(OutboxEvent.org_id == org_id, OutboxEvent.type == "inventory.low_stock")
                .order_by(OutboxEvent.created_at, OutboxEvent.id)
            )
        ).all()
    return [row.data for row in rows]


async def member(runtime, tenant: Tenant, role: str) -> Tenant:
    """Another user of the tenant's org, signed in (as conftest's make_tenant does)."""
    email = f"{role}-{uuid.uuid4().hex[:12]}@example.com"
    user = await create_user(
        runtime.db, org_id=tenant.org_id, email=email, password=PASSWORD, role=role
    )
    issued = await start_session(runtime, user)
    return Tenant(
        tenant.org_id,
        user.id,
        tenant.location_id,
        email,
        issued.access_token,
        issued.refresh_token,
    )


def assert_problem(response, status: int, slug: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["type"] == ERRORS + slug
    assert body["status"] == status
    return body


def error_fields(response) -> list[str]:
    return [e["field"] for e in response.json()["errors"]]


def parse_time(value: str) -> datetime:
    assert value.endswith("Z"), value
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def assert_ledger(levels: list[dict], movements: list[dict]) -> None:
    """Each level equals the sum of its movements, and no movement is for a missing level."""
    sums: dict[tuple, int] = defaultdict(int)
    for m in movements:
        sums[(m["productId"], m["variantId"], m["locationId"])] += m["delta"]
    by_key = {(lv["productId"], lv["variantId"], lv["locationId"]): lv for lv in levels}
    for key, total in sums.items():
        assert key in by_key, key
        assert by_key[key]["onHand"] == total, (key, by_key[key], total)
    for key, level in by_key.items():
        assert level["onHand"] == sums.get(key, 0), (key, level)


def assert_running_balances(movements: list[dict]) -> None:
    """In chronological order, each movement's balanceAfter is the running sum of deltas."""
    chains: dict[tuple, list[dict]] = defaultdict(list)
    for m in reversed(movements):  # the list is newest first
        chains[(m["productId"], m["variantId"], m["locationId"])].append(m)
    for key, chain in chains.items():
        running = 0
        for m in chain:
            running += m["delta"]
            assert m["balanceAfter"] == running, (key, m, running)


# --- adjust --------------------------------------------------------------------------------


async def test_adjust_answers_the_level_and_the_movement(client, tenant: Tenant):
    product = await make_product(client, tenant, reorder_point=3)
    before = datetime.now(UTC)
    response = await adjust(
        client, tenant, product["id"], tenant.location_id, 7, note="Delivery from supplier"
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    data = response.json()["data"]
    assert set(data) == {"levels", "movements"}
    assert data["levels"] == [
        {
            "productId": product["id"],
            "variantId": None,
            "locationId": str(tenant.location_id),
            "onHand": 7,
            "reorderPoint": 3,
        }
    ]
    [movement] = data["movements"]
    assert set(movement) == MOVEMENT_KEYS
    assert uuid.UUID(movement["id"])
    assert {k: v for k, v in movement.items() if k not in {"id", "createdAt"}} == {
        "productId": product["id"],
        "variantId": None,
        "locationId": str(tenant.location_id),
        "delta": 7,
        "balanceAfter": 7,
        "type": "adjustment",
        "reason": "received",
        "referenceId": None,
        "userId": str(tenant.user_id),
        "note": "Delivery from supplier",
    }
    created = parse_time(movement["createdAt"])
    assert before - timedelta(seconds=5) <= created <= datetime.now(UTC) + timedelta(seconds=5)

    # what the lists say afterwards is what the answer said
    assert await list_all(client, tenant, LEVELS) == data["levels"]
    assert await list_all(client, tenant, MOVEMENTS) == [movement]


async def test_adjust_down_and_every_reason_code(client, tenant: Tenant):
    product = await make_product(client, tenant)
    reasons = ["received", "damaged", "theft", "count_correction", "return", "other"]
    deltas = [20, -2, -1, -3, 4, -5]
    for reason, delta in zip(reasons, deltas, strict=True):
        data = await adjust_ok(
            client, tenant, product["id"], tenant.location_id, delta, reason=reason
        )
        assert data["movements"][0]["reason"] == reason
        assert data["movements"][0]["delta"] == delta
    assert await on_hand(client, tenant, product["id"], tenant.location_id) == sum(deltas)
    movements = await movements_of(client, tenant, product["id"])
    assert [m["reason"] for m in movements] == list(reversed(reasons))
    assert_running_balances(movements)


async def test_adjust_below_zero_is_409_and_writes_nothing(client, tenant: Tenant, runtime):
    product = await make_product(client, tenant, reorder_point=10)
    await adjust_ok(client, tenant, product["id"], tenant.location_id, 5)
    events_before = await low_stock_events(runtime, tenant.org_id)

    short = await adjust(client, tenant, product["id"], tenant.location_id, -6, reason="damaged")
    body = assert_problem(short, 409, "conflict")
    assert body["requestId"] == short.headers["x-request-id"]
    assert await on_hand(client, tenant, product["id"], tenant.location_id) == 5
    assert len(await movements_of(client, tenant, product["id"])) == 1

    # a location that never had stock: no level and no movement appear
    empty = await make_location(client, tenant)
    assert_problem(await adjust(client, tenant, product["id"], empty, -1), 409, "conflict")
    assert await list_all(client, tenant, LEVELS, locationId=empty) == []
    assert await list_all(client, tenant, MOVEMENTS, locationId=empty) == []
    assert await low_stock_events(runtime, tenant.org_id) == events_before

    # exactly to zero is allowed
    data = await adjust_ok(client, tenant, product["id"], tenant.location_id, -5, reason="theft")
    assert data["levels"][0]["onHand"] == 0
    assert data["movements"][0]["balanceAfter"] == 0


BAD_ADJUST_BODIES = [
    ({"reason": "stolen"}, "reason"),
    ({"reason": None}, "reason"),
    ({"delta": 0}, "delta"),
    ({"delta": 1.5}, "delta"),
    ({"delta": "3"}, "delta"),
    ({"delta": None}, "delta"),
    ({"locationId": None}, "locationId"),
    ({"productId": None}, "productId"),
    ({"quantity": 3}, "quantity"),  # an unknown field
    ({"note": 5}, "note"),
]


def changed(body: dict, change: dict) -> dict:
    """`body` with `change` applied (None removes the key)."""
    out = dict(body)
    for key, value in change.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


async def test_adjust_rejects_a_bad_body_with_422_on_the_field(client, tenant: Tenant):
    product = await make_product(client, tenant)
    body = {
        "productId": product["id"],
        "locationId": str(tenant.location_id),
        "delta": 3,
        "reason": "received",
    }
    for change, field in BAD_ADJUST_BODIES:
        response = await client.post(ADJUST, json=changed(body, change), headers=tenant.headers)
        assert_problem(response, 422, "validation")
        assert field in error_fields(response), (change, response.json())
    assert await list_all(client, tenant, LEVELS) == []
    assert await list_all(client, tenant, MOVEMENTS) == []


async def test_adjust_invalid_json_is_400(client, tenant: Tenant):
    response = await client.post(
        ADJUST,
        content=b'{"productId": ',
        headers={**tenant.headers, "Content-Type": "application/json"},
    )
    assert_problem(response, 400, "bad-request")


async def test_a_product_with_variants_is_counted_per_variant(client, tenant: Tenant):
    product = await make_product(client, tenant, variants=2)
    small, large = (v["id"] for v in product["variants"])
    other = await make_product(client, tenant, variants=1)

    missing = await adjust(client, tenant, product["id"], tenant.location_id, 5)
    assert_problem(missing, 422, "validation")
    assert error_fields(missing) == ["variantId"]

    foreign = await adjust(
        client, tenant, product["id"], tenant.location_id, 5, variantId=other["variants"][0]["id"]
    )
    assert_problem(foreign, 422, "validation")
    assert error_fields(foreign) == ["variantId"]

    bogus = await adjust(
        client, tenant, product["id"], tenant.location_id, 5, variantId=str(uuid.uuid4())
    )
    assert error_fields(bogus) == ["variantId"]
    assert await list_all(client, tenant, MOVEMENTS) == []

    a = await adjust_ok(client, tenant, product["id"], tenant.location_id, 5, variantId=small)
    assert a["levels"][0]["variantId"] == small
    assert a["movements"][0]["variantId"] == small
    await adjust_ok(client, tenant, product["id"], tenant.location_id, 2, variantId=large)
    await adjust_ok(client, tenant, product["id"], tenant.location_id, -1, variantId=small)

    levels = await list_all(client, tenant, LEVELS, productId=product["id"])
    assert sorted((lv["variantId"], lv["onHand"]) for lv in levels) == sorted(
        [(small, 4), (large, 2)]
    )
    # one variant's stock cannot cover another's
    short = await adjust(client, tenant, product["id"], tenant.location_id, -3, variantId=large)
    assert_problem(short, 409, "conflict")
    assert await on_hand(client, tenant, product["id"], tenant.location_id, large) == 2


async def test_a_product_without_variants_rejects_a_variant_id(client, tenant: Tenant):
    plain = await make_product(client, tenant)
    other = await make_product(client, tenant, variants=1)
    response = await adjust(
        client, tenant, plain["id"], tenant.location_id, 1, variantId=other["variants"][0]["id"]
    )
    assert_problem(response, 422, "validation")
    assert error_fields(response) == ["variantId"]
    assert await list_all(client, tenant, MOVEMENTS) == []


async def test_ids_that_name_nothing_in_the_org_are_422_on_their_field(
    client, tenant: Tenant, make_tenant
):
    other = await make_tenant()
    theirs = await make_product(client, other)
    mine = await make_product(client, tenant)
    await adjust_ok(client, other, theirs["id"], other.location_id, 4)

    cases = [
        (theirs["id"], tenant.location_id, "productId"),
        (str(uuid.uuid4()), tenant.location_id, "productId"),
        ("not-a-uuid", tenant.location_id, "productId"),
        (mine["id"], other.location_id, "locationId"),
        (mine["id"], uuid.uuid4(), "locationId"),
        (mine["id"], "not-a-uuid", "locationId"),
    ]
    for product_id, location_id, field in cases:
        response = await adjust(client, tenant, product_id, location_id, -1)
        assert_problem(response, 422, "validation")
        assert error_fields(response) == [field], (product_id, location_id)
    # neither org changed
    assert await list_all(client, tenant, MOVEMENTS) == []
    assert await on_hand(client, other, theirs["id"], other.location_id) == 4
    assert len(await list_all(client, other, MOVEMENTS)) == 1


async def test_adjust_needs_a_token(client, tenant: Tenant):
    product = await make_product(client, tenant)
    response = await client.post(
        ADJUST,
        json={
            "productId": product["id"],
            "locationId": str(tenant.location_id),
            "delta": 1,
            "reason": "received",
        },
    )
    assert_problem(response, 401, "unauthorized")
    assert (await client.get(LEVELS)).status_code == 401
    assert await list_all(client, tenant, MOVEMENTS) == []


# --- transfer ------------------------------------------------------------------------------


async def test_transfer_moves_stock_with_two_linked_movements(client, tenant: Tenant):
    product = await make_product(client, tenant, reorder_point=2)
    a, b = str(tenant.location_id), await make_location(client, tenant)
    await adjust_ok(client, tenant, product["id"], a, 10)

    response = await transfer(client, tenant, product["id"], a, b, 4, note="restock Bondi")
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    levels = {lv["locationId"]: lv for lv in data["levels"]}
    assert levels == {
        a: {
            "productId": product["id"],
            "variantId": None,
            "locationId": a,
            "onHand": 6,
            "reorderPoint": 2,
        },
        b: {
            "productId": product["id"],
            "variantId": None,
            "locationId": b,
            "onHand": 4,
            "reorderPoint": 2,
        },
    }
    assert len(data["levels"]) == 2
    moves = {m["type"]: m for m in data["movements"]}
    assert len(data["movements"]) == 2
    out, into = moves["transfer_out"], moves["transfer_in"]
    assert (out["locationId"], out["delta"], out["balanceAfter"]) == (a, -4, 6)
    assert (into["locationId"], into["delta"], into["balanceAfter"]) == (b, 4, 4)
    assert out["referenceId"] is not None
    assert uuid.UUID(out["referenceId"])
    assert out["referenceId"] == into["referenceId"]
    assert out["id"] != into["id"]
    for m in (out, into):
        assert set(m) == MOVEMENT_KEYS
        assert m["userId"] == str(tenant.user_id)
        assert m["productId"] == product["id"]
        assert m["reason"] is None
        assert m["note"] == "restock Bondi"
        parse_time(m["createdAt"])

    assert await on_hand(client, tenant, product["id"], a) == 6
    assert await on_hand(client, tenant, product["id"], b) == 4
    listed = await movements_of(client, tenant, product["id"])
    assert {m["id"] for m in listed} >= {out["id"], into["id"]}
    assert len(listed) == 3

    # and back again, the other way round (the other lock order)
    back = await transfer(client, tenant, product["id"], b, a, 4)
    assert back.status_code == 200, back.text
    assert await on_hand(client, tenant, product["id"], a) == 10
    assert await on_hand(client, tenant, product["id"], b) == 0


async def test_transfer_when_short_is_409_at_both_locations(client, tenant: Tenant, runtime):
    product = await make_product(client, tenant, reorder_point=5)
    a, b = str(tenant.location_id), await make_location(client, tenant)
    c = await make_location(client, tenant)
    await adjust_ok(client, tenant, product["id"], a, 3)
    await adjust_ok(client, tenant, product["id"], b, 2)
    before = await movements_of(client, tenant, product["id"])
    events = await low_stock_events(runtime, tenant.org_id)

    # both directions, so that the short leg is locked first in one and second in the other
    for source, target, quantity in [(a, b, 4), (b, a, 3), (a, c, 4), (c, a, 1)]:
        response = await transfer(client, tenant, product["id"], source, target, quantity)
        assert_problem(response, 409, "conflict")

    assert await on_hand(client, tenant, product["id"], a) == 3
    assert await on_hand(client, tenant, product["id"], b) == 2
    assert await list_all(client, tenant, LEVELS, locationId=c) == []
    assert await movements_of(client, tenant, product["id"]) == before
    assert await low_stock_events(runtime, tenant.org_id) == events


BAD_TRANSFER_BODIES = [
    ({"quantity": 0}, "quantity"),
    ({"quantity": -2}, "quantity"),
    ({"quantity": 1.5}, "quantity"),
    ({"quantity": None}, "quantity"),
    ({"toLocationId": None}, "toLocationId"),
    ({"fromLocationId": None}, "fromLocationId"),
    ({"delta": 2}, "delta"),  # unknown fields
    ({"reason": "received"}, "reason"),
]


async def test_transfer_rejects_a_bad_body_with_422_on_the_field(client, tenant: Tenant):
    product = await make_product(client, tenant)
    a, b = str(tenant.location_id), await make_location(client, tenant)
    await adjust_ok(client, tenant, product["id"], a, 5)
    body = {"productId": product["id"], "fromLocationId": a, "toLocationId": b, "quantity": 2}
    for change, field in BAD_TRANSFER_BODIES:
        response = await client.post(TRANSFER, json=changed(body, change), headers=tenant.headers)
        assert_problem(response, 422, "validation")
        assert field in error_fields(response), (change, response.json())
    assert await on_hand(client, tenant, product["id"], a) == 5
    assert await list_all(client, tenant, LEVELS, locationId=b) == []
    assert len(await movements_of(client, tenant, product["id"])) == 1


async def test_transfer_to_the_same_location_is_422(client, tenant: Tenant):
    product = await make_product(client, tenant)
    a = str(tenant.location_id)
    await adjust_ok(client, tenant, product["id"], a, 5)
    response = await transfer(client, tenant, product["id"], a, a, 2)
    assert_problem(response, 422, "validation")
    assert set(error_fields(response)) & {"fromLocationId", "toLocationId"}
    assert await on_hand(client, tenant, product["id"], a) == 5
    assert len(await movements_of(client, tenant, product["id"])) == 1


async def test_transfer_to_the_same_location_spelled_differently_is_422(client, tenant: Tenant):
    """An upper-case UUID names the same location (ids are UUIDs, not strings)."""
    product = await make_product(client, tenant)
    a = str(tenant.location_id)
    await adjust_ok(client, tenant, product["id"], a, 5)
    response = await transfer(client, tenant, product["id"], a, a.upper(), 2)
    assert_problem(response, 422, "validation")
    assert set(error_fields(response)) & {"fromLocationId", "toLocationId"}
    assert await on_hand(client, tenant, product["id"], a) == 5
    assert len(await movements_of(client, tenant, product["id"])) == 1


async def test_transfer_with_ids_outside_the_org_is_422(client, tenant: Tenant, make_tenant):
    other = await make_tenant()
    product = await make_product(client, tenant, variants=1)
    variant = product["variants"][0]["id"]
    theirs = await make_product(client, other)
    a, b = str(tenant.location_id), await make_location(client, tenant)
    await adjust_ok(client, tenant, product["id"], a, 5, variantId=variant)

    cases = [
        ({"productId": theirs["id"]}, "productId"),
        ({"fromLocationId": str(other.location_id)}, "fromLocationId"),
        ({"toLocationId": str(other.location_id)}, "toLocationId"),
        ({"toLocationId": str(uuid.uuid4())}, "toLocationId"),
        ({"variantId": None}, "variantId"),
        ({"variantId": str(uuid.uuid4())}, "variantId"),
    ]
    body = {
        "productId": product["id"],
        "variantId": variant,
        "fromLocationId": a,
        "toLocationId": b,
        "quantity": 2,
    }
    for change, field in cases:
        response = await client.post(TRANSFER, json=changed(body, change), headers=tenant.headers)
        assert_problem(response, 422, "validation")
        assert error_fields(response) == [field], change
    assert await on_hand(client, tenant, product["id"], a, variant) == 5
    assert await list_all(client, tenant, LEVELS, locationId=b) == []
    assert await list_all(client, other, LEVELS) == []

    ok = await transfer(client, tenant, product["id"], a, b, 2, variantId=variant)
    assert ok.status_code == 200, ok.text
    assert {lv["variantId"] for lv in ok.json()["data"]["levels"]} == {variant}
    assert await on_hand(client, tenant, product["id"], b, variant) == 2


# --- lists ---------------------------------------------------------------------------------


async def test_level_filters_and_unknown_ids_give_empty_lists(client, tenant: Tenant):
    p1 = await make_product(client, tenant, reorder_point=1)
    p2 = await make_product(client, tenant, reorder_point=2)
    a, b = str(tenant.location_id), await make_location(client, tenant)
    await adjust_ok(client, tenant, p1["id"], a, 5)
    await adjust_ok(client, tenant, p1["id"], b, 6)
    await adjust_ok(client, tenant, p2["id"], a, 7)

    def keys(rows):
        return sorted((r["productId"], r["locationId"], r["onHand"]) for r in rows)

    everything = await list_all(client, tenant, LEVELS)
    assert all(set(r) == LEVEL_KEYS for r in everything)
    assert keys(everything) == sorted([(p1["id"], a, 5), (p1["id"], b, 6), (p2["id"], a, 7)])
    assert {r["productId"]: r["reorderPoint"] for r in everything} == {p1["id"]: 1, p2["id"]: 2}
    assert keys(await list_all(client, tenant, LEVELS, productId=p1["id"])) == sorted(
        [(p1["id"], a, 5), (p1["id"], b, 6)]
    )
    assert keys(await list_all(client, tenant, LEVELS, locationId=a)) == sorted(
        [(p1["id"], a, 5), (p2["id"], a, 7)]
    )
    assert keys(await list_all(client, tenant, LEVELS, productId=p2["id"], locationId=b)) == []
    for params in (
        {"productId": str(uuid.uuid4())},
        {"locationId": str(uuid.uuid4())},
        {"productId": "not-a-uuid"},
        {"locationId": ""},
    ):
        response = await client.get(LEVELS, params=params, headers=tenant.headers)
        assert response.status_code == 200, (params, response.text)
        assert response.json()["data"] == [], params


async def test_movements_are_newest_first_and_filter_by_product_location_and_type(
    client, tenant: Tenant
):
    p1 = await make_product(client, tenant)
    p2 = await make_product(client, tenant)
    a, b = str(tenant.location_id), await make_location(client, tenant)
    first = await adjust_ok(client, tenant, p1["id"], a, 9)
    second = await adjust_ok(client, tenant, p2["id"], b, 4)
    moved = (await transfer(client, tenant, p1["id"], a, b, 3)).json()["data"]
    last = await adjust_ok(client, tenant, p1["id"], b, -1, reason="damaged")

    everything = await list_all(client, tenant, MOVEMENTS)
    assert len(everything) == 5
    ids = [m["id"] for m in everything]
    assert ids[0] == last["movements"][0]["id"]
    assert set(ids[1:3]) == {m["id"] for m in moved["movements"]}
    assert ids[3:] == [second["movements"][0]["id"], first["movements"][0]["id"]]
    times = [parse_time(m["createdAt"]) for m in everything]
    assert times == sorted(times, reverse=True)

    assert [m["id"] for m in await list_all(client, tenant, MOVEMENTS, productId=p2["id"])] == [
        second["movements"][0]["id"]
    ]
    at_b = await list_all(client, tenant, MOVEMENTS, locationId=b)
    assert {m["locationId"] for m in at_b} == {b}
    assert len(at_b) == 3
    by_type = await list_all(client, tenant, MOVEMENTS, type="transfer_in")
    assert [(m["type"], m["locationId"], m["delta"]) for m in by_type] == [("transfer_in", b, 3)]
    adjustments = await list_all(client, tenant, MOVEMENTS, type="adjustment", productId=p1["id"])
    assert [m["id"] for m in adjustments] == [
        last["movements"][0]["id"],
        first["movements"][0]["id"],
    ]
    assert await list_all(client, tenant, MOVEMENTS, type="sale") == []
    assert await list_all(client, tenant, MOVEMENTS, productId=str(uuid.uuid4())) == []
    assert await list_all(client, tenant, MOVEMENTS, locationId="nope") == []

    bogus = await client.get(MOVEMENTS, params={"type": "bogus"}, headers=tenant.headers)
    assert_problem(bogus, 422, "validation")
    assert error_fields(bogus) == ["type"]


async def stock_for_paging(client, tenant: Tenant) -> None:
    """8 levels (all alerting: reorder point 10) and 12 movements."""
    products = [await make_product(client, tenant, reorder_point=10) for _ in range(4)]
    a, b = str(tenant.location_id), await make_location(client, tenant)
    for p in products:
        await adjust_ok(client, tenant, p["id"], a, 5)
        await adjust_ok(client, tenant, p["id"], b, 2)
        await adjust_ok(client, tenant, p["id"], a, -1, reason="damaged")


@pytest.mark.parametrize(("url", "total"), [(LEVELS, 8), (ALERTS, 8), (MOVEMENTS, 12)])
async def test_pagination_gives_every_row_exactly_once(client, tenant: Tenant, url, total):
    await stock_for_paging(client, tenant)
    everything = await list_all(client, tenant, url)
    assert len(everything) == total
    for limit in (1, 3, 5):
        assert await list_all(client, tenant, url, limit=limit) == everything, limit

    page = await client.get(url, params={"limit": 5}, headers=tenant.headers)
    assert len(page.json()["data"]) == 5
    meta = page.json()["meta"]
    assert meta["limit"] == 5
    assert isinstance(meta["nextCursor"], str)
    rest = await client.get(
        url, params={"limit": 100, "cursor": meta["nextCursor"]}, headers=tenant.headers
    )
    assert rest.status_code == 200, rest.text
    assert page.json()["data"] + rest.json()["data"] == everything
    assert rest.json()["meta"] == {"limit": 100, "nextCursor": None}
    default = await client.get(url, headers=tenant.headers)
    assert default.json()["meta"] == {"limit": 50, "nextCursor": None}


async def test_movement_pages_in_graphql(client, tenant: Tenant):
    await stock_for_paging(client, tenant)
    everything = await list_all(client, tenant, MOVEMENTS)
    q = """
    query($after: String) {
      inventoryMovements(first: 5, after: $after) {
        nodes { id } pageInfo { hasNextPage endCursor }
      }
    }
    """
    seen, after = [], None
    for _ in range(10):
        body = await gql(client, q, {"after": after}, headers=tenant.headers)
        assert "errors" not in body, body
        conn = body["data"]["inventoryMovements"]
        seen.extend(n["id"] for n in conn["nodes"])
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
    assert seen == [m["id"] for m in everything]


async def test_bad_limit_or_cursor_is_422(client, tenant: Tenant):
    for url in (LEVELS, MOVEMENTS, ALERTS):
        for params, field in (
            ({"limit": 0}, "limit"),
            ({"limit": 101}, "limit"),
            ({"limit": "ten"}, "limit"),
            ({"cursor": "not-a-cursor"}, "cursor"),
        ):
            response = await client.get(url, params=params, headers=tenant.headers)
            assert_problem(response, 422, "validation")
            assert error_fields(response) == [field], (url, params)


async def test_alerts_for_tracked_stock_at_or_below_the_reorder_point(client, tenant: Tenant):
    a, b = str(tenant.location_id), await make_location(client, tenant)
    latte = await make_product(client, tenant, name="Latte beans", reorder_point=5)
    await adjust_ok(client, tenant, latte["id"], a, 8)
    assert await list_all(client, tenant, ALERTS) == []

    await adjust_ok(client, tenant, latte["id"], a, -2)  # 6: still above
    assert await list_all(client, tenant, ALERTS) == []
    await adjust_ok(client, tenant, latte["id"], a, -1)  # 5: at the reorder point
    assert await list_all(client, tenant, ALERTS) == [
        {
            "productId": latte["id"],
            "variantId": None,
            "locationId": a,
            "onHand": 5,
            "reorderPoint": 5,
            "type": "low_stock",
        }
    ]
    await adjust_ok(client, tenant, latte["id"], a, -5)  # 0: out of stock
    [alert] = await list_all(client, tenant, ALERTS)
    assert (alert["onHand"], alert["type"]) == (0, "out_of_stock")

    # reorder point 0: only an empty shelf is an alert
    milk = await make_product(client, tenant, reorder_point=0)
    await adjust_ok(client, tenant, milk["id"], b, 1)
    assert {x["productId"] for x in await list_all(client, tenant, ALERTS)} == {latte["id"]}
    await adjust_ok(client, tenant, milk["id"], b, -1)

    # untracked stock never alerts
    cups = await make_product(client, tenant, reorder_point=50, track=False)
    await adjust_ok(client, tenant, cups["id"], a, 3)
    # archived products give none
    gone = await make_product(client, tenant, reorder_point=10)
    await adjust_ok(client, tenant, gone["id"], a, 2)
    gone_alerts = await list_all(client, tenant, ALERTS, productId=gone["id"])
    assert [x["type"] for x in gone_alerts] == ["low_stock"]
    archived = await client.delete(f"{API}/products/{gone['id']}", headers=tenant.headers)
    assert archived.status_code == 200, archived.text
    assert archived.json()["data"]["status"] == "archived"

    alerts = await list_all(client, tenant, ALERTS)
    assert all(set(x) == ALERT_KEYS for x in alerts)
    assert sorted(
        (x["productId"], x["locationId"], x["type"], x["onHand"]) for x in alerts
    ) == sorted([(latte["id"], a, "out_of_stock", 0), (milk["id"], b, "out_of_stock", 0)])
    assert [x["productId"] for x in await list_all(client, tenant, ALERTS, locationId=b)] == [
        milk["id"]
    ]
    assert [
        x["locationId"] for x in await list_all(client, tenant, ALERTS, productId=latte["id"])
    ] == [a]
    assert await list_all(client, tenant, ALERTS, productId=cups["id"]) == []
    assert await list_all(client, tenant, ALERTS, productId=str(uuid.uuid4())) == []

    # restocking clears the alert
    await adjust_ok(client, tenant, latte["id"], a, 6)
    assert [x["productId"] for x in await list_all(client, tenant, ALERTS)] == [milk["id"]]


async def test_variant_alerts_are_per_variant(client, tenant: Tenant):
    product = await make_product(client, tenant, reorder_point=3, variants=2)
    small, large = (v["id"] for v in product["variants"])
    a = str(tenant.location_id)
    await adjust_ok(client, tenant, product["id"], a, 10, variantId=small)
    await adjust_ok(client, tenant, product["id"], a, 2, variantId=large)
    assert [
        (x["variantId"], x["onHand"], x["type"]) for x in await list_all(client, tenant, ALERTS)
    ] == [(large, 2, "low_stock")]


async def test_every_change_writes_one_movement_with_the_running_balance(client, tenant: Tenant):
    plain = await make_product(client, tenant, reorder_point=4)
    sized = await make_product(client, tenant, variants=2)
    v1, v2 = (v["id"] for v in sized["variants"])
    a, b = str(tenant.location_id), await make_location(client, tenant)
    c = await make_location(client, tenant)

    expected_movements = 0

    async def act(response, movements: int) -> None:
        nonlocal expected_movements
        assert response.status_code in (200, 409), response.text
        if response.status_code == 200:
            body = response.json()["data"]
            assert len(body["movements"]) == movements
            assert len(body["levels"]) == movements
            # the levels answered are the balances the movements recorded
            for level, move in zip(body["levels"], body["movements"], strict=True):
                assert level["locationId"] == move["locationId"]
                assert level["onHand"] == move["balanceAfter"]
            expected_movements += movements

    steps = [
        (adjust(client, tenant, plain["id"], a, 12), 1),
        (adjust(client, tenant, plain["id"], a, -3, reason="damaged"), 1),
        (transfer(client, tenant, plain["id"], a, b, 5), 2),
        (transfer(client, tenant, plain["id"], b, c, 2), 2),
        (adjust(client, tenant, plain["id"], c, -3), 1),  # short: 409
        (transfer(client, tenant, plain["id"], c, a, 2), 2),
        (adjust(client, tenant, sized["id"], a, 7, variantId=v1), 1),
        (adjust(client, tenant, sized["id"], b, 3, variantId=v2), 1),
        (transfer(client, tenant, sized["id"], a, b, 4, variantId=v1), 2),
        (transfer(client, tenant, sized["id"], b, a, 9, variantId=v2), 2),  # short: 409
        (adjust(client, tenant, sized["id"], b, -1, reason="theft", variantId=v1), 1),
        (adjust(client, tenant, plain["id"], b, -3, reason="count_correction"), 1),
    ]
    for request, movements in steps:
        await act(await request, movements)

    levels = await list_all(client, tenant, LEVELS)
    movements = await list_all(client, tenant, MOVEMENTS)
    assert len(movements) == expected_movements == 14
    assert_ledger(levels, movements)
    assert_running_balances(movements)
    expected = {
        (plain["id"], None, a): 6,
        (plain["id"], None, b): 0,
        (plain["id"], None, c): 0,
        (sized["id"], v1, a): 3,
        (sized["id"], v1, b): 3,
        (sized["id"], v2, b): 3,
    }
    assert {(x["productId"], x["variantId"], x["locationId"]): x["onHand"] for x in levels} == (
        expected
    )


# --- the low-stock event -------------------------------------------------------------------


async def test_low_stock_event_fires_once_per_crossing(client, tenant: Tenant, runtime):
    product = await make_product(client, tenant, reorder_point=5)
    a, b = str(tenant.location_id), await make_location(client, tenant)

    async def events() -> list[dict]:
        return await low_stock_events(runtime, tenant.org_id)

    await adjust_ok(client, tenant, product["id"], a, 10)
    await adjust_ok(client, tenant, product["id"], a, -4)  # 6
    assert await events() == []
    await adjust_ok(client, tenant, product["id"], a, -1)  # 5: crosses
    [first] = await events()
    assert first["productId"] == product["id"]
    assert first["locationId"] == a
    assert first.get("variantId") is None
    assert first.get("onHand", 5) == 5
    await adjust_ok(client, tenant, product["id"], a, -2)  # 3: already below
    await adjust_ok(client, tenant, product["id"], a, -3)  # 0: still below
    assert len(await events()) == 1
    await adjust_ok(client, tenant, product["id"], a, 5)  # 5: at, not above
    await adjust_ok(client, tenant, product["id"], a, -1)  # 4
    assert len(await events()) == 1
    await adjust_ok(client, tenant, product["id"], a, 10)  # 14: above again
    assert len(await events()) == 1
    await adjust_ok(client, tenant, product["id"], a, -14)  # 0: crosses again (in one step)
    assert len(await events()) == 2

    # a transfer that takes the source across fires for the source only
    await adjust_ok(client, tenant, product["id"], b, 8)
    response = await transfer(client, tenant, product["id"], b, a, 4)
    assert response.status_code == 200, response.text
    all_events = await events()
    assert len(all_events) == 3
    assert all_events[-1]["locationId"] == b
    assert all_events[-1]["productId"] == product["id"]
    # the destination filling up and a refused change fire nothing
    assert_problem(await adjust(client, tenant, product["id"], a, -5), 409, "conflict")
    assert len(await events()) == 3


async def test_no_low_stock_event_for_untracked_products(client, tenant: Tenant, runtime):
    product = await make_product(client, tenant, reorder_point=5, track=False)
    await adjust_ok(client, tenant, product["id"], tenant.location_id, 10)
    await adjust_ok(client, tenant, product["id"], tenant.location_id, -8)
    await adjust_ok(client, tenant, product["id"], tenant.location_id, -2)
    assert await low_stock_events(runtime, tenant.org_id) == []


async def test_low_stock_event_for_a_variant_names_the_variant(client, tenant: Tenant, runtime):
    product = await make_product(client, tenant, reorder_point=2, variants=2)
    small, large = (v["id"] for v in product["variants"])
    a = str(tenant.location_id)
    await adjust_ok(client, tenant, product["id"], a, 5, variantId=small)
    await adjust_ok(client, tenant, product["id"], a, 5, variantId=large)
    await adjust_ok(client, tenant, product["id"], a, -3, variantId=large)
    [event] = await low_stock_events(runtime, tenant.org_id)
    assert event["productId"] == product["id"]
    assert event["variantId"] == large
    assert event["locationId"] == a


# --- isolation and roles -------------------------------------------------------------------


async def test_another_org_sees_none_of_it(client, tenant: Tenant, make_tenant):
    product = await make_product(client, tenant, reorder_point=10)
    b = await make_location(client, tenant)
    await adjust_ok(client, tenant, product["id"], tenant.location_id, 6)
    assert (
        await transfer(client, tenant, product["id"], tenant.location_id, b, 1)
    ).status_code == 200
    assert len(await list_all(client, tenant, ALERTS)) == 2

    other = await make_tenant()
    for url in (LEVELS, MOVEMENTS, ALERTS):
        assert await list_all(client, other, url) == [], url
        assert await list_all(client, other, url, productId=product["id"]) == [], url
        assert await list_all(client, other, url, locationId=b) == [], url
    q = """
    query($p: ID!) {
      inventoryLevels(first: 50, filter: {productId: $p}) { nodes { onHand } }
      inventoryMovements(first: 50) { nodes { id } }
      inventoryAlerts(first: 50) { nodes { onHand } }
      product(id: $p) { id }
    }
    """
    body = await gql(client, q, {"p": product["id"]}, headers=other.headers)
    data = body.get("data") or {}
    assert data.get("inventoryLevels", {"nodes": []})["nodes"] == []
    assert data.get("inventoryMovements", {"nodes": []})["nodes"] == []
    assert data.get("inventoryAlerts", {"nodes": []})["nodes"] == []
    assert data.get("product") is None
    # nor can it change it
    response = await adjust(client, other, product["id"], tenant.location_id, -1)
    assert_problem(response, 422, "validation")
    assert await on_hand(client, tenant, product["id"], tenant.location_id) == 5


async def test_staff_read_levels_but_cannot_adjust_or_transfer(client, tenant: Tenant, runtime):
    product = await make_product(client, tenant)
    b = await make_location(client, tenant)
    await adjust_ok(client, tenant, product["id"], tenant.location_id, 5)
    staff = await member(runtime, tenant, "staff")

    assert len(await list_all(client, staff, LEVELS)) == 1
    assert len(await list_all(client, staff, MOVEMENTS)) == 1
    assert await list_all(client, staff, ALERTS) == []

    assert_problem(
        await adjust(client, staff, product["id"], tenant.location_id, 3), 403, "forbidden"
    )
    assert_problem(
        await adjust(client, staff, product["id"], tenant.location_id, -3), 403, "forbidden"
    )
    assert_problem(
        await transfer(client, staff, product["id"], tenant.location_id, b, 2), 403, "forbidden"
    )
    mutation = """
    mutation($p: ID!, $l: ID!) {
      adjustInventory(input: {productId: $p, locationId: $l, delta: 1, reason: RECEIVED}) {
        levels { onHand }
      }
    }
    """
    body = await gql(
        client, mutation, {"p": product["id"], "l": str(tenant.location_id)}, headers=staff.headers
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert not (body.get("data") or {}).get("adjustInventory")

    assert await on_hand(client, tenant, product["id"], tenant.location_id) == 5
    assert await list_all(client, tenant, LEVELS, locationId=b) == []
    assert len(await list_all(client, tenant, MOVEMENTS)) == 1


async def test_a_manager_can_adjust_and_transfer(client, tenant: Tenant, runtime):
    product = await make_product(client, tenant)
    b = await make_location(client, tenant)
    manager = await member(runtime, tenant, "manager")
    data = await adjust_ok(client, manager, product["id"], tenant.location_id, 4)
    assert data["movements"][0]["userId"] == str(manager.user_id)
    moved = await transfer(client, manager, product["id"], tenant.location_id, b, 1)
    assert moved.status_code == 200, moved.text
    assert {m["userId"] for m in moved.json()["data"]["movements"]} == {str(manager.user_id)}
    assert await on_hand(client, tenant, product["id"], tenant.location_id) == 3
    assert await on_hand(client, tenant, product["id"], b) == 1


# --- GraphQL -------------------------------------------------------------------------------

GQL_MOVEMENT_FIELDS = (
    "id productId variantId locationId delta balanceAfter type reason referenceId userId note "
    "createdAt"
)
GQL_ADJUST = f"""
mutation($input: AdjustInventoryInput!) {{
  adjustInventory(input: $input) {{
    levels {{ productId variantId locationId onHand reorderPoint }}
    movements {{ {GQL_MOVEMENT_FIELDS} }}
  }}
}}
"""
GQL_TRANSFER = f"""
mutation($input: TransferInventoryInput!) {{
  transferInventory(input: $input) {{
    levels {{ productId variantId locationId onHand reorderPoint }}
    movements {{ {GQL_MOVEMENT_FIELDS} }}
  }}
}}
"""
GQL_LISTS = f"""
query($first: Int, $p: ID) {{
  inventoryLevels(first: $first, filter: {{productId: $p}}) {{
    nodes {{ productId variantId locationId onHand reorderPoint }}
    pageInfo {{ hasNextPage endCursor }}
  }}
  inventoryMovements(first: $first, filter: {{productId: $p}}) {{
    edges {{ node {{ {GQL_MOVEMENT_FIELDS} }} }}
  }}
  inventoryAlerts(first: $first, filter: {{productId: $p}}) {{
    nodes {{ productId variantId locationId onHand reorderPoint type }}
  }}
}}
"""


def upper_enums(row: dict) -> dict:
    return {
        k: (v.upper() if k in {"type", "reason"} and isinstance(v, str) else v)
        for k, v in row.items()
    }


async def test_graphql_adjust_and_transfer_match_rest(client, tenant: Tenant):
    product = await make_product(client, tenant, reorder_point=4)
    a, b = str(tenant.location_id), await make_location(client, tenant)

    body = await gql(
        client,
        GQL_ADJUST,
        {
            "input": {
                "productId": product["id"],
                "locationId": a,
                "delta": 9,
                "reason": "RECEIVED",
                "note": "from GraphQL",
            }
        },
        headers=tenant.headers,
    )
    assert "errors" not in body, body
    adjusted = body["data"]["adjustInventory"]
    assert adjusted["levels"] == [
        {
            "productId": product["id"],
            "variantId": None,
            "locationId": a,
            "onHand": 9,
            "reorderPoint": 4,
        }
    ]
    [move] = adjusted["movements"]
    assert (move["type"], move["reason"], move["delta"], move["balanceAfter"]) == (
        "ADJUSTMENT",
        "RECEIVED",
        9,
        9,
    )
    assert move["userId"] == str(tenant.user_id)
    assert move["note"] == "from GraphQL"

    body = await gql(
        client,
        GQL_TRANSFER,
        {
            "input": {
                "productId": product["id"],
                "fromLocationId": a,
                "toLocationId": b,
                "quantity": 6,
            }
        },
        headers=tenant.headers,
    )
    assert "errors" not in body, body
    moved = body["data"]["transferInventory"]
    assert {lv["locationId"]: lv["onHand"] for lv in moved["levels"]} == {a: 3, b: 6}
    assert sorted((m["type"], m["delta"], m["balanceAfter"]) for m in moved["movements"]) == [
        ("TRANSFER_IN", 6, 6),
        ("TRANSFER_OUT", -6, 3),
    ]
    assert len({m["referenceId"] for m in moved["movements"]}) == 1

    # REST sees exactly what GraphQL wrote, with the enums in lower case
    rest_moves = await movements_of(client, tenant, product["id"])
    assert [upper_enums(m) for m in rest_moves if m["id"] == move["id"]] == [move]
    assert {m["id"] for m in rest_moves} == {move["id"]} | {m["id"] for m in moved["movements"]}


async def test_graphql_lists_return_what_rest_returns(client, tenant: Tenant):
    product = await make_product(client, tenant, reorder_point=5, variants=2)
    small, large = (v["id"] for v in product["variants"])
    noise = await make_product(client, tenant)
    a, b = str(tenant.location_id), await make_location(client, tenant)
    await adjust_ok(client, tenant, product["id"], a, 8, variantId=small)
    await adjust_ok(client, tenant, product["id"], a, 3, variantId=large)
    await transfer(client, tenant, product["id"], a, b, 3, variantId=large)
    await transfer(client, tenant, product["id"], a, b, 1, variantId=small)
    await adjust_ok(client, tenant, noise["id"], b, 1)

    body = await gql(client, GQL_LISTS, {"first": 50, "p": product["id"]}, headers=tenant.headers)
    assert "errors" not in body, body
    data = body["data"]
    rest_levels = await list_all(client, tenant, LEVELS, productId=product["id"])
    rest_moves = await list_all(client, tenant, MOVEMENTS, productId=product["id"])
    rest_alerts = await list_all(client, tenant, ALERTS, productId=product["id"])
    assert len(rest_levels) == 4
    assert len(rest_moves) == 6
    # small: 7 at a (above), 1 at b; large: 0 at a, 3 at b
    assert sorted(x["type"] for x in rest_alerts) == ["low_stock", "low_stock", "out_of_stock"]
    assert data["inventoryLevels"]["nodes"] == rest_levels
    assert data["inventoryLevels"]["pageInfo"]["hasNextPage"] is False
    assert [e["node"] for e in data["inventoryMovements"]["edges"]] == [
        upper_enums(m) for m in rest_moves
    ]
    assert data["inventoryAlerts"]["nodes"] == [upper_enums(x) for x in rest_alerts]
    assert {x["type"] for x in data["inventoryAlerts"]["nodes"]} == {"LOW_STOCK", "OUT_OF_STOCK"}

    # a movement type filter in GraphQL takes the upper-case enum
    q = """
    query { inventoryMovements(first: 10, filter: {type: TRANSFER_OUT}) { nodes { type delta } } }
    """
    body = await gql(client, q, headers=tenant.headers)
    assert sorted(n["delta"] for n in body["data"]["inventoryMovements"]["nodes"]) == [-3, -1]

    # paging through GraphQL gives the REST list too
    seen, after = [], None
    while True:
        page = await gql(
            client,
            "query($after: String) { inventoryLevels(first: 2, after: $after) "
            "{ nodes { productId variantId locationId onHand reorderPoint } "
            "pageInfo { hasNextPage endCursor } } }",
            {"after": after},
            headers=tenant.headers,
        )
        conn = page["data"]["inventoryLevels"]
        seen.extend(conn["nodes"])
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
    assert seen == await list_all(client, tenant, LEVELS)


async def test_product_stock_levels_in_graphql(client, tenant: Tenant):
    product = await make_product(client, tenant)
    b = await make_location(client, tenant, name="Bondi Junction")
    await adjust_ok(client, tenant, product["id"], tenant.location_id, 7)
    await transfer(client, tenant, product["id"], tenant.location_id, b, 2)
    q = """
    query($id: ID!) {
      product(id: $id) { sku stockLevels { onHand locationId location { id name } } }
    }
    """
    body = await gql(client, q, {"id": product["id"]}, headers=tenant.headers)
    assert "errors" not in body, body
    levels = body["data"]["product"]["stockLevels"]
    assert sorted((lv["location"]["name"], lv["onHand"]) for lv in levels) == [
        ("Bondi Junction", 2),
        ("Main store", 5),
    ]
    assert all(lv["location"]["id"] == lv["locationId"] for lv in levels)


async def test_a_movement_is_a_node_of_its_org_only(client, tenant: Tenant, make_tenant):
    product = await make_product(client, tenant)
    data = await adjust_ok(client, tenant, product["id"], tenant.location_id, 3)
    movement_id = data["movements"][0]["id"]
    q = """
    query($id: ID!) {
      node(id: $id) { __typename id ... on InventoryMovement { delta balanceAfter type } }
    }
    """
    mine = await gql(client, q, {"id": movement_id}, headers=tenant.headers)
    assert mine["data"]["node"] == {
        "__typename": "InventoryMovement",
        "id": movement_id,
        "delta": 3,
        "balanceAfter": 3,
        "type": "ADJUSTMENT",
    }
    other = await make_tenant()
    theirs = await gql(client, q, {"id": movement_id}, headers=other.headers)
    assert theirs["data"]["node"] is None


async def test_graphql_errors_carry_the_codes(client, tenant: Tenant):
    product = await make_product(client, tenant)
    a = str(tenant.location_id)
    short = await gql(
        client,
        GQL_ADJUST,
        {"input": {"productId": product["id"], "locationId": a, "delta": -1, "reason": "OTHER"}},
        headers=tenant.headers,
    )
    [error] = short["errors"]
    assert error["extensions"]["code"] == "CONFLICT"
    assert error["extensions"]["status"] == 409

    zero = await gql(
        client,
        GQL_ADJUST,
        {"input": {"productId": product["id"], "locationId": a, "delta": 0, "reason": "OTHER"}},
        headers=tenant.headers,
    )
    assert zero["errors"][0]["extensions"]["code"] == "VALIDATION"
    assert [e["field"] for e in zero["errors"][0]["extensions"]["errors"]] == ["delta"]

    same = await gql(
        client,
        GQL_TRANSFER,
        {
            "input": {
                "productId": product["id"],
                "fromLocationId": a,
                "toLocationId": a,
                "quantity": 1,
            }
        },
        headers=tenant.headers,
    )
    assert same["errors"][0]["extensions"]["code"] == "VALIDATION"
    foreign = await gql(
        client,
        GQL_ADJUST,
        {
            "input": {
                "productId": str(uuid.uuid4()),
                "locationId": a,
                "delta": 1,
                "reason": "RECEIVED",
            }
        },
        headers=tenant.headers,
    )
    assert foreign["errors"][0]["extensions"]["code"] == "VALIDATION"
    assert [e["field"] for e in foreign["errors"][0]["extensions"]["errors"]] == ["productId"]
    assert await list_all(client, tenant, MOVEMENTS) == []


# --- concurrency ---------------------------------------------------------------------------


async def test_concurrent_decrements_never_oversell(client, tenant: Tenant, runtime):
    product = await make_product(client, tenant, reorder_point=3)
    a = str(tenant.location_id)
    await adjust_ok(client, tenant, product["id"], a, 10)

    responses = await asyncio.gather(
        *(adjust(client, tenant, product["id"], a, -1, reason="other") for _ in range(20))
    )
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {200: 10, 409: 10}, [r.text for r in responses if r.status_code >= 500]
    assert await on_hand(client, tenant, product["id"], a) == 0
    moves = await movements_of(client, tenant, product["id"])
    assert len(moves) == 11
    decrements = [m for m in moves if m["delta"] == -1]
    assert sorted(m["balanceAfter"] for m in decrements) == list(range(10))
    answered = sorted(
        r.json()["data"]["levels"][0]["onHand"] for r in responses if r.status_code == 200
    )
    assert answered == list(range(10))
    # crossing the reorder point happened once, however the requests interleaved
    assert len(await low_stock_events(runtime, tenant.org_id)) == 1


async def test_concurrent_first_receipts_at_a_new_level_all_count(client, tenant: Tenant):
    product = await make_product(client, tenant)
    location = await make_location(client, tenant)
    responses = await asyncio.gather(
        *(adjust(client, tenant, product["id"], location, 1) for _ in range(15))
    )
    assert [r.status_code for r in responses] == [200] * 15, [
        r.text for r in responses if r.status_code != 200
    ]
    levels = await list_all(client, tenant, LEVELS, productId=product["id"])
    assert [(lv["locationId"], lv["onHand"]) for lv in levels] == [(location, 15)]
    moves = await movements_of(client, tenant, product["id"])
    assert sorted(m["balanceAfter"] for m in moves) == list(range(1, 16))


async def test_concurrent_opposite_transfers_do_not_deadlock(client, tenant: Tenant):
    product = await make_product(client, tenant)
    a, b = str(tenant.location_id), await make_location(client, tenant)
    await adjust_ok(client, tenant, product["id"], a, 10)
    await adjust_ok(client, tenant, product["id"], b, 10)

    requests = [
        transfer(client, tenant, product["id"], *((a, b) if i % 2 else (b, a)), 1)
        for i in range(20)
    ]
    responses = await asyncio.wait_for(asyncio.gather(*requests), timeout=30)
    # 10 units each way and 10 on hand at each end: every transfer can succeed
    assert [r.status_code for r in responses] == [200] * 20, [
        r.text for r in responses if r.status_code != 200
    ]
    at_a = await on_hand(client, tenant, product["id"], a)
    at_b = await on_hand(client, tenant, product["id"], b)
    assert at_a + at_b == 20
    assert (at_a, at_b) == (10, 10)
    moves = await movements_of(client, tenant, product["id"])
    assert len(moves) == 2 + 40
    assert_ledger(await list_all(client, tenant, LEVELS), moves)
    refs = Counter(m["referenceId"] for m in moves if m["referenceId"])
    assert len(refs) == 20
    assert set(refs.values()) == {2}
    for location in (a, b):
        balances = sorted(m["balanceAfter"] for m in moves if m["locationId"] == location)
        assert all(x >= 0 for x in balances)


async def test_mixed_concurrent_changes_add_up(client, tenant: Tenant):
    product = await make_product(client, tenant, reorder_point=2)
    a, b = str(tenant.location_id), await make_location(client, tenant)
    await adjust_ok(client, tenant, product["id"], a, 6)
    await adjust_ok(client, tenant, product["id"], b, 3)

    plan: list[tuple[str, int, int]] = []  # (kind, delta at a, delta at b)
    requests = []
    for i in range(24):
        match i % 4:
            case 0:
                plan.append(("adjust", -2, 0))
                requests.append(adjust(client, tenant, product["id"], a, -2, reason="damaged"))
            case 1:
                plan.append(("adjust", 1, 0))
                requests.append(adjust(client, tenant, product["id"], a, 1))
            case 2:
                plan.append(("transfer", -2, 2))
                requests.append(transfer(client, tenant, product["id"], a, b, 2))
            case _:
                plan.append(("transfer", 3, -3))
                requests.append(transfer(client, tenant, product["id"], b, a, 3))
    responses = await asyncio.wait_for(asyncio.gather(*requests), timeout=30)
    assert {r.status_code for r in responses} <= {200, 409}, [
        r.text for r in responses if r.status_code not in (200, 409)
    ]
    ok = [p for p, r in zip(plan, responses, strict=True) if r.status_code == 200]
    assert ok, "at least one request should succeed"
    expected_a = 6 + sum(p[1] for p in ok)
    expected_b = 3 + sum(p[2] for p in ok)
    assert await on_hand(client, tenant, product["id"], a) == expected_a
    assert await on_hand(client, tenant, product["id"], b) == expected_b
    moves = await movements_of(client, tenant, product["id"])
    assert len(moves) == 2 + sum(1 if kind == "adjust" else 2 for kind, _, _ in ok)
    assert all(m["balanceAfter"] >= 0 for m in moves)
    assert_ledger(await list_all(client, tenant, LEVELS), moves)


# --- statement count -----------------------------------------------------------------------


async def test_level_page_statement_count_does_not_grow_with_the_page(
    client, tenant: Tenant, count_statements
):
    products = [await make_product(client, tenant) for _ in range(10)]
    locations = [str(tenant.location_id)] + [await make_location(client, tenant) for _ in range(2)]
    for p in products:
        for i, location in enumerate(locations):
            await adjust_ok(client, tenant, p["id"], location, i + 1)
    q = """
    query($n: Int!) {
      inventoryLevels(first: $n) { nodes { onHand product { name sku } location { name } } }
    }
    """
    counts = {}
    for n in (5, 30):
        # keeps the org's rate limits cached, so their lookup never lands in a count
        await gql(client, "{ __typename }", headers=tenant.headers)
        with count_statements() as counter:
            body = await gql(client, q, {"n": n}, headers=tenant.headers)
        assert "errors" not in body, body
        nodes = body["data"]["inventoryLevels"]["nodes"]
        assert len(nodes) == n
        assert all(node["product"]["sku"] and node["location"]["name"] for node in nodes)
        counts[n] = counter.count
    assert counts[5] == counts[30], counts
    assert counts[30] <= 8, counts

"""Loyalty through REST and GraphQL: programs, accruals, redemptions, tiers, orders earning
points, roles, isolation and concurrent redemptions."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from typing import Any

from sqlalchemy import select

from elevatedpos.db.models import LoyaltyTransaction, OutboxEvent
from tests.conftest import Tenant, gql
from tests.test_campaigns import member as member_of_org

API = "/api/v1"
PROGRAMS = f"{API}/loyalty/programs"
ACCRUE = f"{API}/loyalty/points/accrue"
REDEEM = f"{API}/loyalty/points/redeem"
ERRORS = "https://elevatedpos.com.au/errors/"

TIERS = [{"name": "Gold", "minPoints": 500}, {"name": "Silver", "minPoints": 100}]
REWARDS = [
    {"name": "Free coffee", "pointsCost": 50, "discount": {"amount": 450}},
    {"name": "Free lunch", "pointsCost": 300, "discount": {"amount": 1800, "currency": "AUD"}},
]


def problem(response, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["type"] == ERRORS + slug, body
    return body


def fields(body: dict[str, Any]) -> set[str]:
    return {e["field"] for e in body.get("errors", [])}


async def create_program(client, tenant: Tenant, expect: int = 201, **extra: Any) -> dict:
    body = {"name": "Coffee Club", "pointsPerDollar": 2, "tiers": TIERS, "rewards": REWARDS}
    response = await client.post(PROGRAMS, json={**body, **extra}, headers=tenant.headers)
    assert response.status_code == expect, response.text
    return response.json().get("data", response.json())  # type: ignore[no-any-return]


async def new_customer(client, tenant: Tenant) -> str:
    response = await client.post(
        f"{API}/customers",
        json={"email": f"c-{uuid.uuid4().hex[:8]}@example.com", "firstName": "Ada"},
        headers=tenant.headers,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["data"]["id"])


async def accrue(client, tenant: Tenant, customer: str, points: int, **extra: Any):
    body = {"customerId": customer, "points": points, "reason": "welcome", **extra}
    return await client.post(ACCRUE, json=body, headers=tenant.headers)


async def redeem(client, tenant: Tenant, customer: str, reward: str, **extra: Any):
    body = {"customerId": customer, "rewardId": reward, **extra}
    return await client.post(REDEEM, json=body, headers=tenant.headers)


async def member(client, tenant: Tenant, customer: str, **params: Any) -> dict[str, Any]:
    response = await client.get(
        f"{API}/loyalty/members/{customer}", params=params, headers=tenant.headers
    )
    assert response.status_code == 200, response.text
    return response.json()["data"]  # type: ignore[no-any-return]


async def transactions(runtime, tenant: Tenant, customer: str) -> list[tuple[str, int, int]]:
    async with runtime.db.read() as session:
        rows = (
            await session.scalars(
                select(LoyaltyTransaction)
                .where(
                    LoyaltyTransaction.org_id == tenant.org_id,
                    LoyaltyTransaction.customer_id == uuid.UUID(customer),
                )
                .order_by(LoyaltyTransaction.created_at, LoyaltyTransaction.id)
            )
        ).all()
    return [(r.type, r.points, r.balance_after) for r in rows]


async def events(runtime, tenant: Tenant, prefix: str) -> list[dict[str, Any]]:
    async with runtime.db.read() as session:
        rows = (
            await session.scalars(
                select(OutboxEvent)
                .where(OutboxEvent.org_id == tenant.org_id, OutboxEvent.type.startswith(prefix))
                .order_by(OutboxEvent.created_at, OutboxEvent.id)
            )
        ).all()
    return [{"type": r.type, **r.data} for r in rows]


# --- programs --------------------------------------------------------------------------------


async def test_a_program_is_created_and_listed(client, tenant: Tenant):
    program = await create_program(client, tenant)
    assert program["name"] == "Coffee Club" and program["pointsPerDollar"] == 2
    assert program["status"] == "active"
    # tiers come back by threshold, rewards with ids and money
    assert program["tiers"] == [{"name": "Silver", "minPoints": 100}, TIERS[0]]
    coffee, lunch = program["rewards"]
    assert coffee["name"] == "Free coffee" and coffee["pointsCost"] == 50
    assert coffee["discount"] == {"amount": 450, "currency": "AUD"}
    assert uuid.UUID(coffee["id"]) != uuid.UUID(lunch["id"])
    listed = await client.get(PROGRAMS, headers=tenant.headers)
    assert listed.status_code == 200
    assert [p["id"] for p in listed.json()["data"]] == [program["id"]]
    assert listed.json()["meta"] == {"limit": 50, "nextCursor": None}
    found = await gql(
        client,
        "query($id: ID!) { node(id: $id) { ... on LoyaltyProgram { name status } } }",
        {"id": program["id"]},
        tenant.headers,
    )
    assert found["data"]["node"] == {"name": "Coffee Club", "status": "ACTIVE"}


async def test_an_org_has_one_active_program(client, tenant: Tenant):
    await create_program(client, tenant)
    second = await client.post(
        PROGRAMS, json={"name": "Another", "pointsPerDollar": 1}, headers=tenant.headers
    )
    assert "active" in problem(second, 409, "conflict")["detail"]
    archived = await create_program(client, tenant, name="Old club", status="archived")
    assert archived["status"] == "archived"
    names = [p["name"] for p in (await client.get(PROGRAMS, headers=tenant.headers)).json()["data"]]
    assert names == ["Coffee Club", "Old club"]


async def test_concurrent_creates_make_one_active_program(client, tenant: Tenant):
    body = {"name": "Club", "pointsPerDollar": 1}
    responses = await asyncio.gather(
        *(client.post(PROGRAMS, json=body, headers=tenant.headers) for _ in range(6))
    )
    assert Counter(r.status_code for r in responses) == {201: 1, 409: 5}


async def test_a_bad_program_is_422_naming_every_field(client, tenant: Tenant):
    response = await client.post(
        PROGRAMS,
        json={
            "name": " ",
            "pointsPerDollar": -1,
            "tiers": [{"name": "Gold", "minPoints": 5}, {"name": "gold", "minPoints": -3}],
            "rewards": [
                {"name": "", "pointsCost": 0, "discount": {"amount": -5}},
                {"name": "Ok", "pointsCost": 1, "discount": {"amount": 5, "currency": "USD"}},
            ],
        },
        headers=tenant.headers,
    )
    assert fields(problem(response, 422, "validation")) == {
        "name",
        "pointsPerDollar",
        "tiers.1.name",
        "tiers.1.minPoints",
        "rewards.0.name",
        "rewards.0.pointsCost",
        "rewards.0.discount.amount",
        "rewards.1.discount",
    }
    assert (await client.get(PROGRAMS, headers=tenant.headers)).json()["data"] == []


# --- points ----------------------------------------------------------------------------------


async def test_accrue_and_redeem_move_the_balance_with_an_audit_row_each(
    client, runtime, tenant: Tenant
):
    program = await create_program(client, tenant)
    coffee, lunch = (r["id"] for r in program["rewards"])
    customer = await new_customer(client, tenant)
    # before any points: a member of the active program with nothing
    assert await member(client, tenant, customer) == {
        "customerId": customer,
        "programId": program["id"],
        "pointsBalance": 0,
        "lifetimePoints": 0,
        "tier": None,
    }
    accrued = await accrue(client, tenant, customer, 120)
    assert accrued.status_code == 200, accrued.text
    assert accrued.json()["data"] == {
        "customerId": customer,
        "programId": program["id"],
        "pointsBalance": 120,
        "lifetimePoints": 120,
        "tier": "Silver",
    }
    redeemed = await redeem(client, tenant, customer, coffee)
    assert redeemed.status_code == 200, redeemed.text
    assert redeemed.json()["data"]["pointsBalance"] == 70
    assert redeemed.json()["data"]["lifetimePoints"] == 120  # tiers keep what was earned
    assert redeemed.json()["data"]["tier"] == "Silver"
    short = await redeem(client, tenant, customer, lunch)
    detail = problem(short, 409, "conflict")["detail"]
    assert "70" in detail and "300" in detail
    assert (await member(client, tenant, customer))["pointsBalance"] == 70
    await accrue(client, tenant, customer, 400)
    assert (await member(client, tenant, customer))["tier"] == "Gold"
    assert await transactions(runtime, tenant, customer) == [
        ("accrue", 120, 120),
        ("redeem", -50, 70),
        ("accrue", 400, 470),
    ]
    kinds = [e["type"] for e in await events(runtime, tenant, "loyalty.points")]
    assert kinds == ["loyalty.points_accrued", "loyalty.points_redeemed", "loyalty.points_accrued"]


async def test_graphql_twins(client, tenant: Tenant):
    created = await gql(
        client,
        """mutation($input: CreateLoyaltyProgramInput!) {
             createLoyaltyProgram(input: $input) { id rewards { id } tiers { name } }
           }""",
        {
            "input": {
                "name": "Club",
                "pointsPerDollar": 1,
                "tiers": [{"name": "Silver", "minPoints": 10}],
                "rewards": [{"name": "Tea", "pointsCost": 5, "discount": {"amount": 300}}],
            }
        },
        tenant.headers,
    )
    program = created["data"]["createLoyaltyProgram"]
    customer = await new_customer(client, tenant)
    accrued = await gql(
        client,
        """mutation($input: AccruePointsInput!) {
             accruePoints(input: $input) { pointsBalance lifetimePoints tier programId }
           }""",
        {"input": {"customerId": customer, "points": 12, "reason": "birthday"}},
        tenant.headers,
    )
    assert accrued["data"]["accruePoints"] == {
        "pointsBalance": 12,
        "lifetimePoints": 12,
        "tier": "Silver",
        "programId": program["id"],
    }
    redeemed = await gql(
        client,
        "mutation($input: RedeemPointsInput!) { redeemPoints(input: $input) { pointsBalance } }",
        {"input": {"customerId": customer, "rewardId": program["rewards"][0]["id"]}},
        tenant.headers,
    )
    assert redeemed["data"]["redeemPoints"] == {"pointsBalance": 7}
    again = await gql(
        client,
        "query($c: ID!) { loyaltyMember(customerId: $c) { pointsBalance tier } }",
        {"c": customer},
        tenant.headers,
    )
    assert again["data"]["loyaltyMember"] == {"pointsBalance": 7, "tier": "Silver"}
    listed = await gql(
        client, "{ loyaltyPrograms(first: 5) { nodes { name } } }", None, tenant.headers
    )
    assert listed["data"]["loyaltyPrograms"]["nodes"] == [{"name": "Club"}]


async def test_without_an_active_program_points_are_409(client, tenant: Tenant):
    customer = await new_customer(client, tenant)
    problem(await accrue(client, tenant, customer, 10), 409, "conflict")
    problem(await redeem(client, tenant, customer, str(uuid.uuid4())), 409, "conflict")
    response = await client.get(f"{API}/loyalty/members/{customer}", headers=tenant.headers)
    problem(response, 404, "not-found")
    archived = await create_program(client, tenant, status="archived")
    # naming the archived program explicitly: it takes nothing either
    problem(await accrue(client, tenant, customer, 10, programId=archived["id"]), 409, "conflict")
    assert (await member(client, tenant, customer, programId=archived["id"]))["pointsBalance"] == 0


async def test_bad_points_requests_are_422_and_change_nothing(client, runtime, tenant: Tenant):
    program = await create_program(client, tenant)
    customer = await new_customer(client, tenant)
    body = problem(await accrue(client, tenant, customer, 0, reason=" "), 422, "validation")
    assert fields(body) == {"points", "reason"}
    unknown = await accrue(client, tenant, str(uuid.uuid4()), 10)
    assert fields(problem(unknown, 422, "validation")) == {"customerId"}
    elsewhere = await accrue(client, tenant, customer, 10, programId=str(uuid.uuid4()))
    assert fields(problem(elsewhere, 422, "validation")) == {"programId"}
    not_a_reward = await redeem(client, tenant, customer, str(uuid.uuid4()))
    assert fields(problem(not_a_reward, 422, "validation")) == {"rewardId"}
    assert (await member(client, tenant, customer))["pointsBalance"] == 0
    assert await transactions(runtime, tenant, customer) == []
    missing = await client.get(f"{API}/loyalty/members/{uuid.uuid4()}", headers=tenant.headers)
    problem(missing, 404, "not-found")
    bad_id = await client.get(f"{API}/loyalty/members/not-an-id", headers=tenant.headers)
    problem(bad_id, 404, "not-found")
    assert program["status"] == "active"


async def test_a_retried_redemption_with_its_key_spends_once(client, tenant: Tenant):
    program = await create_program(client, tenant)
    customer = await new_customer(client, tenant)
    await accrue(client, tenant, customer, 120)
    headers = {**tenant.headers, "Idempotency-Key": f"k-{uuid.uuid4()}"}
    body = {"customerId": customer, "rewardId": program["rewards"][0]["id"]}
    first = await client.post(REDEEM, json=body, headers=headers)
    again = await client.post(REDEEM, json=body, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.headers["idempotent-replayed"] == "true" and again.json() == first.json()
    assert (await member(client, tenant, customer))["pointsBalance"] == 70


async def test_concurrent_redemptions_never_overspend(client, runtime, tenant: Tenant):
    program = await create_program(client, tenant)
    coffee = program["rewards"][0]["id"]  # 50 points
    customer = await new_customer(client, tenant)
    await accrue(client, tenant, customer, 170)
    responses = await asyncio.wait_for(
        asyncio.gather(*(redeem(client, tenant, customer, coffee) for _ in range(10))),
        timeout=60,
    )
    assert Counter(r.status_code for r in responses) == {200: 3, 409: 7}
    assert (await member(client, tenant, customer))["pointsBalance"] == 20
    redeemed = [t for t in await transactions(runtime, tenant, customer) if t[0] == "redeem"]
    assert sorted(balance for _, _, balance in redeemed) == [20, 70, 120]


# --- orders ----------------------------------------------------------------------------------


async def cake_cart(client, tenant: Tenant, **extra: Any) -> dict[str, Any]:
    """The sale these tests ring up: two untracked cakes at $12.99, $25.98 in all."""
    product = await client.post(
        f"{API}/products",
        json={"name": "Cake", "sku": f"CK-{uuid.uuid4().hex[:6]}", "price": {"amount": 1299},
              "trackInventory": False},
        headers=tenant.headers,
    )  # fmt: skip
    line = {"productId": product.json()["data"]["id"], "quantity": 2}
    return {"locationId": str(tenant.location_id), "lineItems": [line], **extra}


async def call(client, tenant: Tenant, method: str, path: str, body: Any, status: int) -> Any:
    """`method path` with `body`, which must answer `status`; its data."""
    response = await client.request(method, f"{API}{path}", json=body, headers=tenant.headers)
    assert response.status_code == status, response.text
    return response.json()["data"] if response.content else None


async def sell(client, tenant: Tenant, cart: dict[str, Any]) -> dict[str, Any]:
    return await call(client, tenant, "POST", "/orders", cart, 201)  # type: ignore[no-any-return]


async def settle(client, tenant: Tenant, order: dict[str, Any], status: str) -> None:
    """Pay an order in cash and complete it, or void it."""
    if status == "completed":
        payment = {"orderId": order["id"], "amount": order["total"], "method": "cash"}
        await call(client, tenant, "POST", "/payments", payment, 201)
    await call(client, tenant, "PATCH", f"/orders/{order['id']}/status", {"status": status}, 200)


async def test_a_completed_order_earns_points_for_its_customer(client, runtime, tenant: Tenant):
    await create_program(client, tenant, pointsPerDollar=3)
    customer = await new_customer(client, tenant)
    anonymous = await cake_cart(client, tenant)
    cart = {**anonymous, "customerId": customer}

    order = await sell(client, tenant, cart)  # 25.98: 25 whole dollars
    assert (await member(client, tenant, customer))["pointsBalance"] == 0  # open: nothing yet
    await settle(client, tenant, order, "completed")
    assert (await member(client, tenant, customer))["pointsBalance"] == 75
    voided = await sell(client, tenant, cart)
    await settle(client, tenant, voided, "voided")  # a voided order earns nothing
    await settle(client, tenant, await sell(client, tenant, anonymous), "completed")  # nor this
    assert (await member(client, tenant, customer))["pointsBalance"] == 75
    assert await transactions(runtime, tenant, customer) == [("accrue", 75, 75)]
    [earned] = await events(runtime, tenant, "loyalty.points_accrued")
    assert earned["orderId"] == order["id"] and earned["points"] == 75


async def test_refunds_take_back_the_points_the_refunded_money_earned(
    client, runtime, tenant: Tenant
):
    program = await create_program(
        client, tenant, pointsPerDollar=3, tiers=[{"name": "Silver", "minPoints": 50}]
    )
    reward = program["rewards"][0]["id"]  # costs 50
    customer = await new_customer(client, tenant)
    order = await sell(client, tenant, await cake_cart(client, tenant, customerId=customer))
    await settle(client, tenant, order, "completed")  # 25.98: 75 points

    async def refund(**body: Any) -> None:
        path = f"/orders/{order['id']}/refund"
        await call(client, tenant, "POST", path, {"reason": "returned", **body}, 201)

    await refund(amount={"amount": 500})  # keeps 20.98: 60 points, so 15 go
    after = await member(client, tenant, customer)
    assert (after["pointsBalance"], after["lifetimePoints"], after["tier"]) == (60, 60, "Silver")
    assert (await redeem(client, tenant, customer, reward)).status_code == 200  # 10 left
    await refund()  # the rest: the 60 left go, though only 10 are in the balance
    after = await member(client, tenant, customer)
    assert (after["pointsBalance"], after["lifetimePoints"], after["tier"]) == (0, 0, None)
    assert await transactions(runtime, tenant, customer) == [
        ("accrue", 75, 75),
        ("reverse", -15, 60),
        ("redeem", -50, 10),
        ("reverse", -60, 0),
    ]
    reversed_ = await events(runtime, tenant, "loyalty.points_reversed")
    assert [e["points"] for e in reversed_] == [-15, -60]
    assert {e["orderId"] for e in reversed_} == {order["id"]}
    refunds = (await client.get(f"{API}/orders/{order['id']}", headers=tenant.headers)).json()
    assert [e["refundId"] for e in reversed_] == [r["id"] for r in refunds["data"]["refunds"]]


async def test_a_tender_refunded_while_the_order_was_open_takes_no_points(client, tenant: Tenant):
    await create_program(client, tenant, pointsPerDollar=3)
    customer = await new_customer(client, tenant)
    order = await sell(client, tenant, await cake_cart(client, tenant, customerId=customer))
    refund = f"/orders/{order['id']}/refund"
    cash = {"orderId": order["id"], "amount": {"amount": 1000}, "method": "cash"}
    await call(client, tenant, "POST", "/payments", cash, 201)
    # The customer wants to pay by card after all: the cash goes back while the order is open.
    back = {"reason": "tender", "amount": {"amount": 1000}}
    await call(client, tenant, "POST", refund, back, 201)
    card = {"orderId": order["id"], "amount": {"amount": 2598}, "method": "card"}
    await call(client, tenant, "POST", "/payments", card, 201)
    await call(
        client, tenant, "PATCH", f"/orders/{order['id']}/status", {"status": "completed"}, 200
    )
    assert (await member(client, tenant, customer))["pointsBalance"] == 75
    stale = {"reason": "stale", "amount": {"amount": 500}}
    await call(client, tenant, "POST", refund, stale, 201)
    assert (await member(client, tenant, customer))["pointsBalance"] == 60  # the $5 only


async def test_an_order_redeems_a_reward_with_the_customers_points(client, runtime, tenant: Tenant):
    program = await create_program(client, tenant)  # 2 a dollar; coffee 50 = $4.50
    coffee, lunch = (r["id"] for r in program["rewards"])
    customer = await new_customer(client, tenant)
    assert (await accrue(client, tenant, customer, 120)).status_code == 200
    cart = await cake_cart(client, tenant, customerId=customer, loyaltyRewardId=coffee)
    preview = await client.post(f"{API}/orders/preview", json=cart, headers=tenant.headers)
    assert preview.status_code == 200, preview.text
    priced = preview.json()["data"]
    assert (priced["discountTotal"]["amount"], priced["total"]["amount"]) == (450, 2148)
    assert priced["loyaltyReward"]["name"] == "Free coffee"
    assert (await member(client, tenant, customer))["pointsBalance"] == 120  # nothing spent

    made = await client.post(f"{API}/orders", json=cart, headers=tenant.headers)
    assert made.status_code == 201, made.text
    order = made.json()["data"]
    assert order["total"]["amount"] == 2148 and order["taxTotal"]["amount"] == 195
    assert order["loyaltyReward"] == {
        "id": coffee,
        "programId": program["id"],
        "name": "Free coffee",
        "pointsCost": 50,
        "discount": {"amount": 450, "currency": "AUD"},
    }
    assert (await member(client, tenant, customer))["pointsBalance"] == 70
    [redeemed] = await events(runtime, tenant, "loyalty.points_redeemed")
    assert redeemed["orderId"] == order["id"] and redeemed["points"] == -50

    # Voiding the sale gives the points back.
    voided = await client.patch(
        f"{API}/orders/{order['id']}/status", json={"status": "voided"}, headers=tenant.headers
    )
    assert voided.status_code == 200, voided.text
    assert (await member(client, tenant, customer))["pointsBalance"] == 120
    [restored] = await events(runtime, tenant, "loyalty.points_restored")
    assert restored["orderId"] == order["id"] and restored["points"] == 50
    assert await transactions(runtime, tenant, customer) == [
        ("accrue", 120, 120),
        ("redeem", -50, 70),
        ("restore", 50, 120),
    ]

    # Short of points: 409, and no order, no number taken.
    short = await client.post(
        f"{API}/orders", json={**cart, "loyaltyRewardId": lunch}, headers=tenant.headers
    )
    body = problem(short, 409, "conflict")
    assert "120" in body["detail"] and "300" in body["detail"]
    again = await client.post(f"{API}/orders", json=cart, headers=tenant.headers)
    assert again.json()["data"]["number"] == order["number"] + 1

    without = {k: v for k, v in cart.items() if k != "customerId"}
    bad = await client.post(f"{API}/orders", json=without, headers=tenant.headers)
    assert fields(problem(bad, 422, "validation")) == {"loyaltyRewardId"}
    unknown = {**cart, "loyaltyRewardId": str(uuid.uuid4())}
    bad = await client.post(f"{API}/orders", json=unknown, headers=tenant.headers)
    assert fields(problem(bad, 422, "validation")) == {"loyaltyRewardId"}


async def test_two_sales_cannot_spend_the_same_points(client, runtime, tenant: Tenant):
    program = await create_program(client, tenant)
    coffee = program["rewards"][0]["id"]  # 50 points
    customer = await new_customer(client, tenant)
    assert (await accrue(client, tenant, customer, 70)).status_code == 200
    cart = await cake_cart(client, tenant, customerId=customer, loyaltyRewardId=coffee)
    answers = await asyncio.gather(
        *(client.post(f"{API}/orders", json=cart, headers=tenant.headers) for _ in range(4))
    )
    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409]
    assert (await member(client, tenant, customer))["pointsBalance"] == 20


# --- roles and isolation ---------------------------------------------------------------------


async def test_staff_may_accrue_and_redeem_and_other_orgs_see_nothing(
    client, runtime, tenant: Tenant, make_tenant
):
    program = await create_program(client, tenant)
    customer = await new_customer(client, tenant)
    staff = await member_of_org(runtime, tenant, "staff")
    assert (await accrue(client, staff, customer, 60)).status_code == 200
    assert (await redeem(client, staff, customer, program["rewards"][0]["id"])).status_code == 200
    other = await make_tenant()
    assert (await client.get(PROGRAMS, headers=other.headers)).json()["data"] == []
    response = await client.get(f"{API}/loyalty/members/{customer}", headers=other.headers)
    problem(response, 404, "not-found")
    # another org's customer is none of theirs: 422 on the field, program or not
    assert fields(problem(await accrue(client, other, customer, 10), 422, "validation")) == {
        "customerId"
    }
    await create_program(client, other)
    assert fields(problem(await accrue(client, other, customer, 10), 422, "validation")) == {
        "customerId"
    }
    # nor may they name this org's program
    theirs = await new_customer(client, other)
    wrong = await accrue(client, other, theirs, 10, programId=program["id"])
    assert fields(problem(wrong, 422, "validation")) == {"programId"}
    mine = await accrue(client, tenant, customer, 1, programId=program["id"])
    assert mine.json()["data"]["pointsBalance"] == 11

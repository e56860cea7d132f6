"""Campaigns through REST and GraphQL: validation, codes, versions, roles, isolation, stats."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from elevatedpos.actions.orgs import create_user
from elevatedpos.auth.sessions import start_session
from elevatedpos.db.models import Campaign as CampaignRow
from elevatedpos.db.models import Customer, Order, OrderCampaign, OutboxEvent
from elevatedpos.db.types import utcnow
from tests.conftest import PASSWORD, Tenant, gql, session_reads

CAMPAIGNS = "/api/v1/campaigns"

CREATE = """
mutation($input: CreateCampaignInput!) {
  createCampaign(input: $input) {
    id name type status code version
    rules { percentOff amountOff { amount currency } productIds }
  }
}
"""
UPDATE = """
mutation($id: ID!, $input: UpdateCampaignInput!, $v: Int) {
  updateCampaign(id: $id, input: $input, expectedVersion: $v) { id status code version }
}
"""
LIST = """
query($filter: CampaignFilter, $after: String) {
  campaigns(first: 2, after: $after, filter: $filter) {
    edges { cursor node { name } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
ONE = "query($id: ID!) { campaign(id: $id) { id name status startsAt endsAt } }"
STATS = """
query($id: ID!) {
  campaignStats(id: $id) {
    orders revenue { amount currency } discountTotal { amount currency } customers
  }
}
"""
NODE = "query($id: ID!) { node(id: $id) { id ... on Campaign { name } } }"

TEN_OFF = {"percentOff": 10}


def campaign_body(**fields: Any) -> dict[str, Any]:
    return {"name": "Happy hour", "type": "discount", "rules": TEN_OFF, **fields}


async def create(client, tenant: Tenant, expect: int = 201, **fields: Any) -> dict[str, Any]:
    response = await client.post(CAMPAIGNS, json=campaign_body(**fields), headers=tenant.headers)
    assert response.status_code == expect, response.text
    return response.json()["data"] if expect == 201 else response.json()  # type: ignore[no-any-return]


async def names(client, tenant: Tenant, **params: str) -> list[str]:
    response = await client.get(CAMPAIGNS, params=params, headers=tenant.headers)
    assert response.status_code == 200, response.text
    return [c["name"] for c in response.json()["data"]]


async def member(runtime, tenant: Tenant, role: str) -> Tenant:
    """Another user of the tenant's org, signed in."""
    email = f"{role}-{uuid.uuid4().hex[:12]}@example.com"
    user = await create_user(
        runtime.db, org_id=tenant.org_id, email=email, password=PASSWORD, role=role
    )
    issued = await start_session(runtime, user)
    return Tenant(
        tenant.org_id, user.id, tenant.location_id, email, issued.access_token, issued.refresh_token
    )


async def catalog(client, tenant: Tenant) -> tuple[str, str]:
    """A category and a product in it: what rules may scope a campaign to."""
    category = await client.post(
        "/api/v1/categories", json={"name": "Coffee"}, headers=tenant.headers
    )
    product = await client.post(
        "/api/v1/products",
        json={
            "name": "Latte",
            "sku": f"LAT-{uuid.uuid4().hex[:6]}",
            "price": {"amount": 450},
            "categoryId": category.json()["data"]["id"],
        },
        headers=tenant.headers,
    )
    return category.json()["data"]["id"], product.json()["data"]["id"]


async def test_create_then_get_and_list(client, tenant: Tenant):
    category_id, product_id = await catalog(client, tenant)
    created = await create(
        client,
        tenant,
        name="  Winter warmers ",
        type="promotion",
        status="active",
        code="Winter-25",
        rules={
            "percentOff": 15,
            "amountOff": {"amount": 200, "currency": "AUD"},
            "minSubtotal": {"amount": 1000},
            "productIds": [product_id, product_id],
            "categoryIds": [category_id],
        },
        startsAt="2026-06-01T00:00:00+10:00",
        endsAt="2026-09-01T00:00:00Z",
    )
    assert set(created) == {
        "id",
        "name",
        "type",
        "status",
        "code",
        "rules",
        "startsAt",
        "endsAt",
        "createdAt",
        "updatedAt",
        "version",
    }
    assert (created["name"], created["type"], created["status"]) == (
        "Winter warmers",
        "promotion",
        "active",
    )
    assert created["code"] == "Winter-25" and created["version"] == 1
    assert created["rules"] == {
        "percentOff": 15,
        "amountOff": {"amount": 200, "currency": "AUD"},
        "minSubtotal": {"amount": 1000, "currency": "AUD"},
        "productIds": [product_id],
        "categoryIds": [category_id],
    }
    assert created["startsAt"] == "2026-05-31T14:00:00Z"
    assert created["endsAt"] == "2026-09-01T00:00:00Z"
    fetched = await client.get(f"{CAMPAIGNS}/{created['id']}", headers=tenant.headers)
    assert fetched.status_code == 200 and fetched.headers["etag"] == '"1"'
    assert fetched.json()["data"] == created
    listed = await client.get(CAMPAIGNS, headers=tenant.headers)
    assert listed.json() == {"data": [created], "meta": {"limit": 50, "nextCursor": None}}


async def test_defaults_a_draft_without_code_or_window(client, tenant: Tenant):
    created = await create(client, tenant, rules={"amountOff": {"amount": 500}})
    assert created["status"] == "draft" and created["code"] is None
    assert created["rules"] == {
        "percentOff": None,
        "amountOff": {"amount": 500, "currency": "AUD"},
        "minSubtotal": None,
        "productIds": [],
        "categoryIds": [],
    }
    assert (created["startsAt"], created["endsAt"]) == (None, None)


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"type": "discount", "rules": TEN_OFF}, ["name"]),
        ({"name": "X", "rules": TEN_OFF}, ["type"]),
        ({"name": "X", "type": "discount"}, ["rules"]),
        (campaign_body(name="   "), ["name"]),
        (campaign_body(name="x" * 201), ["name"]),
        (campaign_body(type="coupon"), ["type"]),
        (campaign_body(status="live"), ["status"]),
        (campaign_body(code=""), ["code"]),
        (campaign_body(code="TWO WORDS"), ["code"]),
        (campaign_body(code="x" * 65), ["code"]),
        (campaign_body(code="café"), ["code"]),
        (campaign_body(code=7), ["code"]),
        (campaign_body(rules={}), ["rules"]),
        (campaign_body(rules={"percentOff": 0}), ["rules.percentOff"]),
        (campaign_body(rules={"percentOff": 101}), ["rules.percentOff"]),
        (campaign_body(rules={"percentOff": 12.5}), ["rules.percentOff"]),
        (campaign_body(rules={"amountOff": {"amount": 0}}), ["rules.amountOff"]),
        (campaign_body(rules={"amountOff": 500}), ["rules.amountOff"]),
        (
            campaign_body(rules={"amountOff": {"amount": 5, "currency": "USD"}}),
            ["rules.amountOff.currency"],
        ),
        (
            campaign_body(rules={"percentOff": 5, "minSubtotal": {"amount": -1}}),
            ["rules.minSubtotal"],
        ),
        (
            campaign_body(rules={"percentOff": 5, "minSubtotal": {"amount": 1, "currency": "NZD"}}),
            ["rules.minSubtotal.currency"],
        ),
        (
            campaign_body(rules={"percentOff": 5, "productIds": [str(uuid.uuid4())]}),
            ["rules.productIds.0"],
        ),
        (
            campaign_body(rules={"percentOff": 5, "categoryIds": ["not-a-uuid"]}),
            ["rules.categoryIds.0"],
        ),
        (
            campaign_body(rules={"percentOff": 5, "productIds": [str(uuid.uuid4())] * 501}),
            ["rules.productIds"],
        ),
        (
            campaign_body(startsAt="2026-02-01T00:00:00Z", endsAt="2026-02-01T00:00:00Z"),
            ["endsAt"],
        ),
        (
            campaign_body(startsAt="2026-03-01T00:00:00Z", endsAt="2026-02-01T00:00:00Z"),
            ["endsAt"],
        ),
        (campaign_body(startsAt="tomorrow"), ["startsAt"]),
        (campaign_body(endsAt="2026-02-01T00:00:00"), ["endsAt"]),
        (campaign_body(budget=100), ["budget"]),
    ],
)
async def test_invalid_campaigns_are_422_naming_the_field(client, tenant: Tenant, body, fields):
    response = await client.post(CAMPAIGNS, json=body, headers=tenant.headers)
    assert response.status_code == 422, response.text
    assert response.json()["type"].endswith("/validation")
    assert [e["field"] for e in response.json()["errors"]] == fields
    assert await names(client, tenant) == []


async def test_codes_are_unique_per_org_ignoring_case(client, tenant: Tenant, make_tenant):
    first = await create(client, tenant, code="Latte_Love")
    duplicate = await create(client, tenant, expect=409, code="LATTE_LOVE")
    assert duplicate["type"].endswith("/conflict")
    assert await names(client, tenant) == ["Happy hour"]
    other = await make_tenant()
    assert (await create(client, other, code="latte_love"))["code"] == "latte_love"
    second = await create(client, tenant, code="mocha")
    clash = await client.patch(
        f"{CAMPAIGNS}/{second['id']}", json={"code": "latte_LOVE"}, headers=tenant.headers
    )
    assert clash.status_code == 409
    recased = await client.patch(
        f"{CAMPAIGNS}/{first['id']}", json={"code": "LATTE_love"}, headers=tenant.headers
    )
    assert recased.status_code == 200 and recased.json()["data"]["code"] == "LATTE_love"
    # Without a code, any number of campaigns coexist; a removed code is free again.
    await create(client, tenant)
    await create(client, tenant)
    removed = await client.patch(
        f"{CAMPAIGNS}/{first['id']}", json={"code": None}, headers=tenant.headers
    )
    assert removed.json()["data"]["code"] is None
    assert (await create(client, tenant, code="Latte_Love"))["code"] == "Latte_Love"


async def test_concurrent_creates_of_one_code_make_one_campaign(client, tenant: Tenant):
    responses = await asyncio.gather(
        *(
            client.post(CAMPAIGNS, json=campaign_body(code="RUSH"), headers=tenant.headers)
            for _ in range(6)
        )
    )
    assert sorted(r.status_code for r in responses) == [201] + [409] * 5
    assert await names(client, tenant) == ["Happy hour"]


async def test_patch_with_if_match_etag_and_partial_fields(client, tenant: Tenant):
    _, product_id = await catalog(client, tenant)
    campaign = await create(
        client,
        tenant,
        code="SPRING",
        rules={"percentOff": 10, "minSubtotal": {"amount": 500}, "productIds": [product_id]},
        startsAt="2026-01-01T00:00:00Z",
    )
    url = f"{CAMPAIGNS}/{campaign['id']}"
    patched = await client.patch(
        url,
        json={"status": "active", "rules": {"amountOff": {"amount": 300}}, "name": "Spring"},
        headers={**tenant.headers, "If-Match": '"1"'},
    )
    assert patched.status_code == 200, patched.text
    data = patched.json()["data"]
    assert (data["status"], data["name"], data["code"]) == ("active", "Spring", "SPRING")
    assert data["rules"] == {  # replaced as a whole
        "percentOff": None,
        "amountOff": {"amount": 300, "currency": "AUD"},
        "minSubtotal": None,
        "productIds": [],
        "categoryIds": [],
    }
    assert data["startsAt"] == "2026-01-01T00:00:00Z"
    assert data["version"] == 2 and patched.headers["etag"] == '"2"'
    stale = await client.patch(
        url, json={"status": "paused"}, headers={**tenant.headers, "If-Match": '"1"'}
    )
    assert stale.status_code == 412 and stale.json()["type"].endswith("/precondition-failed")
    fetched = await client.get(url, headers=tenant.headers)
    assert fetched.json()["data"] == data and fetched.headers["etag"] == '"2"'
    # An empty body changes nothing, writes no version, and answers the campaign.
    empty = await client.patch(url, json={}, headers={**tenant.headers, "If-Match": '"2"'})
    assert empty.status_code == 200 and empty.json()["data"] == data
    same = await client.patch(
        url, json={"status": "active", "code": "SPRING"}, headers=tenant.headers
    )
    assert same.json()["data"]["version"] == 2
    # The window is checked against the bounds the campaign keeps.
    early = await client.patch(url, json={"endsAt": "2025-12-31T00:00:00Z"}, headers=tenant.headers)
    assert early.status_code == 422 and early.json()["errors"][0]["field"] == "endsAt"
    moved = await client.patch(
        url,
        json={"startsAt": None, "endsAt": "2025-12-31T00:00:00Z", "type": "offer"},
        headers=tenant.headers,
    )
    assert moved.status_code == 200
    assert (moved.json()["data"]["startsAt"], moved.json()["data"]["type"]) == (None, "offer")


async def test_invalid_patches_are_422_and_change_nothing(client, tenant: Tenant):
    campaign = await create(client, tenant)
    url = f"{CAMPAIGNS}/{campaign['id']}"
    cases = [
        ({"name": ""}, ["name"]),
        ({"status": "archived"}, ["status"]),
        ({"code": "a b"}, ["code"]),
        ({"rules": {"percentOff": 5, "productIds": [str(uuid.uuid4())]}}, ["rules.productIds.0"]),
        ({"rules": {"minSubtotal": {"amount": 5}}}, ["rules"]),
        ({"startsAt": "2026-02-01T00:00:00Z", "endsAt": "2026-01-01T00:00:00Z"}, ["endsAt"]),
    ]
    for body, fields in cases:
        response = await client.patch(url, json=body, headers=tenant.headers)
        assert response.status_code == 422, (body, response.text)
        assert [e["field"] for e in response.json()["errors"]] == fields, body
    assert (await client.get(url, headers=tenant.headers)).json()["data"] == campaign


async def test_ended_is_final(client, tenant: Tenant):
    campaign = await create(client, tenant, status="active")
    url = f"{CAMPAIGNS}/{campaign['id']}"
    for status in ("paused", "draft", "active", "ended"):
        response = await client.patch(url, json={"status": status}, headers=tenant.headers)
        assert response.status_code == 200, (status, response.text)
    for status in ("active", "paused", "draft"):
        response = await client.patch(url, json={"status": status}, headers=tenant.headers)
        assert response.status_code == 409, status
        assert response.json()["type"].endswith("/conflict")
    again = await client.patch(
        url, json={"status": "ended", "name": "Over"}, headers=tenant.headers
    )
    assert again.status_code == 200
    assert (again.json()["data"]["status"], again.json()["data"]["name"]) == ("ended", "Over")


async def test_filters_and_newest_first_pages(client, tenant: Tenant):
    for i, (kind, status) in enumerate(
        [
            ("discount", "active"),
            ("offer", "draft"),
            ("promotion", "active"),
            ("discount", "paused"),
            ("offer", "active"),
            ("discount", "draft"),
            ("promotion", "ended"),
        ]
    ):
        await create(client, tenant, name=f"C{i}", type=kind, status=status)
    assert await names(client, tenant) == ["C6", "C5", "C4", "C3", "C2", "C1", "C0"]
    assert await names(client, tenant, status="active") == ["C4", "C2", "C0"]
    assert await names(client, tenant, type="discount") == ["C5", "C3", "C0"]
    assert await names(client, tenant, type="offer", status="active") == ["C4"]
    assert await names(client, tenant, status="ended", type="offer") == []
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        page = (await client.get(CAMPAIGNS, params=params, headers=tenant.headers)).json()
        assert page["meta"]["limit"] == 3 and len(page["data"]) <= 3
        seen += [c["name"] for c in page["data"]]
        cursor = page["meta"]["nextCursor"]
        if cursor is None:
            break
    assert seen == ["C6", "C5", "C4", "C3", "C2", "C1", "C0"]
    for params, field in (
        ({"status": "live"}, "status"),
        ({"type": "DISCOUNT"}, "type"),
        ({"cursor": "nope"}, "cursor"),
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
    ):
        bad = await client.get(CAMPAIGNS, params=params, headers=tenant.headers)
        assert bad.status_code == 422, params
        assert bad.json()["errors"][0]["field"] == field


async def test_staff_read_but_cannot_write_managers_can(client, runtime, tenant: Tenant):
    campaign = await create(client, tenant, name="Owner's")
    staff = await member(runtime, tenant, "staff")
    url = f"{CAMPAIGNS}/{campaign['id']}"
    for path in (CAMPAIGNS, url, f"{url}/stats"):
        assert (await client.get(path, headers=staff.headers)).status_code == 200, path
    for method, path in (("POST", CAMPAIGNS), ("PATCH", url)):
        response = await client.request(method, path, json=campaign_body(), headers=staff.headers)
        assert response.status_code == 403, method
        assert response.json()["type"].endswith("/forbidden")
    body = await gql(
        client, CREATE, {"input": {**campaign_body(), "type": "DISCOUNT"}}, staff.headers
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await names(client, tenant) == ["Owner's"]
    manager = await member(runtime, tenant, "manager")
    made = await create(client, manager, name="Manager's")
    patched = await client.patch(
        f"{CAMPAIGNS}/{made['id']}", json={"status": "active"}, headers=manager.headers
    )
    assert patched.status_code == 200


async def test_other_orgs_campaigns_do_not_exist(client, tenant: Tenant, make_tenant):
    other = await make_tenant()
    theirs = await create(client, other, name="Secret", code="SECRET")
    _, their_product = await catalog(client, other)
    url = f"{CAMPAIGNS}/{theirs['id']}"
    for method, path in (("GET", url), ("PATCH", url), ("GET", f"{url}/stats")):
        body = {"status": "ended"} if method == "PATCH" else None
        response = await client.request(method, path, json=body, headers=tenant.headers)
        assert response.status_code == 404, (method, path)
        assert response.json()["type"].endswith("/not-found")
    for path in (f"{CAMPAIGNS}/not-a-uuid", f"{CAMPAIGNS}/not-a-uuid/stats"):
        assert (await client.get(path, headers=tenant.headers)).status_code == 404
    assert await names(client, tenant) == []
    for query in (ONE, STATS):
        body = await gql(client, query, {"id": theirs["id"]}, tenant.headers)
        assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert (await gql(client, NODE, {"id": theirs["id"]}, tenant.headers))["data"]["node"] is None
    scoped = await client.post(
        CAMPAIGNS,
        json=campaign_body(rules={"percentOff": 5, "productIds": [their_product]}),
        headers=tenant.headers,
    )
    assert scoped.status_code == 422
    assert scoped.json()["errors"][0]["field"] == "rules.productIds.0"
    # Their code is free in my org, and their campaign is untouched.
    assert (await create(client, tenant, code="secret"))["code"] == "secret"
    assert (await client.get(url, headers=other.headers)).json()["data"] == theirs


async def test_stats_of_a_campaign_without_orders_are_zero_in_one_statement(
    client, tenant: Tenant, runtime, count_statements
):
    campaign = await create(client, tenant)
    url = f"{CAMPAIGNS}/{campaign['id']}/stats"
    await client.get(url, headers=tenant.headers)  # warms the per-org caches
    with count_statements() as counter:
        response = await client.get(url, headers=tenant.headers)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "data": {
            "orders": 0,
            "revenue": {"amount": 0, "currency": "AUD"},
            "discountTotal": {"amount": 0, "currency": "AUD"},
            "customers": 0,
        }
    }
    assert counter.count == session_reads(runtime) + 1  # the stats, after the session's check


async def _order(session, tenant: Tenant, number: int, status: str, total: int, **kw: Any) -> Order:
    row = Order(
        id=uuid.uuid4(),
        org_id=tenant.org_id,
        number=number,
        status=status,
        location_id=tenant.location_id,
        subtotal=total,
        tax_total=0,
        total=total,
        created_at=utcnow(),
        updated_at=utcnow(),
        **kw,
    )
    session.add(row)
    return row


async def test_stats_count_orders_that_took_money(client, runtime, tenant: Tenant, make_tenant):
    """Order rows written directly: stats read `order_campaigns` joined to `orders`."""
    mine = await create(client, tenant, status="active")
    bystander = await create(client, tenant, status="active", name="Other")
    other = await make_tenant()
    async with runtime.db.write() as session:
        ada, bob = (
            Customer(
                id=uuid.uuid4(),
                org_id=tenant.org_id,
                first_name=name,
                last_name="",
                email=f"{name}@x.io",
                tags=[],
                marketing_opt_in=False,
            )
            for name in ("ada", "bob")
        )
        session.add_all([ada, bob])
        await session.flush()
        orders = [
            (await _order(session, tenant, 1, "completed", 1000, customer_id=ada.id), 100),
            (await _order(session, tenant, 2, "completed", 2000, customer_id=ada.id), 200),
            (
                await _order(
                    session,
                    tenant,
                    3,
                    "partially_refunded",
                    500,
                    amount_refunded=200,
                    customer_id=bob.id,
                ),
                50,
            ),
            (await _order(session, tenant, 4, "refunded", 800, amount_refunded=800), 80),
            (await _order(session, tenant, 5, "open", 9000, customer_id=bob.id), 900),
            (await _order(session, tenant, 6, "voided", 9000), 900),
        ]
        await session.flush()
        for order, discount in orders:
            session.add(
                OrderCampaign(
                    order_id=order.id,
                    campaign_id=uuid.UUID(mine["id"]),
                    org_id=tenant.org_id,
                    discount=discount,
                )
            )
        untouched = await _order(session, tenant, 7, "completed", 700)
        await session.flush()
        session.add(
            OrderCampaign(
                order_id=untouched.id,
                campaign_id=uuid.UUID(bystander["id"]),
                org_id=tenant.org_id,
                discount=70,
            )
        )
    stats = await client.get(f"{CAMPAIGNS}/{mine['id']}/stats", headers=tenant.headers)
    assert stats.json()["data"] == {
        "orders": 4,
        "revenue": {"amount": 1000 + 2000 + 300 + 0, "currency": "AUD"},
        "discountTotal": {"amount": 430, "currency": "AUD"},
        "customers": 2,
    }
    body = await gql(client, STATS, {"id": bystander["id"]}, tenant.headers)
    assert body["data"]["campaignStats"] == {
        "orders": 1,
        "revenue": {"amount": 700, "currency": "AUD"},
        "discountTotal": {"amount": 70, "currency": "AUD"},
        "customers": 0,
    }
    denied = await client.get(f"{CAMPAIGNS}/{mine['id']}/stats", headers=other.headers)
    assert denied.status_code == 404


async def test_stats_follow_real_orders_through_their_lives(client, tenant: Tenant):
    latte = (
        await client.post(
            "/api/v1/products",
            json={"name": "Latte", "sku": "LAT", "price": {"amount": 500}, "trackInventory": False},
            headers=tenant.headers,
        )
    ).json()["data"]
    campaign = await create(client, tenant, status="active", code="TENOFF")
    customer = (
        await client.post("/api/v1/customers", json={"email": "ada@x.io"}, headers=tenant.headers)
    ).json()["data"]

    async def order(quantity: int, **extra: Any) -> dict[str, Any]:
        body = {
            "locationId": str(tenant.location_id),
            "lineItems": [{"productId": latte["id"], "quantity": quantity}],
            **extra,
        }
        response = await client.post("/api/v1/orders", json=body, headers=tenant.headers)
        assert response.status_code == 201, response.text
        return response.json()["data"]  # type: ignore[no-any-return]

    async def paid_and_completed(made: dict[str, Any]) -> None:
        payment = await client.post(
            "/api/v1/payments",
            json={"orderId": made["id"], "amount": made["total"], "method": "cash"},
            headers=tenant.headers,
        )
        assert payment.status_code == 201, payment.text
        done = await client.patch(
            f"/api/v1/orders/{made['id']}/status",
            json={"status": "completed"},
            headers=tenant.headers,
        )
        assert done.status_code == 200, done.text

    async def stats() -> dict[str, Any]:
        response = await client.get(f"{CAMPAIGNS}/{campaign['id']}/stats", headers=tenant.headers)
        assert response.status_code == 200, response.text
        return response.json()["data"]  # type: ignore[no-any-return]

    first = await order(2, campaignCode="tenoff", customerId=customer["id"])
    second = await order(1, campaignCode="TENOFF")
    assert first["campaignIds"] == [campaign["id"]]
    assert (first["discountTotal"]["amount"], second["discountTotal"]["amount"]) == (100, 50)
    plain = await order(3)  # no code: the campaign does not apply
    assert plain["campaignIds"] == []
    assert (await stats())["orders"] == 0  # open orders have not taken money
    await paid_and_completed(first)
    await paid_and_completed(second)
    await paid_and_completed(plain)
    refund = await client.post(
        f"/api/v1/orders/{second['id']}/refund",
        json={"amount": {"amount": 150, "currency": "AUD"}, "reason": "cold"},
        headers=tenant.headers,
    )
    assert refund.status_code == 201, refund.text
    voided = await order(1, campaignCode="tenoff", customerId=customer["id"])
    void = await client.patch(
        f"/api/v1/orders/{voided['id']}/status", json={"status": "voided"}, headers=tenant.headers
    )
    assert void.status_code == 200, void.text
    await order(5, campaignCode="tenoff")  # still open
    assert await stats() == {
        "orders": 2,
        "revenue": {"amount": 900 + 450 - 150, "currency": "AUD"},
        "discountTotal": {"amount": 150, "currency": "AUD"},
        "customers": 1,
    }


async def test_writes_record_campaign_events_with_the_rest_shape(client, runtime, tenant: Tenant):
    created = await create(client, tenant)
    url = f"{CAMPAIGNS}/{created['id']}"
    await client.patch(url, json={}, headers=tenant.headers)  # no change, no event
    patched = await client.patch(url, json={"status": "active"}, headers=tenant.headers)
    async with runtime.db.read() as session:
        events = (
            await session.scalars(
                select(OutboxEvent)
                .where(OutboxEvent.org_id == tenant.org_id, OutboxEvent.type.like("campaign.%"))
                .order_by(OutboxEvent.created_at, OutboxEvent.id)
            )
        ).all()
    assert [(e.type, e.data) for e in events] == [
        ("campaign.created", created),
        ("campaign.updated", patched.json()["data"]),
    ]


async def test_idempotency_key_replays_the_created_campaign(client, runtime, tenant: Tenant):
    headers = {**tenant.headers, "Idempotency-Key": f"k-{uuid.uuid4()}"}
    first = await client.post(CAMPAIGNS, json=campaign_body(code="ONCE"), headers=headers)
    replay = await client.post(CAMPAIGNS, json=campaign_body(code="ONCE"), headers=headers)
    assert (first.status_code, replay.status_code) == (201, 201)
    assert replay.headers["idempotent-replayed"] == "true" and replay.content == first.content
    changed = await client.post(CAMPAIGNS, json=campaign_body(code="TWICE"), headers=headers)
    assert changed.status_code == 422
    async with runtime.db.read() as session:
        rows = (
            await session.scalars(
                select(CampaignRow.code_key).where(CampaignRow.org_id == tenant.org_id)
            )
        ).all()
    assert rows == ["once"]


async def test_graphql_twins(client, tenant: Tenant):
    _, product_id = await catalog(client, tenant)
    made = await gql(
        client,
        CREATE,
        {
            "input": {
                "name": "Flat white Friday",
                "type": "OFFER",
                "code": "FWF",
                "rules": {"amountOff": {"amount": 100}, "productIds": [product_id]},
            }
        },
        tenant.headers,
    )
    campaign = made["data"]["createCampaign"]
    campaign_id = campaign["id"]
    assert campaign == {
        "id": campaign_id,
        "name": "Flat white Friday",
        "type": "OFFER",
        "status": "DRAFT",
        "code": "FWF",
        "version": 1,
        "rules": {
            "percentOff": None,
            "amountOff": {"amount": 100, "currency": "AUD"},
            "productIds": [product_id],
        },
    }
    stale = await gql(
        client, UPDATE, {"id": campaign_id, "input": {"status": "ACTIVE"}, "v": 7}, tenant.headers
    )
    assert stale["errors"][0]["extensions"]["code"] == "PRECONDITION_FAILED"
    updated = await gql(
        client,
        UPDATE,
        {"id": campaign_id, "input": {"status": "ACTIVE", "code": None}, "v": 1},
        tenant.headers,
    )
    assert updated["data"]["updateCampaign"] == {
        "id": campaign_id,
        "status": "ACTIVE",
        "code": None,
        "version": 2,
    }
    invalid = await gql(
        client,
        CREATE,
        {"input": {"name": "", "type": "DISCOUNT", "rules": {"percentOff": 200}}},
        tenant.headers,
    )
    assert invalid["errors"][0]["extensions"]["code"] == "VALIDATION"
    assert [e["field"] for e in invalid["errors"][0]["extensions"]["errors"]] == [
        "name",
        "rules.percentOff",
    ]
    await gql(
        client,
        CREATE,
        {"input": {"name": "Later", "type": "DISCOUNT", "rules": {"percentOff": 5}}},
        tenant.headers,
    )
    everything = (await gql(client, LIST, {}, tenant.headers))["data"]["campaigns"]
    assert [e["node"]["name"] for e in everything["edges"]] == ["Later", "Flat white Friday"]
    active = await gql(client, LIST, {"filter": {"status": "ACTIVE"}}, tenant.headers)
    assert [e["node"]["name"] for e in active["data"]["campaigns"]["edges"]] == [
        "Flat white Friday"
    ]
    one = await gql(client, ONE, {"id": campaign_id}, tenant.headers)
    assert one["data"]["campaign"] == {
        "id": campaign_id,
        "name": "Flat white Friday",
        "status": "ACTIVE",
        "startsAt": None,
        "endsAt": None,
    }
    stats = await gql(client, STATS, {"id": campaign_id}, tenant.headers)
    assert stats["data"]["campaignStats"]["orders"] == 0
    node = await gql(client, NODE, {"id": campaign_id}, tenant.headers)
    assert node["data"]["node"] == {"id": campaign_id, "name": "Flat white Friday"}

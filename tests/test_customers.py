"""Customers through REST and GraphQL: upsert by email, search, tags, versions, isolation, roles."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from openapi_schema_validator import OAS31Validator
from sqlalchemy import select

from elevatedpos.actions.customers import upsert_customer
from elevatedpos.db.models import Customer as CustomerRow
from elevatedpos.db.models import OutboxEvent
from elevatedpos.schema.customers import UpsertCustomerInput
from tests.conftest import Tenant, gql, session_reads

CUSTOMERS = "/api/v1/customers"

UPSERT = """
mutation($input: UpsertCustomerInput!) {
  upsertCustomer(input: $input) { created customer { id email firstName tags version } }
}
"""
UPDATE = """
mutation($id: ID!, $input: UpdateCustomerInput!, $v: Int) {
  updateCustomer(id: $id, input: $input, expectedVersion: $v) { id lastName phone version }
}
"""
LIST = """
query($filter: CustomerFilter) {
  customers(first: 10, filter: $filter) {
    edges { cursor node { email } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
ONE = "query($id: ID!) { customer(id: $id) { id email marketingOptIn } }"
NODE = "query($id: ID!) { node(id: $id) { id ... on Customer { email } } }"


async def upsert(client, tenant: Tenant, body: dict[str, Any], status: int = 201) -> dict:
    response = await client.post(CUSTOMERS, json=body, headers=tenant.headers)
    assert response.status_code == status, response.text
    return response.json()["data"]  # type: ignore[no-any-return]


async def emails(client, tenant: Tenant, **params: str) -> list[str]:
    response = await client.get(CUSTOMERS, params=params, headers=tenant.headers)
    assert response.status_code == 200, response.text
    return [c["email"] for c in response.json()["data"]]


def scoped_headers(runtime, tenant: Tenant, *scopes: str) -> dict[str, str]:
    """A partner-style token of the tenant's session that carries only `scopes`."""
    claims = runtime.issuer.decode_access(tenant.access_token)
    token, _ = runtime.issuer.access_token(
        user_id=tenant.user_id,
        org_id=tenant.org_id,
        scopes=set(scopes),
        session_id=uuid.UUID(claims["sid"]),
        client_id="partner-app",
    )
    return {"Authorization": f"Bearer {token}"}


async def test_post_creates_then_updates_the_customer_with_that_email(client, tenant: Tenant):
    created = await upsert(
        client,
        tenant,
        {
            "email": " Ada@Example.COM ",
            "firstName": "Ada",
            "lastName": "Lovelace",
            "phone": "0412 345 678",
            "tags": ["VIP", "vip", " Regular "],
            "marketingOptIn": True,
        },
    )
    assert created["email"] == "ada@example.com"
    assert created["tags"] == ["VIP", "Regular"]
    assert created["version"] == 1 and created["createdAt"].endswith("Z")
    assert set(created) == {
        "id",
        "firstName",
        "lastName",
        "email",
        "phone",
        "tags",
        "marketingOptIn",
        "createdAt",
        "updatedAt",
        "version",
    }
    fetched = await client.get(f"{CUSTOMERS}/{created['id']}", headers=tenant.headers)
    detail = fetched.json()["data"]
    assert detail == {
        **created,
        "stats": {
            "orderCount": 0,
            "totalSpent": {"amount": 0, "currency": "AUD"},
            "lastOrderAt": None,
        },
        "recentOrders": [],
    }
    assert fetched.headers["etag"] == '"1"'

    updated = await upsert(
        client, tenant, {"email": "ADA@example.com", "lastName": "King", "tags": []}, status=200
    )
    assert updated["id"] == created["id"]
    assert (updated["firstName"], updated["lastName"]) == ("Ada", "King")
    assert updated["phone"] == "0412 345 678" and updated["marketingOptIn"] is True
    assert updated["tags"] == [] and updated["version"] == 2
    same = await upsert(client, tenant, {"email": "ada@example.com", "lastName": "King"}, 200)
    assert same == updated  # nothing changed: no new version
    assert await emails(client, tenant) == ["ada@example.com"]


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"firstName": "Ada"}, ["email"]),
        ({"email": "   "}, ["email"]),
        ({"email": "not-an-email"}, ["email"]),
        ({"email": "a@b.co", "firstName": "x" * 101}, ["firstName"]),
        ({"email": "a@b.co", "lastName": "x" * 101}, ["lastName"]),
        ({"email": "a@b.co", "phone": "call me"}, ["phone"]),
        ({"email": "a@b.co", "phone": "1" * 33}, ["phone"]),
        ({"email": "a@b.co", "tags": ["ok", " "]}, ["tags.1"]),
        ({"email": "a@b.co", "tags": ["x" * 51]}, ["tags.0"]),
        ({"email": "a@b.co", "tags": [f"t{i}" for i in range(51)]}, ["tags"]),
        ({"email": "a@b.co", "tags": [5]}, ["tags.0"]),
        ({"email": "a@b.co", "marketingOptIn": "yes"}, ["marketingOptIn"]),
        ({"email": "a@b.co", "name": "Ada"}, ["name"]),
    ],
)
async def test_invalid_customers_are_422_naming_the_field(client, tenant: Tenant, body, fields):
    response = await client.post(CUSTOMERS, json=body, headers=tenant.headers)
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == fields
    assert await emails(client, tenant) == []


async def test_search_covers_names_email_and_phone_ignoring_case(client, tenant: Tenant):
    await upsert(
        client,
        tenant,
        {
            "email": "ada@example.com",
            "firstName": "Ada",
            "lastName": "Lovelace",
            "phone": "0412 345 678",
        },
    )
    await upsert(
        client,
        tenant,
        {
            "email": "grace@navy.mil",
            "firstName": "Grace",
            "lastName": "Hopper",
            "phone": "+1 555 0100",
        },
    )
    await upsert(client, tenant, {"email": "100%club@x.io", "lastName": "Percent"})
    await upsert(client, tenant, {"email": "under_score@x.io", "lastName": "Under"})
    ada, grace = ["ada@example.com"], ["grace@navy.mil"]
    assert await emails(client, tenant, search="LOVE") == ada
    assert await emails(client, tenant, search="grac") == grace
    assert await emails(client, tenant, search="ada lovelace") == ada
    assert await emails(client, tenant, search="NAVY.MIL") == grace
    assert await emails(client, tenant, search="0412345678") == ada
    assert await emails(client, tenant, search="345 678") == ada
    assert await emails(client, tenant, search="+1 555") == grace
    assert await emails(client, tenant, search="%") == ["100%club@x.io"]
    assert await emails(client, tenant, search="_") == ["under_score@x.io"]
    assert await emails(client, tenant, search="nobody") == []
    assert len(await emails(client, tenant, search="")) == 4


async def test_search_and_tags_ignore_case_beyond_ascii(client, tenant: Tenant):
    """Zoë, José and Ødegaard are found typed in any case, on SQLite as on PostgreSQL."""
    await upsert(
        client,
        tenant,
        {"email": "first@x.io", "firstName": "ZOË", "lastName": "ÉLISE", "tags": ["Fidèle"]},
    )
    await upsert(
        client, tenant, {"email": "jose@x.io", "firstName": "José", "lastName": "Ødegaard"}
    )
    assert await emails(client, tenant, search="zoë") == ["first@x.io"]
    assert await emails(client, tenant, search="élise") == ["first@x.io"]
    assert await emails(client, tenant, search="JOSÉ") == ["jose@x.io"]
    assert await emails(client, tenant, search="ødeg") == ["jose@x.io"]
    assert await emails(client, tenant, tag="FIDÈLE") == ["first@x.io"]
    assert await emails(client, tenant, search="zoe") == []  # ë is not e


async def test_tag_filter_ignores_case(client, tenant: Tenant):
    await upsert(client, tenant, {"email": "a@x.io", "lastName": "B", "tags": ["VIP", "regular"]})
    await upsert(client, tenant, {"email": "b@x.io", "lastName": "A", "tags": ["Regular"]})
    await upsert(client, tenant, {"email": "c@x.io", "lastName": "C"})
    assert await emails(client, tenant, tag="vip") == ["a@x.io"]
    assert await emails(client, tenant, tag="REGULAR") == ["b@x.io", "a@x.io"]
    assert await emails(client, tenant, tag="regular", search="a@") == ["a@x.io"]
    assert await emails(client, tenant, tag="lapsed") == []


async def test_pages_hold_every_customer_exactly_once_in_name_order(client, tenant: Tenant):
    for i in range(7):  # repeated names: the id breaks ties
        await upsert(
            client,
            tenant,
            {"email": f"c{i}@x.io", "firstName": f"F{i % 2}", "lastName": f"L{i % 3}"},
        )
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        page = (await client.get(CUSTOMERS, params=params, headers=tenant.headers)).json()
        assert page["meta"]["limit"] == 3
        seen += page["data"]
        cursor = page["meta"]["nextCursor"]
        if cursor is None:
            break
    assert len(seen) == 7 and len({c["id"] for c in seen}) == 7
    keys = [(c["lastName"], c["firstName"], c["id"]) for c in seen]
    assert keys == sorted(keys)
    bad = await client.get(CUSTOMERS, params={"cursor": "nope"}, headers=tenant.headers)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "cursor"


async def test_patch_with_if_match_and_etag(client, tenant: Tenant):
    customer = await upsert(
        client, tenant, {"email": "ada@x.io", "firstName": "Ada", "phone": "0400 000 000"}
    )
    url = f"{CUSTOMERS}/{customer['id']}"
    patched = await client.patch(
        url,
        json={"firstName": "Augusta", "phone": None, "email": "Augusta@X.io"},
        headers={**tenant.headers, "If-Match": '"1"'},
    )
    assert patched.status_code == 200, patched.text
    data = patched.json()["data"]
    assert (data["firstName"], data["phone"], data["email"]) == ("Augusta", None, "augusta@x.io")
    assert data["version"] == 2 and patched.headers["etag"] == '"2"'
    stale = await client.patch(
        url, json={"firstName": "Stale"}, headers={**tenant.headers, "If-Match": '"1"'}
    )
    assert stale.status_code == 412
    fetched = (await client.get(url, headers=tenant.headers)).json()["data"]
    assert {k: fetched[k] for k in data} == data
    bad = await client.patch(url, json={"email": "nope", "tags": [""]}, headers=tenant.headers)
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == ["email", "tags.0"]


async def test_patch_to_another_customers_email_is_409(client, tenant: Tenant):
    await upsert(client, tenant, {"email": "taken@x.io"})
    mine = await upsert(client, tenant, {"email": "mine@x.io"})
    response = await client.patch(
        f"{CUSTOMERS}/{mine['id']}", json={"email": "TAKEN@x.io"}, headers=tenant.headers
    )
    assert response.status_code == 409
    assert response.json()["type"].endswith("/conflict")


async def test_isolation_other_orgs_customers_do_not_exist(client, tenant: Tenant, make_tenant):
    other = await make_tenant()
    theirs = await upsert(client, other, {"email": "secret@x.io", "firstName": "Secret"})
    for method in ("GET", "PATCH"):
        response = await client.request(
            method,
            f"{CUSTOMERS}/{theirs['id']}",
            json={"firstName": "x"} if method == "PATCH" else None,
            headers=tenant.headers,
        )
        assert response.status_code == 404, method
    assert await emails(client, tenant) == []
    assert await emails(client, tenant, search="secret") == []
    body = await gql(client, NODE, {"id": theirs["id"]}, tenant.headers)
    assert body["data"]["node"] is None
    body = await gql(client, ONE, {"id": theirs["id"]}, tenant.headers)
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    # The same email in my org is my own customer, not theirs.
    mine = await upsert(client, tenant, {"email": "secret@x.io"})
    assert mine["id"] != theirs["id"] and mine["firstName"] == ""
    assert (await client.get(f"{CUSTOMERS}/not-a-uuid", headers=tenant.headers)).status_code == 404


async def test_staff_create_and_update_customers(client, make_tenant):
    staff = await make_tenant(role="staff")
    created = await upsert(client, staff, {"email": "walk-in@x.io", "firstName": "Sam"})
    patched = await client.patch(
        f"{CUSTOMERS}/{created['id']}", json={"tags": ["regular"]}, headers=staff.headers
    )
    assert patched.status_code == 200 and patched.json()["data"]["tags"] == ["regular"]
    assert (await upsert(client, staff, {"email": "walk-in@x.io"}, 200))["id"] == created["id"]


async def test_scopes_guard_reads_and_writes(client, runtime, tenant: Tenant):
    customer = await upsert(client, tenant, {"email": "ada@x.io"})
    reader = scoped_headers(runtime, tenant, "customers:read")
    assert (await client.get(CUSTOMERS, headers=reader)).status_code == 200
    for method, url in (("POST", CUSTOMERS), ("PATCH", f"{CUSTOMERS}/{customer['id']}")):
        response = await client.request(method, url, json={"email": "b@x.io"}, headers=reader)
        assert response.status_code == 403, method
        assert response.json()["type"].endswith("/forbidden")
    body = await gql(client, UPSERT, {"input": {"email": "b@x.io"}}, reader)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    outsider = scoped_headers(runtime, tenant, "catalog:read")
    assert (await client.get(CUSTOMERS, headers=outsider)).status_code == 403
    body = await gql(client, NODE, {"id": customer["id"]}, outsider)
    assert body["data"]["node"] is None


async def test_writes_record_customer_events_with_the_rest_shape(client, runtime, tenant: Tenant):
    created = await upsert(client, tenant, {"email": "ada@x.io", "firstName": "Ada"})
    await upsert(client, tenant, {"email": "ada@x.io", "firstName": "Ada"}, 200)  # no change
    updated = await upsert(client, tenant, {"email": "ada@x.io", "lastName": "L"}, 200)
    patched = await client.patch(
        f"{CUSTOMERS}/{created['id']}", json={"marketingOptIn": True}, headers=tenant.headers
    )
    async with runtime.db.read() as session:
        events = (
            await session.scalars(
                select(OutboxEvent)
                .where(OutboxEvent.org_id == tenant.org_id, OutboxEvent.type.like("customer.%"))
                .order_by(OutboxEvent.created_at, OutboxEvent.id)
            )
        ).all()
    assert [(e.type, e.data) for e in events] == [
        ("customer.created", created),
        ("customer.updated", updated),
        ("customer.updated", patched.json()["data"]),
    ]


async def test_idempotency_key_replays_whichever_status_happened(client, tenant: Tenant):
    body = {"email": "ada@x.io", "firstName": "Ada"}
    first_headers = {**tenant.headers, "Idempotency-Key": f"k-{uuid.uuid4()}"}
    first = await client.post(CUSTOMERS, json=body, headers=first_headers)
    replay = await client.post(CUSTOMERS, json=body, headers=first_headers)
    assert (first.status_code, replay.status_code) == (201, 201)
    assert replay.headers["idempotent-replayed"] == "true" and replay.content == first.content
    changed = {**body, "lastName": "Lovelace"}
    second_headers = {**tenant.headers, "Idempotency-Key": f"k-{uuid.uuid4()}"}
    second = await client.post(CUSTOMERS, json=changed, headers=second_headers)
    again = await client.post(CUSTOMERS, json=changed, headers=second_headers)
    assert (second.status_code, again.status_code) == (200, 200)
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["data"]["version"] == 2
    mismatch = await client.post(CUSTOMERS, json=body, headers=second_headers)
    assert mismatch.status_code == 422


async def test_concurrent_upserts_of_one_email_make_one_customer(client, tenant: Tenant):
    responses = await asyncio.gather(
        *(
            client.post(
                CUSTOMERS, json={"email": "rush@x.io", "tags": [f"t{i}"]}, headers=tenant.headers
            )
            for i in range(8)
        )
    )
    assert sorted(r.status_code for r in responses) == [200] * 7 + [201]
    assert len({r.json()["data"]["id"] for r in responses}) == 1
    assert await emails(client, tenant) == ["rush@x.io"]


async def test_graphql_twins(client, tenant: Tenant):
    first = await gql(
        client, UPSERT, {"input": {"email": "Ada@x.io", "firstName": "Ada"}}, tenant.headers
    )
    payload = first["data"]["upsertCustomer"]
    assert payload["created"] is True and payload["customer"]["email"] == "ada@x.io"
    customer_id = payload["customer"]["id"]
    again = await gql(
        client, UPSERT, {"input": {"email": "ada@X.IO", "tags": ["vip"]}}, tenant.headers
    )
    assert again["data"]["upsertCustomer"] == {
        "created": False,
        "customer": {
            "id": customer_id,
            "email": "ada@x.io",
            "firstName": "Ada",
            "tags": ["vip"],
            "version": 2,
        },
    }
    stale = await gql(
        client, UPDATE, {"id": customer_id, "input": {"lastName": "L"}, "v": 1}, tenant.headers
    )
    assert stale["errors"][0]["extensions"]["code"] == "PRECONDITION_FAILED"
    updated = await gql(
        client,
        UPDATE,
        {"id": customer_id, "input": {"lastName": "L", "phone": "02 9999 0000"}, "v": 2},
        tenant.headers,
    )
    assert updated["data"]["updateCustomer"] == {
        "id": customer_id,
        "lastName": "L",
        "phone": "02 9999 0000",
        "version": 3,
    }
    invalid = await gql(client, UPSERT, {"input": {"email": "nope"}}, tenant.headers)
    assert invalid["errors"][0]["extensions"]["code"] == "VALIDATION"
    assert invalid["errors"][0]["extensions"]["errors"][0]["field"] == "email"
    listed = await gql(client, LIST, {"filter": {"search": "ADA", "tag": "VIP"}}, tenant.headers)
    connection = listed["data"]["customers"]
    assert [e["node"]["email"] for e in connection["edges"]] == ["ada@x.io"]
    assert connection["pageInfo"]["hasNextPage"] is False
    one = await gql(client, ONE, {"id": customer_id}, tenant.headers)
    assert one["data"]["customer"] == {
        "id": customer_id,
        "email": "ada@x.io",
        "marketingOptIn": False,
    }
    node = await gql(client, NODE, {"id": customer_id}, tenant.headers)
    assert node["data"]["node"] == {"id": customer_id, "email": "ada@x.io"}


async def test_openapi_documents_both_upsert_statuses(client, tenant: Tenant):
    doc = (await client.get("/api/v1/openapi.json")).json()
    responses = doc["paths"][CUSTOMERS]["post"]["responses"]
    for status in ("201", "200"):
        schema = responses[status]["content"]["application/json"]["schema"]
        answer = await client.post(CUSTOMERS, json={"email": "doc@x.io"}, headers=tenant.headers)
        assert answer.status_code == int(status)
        OAS31Validator({**schema, "components": doc["components"]}).validate(answer.json())


async def test_a_customers_page_runs_a_fixed_number_of_statements(
    client, runtime, tenant: Tenant, count_statements
):
    for i in range(60):
        await upsert_customer(
            runtime.db,
            tenant.org_id,
            UpsertCustomerInput(
                email=f"c{i}@x.io", first_name="C", last_name=f"{i:02}", tags=["regular"]
            ),
        )
    await emails(client, tenant, limit="1")  # warms the per-org caches (plan limits)
    counts = {}
    for size in (5, 50):
        await emails(client, tenant, limit="1")  # keeps the org's rate limits cached
        with count_statements() as counter:
            response = await client.get(
                CUSTOMERS,
                params={"limit": str(size), "tag": "regular", "search": "c"},
                headers=tenant.headers,
            )
        assert len(response.json()["data"]) == size
        counts[size] = counter.count
    # the session's check (PostgreSQL without Redis), then the page itself
    page = session_reads(runtime) + 1
    assert counts == {5: page, 50: page}
    async with runtime.db.read() as session:
        rows = (
            await session.scalars(
                select(CustomerRow.email).where(CustomerRow.org_id == tenant.org_id)
            )
        ).all()
    assert len(rows) == 60


# --- orders of a customer --------------------------------------------------------------------


async def _sell(client, tenant: Tenant, product_id: str, customer_id: str, qty: int) -> dict:
    created = await client.post(
        "/api/v1/orders",
        json={
            "locationId": str(tenant.location_id),
            "customerId": customer_id,
            "lineItems": [{"productId": product_id, "quantity": qty}],
        },
        headers=tenant.headers,
    )
    assert created.status_code == 201, created.text
    order = created.json()["data"]
    paid = await client.post(
        "/api/v1/payments",
        json={"orderId": order["id"], "amount": order["total"], "method": "cash"},
        headers=tenant.headers,
    )
    assert paid.status_code == 201, paid.text
    return order  # type: ignore[no-any-return]


async def _untracked_product(client, tenant: Tenant, price: int) -> str:
    made = await client.post(
        "/api/v1/products",
        json={
            "name": "Flat white",
            "sku": f"FW-{uuid.uuid4().hex[:8]}",
            "price": {"amount": price},
            "trackInventory": False,
        },
        headers=tenant.headers,
    )
    assert made.status_code == 201, made.text
    return made.json()["data"]["id"]  # type: ignore[no-any-return]


async def test_a_customer_shows_stats_and_recent_orders_from_real_orders(client, tenant: Tenant):
    product_id = await _untracked_product(client, tenant, 500)
    customer = await upsert(client, tenant, {"email": "regular@cafe.io"})
    fresh = await client.get(f"{CUSTOMERS}/{customer['id']}", headers=tenant.headers)
    assert fresh.json()["data"]["stats"] == {
        "orderCount": 0,
        "totalSpent": {"amount": 0, "currency": "AUD"},
        "lastOrderAt": None,
    }
    assert fresh.json()["data"]["recentOrders"] == []
    orders = [await _sell(client, tenant, product_id, customer["id"], q) for q in range(1, 8)]
    for order in orders[:3]:
        done = await client.patch(
            f"/api/v1/orders/{order['id']}/status",
            json={"status": "completed"},
            headers=tenant.headers,
        )
        assert done.status_code == 200, done.text
    refunded = await client.post(
        f"/api/v1/orders/{orders[2]['id']}/refund",
        json={"reason": "cold", "amount": {"amount": 300}},
        headers=tenant.headers,
    )
    assert refunded.status_code == 201, refunded.text
    body = (await client.get(f"{CUSTOMERS}/{customer['id']}", headers=tenant.headers)).json()
    stats = body["data"]["stats"]
    # completed orders of 1, 2 and 3 units at 5.00, less the 3.00 given back; open ones wait
    assert stats["orderCount"] == 3
    assert stats["totalSpent"] == {"amount": 500 + 1000 + 1500 - 300, "currency": "AUD"}
    assert stats["lastOrderAt"] == orders[2]["createdAt"]
    recent = body["data"]["recentOrders"]
    assert [o["number"] for o in recent] == [7, 6, 5, 4, 3]
    assert recent[-1]["status"] == "partially_refunded"


async def test_a_customers_orders_list_pages_newest_first_and_404s_for_strangers(
    client, make_tenant
):
    tenant, other = await make_tenant(), await make_tenant()
    product_id = await _untracked_product(client, tenant, 250)
    mine = await upsert(client, tenant, {"email": "pages@cafe.io"})
    someone = await upsert(client, tenant, {"email": "else@cafe.io"})
    for q in (1, 2, 3):
        await _sell(client, tenant, product_id, mine["id"], q)
    await _sell(client, tenant, product_id, someone["id"], 9)
    url = f"{CUSTOMERS}/{mine['id']}/orders"
    first = (await client.get(url, params={"limit": 2}, headers=tenant.headers)).json()
    assert [o["number"] for o in first["data"]] == [3, 2]
    assert first["meta"]["limit"] == 2 and first["meta"]["nextCursor"]
    rest = (
        await client.get(
            url, params={"limit": 2, "cursor": first["meta"]["nextCursor"]}, headers=tenant.headers
        )
    ).json()
    assert [o["number"] for o in rest["data"]] == [1]
    assert rest["meta"]["nextCursor"] is None
    assert (await client.get(url, headers=other.headers)).status_code == 404
    missing = await client.get(f"{CUSTOMERS}/{uuid.uuid4()}/orders", headers=tenant.headers)
    assert missing.status_code == 404


CUSTOMERS_WITH_ORDERS = """
query($n: Int!) {
  customers(first: $n) {
    nodes {
      email
      stats { orderCount }
      recentOrders { number }
      orders(first: 2) { nodes { number customer { email } } pageInfo { hasNextPage } }
    }
  }
}
"""


async def test_customer_orders_are_batched_whatever_the_page_size(
    client, tenant: Tenant, count_statements
):
    product_id = await _untracked_product(client, tenant, 100)
    for i in range(12):
        customer = await upsert(client, tenant, {"email": f"batch{i:02}@cafe.io"})
        for q in range(1 + i % 3):
            await _sell(client, tenant, product_id, customer["id"], q + 1)
    counts = {}
    for size in (3, 12):
        await gql(client, "{ __typename }", headers=tenant.headers)
        with count_statements() as counter:
            body = await gql(client, CUSTOMERS_WITH_ORDERS, {"n": size}, tenant.headers)
        assert "errors" not in body, body
        counts[size] = counter.count
    assert counts[3] == counts[12], counts
    by_email = {c["email"]: c for c in body["data"]["customers"]["nodes"]}
    three = by_email["batch02@cafe.io"]
    assert three["stats"] == {"orderCount": 0}  # paid but still open: not sold yet
    assert len(three["recentOrders"]) == 3
    assert three["orders"]["pageInfo"] == {"hasNextPage": True}
    assert [o["customer"]["email"] for o in three["orders"]["nodes"]] == ["batch02@cafe.io"] * 2


async def test_a_customers_spend_may_exceed_an_int(client, tenant: Tenant):
    product_id = await _untracked_product(client, tenant, 1_500_000_000)
    customer = await upsert(client, tenant, {"email": "whale@cafe.io"})
    for _ in range(2):
        order = await _sell(client, tenant, product_id, customer["id"], 1)
        done = await client.patch(
            f"/api/v1/orders/{order['id']}/status",
            json={"status": "completed"},
            headers=tenant.headers,
        )
        assert done.status_code == 200, done.text
    rest = await client.get(f"{CUSTOMERS}/{customer['id']}", headers=tenant.headers)
    assert rest.json()["data"]["stats"]["totalSpent"]["amount"] == 3_000_000_000
    body = await gql(
        client,
        "query($id: ID!) { customer(id: $id) { stats { totalSpent { amount } } } }",
        {"id": customer["id"]},
        tenant.headers,
    )
    assert body["data"]["customer"]["stats"]["totalSpent"] == {"amount": 3_000_000_000}

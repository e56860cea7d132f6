"""Catalog through REST and GraphQL: products, categories, modifier groups, price lists."""

from __future__ import annotations

import uuid
from types import SimpleNamespace
from typing import Any

import pytest

from elevatedpos.actions.catalog import create_category, create_modifier_group, create_product
from tests.conftest import Tenant, gql, session_reads

PRODUCTS = "/api/v1/products"


def money(amount: int) -> dict[str, Any]:
    return {"amount": amount, "currency": "AUD"}


async def post(client, tenant: Tenant, path: str, body: dict[str, Any]):
    return await client.post(path, json=body, headers=tenant.headers)


async def make_product(client, tenant: Tenant, **fields: Any) -> dict[str, Any]:
    body = {"name": "Latte", "sku": f"SKU-{uuid.uuid4().hex[:8]}", "price": money(450), **fields}
    response = await post(client, tenant, PRODUCTS, body)
    assert response.status_code == 201, response.text
    return response.json()["data"]


async def test_create_product_answers_the_full_resource(client, tenant: Tenant):
    category = (await post(client, tenant, "/api/v1/categories", {"name": "Coffee"})).json()["data"]
    group = (
        await post(
            client,
            tenant,
            "/api/v1/modifiers",
            {"name": "Milk", "options": [{"name": "Oat", "priceDelta": money(70)}]},
        )
    ).json()["data"]
    product = await make_product(
        client,
        tenant,
        description="Double shot",
        taxRate=1000,
        categoryId=category["id"],
        reorderPoint=4,
        modifierGroupIds=[group["id"]],
        variants=[
            {"name": "Small", "sku": "LAT-S-1"},
            {"name": "Large", "sku": "LAT-L-1", "price": money(550)},
        ],
    )
    assert product["price"] == money(450)
    assert product["status"] == "active"
    assert product["trackInventory"] is True
    assert product["categoryId"] == category["id"]
    assert product["modifierGroupIds"] == [group["id"]]
    assert [(v["name"], v["price"]["amount"]) for v in product["variants"]] == [
        ("Small", 450),
        ("Large", 550),
    ]
    assert product["version"] == 1
    assert product["createdAt"].endswith("Z")
    fetched = await client.get(f"{PRODUCTS}/{product['id']}", headers=tenant.headers)
    assert fetched.json()["data"] == product
    assert fetched.headers["etag"] == '"1"'


async def test_sku_is_unique_within_an_org_only(client, tenant: Tenant, make_tenant):
    await make_product(client, tenant, sku="FLAT-WHITE")
    again = await post(
        client, tenant, PRODUCTS, {"name": "X", "sku": "FLAT-WHITE", "price": money(1)}
    )
    assert again.status_code == 409
    assert again.json()["type"].endswith("/conflict")
    other = await make_tenant()
    await make_product(client, other, sku="FLAT-WHITE")


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"name": "Latte", "price": money(450)}, ["sku"]),
        ({"sku": "A", "price": money(450)}, ["name"]),
        ({"name": "Latte", "sku": "A"}, ["price"]),
        ({"name": "Latte", "sku": "A", "price": {"amount": "4.50"}}, ["price.amount"]),
        ({"name": "Latte", "sku": "A", "price": {"amount": 4.5}}, ["price.amount"]),
        ({"name": " ", "sku": "A", "price": money(450)}, ["name"]),
        ({"name": "L", "sku": "A", "price": money(-1)}, ["price.amount"]),
        ({"name": "L", "sku": "A", "price": {"amount": 1, "currency": "USD"}}, ["price.currency"]),
        ({"name": "L", "sku": "A", "price": money(1), "taxRate": 10001}, ["taxRate"]),
        ({"name": "L", "sku": "A", "price": money(1), "reorderPoint": -1}, ["reorderPoint"]),
        ({"name": "L", "sku": "A", "price": money(1), "colour": "red"}, ["colour"]),
        (
            {"name": "L", "sku": "A", "price": money(1), "categoryId": str(uuid.uuid4())},
            ["categoryId"],
        ),
        (
            {"name": "L", "sku": "A", "price": money(1), "modifierGroupIds": ["nope"]},
            ["modifierGroupIds.0"],
        ),
        (
            {"name": "L", "sku": "A", "price": money(1), "variants": [{"name": "S"}]},
            ["variants.0.sku"],
        ),
        (
            {
                "name": "L",
                "sku": "A",
                "price": money(1),
                "variants": [{"name": "S", "sku": "X"}, {"name": "M", "sku": "X"}],
            },
            ["variants.1.sku"],
        ),
    ],
)
async def test_invalid_products_are_422_naming_the_field(client, tenant: Tenant, body, fields):
    response = await post(client, tenant, PRODUCTS, body)
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == fields
    listed = await client.get(PRODUCTS, headers=tenant.headers)
    assert listed.json()["data"] == []


async def test_another_orgs_category_is_a_422_not_a_leak(client, tenant: Tenant, make_tenant):
    other = await make_tenant()
    theirs = (await post(client, other, "/api/v1/categories", {"name": "Secret"})).json()["data"]
    response = await post(
        client,
        tenant,
        PRODUCTS,
        {"name": "L", "sku": "A", "price": money(1), "categoryId": theirs["id"]},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "categoryId"


async def test_patch_with_if_match_and_etag(client, tenant: Tenant):
    product = await make_product(client, tenant, variants=[{"name": "S", "sku": "V-S"}])
    url = f"{PRODUCTS}/{product['id']}"
    keep = product["variants"][0]["id"]
    patched = await client.patch(
        url,
        json={
            "name": "Mocha",
            "price": money(500),
            "variants": [{"id": keep, "name": "Small", "sku": "V-S"}, {"name": "L", "sku": "V-L"}],
        },
        headers={**tenant.headers, "If-Match": '"1"'},
    )
    assert patched.status_code == 200, patched.text
    data = patched.json()["data"]
    assert data["name"] == "Mocha" and data["version"] == 2
    assert patched.headers["etag"] == '"2"'
    assert data["variants"][0]["id"] == keep
    assert [v["name"] for v in data["variants"]] == ["Small", "L"]
    stale = await client.patch(
        url, json={"name": "Stale"}, headers={**tenant.headers, "If-Match": '"1"'}
    )
    assert stale.status_code == 412
    assert (await client.get(url, headers=tenant.headers)).json()["data"]["name"] == "Mocha"


async def test_patch_sku_to_a_taken_one_is_409(client, tenant: Tenant):
    await make_product(client, tenant, sku="TAKEN")
    mine = await make_product(client, tenant)
    response = await client.patch(
        f"{PRODUCTS}/{mine['id']}", json={"sku": "TAKEN"}, headers=tenant.headers
    )
    assert response.status_code == 409


async def test_archive_is_a_soft_delete(client, tenant: Tenant):
    product = await make_product(client, tenant)
    url = f"{PRODUCTS}/{product['id']}"
    archived = await client.delete(url, headers=tenant.headers)
    assert archived.status_code == 200
    assert archived.json()["data"]["status"] == "archived"
    assert (await client.get(PRODUCTS, headers=tenant.headers)).json()["data"] == []
    listed = await client.get(PRODUCTS, params={"status": "archived"}, headers=tenant.headers)
    assert [p["id"] for p in listed.json()["data"]] == [product["id"]]
    assert (await client.get(url, headers=tenant.headers)).status_code == 200


async def test_filters_search_category_and_status(client, tenant: Tenant):
    coffee = (await post(client, tenant, "/api/v1/categories", {"name": "Coffee"})).json()["data"]
    latte = await make_product(
        client, tenant, name="Iced Latte", sku="ICE-1", categoryId=coffee["id"]
    )
    await make_product(client, tenant, name="Croissant", sku="BAKE-1")
    percent = await make_product(client, tenant, name="100% Juice", sku="J_1")

    async def names(**params: str) -> list[str]:
        response = await client.get(PRODUCTS, params=params, headers=tenant.headers)
        assert response.status_code == 200, response.text
        return [p["name"] for p in response.json()["data"]]

    assert await names(search="LATTE") == ["Iced Latte"]
    assert await names(search="bake") == ["Croissant"]
    assert await names(search="%") == [percent["name"]]
    assert await names(search="_") == [percent["name"]]
    assert await names(categoryId=coffee["id"]) == [latte["name"]]
    assert await names(categoryId=str(uuid.uuid4())) == []
    assert await names(categoryId="not-an-id") == []
    assert await names() == ["100% Juice", "Croissant", "Iced Latte"]
    bad = await client.get(PRODUCTS, params={"status": "deleted"}, headers=tenant.headers)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "status"


async def test_pages_hold_every_product_exactly_once_in_name_order(client, tenant: Tenant):
    for i in range(7):
        await make_product(client, tenant, name=f"Item {i % 3}")  # repeated names: id breaks ties
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        page = (await client.get(PRODUCTS, params=params, headers=tenant.headers)).json()
        seen += page["data"]
        cursor = page["meta"]["nextCursor"]
        if cursor is None:
            break
    assert len(seen) == 7 and len({p["id"] for p in seen}) == 7
    assert [(p["name"], p["id"]) for p in seen] == sorted((p["name"], p["id"]) for p in seen)


async def test_isolation_other_orgs_products_are_404(client, tenant: Tenant, make_tenant):
    other = await make_tenant()
    theirs = await make_product(client, other)
    for method in ("GET", "PATCH", "DELETE"):
        response = await client.request(
            method,
            f"{PRODUCTS}/{theirs['id']}",
            json={"name": "x"} if method == "PATCH" else None,
            headers=tenant.headers,
        )
        assert response.status_code == 404, method
    assert (await client.get(PRODUCTS, headers=tenant.headers)).json()["data"] == []
    body = await gql(
        client, "query($id: ID!) { node(id: $id) { id } }", {"id": theirs["id"]}, tenant.headers
    )
    assert body["data"]["node"] is None
    assert (await client.get(f"{PRODUCTS}/not-a-uuid", headers=tenant.headers)).status_code == 404


async def test_staff_reads_the_catalog_but_cannot_write_it(client, make_tenant):
    staff = await make_tenant(role="staff")
    assert (await client.get(PRODUCTS, headers=staff.headers)).status_code == 200
    for path, body in [
        (PRODUCTS, {"name": "L", "sku": "S", "price": money(1)}),
        ("/api/v1/categories", {"name": "C"}),
        ("/api/v1/modifiers", {"name": "M", "options": [{"name": "o"}]}),
    ]:
        response = await post(client, staff, path, body)
        assert response.status_code == 403, path
        assert response.json()["type"].endswith("/forbidden")
    assert (await client.get(PRODUCTS, headers=staff.headers)).json()["data"] == []


async def test_categories_with_parents_in_sort_order(client, tenant: Tenant):
    drinks = (
        await post(client, tenant, "/api/v1/categories", {"name": "Drinks", "sortOrder": 2})
    ).json()["data"]
    hot = (
        await post(
            client,
            tenant,
            "/api/v1/categories",
            {"name": "Hot", "parentId": drinks["id"], "sortOrder": 1},
        )
    ).json()["data"]
    await post(client, tenant, "/api/v1/categories", {"name": "Bakery", "sortOrder": 2})
    assert hot["parentId"] == drinks["id"]
    listed = (await client.get("/api/v1/categories", headers=tenant.headers)).json()["data"]
    assert [c["name"] for c in listed] == ["Hot", "Bakery", "Drinks"]
    bad = await post(
        client, tenant, "/api/v1/categories", {"name": "X", "parentId": str(uuid.uuid4())}
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "parentId"
    body = await gql(
        client, "{ categories { nodes { name parent { name } } } }", headers=tenant.headers
    )
    assert {"name": "Hot", "parent": {"name": "Drinks"}} in body["data"]["categories"]["nodes"]


async def test_modifier_groups_create_update_and_validate(client, tenant: Tenant):
    created = await post(
        client,
        tenant,
        "/api/v1/modifiers",
        {
            "name": "Milk",
            "minSelections": 0,
            "maxSelections": 1,
            "options": [{"name": "Oat", "priceDelta": money(70)}, {"name": "Skim"}],
        },
    )
    assert created.status_code == 201
    group = created.json()["data"]
    assert [(o["name"], o["priceDelta"]["amount"]) for o in group["options"]] == [
        ("Oat", 70),
        ("Skim", 0),
    ]
    oat = group["options"][0]["id"]
    updated = await client.patch(
        f"/api/v1/modifiers/{group['id']}",
        json={
            "maxSelections": 2,
            "options": [{"id": oat, "name": "Oat milk", "priceDelta": money(80)}],
        },
        headers={**tenant.headers, "If-Match": '"1"'},
    )
    assert updated.status_code == 200, updated.text
    data = updated.json()["data"]
    assert data["maxSelections"] == 2 and data["version"] == 2
    assert [(o["id"], o["name"]) for o in data["options"]] == [(oat, "Oat milk")]
    for body, field in [
        ({"name": "X", "options": []}, "options"),
        (
            {"name": "X", "minSelections": 2, "maxSelections": 1, "options": [{"name": "a"}]},
            "minSelections",
        ),
        ({"name": "X", "maxSelections": 0, "options": [{"name": "a"}]}, "maxSelections"),
    ]:
        response = await post(client, tenant, "/api/v1/modifiers", body)
        assert response.status_code == 422, body
        assert response.json()["errors"][0]["field"] == field


async def test_price_lists_validate_every_reference(client, tenant: Tenant, make_tenant):
    product = await make_product(client, tenant, variants=[{"name": "S", "sku": "PL-S"}])
    variant = product["variants"][0]["id"]
    ok = await post(
        client,
        tenant,
        "/api/v1/price-lists",
        {
            "name": "Airport",
            "locationIds": [str(tenant.location_id)],
            "prices": [{"productId": product["id"], "variantId": variant, "price": money(600)}],
        },
    )
    assert ok.status_code == 201, ok.text
    assert ok.json()["data"]["prices"] == [
        {"productId": product["id"], "variantId": variant, "price": money(600)}
    ]
    other = await make_tenant()
    bad = await post(
        client,
        tenant,
        "/api/v1/price-lists",
        {
            "name": "Bad",
            "locationIds": [str(other.location_id)],
            "prices": [
                {"productId": str(uuid.uuid4()), "price": money(1)},
                {"productId": product["id"], "variantId": str(uuid.uuid4()), "price": money(1)},
            ],
        },
    )
    assert bad.status_code == 422
    assert sorted(e["field"] for e in bad.json()["errors"]) == [
        "locationIds.0",
        "prices.0.productId",
        "prices.1.variantId",
    ]
    # A lone value where a list belongs is refused, not taken as a list of one.
    lone = await post(
        client,
        tenant,
        "/api/v1/price-lists",
        {
            "name": "Lone",
            "locationIds": str(tenant.location_id),
            "prices": [{"productId": product["id"], "variantId": [variant], "price": money(1)}],
        },
    )
    assert lone.status_code == 422, lone.text
    assert lone.json()["errors"] == [
        {"field": "locationIds", "message": "locationIds must be a list"},
        {"field": "prices.0.variantId", "message": "prices.0.variantId must be a string id"},
    ]
    listed = (await client.get("/api/v1/price-lists", headers=tenant.headers)).json()["data"]
    assert [pl["name"] for pl in listed] == ["Airport"]


async def test_graphql_product_mutations_mirror_rest(client, tenant: Tenant):
    created = await gql(
        client,
        """mutation($input: CreateProductInput!) {
             createProduct(input: $input) { id status price { amount currency } version }
           }""",
        {"input": {"name": "Chai", "sku": "CHAI", "price": {"amount": 500}}},
        tenant.headers,
    )
    product = created["data"]["createProduct"]
    assert product["status"] == "ACTIVE" and product["price"] == money(500)
    stale = await gql(
        client,
        """mutation($id: ID!) {
             updateProduct(id: $id, input: {name: "Dirty chai"}, expectedVersion: 7) { id }
           }""",
        {"id": product["id"]},
        tenant.headers,
    )
    assert stale["errors"][0]["extensions"]["code"] == "PRECONDITION_FAILED"
    dup = await gql(
        client,
        'mutation { createProduct(input: {name: "x", sku: "CHAI", price: {amount: 1}}) { id } }',
        headers=tenant.headers,
    )
    assert dup["errors"][0]["extensions"] == {"code": "CONFLICT", "status": 409}
    archived = await gql(
        client,
        "mutation($id: ID!) { archiveProduct(id: $id) { status } }",
        {"id": product["id"]},
        tenant.headers,
    )
    assert archived["data"]["archiveProduct"]["status"] == "ARCHIVED"


PAGE = """
query($n: Int!) {
  products(first: $n) {
    edges {
      cursor
      node {
        id name sku price { amount currency }
        category { name }
        variants { id name price { amount } }
        modifierGroups { name options { name priceDelta { amount } } }
        stockLevels { onHand reorderPoint }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""
DEEPER = """
query($n: Int!) {
  products(first: $n) {
    nodes {
      category { name parent { name } }
      variants { sku }
      modifierGroupIds
      stockLevels { onHand location { name } product { sku } }
    }
  }
}
"""


async def test_a_page_of_plain_products_is_one_statement(
    client, tenant: Tenant, runtime, count_statements
):
    """Products without variants or modifier groups: the page's own statement says so, and
    brings their categories along, so nothing else is loaded (REST and GraphQL alike)."""
    drinks = await create_category(
        runtime.db, tenant.org_id, SimpleNamespace(name="Drinks", parent_id=None, sort_order=0)
    )
    for i in range(12):
        created = await post(
            client,
            tenant,
            PRODUCTS,
            {
                "name": f"Plain {i:02}",
                "sku": f"PL{i}",
                "price": {"amount": 300 + i},
                "categoryId": str(drinks.id) if i % 2 else None,
            },
        )
        assert created.status_code == 201, created.text
    await gql(client, "{ __typename }", headers=tenant.headers)  # org limits cached
    with count_statements() as counter:
        body = await gql(
            client,
            PAGE.replace("stockLevels { onHand reorderPoint }", ""),
            {"n": 10},
            tenant.headers,
        )
    assert "errors" not in body, body
    nodes = [e["node"] for e in body["data"]["products"]["edges"]]
    assert [n["category"] for n in nodes] == [None, {"name": "Drinks"}] * 5
    assert all(n["variants"] == [] and n["modifierGroups"] == [] for n in nodes)
    # the page, after the session's check
    assert counter.count == session_reads(runtime) + 1, counter.statements
    with count_statements() as counter:
        listed = await client.get(PRODUCTS, params={"limit": "10"}, headers=tenant.headers)
    assert listed.status_code == 200
    assert [p["variants"] for p in listed.json()["data"]] == [[]] * 10
    assert [p["categoryId"] for p in listed.json()["data"]] == [None, str(drinks.id)] * 5
    assert counter.count == session_reads(runtime) + 1, counter.count


async def _hundred_products(db, tenant: Tenant) -> None:
    parent = await create_category(
        db, tenant.org_id, SimpleNamespace(name="Drinks", parent_id=None, sort_order=0)
    )
    category = await create_category(
        db, tenant.org_id, SimpleNamespace(name="Hot", parent_id=str(parent.id), sort_order=0)
    )
    option = SimpleNamespace(
        id=None, name="Oat", price_delta=SimpleNamespace(amount=70, currency="AUD")
    )
    group = await create_modifier_group(
        db,
        tenant.org_id,
        SimpleNamespace(name="Milk", options=[option], min_selections=0, max_selections=1),
    )
    for i in range(100):
        variant = SimpleNamespace(id=None, name="S", sku=f"P{i}-S", price=None)
        await create_product(
            db,
            tenant.org_id,
            SimpleNamespace(
                name=f"Product {i:03}",
                sku=f"P{i}",
                description="",
                price=SimpleNamespace(amount=100 + i, currency="AUD"),
                tax_rate=1000,
                category_id=str(category.id),
                track_inventory=True,
                reorder_point=0,
                variants=[variant],
                modifier_group_ids=[str(group.id)],
            ),
        )


async def test_a_products_page_runs_a_fixed_number_of_statements(
    client, tenant: Tenant, runtime, count_statements
):
    await _hundred_products(runtime.db, tenant)
    products = (await client.get(PRODUCTS, params={"limit": "100"}, headers=tenant.headers)).json()
    for product in products["data"][:20]:  # stock at two locations for a fifth of the page
        for delta in (3, 4):
            adjusted = await post(
                client,
                tenant,
                "/api/v1/inventory/adjust",
                {
                    "productId": product["id"],
                    "variantId": product["variants"][0]["id"],
                    "locationId": str(tenant.location_id),
                    "delta": delta,
                    "reason": "received",
                },
            )
            assert adjusted.status_code == 200, adjusted.text
    for query, expected in ((PAGE, session_reads(runtime) + 5), (DEEPER, None)):
        counts = {}
        for size in (10, 100):
            # keeps the org's rate limits cached, so their lookup never lands in a count
            await gql(client, "{ __typename }", headers=tenant.headers)
            with count_statements() as counter:
                body = await gql(client, query, {"n": size}, tenant.headers)
            assert "errors" not in body, body
            counts[size] = counter.count
        assert counts[10] == counts[100], (query, counts)
        if expected is not None:
            # the session's check (PostgreSQL without Redis), then the page itself in 5:
            # products with categories, variants, modifier groups, options, stock levels
            assert counts[100] == expected, counts
    body = await gql(client, PAGE, {"n": 1}, tenant.headers)
    node = body["data"]["products"]["edges"][0]["node"]
    assert node["category"] == {"name": "Hot"}
    assert node["variants"] and node["modifierGroups"]
    assert node["modifierGroups"] == [
        {"name": "Milk", "options": [{"name": "Oat", "priceDelta": {"amount": 70}}]}
    ]
    assert node["stockLevels"] == [{"onHand": 7, "reorderPoint": 0}]

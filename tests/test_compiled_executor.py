"""The compiled executor answers exactly what graphql-core's `execute` answers, errors included.

Every operation of the REST table runs through both executors against the same data; reads
on one tenant (results must be identical), successful writes on two tenants seeded the same
way (results must be identical once ids, timestamps, tokens and emails are masked). Errors
are compared in order, with message, path, locations, extensions and the original error.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from graphql import DocumentNode, ExecutionResult, build_schema, execute, parse, validate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from elevatedpos.app import GRAPHQL_SCHEMA, OPERATIONS
from elevatedpos.auth.scopes import Principal
from elevatedpos.auth.sessions import authenticate
from elevatedpos.db.models import AuthSession
from elevatedpos.db.types import utcnow
from elevatedpos.executor import PlanCache, compile_operation, execute_document
from elevatedpos.runtime import Runtime
from elevatedpos.schema.context import Context
from tests.conftest import Tenant, TenantFactory

API = "/api/v1"


def money(amount: int) -> dict[str, Any]:
    return {"amount": amount, "currency": "AUD"}


@dataclass
class Seeded:
    """A tenant with a small catalog, two locations, stock and movements."""

    tenant: Tenant
    principal: Principal
    category_id: str
    child_category_id: str
    group_id: str
    product_ids: list[str]
    variant_id: str
    second_location_id: str
    campaign_id: str
    customer_id: str = ""
    order_id: str = ""  # open, part paid, with two open card authorizations
    payment_id: str = ""
    payment2_id: str = ""
    order2_id: str = ""  # completed
    order3_id: str = ""  # open, unpaid
    program_id: str = ""  # the active loyalty program; the customer holds 120 points
    reward_id: str = ""  # costs 50
    automation_id: str = ""  # on order.completed over $20: 5 points and a tag
    integration_id: str = ""
    webhook_id: str = ""  # to 127.0.0.1, which deliveries refuse (private)
    grant_id: str = ""  # the tenant's own grant of the integration's app


async def _post(client: httpx.AsyncClient, tenant: Tenant, path: str, body: Any) -> Any:
    response = await client.post(f"{API}{path}", json=body, headers=tenant.headers)
    assert response.status_code in (200, 201), response.text
    return response.json()["data"]


async def seed(client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant) -> Seeded:
    """The same catalog for any tenant, created through the REST API."""
    category = await _post(client, tenant, "/categories", {"name": "Coffee", "sortOrder": 1})
    child = await _post(
        client, tenant, "/categories", {"name": "Espresso", "parentId": category["id"]}
    )
    group = await _post(
        client,
        tenant,
        "/modifiers",
        {"name": "Milk", "options": [{"name": "Oat", "priceDelta": money(70)}, {"name": "Soy"}]},
    )
    latte = await _post(
        client,
        tenant,
        "/products",
        {
            "name": "Latte",
            "sku": "LAT",
            "price": money(450),
            "categoryId": child["id"],
            "reorderPoint": 5,
            "modifierGroupIds": [group["id"]],
            "variants": [{"name": "Small", "sku": "LAT-S"}, {"name": "Large", "sku": "LAT-L"}],
        },
    )
    mocha = await _post(
        client,
        tenant,
        "/products",
        {"name": "Mocha", "sku": "MOC", "price": money(500), "categoryId": category["id"]},
    )
    tea = await _post(
        client, tenant, "/products", {"name": "Tea", "sku": "TEA", "price": money(300)}
    )
    store = await _post(client, tenant, "/locations", {"name": "Airport"})
    location = str(tenant.location_id)
    for product, delta in ((mocha, 20), (tea, 3)):
        await _post(
            client,
            tenant,
            "/inventory/adjust",
            {
                "productId": product["id"],
                "locationId": location,
                "delta": delta,
                "reason": "received",
            },
        )
    await _post(
        client,
        tenant,
        "/inventory/adjust",
        {
            "productId": latte["id"],
            "variantId": latte["variants"][0]["id"],
            "locationId": location,
            "delta": 8,
            "reason": "received",
        },
    )
    await _post(
        client,
        tenant,
        "/inventory/transfer",
        {
            "productId": mocha["id"],
            "fromLocationId": location,
            "toLocationId": store["id"],
            "quantity": 15,
        },
    )
    await _post(
        client,
        tenant,
        "/price-lists",
        {
            "name": "Airport prices",
            "locationIds": [store["id"]],
            "prices": [{"productId": mocha["id"], "price": money(650)}],
        },
    )
    campaign = await _post(
        client,
        tenant,
        "/campaigns",
        {
            "name": "Latte love",
            "type": "discount",
            "status": "active",
            "code": "Latte10",
            "rules": {
                "percentOff": 10,
                "minSubtotal": money(500),
                "productIds": [latte["id"]],
                "categoryIds": [category["id"]],
            },
            "startsAt": "2026-01-01T00:00:00Z",
        },
    )
    customer = await _post(
        client, tenant, "/customers", {"email": "regular@example.com", "firstName": "Ada"}
    )
    order = await _post(
        client,
        tenant,
        "/orders",
        {
            "locationId": location,
            "customerId": customer["id"],
            "campaignCode": "latte10",
            "lineItems": [
                {
                    "productId": latte["id"],
                    "variantId": latte["variants"][0]["id"],
                    "quantity": 2,
                    "modifierOptionIds": [group["options"][0]["id"]],
                },
                {"productId": mocha["id"], "quantity": 1},
            ],
        },
    )
    await _post(
        client,
        tenant,
        "/payments",
        {"orderId": order["id"], "amount": money(300), "method": "cash"},
    )
    holds = [
        await _post(
            client,
            tenant,
            "/payments",
            {"orderId": order["id"], "amount": money(amount), "method": "card", "capture": False},
        )
        for amount in (200, 100)
    ]
    sold = await _post(
        client, tenant, "/orders", {"locationId": location, "lineItems": [{"productId": tea["id"]}]}
    )
    await _post(
        client,
        tenant,
        "/payments",
        {"orderId": sold["id"], "amount": sold["total"], "method": "cash"},
    )
    completed = await client.patch(
        f"{API}/orders/{sold['id']}/status", json={"status": "completed"}, headers=tenant.headers
    )
    assert completed.status_code == 200, completed.text
    unpaid = await _post(
        client,
        tenant,
        "/orders",
        {"locationId": location, "lineItems": [{"productId": mocha["id"], "quantity": 1}]},
    )
    program = await _post(
        client,
        tenant,
        "/loyalty/programs",
        {
            "name": "Coffee Club",
            "pointsPerDollar": 2,
            "tiers": [{"name": "Silver", "minPoints": 100}],
            "rewards": [{"name": "Free coffee", "pointsCost": 50, "discount": money(450)}],
        },
    )
    await _post(
        client,
        tenant,
        "/loyalty/points/accrue",
        {"customerId": customer["id"], "points": 120, "reason": "welcome"},
    )
    automation = await _post(
        client,
        tenant,
        "/automations",
        {
            "name": "Big orders",
            "trigger": "order.completed",
            "conditions": [{"field": "data.total.amount", "op": "gt", "value": 2000}],
            "actions": [
                {"type": "accrue_points", "params": {"points": 5}},
                {"type": "tag_customer", "params": {"tag": "big"}},
            ],
        },
    )
    integration = await _post(
        client, tenant, "/integrations", {"name": "Books", "provider": "xero"}
    )
    webhook = await _post(
        client,
        tenant,
        f"/integrations/{integration['id']}/webhooks",
        {"url": "http://127.0.0.1:9/hooks", "events": ["order.created", "order.completed"]},
    )
    async with runtime.db.write() as session:  # as the OAuth flow would leave it
        grant = AuthSession(
            id=uuid.uuid4(),
            org_id=tenant.org_id,
            user_id=tenant.user_id,
            expires_at=utcnow() + timedelta(days=30),
            client_id=integration["clientId"],
            scope="catalog:read",
        )
        session.add(grant)
    return Seeded(
        tenant=tenant,
        principal=await authenticate(runtime, tenant.access_token),
        category_id=category["id"],
        child_category_id=child["id"],
        group_id=group["id"],
        product_ids=[latte["id"], mocha["id"], tea["id"]],
        variant_id=latte["variants"][0]["id"],
        second_location_id=store["id"],
        campaign_id=campaign["id"],
        customer_id=customer["id"],
        order_id=order["id"],
        payment_id=holds[0]["id"],
        payment2_id=holds[1]["id"],
        order2_id=sold["id"],
        order3_id=unpaid["id"],
        program_id=program["id"],
        reward_id=program["rewards"][0]["id"],
        automation_id=automation["id"],
        integration_id=integration["id"],
        webhook_id=webhook["id"],
        grant_id=str(grant.id),
    )


@pytest.fixture
async def seeded(client: httpx.AsyncClient, runtime: Runtime, make_tenant: TenantFactory) -> Seeded:
    return await seed(client, runtime, await make_tenant())


def context(runtime: Runtime, principal: Principal | None) -> Context:
    return Context(runtime=runtime, principal=principal, request_id="test", client_ip="10.9.9.9")


async def run_reference(
    runtime: Runtime,
    principal: Principal | None,
    document: DocumentNode,
    name: str | None,
    variables: dict[str, Any],
) -> ExecutionResult:
    result: Any = execute(
        GRAPHQL_SCHEMA,
        document,
        context_value=context(runtime, principal),
        variable_values=variables,
        operation_name=name,
    )
    return await result if not isinstance(result, ExecutionResult) else result


async def run_compiled(
    runtime: Runtime,
    principal: Principal | None,
    document: DocumentNode,
    name: str | None,
    variables: dict[str, Any],
) -> ExecutionResult:
    plan = compile_operation(GRAPHQL_SCHEMA, document, name)
    assert plan is not None, f"{name} fell back to graphql-core"
    result: Any = plan.execute(context(runtime, principal), variables)
    return await result if not isinstance(result, ExecutionResult) else result


def shape(result: ExecutionResult) -> dict[str, Any]:
    """Everything a client or the REST bridge can see of a result."""
    return {
        "data": result.data,
        "errors": [
            {
                "message": e.message,
                "path": e.path,
                "locations": e.formatted.get("locations"),
                "extensions": e.extensions,
                "original": (type(e.original_error).__name__, str(e.original_error))
                if e.original_error is not None
                else None,
            }
            for e in result.errors or ()
        ],
    }


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_SECRETS = frozenset({"clientId", "clientSecret", "secret"})
_MASKS = (
    (re.compile(r"\d{4}-\d\d-\d\dT[\d:.]+Z"), "<time>"),
    (re.compile(r"[\w-]+\.[\w-]+\.[\w-]+"), "<token>"),
    (re.compile(r"[\w.+-]+@example\.com"), "<email>"),
    (re.compile(r"owner-[0-9a-f]{12}"), "<owner>"),  # the fixture names owners by their email
)


def masked(value: Any, ids: dict[str, str] | None = None) -> Any:
    """Ids numbered by first appearance; timestamps, tokens, emails and owner names hidden."""
    ids = {} if ids is None else ids
    if isinstance(value, dict):  # secrets made for each twin differ: hidden
        return {k: "<secret>" if k in _SECRETS else masked(v, ids) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [masked(v, ids) for v in value]
    if isinstance(value, str):
        value = _UUID.sub(lambda m: ids.setdefault(m.group(0), f"<id{len(ids)}>"), value)
        for pattern, mask in _MASKS:
            value = pattern.sub(mask, value)
    return value


async def assert_same(
    runtime: Runtime,
    principal: Principal | None,
    name: str,
    variables: dict[str, Any],
    document: DocumentNode | None = None,
) -> dict[str, Any]:
    """Both executors on the same data; the shared shape is returned for further checks."""
    document = document or OPERATIONS[name].document
    expected = shape(await run_reference(runtime, principal, document, name, variables))
    got = shape(await run_compiled(runtime, principal, document, name, variables))
    assert got == expected
    return got


def rest_reads(s: Seeded, cursor: str) -> list[tuple[str, dict[str, Any]]]:
    """Every read operation of the REST table, with variables that find something."""
    return [
        ("Me", {}),
        ("Products", {}),
        ("Products", {"after": cursor}),
        ("Products", {"filter": {"search": "at", "categoryId": s.child_category_id}}),
        ("Products", {"filter": {"status": "ARCHIVED"}}),
        ("Product", {"id": s.product_ids[0]}),
        ("Categories", {}),
        ("ModifierGroups", {"first": 1}),
        ("PriceLists", {}),
        ("InventoryLevels", {}),
        ("InventoryLevels", {"filter": {"locationId": s.second_location_id}}),
        ("InventoryMovements", {"filter": {"type": "TRANSFER_IN"}}),
        ("InventoryAlerts", {}),
        ("Locations", {}),
        ("Location", {"id": s.second_location_id}),
        ("Campaigns", {}),
        ("Campaigns", {"filter": {"status": "ACTIVE", "type": "DISCOUNT"}}),
        ("Campaign", {"id": s.campaign_id}),
        ("CampaignStats", {"id": s.campaign_id}),
        ("Customers", {}),
        ("Customers", {"filter": {"search": "ada"}}),
        ("Customer", {"id": s.customer_id}),
        ("CustomerOrders", {"id": s.customer_id, "first": 1}),
        ("Orders", {}),
        ("Orders", {"filter": {"status": "OPEN", "customerId": s.customer_id}}),
        ("Order", {"id": s.order_id}),
        ("LoyaltyPrograms", {}),
        ("Automations", {}),
        ("Integrations", {}),
        ("Webhooks", {"id": s.integration_id}),
        ("IntegrationGrants", {"id": s.integration_id}),
        ("Automation", {"id": s.automation_id}),
        ("LoyaltyMember", {"customerId": s.customer_id}),
        ("LoyaltyMember", {"customerId": s.customer_id, "programId": s.program_id}),
        (
            "PreviewOrder",
            {
                "input": {
                    "locationId": str(s.tenant.location_id),
                    "campaignCode": "LATTE10",
                    "lineItems": [
                        {"productId": s.product_ids[0], "variantId": s.variant_id, "quantity": 3}
                    ],
                }
            },
        ),
        ("Payment", {"id": s.payment_id}),
        ("PaymentMethods", {}),
    ]


async def test_every_read_of_the_rest_table_matches(runtime: Runtime, seeded: Seeded) -> None:
    s = seeded
    p = s.principal
    first_page = await assert_same(runtime, p, "Products", {"first": 2})
    cursor = first_page["data"]["products"]["pageInfo"]["endCursor"]
    for name, variables in rest_reads(s, cursor):
        got = await assert_same(runtime, p, name, variables)
        assert got["errors"] == [], (name, got["errors"])
    assert len(first_page["data"]["products"]["nodes"]) == 2


async def test_the_rest_plans_write_what_the_bridge_made_of_graphql_output(
    runtime: Runtime, seeded: Seeded
) -> None:
    """The REST table's plans write enum names in lower case themselves: their output is
    graphql-core's after the bridge's transform, read by read."""
    s = seeded
    first_page = await run_reference(runtime, s.principal, OPERATIONS["Products"].document,
                                     "Products", {"first": 2})  # fmt: skip
    assert first_page.data is not None
    cursor = first_page.data["products"]["pageInfo"]["endCursor"]
    lowered = 0
    for name, variables in rest_reads(s, cursor):
        op = OPERATIONS[name]
        assert op.plan is not None, name
        expected = await run_reference(runtime, s.principal, op.document, name, variables)
        assert expected.errors is None, (name, expected.errors)
        want = op.transform(expected.data) if op.transform is not None else expected.data
        result: Any = op.plan.execute(context(runtime, s.principal), variables)
        got = await result if not isinstance(result, ExecutionResult) else result
        assert got.errors is None and got.data == want, name
        lowered += op.transform is not None
    assert lowered >= 10  # most reads carry an enum (statuses, roles, types)


async def test_a_rest_variant_graphql_core_runs_is_reshaped_too(
    runtime: Runtime, seeded: Seeded
) -> None:
    op = OPERATIONS["Me"]
    assert op.transform is not None
    plan = compile_operation(
        GRAPHQL_SCHEMA, op.document, "Me", enum_case=str.lower, fallback_output=op.transform
    )
    assert plan is not None
    compiled: Any = plan.execute(context(runtime, seeded.principal), {})
    plan._variants[()] = None  # as when the compiler cannot cover a variant
    fallback: Any = plan.execute(context(runtime, seeded.principal), {})
    for result in (compiled, fallback):
        done = await result if not isinstance(result, ExecutionResult) else result
        assert done.errors is None
        assert done.data["me"]["role"] == "owner"


async def test_read_errors_match(runtime: Runtime, seeded: Seeded) -> None:
    s = seeded
    cases: list[tuple[str, dict[str, Any], Principal | None, str | None]] = [
        ("Product", {"id": str(uuid.uuid4())}, s.principal, "NOT_FOUND"),
        ("Product", {"id": "not-a-uuid"}, s.principal, "NOT_FOUND"),
        ("Location", {"id": str(uuid.uuid4())}, s.principal, "NOT_FOUND"),
        ("Campaign", {"id": str(uuid.uuid4())}, s.principal, "NOT_FOUND"),
        ("CampaignStats", {"id": "not-a-uuid"}, s.principal, "NOT_FOUND"),
        ("Products", {"first": 0}, s.principal, "VALIDATION"),
        ("Products", {"after": "garbage"}, s.principal, "VALIDATION"),
        ("Me", {}, None, "UNAUTHORIZED"),
        ("Products", {"first": "ten"}, s.principal, None),  # a variable coercion error
        ("Product", {}, s.principal, None),  # a missing required variable
    ]
    for name, variables, principal, code in cases:
        got = await assert_same(runtime, principal, name, variables)
        assert got["errors"], (name, variables)
        assert got["errors"][0]["extensions"].get("code") == code, got["errors"]


async def test_write_errors_match_without_side_effects(
    runtime: Runtime, seeded: Seeded, make_tenant: TenantFactory
) -> None:
    s, owner = seeded, seeded.principal
    staff = await authenticate(runtime, (await make_tenant(role="staff")).access_token)
    product_id = s.product_ids[1]
    here, there = str(s.tenant.location_id), s.second_location_id
    product = {"name": "X", "sku": "X1", "price": money(1)}
    stock = {"productId": product_id, "locationId": here, "delta": -1000, "reason": "DAMAGED"}
    move = {"productId": product_id, "fromLocationId": there, "toLocationId": there, "quantity": 1}
    stale = {"id": product_id, "input": {"name": "Z"}, "expectedVersion": 9}
    campaign = {"name": "C", "type": "OFFER", "rules": {"percentOff": 5}}
    ended = {"id": s.campaign_id, "input": {"status": "ENDED"}, "expectedVersion": 9}
    cases: list[tuple[str, dict[str, Any], Principal, str]] = [
        ("CreateProduct", {"input": product}, staff, "FORBIDDEN"),
        ("CreateLocation", {"input": {"name": "Nope"}}, staff, "FORBIDDEN"),
        ("CreateProduct", {"input": {**product, "price": money(-1)}}, owner, "VALIDATION"),
        ("CreateProduct", {"input": {**product, "sku": "LAT"}}, owner, "CONFLICT"),
        ("UpdateProduct", stale, owner, "PRECONDITION_FAILED"),
        ("ArchiveProduct", {"id": str(uuid.uuid4())}, owner, "NOT_FOUND"),
        ("AdjustInventory", {"input": stock}, owner, "CONFLICT"),
        ("TransferInventory", {"input": move}, owner, "VALIDATION"),
        ("UpdateModifierGroup", {"id": str(uuid.uuid4()), "input": {}}, owner, "NOT_FOUND"),
        ("CreateCampaign", {"input": campaign}, staff, "FORBIDDEN"),
        ("CreateCampaign", {"input": {**campaign, "code": "LATTE10"}}, owner, "CONFLICT"),
        ("CreateCampaign", {"input": {**campaign, "rules": {}}}, owner, "VALIDATION"),
        ("UpdateCampaign", ended, owner, "PRECONDITION_FAILED"),
        ("Login", {"input": {"email": s.tenant.email, "password": "x"}}, owner, "UNAUTHORIZED"),
        ("RefreshToken", {"input": {"refreshToken": "nope"}}, owner, "UNAUTHORIZED"),
        ("CreateLoyaltyProgram", {"input": {"name": "Two", "pointsPerDollar": 1}}, owner,
         "CONFLICT"),
        ("RedeemPoints", {"input": {"customerId": s.customer_id, "rewardId": "nope"}}, owner,
         "VALIDATION"),
        ("AccruePoints", {"input": {"customerId": s.customer_id, "points": 0, "reason": "x"}},
         owner, "VALIDATION"),
    ]  # fmt: skip
    for name, variables, principal, code in cases:
        got = await assert_same(runtime, principal, name, variables)
        assert got["data"] is None, (name, got)
        assert got["errors"][0]["extensions"]["code"] == code, (name, got["errors"])


def _writes(s: Seeded) -> list[tuple[str, dict[str, Any]]]:
    """Successful writes, with each tenant's own ids: run in this order on both twins."""
    latte, mocha, tea = s.product_ids
    location = str(s.tenant.location_id)
    return [
        ("CreateCategory", {"input": {"name": "Tea", "parentId": s.category_id}}),
        (
            "CreateProduct",
            {
                "input": {
                    "name": "Chai",
                    "sku": "CHAI",
                    "price": money(420),
                    "categoryId": s.category_id,
                    "variants": [{"name": "Small", "sku": "CHAI-S"}],
                    "modifierGroupIds": [s.group_id],
                }
            },
        ),
        ("UpdateProduct", {"id": latte, "input": {"name": "Caffe Latte"}, "expectedVersion": 1}),
        ("ArchiveProduct", {"id": tea}),
        ("CreateModifierGroup", {"input": {"name": "Size", "options": [{"name": "Big"}]}}),
        ("UpdateModifierGroup", {"id": s.group_id, "input": {"maxSelections": 2}}),
        (
            "CreatePriceList",
            {
                "input": {
                    "name": "Happy hour",
                    "locationIds": [location],
                    "prices": [{"productId": latte, "variantId": s.variant_id, "price": money(1)}],
                }
            },
        ),
        (
            "AdjustInventory",
            {
                "input": {
                    "productId": mocha,
                    "locationId": location,
                    "delta": -2,
                    "reason": "DAMAGED",
                    "note": "dropped",
                }
            },
        ),
        (
            "TransferInventory",
            {
                "input": {
                    "productId": mocha,
                    "fromLocationId": s.second_location_id,
                    "toLocationId": location,
                    "quantity": 5,
                }
            },
        ),
        ("CreateLocation", {"input": {"name": "Harbour", "timezone": "Australia/Perth"}}),
        ("UpdateLocation", {"id": s.second_location_id, "input": {"name": "Terminal 2"}}),
        (
            "CreateCampaign",
            {
                "input": {
                    "name": "Mocha morning",
                    "type": "PROMOTION",
                    "code": "MOCHA",
                    "rules": {"amountOff": money(50), "productIds": [mocha]},
                    "endsAt": "2027-01-01T00:00:00Z",
                }
            },
        ),
        (
            "UpdateCampaign",
            {
                "id": s.campaign_id,
                "input": {"status": "PAUSED", "code": None, "rules": {"percentOff": 20}},
                "expectedVersion": 1,
            },
        ),
        ("UpsertCustomer", {"input": {"email": "new@example.com", "tags": ["vip"]}}),
        (
            "UpdateCustomer",
            {"id": s.customer_id, "input": {"lastName": "Lovelace"}, "expectedVersion": 1},
        ),
        (
            "CreateOrder",
            {
                "input": {
                    "locationId": location,
                    "customerId": s.customer_id,
                    "lineItems": [{"productId": latte, "variantId": s.variant_id, "quantity": 1}],
                    "note": "table 4",
                }
            },
        ),
        (
            "CreatePayment",
            {"input": {"orderId": s.order_id, "amount": money(100), "method": "CASH"}},
        ),
        ("CapturePayment", {"id": s.payment_id, "input": {"amount": money(150)}}),
        ("VoidPayment", {"id": s.payment2_id}),
        ("RefundOrder", {"id": s.order2_id, "input": {"reason": "cold", "amount": money(100)}}),
        (
            "UpdateOrderStatus",
            {
                "id": s.order3_id,
                "input": {"status": "VOIDED", "note": "left"},
                "expectedVersion": 1,
            },
        ),
        (
            "CreateLoyaltyProgram",
            {"input": {"name": "Old club", "pointsPerDollar": 1, "status": "ARCHIVED"}},
        ),
        ("AccruePoints", {"input": {"customerId": s.customer_id, "points": 7, "reason": "x"}}),
        ("RedeemPoints", {"input": {"customerId": s.customer_id, "rewardId": s.reward_id}}),
        (
            "CreateAutomation",
            {
                "input": {
                    "name": "Welcome",
                    "trigger": "customer.created",
                    "actions": [{"type": "TAG_CUSTOMER", "params": {"tag": "new"}}],
                }
            },
        ),
        (
            "UpdateAutomation",
            {"id": s.automation_id, "input": {"enabled": False}, "expectedVersion": 1},
        ),
        (
            "TriggerAutomations",
            {
                "input": {
                    "event": "customer.created",
                    "payload": {"id": s.customer_id, "email": "regular@example.com"},
                }
            },
        ),
        ("DeleteAutomation", {"id": s.automation_id}),
        (
            "InstallIntegration",
            {"input": {"name": "Shop", "provider": "shopify", "redirectUris": ["https://a.b/c"]}},
        ),
        (
            "CreateWebhook",
            {"id": s.integration_id, "input": {"url": "https://h.example/x", "events": ["*"]}},
        ),
        ("TestWebhooks", {"id": s.integration_id, "input": {"webhookId": s.webhook_id}}),
        ("RevokeIntegrationGrant", {"id": s.integration_id, "grantId": s.grant_id}),
        ("UninstallIntegration", {"id": s.integration_id}),
        ("Login", {"input": {"email": s.tenant.email, "password": "correct-horse-battery"}}),
        ("RefreshToken", {"input": {"refreshToken": s.tenant.refresh_token}}),
        ("Logout", {}),
    ]


async def test_every_write_of_the_rest_table_matches_on_twin_tenants(
    client: httpx.AsyncClient, runtime: Runtime, make_tenant: TenantFactory
) -> None:
    reference = await seed(client, runtime, await make_tenant())
    compiled = await seed(client, runtime, await make_tenant())
    for (name, ref_vars), (_, new_vars) in zip(_writes(reference), _writes(compiled), strict=True):
        document = OPERATIONS[name].document
        expected = shape(
            await run_reference(runtime, reference.principal, document, name, ref_vars)
        )
        got = shape(await run_compiled(runtime, compiled.principal, document, name, new_vars))
        assert expected["errors"] == [], (name, expected["errors"])
        assert masked(got) == masked(expected), name


# Operations compiled (checked below) but not yet run through both executors: a new
# domain's operations may wait here until they join the reads and writes above.
NOT_YET_COMPARED: frozenset[str] = frozenset()


def test_every_operation_of_the_rest_table_is_compiled_and_tested() -> None:
    exercised = {
        "Me", "Products", "Product", "Categories", "ModifierGroups", "PriceLists",
        "InventoryLevels", "InventoryMovements", "InventoryAlerts", "Locations", "Location",
        "Campaigns", "Campaign", "CampaignStats", "Customers", "Customer", "CustomerOrders",
        "Orders", "Order", "PreviewOrder", "Payment", "PaymentMethods", "LoyaltyPrograms",
        "LoyaltyMember", "Automations", "Automation", "Integrations", "Webhooks",
        "IntegrationGrants",
    } | {name for name, _ in _writes(_FAKE_SEED)}  # fmt: skip
    assert set(OPERATIONS) - exercised <= NOT_YET_COMPARED
    for name, op in OPERATIONS.items():
        assert compile_operation(GRAPHQL_SCHEMA, op.document, name) is not None, name


_FAKE_SEED = Seeded(
    tenant=Tenant(uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), "a@example.com", "t", "r"),
    principal=Principal(uuid.uuid4(), uuid.uuid4(), frozenset()),
    category_id="c",
    child_category_id="cc",
    group_id="g",
    product_ids=["p1", "p2", "p3"],
    variant_id="v",
    second_location_id="l",
    campaign_id="cp",
)

CONSTRUCTS = """
fragment Named on Node { id ... on Product { name } ... on Location { name timezone } }
fragment Leaf on Product { sku kind: __typename }

query Constructs($withStock: Boolean!, $skipPrice: Boolean = false, $id: ID!, $loc: ID!) {
  first: products(first: 2) {
    nodes {
      __typename
      label: name
      ...Leaf
      ... on Node { id }
      price @skip(if: $skipPrice) { amount currency }
      cents: price { amount }
      stock: stockLevels @include(if: $withStock) {
        onHand
        location { ...Named }
        product { name }
      }
      category { name parent { name } }
      sku @include(if: false)
      name @skip(if: true)
    }
    pageInfo { hasNextPage }
  }
  product: node(id: $id) { __typename ...Named }
  location: node(id: $loc) { ...Named }
  nothing: node(id: "not-a-uuid") { id }
  __typename
}
"""


async def test_directives_aliases_typename_and_fragments_on_interfaces(
    runtime: Runtime, seeded: Seeded
) -> None:
    s = seeded
    document = parse(CONSTRUCTS)
    assert validate(GRAPHQL_SCHEMA, document) == []
    base = {"id": s.product_ids[0], "loc": s.second_location_id}
    for extra in (
        {"withStock": True},
        {"withStock": False, "skipPrice": True},
        {"withStock": True, "skipPrice": None},  # null for a non-null @skip argument
        {"withStock": None},  # a variable coercion error
    ):
        await assert_same(runtime, s.principal, "Constructs", {**base, **extra}, document)
    shown = await assert_same(
        runtime, s.principal, "Constructs", {**base, "withStock": True}, document
    )
    latte = shown["data"]["first"]["nodes"][0]
    assert latte["kind"] == latte["__typename"] == "Product"
    assert "name" not in latte and latte["stock"][0]["location"]["name"]
    assert shown["data"]["product"]["__typename"] == "Product"
    assert shown["data"]["location"]["timezone"]
    assert shown["data"]["nothing"] is None


async def test_execute_document_caches_plans_by_text(runtime: Runtime, seeded: Seeded) -> None:
    s = seeded
    cache = PlanCache(maxsize=1)
    text = "query Q { products { nodes { name } } }"
    for _ in range(2):
        result: Any = execute_document(
            GRAPHQL_SCHEMA, parse(text), "Q", context(runtime, s.principal), cache=cache
        )
        result = await result
        assert [p["name"] for p in result.data["products"]["nodes"]] == ["Latte", "Mocha", "Tea"]
    assert len(cache) == 1
    other = parse("query R { me { email } }")
    assert (
        await execute_document(
            GRAPHQL_SCHEMA, other, "R", context(runtime, s.principal), cache=cache
        )
    ).data  # type: ignore[union-attr]
    assert len(cache) == 1
    subscription = parse("subscription S { me }")
    assert compile_operation(GRAPHQL_SCHEMA, subscription, "S") is None


PAGE = "query Page($first: Int) { products(first: $first) { nodes { name category { name } } } }"


async def test_a_page_loads_its_categories_in_one_batch(
    client: httpx.AsyncClient, runtime: Runtime, make_tenant: TenantFactory, count_statements: Any
) -> None:
    s = await seed(client, runtime, await make_tenant())
    for n in range(12):
        await _post(
            client,
            s.tenant,
            "/products",
            {
                "name": f"Extra {n:02}",
                "sku": f"EX{n}",
                "price": money(1),
                "categoryId": s.category_id,
            },
        )
    counts = []
    for first in (3, 15):
        with count_statements() as counter:
            result = await run_compiled(runtime, s.principal, parse(PAGE), "Page", {"first": first})
        assert len(result.data["products"]["nodes"]) == first  # type: ignore[index]
        counts.append(counter.count)
    assert counts[0] == counts[1] <= 3


# Generated selections: random subsets of fields, nested, aliased and conditional.
LOCATION_FIELDS = ["id", "name", "timezone", "version", "__typename"]
LEVEL_FIELDS = ["productId", "variantId", "locationId", "onHand", "reorderPoint", "__typename"]
PRODUCT_FIELDS = [
    "id", "name", "sku", "description", "taxRate", "categoryId", "status", "trackInventory",
    "reorderPoint", "createdAt", "updatedAt", "version", "modifierGroupIds", "__typename",
    "price { amount currency }", "variants { id name sku price { amount } }",
    "category { id name parentId sortOrder parent { name } }",
    "modifierGroups { name options { name priceDelta { amount } } }",
]  # fmt: skip


@st.composite
def selection(draw: st.DrawFn, type_name: str, depth: int) -> str:
    fields = {
        "Product": PRODUCT_FIELDS,
        "InventoryLevel": LEVEL_FIELDS,
        "Location": LOCATION_FIELDS,
    }
    options = list(fields[type_name])
    if depth > 0 and type_name == "Product":
        options.append(f"stockLevels {{ {draw(selection('InventoryLevel', depth - 1))} }}")
    if depth > 0 and type_name == "InventoryLevel":
        options.append(f"product {{ {draw(selection('Product', depth - 1))} }}")
        options.append(f"location {{ {draw(selection('Location', depth - 1))} }}")
    chosen = draw(st.lists(st.sampled_from(options), min_size=1, max_size=8, unique=True))
    parts = []
    for i, field in enumerate(chosen):
        if draw(st.booleans()):
            field = f"a{depth}_{i}: {field}"
        condition = draw(
            st.sampled_from(["", "@include(if: $yes)", "@skip(if: $yes)", "@include(if: $no)"])
        )
        name, _, rest = field.partition(" {")
        field = f"{name} {condition} {{{rest}" if rest else f"{name} {condition}"
        if draw(st.booleans()):
            field = f"... on {type_name} {{ {field} }}"
        parts.append(field)
    return " ".join(parts)


VARIABLES = "$yes: Boolean!, $no: Boolean!, $id: ID!"
# Uses every variable at the root, whatever the generated selection uses.
PROBE = "probe: node(id: $id) @include(if: $yes) @skip(if: $no) { __typename }"


@st.composite
def documents(draw: st.DrawFn) -> str:
    root = draw(st.sampled_from(["products", "inventoryLevels", "locations", "node"]))
    if root == "node":
        body = draw(selection("Product", 2))
        return f"query G({VARIABLES}) {{ {PROBE} node(id: $id) {{ ... on Product {{ {body} }} }} }}"
    type_name = {
        "products": "Product",
        "inventoryLevels": "InventoryLevel",
        "locations": "Location",
    }[root]
    body = draw(selection(type_name, 2))
    return (
        f"query G({VARIABLES}) {{ {PROBE} {root}(first: 5) {{"
        f" nodes {{ {body} }} pageInfo {{ hasNextPage endCursor }} }} }}"
    )  # fmt: skip


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=documents(), yes=st.booleans(), no=st.booleans())
async def test_generated_selections_match(
    runtime: Runtime, seeded: Seeded, text: str, yes: bool, no: bool
) -> None:
    document = parse(text)
    assert validate(GRAPHQL_SCHEMA, document) == [], text
    variables = {"yes": yes, "no": no, "id": seeded.product_ids[0]}
    await assert_same(runtime, seeded.principal, "G", variables, document)


# Error paths the app's data never takes: a plain graphql-core schema with dict resolvers.
PLAIN = build_schema("""
interface Named { name: String! }
type Item implements Named { name: String! n: Int! tags: [String!]! }
type Other implements Named { name: String! }
union Either = Item | Other
type Query { items: [Item!] loose: [Item] one: Item! named: [Named] either: [Either] big: Int }
""")
PLAIN_QUERY = """
query P($hide: Boolean = false) {
  items { name n tags }
  loose { name n tags @skip(if: $hide) }
  named { __typename name ... on Item { n } }
  either { ... on Other { name } ... on Item { tags } }
  big
}
"""


class Boom(Exception):
    pass


async def _fails() -> str:
    raise Boom("async boom")


def _raises(_info: Any) -> str:
    raise Boom("sync boom")


def plain_root() -> dict[str, Any]:
    return {
        "items": [
            {"name": "a", "n": 1, "tags": ["x"]},
            {"name": lambda _: _fails(), "n": 2, "tags": []},
        ],
        "loose": [{"name": "a", "n": 1.5, "tags": ["x", None]}, {"name": _raises, "n": 2}, None],
        "named": [
            {"__typename": "Item", "name": "i", "n": 1},
            {"__typename": "Other", "name": "o"},
            {"__typename": "Nope", "name": "z"},
            {"name": "untyped"},
        ],
        "either": [{"__typename": "Other", "name": "o"}, {"__typename": "Named", "name": "q"}],
        "big": 2**40,
    }


async def test_error_propagation_matches_on_a_plain_schema() -> None:
    document = parse(PLAIN_QUERY)
    assert validate(PLAIN, document) == []
    plan = compile_operation(PLAIN, document, "P")
    assert plan is not None
    for variables in ({}, {"hide": True}):
        expected: Any = await execute(PLAIN, document, plain_root(), variable_values=variables)  # type: ignore[misc]
        got: Any = await plan.execute(None, variables, plain_root())  # type: ignore[misc]
        assert shape(got) == shape(expected)
    assert len(expected.errors) > 5


# Loaded fields: a page's keys are loaded together; failures must still match graphql-core.
LOADED_PAGE = """
query Loaded($first: Int) {
  products(first: $first) {
    edges { cursor node { name category { name parent { name } } } }
    nodes { sku variants { sku } modifierGroupIds }
  }
}
"""


@pytest.mark.parametrize(
    "failing", ["categories", "product_variants", "modifier_groups", "categories+product_variants"]
)
async def test_failing_loads_match(
    runtime: Runtime, seeded: Seeded, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    """A batch that raises gives every waiting field its error; non-null ones null the item."""
    from elevatedpos.resolvers import catalog, loaders

    # Pages bring their categories along (the loader is primed); load them here instead.
    monkeypatch.setattr(catalog, "_prime_categories", lambda ctx, rows: None)

    real_fetch = loaders._fetch

    async def fetch(ctx: Any, stmt: Any, params: Any = None) -> Any:
        sql = str(getattr(stmt, "stmt", stmt))  # a Prepared statement or a select
        for name in failing.split("+"):
            if f"FROM {name} " in sql or f"JOIN {name} " in sql:
                raise RuntimeError(f"{name} are unavailable")
        return await real_fetch(ctx, stmt, params)

    monkeypatch.setattr(loaders, "_fetch", fetch)
    got = await assert_same(runtime, seeded.principal, "Loaded", {}, parse(LOADED_PAGE))
    assert got["errors"]
    got = await assert_same(runtime, seeded.principal, "Products", {})
    assert got["errors"] or failing == "categories"


async def test_loaded_fields_out_of_a_list_match(runtime: Runtime, seeded: Seeded) -> None:
    """One product (no list around it) and lists inside loaded values load per object."""
    document = parse(
        "query One($id: ID!) { product(id: $id) { category { name parent { name } }"
        " variants { sku } modifierGroups { name options { name } } } }"
    )
    got = await assert_same(
        runtime, seeded.principal, "One", {"id": seeded.product_ids[0]}, document
    )
    assert got["data"]["product"]["category"]["parent"] is not None

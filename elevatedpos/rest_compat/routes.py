"""The REST table: every documented /api/v1 route and the GraphQL operation it runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property


@dataclass(frozen=True)
class RestRoute:
    """A declaration, not a handler: the executor runs every route the same way."""

    method: str
    path: str
    operation: str
    summary: str
    tag: str
    status: int = 200
    public: bool = False
    body: bool = False
    list: bool = False
    query: dict[str, str] = field(default_factory=dict)
    etag: bool = False
    if_match: bool = False
    no_content: bool = False
    # For payload results: the payload field that is the body, and the Boolean field that
    # says whether it was created (`status` when true, 200 when it updated one).
    result_field: str | None = None
    created_flag: str | None = None
    # POSTs that create something honour Idempotency-Key; money actions (capture, void)
    # that answer 200 opt in here.
    idempotency: bool | None = None
    # A list answer that is one object when the body names this field (webhook tests).
    single_if: str | None = None

    @cached_property
    def idempotent(self) -> bool:
        """Whether the route honours Idempotency-Key."""
        if self.idempotency is not None:
            return self.idempotency
        return self.method == "POST" and self.status == 201

    @cached_property
    def query_params(self) -> dict[str, str]:
        """REST query parameter → GraphQL variable path (lists add limit and cursor)."""
        base = {"limit": "first", "cursor": "after"} if self.list else {}
        return {**base, **self.query}

    @cached_property
    def path_only(self) -> bool:
        """Its variables come from the path alone: no body, query, If-Match or Idempotency-Key."""
        return not (self.body or self.query_params or self.if_match or self.idempotent)


API = "/api/v1"

_PRODUCT_FILTERS = {
    "search": "filter.search",
    "categoryId": "filter.categoryId",
    "status": "filter.status",
}
_LEVEL_FILTERS = {"productId": "filter.productId", "locationId": "filter.locationId"}
_MOVEMENT_FILTERS = {**_LEVEL_FILTERS, "type": "filter.type"}
_CUSTOMER_FILTERS = {"search": "filter.search", "tag": "filter.tag"}
_ORDER_FILTERS = {
    "status": "filter.status",
    "locationId": "filter.locationId",
    "customerId": "filter.customerId",
    "from": "filter.from",
    "to": "filter.to",
}
_CAMPAIGN_FILTERS = {"status": "filter.status", "type": "filter.type"}

# fmt: off
ROUTES: tuple[RestRoute, ...] = (
    # Auth
    RestRoute("POST", f"{API}/auth/login", "Login", "Exchange credentials for tokens", "Auth",
              public=True, body=True),
    RestRoute("POST", f"{API}/auth/refresh", "RefreshToken", "Rotate a refresh token", "Auth",
              public=True, body=True),
    RestRoute("POST", f"{API}/auth/logout", "Logout", "Revoke this session's tokens", "Auth",
              status=204, no_content=True),
    RestRoute("GET", f"{API}/auth/me", "Me", "The authenticated user", "Auth"),
    # Locations
    RestRoute("GET", f"{API}/locations", "Locations", "List locations", "Locations", list=True),
    RestRoute("POST", f"{API}/locations", "CreateLocation", "Create a location", "Locations",
              status=201, body=True),
    RestRoute("GET", f"{API}/locations/{{id}}", "Location", "Retrieve a location", "Locations",
              etag=True),
    RestRoute("PATCH", f"{API}/locations/{{id}}", "UpdateLocation", "Update a location",
              "Locations", body=True, if_match=True, etag=True),
    # Catalog
    RestRoute("GET", f"{API}/products", "Products", "List products", "Catalog", list=True,
              query=_PRODUCT_FILTERS),
    RestRoute("POST", f"{API}/products", "CreateProduct", "Create a product", "Catalog",
              status=201, body=True),
    RestRoute("GET", f"{API}/products/{{id}}", "Product", "Retrieve a product", "Catalog",
              etag=True),
    RestRoute("PATCH", f"{API}/products/{{id}}", "UpdateProduct", "Update product fields",
              "Catalog", body=True, if_match=True, etag=True),
    RestRoute("DELETE", f"{API}/products/{{id}}", "ArchiveProduct",
              "Archive (soft-delete) a product", "Catalog"),
    RestRoute("GET", f"{API}/categories", "Categories", "List categories", "Catalog",
              list=True),
    RestRoute("POST", f"{API}/categories", "CreateCategory", "Create a category", "Catalog",
              status=201, body=True),
    RestRoute("GET", f"{API}/modifiers", "ModifierGroups", "List modifier groups and options",
              "Catalog", list=True),
    RestRoute("POST", f"{API}/modifiers", "CreateModifierGroup", "Create a modifier group",
              "Catalog", status=201, body=True),
    RestRoute("PATCH", f"{API}/modifiers/{{id}}", "UpdateModifierGroup",
              "Update a modifier group", "Catalog", body=True, if_match=True, etag=True),
    RestRoute("GET", f"{API}/price-lists", "PriceLists", "List price lists", "Catalog",
              list=True),
    RestRoute("POST", f"{API}/price-lists", "CreatePriceList", "Create a price list",
              "Catalog", status=201, body=True),
    # Inventory
    RestRoute("GET", f"{API}/inventory/levels", "InventoryLevels",
              "Stock levels across locations", "Inventory", list=True, query=_LEVEL_FILTERS),
    RestRoute("POST", f"{API}/inventory/adjust", "AdjustInventory",
              "Manual stock adjustment with reason code", "Inventory", body=True),
    RestRoute("POST", f"{API}/inventory/transfer", "TransferInventory",
              "Inter-location stock transfer", "Inventory", body=True),
    RestRoute("GET", f"{API}/inventory/movements", "InventoryMovements",
              "Audit trail of inventory movements", "Inventory", list=True,
              query=_MOVEMENT_FILTERS),
    RestRoute("GET", f"{API}/inventory/alerts", "InventoryAlerts",
              "Low-stock and out-of-stock alerts", "Inventory", list=True,
              query=_LEVEL_FILTERS),
    # Customers
    RestRoute("GET", f"{API}/customers", "Customers", "Search and list customers", "Customers",
              list=True, query=_CUSTOMER_FILTERS),
    RestRoute("POST", f"{API}/customers", "UpsertCustomer",
              "Create or upsert a customer record (by email)", "Customers", status=201,
              body=True, result_field="customer", created_flag="created"),
    RestRoute("GET", f"{API}/customers/{{id}}", "Customer", "Retrieve a customer profile",
              "Customers", etag=True),
    RestRoute("PATCH", f"{API}/customers/{{id}}", "UpdateCustomer",
              "Update customer fields and preferences", "Customers", body=True, if_match=True,
              etag=True),
    RestRoute("GET", f"{API}/customers/{{id}}/orders", "CustomerOrders",
              "List all orders for a customer", "Customers", list=True, result_field="orders"),
    # Orders
    RestRoute("GET", f"{API}/orders", "Orders",
              "List orders with filters (status, date range, location)", "Orders", list=True,
              query=_ORDER_FILTERS),
    RestRoute("POST", f"{API}/orders", "CreateOrder", "Create a new order", "Orders",
              status=201, body=True),
    RestRoute("POST", f"{API}/orders/preview", "PreviewOrder",
              "Price a cart without saving anything", "Orders", body=True),
    RestRoute("GET", f"{API}/orders/{{id}}", "Order",
              "Retrieve order with line items, payments, and history", "Orders", etag=True),
    RestRoute("PATCH", f"{API}/orders/{{id}}/status", "UpdateOrderStatus",
              "Update order status (e.g., completed, voided)", "Orders", body=True,
              if_match=True, etag=True),
    RestRoute("POST", f"{API}/orders/{{id}}/refund", "RefundOrder",
              "Initiate a full or partial refund", "Orders", status=201, body=True),
    # Payments
    RestRoute("POST", f"{API}/payments", "CreatePayment", "Create a payment intent for an order",
              "Payments", status=201, body=True),
    RestRoute("GET", f"{API}/payments/methods", "PaymentMethods",
              "List configured payment methods for the org", "Payments"),
    RestRoute("GET", f"{API}/payments/{{id}}", "Payment", "Retrieve payment details and status",
              "Payments"),
    RestRoute("POST", f"{API}/payments/{{id}}/capture", "CapturePayment",
              "Capture a pre-authorized payment", "Payments", body=True, idempotency=True),
    RestRoute("POST", f"{API}/payments/{{id}}/void", "VoidPayment", "Void an uncaptured payment",
              "Payments", idempotency=True),
    # Loyalty
    RestRoute("GET", f"{API}/loyalty/programs", "LoyaltyPrograms",
              "List loyalty programs for the org", "Loyalty", list=True),
    RestRoute("POST", f"{API}/loyalty/programs", "CreateLoyaltyProgram",
              "Create a loyalty program", "Loyalty", status=201, body=True),
    RestRoute("POST", f"{API}/loyalty/points/accrue", "AccruePoints",
              "Manually accrue points for a customer", "Loyalty", body=True, idempotency=True),
    RestRoute("POST", f"{API}/loyalty/points/redeem", "RedeemPoints",
              "Redeem points for a reward", "Loyalty", body=True, idempotency=True),
    RestRoute("GET", f"{API}/loyalty/members/{{customerId}}", "LoyaltyMember",
              "Get loyalty membership and tier for a customer", "Loyalty",
              query={"programId": "programId"}),
    # Automations
    RestRoute("GET", f"{API}/automations", "Automations", "List automation rules for the org",
              "Automations", list=True),
    RestRoute("POST", f"{API}/automations", "CreateAutomation",
              "Create an automation rule (trigger + conditions + actions)", "Automations",
              status=201, body=True),
    RestRoute("POST", f"{API}/automations/trigger", "TriggerAutomations",
              "Manually fire a trigger event for testing", "Automations", body=True),
    RestRoute("GET", f"{API}/automations/{{id}}", "Automation", "Retrieve an automation rule",
              "Automations", etag=True),
    RestRoute("PATCH", f"{API}/automations/{{id}}", "UpdateAutomation",
              "Update automation rule", "Automations", body=True, if_match=True, etag=True),
    RestRoute("DELETE", f"{API}/automations/{{id}}", "DeleteAutomation",
              "Delete an automation rule", "Automations"),
    # Integrations
    RestRoute("GET", f"{API}/integrations", "Integrations",
              "List installed integrations for the org", "Integrations", list=True),
    RestRoute("POST", f"{API}/integrations", "InstallIntegration",
              "Install a new integration", "Integrations", status=201, body=True),
    RestRoute("DELETE", f"{API}/integrations/{{id}}", "UninstallIntegration",
              "Uninstall an integration: its tokens are revoked, its webhooks stop",
              "Integrations"),
    RestRoute("GET", f"{API}/integrations/{{id}}/grants", "IntegrationGrants",
              "List the users who authorized an integration's app, and their scopes",
              "Integrations", list=True),
    RestRoute("DELETE", f"{API}/integrations/{{id}}/grants/{{grantId}}",
              "RevokeIntegrationGrant",
              "Revoke one user's grant of an integration: its tokens for that user stop",
              "Integrations"),
    RestRoute("GET", f"{API}/integrations/{{id}}/webhooks", "Webhooks",
              "List webhooks for an integration", "Integrations", list=True),
    RestRoute("POST", f"{API}/integrations/{{id}}/webhooks", "CreateWebhook",
              "Register a webhook endpoint", "Integrations", status=201, body=True),
    RestRoute("POST", f"{API}/integrations/{{id}}/webhooks/test", "TestWebhooks",
              "Send a test webhook payload", "Integrations", body=True,
              single_if="webhookId"),
    # Campaigns
    RestRoute("GET", f"{API}/campaigns", "Campaigns", "List marketing campaigns", "Campaigns",
              list=True, query=_CAMPAIGN_FILTERS),
    RestRoute("POST", f"{API}/campaigns", "CreateCampaign",
              "Create a campaign (discount, offer, promotion)", "Campaigns", status=201,
              body=True),
    RestRoute("GET", f"{API}/campaigns/{{id}}", "Campaign", "Retrieve a campaign", "Campaigns",
              etag=True),
    RestRoute("PATCH", f"{API}/campaigns/{{id}}", "UpdateCampaign",
              "Update campaign status or rules", "Campaigns", body=True, if_match=True,
              etag=True),
    RestRoute("GET", f"{API}/campaigns/{{id}}/stats", "CampaignStats",
              "Campaign performance metrics", "Campaigns"),
)
# fmt: on


def is_public(method: str, path: str) -> bool:
    """Routes that need no token (the auth middleware asks)."""
    return (method, path) in _PUBLIC or path in _PUBLIC_PATHS or path.startswith("/docs")


_PUBLIC = frozenset((r.method, r.path) for r in ROUTES if r.public) | {
    ("POST", f"{API}/oauth/token"),
    ("POST", f"{API}/oauth/revoke"),
}
# /metrics checks its own token (METRICS_TOKEN), not a user's.
_PUBLIC_PATHS = frozenset({"/healthz", "/readyz", "/metrics", f"{API}/openapi.json"})

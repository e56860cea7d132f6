"""All models, imported so that Alembic and the mappers see every table."""

from elevatedpos.db.models.auth import AuthSession, OAuthCode, RefreshToken
from elevatedpos.db.models.automations import Automation, AutomationRun
from elevatedpos.db.models.base import Base
from elevatedpos.db.models.catalog import (
    Category,
    ModifierGroup,
    ModifierOption,
    PriceList,
    PriceListLocation,
    PriceListPrice,
    Product,
    ProductModifierGroup,
    Variant,
)
from elevatedpos.db.models.customers import Customer
from elevatedpos.db.models.integrations import (
    Integration,
    Webhook,
    WebhookAttempt,
    WebhookDelivery,
)
from elevatedpos.db.models.inventory import InventoryLevel, InventoryMovement
from elevatedpos.db.models.loyalty import LoyaltyMember, LoyaltyProgram, LoyaltyTransaction
from elevatedpos.db.models.orgs import Location, Org, User
from elevatedpos.db.models.platform import IdempotencyRecord, InstanceKey, OutboxEvent
from elevatedpos.db.models.sales import (
    Campaign,
    Counter,
    Order,
    OrderCampaign,
    OrderLine,
    Payment,
    PaymentMethod,
    Refund,
)

__all__ = [
    "AuthSession",
    "Automation",
    "AutomationRun",
    "Base",
    "Campaign",
    "Category",
    "Counter",
    "Customer",
    "IdempotencyRecord",
    "InstanceKey",
    "Integration",
    "InventoryLevel",
    "InventoryMovement",
    "Location",
    "LoyaltyMember",
    "LoyaltyProgram",
    "LoyaltyTransaction",
    "ModifierGroup",
    "ModifierOption",
    "OAuthCode",
    "Order",
    "OrderCampaign",
    "OrderLine",
    "Org",
    "OutboxEvent",
    "Payment",
    "PaymentMethod",
    "PriceList",
    "PriceListLocation",
    "PriceListPrice",
    "Product",
    "ProductModifierGroup",
    "RefreshToken",
    "Refund",
    "User",
    "Variant",
    "Webhook",
    "WebhookAttempt",
    "WebhookDelivery",
]

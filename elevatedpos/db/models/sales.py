"""Sales: campaigns, orders and their lines, payments, refunds, and per-org counters."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from elevatedpos.db.models.base import Base, OrgOwned
from elevatedpos.db.types import UTCDateTime, Uuid, utcnow


class Counter(Base):
    """A per-org sequence (`order` numbers). Incremented inside the writer's transaction, so
    a rolled-back order gives its number back: no gaps, no duplicates."""

    __tablename__ = "counters"

    org_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("orgs.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(default=0)


class Campaign(OrgOwned, Base):
    __tablename__ = "campaigns"
    __table_args__ = (
        # `code_key` is the code stripped and case-folded; NULL (no code) never collides.
        UniqueConstraint("org_id", "code_key"),
        Index("ix_campaigns_org_id_status", "org_id", "status"),
    )

    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(16), default="discount")
    status: Mapped[str] = mapped_column(String(16), default="draft")
    code: Mapped[str | None] = mapped_column(String(64), default=None)
    code_key: Mapped[str | None] = mapped_column(String(64), default=None)
    percent_off: Mapped[int | None] = mapped_column(default=None)
    amount_off: Mapped[int | None] = mapped_column(default=None)
    min_subtotal: Mapped[int | None] = mapped_column(default=None)
    product_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    category_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    currency: Mapped[str] = mapped_column(String(3), default="AUD")
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class Order(OrgOwned, Base):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("org_id", "number"),
        # Newest first, and the same order inside each filter.
        Index("ix_orders_org_id_created_at", "org_id", "created_at", "id"),
        Index("ix_orders_org_id_customer_id_created_at", "org_id", "customer_id", "created_at"),
        Index("ix_orders_org_id_status_created_at", "org_id", "status", "created_at"),
        CheckConstraint("amount_paid >= 0 AND amount_refunded >= 0", name="amounts_not_negative"),
    )

    number: Mapped[int] = mapped_column()
    status: Mapped[str] = mapped_column(String(24), default="open")
    location_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("locations.id", ondelete="RESTRICT")
    )
    customer_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid(), ForeignKey("customers.id", ondelete="SET NULL"), default=None
    )
    currency: Mapped[str] = mapped_column(String(3), default="AUD")
    subtotal: Mapped[int] = mapped_column()
    discount_total: Mapped[int] = mapped_column(default=0)
    tax_total: Mapped[int] = mapped_column()
    total: Mapped[int] = mapped_column()
    # Captured money, refunds of it, and card authorizations not yet captured or voided.
    amount_paid: Mapped[int] = mapped_column(default=0)
    amount_refunded: Mapped[int] = mapped_column(default=0)
    amount_authorized: Mapped[int] = mapped_column(default=0)
    campaign_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The loyalty reward redeemed on it: {programId, id, name, pointsCost, discount}.
    loyalty_reward: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    history: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    note: Mapped[str | None] = mapped_column(Text, default=None)
    user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid(), default=None)


class OrderLine(Base):
    __tablename__ = "order_lines"
    __table_args__ = (Index("ix_order_lines_order_id_position", "order_id", "position"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("orgs.id", ondelete="CASCADE"))
    order_id: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("orders.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column()
    product_id: Mapped[uuid.UUID] = mapped_column(Uuid())
    variant_id: Mapped[uuid.UUID | None] = mapped_column(Uuid(), default=None)
    name: Mapped[str] = mapped_column(String(420))
    sku: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int] = mapped_column()
    unit_price: Mapped[int] = mapped_column()
    modifiers: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    tax_rate: Mapped[int] = mapped_column()
    subtotal: Mapped[int] = mapped_column()
    discount: Mapped[int] = mapped_column(default=0)
    tax: Mapped[int] = mapped_column()
    total: Mapped[int] = mapped_column()
    # Whether the sale took stock (tracked at the time), so a void or restock puts it back.
    stock_taken: Mapped[bool] = mapped_column(default=False)
    refunded_quantity: Mapped[int] = mapped_column(default=0)


class OrderCampaign(Base):
    """Which campaigns an order met and what each took off: campaign stats read this."""

    __tablename__ = "order_campaigns"
    __table_args__ = (Index("ix_order_campaigns_campaign_id", "campaign_id"),)

    order_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True
    )
    campaign_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("orgs.id", ondelete="CASCADE"))
    discount: Mapped[int] = mapped_column(default=0)


class Payment(Base):
    __tablename__ = "payments"
    __table_args__ = (
        Index("ix_payments_order_id_created_at", "order_id", "created_at"),
        CheckConstraint(
            "captured_amount >= 0 AND refunded_amount >= 0 AND refunded_amount <= captured_amount",
            name="amounts_in_range",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("orgs.id", ondelete="CASCADE"))
    order_id: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("orders.id", ondelete="CASCADE"))
    amount: Mapped[int] = mapped_column()
    currency: Mapped[str] = mapped_column(String(3), default="AUD")
    method: Mapped[str] = mapped_column(String(16))
    processor: Mapped[str] = mapped_column(String(32))
    processor_ref: Mapped[str | None] = mapped_column(String(128), default=None)
    status: Mapped[str] = mapped_column(String(16))
    failure_reason: Mapped[str | None] = mapped_column(String(200), default=None)
    captured_amount: Mapped[int] = mapped_column(default=0)
    refunded_amount: Mapped[int] = mapped_column(default=0)
    user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid(), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    captured_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class Refund(Base):
    __tablename__ = "refunds"
    __table_args__ = (Index("ix_refunds_order_id_created_at", "order_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("orgs.id", ondelete="CASCADE"))
    order_id: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("orders.id", ondelete="CASCADE"))
    amount: Mapped[int] = mapped_column()
    currency: Mapped[str] = mapped_column(String(3), default="AUD")
    reason: Mapped[str] = mapped_column(String(500))
    restock: Mapped[bool] = mapped_column(default=False)
    # [{lineItemId, quantity, amount}] and [{paymentId, amount}]
    line_items: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    allocations: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid(), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PaymentMethod(Base):
    """An org's configured tenders; an org without rows has the defaults (cash and card)."""

    __tablename__ = "payment_methods"

    org_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("orgs.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(16))
    processor: Mapped[str] = mapped_column(String(32))
    enabled: Mapped[bool] = mapped_column(default=True)

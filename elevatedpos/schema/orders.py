"""Sales types: orders and their lines, payments, refunds, payment methods, previews."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from elevatedpos.schema.context import Info
from elevatedpos.schema.money import Money, MoneyInput
from elevatedpos.schema.node import Node

if TYPE_CHECKING:
    from elevatedpos.schema.catalog import Product
    from elevatedpos.schema.customers import Customer
    from elevatedpos.schema.orgs import Location


def _id(value: Any) -> strawberry.ID | None:
    return None if value is None else strawberry.ID(str(value))


@strawberry.enum
class OrderStatus(Enum):
    OPEN = "open"
    COMPLETED = "completed"
    VOIDED = "voided"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"


@strawberry.enum
class PaymentStatus(Enum):
    AUTHORIZED = "authorized"
    CAPTURED = "captured"
    VOIDED = "voided"
    FAILED = "failed"


@strawberry.enum
class PaymentMethodType(Enum):
    CASH = "cash"
    CARD = "card"


@strawberry.type
class OrderModifier:
    option_id: strawberry.ID
    name: str
    price_delta: Money


@strawberry.interface(description="A line as pricing leaves it: saved on an order or previewed")
class PricedLine:
    product_id: strawberry.ID
    variant_id: strawberry.ID | None
    name: str
    sku: str
    quantity: int
    unit_price: Money = strawberry.field(description="Per unit, modifiers included")
    modifiers: list[OrderModifier]
    discount: Money
    tax: Money = strawberry.field(description="The GST inside the discounted line total")
    total: Money


def _modifiers(modifiers: Any, currency: str) -> list[OrderModifier]:
    """(option id, name, price delta) triples as GraphQL modifiers."""
    return [
        OrderModifier(
            option_id=strawberry.ID(str(option_id)),
            name=name,
            price_delta=Money.of(delta, currency),
        )
        for option_id, name, delta in modifiers
    ]


@strawberry.type
class OrderLineItem(PricedLine, Node):
    refunded_quantity: int = strawberry.field(description="Units given back by refunds")
    row: strawberry.Private[Any] = None

    @strawberry.field(description="The product sold (null once it is gone from the catalog)")
    async def product(
        self, info: Info
    ) -> Annotated[Product, strawberry.lazy("elevatedpos.schema.catalog")] | None:
        from elevatedpos.resolvers.loaders import product_by_id
        from elevatedpos.schema.catalog import Product

        row = await info.context.loader(product_by_id).load(self.row.product_id)
        return None if row is None else Product.from_row(row)

    @classmethod
    def from_row(cls, row: Any, currency: str = "AUD") -> OrderLineItem:
        return cls(
            id=strawberry.ID(str(row.id)),
            product_id=strawberry.ID(str(row.product_id)),
            variant_id=_id(row.variant_id),
            name=row.name,
            sku=row.sku,
            quantity=row.quantity,
            unit_price=Money.of(row.unit_price, currency),
            modifiers=_modifiers(
                ((m["optionId"], m["name"], m["priceDelta"]) for m in row.modifiers), currency
            ),
            discount=Money.of(row.discount, currency),
            tax=Money.of(row.tax, currency),
            total=Money.of(row.total, currency),
            refunded_quantity=row.refunded_quantity,
            row=row,
        )


@strawberry.type
class OrderHistoryEntry:
    status: OrderStatus
    at: datetime
    user_id: strawberry.ID | None
    note: str | None


@strawberry.type
class RefundLineItem:
    line_item_id: strawberry.ID
    quantity: int
    amount: Money


@strawberry.type
class Refund(Node):
    order_id: strawberry.ID
    amount: Money
    line_items: list[RefundLineItem]
    reason: str
    restock: bool
    created_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> Refund:
        return cls(
            id=strawberry.ID(str(row.id)),
            order_id=strawberry.ID(str(row.order_id)),
            amount=Money.of(row.amount, row.currency),
            line_items=[
                RefundLineItem(
                    line_item_id=strawberry.ID(li["lineItemId"]),
                    quantity=li["quantity"],
                    amount=Money.of(li["amount"], row.currency),
                )
                for li in row.line_items
            ],
            reason=row.reason,
            restock=row.restock,
            created_at=row.created_at,
        )


@strawberry.type
class Payment(Node):
    order_id: strawberry.ID
    amount: Money
    method: PaymentMethodType
    status: PaymentStatus
    captured_amount: Money
    refunded_amount: Money
    failure_reason: str | None = strawberry.field(
        description="Why the processor declined it (status FAILED)"
    )
    created_at: datetime
    captured_at: datetime | None
    row: strawberry.Private[Any] = None

    @strawberry.field(description="The order paid")
    async def order(self, info: Info) -> Order | None:
        from elevatedpos.resolvers.loaders import order_by_id

        row = await info.context.loader(order_by_id).load(self.row.order_id)
        return None if row is None else Order.from_row(row)

    @classmethod
    def from_row(cls, row: Any) -> Payment:
        return cls(
            id=strawberry.ID(str(row.id)),
            order_id=strawberry.ID(str(row.order_id)),
            amount=Money.of(row.amount, row.currency),
            method=PaymentMethodType(row.method),
            status=PaymentStatus(row.status),
            captured_amount=Money.of(row.captured_amount, row.currency),
            refunded_amount=Money.of(row.refunded_amount, row.currency),
            failure_reason=row.failure_reason,
            created_at=row.created_at,
            captured_at=row.captured_at,
            row=row,
        )


@strawberry.type
class PaymentMethod:
    id: str = strawberry.field(description="What `method` names in POST /payments")
    name: str
    type: PaymentMethodType
    enabled: bool


@strawberry.type(description="A loyalty reward redeemed on an order, paid with points")
class OrderLoyaltyReward:
    id: str = strawberry.field(description="The reward's id in its program")
    program_id: strawberry.ID
    name: str
    points_cost: int
    discount: Money = strawberry.field(
        description="What it took off: the reward's discount, or less on a cheaper order"
    )

    @classmethod
    def of(cls, kept: dict[str, Any] | None) -> OrderLoyaltyReward | None:
        if kept is None:
            return None
        return cls(
            id=kept["id"],
            program_id=strawberry.ID(kept["programId"]),
            name=kept["name"],
            points_cost=kept["pointsCost"],
            discount=Money.of(kept["discount"]["amount"], kept["discount"]["currency"]),
        )


@strawberry.type
class Order(Node):
    number: int = strawberry.field(description="Counts up per org from 1, with no gaps")
    status: OrderStatus
    location_id: strawberry.ID
    customer_id: strawberry.ID | None
    subtotal: Money
    discount_total: Money
    tax_total: Money
    total: Money
    amount_paid: Money = strawberry.field(description="Captured payments")
    amount_refunded: Money
    campaign_ids: list[strawberry.ID]
    loyalty_reward: OrderLoyaltyReward | None
    history: list[OrderHistoryEntry]
    note: str | None
    created_at: datetime
    updated_at: datetime
    version: int
    row: strawberry.Private[Any] = None

    @strawberry.field(description="The lines, in the order they were rung up")
    async def line_items(self, info: Info) -> list[OrderLineItem]:
        from elevatedpos.resolvers.loaders import lines_by_order

        rows = await info.context.loader(lines_by_order).load(self.row.id)
        return [OrderLineItem.from_row(r, self.row.currency) for r in rows]

    @strawberry.field(description="Payments taken, oldest first (failed ones included)")
    async def payments(self, info: Info) -> list[Payment]:
        from elevatedpos.resolvers.loaders import payments_by_order

        rows = await info.context.loader(payments_by_order).load(self.row.id)
        return [Payment.from_row(r) for r in rows]

    @strawberry.field(description="Refunds given, oldest first")
    async def refunds(self, info: Info) -> list[Refund]:
        from elevatedpos.resolvers.loaders import refunds_by_order

        rows = await info.context.loader(refunds_by_order).load(self.row.id)
        return [Refund.from_row(r) for r in rows]

    @strawberry.field(description="The customer, when the order names one")
    async def customer(
        self, info: Info
    ) -> Annotated[Customer, strawberry.lazy("elevatedpos.schema.customers")] | None:
        from elevatedpos.resolvers.loaders import customer_by_id
        from elevatedpos.schema.customers import Customer

        if self.row.customer_id is None:
            return None
        row = await info.context.loader(customer_by_id).load(self.row.customer_id)
        return None if row is None else Customer.from_row(row)

    @strawberry.field(description="Where the order was rung up")
    async def location(
        self, info: Info
    ) -> Annotated[Location, strawberry.lazy("elevatedpos.schema.orgs")] | None:
        from elevatedpos.resolvers.loaders import location_by_id
        from elevatedpos.schema.orgs import Location

        row = await info.context.loader(location_by_id).load(self.row.location_id)
        return None if row is None else Location.from_row(row)

    @strawberry.field(description="What payments may still take: total less money kept and holds")
    def balance(self) -> Money:
        from elevatedpos.rules.orders import balance

        r = self.row
        if r.status != "open":
            return Money.of(0, r.currency)  # payments are taken on open orders only
        return Money.of(
            balance(r.total, r.amount_paid, r.amount_refunded, r.amount_authorized), r.currency
        )

    @classmethod
    def from_row(cls, row: Any) -> Order:
        cur = row.currency
        return cls(
            id=strawberry.ID(str(row.id)),
            number=row.number,
            status=OrderStatus(row.status),
            location_id=strawberry.ID(str(row.location_id)),
            customer_id=_id(row.customer_id),
            subtotal=Money.of(row.subtotal, cur),
            discount_total=Money.of(row.discount_total, cur),
            tax_total=Money.of(row.tax_total, cur),
            total=Money.of(row.total, cur),
            amount_paid=Money.of(row.amount_paid, cur),
            amount_refunded=Money.of(row.amount_refunded, cur),
            campaign_ids=[strawberry.ID(c) for c in row.campaign_ids],
            loyalty_reward=OrderLoyaltyReward.of(row.loyalty_reward),
            history=[
                OrderHistoryEntry(
                    status=OrderStatus(h["status"]),
                    at=datetime.fromisoformat(h["at"]),
                    user_id=_id(h.get("userId")),
                    note=h.get("note"),
                )
                for h in row.history
            ],
            note=row.note,
            created_at=row.created_at,
            updated_at=row.updated_at,
            version=row.version,
            row=row,
        )


@strawberry.type(description="A priced cart: what createOrder would charge, nothing saved")
class OrderPreview:
    line_items: list[OrderPreviewLine]
    subtotal: Money
    discount_total: Money
    tax_total: Money
    total: Money
    campaign_ids: list[strawberry.ID]
    loyalty_reward: OrderLoyaltyReward | None


@strawberry.type
class OrderPreviewLine(PricedLine):
    pass


@strawberry.input
class OrderFilter:
    status: OrderStatus | None = None
    location_id: strawberry.ID | None = None
    customer_id: strawberry.ID | None = None
    from_: datetime | None = strawberry.field(
        default=None, name="from", description="createdAt at or after"
    )
    to: datetime | None = strawberry.field(default=None, description="createdAt before")


@strawberry.input
class OrderLineInput:
    product_id: strawberry.ID
    variant_id: strawberry.ID | None = None
    quantity: int = 1
    modifier_option_ids: list[strawberry.ID] | None = None


@strawberry.input
class CreateOrderInput:
    location_id: strawberry.ID
    line_items: list[OrderLineInput]
    customer_id: strawberry.ID | None = None
    campaign_code: str | None = None
    note: str | None = None
    loyalty_reward_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="A reward of the active loyalty program, paid with the customer's points",
    )


@strawberry.input
class UpdateOrderStatusInput:
    status: OrderStatus = strawberry.field(
        description="COMPLETED or VOIDED from OPEN; any other move is a 409"
    )
    note: str | None = None


@strawberry.input
class RefundLineInput:
    line_item_id: strawberry.ID
    quantity: int


@strawberry.input
class RefundOrderInput:
    reason: str
    amount: MoneyInput | None = None
    line_items: list[RefundLineInput] | None = None
    restock: bool = False


@strawberry.input
class CreatePaymentInput:
    order_id: strawberry.ID
    amount: MoneyInput
    method: PaymentMethodType
    capture: bool = True


@strawberry.input
class CapturePaymentInput:
    amount: MoneyInput | None = strawberry.field(
        default=None, description="Capture less than authorized; the rest is released"
    )


def preview_from(priced: Any) -> OrderPreview:
    cur = "AUD"
    return OrderPreview(
        line_items=[
            OrderPreviewLine(
                product_id=strawberry.ID(str(li.product_id)),
                variant_id=_id(li.variant_id),
                name=li.name,
                sku=li.sku,
                quantity=li.quantity,
                unit_price=Money.of(li.unit_price, cur),
                modifiers=_modifiers(
                    ((m.option_id, m.name, m.price_delta) for m in li.modifiers), cur
                ),
                discount=Money.of(li.discount, cur),
                tax=Money.of(li.tax, cur),
                total=Money.of(li.total, cur),
            )
            for li in priced.lines
        ],
        subtotal=Money.of(priced.subtotal, cur),
        discount_total=Money.of(priced.discount_total, cur),
        tax_total=Money.of(priced.tax_total, cur),
        total=Money.of(priced.total, cur),
        campaign_ids=[strawberry.ID(str(c)) for c in priced.campaign_ids],
        loyalty_reward=_applied_reward(priced.applied_reward, cur),
    )


def _applied_reward(applied: Any, currency: str) -> OrderLoyaltyReward | None:
    if applied is None:
        return None
    reward = applied.reward
    return OrderLoyaltyReward(
        id=reward.id,
        program_id=strawberry.ID(str(reward.program_id)),
        name=reward.name,
        points_cost=reward.points_cost,
        discount=Money.of(applied.discount, currency),
    )

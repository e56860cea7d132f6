"""Customer types: the customer, its upsert payload, its filter and inputs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from elevatedpos.schema.context import Info
from elevatedpos.schema.money import MoneyTotal
from elevatedpos.schema.node import Node
from elevatedpos.schema.orders import Order
from elevatedpos.schema.pagination import Connection


@strawberry.type(description="What a customer has bought: sold orders (completed or refunded)")
class CustomerStats:
    order_count: int
    total_spent: MoneyTotal = strawberry.field(description="Money kept: captured minus refunded")
    last_order_at: datetime | None


@strawberry.type
class Customer(Node):
    first_name: str
    last_name: str
    email: str = strawberry.field(description="Lower-cased; unique within the org")
    phone: str | None
    tags: list[str]
    marketing_opt_in: bool
    created_at: datetime
    updated_at: datetime
    version: int
    row: strawberry.Private[Any] = None

    @strawberry.field(description="Sold orders, money spent and the last order's time")
    async def stats(self, info: Info) -> CustomerStats:
        from elevatedpos.resolvers.loaders import customer_stats

        found = await info.context.loader(customer_stats).load(self.row.id)
        if found is None:
            return CustomerStats(order_count=0, total_spent=MoneyTotal.of(0), last_order_at=None)
        return CustomerStats(
            order_count=found.order_count,
            total_spent=MoneyTotal.of(int(found.spent)),
            last_order_at=found.last_order_at,
        )

    @strawberry.field(description="The five newest orders, any status")
    async def recent_orders(self, info: Info) -> list[Order]:
        from elevatedpos.resolvers.loaders import recent_orders_by_customer

        rows = await info.context.loader(recent_orders_by_customer).load(self.row.id)
        return [Order.from_row(r) for r in rows]

    @strawberry.field(description="The customer's orders, newest first")
    async def orders(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Order]:
        from elevatedpos.resolvers.loaders import orders_by_customer

        page = await info.context.loader(orders_by_customer).load((self.row.id, first, after))
        return Connection[Order].from_page(page, Order.from_row)

    @classmethod
    def from_row(cls, row: Any) -> Customer:
        return cls(
            id=strawberry.ID(str(row.id)),
            first_name=row.first_name,
            last_name=row.last_name,
            email=row.email,
            phone=row.phone,
            tags=list(row.tags),
            marketing_opt_in=row.marketing_opt_in,
            created_at=row.created_at,
            updated_at=row.updated_at,
            version=row.version,
            row=row,
        )


@strawberry.type
class UpsertCustomerPayload:
    customer: Customer
    created: bool = strawberry.field(
        description="True when no customer had this email (REST answers 201, else 200)"
    )


@strawberry.input
class CustomerFilter:
    search: str | None = strawberry.field(
        default=None,
        description="Case-insensitive substring of the first, last or full name, email or phone",
    )
    tag: str | None = strawberry.field(
        default=None, description="Customers carrying this tag (case-insensitive)"
    )


@strawberry.input
class UpsertCustomerInput:
    email: str = strawberry.field(description="The upsert key: matched case-insensitively")
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = strawberry.field(
        default=strawberry.UNSET, description="null removes the phone"
    )
    tags: list[str] | None = strawberry.field(
        default=None, description="Replaces the tags; at most 50, each 1 to 50 characters"
    )
    marketing_opt_in: bool | None = None


@strawberry.input
class UpdateCustomerInput:
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = strawberry.field(
        default=strawberry.UNSET, description="null removes the phone"
    )
    tags: list[str] | None = strawberry.field(
        default=None, description="Replaces the tags; at most 50, each 1 to 50 characters"
    )
    marketing_opt_in: bool | None = None

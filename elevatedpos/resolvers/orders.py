"""Order and payment queries and mutations."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import strawberry
from sqlalchemy import false

from elevatedpos.actions import orders as actions
from elevatedpos.actions import payments as payment_actions
from elevatedpos.db.models import Order as OrderRow
from elevatedpos.db.models import Payment as PaymentRow
from elevatedpos.db.pagination import keyset_page
from elevatedpos.db.scoping import org_rows, parse_uuid, require_in_org
from elevatedpos.resolvers.loaders import lines_by_order, payments_by_order, refunds_by_order
from elevatedpos.schema.context import Context, Info
from elevatedpos.schema.orders import (
    CapturePaymentInput,
    CreateOrderInput,
    CreatePaymentInput,
    Order,
    OrderFilter,
    OrderPreview,
    Payment,
    PaymentMethod,
    PaymentMethodType,
    Refund,
    RefundOrderInput,
    UpdateOrderStatusInput,
    preview_from,
)
from elevatedpos.schema.pagination import Connection
from elevatedpos.schema.permissions import HasScope

READ = [HasScope("orders:read")]
WRITE = [HasScope("orders:write")]
PAY_READ = [HasScope("payments:read")]
PAY_WRITE = [HasScope("payments:write")]


def orders_statement(org_id: Any, f: OrderFilter) -> Any:
    """The org's orders matching a filter (an id naming nothing matches nothing)."""
    t = OrderRow.__table__
    stmt = org_rows(OrderRow, org_id)
    if f.status is not None:
        stmt = stmt.where(t.c.status == f.status.value)
    for column, raw in ((t.c.location_id, f.location_id), (t.c.customer_id, f.customer_id)):
        if raw is not None:
            value = parse_uuid(raw)
            stmt = stmt.where(column == value) if value is not None else stmt.where(false())
    if f.from_ is not None:
        stmt = stmt.where(t.c.created_at >= f.from_)
    if f.to is not None:
        stmt = stmt.where(t.c.created_at < f.to)
    return stmt


async def orders_page(
    ctx: Context, f: OrderFilter, first: int | None, after: str | None
) -> Connection[Order]:
    t = OrderRow.__table__
    async with ctx.runtime.db.read() as session:
        page = await keyset_page(
            session,
            orders_statement(ctx.org_id, f),
            [t.c.number],
            first=first,
            after=after,
            descending=True,
        )
    return Connection[Order].from_page(page, Order.from_row)


def _fresh(ctx: Context, order: Any, lines: list[dict[str, Any]]) -> Order:
    """An order just written: its lines are at hand, and it has no payments or refunds yet."""
    ctx.loader(lines_by_order).prime(order.id, [SimpleNamespace(**li) for li in lines])
    ctx.loader(payments_by_order).prime(order.id, [])
    ctx.loader(refunds_by_order).prime(order.id, [])
    return Order.from_row(order)


@strawberry.type
class OrdersQuery:
    @strawberry.field(description="Orders, newest first", permission_classes=READ)
    async def orders(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: OrderFilter | None = None,
    ) -> Connection[Order]:
        return await orders_page(info.context, filter or OrderFilter(), first, after)

    @strawberry.field(description="One order by id", permission_classes=READ)
    async def order(self, info: Info, id: strawberry.ID) -> Order:
        ctx = info.context
        async with ctx.runtime.db.read() as session:
            row = await require_in_org(session, OrderRow, id, ctx.org_id, "order")
        return Order.from_row(row)

    @strawberry.field(
        description="Price a cart exactly as createOrder would, saving nothing",
        permission_classes=READ,
    )
    async def preview_order(self, info: Info, input: CreateOrderInput) -> OrderPreview:
        ctx = info.context
        priced = await actions.preview_order(ctx.runtime.db, ctx.org_id, input)
        return preview_from(priced)

    @strawberry.field(description="One payment by id", permission_classes=PAY_READ)
    async def payment(self, info: Info, id: strawberry.ID) -> Payment:
        ctx = info.context
        async with ctx.runtime.db.read() as session:
            row = await require_in_org(session, PaymentRow, id, ctx.org_id, "payment")
        return Payment.from_row(row)

    @strawberry.field(
        description="The org's payment methods (by default cash and card)",
        permission_classes=PAY_READ,
    )
    async def payment_methods(self, info: Info) -> list[PaymentMethod]:
        ctx = info.context
        async with ctx.runtime.db.read() as session:
            methods = await payment_actions.payment_methods(session, ctx.org_id)
        return [
            PaymentMethod(id=m.id, name=m.name, type=PaymentMethodType(m.type), enabled=m.enabled)
            for m in methods
        ]


@strawberry.type
class OrdersMutation:
    @strawberry.mutation(
        description="Ring up an order: priced by the server, stock taken, numbered",
        permission_classes=WRITE,
    )
    async def create_order(self, info: Info, input: CreateOrderInput) -> Order:
        ctx = info.context
        created = await actions.create_order(ctx.runtime.db, ctx.org_id, ctx.auth.user_id, input)
        return _fresh(ctx, created.order, created.lines)

    @strawberry.mutation(
        description="Complete or void an open order (with a note for its history)",
        permission_classes=WRITE,
    )
    async def update_order_status(
        self,
        info: Info,
        id: strawberry.ID,
        input: UpdateOrderStatusInput,
        expected_version: int | None = None,
    ) -> Order:
        ctx = info.context
        row = await actions.update_order_status(
            ctx.runtime.db,
            ctx.org_id,
            ctx.auth.user_id,
            id,
            input.status.value,
            input.note,
            expected_version,
        )
        return Order.from_row(row)

    @strawberry.mutation(
        description="Refund by amount, by lines, or (neither) everything left",
        permission_classes=WRITE,
    )
    async def refund_order(self, info: Info, id: strawberry.ID, input: RefundOrderInput) -> Refund:
        ctx = info.context
        refund, _ = await payment_actions.refund_order(
            ctx.runtime.db, ctx.org_id, ctx.auth.user_id, id, input
        )
        return Refund.from_row(refund)

    @strawberry.mutation(
        description="Take a payment (capture false only authorizes a card)",
        permission_classes=PAY_WRITE,
    )
    async def create_payment(self, info: Info, input: CreatePaymentInput) -> Payment:
        ctx = info.context
        row = await payment_actions.create_payment(
            ctx.runtime.db, ctx.org_id, ctx.auth.user_id, input
        )
        return Payment.from_row(row)

    @strawberry.mutation(
        description="Capture an authorization, all of it or a smaller amount",
        permission_classes=PAY_WRITE,
    )
    async def capture_payment(
        self, info: Info, id: strawberry.ID, input: CapturePaymentInput | None = None
    ) -> Payment:
        ctx = info.context
        row = await payment_actions.capture_payment(ctx.runtime.db, ctx.org_id, id, input)
        return Payment.from_row(row)

    @strawberry.mutation(description="Release an authorization", permission_classes=PAY_WRITE)
    async def void_payment(self, info: Info, id: strawberry.ID) -> Payment:
        ctx = info.context
        row = await payment_actions.void_payment(ctx.runtime.db, ctx.org_id, id)
        return Payment.from_row(row)

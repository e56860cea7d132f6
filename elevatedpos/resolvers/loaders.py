"""Per-request dataloaders: nested fields load in one query per batch, scoped to the org.

Each batch runs on its own Core connection (batches may run concurrently, and one
connection must not be shared between tasks). Rows are Core rows, not ORM instances:
reads build GraphQL objects straight from columns.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiodataloader import DataLoader
from sqlalchemy import Select, select

from elevatedpos.db.models import (
    Category,
    Customer,
    InventoryLevel,
    Location,
    ModifierGroup,
    ModifierOption,
    Order,
    OrderLine,
    Payment,
    Product,
    ProductModifierGroup,
    Refund,
    Variant,
)
from elevatedpos.schema.context import Context

Rows = Sequence[Any]


async def _fetch(ctx: Context, stmt: Select[Any]) -> Rows:
    async with ctx.runtime.db.reader() as connection:
        return (await connection.execute(stmt)).all()


def _loader(batch: Callable[[list[uuid.UUID]], Awaitable[list[Any]]]) -> DataLoader:
    return DataLoader(batch_load_fn=batch)


def _by_id(model: Any) -> Callable[[Context], DataLoader]:
    table = model.__table__

    def factory(ctx: Context) -> DataLoader:
        async def batch(keys: list[uuid.UUID]) -> list[Any]:
            rows = await _fetch(
                ctx, select(table).where(table.c.org_id == ctx.org_id, table.c.id.in_(keys))
            )
            found = {r.id: r for r in rows}
            return [found.get(k) for k in keys]

        return _loader(batch)

    factory.__name__ = f"{table.name}_by_id"
    return factory


category_by_id = _by_id(Category)
product_by_id = _by_id(Product)
location_by_id = _by_id(Location)
customer_by_id = _by_id(Customer)
order_by_id = _by_id(Order)


def _grouped(keys: list[uuid.UUID], rows: Rows, key: str) -> list[list[Any]]:
    groups: dict[uuid.UUID, list[Any]] = defaultdict(list)
    for r in rows:
        groups[getattr(r, key)].append(r)
    return [groups.get(k, []) for k in keys]


def _children(model: Any, parent: str, *order: str) -> Callable[[Context], DataLoader]:
    """A loader of each parent's child rows (a list per key, in `order`)."""
    table = model.__table__

    def factory(ctx: Context) -> DataLoader:
        async def batch(keys: list[uuid.UUID]) -> list[Any]:
            stmt = (
                select(table)
                .where(table.c.org_id == ctx.org_id, table.c[parent].in_(keys))
                .order_by(table.c[parent], *(table.c[o] for o in order))
            )
            return _grouped(keys, await _fetch(ctx, stmt), parent)

        return _loader(batch)

    factory.__name__ = f"{table.name}_by_{parent}"
    return factory


variants_by_product = _children(Variant, "product_id", "position", "id")
options_by_group = _children(ModifierOption, "group_id", "position", "id")
levels_by_product = _children(InventoryLevel, "product_id", "location_id", "item_id")
lines_by_order = _children(OrderLine, "order_id", "position")
payments_by_order = _children(Payment, "order_id", "created_at", "id")
refunds_by_order = _children(Refund, "order_id", "created_at", "id")


def modifier_groups_by_product(ctx: Context) -> DataLoader:
    g, link = ModifierGroup.__table__, ProductModifierGroup.__table__

    async def batch(keys: list[uuid.UUID]) -> list[Any]:
        stmt = (
            select(link.c.product_id, *g.c)
            .join(g, g.c.id == link.c.group_id)
            .where(g.c.org_id == ctx.org_id, link.c.product_id.in_(keys))
            .order_by(link.c.product_id, link.c.position, g.c.id)
        )
        return _grouped(keys, await _fetch(ctx, stmt), "product_id")

    return _loader(batch)


RECENT_ORDERS = 5


def customer_stats(ctx: Context) -> DataLoader:
    """Per customer: sold orders, money kept from them, and the last one's time."""
    from sqlalchemy import func

    from elevatedpos.rules.orders import SOLD_STATUSES

    t = Order.__table__

    async def batch(keys: list[uuid.UUID]) -> list[Any]:
        stmt = (
            select(
                t.c.customer_id,
                func.count().label("order_count"),
                func.coalesce(func.sum(t.c.amount_paid - t.c.amount_refunded), 0).label("spent"),
                func.max(t.c.created_at).label("last_order_at"),
            )
            .where(
                t.c.org_id == ctx.org_id,
                t.c.customer_id.in_(keys),
                t.c.status.in_(SOLD_STATUSES),
            )
            .group_by(t.c.customer_id)
        )
        found = {r.customer_id: r for r in await _fetch(ctx, stmt)}
        return [found.get(k) for k in keys]

    return _loader(batch)


def recent_orders_by_customer(ctx: Context) -> DataLoader:
    """Each customer's newest orders (any status), one windowed query per batch."""
    from sqlalchemy import func

    t = Order.__table__

    async def batch(keys: list[uuid.UUID]) -> list[list[Any]]:
        ranked = (
            select(
                *t.c,
                func.row_number()
                .over(partition_by=t.c.customer_id, order_by=t.c.number.desc())
                .label("rank"),
            )
            .where(t.c.org_id == ctx.org_id, t.c.customer_id.in_(keys))
            .subquery()
        )
        stmt = (
            select(ranked)
            .where(ranked.c.rank <= RECENT_ORDERS)
            .order_by(ranked.c.customer_id, ranked.c.number.desc())
        )
        return _grouped(keys, await _fetch(ctx, stmt), "customer_id")

    return _loader(batch)


def orders_by_customer(ctx: Context) -> DataLoader:
    """Pages of each customer's orders, newest first: key (customer id, first, after).

    Keys asking for the same page shape share one windowed query, so a customers page
    with `orders(first: 3)` costs one statement, not one per customer.
    """
    from sqlalchemy import func

    from elevatedpos.db.pagination import Page, check_first, decode_cursor, encode_cursor

    t = Order.__table__

    async def batch(keys: list[tuple[uuid.UUID, int | None, str | None]]) -> list[Any]:
        shapes: dict[tuple[int | None, str | None], list[uuid.UUID]] = defaultdict(list)
        for customer_id, first, after in keys:
            shapes[(first, after)].append(customer_id)
        pages: dict[tuple[uuid.UUID, int | None, str | None], Any] = {}
        for (first, after), customer_ids in shapes.items():
            limit = check_first(first)
            stmt = select(t).where(t.c.org_id == ctx.org_id, t.c.customer_id.in_(customer_ids))
            if after is not None:
                (position,) = decode_cursor(after, [t.c.number])
                stmt = stmt.where(t.c.number < position)
            ranked = stmt.add_columns(
                func.row_number()
                .over(partition_by=t.c.customer_id, order_by=t.c.number.desc())
                .label("rank")
            ).subquery()
            rows = await _fetch(
                ctx,
                select(ranked)
                .where(ranked.c.rank <= limit + 1)
                .order_by(ranked.c.customer_id, ranked.c.number.desc()),
            )
            grouped = _grouped(customer_ids, rows, "customer_id")
            for customer_id, found in zip(customer_ids, grouped, strict=True):
                items = found[:limit]
                pages[(customer_id, first, after)] = Page(
                    items,
                    [encode_cursor((r.number,)) for r in items],
                    len(found) > limit,
                    limit,
                )
        return [pages[k] for k in keys]

    return _loader(batch)

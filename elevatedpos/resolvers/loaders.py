"""Per-request dataloaders: nested fields load in one query per batch, scoped to the org.

Each batch runs in its own short read transaction (batches may run concurrently, and one
AsyncSession must not be shared between tasks). Rows are Core rows, not ORM instances:
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
    async with ctx.runtime.db.read() as session:
        return (await session.execute(stmt)).all()


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

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
from sqlalchemy import ColumnElement, Select, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY

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
from elevatedpos.db.rows import Prepared, plain_rows
from elevatedpos.schema.context import Context

Rows = Sequence[Any]


async def _fetch(
    ctx: Context, stmt: Select[Any] | Prepared, params: dict[str, Any] | None = None
) -> Rows:
    async with ctx.runtime.db.reader() as connection:
        if isinstance(stmt, Prepared):
            return await stmt.rows(connection, params or {})
        return plain_rows(await connection.execute(stmt, params))


def _among(column: Any, sqlite: bool) -> ColumnElement[bool]:
    """`column IN :keys`; on PostgreSQL `column = ANY(:keys)`: one array parameter, one
    statement text whatever the number of keys (no per-key parameters to render)."""
    if sqlite:
        return column.in_(bindparam("keys", expanding=True))  # type: ignore[no-any-return]
    return column == any_(bindparam("keys", type_=ARRAY(column.type)))  # type: ignore[no-any-return]


class _Statement:
    """A batch's statement, made once (per kind of database) with `:org_id` and `:keys` as
    parameters: building and cache-keying a new statement per batch costs more than the
    round trip's own CPU."""

    def __init__(self, build: Callable[[Callable[[Any], ColumnElement[bool]]], Select[Any]]):
        self._build = build
        self._made: dict[bool, Prepared] = {}

    async def rows(self, ctx: Context, keys: list[Any]) -> Rows:
        sqlite = ctx.runtime.db.is_sqlite
        stmt = self._made.get(sqlite)
        if stmt is None:
            stmt = self._made[sqlite] = Prepared(self._build(lambda column: _among(column, sqlite)))
        return await _fetch(ctx, stmt, {"org_id": ctx.org_id, "keys": keys})


ORG_ID = bindparam("org_id")


def _loader(batch: Callable[[list[uuid.UUID]], Awaitable[list[Any]]]) -> DataLoader:
    return DataLoader(batch_load_fn=batch)


def _by_id(model: Any) -> Callable[[Context], DataLoader]:
    table = model.__table__
    statement = _Statement(
        lambda among: select(table).where(table.c.org_id == ORG_ID, among(table.c.id))
    )

    def factory(ctx: Context) -> DataLoader:
        async def batch(keys: list[uuid.UUID]) -> list[Any]:
            found = {r.id: r for r in await statement.rows(ctx, keys)}
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


def _children(
    model: Any, parent: str, *order: str, parent_columns: tuple[Any, ...] = ()
) -> Callable[[Context], DataLoader]:
    """A loader of each parent's child rows (a list per key, in `order`); `parent_columns`
    (of the table `parent` points to) are joined onto every row."""
    table = model.__table__

    def build(among: Callable[[Any], ColumnElement[bool]]) -> Select[Any]:
        stmt = select(table, *parent_columns)
        if parent_columns:
            parent_table = parent_columns[0].table
            stmt = stmt.join(parent_table, parent_table.c.id == table.c[parent])
        return stmt.where(table.c.org_id == ORG_ID, among(table.c[parent])).order_by(
            table.c[parent], *(table.c[o] for o in order)
        )

    statement = _Statement(build)

    def factory(ctx: Context) -> DataLoader:
        async def batch(keys: list[uuid.UUID]) -> list[Any]:
            return _grouped(keys, await statement.rows(ctx, keys), parent)

        return _loader(batch)

    factory.__name__ = f"{table.name}_by_{parent}"
    return factory


# A variant's price is in its product's currency: it comes with each row.
variants_by_product = _children(
    Variant, "product_id", "position", "id", parent_columns=(Product.__table__.c.currency,)
)
options_by_group = _children(ModifierOption, "group_id", "position", "id")
levels_by_product = _children(InventoryLevel, "product_id", "location_id", "item_id")
lines_by_order = _children(OrderLine, "order_id", "position")
payments_by_order = _children(Payment, "order_id", "created_at", "id")
refunds_by_order = _children(Refund, "order_id", "created_at", "id")

_G, _LINK = ModifierGroup.__table__, ProductModifierGroup.__table__
_MODIFIER_GROUPS = _Statement(
    lambda among: (
        select(_LINK.c.product_id, *_G.c)
        .join(_G, _G.c.id == _LINK.c.group_id)
        .where(_G.c.org_id == ORG_ID, among(_LINK.c.product_id))
        .order_by(_LINK.c.product_id, _LINK.c.position, _G.c.id)
    )
)


def modifier_groups_by_product(ctx: Context) -> DataLoader:
    async def batch(keys: list[uuid.UUID]) -> list[Any]:
        return _grouped(keys, await _MODIFIER_GROUPS.rows(ctx, keys), "product_id")

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

"""Catalog queries and mutations."""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

import strawberry
from sqlalchemy import Select, and_, bindparam, exists, false, or_, select

from elevatedpos.actions import catalog as actions
from elevatedpos.db.models import (
    Category as CategoryRow,
)
from elevatedpos.db.models import (
    ModifierGroup as ModifierGroupRow,
)
from elevatedpos.db.models import (
    PriceList as PriceListRow,
)
from elevatedpos.db.models import (
    PriceListLocation,
    PriceListPrice,
)
from elevatedpos.db.models import (
    Product as ProductRow,
)
from elevatedpos.db.models import (
    ProductModifierGroup as ProductModifierGroupRow,
)
from elevatedpos.db.models import (
    Variant as VariantRow,
)
from elevatedpos.db.pagination import first_page, keyset_page
from elevatedpos.db.rows import Prepared, row_class
from elevatedpos.db.scoping import org_rows, parse_uuid, require_in_org
from elevatedpos.db.search import contains_text
from elevatedpos.resolvers.loaders import category_by_id
from elevatedpos.schema.catalog import (
    Category,
    CreateCategoryInput,
    CreateModifierGroupInput,
    CreatePriceListInput,
    CreateProductInput,
    ModifierGroup,
    PriceList,
    Product,
    ProductFilter,
    ProductStatus,
    UpdateModifierGroupInput,
    UpdateProductInput,
)
from elevatedpos.schema.catalog import (
    PriceListPrice as PriceListPriceType,
)
from elevatedpos.schema.context import Context, Info
from elevatedpos.schema.money import Money
from elevatedpos.schema.pagination import Connection
from elevatedpos.schema.permissions import HasScope

READ = [HasScope("catalog:read")]
WRITE = [HasScope("catalog:write")]


async def load_product(ctx: Context, raw_id: Any) -> Any:
    """A product of the caller's org as a Core row; 404 otherwise."""
    async with ctx.runtime.db.read() as session:
        return await require_in_org(session, ProductRow, raw_id, ctx.org_id, "product")


async def price_lists_by_ids(ctx: Context, rows: list[Any]) -> list[PriceList]:
    """Price lists with their locations and prices, in two queries for any number of lists."""
    ids = [r.id for r in rows]
    locations: dict[uuid.UUID, list[strawberry.ID]] = defaultdict(list)
    prices: dict[uuid.UUID, list[PriceListPriceType]] = defaultdict(list)
    if ids:
        async with ctx.runtime.db.read() as session:
            for r in await session.execute(
                select(PriceListLocation)
                .where(PriceListLocation.price_list_id.in_(ids))
                .order_by(PriceListLocation.price_list_id, PriceListLocation.location_id)
            ):
                link = r[0]
                locations[link.price_list_id].append(strawberry.ID(str(link.location_id)))
            t = PriceListPrice.__table__
            for p in await session.execute(
                select(t)
                .where(t.c.price_list_id.in_(ids))
                .order_by(t.c.price_list_id, t.c.position)
            ):
                prices[p.price_list_id].append(
                    PriceListPriceType(
                        product_id=strawberry.ID(str(p.product_id)),
                        variant_id=strawberry.ID(str(p.variant_id)) if p.variant_id else None,
                        price=Money.of(p.price_amount),
                    )
                )
    return [
        PriceList(
            id=strawberry.ID(str(r.id)),
            name=r.name,
            location_ids=locations[r.id],
            prices=prices[r.id],
        )
        for r in rows
    ]


_P, _C = ProductRow.__table__, CategoryRow.__table__
_PRODUCT_KEYS = [_P.c.name, _P.c.id]
# A products page brings along what its items' nested fields would load next: each
# product's category row (one LEFT JOIN: the category loader is primed, no second round
# trip) and whether it has variants or modifier groups at all (their loaders are asked only
# for products that do). See `Product.variants` and friends.
_CATEGORY_FROM = len(_P.c)
# the same named tuple class the category loader's own rows have
_CATEGORY_ROW = row_class(tuple(c.key for c in _C.c))


def _products_page(*where: Any) -> Select[Any]:
    variants, links = VariantRow.__table__, ProductModifierGroupRow.__table__
    return (
        select(
            _P,
            *(c.label(f"category__{c.key}") for c in _C.c),
            exists().where(variants.c.product_id == _P.c.id).label("has_variants"),
            exists().where(links.c.product_id == _P.c.id).label("has_modifier_groups"),
        )
        .select_from(
            _P.outerjoin(_C, and_(_C.c.id == _P.c.category_id, _C.c.org_id == _P.c.org_id))
        )
        .where(*where)
    )


def _prime_categories(ctx: Context, rows: list[Any]) -> None:
    """Give the request's category loader the categories the page's rows carry."""
    loader = ctx.loader(category_by_id)
    end = _CATEGORY_FROM + len(_C.c)
    seen: set[Any] = set()
    for row in rows:
        category_id = row.category_id
        if category_id is None or category_id in seen or row[_CATEGORY_FROM] is None:
            continue
        seen.add(category_id)
        loader.prime(category_id, _CATEGORY_ROW._make(row[_CATEGORY_FROM:end]))


_FIRST_PRODUCTS = Prepared(
    _products_page(_P.c.org_id == bindparam("org_id"), _P.c.status == bindparam("status"))
    .order_by(*_PRODUCT_KEYS)
    .limit(bindparam("limit"))
)


@strawberry.type
class CatalogQuery:
    @strawberry.field(
        description="Products by name; archived ones only with `filter: {status: ARCHIVED}`",
        permission_classes=READ,
    )
    async def products(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: ProductFilter | None = None,
    ) -> Connection[Product]:
        ctx = info.context
        t = _P
        f = filter or ProductFilter()
        status = (f.status or ProductStatus.ACTIVE).value
        if not f.search and f.category_id is None and after is None:
            # The page every catalog screen opens with: a statement built once.
            async with ctx.runtime.db.reader() as connection:
                page = await first_page(
                    connection,
                    _FIRST_PRODUCTS,
                    {"org_id": ctx.org_id, "status": status},
                    _PRODUCT_KEYS,
                    first=first,
                )
            _prime_categories(ctx, page.items)
            return Connection[Product].from_page(page, Product.from_row)
        stmt = _products_page(t.c.org_id == ctx.org_id, t.c.status == status)
        if f.search:
            stmt = stmt.where(
                or_(contains_text(t.c.name, f.search), contains_text(t.c.sku, f.search))
            )
        if f.category_id is not None:
            category_id = parse_uuid(f.category_id)
            stmt = stmt.where(
                t.c.category_id == category_id if category_id is not None else false()
            )
        async with ctx.runtime.db.reader() as connection:
            page = await keyset_page(connection, stmt, _PRODUCT_KEYS, first=first, after=after)
        _prime_categories(ctx, page.items)
        return Connection[Product].from_page(page, Product.from_row)

    @strawberry.field(description="One product by id", permission_classes=READ)
    async def product(self, info: Info, id: strawberry.ID) -> Product:
        return Product.from_row(await load_product(info.context, id))

    @strawberry.field(description="Categories by sort order, then name", permission_classes=READ)
    async def categories(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Category]:
        ctx = info.context
        t = CategoryRow.__table__
        async with ctx.runtime.db.read() as session:
            page = await keyset_page(
                session,
                org_rows(CategoryRow, ctx.org_id),
                [t.c.sort_order, t.c.name, t.c.id],
                first=first,
                after=after,
            )
        return Connection[Category].from_page(page, Category.from_row)

    @strawberry.field(description="Modifier groups by name", permission_classes=READ)
    async def modifier_groups(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[ModifierGroup]:
        ctx = info.context
        t = ModifierGroupRow.__table__
        async with ctx.runtime.db.read() as session:
            page = await keyset_page(
                session,
                org_rows(ModifierGroupRow, ctx.org_id),
                [t.c.name, t.c.id],
                first=first,
                after=after,
            )
        return Connection[ModifierGroup].from_page(page, ModifierGroup.from_row)

    @strawberry.field(description="Price lists by name", permission_classes=READ)
    async def price_lists(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[PriceList]:
        ctx = info.context
        t = PriceListRow.__table__
        async with ctx.runtime.db.read() as session:
            page = await keyset_page(
                session,
                org_rows(PriceListRow, ctx.org_id),
                [t.c.name, t.c.id],
                first=first,
                after=after,
            )
        lists = await price_lists_by_ids(ctx, page.items)
        by_id = {pl.id: pl for pl in lists}
        return Connection[PriceList].from_page(page, lambda row: by_id[str(row.id)])


@strawberry.type
class CatalogMutation:
    @strawberry.mutation(description="Create a product", permission_classes=WRITE)
    async def create_product(self, info: Info, input: CreateProductInput) -> Product:
        ctx = info.context
        row = await actions.create_product(ctx.runtime.db, ctx.org_id, input)
        return Product.from_row(row)

    @strawberry.mutation(description="Change a product's fields", permission_classes=WRITE)
    async def update_product(
        self,
        info: Info,
        id: strawberry.ID,
        input: UpdateProductInput,
        expected_version: int | None = None,
    ) -> Product:
        ctx = info.context
        current = await load_product(ctx, id)
        row = await actions.update_product(
            ctx.runtime.db, ctx.org_id, current, input, expected_version
        )
        return Product.from_row(row)

    @strawberry.mutation(description="Archive (soft-delete) a product", permission_classes=WRITE)
    async def archive_product(self, info: Info, id: strawberry.ID) -> Product:
        ctx = info.context
        current = await load_product(ctx, id)
        return Product.from_row(await actions.archive_product(ctx.runtime.db, ctx.org_id, current))

    @strawberry.mutation(description="Create a category", permission_classes=WRITE)
    async def create_category(self, info: Info, input: CreateCategoryInput) -> Category:
        ctx = info.context
        return Category.from_row(await actions.create_category(ctx.runtime.db, ctx.org_id, input))

    @strawberry.mutation(
        description="Create a modifier group with its options", permission_classes=WRITE
    )
    async def create_modifier_group(
        self, info: Info, input: CreateModifierGroupInput
    ) -> ModifierGroup:
        ctx = info.context
        row = await actions.create_modifier_group(ctx.runtime.db, ctx.org_id, input)
        return ModifierGroup.from_row(row)

    @strawberry.mutation(
        description="Change a modifier group; `options` replaces them (send ids to keep)",
        permission_classes=WRITE,
    )
    async def update_modifier_group(
        self,
        info: Info,
        id: strawberry.ID,
        input: UpdateModifierGroupInput,
        expected_version: int | None = None,
    ) -> ModifierGroup:
        ctx = info.context
        async with ctx.runtime.db.read() as session:
            current = await require_in_org(
                session, ModifierGroupRow, id, ctx.org_id, "modifier group"
            )
        row = await actions.update_modifier_group(
            ctx.runtime.db, ctx.org_id, current, input, expected_version
        )
        return ModifierGroup.from_row(row)

    @strawberry.mutation(
        description="Create a price list for some locations", permission_classes=WRITE
    )
    async def create_price_list(self, info: Info, input: CreatePriceListInput) -> PriceList:
        ctx = info.context
        price_list_id = await actions.create_price_list(ctx.runtime.db, ctx.org_id, input)
        t = PriceListRow.__table__
        async with ctx.runtime.db.read() as session:
            row = (await session.execute(select(t).where(t.c.id == price_list_id))).one()
        (price_list,) = await price_lists_by_ids(ctx, [row])
        return price_list

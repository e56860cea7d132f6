"""Catalog types: products, variants, categories, modifier groups and price lists."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from elevatedpos.executor.batch import NO_LOAD, loaded_field
from elevatedpos.resolvers.loaders import (
    category_by_id,
    modifier_groups_by_product,
    options_by_group,
    variants_by_product,
)
from elevatedpos.schema.context import Info
from elevatedpos.schema.money import Money, MoneyInput
from elevatedpos.schema.node import Node

if TYPE_CHECKING:
    from elevatedpos.schema.inventory import InventoryLevel


def _id(value: uuid.UUID | None) -> strawberry.ID | None:
    return None if value is None else strawberry.ID(str(value))


@strawberry.enum
class ProductStatus(Enum):
    ACTIVE = "active"
    ARCHIVED = "archived"


_STATUSES = {status.value: status for status in ProductStatus}


@strawberry.type
class Category(Node):
    name: str
    parent_id: strawberry.ID | None
    sort_order: int
    row: strawberry.Private[Any] = None  # the row it came from: raw ids for the loaders

    @strawberry.field(description="The parent category, when there is one")
    @loaded_field(
        category_by_id,
        lambda c: NO_LOAD if c.parent_id is None else c.row.parent_id,
        lambda row: None if row is None else Category.from_row(row),
    )
    async def parent(self, info: Info) -> Category | None: ...

    @classmethod
    def from_row(cls, row: Any) -> Category:
        parent_id = row.parent_id
        return cls(
            id=str(row.id),
            name=row.name,
            parent_id=None if parent_id is None else str(parent_id),
            sort_order=row.sort_order,
            row=row,
        )


@strawberry.type
class Variant(Node):
    name: str
    sku: str
    price: Money

    @classmethod
    def from_row(cls, row: Any, currency: str) -> Variant:
        return cls(
            id=strawberry.ID(str(row.id)),
            name=row.name,
            sku=row.sku,
            price=Money.of(row.price_amount, currency),
        )


@strawberry.type
class ModifierOption(Node):
    name: str
    price_delta: Money

    @classmethod
    def from_row(cls, row: Any) -> ModifierOption:
        return cls(
            id=strawberry.ID(str(row.id)),
            name=row.name,
            price_delta=Money.of(row.price_delta_amount),
        )


@strawberry.type
class ModifierGroup(Node):
    name: str
    min_selections: int
    max_selections: int
    version: int
    row: strawberry.Private[Any] = None

    @strawberry.field(description="The choices, in order")
    @loaded_field(
        options_by_group,
        lambda g: g.row.id,
        lambda rows: [ModifierOption.from_row(r) for r in rows],
    )
    async def options(self, info: Info) -> list[ModifierOption]: ...

    @classmethod
    def from_row(cls, row: Any) -> ModifierGroup:
        return cls(
            id=strawberry.ID(str(row.id)),
            name=row.name,
            min_selections=row.min_selections,
            max_selections=row.max_selections,
            version=row.version,
            row=row,
        )


@strawberry.type
class Product(Node):
    name: str
    sku: str
    description: str
    price: Money
    tax_rate: int = strawberry.field(description="Basis points: 1000 is 10 % GST")
    category_id: strawberry.ID | None
    status: ProductStatus
    track_inventory: bool
    reorder_point: int
    created_at: datetime
    updated_at: datetime
    version: int
    row: strawberry.Private[Any] = None

    # Loaded fields: one dataloader key each (a compiled plan loads a page's keys at once).
    # A row of a products page says whether there is anything to load (`has_variants`,
    # `has_modifier_groups`); other rows do not, and load.
    @strawberry.field(description="Sizes and other sellable variations, in order")
    @loaded_field(
        variants_by_product,
        lambda p: p.row.id if getattr(p.row, "has_variants", True) else NO_LOAD,
        lambda rows: [Variant.from_row(r, r.currency) for r in rows or ()],
    )
    async def variants(self, info: Info) -> list[Variant]: ...

    @strawberry.field
    @loaded_field(
        modifier_groups_by_product,
        lambda p: p.row.id if getattr(p.row, "has_modifier_groups", True) else NO_LOAD,
        lambda rows: [strawberry.ID(str(r.id)) for r in rows or ()],
    )
    async def modifier_group_ids(self, info: Info) -> list[strawberry.ID]: ...

    @strawberry.field
    @loaded_field(
        modifier_groups_by_product,
        lambda p: p.row.id if getattr(p.row, "has_modifier_groups", True) else NO_LOAD,
        lambda rows: [ModifierGroup.from_row(r) for r in rows or ()],
    )
    async def modifier_groups(self, info: Info) -> list[ModifierGroup]: ...

    @strawberry.field
    @loaded_field(
        category_by_id,
        lambda p: NO_LOAD if p.category_id is None else p.row.category_id,
        lambda row: None if row is None else Category.from_row(row),
    )
    async def category(self, info: Info) -> Category | None: ...

    @strawberry.field(description="Stock of this product (or its variants) at each location")
    async def stock_levels(
        self, info: Info
    ) -> list[Annotated[InventoryLevel, strawberry.lazy("elevatedpos.schema.inventory")]]:
        from elevatedpos.resolvers.loaders import levels_by_product
        from elevatedpos.schema.inventory import InventoryLevel

        rows = await info.context.loader(levels_by_product).load(self.row.id)
        return [InventoryLevel.from_row(r, self.reorder_point) for r in rows]

    @classmethod
    def from_row(cls, row: Any) -> Product:
        category_id = row.category_id
        return cls(
            id=str(row.id),  # strawberry.ID is str (a NewType): no call needed per row
            name=row.name,
            sku=row.sku,
            description=row.description,
            price=Money(amount=row.price_amount, currency=row.currency),
            tax_rate=row.tax_rate,
            category_id=None if category_id is None else str(category_id),
            status=_STATUSES.get(row.status) or ProductStatus(row.status),
            track_inventory=row.track_inventory,
            reorder_point=row.reorder_point,
            created_at=row.created_at,
            updated_at=row.updated_at,
            version=row.version,
            row=row,
        )


@strawberry.type
class PriceListPrice:
    product_id: strawberry.ID
    variant_id: strawberry.ID | None
    price: Money


@strawberry.type
class PriceList(Node):
    name: str
    location_ids: list[strawberry.ID]
    prices: list[PriceListPrice]


@strawberry.input
class ProductFilter:
    search: str | None = strawberry.field(
        default=None, description="Case-insensitive substring of the name or SKU"
    )
    category_id: strawberry.ID | None = None
    status: ProductStatus | None = strawberry.field(
        default=None, description="ACTIVE when omitted; ARCHIVED lists archived products"
    )


@strawberry.input
class VariantInput:
    id: strawberry.ID | None = strawberry.field(
        default=None, description="On update: keep this existing variant (and its stock)"
    )
    name: str
    sku: str
    price: MoneyInput | None = strawberry.field(
        default=None, description="The product's price when omitted"
    )


@strawberry.input
class CreateProductInput:
    name: str
    sku: str
    price: MoneyInput
    description: str = ""
    tax_rate: int = 1000
    category_id: strawberry.ID | None = None
    track_inventory: bool = True
    reorder_point: int = 0
    variants: list[VariantInput] = strawberry.field(default_factory=list)
    modifier_group_ids: list[strawberry.ID] = strawberry.field(default_factory=list)


@strawberry.input
class UpdateProductInput:
    name: str | None = None
    sku: str | None = None
    price: MoneyInput | None = None
    description: str | None = None
    tax_rate: int | None = None
    category_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="null removes the category"
    )
    status: ProductStatus | None = None
    track_inventory: bool | None = None
    reorder_point: int | None = None
    variants: list[VariantInput] | None = strawberry.field(
        default=None, description="Replaces the variants: keep one by sending its id"
    )
    modifier_group_ids: list[strawberry.ID] | None = None


@strawberry.input
class CreateCategoryInput:
    name: str
    parent_id: strawberry.ID | None = None
    sort_order: int = 0


@strawberry.input
class ModifierOptionInput:
    id: strawberry.ID | None = strawberry.field(
        default=None, description="On update: keep this existing option"
    )
    name: str
    price_delta: MoneyInput | None = None


@strawberry.input
class CreateModifierGroupInput:
    name: str
    options: list[ModifierOptionInput]
    min_selections: int = 0
    max_selections: int = 1


@strawberry.input
class UpdateModifierGroupInput:
    name: str | None = None
    options: list[ModifierOptionInput] | None = None
    min_selections: int | None = None
    max_selections: int | None = None


@strawberry.input
class PriceListPriceInput:
    product_id: strawberry.ID
    variant_id: strawberry.ID | None = None
    price: MoneyInput


@strawberry.input
class CreatePriceListInput:
    name: str
    location_ids: list[strawberry.ID]
    prices: list[PriceListPriceInput]

"""Inventory types: levels, movements (the audit trail), alerts."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import strawberry

from elevatedpos.schema.catalog import Product, _id
from elevatedpos.schema.context import Info
from elevatedpos.schema.node import Node
from elevatedpos.schema.orgs import Location


@strawberry.enum
class MovementType(Enum):
    ADJUSTMENT = "adjustment"
    TRANSFER_OUT = "transfer_out"
    TRANSFER_IN = "transfer_in"
    SALE = "sale"
    VOID = "void"
    REFUND = "refund"


@strawberry.enum
class AdjustmentReason(Enum):
    RECEIVED = "received"
    DAMAGED = "damaged"
    THEFT = "theft"
    COUNT_CORRECTION = "count_correction"
    RETURN = "return"
    OTHER = "other"


@strawberry.enum
class AlertType(Enum):
    LOW_STOCK = "low_stock"
    OUT_OF_STOCK = "out_of_stock"


@strawberry.type
class InventoryLevel:
    product_id: strawberry.ID
    variant_id: strawberry.ID | None
    location_id: strawberry.ID
    on_hand: int
    reorder_point: int
    row: strawberry.Private[Any] = None

    @strawberry.field
    async def product(self, info: Info) -> Product | None:
        from elevatedpos.resolvers.loaders import product_by_id

        row = await info.context.loader(product_by_id).load(self.row.product_id)
        return None if row is None else Product.from_row(row)

    @strawberry.field
    async def location(self, info: Info) -> Location | None:
        from elevatedpos.resolvers.loaders import location_by_id

        row = await info.context.loader(location_by_id).load(self.row.location_id)
        return None if row is None else Location.from_row(row)

    @classmethod
    def from_row(cls, row: Any, reorder_point: int) -> InventoryLevel:
        return cls(
            product_id=strawberry.ID(str(row.product_id)),
            variant_id=_id(row.variant_id),
            location_id=strawberry.ID(str(row.location_id)),
            on_hand=row.on_hand,
            reorder_point=reorder_point,
            row=row,
        )


@strawberry.type
class InventoryMovement(Node):
    product_id: strawberry.ID
    variant_id: strawberry.ID | None
    location_id: strawberry.ID
    delta: int
    balance_after: int
    type: MovementType
    reason: AdjustmentReason | None
    reference_id: strawberry.ID | None
    user_id: strawberry.ID | None
    note: str | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> InventoryMovement:
        return cls(
            id=strawberry.ID(str(row.id)),
            product_id=strawberry.ID(str(row.product_id)),
            variant_id=_id(row.variant_id),
            location_id=strawberry.ID(str(row.location_id)),
            delta=row.delta,
            balance_after=row.balance_after,
            type=MovementType(row.type),
            reason=AdjustmentReason(row.reason) if row.reason else None,
            reference_id=_id(row.reference_id),
            user_id=_id(row.user_id),
            note=row.note,
            created_at=row.created_at,
        )


@strawberry.type
class InventoryAlert:
    product_id: strawberry.ID
    variant_id: strawberry.ID | None
    location_id: strawberry.ID
    on_hand: int
    reorder_point: int
    type: AlertType


@strawberry.type(description="What an adjustment or transfer did: levels after it, movements")
class InventoryChange:
    levels: list[InventoryLevel]
    movements: list[InventoryMovement]


@strawberry.input
class InventoryLevelFilter:
    product_id: strawberry.ID | None = None
    location_id: strawberry.ID | None = None


@strawberry.input
class InventoryMovementFilter:
    product_id: strawberry.ID | None = None
    location_id: strawberry.ID | None = None
    type: MovementType | None = None


@strawberry.input
class AdjustInventoryInput:
    product_id: strawberry.ID
    location_id: strawberry.ID
    delta: int
    reason: AdjustmentReason
    variant_id: strawberry.ID | None = None
    note: str | None = None


@strawberry.input
class TransferInventoryInput:
    product_id: strawberry.ID
    from_location_id: strawberry.ID
    to_location_id: strawberry.ID
    quantity: int
    variant_id: strawberry.ID | None = None
    note: str | None = None

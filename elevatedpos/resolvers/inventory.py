"""Inventory queries (levels, movements, alerts) and mutations (adjust, transfer)."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy import Select, false, select

from elevatedpos.actions import inventory as actions
from elevatedpos.db.models import InventoryLevel as LevelRow
from elevatedpos.db.models import InventoryMovement as MovementRow
from elevatedpos.db.models import Product as ProductRow
from elevatedpos.db.pagination import keyset_page
from elevatedpos.db.scoping import org_rows, parse_uuid
from elevatedpos.rules.stock import alert_type
from elevatedpos.schema.context import Info
from elevatedpos.schema.inventory import (
    AdjustInventoryInput,
    AlertType,
    InventoryAlert,
    InventoryChange,
    InventoryLevel,
    InventoryLevelFilter,
    InventoryMovement,
    InventoryMovementFilter,
    TransferInventoryInput,
)
from elevatedpos.schema.pagination import Connection
from elevatedpos.schema.permissions import HasScope

READ = [HasScope("inventory:read")]
WRITE = [HasScope("inventory:write")]


def _levels_with_products(org_id: Any) -> Select[Any]:
    """Levels joined to their product's reorder point (one query, no per-row lookups)."""
    lv, p = LevelRow.__table__, ProductRow.__table__
    return (
        select(*lv.c, p.c.reorder_point, p.c.track_inventory, p.c.status)
        .join(p, p.c.id == lv.c.product_id)
        .where(lv.c.org_id == org_id)
    )


def _filtered(stmt: Select[Any], table: Any, product_id: Any, location_id: Any) -> Select[Any]:
    # An id in a query filter that names nothing matches nothing: an empty list, not an error.
    for column, raw in ((table.c.product_id, product_id), (table.c.location_id, location_id)):
        if raw is not None:
            value = parse_uuid(raw)
            stmt = stmt.where(column == value) if value is not None else stmt.where(false())
    return stmt


def _change(changes: list[actions.StockChange], reorder_point: int) -> InventoryChange:
    return InventoryChange(
        levels=[InventoryLevel.from_row(c.level, reorder_point) for c in changes],
        movements=[InventoryMovement.from_row(c.movement) for c in changes],
    )


@strawberry.type
class InventoryQuery:
    @strawberry.field(description="Stock levels across locations", permission_classes=READ)
    async def inventory_levels(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: InventoryLevelFilter | None = None,
    ) -> Connection[InventoryLevel]:
        ctx = info.context
        f = filter or InventoryLevelFilter()
        lv = LevelRow.__table__
        stmt = _filtered(_levels_with_products(ctx.org_id), lv, f.product_id, f.location_id)
        async with ctx.runtime.db.read() as session:
            page = await keyset_page(session, stmt, [lv.c.id], first=first, after=after)
        return Connection[InventoryLevel].from_page(
            page, lambda r: InventoryLevel.from_row(r, r.reorder_point)
        )

    @strawberry.field(
        description="The audit trail of stock changes, newest first", permission_classes=READ
    )
    async def inventory_movements(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: InventoryMovementFilter | None = None,
    ) -> Connection[InventoryMovement]:
        ctx = info.context
        f = filter or InventoryMovementFilter()
        t = MovementRow.__table__
        stmt = _filtered(org_rows(MovementRow, ctx.org_id), t, f.product_id, f.location_id)
        if f.type is not None:
            stmt = stmt.where(t.c.type == f.type.value)
        async with ctx.runtime.db.read() as session:
            page = await keyset_page(
                session, stmt, [t.c.created_at, t.c.id], first=first, after=after, descending=True
            )
        return Connection[InventoryMovement].from_page(page, InventoryMovement.from_row)

    @strawberry.field(
        description="Tracked stock at or below its reorder point", permission_classes=READ
    )
    async def inventory_alerts(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: InventoryLevelFilter | None = None,
    ) -> Connection[InventoryAlert]:
        ctx = info.context
        f = filter or InventoryLevelFilter()
        lv, p = LevelRow.__table__, ProductRow.__table__
        stmt = _filtered(_levels_with_products(ctx.org_id), lv, f.product_id, f.location_id).where(
            p.c.track_inventory.is_(True),
            p.c.status == "active",
            lv.c.on_hand <= p.c.reorder_point,
        )
        async with ctx.runtime.db.read() as session:
            page = await keyset_page(session, stmt, [lv.c.id], first=first, after=after)

        def to_alert(r: Any) -> InventoryAlert:
            level = InventoryLevel.from_row(r, r.reorder_point)
            return InventoryAlert(
                product_id=level.product_id,
                variant_id=level.variant_id,
                location_id=level.location_id,
                on_hand=level.on_hand,
                reorder_point=level.reorder_point,
                type=AlertType(alert_type(r.on_hand, r.reorder_point)),
            )

        return Connection[InventoryAlert].from_page(page, to_alert)


@strawberry.type
class InventoryMutation:
    @strawberry.mutation(
        description="Add or remove stock with a reason code", permission_classes=WRITE
    )
    async def adjust_inventory(self, info: Info, input: AdjustInventoryInput) -> InventoryChange:
        ctx = info.context
        changes, product = await actions.adjust_inventory(
            ctx.runtime.db, ctx.org_id, ctx.auth.user_id, input
        )
        return _change(changes, product.reorder_point)

    @strawberry.mutation(
        description="Move stock between two locations in one transaction",
        permission_classes=WRITE,
    )
    async def transfer_inventory(
        self, info: Info, input: TransferInventoryInput
    ) -> InventoryChange:
        ctx = info.context
        changes, product = await actions.transfer_inventory(
            ctx.runtime.db, ctx.org_id, ctx.auth.user_id, input
        )
        return _change(changes, product.reorder_point)

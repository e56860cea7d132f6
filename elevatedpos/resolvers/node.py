"""`node(id:)`: any resource of the caller's org by its UUID."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import strawberry
from sqlalchemy import select

from elevatedpos.db import models
from elevatedpos.db.scoping import parse_uuid
from elevatedpos.resolvers.catalog import price_lists_by_ids
from elevatedpos.schema import (
    automations,
    campaigns,
    catalog,
    customers,
    integrations,
    inventory,
    loyalty,
    orders,
    orgs,
)
from elevatedpos.schema.context import Context, Info
from elevatedpos.schema.node import Node


@dataclass(frozen=True)
class NodeType:
    model: Any
    scope: str
    build: Callable[[Any], Node]
    finish: Callable[[Context, Any], Awaitable[Node]] | None = None


async def _price_list(ctx: Context, row: Any) -> Node:
    (price_list,) = await price_lists_by_ids(ctx, [row])
    return price_list


# Each domain adds its types here; ids are UUIDs, unique across tables.
NODE_TYPES: list[NodeType] = [
    NodeType(models.Location, "locations:read", orgs.Location.from_row),
    NodeType(models.User, "users:read", orgs.User.from_row),
    NodeType(models.Product, "catalog:read", catalog.Product.from_row),
    NodeType(models.Category, "catalog:read", catalog.Category.from_row),
    NodeType(models.ModifierGroup, "catalog:read", catalog.ModifierGroup.from_row),
    NodeType(models.PriceList, "catalog:read", lambda row: row, _price_list),
    NodeType(models.InventoryMovement, "inventory:read", inventory.InventoryMovement.from_row),
    NodeType(models.Customer, "customers:read", customers.Customer.from_row),
    NodeType(models.Campaign, "campaigns:read", campaigns.Campaign.from_row),
    NodeType(models.LoyaltyProgram, "loyalty:read", loyalty.LoyaltyProgram.from_row),
    NodeType(models.Automation, "automations:read", automations.Automation.from_row),
    NodeType(models.Integration, "integrations:read", integrations.Integration.from_row),
    NodeType(models.Webhook, "integrations:read", integrations.Webhook.from_row),
    NodeType(models.Order, "orders:read", orders.Order.from_row),
    NodeType(models.Payment, "payments:read", orders.Payment.from_row),
    NodeType(models.Refund, "orders:read", orders.Refund.from_row),
]


async def find_node(ctx: Context, node_id: uuid.UUID) -> Node | None:
    """The org's resource with this id that the caller may read, or None."""
    principal = ctx.auth
    async with ctx.runtime.db.read() as session:
        for entry in NODE_TYPES:
            if not principal.has_scope(entry.scope):
                continue
            table = entry.model.__table__
            row = (
                await session.execute(
                    select(table).where(table.c.id == node_id, table.c.org_id == ctx.org_id)
                )
            ).first()
            if row is not None:
                if entry.finish is not None:
                    return await entry.finish(ctx, row)
                return entry.build(row)
    return None


@strawberry.type
class NodeQuery:
    @strawberry.field(description="Any resource of your org by id, or null")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        node_id = parse_uuid(id)
        return None if node_id is None else await find_node(info.context, node_id)

"""`node(id:)`: any resource of the caller's org by its UUID."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry

from elevatedpos.db.models import Location as LocationRow
from elevatedpos.db.models import User as UserRow
from elevatedpos.db.scoping import get_in_org, parse_uuid
from elevatedpos.schema.context import Info
from elevatedpos.schema.node import Node
from elevatedpos.schema.orgs import Location, User

# Each domain adds its (model, GraphQL type builder) here; ids are UUIDs, unique across tables.
NODE_TYPES: list[tuple[type[Any], Callable[[Any], Node]]] = [
    (LocationRow, Location.from_row),
    (UserRow, User.from_row),
]


@strawberry.type
class NodeQuery:
    @strawberry.field(description="Any resource of your org by id, or null")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        ctx = info.context
        if parse_uuid(id) is None:
            return None
        async with ctx.runtime.db.read() as session:
            for model, to_node in NODE_TYPES:
                row = await get_in_org(session, model, id, ctx.org_id)
                if row is not None:
                    return to_node(row)
        return None

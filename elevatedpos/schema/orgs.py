"""Users and locations."""

from __future__ import annotations

from enum import Enum

import strawberry

from elevatedpos.db.models import Location as LocationRow
from elevatedpos.db.models import User as UserRow
from elevatedpos.schema.node import Node


@strawberry.enum
class Role(Enum):
    OWNER = "owner"
    ADMIN = "admin"
    MANAGER = "manager"
    STAFF = "staff"


@strawberry.type
class User(Node):
    email: str
    org_id: strawberry.ID
    name: str
    role: Role

    @classmethod
    def from_row(cls, row: UserRow) -> User:
        return cls(
            id=strawberry.ID(str(row.id)),
            email=row.email,
            org_id=strawberry.ID(str(row.org_id)),
            name=row.name,
            role=Role(row.role),
        )


@strawberry.type
class Location(Node):
    name: str
    timezone: str
    version: int

    @classmethod
    def from_row(cls, row: LocationRow) -> Location:
        return cls(
            id=strawberry.ID(str(row.id)), name=row.name, timezone=row.timezone, version=row.version
        )


@strawberry.input
class CreateLocationInput:
    name: str
    timezone: str | None = strawberry.field(
        default=None, description="IANA time zone; Australia/Sydney when omitted"
    )


@strawberry.input
class UpdateLocationInput:
    name: str | None = None
    timezone: str | None = None

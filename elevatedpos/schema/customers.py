"""Customer types: the customer, its upsert payload, its filter and inputs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from elevatedpos.schema.node import Node


@strawberry.type
class Customer(Node):
    first_name: str
    last_name: str
    email: str = strawberry.field(description="Lower-cased; unique within the org")
    phone: str | None
    tags: list[str]
    marketing_opt_in: bool
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def from_row(cls, row: Any) -> Customer:
        return cls(
            id=strawberry.ID(str(row.id)),
            first_name=row.first_name,
            last_name=row.last_name,
            email=row.email,
            phone=row.phone,
            tags=list(row.tags),
            marketing_opt_in=row.marketing_opt_in,
            created_at=row.created_at,
            updated_at=row.updated_at,
            version=row.version,
        )


@strawberry.type
class UpsertCustomerPayload:
    customer: Customer
    created: bool = strawberry.field(
        description="True when no customer had this email (REST answers 201, else 200)"
    )


@strawberry.input
class CustomerFilter:
    search: str | None = strawberry.field(
        default=None,
        description="Case-insensitive substring of the first, last or full name, email or phone",
    )
    tag: str | None = strawberry.field(
        default=None, description="Customers carrying this tag (case-insensitive)"
    )


@strawberry.input
class UpsertCustomerInput:
    email: str = strawberry.field(description="The upsert key: matched case-insensitively")
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = strawberry.field(
        default=strawberry.UNSET, description="null removes the phone"
    )
    tags: list[str] | None = strawberry.field(
        default=None, description="Replaces the tags; at most 50, each 1 to 50 characters"
    )
    marketing_opt_in: bool | None = None


@strawberry.input
class UpdateCustomerInput:
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = strawberry.field(
        default=strawberry.UNSET, description="null removes the phone"
    )
    tags: list[str] | None = strawberry.field(
        default=None, description="Replaces the tags; at most 50, each 1 to 50 characters"
    )
    marketing_opt_in: bool | None = None

"""Customer queries and mutations."""

from __future__ import annotations

import strawberry
from sqlalchemy import func, or_

from elevatedpos.actions import customers as actions
from elevatedpos.db.models import Customer as CustomerRow
from elevatedpos.db.pagination import keyset_page
from elevatedpos.db.scoping import org_rows, require_in_org
from elevatedpos.db.search import contains_text, json_list_has
from elevatedpos.schema.context import Info
from elevatedpos.schema.customers import (
    Customer,
    CustomerFilter,
    UpdateCustomerInput,
    UpsertCustomerInput,
    UpsertCustomerPayload,
)
from elevatedpos.schema.pagination import Connection
from elevatedpos.schema.permissions import HasScope

READ = [HasScope("customers:read")]
WRITE = [HasScope("customers:write")]


@strawberry.type
class CustomersQuery:
    @strawberry.field(
        description="Customers by last name, then first name", permission_classes=READ
    )
    async def customers(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: CustomerFilter | None = None,
    ) -> Connection[Customer]:
        ctx = info.context
        t = CustomerRow.__table__
        f = filter or CustomerFilter()
        stmt = org_rows(CustomerRow, ctx.org_id)
        if f.search:
            full_name = t.c.first_name + " " + t.c.last_name
            matches = [contains_text(c, f.search) for c in (full_name, t.c.email)]
            compact = f.search.replace(" ", "")
            if compact:
                # Spaces don't count in phones: "0412345678" and "0412 345" find "0412 345 678".
                matches.append(contains_text(func.replace(t.c.phone, " ", ""), compact))
            stmt = stmt.where(or_(*matches))
        if f.tag:
            stmt = stmt.where(json_list_has(t.c.tags, f.tag, ctx.runtime.db.dialect))
        async with ctx.runtime.db.read() as session:
            page = await keyset_page(
                session, stmt, [t.c.last_name, t.c.first_name, t.c.id], first=first, after=after
            )
        return Connection[Customer].from_page(page, Customer.from_row)

    @strawberry.field(description="One customer by id", permission_classes=READ)
    async def customer(self, info: Info, id: strawberry.ID) -> Customer:
        ctx = info.context
        async with ctx.runtime.db.read() as session:
            row = await require_in_org(session, CustomerRow, id, ctx.org_id, "customer")
        return Customer.from_row(row)


@strawberry.type
class CustomersMutation:
    @strawberry.mutation(
        description="Create a customer, or update the one with this email (`created` says which)",
        permission_classes=WRITE,
    )
    async def upsert_customer(
        self, info: Info, input: UpsertCustomerInput
    ) -> UpsertCustomerPayload:
        ctx = info.context
        row, created = await actions.upsert_customer(ctx.runtime.db, ctx.org_id, input)
        return UpsertCustomerPayload(customer=Customer.from_row(row), created=created)

    @strawberry.mutation(description="Change a customer's fields", permission_classes=WRITE)
    async def update_customer(
        self,
        info: Info,
        id: strawberry.ID,
        input: UpdateCustomerInput,
        expected_version: int | None = None,
    ) -> Customer:
        ctx = info.context
        row = await actions.update_customer(ctx.runtime.db, ctx.org_id, id, input, expected_version)
        return Customer.from_row(row)

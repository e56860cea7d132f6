"""Loyalty queries (programs, a member) and mutations (create a program, accrue, redeem)."""

from __future__ import annotations

import strawberry

from elevatedpos.actions import loyalty as actions
from elevatedpos.db.models import LoyaltyProgram as ProgramRow
from elevatedpos.db.pagination import keyset_page
from elevatedpos.db.scoping import org_rows
from elevatedpos.schema.context import Info
from elevatedpos.schema.loyalty import (
    AccruePointsInput,
    CreateLoyaltyProgramInput,
    LoyaltyMember,
    LoyaltyProgram,
    RedeemPointsInput,
)
from elevatedpos.schema.pagination import Connection
from elevatedpos.schema.permissions import HasScope

READ = [HasScope("loyalty:read")]
WRITE = [HasScope("loyalty:write")]


def _member(member: actions.Member) -> LoyaltyMember:
    return LoyaltyMember(
        customer_id=strawberry.ID(str(member.customer_id)),
        program_id=strawberry.ID(str(member.program_id)),
        points_balance=member.points_balance,
        lifetime_points=member.lifetime_points,
        tier=member.tier,
    )


@strawberry.type
class LoyaltyQuery:
    @strawberry.field(description="The org's loyalty programs, by name", permission_classes=READ)
    async def loyalty_programs(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[LoyaltyProgram]:
        ctx = info.context
        t = ProgramRow.__table__
        async with ctx.runtime.db.read() as session:
            page = await keyset_page(
                session,
                org_rows(ProgramRow, ctx.org_id),
                [t.c.name, t.c.id],
                first=first,
                after=after,
            )
        return Connection[LoyaltyProgram].from_page(page, LoyaltyProgram.from_row)

    @strawberry.field(
        description="A customer's points and tier in a program (the active one by default)",
        permission_classes=READ,
    )
    async def loyalty_member(
        self, info: Info, customer_id: strawberry.ID, program_id: strawberry.ID | None = None
    ) -> LoyaltyMember:
        ctx = info.context
        member = await actions.loyalty_member(ctx.runtime.db, ctx.org_id, customer_id, program_id)
        return _member(member)


@strawberry.type
class LoyaltyMutation:
    @strawberry.mutation(
        description="Create a loyalty program (an org has at most one active)",
        permission_classes=WRITE,
    )
    async def create_loyalty_program(
        self, info: Info, input: CreateLoyaltyProgramInput
    ) -> LoyaltyProgram:
        ctx = info.context
        row = await actions.create_program(ctx.runtime.db, ctx.org_id, input)
        return LoyaltyProgram.from_row(row)

    @strawberry.mutation(
        description="Give a customer points by hand, with a reason", permission_classes=WRITE
    )
    async def accrue_points(self, info: Info, input: AccruePointsInput) -> LoyaltyMember:
        ctx = info.context
        member = await actions.accrue_points(ctx.runtime.db, ctx.org_id, ctx.auth.user_id, input)
        return _member(member)

    @strawberry.mutation(
        description="Spend a customer's points on a reward (409 when the balance is short)",
        permission_classes=WRITE,
    )
    async def redeem_points(self, info: Info, input: RedeemPointsInput) -> LoyaltyMember:
        ctx = info.context
        member = await actions.redeem_points(ctx.runtime.db, ctx.org_id, ctx.auth.user_id, input)
        return _member(member)

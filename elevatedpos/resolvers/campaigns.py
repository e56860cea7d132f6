"""Campaign queries (list, one, stats) and mutations (create, update)."""

from __future__ import annotations

import strawberry
from sqlalchemy import and_, case, func, select

from elevatedpos.actions import campaigns as actions
from elevatedpos.db.models import Campaign as CampaignRow
from elevatedpos.db.models import Order, OrderCampaign
from elevatedpos.db.pagination import keyset_page
from elevatedpos.db.scoping import org_rows, parse_uuid, require_in_org
from elevatedpos.errors import NotFound
from elevatedpos.schema.campaigns import (
    Campaign,
    CampaignFilter,
    CampaignStats,
    CreateCampaignInput,
    UpdateCampaignInput,
)
from elevatedpos.schema.context import Info
from elevatedpos.schema.money import MoneyTotal
from elevatedpos.schema.pagination import Connection
from elevatedpos.schema.permissions import HasScope

READ = [HasScope("campaigns:read")]
WRITE = [HasScope("campaigns:write")]

# Orders that took money: an open order may still be voided, a voided one never sold.
COUNTED_ORDER_STATUSES = ("completed", "partially_refunded", "refunded")


@strawberry.type
class CampaignsQuery:
    @strawberry.field(description="Campaigns, newest first", permission_classes=READ)
    async def campaigns(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: CampaignFilter | None = None,
    ) -> Connection[Campaign]:
        ctx = info.context
        t = CampaignRow.__table__
        f = filter or CampaignFilter()
        stmt = org_rows(CampaignRow, ctx.org_id)
        if f.status is not None:
            stmt = stmt.where(t.c.status == f.status.value)
        if f.type is not None:
            stmt = stmt.where(t.c.type == f.type.value)
        async with ctx.runtime.db.read() as session:
            page = await keyset_page(
                session, stmt, [t.c.created_at, t.c.id], first=first, after=after, descending=True
            )
        return Connection[Campaign].from_page(page, Campaign.from_row)

    @strawberry.field(description="One campaign by id", permission_classes=READ)
    async def campaign(self, info: Info, id: strawberry.ID) -> Campaign:
        ctx = info.context
        async with ctx.runtime.db.read() as session:
            row = await require_in_org(session, CampaignRow, id, ctx.org_id, "campaign")
        return Campaign.from_row(row)

    @strawberry.field(
        description="What a campaign brought in: its completed (and refunded) orders",
        permission_classes=READ,
    )
    async def campaign_stats(self, info: Info, id: strawberry.ID) -> CampaignStats:
        ctx = info.context
        campaign_id = parse_uuid(id)
        if campaign_id is None:
            raise NotFound("campaign not found")
        c, oc, o = CampaignRow.__table__, OrderCampaign.__table__, Order.__table__
        counted = and_(
            o.c.id == oc.c.order_id,
            o.c.org_id == c.c.org_id,
            o.c.status.in_(COUNTED_ORDER_STATUSES),
        )
        # One statement: the campaign row (no row: 404) with its counted orders joined on.
        stmt = (
            select(
                c.c.currency,
                func.count(o.c.id).label("orders"),
                func.coalesce(func.sum(o.c.total - o.c.amount_refunded), 0).label("revenue"),
                func.coalesce(
                    func.sum(case((o.c.id.is_not(None), oc.c.discount), else_=0)), 0
                ).label("discount_total"),
                func.count(o.c.customer_id.distinct()).label("customers"),
            )
            .select_from(c.outerjoin(oc, oc.c.campaign_id == c.c.id).outerjoin(o, counted))
            .where(c.c.id == campaign_id, c.c.org_id == ctx.org_id)
            .group_by(c.c.id, c.c.currency)
        )
        async with ctx.runtime.db.read() as session:
            row = (await session.execute(stmt)).first()
        if row is None:
            raise NotFound("campaign not found")
        return CampaignStats(
            orders=int(row.orders),
            revenue=MoneyTotal.of(int(row.revenue), row.currency),
            discount_total=MoneyTotal.of(int(row.discount_total), row.currency),
            customers=int(row.customers),
        )


@strawberry.type
class CampaignsMutation:
    @strawberry.mutation(description="Create a campaign", permission_classes=WRITE)
    async def create_campaign(self, info: Info, input: CreateCampaignInput) -> Campaign:
        ctx = info.context
        row = await actions.create_campaign(ctx.runtime.db, ctx.org_id, input)
        return Campaign.from_row(row)

    @strawberry.mutation(
        description="Change a campaign's status, rules or other fields", permission_classes=WRITE
    )
    async def update_campaign(
        self,
        info: Info,
        id: strawberry.ID,
        input: UpdateCampaignInput,
        expected_version: int | None = None,
    ) -> Campaign:
        ctx = info.context
        row = await actions.update_campaign(ctx.runtime.db, ctx.org_id, id, input, expected_version)
        return Campaign.from_row(row)

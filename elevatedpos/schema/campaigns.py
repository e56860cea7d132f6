"""Campaign types: the campaign, its rules and stats, its filter and inputs."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import strawberry

from elevatedpos.schema.money import Money, MoneyInput, MoneyTotal
from elevatedpos.schema.node import Node


@strawberry.enum
class CampaignType(Enum):
    DISCOUNT = "discount"
    OFFER = "offer"
    PROMOTION = "promotion"


@strawberry.enum
class CampaignStatus(Enum):
    DRAFT = "draft"
    ACTIVE = "active"
    PAUSED = "paused"
    ENDED = "ended"


def _money(amount: int | None, currency: str) -> Money | None:
    return None if amount is None else Money.of(amount, currency)


@strawberry.type
class CampaignRules:
    percent_off: int | None = strawberry.field(description="A whole percent, 1 to 100")
    amount_off: Money | None = strawberry.field(
        description="Taken off the matching lines, spread in proportion to what each costs"
    )
    min_subtotal: Money | None = strawberry.field(
        description="The order's subtotal (before discounts) must reach this"
    )
    product_ids: list[strawberry.ID] = strawberry.field(
        description="Only lines of these products (or of categoryIds) are discounted"
    )
    category_ids: list[strawberry.ID] = strawberry.field(
        description="Only lines in these categories or their subcategories (or of productIds)"
    )


@strawberry.type
class Campaign(Node):
    name: str
    type: CampaignType
    status: CampaignStatus
    code: str | None = strawberry.field(
        description="As entered; orders name it ignoring case. null: applies to every order"
    )
    rules: CampaignRules
    starts_at: datetime | None
    ends_at: datetime | None = strawberry.field(description="Exclusive: live until this instant")
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def from_row(cls, row: Any) -> Campaign:
        return cls(
            id=strawberry.ID(str(row.id)),
            name=row.name,
            type=CampaignType(row.type),
            status=CampaignStatus(row.status),
            code=row.code,
            rules=CampaignRules(
                percent_off=row.percent_off,
                amount_off=_money(row.amount_off, row.currency),
                min_subtotal=_money(row.min_subtotal, row.currency),
                product_ids=[strawberry.ID(i) for i in row.product_ids],
                category_ids=[strawberry.ID(i) for i in row.category_ids],
            ),
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            created_at=row.created_at,
            updated_at=row.updated_at,
            version=row.version,
        )


@strawberry.type
class CampaignStats:
    orders: int = strawberry.field(
        description="Completed, partially refunded and refunded orders the campaign applied to"
    )
    revenue: MoneyTotal = strawberry.field(description="What those orders took, net of refunds")
    discount_total: MoneyTotal = strawberry.field(description="What the campaign took off them")
    customers: int = strawberry.field(description="Distinct customers among those orders")


@strawberry.input
class CampaignFilter:
    status: CampaignStatus | None = None
    type: CampaignType | None = None


@strawberry.input
class CampaignRulesInput:
    percent_off: int | None = strawberry.field(
        default=None, description="A whole percent, 1 to 100"
    )
    amount_off: MoneyInput | None = strawberry.field(
        default=None, description="Positive; percentOff, amountOff or both are required"
    )
    min_subtotal: MoneyInput | None = None
    product_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Products of your org, at most 500"
    )
    category_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Categories of your org, at most 500"
    )


@strawberry.input
class CreateCampaignInput:
    name: str
    type: CampaignType
    status: CampaignStatus | None = strawberry.field(default=None, description="Default draft")
    code: str | None = strawberry.field(
        default=None,
        description="1 to 64 letters, digits, - or _; unique in your org ignoring case",
    )
    rules: CampaignRulesInput
    starts_at: datetime | None = None
    ends_at: datetime | None = strawberry.field(default=None, description="After startsAt")


@strawberry.input
class UpdateCampaignInput:
    name: str | None = None
    type: CampaignType | None = None
    status: CampaignStatus | None = strawberry.field(
        default=None, description="Any move except out of ended (409)"
    )
    code: str | None = strawberry.field(
        default=strawberry.UNSET, description="null removes the code"
    )
    rules: CampaignRulesInput | None = strawberry.field(
        default=None, description="Replaces the rules as a whole"
    )
    starts_at: datetime | None = strawberry.field(
        default=strawberry.UNSET, description="null removes the bound"
    )
    ends_at: datetime | None = strawberry.field(
        default=strawberry.UNSET, description="null removes the bound"
    )

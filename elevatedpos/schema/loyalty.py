"""Loyalty types: the program with its tiers and rewards, a member's points, the inputs."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import strawberry

from elevatedpos.schema.money import Money, MoneyInput
from elevatedpos.schema.node import Node


@strawberry.enum
class LoyaltyProgramStatus(Enum):
    ACTIVE = "active"
    ARCHIVED = "archived"


@strawberry.type
class LoyaltyTier:
    name: str
    min_points: int = strawberry.field(description="Lifetime points that reach this tier")


@strawberry.type
class LoyaltyReward:
    id: strawberry.ID
    name: str
    points_cost: int = strawberry.field(description="Points a redemption takes")
    discount: Money = strawberry.field(description="What the reward is worth to the customer")


@strawberry.type
class LoyaltyProgram(Node):
    name: str
    points_per_dollar: int = strawberry.field(
        description="Points a completed order earns per whole dollar of its total"
    )
    tiers: list[LoyaltyTier] = strawberry.field(description="By minPoints, lowest first")
    rewards: list[LoyaltyReward]
    status: LoyaltyProgramStatus = strawberry.field(
        description="At most one program of an org is active: the one accruals go to"
    )
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> LoyaltyProgram:
        return cls(
            id=strawberry.ID(str(row.id)),
            name=row.name,
            points_per_dollar=row.points_per_dollar,
            tiers=[LoyaltyTier(name=t["name"], min_points=t["minPoints"]) for t in row.tiers],
            rewards=[
                LoyaltyReward(
                    id=strawberry.ID(r["id"]),
                    name=r["name"],
                    points_cost=r["pointsCost"],
                    discount=Money.of(r["discount"]["amount"], r["discount"]["currency"]),
                )
                for r in row.rewards
            ],
            status=LoyaltyProgramStatus(row.status),
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


@strawberry.type(description="A customer's points in a program")
class LoyaltyMember:
    customer_id: strawberry.ID
    program_id: strawberry.ID
    points_balance: int = strawberry.field(description="Points the customer can redeem")
    lifetime_points: int = strawberry.field(description="Every point ever accrued; tiers go by it")
    tier: str | None = strawberry.field(description="The highest tier reached, or null")


@strawberry.input
class LoyaltyTierInput:
    name: str
    min_points: int


@strawberry.input
class LoyaltyRewardInput:
    name: str
    points_cost: int = strawberry.field(description="1 or more")
    discount: MoneyInput


@strawberry.input
class CreateLoyaltyProgramInput:
    name: str
    points_per_dollar: int = strawberry.field(description="0 to 10000")
    tiers: list[LoyaltyTierInput] | None = strawberry.field(
        default=None, description="At most 20; names and thresholds each once"
    )
    rewards: list[LoyaltyRewardInput] | None = strawberry.field(
        default=None, description="At most 100"
    )
    status: LoyaltyProgramStatus | None = strawberry.field(
        default=None, description="Default active; a second active program is a 409"
    )


@strawberry.input
class AccruePointsInput:
    customer_id: strawberry.ID
    points: int = strawberry.field(description="1 to 1000000")
    reason: str = strawberry.field(description="Why, for the audit trail; up to 200 characters")
    program_id: strawberry.ID | None = strawberry.field(
        default=None, description="Default: the org's active program"
    )


@strawberry.input
class RedeemPointsInput:
    customer_id: strawberry.ID
    reward_id: strawberry.ID = strawberry.field(description="A reward of the program")
    program_id: strawberry.ID | None = strawberry.field(
        default=None, description="Default: the org's active program"
    )

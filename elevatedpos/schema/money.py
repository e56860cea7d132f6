"""Money: `{amount, currency}` with the amount in integer minor units."""

from __future__ import annotations

from typing import NewType

import strawberry

from elevatedpos.rules.money import DEFAULT_CURRENCY


@strawberry.type(description="An amount of money in integer minor units (cents)")
class Money:
    amount: int
    currency: str

    @classmethod
    def of(cls, amount: int, currency: str = DEFAULT_CURRENCY) -> Money:
        return cls(amount=amount, currency=currency)


@strawberry.input(description="An amount of money in integer minor units (cents)")
class MoneyInput:
    amount: int
    currency: str = DEFAULT_CURRENCY


# A whole number beyond Int's 32 bits: the `Long` scalar (see scalars.SCALAR_MAP).
Long = NewType("Long", int)


@strawberry.type(
    description="A sum of money in integer minor units that may exceed an Int (totals, stats)"
)
class MoneyTotal:
    amount: Long
    currency: str

    @classmethod
    def of(cls, amount: int, currency: str = DEFAULT_CURRENCY) -> MoneyTotal:
        return cls(amount=amount, currency=currency)

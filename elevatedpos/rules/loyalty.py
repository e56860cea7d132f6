"""Loyalty as pure rules: points an order earns, the tier a member is in, program checks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from elevatedpos.errors import FieldError

MAX_POINTS = 2**31 - 1  # balances are GraphQL Ints
MAX_POINTS_PER_DOLLAR = 10_000
MAX_ACCRUAL = 1_000_000  # points a single manual accrual may give
MAX_TIERS = 20
MAX_REWARDS = 100


def order_points(total: int, points_per_dollar: int) -> int:
    """What a completed order earns: `floor(total / 100) * pointsPerDollar` (whole dollars)."""
    return (max(total, 0) // 100) * points_per_dollar


def points_to_reverse(earned: int, total: int, kept: int, reversed_already: int) -> int:
    """What a refund takes back of the points an order earned on `total`: everything beyond
    what the money it keeps (`kept`: captured less refunded) earns at the same rate, less
    what earlier refunds took. A full refund takes all; a refund inside the last dollar's
    cents may take none."""
    if earned <= 0 or total < 100:
        return 0
    rate = earned // (total // 100)  # earned = floor(total / 100) * pointsPerDollar then
    keep = order_points(min(kept, total), rate)
    return max(earned - keep - reversed_already, 0)


def tier_for(lifetime_points: int, tiers: Sequence[dict[str, Any]]) -> str | None:
    """The name of the highest tier reached by `lifetime_points`, or None (below every one)."""
    reached = [t for t in tiers if t["minPoints"] <= lifetime_points]
    if not reached:
        return None
    return str(max(reached, key=lambda t: t["minPoints"])["name"])


def capped_add(balance: int, points: int) -> int | None:
    """`balance + points`, or None when it would overflow a balance."""
    total = balance + points
    return total if total <= MAX_POINTS else None


def check_tiers(tiers: Sequence[tuple[str, int]]) -> list[FieldError]:
    """Tiers `(name, minPoints)`: named, minPoints 0 or more, no name or threshold twice."""
    errors: list[FieldError] = []
    if len(tiers) > MAX_TIERS:
        return [FieldError("tiers", f"tiers holds at most {MAX_TIERS} tiers")]
    names: set[str] = set()
    thresholds: set[int] = set()
    for i, (name, min_points) in enumerate(tiers):
        key = name.strip().casefold()
        if not key:
            errors.append(FieldError(f"tiers.{i}.name", f"tiers.{i}.name is required"))
        elif len(name) > 100:
            errors.append(
                FieldError(f"tiers.{i}.name", f"tiers.{i}.name must be at most 100 characters")
            )
        elif key in names:
            errors.append(FieldError(f"tiers.{i}.name", f"tiers.{i}.name names another tier"))
        if not 0 <= min_points <= MAX_POINTS:
            errors.append(
                FieldError(f"tiers.{i}.minPoints", f"tiers.{i}.minPoints must not be negative")
            )
        elif min_points in thresholds:
            errors.append(
                FieldError(
                    f"tiers.{i}.minPoints", f"tiers.{i}.minPoints is another tier's threshold"
                )
            )
        names.add(key)
        thresholds.add(min_points)
    return errors


def check_rewards(rewards: Sequence[tuple[str, int, int]]) -> list[FieldError]:
    """Rewards `(name, pointsCost, discount amount)`: named, costing 1 point or more."""
    if len(rewards) > MAX_REWARDS:
        return [FieldError("rewards", f"rewards holds at most {MAX_REWARDS} rewards")]
    errors: list[FieldError] = []
    for i, (name, cost, discount) in enumerate(rewards):
        if not name.strip():
            errors.append(FieldError(f"rewards.{i}.name", f"rewards.{i}.name is required"))
        elif len(name) > 200:
            errors.append(
                FieldError(f"rewards.{i}.name", f"rewards.{i}.name must be at most 200 characters")
            )
        if not 1 <= cost <= MAX_POINTS:
            errors.append(
                FieldError(f"rewards.{i}.pointsCost", f"rewards.{i}.pointsCost must be at least 1")
            )
        if not 0 <= discount <= MAX_POINTS:
            errors.append(
                FieldError(
                    f"rewards.{i}.discount.amount",
                    f"rewards.{i}.discount.amount must not be negative",
                )
            )
    return errors

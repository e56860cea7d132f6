"""Campaign discounts: which campaigns apply to an order and what each takes off each line.

Decisions where CONTRACT.md is silent:

- `percentOff` is a whole percent, 1..100. A line's share is round_half_up(rest * pct / 100).
- `amountOff` (minor units) is spread over the eligible lines in proportion to what is left
  of each (largest-remainder method: every line gets the floor of its exact share, then the
  leftover cents go one each to the largest fractional parts, ties to the larger line, then
  the smaller product id, then the earlier line, so the order of the cart changes no
  total). The spread sums to min(amountOff, what is left of the eligible lines) and never
  takes a line below zero.
- Several campaigns stack. All percent-off steps run first, then all amount-off steps; within
  each kind campaigns go in order of `str(id)`. Each step works on what earlier steps left,
  so the order of the campaigns passed in never matters. A campaign with both rules runs one
  step of each kind.
- `minSubtotal` is checked against the order subtotal before any discount.
- `productIds` and `categoryIds` together match a line that is in either; empty or missing
  means every line. A line's categories are its own and, if the caller passes them, its
  category's ancestors, so a campaign on a category covers its subcategories.
- A campaign is live when its status is `active` and `startsAt <= now < endsAt` (either bound
  may be missing). Codes compare case-insensitively, ignoring surrounding spaces.
- A campaign is applied (listed in `campaignIds`) when the order meets its rules and has at
  least one eligible line, even if rounding leaves its discount at zero.
- `type` (discount, offer, promotion) does not change the arithmetic.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from elevatedpos.errors import FieldError, ValidationFailed
from elevatedpos.rules.money import MAX_AMOUNT, round_half_up_div

Id = uuid.UUID | str

CAMPAIGN_TYPES = ("discount", "offer", "promotion")
CAMPAIGN_STATUSES = ("draft", "active", "paused", "ended")


@dataclass(frozen=True)
class Campaign:
    """A campaign as pricing sees it: amounts in minor units, percent_off a whole percent."""

    id: Id
    status: str = "active"
    type: str = "discount"
    code: str | None = None
    percent_off: int | None = None
    amount_off: int | None = None
    min_subtotal: int | None = None
    product_ids: frozenset[Id] = frozenset()
    category_ids: frozenset[Id] = frozenset()
    starts_at: datetime | None = None
    ends_at: datetime | None = None


@dataclass(frozen=True)
class DiscountLine:
    """What discounts need of a line: what it costs and what it is."""

    amount: int
    product_id: Id
    category_ids: frozenset[Id] = frozenset()


@dataclass(frozen=True)
class AppliedCampaign:
    """A campaign the order met, with what it took off the whole order."""

    campaign_id: Id
    discount: int


@dataclass(frozen=True)
class Discounts:
    """Per-line discounts (in line order) and the campaigns applied, in application order."""

    line_discounts: tuple[int, ...]
    applied: tuple[AppliedCampaign, ...]

    @property
    def total(self) -> int:
        return sum(self.line_discounts)


class UnknownCampaignCode(ValidationFailed):
    """A `campaignCode` that names no live campaign: 422 on `campaignCode`."""

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(
            [FieldError("campaignCode", f"campaignCode {code!r} names no active campaign")]
        )


def normalize_code(code: str | None) -> str | None:
    """The comparable form of a code: stripped and case-folded; blank means none."""
    if code is None:
        return None
    folded = code.strip().casefold()
    return folded or None


def is_live(campaign: Campaign, now: datetime) -> bool:
    """Active status and `now` inside [startsAt, endsAt)."""
    if campaign.status != "active":
        return False
    if campaign.starts_at is not None and now < campaign.starts_at:
        return False
    return campaign.ends_at is None or now < campaign.ends_at


def select_campaigns(
    campaigns: Iterable[Campaign], code: str | None, now: datetime
) -> tuple[Campaign, ...]:
    """Live campaigns without a code plus those matching `code`; raise UnknownCampaignCode."""
    wanted = normalize_code(code)
    chosen: list[Campaign] = []
    code_found = False
    for campaign in campaigns:
        if not is_live(campaign, now):
            continue
        own = normalize_code(campaign.code)
        if own is None:
            chosen.append(campaign)
        elif own == wanted:
            chosen.append(campaign)
            code_found = True
    if wanted is not None and not code_found:
        raise UnknownCampaignCode(code or "")
    return tuple(sorted(chosen, key=lambda c: str(c.id)))


def line_is_eligible(campaign: Campaign, line: DiscountLine) -> bool:
    """Whether the campaign's product/category scope covers the line."""
    if not campaign.product_ids and not campaign.category_ids:
        return True
    return line.product_id in campaign.product_ids or bool(
        line.category_ids & campaign.category_ids
    )


def percent_shares(rests: Sequence[int], percent: int) -> list[int]:
    """Each amount's round-half-up `percent` share (percent in 0..100, so never above it)."""
    return [round_half_up_div(rest * percent, 100) for rest in rests]


def spread_amount(
    amount: int, rests: Sequence[int], tiebreak: Sequence[str] | None = None
) -> list[int]:
    """Split min(amount, sum(rests)) over `rests` in proportion, exactly, never above a rest."""
    pool = sum(rests)
    take = min(max(amount, 0), pool)
    if take == 0:
        return [0] * len(rests)
    shares = [take * rest // pool for rest in rests]
    leftover = take - sum(shares)
    keys = tiebreak if tiebreak is not None else [""] * len(rests)
    # Largest fractional part first; ties to the larger line, then by `tiebreak` (the product
    # id, so reordering the cart cannot move a cent between different products), then index.
    order = sorted(
        range(len(rests)), key=lambda i: (-(take * rests[i] % pool), -rests[i], keys[i], i)
    )
    for i in order[:leftover]:
        shares[i] += 1
    return shares


def apply_campaigns(
    lines: Sequence[DiscountLine], campaigns: Iterable[Campaign], subtotal: int
) -> Discounts:
    """Discount each line by every campaign it qualifies for (see the module docstring)."""
    rests = [line.amount for line in lines]
    by_id = sorted(campaigns, key=lambda c: str(c.id))
    met = [
        c
        for c in by_id
        if (c.min_subtotal is None or subtotal >= c.min_subtotal)
        and any(line_is_eligible(c, line) for line in lines)
    ]
    taken = {str(c.id): 0 for c in met}
    steps = [(c, "percent") for c in met if c.percent_off] + [
        (c, "amount") for c in met if c.amount_off
    ]
    for campaign, kind in steps:
        eligible = [i for i, line in enumerate(lines) if line_is_eligible(campaign, line)]
        eligible_rests = [rests[i] for i in eligible]
        if kind == "percent":
            shares = percent_shares(eligible_rests, campaign.percent_off or 0)
        else:
            shares = spread_amount(
                campaign.amount_off or 0,
                eligible_rests,
                [str(lines[i].product_id) for i in eligible],
            )
        for i, share in zip(eligible, shares, strict=True):
            rests[i] -= share
        taken[str(campaign.id)] += sum(shares)
    return Discounts(
        line_discounts=tuple(line.amount - rest for line, rest in zip(lines, rests, strict=True)),
        applied=tuple(AppliedCampaign(c.id, taken[str(c.id)]) for c in met),
    )


def check_campaign_rules(
    percent_off: int | None,
    amount_off: int | None,
    min_subtotal: int | None,
    field: str = "rules",
) -> list[FieldError]:
    """Rules pricing can use: a whole percent 1..100 and/or a positive amount, sane bounds."""
    errors: list[FieldError] = []
    if percent_off is None and amount_off is None:
        errors.append(FieldError(field, f"{field} needs percentOff or amountOff"))
    if percent_off is not None and not 1 <= percent_off <= 100:
        errors.append(
            FieldError(f"{field}.percentOff", f"{field}.percentOff must be a whole percent 1..100")
        )
    if amount_off is not None and not 1 <= amount_off <= MAX_AMOUNT:
        errors.append(
            FieldError(f"{field}.amountOff", f"{field}.amountOff must be positive and fit an Int")
        )
    if min_subtotal is not None and not 0 <= min_subtotal <= MAX_AMOUNT:
        errors.append(
            FieldError(f"{field}.minSubtotal", f"{field}.minSubtotal must not be negative")
        )
    return errors

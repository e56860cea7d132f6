"""Order pricing: unit prices, modifiers, campaign discounts, GST per line, order totals.

Everything is in integer minor units and GST-inclusive. The server prices every order from
these rules; a client's price is never read.

Decisions where CONTRACT.md is silent:

- Unit price: a price-list entry for exactly (product, variant) on a list that names the
  order's location wins, else the variant's price, else the product's price. An entry for a
  product without a variant does not price that product's variants (sizes keep their
  spread). When several of the location's lists price the same item, the lowest price wins,
  so the order of the lists never matters.
- A line without a variant is priced at the product's price even when the product has
  variants. (Orders go further: `actions/orders.py` requires the variant of a product that
  has variants, since stock is counted per variant.)
- Modifier options add their `priceDelta` (possibly negative) to the unit price, before the
  quantity. Choosing the same option twice, an option from a group not attached to the
  product, too few or too many in a group, or a unit price that modifiers take below zero
  are 422s on `lineItems.N.modifierOptionIds`.
- Discounts: see `rules/discounts.py`. Tax is of the discounted line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from elevatedpos.errors import FieldError, ValidationFailed
from elevatedpos.rules.discounts import (
    AppliedCampaign,
    Campaign,
    DiscountLine,
    Id,
    apply_campaigns,
    select_campaigns,
    spread_amount,
)
from elevatedpos.rules.money import DEFAULT_TAX_RATE, MAX_AMOUNT, tax_included


@dataclass(frozen=True)
class ModifierOption:
    id: Id
    name: str
    price_delta: int = 0


@dataclass(frozen=True)
class ModifierGroup:
    id: Id
    name: str
    min_selections: int = 0
    max_selections: int = 1
    options: tuple[ModifierOption, ...] = ()


@dataclass(frozen=True)
class Variant:
    id: Id
    name: str
    sku: str
    price: int


@dataclass(frozen=True)
class Product:
    """A product with what pricing needs: variants, attached modifier groups, tax, category."""

    id: Id
    name: str
    sku: str
    price: int
    tax_rate: int = DEFAULT_TAX_RATE
    category_id: Id | None = None
    category_ancestor_ids: tuple[Id, ...] = ()  # so campaigns on a parent category match
    variants: tuple[Variant, ...] = ()
    modifier_groups: tuple[ModifierGroup, ...] = ()


@dataclass(frozen=True)
class PriceEntry:
    product_id: Id
    variant_id: Id | None
    price: int


@dataclass(frozen=True)
class PriceList:
    id: Id
    location_ids: frozenset[Id]
    prices: tuple[PriceEntry, ...] = ()


@dataclass(frozen=True)
class LineRequest:
    """A line as the client sends it."""

    product_id: Id
    quantity: int
    variant_id: Id | None = None
    modifier_option_ids: tuple[Id, ...] = ()


@dataclass(frozen=True)
class AppliedModifier:
    option_id: Id
    name: str
    price_delta: int


@dataclass(frozen=True)
class PricedLine:
    """A priced line: `subtotal` is before discount, `tax` and `total` after it."""

    product_id: Id
    variant_id: Id | None
    name: str
    sku: str
    quantity: int
    unit_price: int
    modifiers: tuple[AppliedModifier, ...]
    tax_rate: int
    subtotal: int
    discount: int
    tax: int
    total: int


@dataclass(frozen=True)
class Reward:
    """A loyalty reward redeemed on the order: its points buy `discount` (minor units)."""

    program_id: Id
    id: str
    name: str
    points_cost: int
    discount: int


@dataclass(frozen=True)
class AppliedReward:
    reward: Reward
    discount: int  # what it took off: its discount, or less on a cheaper order


@dataclass(frozen=True)
class PricedOrder:
    lines: tuple[PricedLine, ...]
    subtotal: int
    discount_total: int
    tax_total: int
    total: int
    applied_campaigns: tuple[AppliedCampaign, ...]
    applied_reward: AppliedReward | None = None

    @property
    def campaign_ids(self) -> tuple[Id, ...]:
        return tuple(a.campaign_id for a in self.applied_campaigns)


class PricingError(ValidationFailed):
    """The order cannot be priced; `errors` name each offending field (`lineItems.N.*`)."""


def location_prices(
    price_lists: Iterable[PriceList], location_id: Id
) -> dict[tuple[Id, Id | None], int]:
    """The location's price-list prices by (product, variant); the lowest when lists overlap."""
    prices: dict[tuple[Id, Id | None], int] = {}
    for price_list in price_lists:
        if location_id not in price_list.location_ids:
            continue
        for entry in price_list.prices:
            key = (entry.product_id, entry.variant_id)
            prices[key] = min(entry.price, prices.get(key, entry.price))
    return prices


def base_unit_price(
    product: Product, variant: Variant | None, prices: Mapping[tuple[Id, Id | None], int]
) -> int:
    """The price list's price for (product, variant), else the variant's, else the product's."""
    variant_id = variant.id if variant is not None else None
    listed = prices.get((product.id, variant_id))
    if listed is not None:
        return listed
    return variant.price if variant is not None else product.price


def resolve_modifiers(
    product: Product, option_ids: Sequence[Id], line_index: int
) -> tuple[tuple[AppliedModifier, ...], list[FieldError]]:
    """The chosen options, in the order chosen, and what is wrong with the choice."""
    field = f"lineItems.{line_index}.modifierOptionIds"
    owner: dict[Id, tuple[ModifierGroup, ModifierOption]] = {
        option.id: (group, option) for group in product.modifier_groups for option in group.options
    }
    errors: list[FieldError] = []
    chosen: list[AppliedModifier] = []
    counts: dict[Id, int] = {group.id: 0 for group in product.modifier_groups}
    seen: set[Id] = set()
    for option_id in option_ids:
        if option_id in seen:
            errors.append(FieldError(field, f"{field}: option {option_id} is chosen twice"))
            continue
        seen.add(option_id)
        found = owner.get(option_id)
        if found is None:
            errors.append(
                FieldError(field, f"{field}: option {option_id} is not offered for {product.name}")
            )
            continue
        group, option = found
        counts[group.id] += 1
        chosen.append(AppliedModifier(option.id, option.name, option.price_delta))
    for group in product.modifier_groups:
        n = counts[group.id]
        if n < group.min_selections:
            errors.append(
                FieldError(
                    field,
                    f"{field}: {group.name} needs at least {group.min_selections} "
                    f"option(s), got {n}",
                )
            )
        elif n > group.max_selections:
            errors.append(
                FieldError(
                    field,
                    f"{field}: {group.name} allows at most {group.max_selections} "
                    f"option(s), got {n}",
                )
            )
    return tuple(chosen), errors


def _line_errors(line: LineRequest, index: int) -> list[FieldError]:
    if line.quantity < 1:
        field = f"lineItems.{index}.quantity"
        return [FieldError(field, f"{field} must be at least 1")]
    return []


def _price_line(
    line: LineRequest,
    index: int,
    products: Mapping[Id, Product],
    prices: Mapping[tuple[Id, Id | None], int],
) -> tuple[PricedLine | None, list[FieldError]]:
    """The line priced before discount, or the errors that stop it."""
    prefix = f"lineItems.{index}"
    product = products.get(line.product_id)
    if product is None:
        return None, [FieldError(f"{prefix}.productId", f"{prefix}.productId names no product")]
    variant: Variant | None = None
    if line.variant_id is not None:
        variant = next((v for v in product.variants if v.id == line.variant_id), None)
        if variant is None:
            return None, [
                FieldError(
                    f"{prefix}.variantId", f"{prefix}.variantId is not a variant of {product.name}"
                )
            ]
    modifiers, errors = resolve_modifiers(product, line.modifier_option_ids, index)
    errors += _line_errors(line, index)
    unit_price = base_unit_price(product, variant, prices) + sum(m.price_delta for m in modifiers)
    if not errors and unit_price < 0:
        field = f"{prefix}.modifierOptionIds"
        errors.append(FieldError(field, f"{field}: the options take the unit price below zero"))
    if not errors and unit_price * line.quantity > MAX_AMOUNT:
        field = f"{prefix}.quantity"
        errors.append(FieldError(field, f"{field} makes the line total too large"))
    if errors:
        return None, errors
    subtotal = unit_price * line.quantity
    return PricedLine(
        product_id=product.id,
        variant_id=variant.id if variant is not None else None,
        name=f"{product.name} ({variant.name})" if variant is not None else product.name,
        sku=variant.sku if variant is not None else product.sku,
        quantity=line.quantity,
        unit_price=unit_price,
        modifiers=modifiers,
        tax_rate=product.tax_rate,
        subtotal=subtotal,
        discount=0,
        tax=tax_included(subtotal, product.tax_rate),
        total=subtotal,
    ), []


def price_order(
    lines: Sequence[LineRequest],
    products: Mapping[Id, Product],
    *,
    location_id: Id,
    now: datetime,
    price_lists: Iterable[PriceList] = (),
    campaigns: Iterable[Campaign] = (),
    campaign_code: str | None = None,
    reward: Reward | None = None,
) -> PricedOrder:
    """Price a cart; raise PricingError (422) for bad lines, UnknownCampaignCode for a bad code.

    A loyalty reward comes off after the campaigns, spread over the lines in proportion to
    what is left of each (so each line's GST is on what is actually paid for it), and never
    takes an order below zero."""
    if not lines:
        raise PricingError([FieldError("lineItems", "lineItems needs at least one line")])
    prices = location_prices(price_lists, location_id)
    priced: list[PricedLine] = []
    errors: list[FieldError] = []
    for index, line in enumerate(lines):
        result, line_errors = _price_line(line, index, products, prices)
        errors += line_errors
        if result is not None:
            priced.append(result)
    subtotal = sum(line.subtotal for line in priced)
    if not errors and subtotal > MAX_AMOUNT:
        errors.append(FieldError("lineItems", "the order total is too large"))
    if errors:
        raise PricingError(errors)
    live = select_campaigns(campaigns, campaign_code, now)
    discounts = apply_campaigns(
        [
            DiscountLine(
                amount=line.subtotal,
                product_id=line.product_id,
                category_ids=_categories(products[line.product_id]),
            )
            for line in priced
        ],
        live,
        subtotal,
    )
    line_discounts = list(discounts.line_discounts)
    applied_reward = None
    if reward is not None:
        rests = [line.subtotal - d for line, d in zip(priced, line_discounts, strict=True)]
        shares = spread_amount(reward.discount, rests, [str(line.product_id) for line in priced])
        line_discounts = [d + share for d, share in zip(line_discounts, shares, strict=True)]
        applied_reward = AppliedReward(reward, sum(shares))
    final = tuple(
        _discounted(line, discount) for line, discount in zip(priced, line_discounts, strict=True)
    )
    discount_total = sum(line_discounts)
    return PricedOrder(
        lines=final,
        subtotal=subtotal,
        discount_total=discount_total,
        tax_total=sum(line.tax for line in final),
        total=subtotal - discount_total,
        applied_campaigns=discounts.applied,
        applied_reward=applied_reward,
    )


def _categories(product: Product) -> frozenset[Id]:
    if product.category_id is None:
        return frozenset(product.category_ancestor_ids)
    return frozenset((product.category_id, *product.category_ancestor_ids))


def _discounted(line: PricedLine, discount: int) -> PricedLine:
    total = line.subtotal - discount
    return replace(line, discount=discount, total=total, tax=tax_included(total, line.tax_rate))


def loyalty_points(total: int, points_per_dollar: int) -> int:
    """Points a completed order accrues: floor(total / 100) * pointsPerDollar, never negative."""
    return max(total, 0) // 100 * points_per_dollar

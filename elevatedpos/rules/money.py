"""Money in integer minor units, GST-inclusive prices, and the tax inside a price."""

from __future__ import annotations

from elevatedpos.errors import FieldError

DEFAULT_CURRENCY = "AUD"
DEFAULT_TAX_RATE = 1000  # basis points: 10 % GST
MAX_TAX_RATE = 10_000
MAX_AMOUNT = 2**31 - 1  # GraphQL Int is 32-bit


def check_amount(amount: int, field: str, *, allow_negative: bool = False) -> list[FieldError]:
    """An amount must fit a GraphQL Int and, unless allowed, not be negative."""
    if not allow_negative and amount < 0:
        return [FieldError(field, f"{field} must not be negative")]
    if abs(amount) > MAX_AMOUNT:
        return [FieldError(field, f"{field} is too large")]
    return []


def check_currency(currency: str, expected: str, field: str) -> list[FieldError]:
    if currency != expected:
        return [FieldError(field, f"{field} must be {expected}, the org's currency")]
    return []


def check_tax_rate(rate: int, field: str = "taxRate") -> list[FieldError]:
    if not 0 <= rate <= MAX_TAX_RATE:
        return [FieldError(field, f"{field} must be between 0 and {MAX_TAX_RATE} basis points")]
    return []


def round_half_up_div(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half up, in exact integer arithmetic (both ≥ 0)."""
    return (2 * numerator + denominator) // (2 * denominator)


def tax_included(line_total: int, tax_rate: int) -> int:
    """The tax inside a GST-inclusive `line_total`: round_half_up(total * rate / (10000 + rate))."""
    return round_half_up_div(line_total * tax_rate, 10_000 + tax_rate)

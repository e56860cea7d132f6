"""Refund arithmetic: what refunding some of a line costs, and which payments give it back.

Decisions where CONTRACT.md is silent:

- A refund is taken from captured payments newest first (by capture time, then id, both
  descending): the last tender in is the first given back, like undoing the sale.
- Refunding `q` of a line whose `n` units cost `total` returns cum(r + q) - cum(r), where
  `r` units were refunded before and cum(k) = round_half_up(total * k / n). The pieces of a
  line always sum to exactly its total, however it is split.
- An order is `refunded` when nothing captured is left to refund, else `partially_refunded`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from elevatedpos.errors import FieldError, ValidationFailed
from elevatedpos.rules.discounts import Id
from elevatedpos.rules.money import round_half_up_div


@dataclass(frozen=True)
class CapturedPayment:
    id: Id
    captured: int
    refunded: int
    captured_at: datetime

    @property
    def refundable(self) -> int:
        return max(self.captured - self.refunded, 0)


@dataclass(frozen=True)
class RefundShare:
    payment_id: Id
    amount: int


@dataclass(frozen=True)
class RefundableLine:
    """A sold line: its quantity, its (discounted) total, and how many units went back already."""

    id: Id
    quantity: int
    total: int
    refunded_quantity: int = 0


@dataclass(frozen=True)
class LineRefundRequest:
    line_item_id: Id
    quantity: int


@dataclass(frozen=True)
class LineRefund:
    line_item_id: Id
    quantity: int
    amount: int


class RefundInvalid(ValidationFailed):
    """A refund that cannot be made as asked: 422 with the offending fields."""


def refundable(payments: Iterable[CapturedPayment]) -> int:
    """Captured minus refunded across the payments: what a refund may still return."""
    return sum(p.refundable for p in payments)


def allocate_refund(
    payments: Sequence[CapturedPayment], amount: int, field: str = "amount"
) -> tuple[RefundShare, ...]:
    """Split `amount` over the payments newest first; raise RefundInvalid when it cannot."""
    available = refundable(payments)
    if amount < 1:
        raise RefundInvalid([FieldError(field, f"{field} must be positive")])
    if amount > available:
        raise RefundInvalid(
            [
                FieldError(
                    field, f"{field} exceeds the refundable {available} (captured minus refunded)"
                )
            ]
        )
    newest_first = sorted(payments, key=lambda p: (p.captured_at, str(p.id)), reverse=True)
    shares: list[RefundShare] = []
    left = amount
    for payment in newest_first:
        if left == 0:
            break
        take = min(left, payment.refundable)
        if take > 0:
            shares.append(RefundShare(payment.id, take))
            left -= take
    return tuple(shares)


def line_refund_amount(total: int, quantity: int, refunded_quantity: int, refund: int) -> int:
    """What refunding `refund` more units of a line costs, so all pieces sum to `total`."""
    if not (quantity >= 1 and 0 <= refunded_quantity and 0 <= refund):
        raise ValueError("quantities must be non-negative and the line's at least 1")
    if refunded_quantity + refund > quantity:
        raise ValueError("cannot refund more units than the line has")
    return round_half_up_div(total * (refunded_quantity + refund), quantity) - round_half_up_div(
        total * refunded_quantity, quantity
    )


def refund_lines(
    lines: Iterable[RefundableLine], requests: Sequence[LineRefundRequest]
) -> tuple[LineRefund, ...]:
    """Price each requested line refund; raise RefundInvalid naming `lineItems.N.*`."""
    by_id = {line.id: line for line in lines}
    errors: list[FieldError] = []
    seen: set[Id] = set()
    result: list[LineRefund] = []
    for i, request in enumerate(requests):
        prefix = f"lineItems.{i}"
        line = by_id.get(request.line_item_id)
        if line is None:
            errors.append(
                FieldError(
                    f"{prefix}.lineItemId", f"{prefix}.lineItemId is not a line of this order"
                )
            )
            continue
        if request.line_item_id in seen:
            errors.append(
                FieldError(f"{prefix}.lineItemId", f"{prefix}.lineItemId appears more than once")
            )
            continue
        seen.add(request.line_item_id)
        rest = line.quantity - line.refunded_quantity
        if not 1 <= request.quantity <= rest:
            errors.append(
                FieldError(f"{prefix}.quantity", f"{prefix}.quantity must be between 1 and {rest}")
            )
            continue
        amount = line_refund_amount(
            line.total, line.quantity, line.refunded_quantity, request.quantity
        )
        result.append(LineRefund(line.id, request.quantity, amount))
    if not requests:
        errors.append(FieldError("lineItems", "lineItems needs at least one line"))
    if errors:
        raise RefundInvalid(errors)
    return tuple(result)


def status_after_refund(captured: int, refunded: int) -> str:
    """`refunded` once everything captured has gone back, else `partially_refunded`."""
    return "refunded" if refunded >= captured else "partially_refunded"

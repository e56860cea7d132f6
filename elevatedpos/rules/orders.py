"""The order status machine and the money an order still needs.

    open ──complete──▶ completed ──refund──▶ partially_refunded ──refund──▶ refunded
      └────void──▶ voided

`completed` needs the money kept (captured minus refunded) to cover the total; `voided`
needs none kept. Refund states are reached only through refunds, never set directly.
"""

from __future__ import annotations

from elevatedpos.errors import Conflict

ORDER_STATUSES = ("open", "completed", "voided", "partially_refunded", "refunded")
# Targets a client may ask for with PATCH /orders/:id/status.
MANUAL_MOVES = {("open", "completed"), ("open", "voided")}
REFUNDABLE_STATUSES = ("open", "completed", "partially_refunded")
# Orders that count as sales (stats, customer spend, campaign performance).
SOLD_STATUSES = ("completed", "partially_refunded", "refunded")


def kept(amount_paid: int, amount_refunded: int) -> int:
    """Money the merchant holds for the order: captured minus refunded."""
    return amount_paid - amount_refunded


def balance(total: int, amount_paid: int, amount_refunded: int, amount_authorized: int) -> int:
    """What a new payment may still take: the total less money kept and open authorizations."""
    return max(total - kept(amount_paid, amount_refunded) - amount_authorized, 0)


def check_move(
    current: str, target: str, *, total: int, amount_paid: int, amount_refunded: int
) -> None:
    """Raise 409 unless `current → target` is a move the machine allows right now."""
    if (current, target) not in MANUAL_MOVES:
        if current == target:
            raise Conflict(f"The order is already {current}")
        raise Conflict(f"An order cannot move from {current} to {target}")
    held = kept(amount_paid, amount_refunded)
    if target == "completed" and held < total:
        raise Conflict(f"The order is not paid: {held} of {total} received; take a payment first")
    if target == "voided" and held > 0:
        raise Conflict(
            f"The order holds {held} of captured money; refund it before voiding the order"
        )

"""Stock rules: when a level needs attention."""

from __future__ import annotations


def crossed_reorder_point(before: int, after: int, reorder_point: int) -> bool:
    """True when a change takes on-hand from above the reorder point to at or below it."""
    return before > reorder_point >= after


def alert_type(on_hand: int, reorder_point: int) -> str | None:
    """`out_of_stock`, `low_stock`, or None when the level needs no attention."""
    if on_hand <= 0:
        return "out_of_stock"
    if on_hand <= reorder_point:
        return "low_stock"
    return None

"""The order status machine and the balance, as pure rules."""

from __future__ import annotations

import pytest

from elevatedpos.errors import Conflict
from elevatedpos.rules.orders import ORDER_STATUSES, balance, check_move

PAID = {"total": 1000, "amount_paid": 1000, "amount_refunded": 0}
UNPAID = {"total": 1000, "amount_paid": 0, "amount_refunded": 0}


def test_an_open_order_completes_when_paid_and_voids_when_nothing_is_kept() -> None:
    check_move("open", "completed", **PAID)
    check_move("open", "voided", **UNPAID)
    # refunded back to nothing kept: it may be voided
    check_move("open", "voided", total=1000, amount_paid=400, amount_refunded=400)


@pytest.mark.parametrize(
    ("target", "money", "words"),
    [
        ("completed", UNPAID, "not paid"),
        ("completed", {"total": 1000, "amount_paid": 1000, "amount_refunded": 1}, "not paid"),
        ("voided", {"total": 1000, "amount_paid": 1, "amount_refunded": 0}, "refund it"),
    ],
)
def test_money_decides_the_two_manual_moves(target: str, money: dict, words: str) -> None:
    with pytest.raises(Conflict, match=words):
        check_move("open", target, **money)


@pytest.mark.parametrize("current", ORDER_STATUSES)
@pytest.mark.parametrize("target", ORDER_STATUSES)
def test_every_other_move_is_a_conflict(current: str, target: str) -> None:
    if (current, target) in {("open", "completed"), ("open", "voided")}:
        return
    with pytest.raises(Conflict):
        check_move(current, target, **PAID)


def test_balance_counts_money_kept_and_open_holds() -> None:
    assert balance(1000, 0, 0, 0) == 1000
    assert balance(1000, 600, 0, 300) == 100
    assert balance(1000, 600, 200, 300) == 300  # a refund opens room again
    assert balance(1000, 1000, 0, 0) == 0
    assert balance(1000, 1200, 0, 0) == 0  # never negative

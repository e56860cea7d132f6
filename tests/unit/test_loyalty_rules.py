"""Pure loyalty rules: what an order earns, tiers, and what refunds take back."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from elevatedpos.rules.loyalty import order_points, points_to_reverse, tier_for


def test_an_order_earns_per_whole_dollar():
    assert order_points(1099, 2) == 20
    assert order_points(99, 5) == 0
    assert order_points(-500, 1) == 0


def test_tiers_go_by_lifetime_points():
    tiers = [{"name": "Gold", "minPoints": 500}, {"name": "Silver", "minPoints": 100}]
    assert tier_for(99, tiers) is None
    assert tier_for(100, tiers) == "Silver"
    assert tier_for(10_000, tiers) == "Gold"


def test_a_full_refund_takes_back_everything_earned():
    assert points_to_reverse(earned=40, total=2050, kept=0, reversed_already=0) == 40


def test_a_partial_refund_takes_back_what_the_refunded_dollars_earned():
    # $20.50 at 2 points a dollar earned 40; refunding $5.00 keeps $15.50, which earns 30.
    assert points_to_reverse(earned=40, total=2050, kept=1550, reversed_already=0) == 10
    # Refunding the 50 cents past the last whole dollar takes nothing.
    assert points_to_reverse(earned=40, total=2050, kept=2000, reversed_already=0) == 0
    # A second refund takes only what the first did not.
    assert points_to_reverse(earned=40, total=2050, kept=500, reversed_already=10) == 20
    # Money taken twice (a tender refunded while the order was open, then paid again) is
    # not a refund of what was sold: the order still keeps its whole total.
    assert points_to_reverse(earned=40, total=2050, kept=2050, reversed_already=0) == 0


def test_nothing_earned_nothing_taken():
    assert points_to_reverse(earned=0, total=5000, kept=0, reversed_already=0) == 0
    assert points_to_reverse(earned=0, total=50, kept=0, reversed_already=0) == 0


@given(
    dollars=st.integers(min_value=1, max_value=100_000),
    cents=st.integers(min_value=0, max_value=99),
    rate=st.integers(min_value=1, max_value=10_000),
    refunds=st.lists(st.integers(min_value=1, max_value=10_000_000), max_size=6),
)
def test_refunds_in_any_steps_take_back_what_one_refund_would(dollars, cents, rate, refunds):
    total = dollars * 100 + cents
    earned = order_points(total, rate)
    refunded = taken = 0
    for amount in refunds:
        refunded = min(refunded + amount, total)
        step = points_to_reverse(earned, total, total - refunded, taken)
        assert step >= 0
        taken += step
        # Never more than earned, and always what a single refund of the same sum takes.
        assert taken == points_to_reverse(earned, total, total - refunded, 0) <= earned
    if refunded == total:
        assert taken == earned

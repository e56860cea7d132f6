"""Stock rules (reorder-point crossings, alert types) and GST arithmetic: examples, properties."""

from __future__ import annotations

from fractions import Fraction
from math import floor

import pytest
from hypothesis import given
from hypothesis import strategies as st

from elevatedpos.rules.money import round_half_up_div, tax_included
from elevatedpos.rules.stock import alert_type, crossed_reorder_point

stock = st.integers(min_value=0, max_value=10_000)
reorder_points = st.integers(min_value=0, max_value=10_000)


# --- crossed_reorder_point -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after", "reorder_point", "crossed"),
    [
        (10, 5, 5, True),  # down to the reorder point
        (6, 5, 5, True),
        (10, 0, 5, True),  # past it in one step
        (1, 0, 0, True),  # reorder point 0: going empty
        (10, 6, 5, False),  # still above
        (5, 4, 5, False),  # already at it
        (3, 0, 5, False),  # already below
        (4, 7, 5, False),  # going up
        (5, 6, 5, False),
        (0, 0, 0, False),
    ],
)
def test_crossed_reorder_point_examples(before, after, reorder_point, crossed):
    assert crossed_reorder_point(before, after, reorder_point) is crossed


@given(before=stock, after=stock, reorder_point=reorder_points)
def test_crossing_means_from_above_to_at_or_below(before, after, reorder_point):
    expected = before > reorder_point and after <= reorder_point
    assert crossed_reorder_point(before, after, reorder_point) is expected


@given(
    start=stock,
    deltas=st.lists(st.integers(min_value=-50, max_value=50), max_size=40),
    reorder_point=st.integers(min_value=0, max_value=100),
)
def test_a_walk_crosses_once_per_fall_from_above(start, deltas, reorder_point):
    """Along any sequence of changes, crossings alternate with climbs back above the point."""
    level, crossings, climbs = start, 0, 0
    above = level > reorder_point
    for delta in deltas:
        after = max(0, level + delta)
        if crossed_reorder_point(level, after, reorder_point):
            assert above, "crossed while already at or below"
            crossings += 1
        if not above and after > reorder_point:
            climbs += 1
        level, above = after, after > reorder_point
    started_above = start > reorder_point
    # each crossing needs the walk to be above first: at most one more crossing than climbs
    assert crossings == climbs + (1 if started_above else 0) - (1 if above else 0)


# --- alert_type ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("on_hand", "reorder_point", "expected"),
    [
        (0, 0, "out_of_stock"),
        (0, 5, "out_of_stock"),
        (1, 5, "low_stock"),
        (5, 5, "low_stock"),
        (6, 5, None),
        (1, 0, None),
    ],
)
def test_alert_type_examples(on_hand, reorder_point, expected):
    assert alert_type(on_hand, reorder_point) == expected


@given(on_hand=stock, reorder_point=reorder_points)
def test_alert_type_agrees_with_the_crossing(on_hand, reorder_point):
    kind = alert_type(on_hand, reorder_point)
    assert (kind is None) == (on_hand > reorder_point and on_hand > 0)
    assert (kind == "out_of_stock") == (on_hand == 0)
    # a level that needs attention is one a fall from above would have crossed into
    assert (kind is not None) == crossed_reorder_point(reorder_point + 1, on_hand, reorder_point)


# --- money ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [(0, 7, 0), (5, 2, 3), (3, 2, 2), (1, 2, 1), (1, 3, 0), (2, 3, 1), (7, 7, 1), (14, 4, 4)],
)
def test_round_half_up_div_examples(numerator, denominator, expected):
    assert round_half_up_div(numerator, denominator) == expected


@given(
    numerator=st.integers(min_value=0, max_value=10**15),
    denominator=st.integers(min_value=1, max_value=10**9),
)
def test_round_half_up_div_is_exact(numerator, denominator):
    assert round_half_up_div(numerator, denominator) == floor(
        Fraction(numerator, denominator) + Fraction(1, 2)
    )


@pytest.mark.parametrize(
    ("total", "rate", "tax"),
    [
        (1100, 1000, 100),  # $11.00 incl. 10 % GST has $1.00 of GST
        (450, 1000, 41),  # 40.909...
        (1, 1000, 0),  # 0.0909...
        (11, 1000, 1),  # exactly 1
        (1155, 1000, 105),
        (16500, 1000, 1500),
        (999, 0, 0),
        (0, 1000, 0),
        (1000, 10_000, 500),  # 100 % tax: half the total
    ],
)
def test_tax_included_examples(total, rate, tax):
    assert tax_included(total, rate) == tax


@given(total=st.integers(min_value=0, max_value=2**31 - 1), rate=st.integers(0, 10_000))
def test_tax_included_is_the_rounded_exact_share(total, rate):
    tax = tax_included(total, rate)
    exact = Fraction(total * rate, 10_000 + rate)
    assert abs(tax - exact) <= Fraction(1, 2)
    assert tax == floor(exact + Fraction(1, 2))
    assert 0 <= tax <= total


@given(
    total=st.integers(min_value=0, max_value=10**9),
    more=st.integers(min_value=0, max_value=10**6),
    rate=st.integers(0, 10_000),
)
def test_tax_included_grows_with_the_total(total, more, rate):
    assert tax_included(total, rate) <= tax_included(total + more, rate)

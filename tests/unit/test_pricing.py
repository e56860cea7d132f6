"""Pricing, campaign discounts and refund arithmetic: café examples and properties."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from elevatedpos.rules.discounts import (
    Campaign,
    UnknownCampaignCode,
    check_campaign_rules,
    select_campaigns,
    spread_amount,
)
from elevatedpos.rules.money import tax_included
from elevatedpos.rules.pricing import (
    LineRequest,
    ModifierGroup,
    ModifierOption,
    PriceEntry,
    PriceList,
    PricingError,
    Product,
    Reward,
    Variant,
    loyalty_points,
    price_order,
)
from elevatedpos.rules.refunds import (
    CapturedPayment,
    LineRefundRequest,
    RefundableLine,
    RefundInvalid,
    allocate_refund,
    line_refund_amount,
    refund_lines,
    refundable,
    status_after_refund,
)

NOW = datetime(2026, 11, 23, 10, 15, tzinfo=UTC)
CITY, AIRPORT = "loc-city", "loc-airport"

MILK = ModifierGroup(
    "g-milk",
    "Milk",
    min_selections=0,
    max_selections=1,
    options=(
        ModifierOption("opt-oat", "Oat milk", 70),
        ModifierOption("opt-soy", "Soy milk", 60),
        ModifierOption("opt-skim", "Skim milk", 0),
    ),
)
SHOTS = ModifierGroup(
    "g-shots",
    "Extras",
    min_selections=0,
    max_selections=2,
    options=(ModifierOption("opt-shot", "Extra shot", 50), ModifierOption("opt-half", "Half", -40)),
)
HEAT = ModifierGroup(
    "g-heat",
    "Warmed?",
    min_selections=1,
    max_selections=1,
    options=(ModifierOption("opt-warm", "Warmed", 0), ModifierOption("opt-cold", "Cold", 0)),
)
FLAT_WHITE = Product(
    "p-flat-white",
    "Flat White",
    "FW",
    price=450,
    category_id="cat-coffee",
    category_ancestor_ids=("cat-drinks",),
    variants=(Variant("v-small", "Small", "FW-S", 450), Variant("v-large", "Large", "FW-L", 520)),
    modifier_groups=(MILK, SHOTS),
)
MUFFIN = Product(
    "p-muffin",
    "Blueberry Muffin",
    "MUF",
    price=500,
    category_id="cat-food",
    modifier_groups=(HEAT,),
)
BREAD = Product("p-bread", "Banana Bread", "BB", price=600, category_id="cat-food")
MILK_1L = Product("p-milk", "Milk 1 L", "MILK", price=350, tax_rate=0, category_id="cat-grocery")
CATALOG = {p.id: p for p in (FLAT_WHITE, MUFFIN, BREAD, MILK_1L)}


def price(lines, **kw):
    kw.setdefault("location_id", CITY)
    kw.setdefault("now", NOW)
    return price_order(lines, CATALOG, **kw)


def large_oat_double(quantity=2):
    return LineRequest("p-flat-white", quantity, "v-large", ("opt-oat", "opt-shot"))


def warm_muffin(quantity=1):
    return LineRequest("p-muffin", quantity, None, ("opt-warm",))


# --- unit prices, modifiers, tax ------------------------------------------------------------


def test_cafe_order_with_sizes_and_oat_milk():
    order = price([large_oat_double(), warm_muffin()])
    coffee, muffin = order.lines
    assert coffee.unit_price == 520 + 70 + 50
    assert coffee.name == "Flat White (Large)" and coffee.sku == "FW-L"
    assert [(m.option_id, m.name, m.price_delta) for m in coffee.modifiers] == [
        ("opt-oat", "Oat milk", 70),
        ("opt-shot", "Extra shot", 50),
    ]
    assert (coffee.subtotal, coffee.discount, coffee.total, coffee.tax) == (1280, 0, 1280, 116)
    assert (muffin.unit_price, muffin.total, muffin.tax) == (500, 500, 45)
    assert (order.subtotal, order.discount_total, order.tax_total, order.total) == (
        1780,
        0,
        161,
        1780,
    )
    assert order.campaign_ids == ()


def test_gst_free_line_has_no_tax_and_negative_deltas_lower_the_price():
    order = price(
        [LineRequest("p-milk", 3), LineRequest("p-flat-white", 1, "v-small", ("opt-half",))]
    )
    assert (order.lines[0].total, order.lines[0].tax) == (1050, 0)
    assert order.lines[1].unit_price == 410
    assert order.tax_total == tax_included(410, 1000)


def test_price_list_overrides_at_its_locations_only():
    airport = PriceList(
        "pl-airport",
        frozenset({AIRPORT}),
        (
            PriceEntry("p-flat-white", "v-large", 650),
            PriceEntry("p-flat-white", None, 580),
            PriceEntry("p-muffin", None, 700),
        ),
    )
    cheaper = PriceList("pl-promo", frozenset({AIRPORT}), (PriceEntry("p-muffin", None, 650),))
    lines = [large_oat_double(1), warm_muffin(), LineRequest("p-flat-white", 1, "v-small")]
    at_airport = price(lines, location_id=AIRPORT, price_lists=[airport, cheaper])
    assert [line.unit_price for line in at_airport.lines] == [650 + 120, 650, 450]
    at_city = price(lines, location_id=CITY, price_lists=[airport, cheaper])
    assert [line.unit_price for line in at_city.lines] == [520 + 120, 500, 450]
    plain = price([LineRequest("p-flat-white", 1)], location_id=AIRPORT, price_lists=[airport])
    assert plain.lines[0].unit_price == 580


@pytest.mark.parametrize(
    ("line", "field", "words"),
    [
        (LineRequest("p-nope", 1), "lineItems.0.productId", "names no product"),
        (LineRequest("p-flat-white", 1, "v-other"), "lineItems.0.variantId", "not a variant"),
        (LineRequest("p-flat-white", 0), "lineItems.0.quantity", "at least 1"),
        (
            LineRequest("p-flat-white", 1, None, ("opt-warm",)),
            "lineItems.0.modifierOptionIds",
            "option opt-warm is not offered for Flat White",
        ),
        (
            LineRequest("p-flat-white", 1, None, ("opt-oat", "opt-soy")),
            "lineItems.0.modifierOptionIds",
            "Milk allows at most 1",
        ),
        (
            LineRequest("p-flat-white", 1, None, ("opt-oat", "opt-oat")),
            "lineItems.0.modifierOptionIds",
            "option opt-oat is chosen twice",
        ),
        (LineRequest("p-muffin", 1), "lineItems.0.modifierOptionIds", "Warmed? needs at least 1"),
        (LineRequest("p-flat-white", 2**30), "lineItems.0.quantity", "too large"),
    ],
)
def test_bad_lines_are_422s_naming_the_field(line, field, words):
    with pytest.raises(PricingError) as caught:
        price([line])
    assert caught.value.kind.status == 422
    assert [e.field for e in caught.value.errors] == [field]
    assert words in caught.value.errors[0].message


def test_every_bad_line_is_reported_with_its_index():
    with pytest.raises(PricingError) as caught:
        price([warm_muffin(), LineRequest("p-muffin", 1, None, ("opt-oat",)), LineRequest("x", 1)])
    assert [e.field for e in caught.value.errors] == [
        "lineItems.1.modifierOptionIds",
        "lineItems.1.modifierOptionIds",
        "lineItems.2.productId",
    ]
    with pytest.raises(PricingError):
        price([])


def test_modifiers_cannot_take_a_unit_price_below_zero():
    cheap = Product("p-cheap", "Babycino", "BC", price=30, modifier_groups=(SHOTS,))
    with pytest.raises(PricingError) as caught:
        price_order(
            [LineRequest("p-cheap", 1, None, ("opt-half",))],
            {"p-cheap": cheap},
            location_id=CITY,
            now=NOW,
        )
    assert caught.value.errors[0].field == "lineItems.0.modifierOptionIds"


# --- campaigns -------------------------------------------------------------------------------

COFFEE_TEN = Campaign("c-coffee10", percent_off=10, category_ids=frozenset({"cat-coffee"}))


def test_ten_percent_campaign_limited_to_a_category():
    order = price([large_oat_double(), warm_muffin()], campaigns=[COFFEE_TEN])
    coffee, muffin = order.lines
    assert (coffee.discount, coffee.total, coffee.tax) == (128, 1152, 105)
    assert (muffin.discount, muffin.total, muffin.tax) == (0, 500, 45)
    assert (order.subtotal, order.discount_total, order.tax_total, order.total) == (
        1780,
        128,
        150,
        1652,
    )
    assert order.campaign_ids == ("c-coffee10",)


def test_category_campaigns_cover_subcategories():
    drinks = Campaign("c-drinks", percent_off=50, category_ids=frozenset({"cat-drinks"}))
    order = price([LineRequest("p-flat-white", 1), LineRequest("p-bread", 1)], campaigns=[drinks])
    assert [line.discount for line in order.lines] == [225, 0]


def test_two_dollars_off_spread_over_three_lines():
    two_off = Campaign("c-2off", code="TWO", amount_off=200)
    lines = [LineRequest("p-flat-white", 1), LineRequest("p-bread", 1), LineRequest("p-milk", 1)]
    order = price(lines, campaigns=[two_off], campaign_code="two")
    # exact shares 64.29, 85.71, 50: floors 64 + 85 + 50 = 199, the cent goes to .71
    assert [line.discount for line in order.lines] == [64, 86, 50]
    assert [line.total for line in order.lines] == [386, 514, 300]
    assert [line.tax for line in order.lines] == [35, 47, 0]
    assert (order.discount_total, order.total) == (200, 1200)
    assert order.applied_campaigns[0].discount == 200


def test_amount_off_never_exceeds_the_eligible_lines():
    big = Campaign("c-big", amount_off=10_000, product_ids=frozenset({"p-bread"}))
    order = price([LineRequest("p-bread", 1), LineRequest("p-milk", 1)], campaigns=[big])
    assert [(line.discount, line.total, line.tax) for line in order.lines] == [
        (600, 0, 0),
        (0, 350, 0),
    ]


def test_codes_minimum_subtotal_status_and_window():
    later = NOW + timedelta(days=1)
    campaigns = [
        Campaign("c-auto", percent_off=5),
        Campaign("c-code", code=" Summer ", amount_off=100, min_subtotal=2000),
        Campaign("c-paused", status="paused", code="PAUSED", percent_off=50),
        Campaign("c-future", code="SOON", percent_off=50, starts_at=later),
        Campaign("c-over", code="GONE", percent_off=50, ends_at=NOW),
        Campaign("c-other", code="OTHER", percent_off=50),
    ]
    small = [LineRequest("p-bread", 1)]
    assert price(small, campaigns=campaigns).campaign_ids == ("c-auto",)
    # the code names a live campaign whose rules the order misses: no discount, no error
    missed = price(small, campaigns=campaigns, campaign_code="SUMMER")
    assert (missed.campaign_ids, missed.discount_total) == (("c-auto",), 30)
    met = price([LineRequest("p-bread", 4)], campaigns=campaigns, campaign_code="summer")
    assert met.campaign_ids == ("c-auto", "c-code")
    assert met.discount_total == 120 + 100  # 5 % first, then $1 off what is left
    for code in ("PAUSED", "SOON", "GONE", "nope"):
        with pytest.raises(UnknownCampaignCode) as caught:
            price(small, campaigns=campaigns, campaign_code=code)
        assert caught.value.errors[0].field == "campaignCode"
    assert select_campaigns(campaigns, "  ", NOW) == (campaigns[0],)


def test_stacked_campaigns_apply_percent_before_amount_whatever_their_order():
    one_off = Campaign("a-dollar", amount_off=100)
    half = Campaign("z-half", percent_off=50)
    lines = [LineRequest("p-bread", 1)]
    first = price(lines, campaigns=[one_off, half])
    assert first == price(lines, campaigns=[half, one_off])
    assert first.lines[0].total == 600 // 2 - 100
    assert [(a.campaign_id, a.discount) for a in first.applied_campaigns] == [
        ("a-dollar", 100),
        ("z-half", 300),
    ]


def test_a_reward_comes_off_after_campaigns_spread_over_what_is_left():
    ten_off = Campaign("c-10", percent_off=10)
    coffee = Reward("prog", "r-coffee", "Free coffee", points_cost=50, discount=450)
    order = price(
        [large_oat_double(), LineRequest("p-milk", 1)], campaigns=[ten_off], reward=coffee
    )
    # Campaign first: 1280 - 128 and 350 - 35 leave 1152 and 315; the 450 splits 353 / 97.
    flat, milk = order.lines
    assert (flat.discount, milk.discount) == (128 + 353, 35 + 97)
    assert order.applied_reward is not None and order.applied_reward.discount == 450
    assert order.discount_total == 128 + 35 + 450 and order.total == 1630 - 613
    # GST is on what is paid: the milk is GST-free, the coffee's tax follows its new total.
    assert milk.tax == 0 and flat.tax == tax_included(1280 - 481, flat.tax_rate)


def test_a_reward_worth_more_than_the_order_takes_it_to_zero_not_below():
    lunch = Reward("prog", "r-lunch", "Free lunch", points_cost=300, discount=1800)
    order = price([warm_muffin()], reward=lunch)
    assert order.total == 0 and order.tax_total == 0
    assert order.applied_reward is not None and order.applied_reward.discount == 500


def test_check_campaign_rules():
    assert check_campaign_rules(10, None, None) == []
    assert check_campaign_rules(None, 200, 1000) == []
    assert [e.field for e in check_campaign_rules(None, None, None)] == ["rules"]
    assert [e.field for e in check_campaign_rules(0, 0, -1)] == [
        "rules.percentOff",
        "rules.amountOff",
        "rules.minSubtotal",
    ]
    assert [e.field for e in check_campaign_rules(101, None, None)] == ["rules.percentOff"]


# --- refunds and loyalty -------------------------------------------------------------------


def payment(pid, captured, refunded=0, minute=0):
    return CapturedPayment(pid, captured, refunded, NOW + timedelta(minutes=minute))


def test_refunds_go_back_newest_payment_first():
    cash, card = payment("pay-cash", 1000, minute=1), payment("pay-card", 652, 100, minute=2)
    assert refundable([cash, card]) == 1552
    assert [(s.payment_id, s.amount) for s in allocate_refund([cash, card], 300)] == [
        ("pay-card", 300)
    ]
    assert [(s.payment_id, s.amount) for s in allocate_refund([cash, card], 1000)] == [
        ("pay-card", 552),
        ("pay-cash", 448),
    ]
    for bad in (0, 1553):
        with pytest.raises(RefundInvalid) as caught:
            allocate_refund([cash, card], bad)
        assert caught.value.errors[0].field == "amount"


def test_refunding_a_line_in_pieces_sums_to_its_total():
    assert [line_refund_amount(1000, 3, done, 1) for done in range(3)] == [333, 334, 333]
    assert line_refund_amount(1000, 3, 0, 3) == 1000
    with pytest.raises(ValueError, match="more units"):
        line_refund_amount(1000, 3, 2, 2)


def test_refund_lines_validates_and_prices():
    lines = [RefundableLine("li-1", 3, 1000, refunded_quantity=1), RefundableLine("li-2", 1, 500)]
    refunds = refund_lines(lines, [LineRefundRequest("li-1", 2), LineRefundRequest("li-2", 1)])
    assert [(r.line_item_id, r.quantity, r.amount) for r in refunds] == [
        ("li-1", 2, 667),
        ("li-2", 1, 500),
    ]
    with pytest.raises(RefundInvalid) as caught:
        refund_lines(
            lines,
            [
                LineRefundRequest("li-1", 3),
                LineRefundRequest("li-9", 1),
                LineRefundRequest("li-2", 1),
                LineRefundRequest("li-2", 1),
            ],
        )
    assert [e.field for e in caught.value.errors] == [
        "lineItems.0.quantity",
        "lineItems.1.lineItemId",
        "lineItems.3.lineItemId",
    ]
    assert status_after_refund(1652, 1652) == "refunded"
    assert status_after_refund(1652, 500) == "partially_refunded"


@pytest.mark.parametrize(
    ("total", "per_dollar", "points"), [(1652, 1, 16), (1652, 3, 48), (99, 5, 0), (100, 2, 2)]
)
def test_loyalty_points(total, per_dollar, points):
    assert loyalty_points(total, per_dollar) == points


# --- properties ------------------------------------------------------------------------------

prices_st = st.integers(min_value=0, max_value=20_000)
tax_rates = st.sampled_from([0, 1000, 1000, 1500, 10_000])
CATEGORIES = ("cat-a", "cat-b", "cat-c")


@st.composite
def groups(draw, product_index):
    count = draw(st.integers(min_value=0, max_value=2))
    result = []
    for g in range(count):
        options = tuple(
            ModifierOption(f"o-{product_index}-{g}-{o}", f"Option {o}", delta)
            for o, delta in enumerate(
                draw(st.lists(st.integers(-100, 300), min_size=1, max_size=4))
            )
        )
        hi = draw(st.integers(min_value=1, max_value=len(options)))
        lo = draw(st.integers(min_value=0, max_value=hi))
        result.append(ModifierGroup(f"g-{product_index}-{g}", f"Group {g}", lo, hi, options))
    return tuple(result)


@st.composite
def catalogs(draw):
    products = {}
    for i in range(draw(st.integers(min_value=1, max_value=5))):
        variant_prices = draw(st.lists(prices_st, max_size=3))
        product = Product(
            f"p-{i}",
            f"Product {i}",
            f"SKU-{i}",
            draw(prices_st),
            draw(tax_rates),
            draw(st.sampled_from(CATEGORIES)),
            variants=tuple(
                Variant(f"v-{i}-{n}", f"Size {n}", f"SKU-{i}-{n}", p)
                for n, p in enumerate(variant_prices)
            ),
            modifier_groups=draw(groups(i)),
        )
        products[product.id] = product
    return products


@st.composite
def carts(draw, products):
    lines = []
    for _ in range(draw(st.integers(min_value=1, max_value=8))):
        product = products[draw(st.sampled_from(sorted(products)))]
        variant = draw(st.sampled_from([None, *product.variants]))
        chosen = []
        for group in product.modifier_groups:
            n = draw(st.integers(group.min_selections, group.max_selections))
            picked = draw(st.permutations(group.options))[:n]
            chosen += [o.id for o in picked]
        lines.append(
            LineRequest(
                product.id,
                draw(st.integers(min_value=1, max_value=12)),
                variant.id if variant else None,
                tuple(draw(st.permutations(chosen))),
            )
        )
    return lines


@st.composite
def campaign_lists(draw, products):
    result = []
    for c in range(draw(st.integers(min_value=0, max_value=4))):
        percent = draw(st.none() | st.integers(min_value=1, max_value=100))
        amount = draw(st.integers(min_value=1, max_value=5_000))
        if percent is not None:
            amount = draw(st.none() | st.just(amount))
        result.append(
            Campaign(
                f"c-{c}",
                percent_off=percent,
                amount_off=amount,
                min_subtotal=draw(st.none() | st.integers(min_value=0, max_value=20_000)),
                product_ids=frozenset(draw(st.lists(st.sampled_from(sorted(products))))),
                category_ids=frozenset(draw(st.lists(st.sampled_from(CATEGORIES)))),
            )
        )
    return result


@st.composite
def orders(draw):
    products = draw(catalogs())
    lines = draw(carts(products))
    campaigns = draw(campaign_lists(products))
    return products, lines, campaigns


def price_safely(products, lines, campaigns):
    """Price an order whose modifiers may take a unit price below zero (then it is a 422)."""
    try:
        return price_order(lines, products, location_id=CITY, now=NOW, campaigns=campaigns)
    except PricingError as error:
        assert all("below zero" in e.message for e in error.errors)
        return None


@given(orders())
def test_totals_add_up_and_no_line_goes_negative(order_input):
    order = price_safely(*order_input)
    if order is None:
        return
    assert order.subtotal == sum(line.subtotal for line in order.lines)
    assert order.discount_total == sum(line.discount for line in order.lines)
    assert order.discount_total == sum(a.discount for a in order.applied_campaigns)
    assert order.tax_total == sum(line.tax for line in order.lines)
    assert (
        order.total
        == order.subtotal - order.discount_total
        == sum(line.total for line in order.lines)
    )
    for line in order.lines:
        assert line.subtotal == line.unit_price * line.quantity
        assert 0 <= line.discount <= line.subtotal
        assert line.total == line.subtotal - line.discount >= 0
        assert 0 <= line.tax <= line.total
        assert line.tax == tax_included(line.total, line.tax_rate)


@given(orders(), st.randoms(use_true_random=False))
def test_the_same_order_always_prices_the_same(order_input, rnd):
    products, lines, campaigns = order_input
    order = price_safely(products, lines, campaigns)
    if order is None:
        return
    assert price_safely(products, lines, campaigns) == order
    shuffled_campaigns = list(campaigns)
    rnd.shuffle(shuffled_campaigns)
    assert price_safely(products, lines, shuffled_campaigns) == order
    shuffled_lines = list(lines)
    rnd.shuffle(shuffled_lines)
    again = price_safely(products, shuffled_lines, shuffled_campaigns)
    assert again is not None
    assert (again.subtotal, again.discount_total, again.tax_total, again.total) == (
        order.subtotal,
        order.discount_total,
        order.tax_total,
        order.total,
    )
    assert again.applied_campaigns == order.applied_campaigns


@given(orders(), st.integers(min_value=1, max_value=50_000))
def test_one_amount_off_takes_exactly_what_it_can(order_input, amount_off):
    products, lines, _ = order_input
    scope = frozenset({"cat-a"})
    order = price_safely(
        products, lines, [Campaign("c", amount_off=amount_off, category_ids=scope)]
    )
    if order is None:
        return
    eligible = sum(
        line.subtotal for line in order.lines if products[line.product_id].category_id in scope
    )
    assert order.discount_total == min(amount_off, eligible)


@given(
    st.integers(min_value=0, max_value=100_000),
    st.lists(st.integers(min_value=0, max_value=50_000), min_size=1, max_size=12),
)
def test_spread_is_exact_proportional_and_capped(amount, rests):
    shares = spread_amount(amount, rests)
    take = min(amount, sum(rests))
    assert sum(shares) == take
    for share, rest in zip(shares, rests, strict=True):
        assert 0 <= share <= rest
        assert abs(share - Fraction(take * rest, sum(rests) or 1)) < 1


payments_st = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=10_000),
        st.integers(min_value=0, max_value=10_000),
        st.integers(min_value=0, max_value=5),
    ),
    min_size=1,
    max_size=6,
)


@given(payments_st, st.data())
def test_refund_allocations_are_exact_and_within_each_payment(raw, data):
    payments = [
        payment(f"pay-{i}", captured, min(refunded, captured), minute)
        for i, (captured, refunded, minute) in enumerate(raw)
    ]
    available = refundable(payments)
    if available == 0:
        with pytest.raises(RefundInvalid):
            allocate_refund(payments, 1)
        return
    amount = data.draw(st.integers(min_value=1, max_value=available))
    shares = allocate_refund(payments, amount)
    assert sum(s.amount for s in shares) == amount
    rest = {p.id: p.refundable for p in payments}
    assert len({s.payment_id for s in shares}) == len(shares)
    for share in shares:
        assert 0 < share.amount <= rest[share.payment_id]
    assert allocate_refund(list(reversed(payments)), amount) == shares
    with pytest.raises(RefundInvalid):
        allocate_refund(payments, available + 1)


@given(
    st.integers(min_value=0, max_value=100_000),
    st.lists(st.integers(min_value=1, max_value=5), min_size=1, max_size=10),
)
def test_refunding_a_line_in_any_pieces_sums_to_its_total(total, pieces):
    quantity = sum(pieces)
    done, amounts = 0, []
    for piece in pieces:
        amounts.append(line_refund_amount(total, quantity, done, piece))
        done += piece
    assert sum(amounts) == total
    assert all(a >= 0 for a in amounts)
    assert all(
        abs(a - Fraction(total * p, quantity)) <= 1 for a, p in zip(amounts, pieces, strict=True)
    )

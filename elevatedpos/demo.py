"""The demo org: a café with a login, loaded by `seed-demo` and `serve --demo`."""

from __future__ import annotations

import random
import uuid
from datetime import datetime
from typing import Any

import strawberry
from sqlalchemy import select

from elevatedpos.actions.catalog import create_category, create_modifier_group, create_product
from elevatedpos.actions.customers import upsert_customer
from elevatedpos.actions.inventory import adjust_inventory
from elevatedpos.actions.orgs import create_org, create_user, new_location
from elevatedpos.db.engine import Database
from elevatedpos.db.models import User
from elevatedpos.schema.catalog import (
    CreateCategoryInput,
    CreateModifierGroupInput,
    CreateProductInput,
    ModifierOptionInput,
    VariantInput,
)
from elevatedpos.schema.customers import UpsertCustomerInput
from elevatedpos.schema.inventory import AdjustInventoryInput, AdjustmentReason
from elevatedpos.schema.money import MoneyInput
from elevatedpos.schema.scalars import format_datetime

DEMO_EMAIL = "owner@demo.elevatedpos.local"
DEMO_STAFF_EMAIL = "staff@demo.elevatedpos.local"
DEMO_PASSWORD = "demo-password"

# (category, [(name, sku, price in cents, sized?, takes milk?)])
# fmt: off
MENU: list[tuple[str, list[tuple[str, str, int, bool, bool]]]] = [
    ("Coffee", [
        ("Espresso", "COF-ESP", 380, False, False),
        ("Long Black", "COF-LB", 420, True, False),
        ("Flat White", "COF-FW", 480, True, True),
        ("Latte", "COF-LAT", 480, True, True),
        ("Cappuccino", "COF-CAP", 480, True, True),
        ("Mocha", "COF-MOC", 530, True, True),
        ("Macchiato", "COF-MAC", 420, False, True),
        ("Piccolo", "COF-PIC", 430, False, True),
        ("Cold Brew", "COF-CB", 550, True, False),
        ("Iced Latte", "COF-ICL", 580, True, True),
    ]),
    ("Tea & Other", [
        ("English Breakfast Tea", "TEA-EB", 450, False, False),
        ("Green Tea", "TEA-GRN", 450, False, False),
        ("Peppermint Tea", "TEA-PEP", 450, False, False),
        ("Chai Latte", "TEA-CHAI", 520, True, True),
        ("Matcha Latte", "TEA-MAT", 580, True, True),
        ("Hot Chocolate", "OTH-HC", 500, True, True),
        ("Babyccino", "OTH-BABY", 150, False, False),
    ]),
    ("Cold Drinks", [
        ("Orange Juice", "CD-OJ", 600, False, False),
        ("Apple Juice", "CD-AJ", 600, False, False),
        ("Sparkling Water", "CD-SW", 400, False, False),
        ("Lemonade", "CD-LEM", 550, False, False),
        ("Iced Tea", "CD-IT", 550, False, False),
        ("Banana Smoothie", "CD-BS", 850, False, True),
        ("Berry Smoothie", "CD-BER", 850, False, True),
    ]),
    ("Bakery", [
        ("Croissant", "BAK-CRO", 550, False, False),
        ("Almond Croissant", "BAK-ALC", 680, False, False),
        ("Pain au Chocolat", "BAK-PAC", 620, False, False),
        ("Banana Bread", "BAK-BB", 600, False, False),
        ("Blueberry Muffin", "BAK-BM", 550, False, False),
        ("Cinnamon Scroll", "BAK-CS", 600, False, False),
        ("Friand", "BAK-FRI", 500, False, False),
        ("Cookie", "BAK-COO", 400, False, False),
    ]),
    ("Breakfast", [
        ("Avocado Toast", "BRK-AVO", 1800, False, False),
        ("Eggs Benedict", "BRK-BEN", 2200, False, False),
        ("Big Breakfast", "BRK-BIG", 2600, False, False),
        ("Granola Bowl", "BRK-GRA", 1600, False, False),
        ("Bacon & Egg Roll", "BRK-BER", 1300, False, False),
        ("Porridge", "BRK-POR", 1400, False, False),
    ]),
    ("Lunch", [
        ("Chicken Sandwich", "LUN-CHS", 1600, False, False),
        ("Vegetarian Wrap", "LUN-VW", 1500, False, False),
        ("Caesar Salad", "LUN-CAE", 1800, False, False),
        ("Soup of the Day", "LUN-SOU", 1400, False, False),
        ("Toastie", "LUN-TOA", 1200, False, False),
        ("Quiche", "LUN-QUI", 1500, False, False),
    ]),
    ("Retail", [
        ("House Blend 250g", "RET-HB", 1800, False, False),
        ("Single Origin 250g", "RET-SO", 2200, False, False),
        ("Keep Cup", "RET-KC", 2500, False, False),
    ]),
]
# (first name, last name, phone, tags, marketing opt-in); emails are first.last@example.com
CUSTOMERS: list[tuple[str, str, str | None, list[str], bool]] = [
    ("Olivia", "Nguyen", "0412 345 678", ["vip", "regular"], True),
    ("Jack", "Smith", "0413 111 222", ["regular"], True),
    ("Charlotte", "Wilson", None, [], False),
    ("William", "Brown", "0421 555 010", ["regular"], False),
    ("Amelia", "Taylor", "0433 987 654", ["vip"], True),
    ("Noah", "Anderson", None, ["wholesale"], False),
    ("Isla", "Thomas", "0402 246 810", ["regular", "oat milk"], True),
    ("Oliver", "Martin", "0455 123 321", [], False),
    ("Mia", "Chen", "0418 808 080", ["vip", "regular"], True),
    ("Leo", "Walker", None, ["staff"], False),
    ("Grace", "Kelly", "0499 000 111", ["regular"], True),
    ("Henry", "Patel", "0477 654 321", [], False),
]
# fmt: on
SIZES = (("Small", 0), ("Regular", 50), ("Large", 100))


async def _seed_catalog(
    db: Database, org_id: uuid.UUID, user_id: uuid.UUID, locations: list[uuid.UUID]
) -> int:
    milk = await create_modifier_group(
        db,
        org_id,
        CreateModifierGroupInput(
            name="Milk",
            options=[
                ModifierOptionInput(name="Full cream"),
                ModifierOptionInput(name="Skim"),
                ModifierOptionInput(name="Oat", price_delta=MoneyInput(amount=70)),
                ModifierOptionInput(name="Almond", price_delta=MoneyInput(amount=70)),
                ModifierOptionInput(name="Soy", price_delta=MoneyInput(amount=60)),
            ],
            min_selections=0,
            max_selections=1,
        ),
    )
    shot = await create_modifier_group(
        db,
        org_id,
        CreateModifierGroupInput(
            name="Extra shot",
            options=[
                ModifierOptionInput(name="Extra shot", price_delta=MoneyInput(amount=60)),
                ModifierOptionInput(name="Decaf", price_delta=MoneyInput(amount=40)),
            ],
            min_selections=0,
            max_selections=2,
        ),
    )
    count = 0
    for position, (category_name, items) in enumerate(MENU):
        category = await create_category(
            db, org_id, CreateCategoryInput(name=category_name, sort_order=position)
        )
        for index, (name, sku, price, sized, milky) in enumerate(items):
            variants = (
                [
                    VariantInput(
                        name=size, sku=f"{sku}-{size[0]}", price=MoneyInput(amount=price + extra)
                    )
                    for size, extra in SIZES
                ]
                if sized
                else []
            )
            groups = [str(milk.id)] * milky + [str(shot.id)] * (category_name == "Coffee")
            product = await create_product(
                db,
                org_id,
                CreateProductInput(
                    name=name,
                    sku=sku,
                    price=MoneyInput(amount=price),
                    category_id=str(category.id),
                    track_inventory=category_name in {"Bakery", "Cold Drinks", "Retail"},
                    reorder_point=5,
                    variants=variants,
                    modifier_group_ids=groups,
                ),
            )
            count += 1
            if not product.track_inventory:
                continue
            for spot, location_id in enumerate(locations):
                # A few items sit at or below their reorder point, so alerts show something.
                on_hand = 3 if (index + spot) % 4 == 0 else 12 + 4 * index
                await adjust_inventory(
                    db,
                    org_id,
                    user_id,
                    AdjustInventoryInput(
                        product_id=str(product.id),
                        location_id=str(location_id),
                        delta=on_hand,
                        reason=AdjustmentReason.RECEIVED,
                        note="Opening stock",
                    ),
                )
    return count


async def _seed_customers(db: Database, org_id: uuid.UUID) -> None:
    for first, last, phone, tags, opt_in in CUSTOMERS:
        await upsert_customer(
            db,
            org_id,
            UpsertCustomerInput(
                email=f"{first}.{last}@example.com",
                first_name=first,
                last_name=last,
                phone=phone,
                tags=tags,
                marketing_opt_in=opt_in,
            ),
        )


DEMO_CAMPAIGN_CODE = "WELCOME10"


async def _seed_sales(db: Database, org_id: uuid.UUID, user_id: uuid.UUID) -> None:
    """A loyalty program, an automation, a live campaign, a draft one, and four days of
    orders: completed (earning their customers points), voided, refunded."""
    from datetime import timedelta

    from sqlalchemy import update

    from elevatedpos.actions.automations import create_automation
    from elevatedpos.actions.campaigns import create_campaign
    from elevatedpos.actions.loyalty import create_program
    from elevatedpos.actions.orders import create_order, update_order_status
    from elevatedpos.actions.payments import create_payment, refund_order
    from elevatedpos.db.models import (
        Customer,
        InventoryMovement,
        Location,
        Order,
        Payment,
        Product,
        Variant,
    )
    from elevatedpos.errors import Conflict
    from elevatedpos.schema.automations import (
        AutomationActionInput,
        AutomationActionType,
        AutomationConditionInput,
        ConditionOp,
        CreateAutomationInput,
    )
    from elevatedpos.schema.campaigns import (
        CampaignRulesInput,
        CampaignStatus,
        CampaignType,
        CreateCampaignInput,
    )
    from elevatedpos.schema.loyalty import (
        CreateLoyaltyProgramInput,
        LoyaltyRewardInput,
        LoyaltyTierInput,
    )
    from elevatedpos.schema.orders import (
        CreateOrderInput,
        CreatePaymentInput,
        OrderLineInput,
        PaymentMethodType,
        RefundLineInput,
        RefundOrderInput,
    )

    await create_program(
        db,
        org_id,
        CreateLoyaltyProgramInput(
            name="Coffee Club",
            points_per_dollar=1,
            tiers=[
                LoyaltyTierInput(name="Silver", min_points=100),
                LoyaltyTierInput(name="Gold", min_points=500),
            ],
            rewards=[
                LoyaltyRewardInput(
                    name="Free coffee", points_cost=50, discount=MoneyInput(amount=450)
                ),
                LoyaltyRewardInput(
                    name="Free brunch", points_cost=250, discount=MoneyInput(amount=2200)
                ),
            ],
        ),
    )
    await create_automation(
        db,
        org_id,
        CreateAutomationInput(
            name="Big spenders: 50 bonus points and a tag",
            trigger="order.completed",
            conditions=[
                AutomationConditionInput(field="data.total.amount", op=ConditionOp.GTE, value=3000),
            ],
            actions=[
                AutomationActionInput(
                    type=AutomationActionType.ACCRUE_POINTS, params={"points": 50}
                ),
                AutomationActionInput(
                    type=AutomationActionType.TAG_CUSTOMER, params={"tag": "big spender"}
                ),
            ],
        ),
    )
    await create_campaign(
        db,
        org_id,
        CreateCampaignInput(
            name="Welcome 10% off",
            type=CampaignType.DISCOUNT,
            status=CampaignStatus.ACTIVE,
            code=DEMO_CAMPAIGN_CODE,
            rules=CampaignRulesInput(percent_off=10),
        ),
    )
    await create_campaign(
        db,
        org_id,
        CreateCampaignInput(
            name="Pastry Friday: $1 off over $10",
            type=CampaignType.PROMOTION,
            status=CampaignStatus.DRAFT,
            code="PASTRY1",
            rules=CampaignRulesInput(
                amount_off=MoneyInput(amount=100), min_subtotal=MoneyInput(amount=1000)
            ),
        ),
    )
    async with db.read() as session:
        products = (
            await session.scalars(
                select(Product).where(Product.org_id == org_id).order_by(Product.sku)
            )
        ).all()
        variants = (
            await session.scalars(
                select(Variant).where(Variant.org_id == org_id).order_by(Variant.position)
            )
        ).all()
        locations = (
            await session.scalars(
                select(Location.id).where(Location.org_id == org_id).order_by(Location.name)
            )
        ).all()
        customers = (
            await session.scalars(
                select(Customer.id).where(Customer.org_id == org_id).order_by(Customer.email)
            )
        ).all()
    sizes: dict[uuid.UUID, list[uuid.UUID]] = {}
    for v in variants:
        sizes.setdefault(v.product_id, []).append(v.id)
    rng = random.Random(7)
    for n in range(24):
        picks = rng.sample(list(products), rng.randint(1, 3))
        lines = [
            OrderLineInput(
                product_id=strawberry.ID(str(p.id)),
                variant_id=strawberry.ID(str(rng.choice(sizes[p.id]))) if p.id in sizes else None,
                quantity=rng.randint(1, 2),
            )
            for p in picks
        ]
        try:
            made = await create_order(
                db,
                org_id,
                user_id,
                CreateOrderInput(
                    location_id=strawberry.ID(str(locations[n % len(locations)])),
                    line_items=lines,
                    customer_id=strawberry.ID(str(customers[n % len(customers)]))
                    if n % 3
                    else None,
                    campaign_code=DEMO_CAMPAIGN_CODE if n % 7 == 3 else None,
                ),
            )
        except Conflict:
            continue  # that item ran out at that location
        order = made.order
        if n % 11 != 5:  # a couple stay unpaid and get voided
            card = n % 2 == 0
            await create_payment(
                db,
                org_id,
                user_id,
                CreatePaymentInput(
                    order_id=strawberry.ID(str(order.id)),
                    amount=MoneyInput(amount=order.total),
                    method=PaymentMethodType.CARD if card else PaymentMethodType.CASH,
                ),
            )
            await update_order_status(db, org_id, user_id, order.id, "completed", None, None)
            if n % 8 == 6:
                await refund_order(
                    db,
                    org_id,
                    user_id,
                    order.id,
                    RefundOrderInput(
                        reason="Spilled",
                        line_items=[
                            RefundLineInput(
                                line_item_id=strawberry.ID(str(made.lines[0]["id"])), quantity=1
                            )
                        ],
                        restock=False,
                    ),
                )
            elif n % 8 == 7:
                await refund_order(
                    db, org_id, user_id, order.id, RefundOrderInput(reason="Wrong order")
                )
        else:
            await update_order_status(
                db, org_id, user_id, order.id, "voided", "Customer left", None
            )
        # Spread the orders over the last four days, oldest first, in opening hours.
        shift = timedelta(days=3 - n // 6, hours=12 - (n % 6) * 2)
        async with db.write() as session:
            row = await session.get(Order, order.id)
            assert row is not None
            await session.execute(
                update(Order.__table__)
                .where(Order.__table__.c.id == order.id)
                .values(
                    created_at=row.created_at - shift,
                    updated_at=row.updated_at - shift,
                    history=[
                        {**h, "at": format_datetime(datetime.fromisoformat(h["at"]) - shift)}
                        for h in row.history
                    ],
                )
            )
            for payment in await session.scalars(
                select(Payment).where(Payment.order_id == order.id)
            ):
                payment.created_at -= shift
                if payment.captured_at is not None:
                    payment.captured_at -= shift
                if payment.voided_at is not None:
                    payment.voided_at -= shift
            for movement in await session.scalars(
                select(InventoryMovement).where(InventoryMovement.reference_id == order.id)
            ):
                movement.created_at -= shift


async def seed_demo(db: Database) -> dict[str, Any]:
    """Create the demo org once; every run prints its login."""
    async with db.read() as session:
        owner = await session.scalar(select(User).where(User.email == DEMO_EMAIL))
    if owner is None:
        made = await create_org(
            db,
            name="Demo Café",
            email=DEMO_EMAIL,
            password=DEMO_PASSWORD,
            plan="pro",
            owner_name="Demo Owner",
            location_name="Café — Surry Hills",
        )
        async with db.write() as session:
            second = new_location(session, made.org.id, "Café — Bondi", "Australia/Sydney")
        await create_user(
            db, org_id=made.org.id, email=DEMO_STAFF_EMAIL, password=DEMO_PASSWORD, role="staff"
        )
        await _seed_catalog(db, made.org.id, made.owner.id, [made.location.id, second.id])
        await _seed_customers(db, made.org.id)
        await _seed_sales(db, made.org.id, made.owner.id)
        org_id = made.org.id
    else:
        org_id = owner.org_id
    return {
        "orgId": str(org_id),
        "login": {"email": DEMO_EMAIL, "password": DEMO_PASSWORD},
        "staffLogin": {"email": DEMO_STAFF_EMAIL, "password": DEMO_PASSWORD},
    }

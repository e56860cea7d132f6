"""Orders: price a cart, take its stock, number it, and move it through its statuses.

Every write is one transaction with its stock movements, history entry and outbox event.
Creating an order runs the same statements for 1 line and for 100: the catalog rows,
price lists and campaigns the cart needs are read in batches, stock changes in one UPDATE.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from elevatedpos.actions import loyalty, sale_sql
from elevatedpos.actions.inventory import (
    StockDelta,
    change_stock_batch,
    low_stock_event,
    merge_deltas,
    raise_short,
    stock_queue_key,
)
from elevatedpos.db.engine import Database
from elevatedpos.db.models import (
    Campaign,
    Category,
    Counter,
    Customer,
    Location,
    ModifierGroup,
    ModifierOption,
    Order,
    OrderCampaign,
    OrderLine,
    Payment,
    PriceListLocation,
    PriceListPrice,
    Product,
    ProductModifierGroup,
    Variant,
)
from elevatedpos.db.scoping import parse_uuid, require_in_org
from elevatedpos.db.types import utcnow
from elevatedpos.errors import FieldError, ValidationFailed
from elevatedpos.events.outbox import record_event
from elevatedpos.processors import processor
from elevatedpos.rules import discounts, pricing
from elevatedpos.rules.orders import check_move
from elevatedpos.rules.versioning import check_version
from elevatedpos.schema.scalars import format_datetime

MAX_LINES = 100
MAX_QUANTITY = 10_000
MAX_NOTE = 1000


@dataclass(frozen=True)
class Cart:
    """A validated cart: parsed ids and the lines as pricing sees them."""

    location_id: uuid.UUID | None
    customer_id: uuid.UUID | None
    lines: tuple[pricing.LineRequest, ...]
    campaign_code: str | None
    note: str | None
    loyalty_reward_id: str | None


def _id_or_raw(value: Any) -> Any:
    parsed = parse_uuid(value) if value is not None else None
    return parsed if parsed is not None else str(value)


def parse_cart(data: Any) -> Cart:
    """Shape checks that need no database; 422 naming every offending field."""
    errors: list[FieldError] = []
    lines = list(data.line_items or [])
    if not lines:
        errors.append(FieldError("lineItems", "lineItems needs at least one line"))
    elif len(lines) > MAX_LINES:
        errors.append(FieldError("lineItems", f"lineItems holds at most {MAX_LINES} lines"))
    requests: list[pricing.LineRequest] = []
    for i, line in enumerate(lines[:MAX_LINES]):
        if parse_uuid(line.product_id) is None:
            field = f"lineItems.{i}.productId"
            errors.append(FieldError(field, f"{field} does not name an existing product"))
        if line.variant_id is not None and parse_uuid(line.variant_id) is None:
            field = f"lineItems.{i}.variantId"
            errors.append(FieldError(field, f"{field} is not a variant of this product"))
        if not 1 <= line.quantity <= MAX_QUANTITY:
            field = f"lineItems.{i}.quantity"
            errors.append(FieldError(field, f"{field} must be between 1 and {MAX_QUANTITY}"))
        requests.append(
            pricing.LineRequest(
                product_id=_id_or_raw(line.product_id),
                quantity=line.quantity,
                variant_id=_id_or_raw(line.variant_id) if line.variant_id is not None else None,
                modifier_option_ids=tuple(_id_or_raw(o) for o in line.modifier_option_ids or ()),
            )
        )
    if data.note is not None and len(data.note) > MAX_NOTE:
        errors.append(FieldError("note", f"note must be at most {MAX_NOTE} characters"))
    code = data.campaign_code
    if code is not None and len(code) > 64:
        errors.append(FieldError("campaignCode", "campaignCode names no active campaign"))
    location_id = parse_uuid(data.location_id)
    if location_id is None:
        errors.append(FieldError("locationId", "locationId does not name an existing location"))
    customer_id = None
    if data.customer_id is not None:
        customer_id = parse_uuid(data.customer_id)
        if customer_id is None:
            errors.append(FieldError("customerId", "customerId does not name an existing customer"))
    reward_id = data.loyalty_reward_id
    if reward_id is not None and data.customer_id is None:
        errors.append(
            FieldError(
                "loyaltyRewardId",
                "loyaltyRewardId needs customerId: a reward is paid with a customer's points",
            )
        )
    if errors:
        raise ValidationFailed(errors)
    return Cart(
        location_id,
        customer_id,
        tuple(requests),
        code,
        data.note,
        None if reward_id is None else str(reward_id),
    )


@dataclass(frozen=True)
class PricingInputs:
    products: dict[uuid.UUID, pricing.Product]
    rows: dict[uuid.UUID, Any]  # the products rows (stock needs them)
    price_lists: list[pricing.PriceList]
    campaigns: list[discounts.Campaign]


def campaign_rule(row: Any) -> discounts.Campaign:
    """A campaigns row as pricing sees it."""
    return discounts.Campaign(
        id=row.id,
        status=row.status,
        type=row.type,
        code=row.code,
        percent_off=row.percent_off,
        amount_off=row.amount_off,
        min_subtotal=row.min_subtotal,
        product_ids=frozenset(_uuids(row.product_ids)),
        category_ids=frozenset(_uuids(row.category_ids)),
        starts_at=row.starts_at,
        ends_at=row.ends_at,
    )


def _uuids(values: Iterable[str] | None) -> list[uuid.UUID]:
    return [u for u in (parse_uuid(v) for v in values or ()) if u is not None]


async def _rows(session: Any, stmt: Any) -> Sequence[Any]:
    return (await session.execute(stmt)).all()


async def load_pricing_inputs(
    session: Any, org_id: uuid.UUID, location_id: uuid.UUID, cart: Cart
) -> PricingInputs:
    """Everything pricing needs for this cart, in a fixed number of statements."""
    ids = {line.product_id for line in cart.lines if isinstance(line.product_id, uuid.UUID)}
    p, v = Product.__table__, Variant.__table__
    g, link, o = ModifierGroup.__table__, ProductModifierGroup.__table__, ModifierOption.__table__
    product_rows = await _rows(
        session,
        select(p).where(p.c.org_id == org_id, p.c.id.in_(ids), p.c.status == "active"),
    )
    found = [r.id for r in product_rows]
    variants: dict[uuid.UUID, list[pricing.Variant]] = defaultdict(list)
    groups: dict[uuid.UUID, list[Any]] = defaultdict(list)
    options: dict[uuid.UUID, list[pricing.ModifierOption]] = defaultdict(list)
    entries: dict[uuid.UUID, list[pricing.PriceEntry]] = defaultdict(list)
    if found:
        for r in await _rows(
            session, select(v).where(v.c.product_id.in_(found)).order_by(v.c.position, v.c.id)
        ):
            variants[r.product_id].append(pricing.Variant(r.id, r.name, r.sku, r.price_amount))
        group_rows = await _rows(
            session,
            select(link.c.product_id, g.c.id, g.c.name, g.c.min_selections, g.c.max_selections)
            .join(g, g.c.id == link.c.group_id)
            .where(link.c.product_id.in_(found), g.c.org_id == org_id)
            .order_by(link.c.position, g.c.id),
        )
        for r in group_rows:
            groups[r.product_id].append(r)
        group_ids = {r.id for r in group_rows}
        if group_ids:
            for r in await _rows(
                session,
                select(o).where(o.c.group_id.in_(group_ids)).order_by(o.c.position, o.c.id),
            ):
                options[r.group_id].append(
                    pricing.ModifierOption(r.id, r.name, r.price_delta_amount)
                )
        pp, pl = PriceListPrice.__table__, PriceListLocation.__table__
        for r in await _rows(
            session,
            select(pp.c.price_list_id, pp.c.product_id, pp.c.variant_id, pp.c.price_amount)
            .join(pl, pl.c.price_list_id == pp.c.price_list_id)
            .where(pl.c.location_id == location_id, pp.c.product_id.in_(found)),
        ):
            entries[r.price_list_id].append(
                pricing.PriceEntry(r.product_id, r.variant_id, r.price_amount)
            )
    c = Campaign.__table__
    campaign_rows = await _rows(
        session, select(c).where(c.c.org_id == org_id, c.c.status == "active")
    )
    campaigns = [campaign_rule(r) for r in campaign_rows]
    ancestors: dict[uuid.UUID, tuple[uuid.UUID, ...]] = {}
    if any(camp.category_ids for camp in campaigns):
        cat = Category.__table__
        parents = {
            r.id: r.parent_id
            for r in await _rows(
                session, select(cat.c.id, cat.c.parent_id).where(cat.c.org_id == org_id)
            )
        }
        for cid in parents:
            chain: list[uuid.UUID] = []
            cur = parents.get(cid)
            while cur is not None and cur not in chain and len(chain) < 50:
                chain.append(cur)
                cur = parents.get(cur)
            ancestors[cid] = tuple(chain)
    products = {
        r.id: pricing.Product(
            id=r.id,
            name=r.name,
            sku=r.sku,
            price=r.price_amount,
            tax_rate=r.tax_rate,
            category_id=r.category_id,
            category_ancestor_ids=ancestors.get(r.category_id, ()) if r.category_id else (),
            variants=tuple(variants[r.id]),
            modifier_groups=tuple(
                pricing.ModifierGroup(
                    gr.id, gr.name, gr.min_selections, gr.max_selections, tuple(options[gr.id])
                )
                for gr in groups[r.id]
            ),
        )
        for r in product_rows
    }
    price_lists = [
        pricing.PriceList(list_id, frozenset({location_id}), tuple(prices))
        for list_id, prices in entries.items()
    ]
    return PricingInputs(products, {r.id: r for r in product_rows}, price_lists, campaigns)


def _variant_errors(cart: Cart, inputs: PricingInputs) -> list[FieldError]:
    """A product with variants is sold by variant: its stock and price are the variant's."""
    errors = []
    for i, line in enumerate(cart.lines):
        product = inputs.products.get(line.product_id)  # type: ignore[call-overload]
        if product is not None and product.variants and line.variant_id is None:
            field = f"lineItems.{i}.variantId"
            errors.append(FieldError(field, f"{field} is required: {product.name} has variants"))
    return errors


async def _check_refs(session: Any, org_id: uuid.UUID, cart: Cart) -> None:
    errors = []
    loc = await session.scalar(
        select(Location.id).where(Location.org_id == org_id, Location.id == cart.location_id)
    )
    if loc is None:
        errors.append(FieldError("locationId", "locationId does not name an existing location"))
    if cart.customer_id is not None:
        cust = await session.scalar(
            select(Customer.id).where(Customer.org_id == org_id, Customer.id == cart.customer_id)
        )
        if cust is None:
            errors.append(FieldError("customerId", "customerId does not name an existing customer"))
    if errors:
        raise ValidationFailed(errors)


async def _price(
    db: Database, org_id: uuid.UUID, cart: Cart, now: datetime
) -> tuple[pricing.PricedOrder, PricingInputs]:
    """Price the cart from a plain read connection, before any write transaction begins:
    the catalog reads never hold the write lock (SQLite) or a transaction open (PostgreSQL).
    """
    async with db.reader() as session:
        return await _price_with(session, org_id, cart, now)


async def _price_with(
    session: Any, org_id: uuid.UUID, cart: Cart, now: datetime
) -> tuple[pricing.PricedOrder, PricingInputs]:
    await _check_refs(session, org_id, cart)
    assert cart.location_id is not None
    inputs = await load_pricing_inputs(session, org_id, cart.location_id, cart)
    variant_errors = _variant_errors(cart, inputs)
    reward = None
    if cart.loyalty_reward_id is not None:
        assert cart.customer_id is not None
        reward = await loyalty.reward_for_order(
            session, org_id, cart.customer_id, cart.loyalty_reward_id
        )
    try:
        priced = pricing.price_order(
            cart.lines,
            inputs.products,  # type: ignore[arg-type]
            location_id=cart.location_id,
            now=now,
            price_lists=inputs.price_lists,
            campaigns=inputs.campaigns,
            campaign_code=cart.campaign_code,
            reward=reward,
        )
    except ValidationFailed as exc:
        # one answer names every problem: pricing's and the missing variants
        raise ValidationFailed([*variant_errors, *exc.errors]) from None
    if variant_errors:
        raise ValidationFailed(variant_errors)
    return priced, inputs


async def preview_order(db: Database, org_id: uuid.UUID, data: Any) -> pricing.PricedOrder:
    """Price a cart exactly as createOrder would, writing nothing."""
    cart = parse_cart(data)
    priced, _ = await _price(db, org_id, cart, utcnow())
    return priced


async def next_number(session: AsyncSession, org_id: uuid.UUID, name: str) -> int:
    """The org's next number in sequence `name` (its row stays locked until commit)."""
    dialect = session.get_bind().dialect.name
    ins = pg_insert if dialect == "postgresql" else sqlite_insert
    t = Counter.__table__
    stmt = (
        ins(t)
        .values(org_id=org_id, name=name, value=1)
        .on_conflict_do_update(index_elements=["org_id", "name"], set_={"value": t.c.value + 1})
        .returning(t.c.value)
    )
    return int((await session.execute(stmt)).scalar_one())


def history_entry(status: str, at: datetime, user_id: uuid.UUID | None, note: str | None) -> dict:
    return {
        "status": status,
        "at": format_datetime(at),
        "userId": str(user_id) if user_id else None,
        "note": note,
    }


def money(amount: int, currency: str = "AUD") -> dict[str, Any]:
    return {"amount": amount, "currency": currency}


def order_payload(order: Order, lines: Sequence[Any] | None = None) -> dict[str, Any]:
    """What order events carry: the order's money and identity (lines when at hand)."""
    data: dict[str, Any] = {
        "id": str(order.id),
        "number": order.number,
        "status": order.status,
        "locationId": str(order.location_id),
        "customerId": str(order.customer_id) if order.customer_id else None,
        "subtotal": money(order.subtotal, order.currency),
        "discountTotal": money(order.discount_total, order.currency),
        "taxTotal": money(order.tax_total, order.currency),
        "total": money(order.total, order.currency),
        "amountPaid": money(order.amount_paid, order.currency),
        "amountRefunded": money(order.amount_refunded, order.currency),
        "campaignIds": list(order.campaign_ids),
        "loyaltyReward": order.loyalty_reward,
        "createdAt": format_datetime(order.created_at),
        "version": order.version,
    }
    if lines is not None:
        data["lineItems"] = [
            {
                "id": str(li["id"]),
                "productId": str(li["product_id"]),
                "variantId": str(li["variant_id"]) if li["variant_id"] else None,
                "name": li["name"],
                "sku": li["sku"],
                "quantity": li["quantity"],
                "total": money(li["total"], order.currency),
            }
            for li in lines
        ]
    return data


@dataclass
class CreatedOrder:
    order: Order
    lines: list[dict[str, Any]]


async def create_order(
    db: Database, org_id: uuid.UUID, user_id: uuid.UUID | None, data: Any
) -> CreatedOrder:
    """Price, take stock (409 when short), number and save an order, with `order.created`."""
    cart = parse_cart(data)
    now = utcnow()
    priced, inputs = await _price(db, org_id, cart, now)
    assert cart.location_id is not None
    order_id = uuid.uuid4()
    lines: list[dict[str, Any]] = []
    deltas: list[StockDelta] = []
    for position, line in enumerate(priced.lines):
        row = inputs.rows[line.product_id]  # type: ignore[index]
        tracked = bool(row.track_inventory)
        lines.append(
            {
                "id": uuid.uuid4(),
                "org_id": org_id,
                "order_id": order_id,
                "position": position,
                "product_id": line.product_id,
                "variant_id": line.variant_id,
                "name": line.name,
                "sku": line.sku,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "modifiers": [
                    {"optionId": str(m.option_id), "name": m.name, "priceDelta": m.price_delta}
                    for m in line.modifiers
                ],
                "tax_rate": line.tax_rate,
                "subtotal": line.subtotal,
                "discount": line.discount,
                "tax": line.tax,
                "total": line.total,
                "stock_taken": tracked,
                "refunded_quantity": 0,
            }
        )
        if tracked:
            deltas.append(StockDelta(row, line.variant_id, -line.quantity, line.sku))  # type: ignore[arg-type]
    order = Order(
        id=order_id,
        org_id=org_id,
        number=0,  # the counter's, taken with the stock
        status="open",
        location_id=cart.location_id,
        customer_id=cart.customer_id,
        currency="AUD",
        subtotal=priced.subtotal,
        discount_total=priced.discount_total,
        tax_total=priced.tax_total,
        total=priced.total,
        amount_paid=0,
        amount_refunded=0,
        amount_authorized=0,
        campaign_ids=[str(c) for c in priced.campaign_ids],
        loyalty_reward=None
        if priced.applied_reward is None
        else loyalty.reward_payload(
            priced.applied_reward.reward, priced.applied_reward.discount, "AUD"
        ),
        history=[history_entry("open", now, user_id, None)],
        note=cart.note,
        user_id=user_id,
        created_at=now,
        updated_at=now,
        version=1,
    )
    campaigns = [
        {
            "order_id": order_id,
            "campaign_id": a.campaign_id,
            "org_id": org_id,
            "discount": a.discount,
        }
        for a in priced.applied_campaigns
    ]
    # A sale that redeems a reward spends points too: the general path, on either database.
    if db.direct_writes and order.loyalty_reward is None:
        await _save_sale_direct(db, order, lines, deltas, campaigns, user_id, now)
        return CreatedOrder(order, lines)
    async with db.write() as session:
        await change_stock_batch(
            session,
            org_id,
            cart.location_id,
            deltas,
            movement_type="sale",
            reference_id=order_id,
            user_id=user_id,
        )
        order.number = await next_number(session, org_id, "order")
        await session.execute(insert(Order.__table__).values(_columns(order)))
        await session.execute(insert(OrderLine.__table__), lines)
        if campaigns:
            await session.execute(insert(OrderCampaign.__table__), campaigns)
        record_event(session, org_id, "order.created", order_payload(order, lines))
        if order.loyalty_reward is not None:
            await loyalty.redeem_for_order(session, order, user_id)
    return CreatedOrder(order, lines)


async def _save_sale_direct(
    db: Database,
    order: Order,
    lines: list[dict[str, Any]],
    deltas: list[StockDelta],
    campaigns: list[dict[str, Any]],
    user_id: uuid.UUID | None,
    now: datetime,
) -> None:
    """`create_order`'s transaction on PostgreSQL in two statements (actions/sale_sql.py):
    the same rows, the same checks, the same events; `order.number` is set."""
    org_id, location_id = order.org_id, order.location_id
    items = merge_deltas(deltas)
    movements = [
        {
            "id": uuid.uuid4(),
            "org_id": org_id,
            "product_id": d.product.id,
            "variant_id": d.variant_id,
            "location_id": location_id,
            "delta": d.delta,
            "balance_after": 0,  # the level's on-hand after the sale, from the database
            "type": "sale",
            "reason": None,
            "reference_id": order.id,
            "user_id": user_id,
            "note": None,
            "created_at": now,
        }
        for d in items
    ]
    async with db.direct_write() as conn:
        if items:
            await sale_sql.queue_for_items(conn, [stock_queue_key(location_id, d) for d in items])
        saved = await sale_sql.save_sale(
            conn,
            org_id=org_id,
            location_id=location_id,
            now=now,
            items=[(d.item_id, d.delta) for d in items],
            movements=movements,
            order=_columns(order),
            lines=lines,
            campaigns=campaigns,
            event_id=uuid.uuid4(),
            event_payload=order_payload(order, lines),
        )
        levels = saved.levels
        short = [d for d in items if levels[d.item_id].after is None]
        if short:
            raise_short(short, {item: level.before for item, level in levels.items()})
        await sale_sql.save_events(
            conn,
            [
                event
                for d in items
                if (
                    event := low_stock_event(
                        d.product,
                        d.variant_id,
                        location_id,
                        levels[d.item_id].before,
                        levels[d.item_id].after,  # type: ignore[arg-type]
                    )
                )
                is not None
            ],
        )
    order.number = saved.number


def _columns(row: Any) -> dict[str, Any]:
    """The column values of a transient mapped object, for a Core INSERT."""
    return {c.key: getattr(row, c.key) for c in row.__table__.columns}


async def _order_lines(session: AsyncSession, order_id: uuid.UUID) -> list[Any]:
    t = OrderLine.__table__
    return list(
        await _rows(session, select(t).where(t.c.order_id == order_id).order_by(t.c.position))
    )


async def update_order_status(
    db: Database,
    org_id: uuid.UUID,
    user_id: uuid.UUID | None,
    raw_id: Any,
    status: str,
    note: str | None,
    expected_version: int | None,
) -> Order:
    """Complete or void an open order (the only moves a client makes); 409 for any other."""
    if note is not None and len(note) > MAX_NOTE:
        raise ValidationFailed([FieldError("note", f"note must be at most {MAX_NOTE} characters")])
    async with db.write() as session:
        order = await require_in_org(session, Order, raw_id, org_id, "order", lock=True)
        check_version(order.version, expected_version)
        check_move(
            order.status,
            status,
            total=order.total,
            amount_paid=order.amount_paid,
            amount_refunded=order.amount_refunded,
        )
        now = utcnow()
        await _release_authorizations(session, order, now)
        if status == "voided":
            lines = await _order_lines(session, order.id)
            await _put_back(
                session,
                order,
                [(li, li.quantity - li.refunded_quantity) for li in lines],
                "void",
                user_id,
                note,
            )
        order.status = status
        order.history = [*order.history, history_entry(status, now, user_id, note)]
        order.updated_at = now
        await session.flush()
        event = "order.completed" if status == "completed" else "order.voided"
        record_event(session, org_id, event, order_payload(order))
        if status == "completed":
            await loyalty.accrue_for_order(session, order, user_id)
        else:
            await loyalty.restore_for_void(session, order, user_id)
    return order


async def _release_authorizations(session: AsyncSession, order: Order, now: datetime) -> None:
    """Void the order's open card authorizations (completing or voiding leaves none open)."""
    if order.amount_authorized == 0:
        return
    open_auths = (
        await session.scalars(
            select(Payment).where(Payment.order_id == order.id, Payment.status == "authorized")
        )
    ).all()
    for payment in open_auths:
        if payment.processor_ref:
            await processor(payment.processor).void(payment.processor_ref)
        payment.status = "voided"
        payment.voided_at = now
    order.amount_authorized = 0


async def _put_back(
    session: AsyncSession,
    order: Order,
    quantities: Sequence[tuple[Any, int]],
    movement_type: str,
    user_id: uuid.UUID | None,
    note: str | None,
) -> None:
    """Return stock the sale took for these (line, quantity) pairs, in one batch."""
    wanted = [(li, q) for li, q in quantities if li.stock_taken and q > 0]
    if not wanted:
        return
    p = Product.__table__
    rows = {
        r.id: r
        for r in await _rows(
            session, select(p).where(p.c.id.in_({li.product_id for li, _ in wanted}))
        )
    }
    deltas = [
        StockDelta(rows[li.product_id], li.variant_id, q, li.sku)
        for li, q in wanted
        if li.product_id in rows
    ]
    await change_stock_batch(
        session,
        order.org_id,
        order.location_id,
        deltas,
        movement_type=movement_type,
        reference_id=order.id,
        user_id=user_id,
        note=note,
    )

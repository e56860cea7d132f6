"""Stock changes: every one is a conditional update plus its movement row, in one transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, NoReturn

from sqlalchemy import case, select, text, update
from sqlalchemy import insert as insert_rows
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from elevatedpos.db.engine import Database
from elevatedpos.db.models import (
    InventoryLevel,
    InventoryMovement,
    Location,
    OutboxEvent,
    Product,
    Variant,
)
from elevatedpos.db.scoping import parse_uuid
from elevatedpos.db.types import utcnow
from elevatedpos.errors import Conflict, FieldError, ValidationFailed
from elevatedpos.events.outbox import new_event
from elevatedpos.rules.stock import crossed_reorder_point

MAX_QUANTITY = 1_000_000
MAX_NOTE = 1000


@dataclass(frozen=True)
class StockItem:
    """What stock is counted for: a product, or one variant of it."""

    product: Product
    variant_id: uuid.UUID | None

    @property
    def item_id(self) -> uuid.UUID:
        return self.variant_id or self.product.id


@dataclass(frozen=True)
class StockChange:
    level: Any  # the level row after the change
    movement: InventoryMovement


async def resolve_stock_item(
    session: AsyncSession,
    org_id: uuid.UUID,
    product_id: Any,
    variant_id: Any,
    *,
    field_prefix: str = "",
) -> StockItem:
    """The product (and variant) a body names; 422 on the offending field otherwise."""
    pid = parse_uuid(product_id)
    product = (
        await session.scalar(select(Product).where(Product.org_id == org_id, Product.id == pid))
        if pid
        else None
    )
    if product is None:
        field = f"{field_prefix}productId"
        raise ValidationFailed([FieldError(field, f"{field} does not name an existing product")])
    variant_ids = set(
        (await session.scalars(select(Variant.id).where(Variant.product_id == product.id))).all()
    )
    field = f"{field_prefix}variantId"
    if variant_id is None:
        if variant_ids:
            raise ValidationFailed(
                [FieldError(field, f"{field} is required: this product has variants")]
            )
        return StockItem(product, None)
    vid = parse_uuid(variant_id)
    if vid is None or vid not in variant_ids:
        raise ValidationFailed([FieldError(field, f"{field} is not a variant of this product")])
    return StockItem(product, vid)


async def check_location(
    session: AsyncSession, org_id: uuid.UUID, raw: Any, field: str
) -> uuid.UUID:
    lid = parse_uuid(raw)
    found = (
        await session.scalar(
            select(Location.id).where(Location.org_id == org_id, Location.id == lid)
        )
        if lid
        else None
    )
    if found is None:
        raise ValidationFailed([FieldError(field, f"{field} does not name an existing location")])
    return found


async def change_stock(
    session: AsyncSession,
    item: StockItem,
    location_id: uuid.UUID,
    delta: int,
    *,
    movement_type: str,
    reason: str | None = None,
    reference_id: uuid.UUID | None = None,
    user_id: uuid.UUID | None = None,
    note: str | None = None,
) -> StockChange:
    """Add `delta` to on-hand (never below zero: 409) and write its movement and events."""
    product = item.product
    now = utcnow()
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    await session.execute(
        insert(InventoryLevel)
        .values(
            id=uuid.uuid4(),
            org_id=product.org_id,
            product_id=product.id,
            variant_id=item.variant_id,
            item_id=item.item_id,
            location_id=location_id,
            on_hand=0,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["location_id", "item_id"])
    )
    t = InventoryLevel.__table__
    level = (
        await session.execute(
            update(t)
            .where(
                t.c.location_id == location_id,
                t.c.item_id == item.item_id,
                t.c.on_hand + delta >= 0,
            )
            .values(on_hand=t.c.on_hand + delta, updated_at=now)
            .returning(*t.c)
        )
    ).first()
    if level is None:
        raise Conflict(
            f"Not enough stock of {product.sku} at that location for a change of {delta}"
        )
    movement = InventoryMovement(
        id=uuid.uuid4(),
        org_id=product.org_id,
        product_id=product.id,
        variant_id=item.variant_id,
        location_id=location_id,
        delta=delta,
        balance_after=level.on_hand,
        type=movement_type,
        reason=reason,
        reference_id=reference_id,
        user_id=user_id,
        note=note,
        created_at=now,
    )
    session.add(movement)
    _record_low_stock(
        session, product, item.variant_id, location_id, level.on_hand - delta, level.on_hand
    )
    return StockChange(level, movement)


def low_stock_event(
    product: Any,
    variant_id: uuid.UUID | None,
    location_id: uuid.UUID,
    before: int,
    after: int,
) -> OutboxEvent | None:
    """`inventory.low_stock` when a tracked level crosses its reorder point going down."""
    if not (
        product.track_inventory and crossed_reorder_point(before, after, product.reorder_point)
    ):
        return None
    return new_event(
        product.org_id,
        "inventory.low_stock",
        {
            "productId": str(product.id),
            "variantId": str(variant_id) if variant_id else None,
            "locationId": str(location_id),
            "onHand": after,
            "reorderPoint": product.reorder_point,
        },
    )


def _record_low_stock(
    session: AsyncSession,
    product: Any,
    variant_id: uuid.UUID | None,
    location_id: uuid.UUID,
    before: int,
    after: int,
) -> None:
    event = low_stock_event(product, variant_id, location_id, before, after)
    if event is not None:
        session.add(event)


def _note_errors(note: str | None) -> list[FieldError]:
    if note is not None and len(note) > MAX_NOTE:
        return [FieldError("note", f"note must be at most {MAX_NOTE} characters")]
    return []


async def adjust_inventory(
    db: Database, org_id: uuid.UUID, user_id: uuid.UUID | None, data: Any
) -> tuple[list[StockChange], Product]:
    """A manual adjustment with a reason code."""
    errors = _note_errors(data.note)
    if data.delta == 0:
        errors.append(FieldError("delta", "delta must not be zero"))
    elif abs(data.delta) > MAX_QUANTITY:
        errors.append(FieldError("delta", f"delta must be within ±{MAX_QUANTITY}"))
    if errors:
        raise ValidationFailed(errors)
    async with db.write() as session:
        item = await resolve_stock_item(session, org_id, data.product_id, data.variant_id)
        location_id = await check_location(session, org_id, data.location_id, "locationId")
        change = await change_stock(
            session,
            item,
            location_id,
            data.delta,
            movement_type="adjustment",
            reason=data.reason.value,
            user_id=user_id,
            note=data.note,
        )
    return [change], item.product


async def transfer_inventory(
    db: Database, org_id: uuid.UUID, user_id: uuid.UUID | None, data: Any
) -> tuple[list[StockChange], Product]:
    """Move stock between two locations atomically; 409 when the source is short."""
    errors = _note_errors(data.note)
    if data.quantity <= 0:
        errors.append(FieldError("quantity", "quantity must be positive"))
    elif data.quantity > MAX_QUANTITY:
        errors.append(FieldError("quantity", f"quantity must be at most {MAX_QUANTITY}"))
    same = parse_uuid(data.from_location_id)
    if same is not None and same == parse_uuid(data.to_location_id):
        errors.append(FieldError("toLocationId", "toLocationId must differ from fromLocationId"))
    if errors:
        raise ValidationFailed(errors)
    async with db.write() as session:
        item = await resolve_stock_item(session, org_id, data.product_id, data.variant_id)
        source = await check_location(session, org_id, data.from_location_id, "fromLocationId")
        target = await check_location(session, org_id, data.to_location_id, "toLocationId")
        transfer_id = uuid.uuid4()
        legs = [(source, -data.quantity, "transfer_out"), (target, data.quantity, "transfer_in")]
        # Lock the two levels in one global order so opposite transfers cannot deadlock.
        changes = {}
        for location_id, delta, kind in sorted(legs, key=lambda leg: leg[0].bytes):
            changes[kind] = await change_stock(
                session,
                item,
                location_id,
                delta,
                movement_type=kind,
                reference_id=transfer_id,
                user_id=user_id,
                note=data.note,
            )
    return [changes["transfer_out"], changes["transfer_in"]], item.product


def queue_sql(keys: str) -> str:
    """The statement that queues on the advisory locks of `keys` (an SQL `text[]`
    expression, the driver's parameter), taken in key order."""
    return (
        "SELECT pg_advisory_xact_lock(hashtextextended(k, 0))"
        f" FROM (SELECT unnest({keys}) AS k ORDER BY 1) AS queued"
    )


_QUEUE_FOR_ITEMS = text(queue_sql("CAST(:keys AS text[])"))


@dataclass(frozen=True)
class StockDelta:
    """One stock item's change in a batch (a sale, void or restock of several lines)."""

    product: Any  # a products row: id, org_id, sku, track_inventory, reorder_point
    variant_id: uuid.UUID | None
    delta: int
    sku: str | None = None  # the variant's, when it has one (errors name what is short)

    @property
    def item_id(self) -> uuid.UUID:
        return self.variant_id or self.product.id


def merge_deltas(deltas: list[StockDelta]) -> list[StockDelta]:
    """One change per item (deltas of the same item summed, zeros dropped), in the order
    their rows are locked: by item id."""
    merged: dict[uuid.UUID, StockDelta] = {}
    for d in deltas:
        prev = merged.get(d.item_id)
        merged[d.item_id] = (
            d if prev is None else StockDelta(d.product, d.variant_id, prev.delta + d.delta, d.sku)
        )
    return sorted((d for d in merged.values() if d.delta), key=lambda d: d.item_id.bytes)


def stock_queue_key(location_id: uuid.UUID, d: StockDelta) -> str:
    """The advisory lock sales of an item at a location queue on (PostgreSQL)."""
    return f"stock:{location_id}:{d.item_id}"


def raise_short(short: list[StockDelta], on_hand: dict[uuid.UUID, int]) -> NoReturn:
    """409 naming every item there is not enough of, with what is on hand."""
    detail = ", ".join(
        f"{d.sku or d.product.sku} (on hand {on_hand.get(d.item_id, 0)}, needs {-d.delta})"
        for d in short
    )
    raise Conflict(f"Not enough stock at that location: {detail}")


async def change_stock_batch(
    session: AsyncSession,
    org_id: uuid.UUID,
    location_id: uuid.UUID,
    deltas: list[StockDelta],
    *,
    movement_type: str,
    reference_id: uuid.UUID | None = None,
    user_id: uuid.UUID | None = None,
    note: str | None = None,
) -> list[dict[str, Any]]:
    """Apply several stock changes at one location in a fixed number of statements.

    Deltas of the same item are summed. The levels are locked in item-id order (so two
    carts never deadlock), checked (409 naming every short SKU, nothing written), updated
    with one UPDATE, and their movements written with one INSERT. Returns the movements.
    """
    items = merge_deltas(deltas)
    if not items:
        return []
    now = utcnow()
    t = InventoryLevel.__table__
    if any(d.delta > 0 for d in items):
        dialect = session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        await session.execute(
            insert(t)
            .values(
                [
                    {
                        "id": uuid.uuid4(),
                        "org_id": org_id,
                        "product_id": d.product.id,
                        "variant_id": d.variant_id,
                        "item_id": d.item_id,
                        "location_id": location_id,
                        "on_hand": 0,
                        "updated_at": now,
                    }
                    for d in items
                ]
            )
            .on_conflict_do_nothing(index_elements=["location_id", "item_id"])
        )
    ids = [d.item_id for d in items]
    if session.get_bind().dialect.name == "postgresql":
        # Queue on advisory locks first: PostgreSQL's lock manager grants them in arrival
        # order, while waiters on a hot row's lock may be overtaken again and again (a sale
        # of the café's best seller could wait seconds). Keys are taken in item order.
        await session.execute(
            _QUEUE_FOR_ITEMS, {"keys": [stock_queue_key(location_id, d) for d in items]}
        )
    locked = (
        await session.execute(
            select(t.c.item_id, t.c.on_hand)
            .where(t.c.location_id == location_id, t.c.item_id.in_(ids))
            .order_by(t.c.item_id)
            .with_for_update()
        )
    ).all()
    on_hand = {r.item_id: r.on_hand for r in locked}
    short = [d for d in items if on_hand.get(d.item_id, 0) + d.delta < 0]
    if short:
        raise_short(short, on_hand)
    change = case({d.item_id: d.delta for d in items}, value=t.c.item_id, else_=0)
    await session.execute(
        update(t)
        .where(t.c.location_id == location_id, t.c.item_id.in_(ids))
        .values(on_hand=t.c.on_hand + change, updated_at=now)
    )
    movements = [
        {
            "id": uuid.uuid4(),
            "org_id": org_id,
            "product_id": d.product.id,
            "variant_id": d.variant_id,
            "location_id": location_id,
            "delta": d.delta,
            "balance_after": on_hand[d.item_id] + d.delta,
            "type": movement_type,
            "reason": None,
            "reference_id": reference_id,
            "user_id": user_id,
            "note": note,
            "created_at": now,
        }
        for d in items
    ]
    await session.execute(insert_rows(InventoryMovement.__table__), movements)
    for d in items:
        before = on_hand[d.item_id]
        _record_low_stock(session, d.product, d.variant_id, location_id, before, before + d.delta)
    return movements

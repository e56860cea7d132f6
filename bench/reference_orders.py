"""The write-path reference: what a straightforward ORM handler does to ring up an order.

A bare Starlette handler and the SQLAlchemy ORM, one transaction: load the cart's products,
take tracked stock with a conditional UPDATE and a movement row per line, take the next order
number from the per-org counter, insert the order and its lines, commit, and answer with
Starlette's JSONResponse. No auth, no rate limit, no validation beyond what the SQL enforces,
no discounts, no events: the work any correct order endpoint must do, written plainly.

Run by bench/write_path.py as
    python -m uvicorn reference_orders:app --app-dir bench --workers N
with BENCH_DATABASE_URL and BENCH_ORG_ID in the environment.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from elevatedpos.db.models import (
    Counter,
    InventoryLevel,
    InventoryMovement,
    ModifierOption,
    Order,
    OrderLine,
    Product,
)

DATABASE_URL = os.environ["BENCH_DATABASE_URL"]
ORG_ID = uuid.UUID(os.environ["BENCH_ORG_ID"])

sessions: async_sessionmaker[AsyncSession] | None = None


async def create_order(request: Request) -> JSONResponse:
    assert sessions is not None
    body = await request.json()
    location_id = uuid.UUID(body["locationId"])
    now = datetime.now(UTC)
    async with sessions() as session, session.begin():
        ids = [uuid.UUID(li["productId"]) for li in body["lineItems"]]
        products = {
            p.id: p
            for p in (
                await session.scalars(
                    select(Product).where(Product.org_id == ORG_ID, Product.id.in_(ids))
                )
            ).all()
        }
        option_ids = [
            uuid.UUID(o) for li in body["lineItems"] for o in li.get("modifierOptionIds", [])
        ]
        options = {
            o.id: o
            for o in (
                await session.scalars(
                    select(ModifierOption).where(ModifierOption.id.in_(option_ids))
                )
            ).all()
        }
        order_id = uuid.uuid4()
        lines, subtotal = [], 0
        for position, li in enumerate(sorted(body["lineItems"], key=lambda x: x["productId"])):
            product = products[uuid.UUID(li["productId"])]
            quantity = li["quantity"]
            unit = product.price_amount + sum(
                options[uuid.UUID(o)].price_delta_amount for o in li.get("modifierOptionIds", [])
            )
            total = unit * quantity
            subtotal += total
            if product.track_inventory:
                t = InventoryLevel.__table__
                level = (
                    await session.execute(
                        update(t)
                        .where(
                            t.c.location_id == location_id,
                            t.c.item_id == product.id,
                            t.c.on_hand >= quantity,
                        )
                        .values(on_hand=t.c.on_hand - quantity)
                        .returning(t.c.on_hand)
                    )
                ).first()
                if level is None:
                    return JSONResponse({"error": "short"}, status_code=409)
                session.add(
                    InventoryMovement(
                        org_id=ORG_ID,
                        product_id=product.id,
                        location_id=location_id,
                        delta=-quantity,
                        balance_after=level.on_hand,
                        type="sale",
                        reference_id=order_id,
                        created_at=now,
                    )
                )
            lines.append(
                OrderLine(
                    org_id=ORG_ID,
                    order_id=order_id,
                    position=position,
                    product_id=product.id,
                    name=product.name,
                    sku=product.sku,
                    quantity=quantity,
                    unit_price=unit,
                    modifiers=[],
                    tax_rate=product.tax_rate,
                    subtotal=total,
                    discount=0,
                    tax=(2 * total * product.tax_rate + 10_000 + product.tax_rate)
                    // (2 * (10_000 + product.tax_rate)),
                    total=total,
                )
            )
        c = Counter.__table__
        number = (
            await session.execute(
                pg_insert(c)
                .values(org_id=ORG_ID, name="order", value=1)
                .on_conflict_do_update(
                    index_elements=["org_id", "name"], set_={"value": c.c.value + 1}
                )
                .returning(c.c.value)
            )
        ).scalar_one()
        order = Order(
            id=order_id,
            org_id=ORG_ID,
            number=number,
            status="open",
            location_id=location_id,
            subtotal=subtotal,
            tax_total=sum(li.tax for li in lines),
            total=subtotal,
            campaign_ids=[],
            history=[],
            created_at=now,
            updated_at=now,
        )
        session.add(order)
        await session.flush()
        session.add_all(lines)
    return JSONResponse(
        {"data": {"id": str(order_id), "number": number, "total": {"amount": subtotal}}},
        status_code=201,
    )


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    global sessions
    engine = create_async_engine(DATABASE_URL, pool_size=10, max_overflow=10)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    try:
        yield
    finally:
        await engine.dispose()


async def ready(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


app = Starlette(
    routes=[
        Route("/reference/orders", create_order, methods=["POST"]),
        Route("/reference/ready", ready),
    ],
    lifespan=lifespan,
)

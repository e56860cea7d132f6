"""The reference the GraphQL page is measured against (issue 6, first row of the table).

A bare Starlette handler, SQLAlchemy ORM, two queries (the page, then its categories
`WHERE id IN (...)`), and Starlette's own JSONResponse. It shares nothing with the product's
serving path: only the mapped classes are imported from `elevatedpos.db.models`. The page is
fixed whatever SQL the product runs.

Run by bench/run.py as
    python -m uvicorn reference_app:app --app-dir bench --workers N
with BENCH_DATABASE_URL (an async SQLAlchemy URL) and BENCH_ORG_ID in the environment.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from elevatedpos.db.models import Category, Product

PAGE_SIZE = 50
DATABASE_URL = os.environ["BENCH_DATABASE_URL"]
ORG_ID = uuid.UUID(os.environ["BENCH_ORG_ID"])

sessions: async_sessionmaker[AsyncSession] | None = None


async def products(request: Request) -> JSONResponse:
    assert sessions is not None
    async with sessions() as session:
        page = (
            await session.scalars(
                select(Product)
                .where(Product.org_id == ORG_ID, Product.status == "active")
                .order_by(Product.name, Product.id)
                .limit(PAGE_SIZE)
            )
        ).all()
        category_ids = {p.category_id for p in page if p.category_id is not None}
        categories = {
            c.id: c
            for c in (
                await session.scalars(select(Category).where(Category.id.in_(category_ids)))
            ).all()
        }
    data = []
    for p in page:
        category = categories.get(p.category_id) if p.category_id is not None else None
        data.append(
            {
                "id": str(p.id),
                "name": p.name,
                "sku": p.sku,
                "price": {"amount": p.price_amount, "currency": p.currency},
                "category": {"name": category.name} if category is not None else None,
            }
        )
    return JSONResponse({"data": data})


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    global sessions
    # The same pool size as the product's PostgreSQL engine; SQLite gets SQLAlchemy's default.
    pool = {} if DATABASE_URL.startswith("sqlite") else {"pool_size": 10, "max_overflow": 10}
    engine = create_async_engine(DATABASE_URL, **pool)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    try:
        yield
    finally:
        await engine.dispose()


app = Starlette(routes=[Route("/reference/products", products)], lifespan=lifespan)

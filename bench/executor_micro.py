"""Micro-benchmark: the products page through graphql-core's `execute` and the compiled plan.

    python bench/executor_micro.py [--requests 300] [--products 500]

In-process, on a fresh SQLite file: one org, 10 categories, 500 products; then the page of
issue 6 (the first 50 products by name with id, name, sku, price and their category's name)
executed N times by each executor, alternating rounds so both see the same warm caches.
Prints µs per request for each and the ratio. SQL time is included in both figures.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from graphql import ExecutionResult, execute, parse, validate

from elevatedpos.actions.catalog import create_category, create_product
from elevatedpos.actions.orgs import create_org
from elevatedpos.app import GRAPHQL_SCHEMA
from elevatedpos.auth.scopes import ALL_SCOPES, Principal
from elevatedpos.db.migrate import upgrade_database
from elevatedpos.executor import compile_operation
from elevatedpos.runtime import Runtime
from elevatedpos.schema.catalog import CreateCategoryInput, CreateProductInput
from elevatedpos.schema.context import Context
from elevatedpos.schema.money import MoneyInput
from elevatedpos.settings import Settings

PAGE = parse(
    "query Page { products(first: 50) { edges { node { id name sku "
    "price { amount currency } category { name } } } } }"
)


async def load(runtime: Runtime, products: int) -> Principal:
    made = await create_org(
        runtime.db, name="Micro", email="micro@example.com", password="micro-password"
    )
    org_id = made.org.id
    categories = [
        await create_category(runtime.db, org_id, CreateCategoryInput(name=f"Category {c}"))
        for c in range(10)
    ]
    for n in range(products):
        await create_product(
            runtime.db,
            org_id,
            CreateProductInput(
                name=f"Product {uuid.uuid4().hex[:8]}",
                sku=f"SKU-{n:04d}",
                price=MoneyInput(amount=100 + n),
                category_id=str(categories[n % 10].id),
            ),
        )
    return Principal(made.owner.id, org_id, frozenset(ALL_SCOPES), role="owner")


async def timed(run: Any, runtime: Runtime, principal: Principal, requests: int) -> float:
    """Seconds for `requests` executions, each with a fresh context (and loaders)."""
    started = time.perf_counter()
    for _ in range(requests):
        result = run(Context(runtime=runtime, principal=principal))
        if not isinstance(result, ExecutionResult):
            result = await result
        assert result.errors is None and len(result.data["products"]["edges"]) == 50
    return time.perf_counter() - started


async def main(requests: int, products: int) -> None:
    assert validate(GRAPHQL_SCHEMA, PAGE) == []
    plan = compile_operation(GRAPHQL_SCHEMA, PAGE, "Page")
    assert plan is not None
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite+aiosqlite:///{Path(directory) / 'micro.db'}"
        await upgrade_database(url)
        runtime = Runtime(Settings.from_env({"REDIS_URL": ""}, database_url=url))
        await runtime.start()
        try:
            principal = await load(runtime, products)
            runners = {
                "graphql-core": lambda ctx: execute(GRAPHQL_SCHEMA, PAGE, context_value=ctx),
                "compiled": lambda ctx: plan.execute(ctx),
            }
            totals = dict.fromkeys(runners, 0.0)
            for run in runners.values():  # warm-up
                await timed(run, runtime, principal, 20)
            rounds = 5
            for _ in range(rounds):
                for name, run in runners.items():
                    totals[name] += await timed(run, runtime, principal, requests // rounds)
        finally:
            await runtime.stop()
    done = rounds * (requests // rounds)
    micro = {name: total / done * 1e6 for name, total in totals.items()}
    for name, us in micro.items():
        print(f"{name:>13}: {us:8.0f} µs/request")
    print(f"{'ratio':>13}: {micro['graphql-core'] / micro['compiled']:8.2f}x faster (compiled)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--products", type=int, default=500)
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.products))

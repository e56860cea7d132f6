"""The write path: orders created per second on PostgreSQL + Redis, against a plain reference.

    python bench/write_path.py [--duration 10] [--connections 16] [--workers 1]

One run: a fresh database (`bench_write`), one org with a small menu (two tracked products
with plenty of stock, one untracked, a milk modifier), the product server and the reference
(bench/reference_orders.py: a bare Starlette + ORM handler doing the same transactional work
without auth, validation, discounts or events) side by side, each checked for a 201, then
driven with wrk: `POST /api/v1/orders` (three lines, one with a modifier) from 16 keep-alive
connections. Prints orders/s, p50 and p99 for both and their ratio, then checks the database
holds exactly the orders wrk counted, numbered 1..n with no gap.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

import run as harness  # noqa: E402 - the read benchmark's servers, wrk driver and checks

DEFAULT_PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/bench_write"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/9"


async def load_menu(env: dict[str, str]) -> dict[str, Any]:
    """Migrate, then an enterprise org, its menu and stock, and an owner token."""
    from elevatedpos.actions.catalog import create_modifier_group, create_product
    from elevatedpos.actions.inventory import adjust_inventory
    from elevatedpos.actions.orgs import create_org
    from elevatedpos.auth.sessions import start_session
    from elevatedpos.db.migrate import upgrade_database
    from elevatedpos.runtime import Runtime
    from elevatedpos.schema.catalog import (
        CreateModifierGroupInput,
        CreateProductInput,
        ModifierOptionInput,
    )
    from elevatedpos.schema.inventory import AdjustInventoryInput, AdjustmentReason
    from elevatedpos.schema.money import MoneyInput
    from elevatedpos.settings import Settings

    settings = Settings.from_env(env)
    await upgrade_database(settings.database_url)
    runtime = Runtime(Settings.from_env({**env, "REDIS_URL": ""}))
    await runtime.start()
    try:
        db = runtime.db
        made = await create_org(
            db,
            name="Bench Espresso Bar",
            email=harness.OWNER_EMAIL,
            password="bench-password",
            plan="enterprise",
            rate_limit=10_000_000,
            burst=10_000_000,
        )
        org_id = made.org.id
        milk = await create_modifier_group(
            db,
            org_id,
            CreateModifierGroupInput(
                name="Milk",
                options=[ModifierOptionInput(name="Oat", price_delta=MoneyInput(amount=70))],
            ),
        )
        products = []
        for name, sku, price, tracked, groups in (
            ("Latte", "LAT", 480, True, [str(milk.id)]),
            ("Croissant", "CRO", 550, True, []),
            ("Filter coffee", "FIL", 400, False, []),
        ):
            products.append(
                await create_product(
                    db,
                    org_id,
                    CreateProductInput(
                        name=name,
                        sku=sku,
                        price=MoneyInput(amount=price),
                        track_inventory=tracked,
                        modifier_group_ids=groups,
                    ),
                )
            )
            if tracked:
                await adjust_inventory(
                    db,
                    org_id,
                    made.owner.id,
                    AdjustInventoryInput(
                        product_id=str(products[-1].id),
                        location_id=str(made.location.id),
                        delta=1_000_000,
                        reason=AdjustmentReason.RECEIVED,
                    ),
                )
        token = (await start_session(runtime, made.owner)).access_token
        options = await _option_ids(runtime, milk.id)
    finally:
        await runtime.stop()
    latte, croissant, filter_coffee = (str(p.id) for p in products)
    cart = {
        "locationId": str(made.location.id),
        "lineItems": [
            {"productId": latte, "quantity": 2, "modifierOptionIds": options},
            {"productId": croissant, "quantity": 1},
            {"productId": filter_coffee, "quantity": 1},
        ],
    }
    return {"org_id": str(org_id), "token": token, "cart": cart}


async def _option_ids(runtime: Any, group_id: Any) -> list[str]:
    from sqlalchemy import select

    from elevatedpos.db.models import ModifierOption

    async with runtime.db.read() as session:
        return [
            str(i)
            for i in await session.scalars(
                select(ModifierOption.id).where(ModifierOption.group_id == group_id)
            )
        ]


async def order_numbers(url: str) -> list[int]:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(text("SELECT number FROM orders ORDER BY number"))
            return [r[0] for r in rows]
    finally:
        await engine.dispose()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--duration", type=float, default=10.0, help="seconds per server")
    p.add_argument("--warmup", type=float, default=2.0)
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--pg-url", default=DEFAULT_PG_URL)
    p.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not shutil.which("wrk"):
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="elevatedpos-write-bench-"))
    servers: list[harness.Server] = []
    logs: list[Path] = []
    try:
        env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
        asyncio.run(harness.reset_postgres(args.pg_url))
        env.update(DATABASE_URL=args.pg_url, REDIS_URL=args.redis_url, PYTHONUNBUFFERED="1")
        busy = [harness.busy_percent()]
        menu = asyncio.run(load_menu(env))
        product_port, reference_port = harness.free_port(), harness.free_port()
        product_log, reference_log = work / "product.log", work / "reference.log"
        logs += [product_log, reference_log]
        product = harness.product_server(env, product_port, args.workers, product_log)
        ref_argv = [sys.executable, "-m", "uvicorn", "reference_orders:app"]
        ref_argv += ["--app-dir", str(BENCH_DIR), "--host", harness.HOST]
        ref_argv += ["--port", str(reference_port), "--workers", str(args.workers)]
        ref_argv += ["--no-access-log", "--log-level", "warning"]
        reference = harness.Server(
            "reference server",
            ref_argv,
            {**env, "BENCH_DATABASE_URL": args.pg_url, "BENCH_ORG_ID": menu["org_id"]},
            reference_log,
            f"http://{harness.HOST}:{reference_port}/reference/ready",
        )
        servers += [product, reference]
        product.start()
        reference.start()
        body = json.dumps(menu["cart"])
        targets = {
            "reference": harness.Target(
                "reference",
                f"http://{harness.HOST}:{reference_port}/reference/orders",
                "POST",
                {"Content-Type": "application/json"},
                body,
            ),
            "orders": harness.Target(
                "orders",
                f"http://{harness.HOST}:{product_port}/api/v1/orders",
                "POST",
                {"Authorization": f"Bearer {menu['token']}", "Content-Type": "application/json"},
                body,
            ),
        }
        for target in targets.values():
            status, _, answer = harness.fetch(target)
            if status != 201:
                raise RuntimeError(f"{target.name} answered {status}: {answer}")
        print("checked: both create an order (201)", flush=True)
        results: dict[str, harness.Result] = {}
        for name, target in targets.items():
            harness.run_wrk(target, args.warmup, args.connections, work)
            result = harness.run_wrk(target, args.duration, args.connections, work)
            results[name] = result
            print(
                f"  {name:<10} {result.rps:8.1f} orders/s  p50 {result.p50_ms:7.2f} ms"
                f"  p99 {result.p99_ms:7.2f} ms  non-2xx {result.non_2xx}",
                flush=True,
            )
        for server in servers:
            server.stop()
        numbers = asyncio.run(order_numbers(args.pg_url))
        busy.append(harness.busy_percent())
        problems = harness.server_log_problems(logs)
        if numbers != list(range(1, len(numbers) + 1)):
            problems.append("order numbers have a gap or a duplicate")
        if any(r.non_2xx or r.socket_errors for r in results.values()):
            problems.append("some requests failed under load")
        ratio = results["orders"].rps / results["reference"].rps
        print(
            f"\norders/s product {results['orders'].rps:.1f} vs reference"
            f" {results['reference'].rps:.1f}: ratio {ratio:.2f}"
            f" (p99 {results['orders'].p99_ms:.1f} ms vs {results['reference'].p99_ms:.1f} ms)"
        )
        print(f"orders in the database: {len(numbers)} (both servers), numbered 1..{len(numbers)}")
        print(f"cpu busy before/after: {busy}")
        for problem in problems:
            print(f"problem: {problem}")
        return 0 if not problems else 1
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())

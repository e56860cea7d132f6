"""An answered request leaves nothing for the garbage collector to find.

A request's context, its compiled-executor run and its dataloaders are freed by reference
counting as soon as it is answered. A reference cycle among them (a loader's batch function
holding the context that holds the loader; a run holding bound methods of itself) made
every such request garbage that only a collection frees: a gen-0 pass about every 80
requests on `me`, and whole pages of loaded rows kept until then.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from elevatedpos.executor.run import Run
from elevatedpos.schema.context import Context
from tests.conftest import Tenant, gql

OURS = {Context.__qualname__, Run.__qualname__, "DataLoader"}
PAGE = "query($n: Int!) { products(first: $n) { nodes { name category { name } } } }"


@contextmanager
def cyclic_garbage() -> Iterator[Counter[str]]:
    """Counts, by type name, the objects that only the cycle collector could free."""
    found: Counter[str] = Counter()
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        yield found
        gc.collect()
        found.update(type(o).__qualname__ for o in gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


async def test_reads_leave_no_cycles_of_contexts_runs_or_loaders(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    category = await client.post(
        "/api/v1/categories", json={"name": "Beans"}, headers=tenant.headers
    )
    for sku in ("B-1", "B-2"):
        made = await client.post(
            "/api/v1/products",
            json={
                "name": f"Beans {sku}",
                "sku": sku,
                "price": {"amount": 1800, "currency": "AUD"},
                "categoryId": category.json()["data"]["id"],
            },
            headers=tenant.headers,
        )
        assert made.status_code == 201, made.text
    await client.get("/api/v1/auth/me", headers=tenant.headers)  # the user is cached
    with cyclic_garbage() as found:
        for _ in range(3):
            me = await client.get("/api/v1/auth/me", headers=tenant.headers)
            products = await client.get("/api/v1/products", headers=tenant.headers)
            page = await gql(client, PAGE, {"n": 10}, tenant.headers)
            assert me.status_code == products.status_code == 200
            assert [p["category"]["name"] for p in page["data"]["products"]["nodes"]] == [
                "Beans",
                "Beans",
            ]
    assert {name: found[name] for name in OURS if found[name]} == {}

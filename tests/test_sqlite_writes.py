"""Concurrent writes never surface "database is locked" (SQLite) and never lose a row.

SQLite allows one writer at a time. Writers of one process queue on the Database's lock;
writers of other processes (other uvicorn workers on the same file) wait on busy_timeout,
which only works because write transactions begin IMMEDIATE.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import func, select

from elevatedpos.actions.orgs import create_org, new_location
from elevatedpos.app import create_app
from elevatedpos.auth.sessions import start_session
from elevatedpos.db.engine import Database
from elevatedpos.db.migrate import upgrade_database
from elevatedpos.db.models import Location, OutboxEvent, User
from elevatedpos.settings import Settings
from tests.conftest import PASSWORD, Tenant, new_client

LOCATIONS = "/api/v1/locations"


async def test_forty_concurrent_creates_all_succeed(app, tenant: Tenant, runtime):
    async with new_client(app) as c:
        responses = await asyncio.gather(
            *(
                c.post(LOCATIONS, json={"name": f"Store {i:02d}"}, headers=tenant.headers)
                for i in range(40)
            )
        )
        problems = [r.text for r in responses if r.status_code != 201]
        assert problems == []
        listed = await c.get(LOCATIONS, params={"limit": 100}, headers=tenant.headers)
    names = sorted(loc["name"] for loc in listed.json()["data"])
    assert names == sorted(["Main store", *(f"Store {i:02d}" for i in range(40))])
    ids = {r.json()["data"]["id"] for r in responses}
    assert len(ids) == 40
    async with runtime.db.read() as session:
        events = await session.scalar(
            select(func.count())
            .select_from(OutboxEvent)
            .where(OutboxEvent.org_id == tenant.org_id, OutboxEvent.type == "location.created")
        )
    assert events == 41


async def test_concurrent_creates_with_reads_in_between(app, tenant: Tenant):
    async with new_client(app) as c:

        async def write(i: int) -> int:
            r = await c.post(LOCATIONS, json={"name": f"W{i:02d}"}, headers=tenant.headers)
            return r.status_code

        async def read() -> int:
            r = await c.get(LOCATIONS, params={"limit": 100}, headers=tenant.headers)
            return r.status_code

        statuses = await asyncio.gather(*(write(i) if i % 2 else read() for i in range(60)))
        listed = await c.get(LOCATIONS, params={"limit": 100}, headers=tenant.headers)
    assert [s for i, s in enumerate(statuses) if i % 2] == [201] * 30
    assert [s for i, s in enumerate(statuses) if not i % 2] == [200] * 30
    assert len(listed.json()["data"]) == 31


# --- two processes on one SQLite file ------------------------------------------------------


@pytest.fixture
async def sqlite_file(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'workers.db'}"
    await upgrade_database(url)
    return url


@pytest.fixture
async def two_databases(sqlite_file: str) -> AsyncIterator[tuple[Database, Database]]:
    """Two engines on one file, as two worker processes would have (each its own write lock)."""
    first, second = Database(sqlite_file), Database(sqlite_file)
    try:
        yield first, second
    finally:
        await first.dispose()
        await second.dispose()


async def _insert_locations(
    db: Database, org_id: uuid.UUID, prefix: str, n: int
) -> list[uuid.UUID]:
    async def one(i: int) -> uuid.UUID:
        async with db.write() as session:
            # read first, let the other tasks run, then write: a transaction that upgrades
            # from reading to writing is the one SQLite refuses at once unless it began
            # IMMEDIATE
            await session.scalar(select(func.count()).select_from(Location))
            await asyncio.sleep(0)
            location = new_location(session, org_id, f"{prefix}-{i:02d}", "Australia/Sydney")
            await session.flush()
        return location.id

    return list(await asyncio.gather(*(one(i) for i in range(n))))


async def _read_repeatedly(db: Database, org_id: uuid.UUID, n: int) -> list[int]:
    async def one() -> int:
        async with db.read() as session:
            count = await session.scalar(
                select(func.count()).select_from(Location).where(Location.org_id == org_id)
            )
        return int(count or 0)

    return list(await asyncio.gather(*(one() for _ in range(n))))


async def test_two_engines_on_one_file_write_concurrently(two_databases):
    first, second = two_databases
    assert first.dialect == second.dialect == "sqlite"
    made = await create_org(first, name="Workers", email="workers@example.com", password=PASSWORD)
    org_id = made.org.id
    results = await asyncio.gather(
        _insert_locations(first, org_id, "a", 25),
        _read_repeatedly(second, org_id, 20),
        _insert_locations(second, org_id, "b", 25),
        _read_repeatedly(first, org_id, 20),
    )
    written = {*results[0], *results[2]}
    assert len(written) == 50
    for counts in (results[1], results[3]):
        assert all(1 <= c <= 51 for c in counts), counts
    for db in (first, second):
        async with db.read() as session:
            rows = (await session.scalars(select(Location).where(Location.org_id == org_id))).all()
            events = await session.scalar(
                select(func.count()).select_from(OutboxEvent).where(OutboxEvent.org_id == org_id)
            )
        assert {r.id for r in rows} == written | {made.location.id}
        assert sorted(r.name for r in rows if r.name != "Main store") == sorted(
            [*(f"a-{i:02d}" for i in range(25)), *(f"b-{i:02d}" for i in range(25))]
        )
        assert events == 51


async def test_two_engines_creating_orgs_and_users_concurrently(two_databases):
    """Longer transactions (org, owner, location, event) from both engines at once."""
    first, second = two_databases

    async def make(db: Database, i: int) -> uuid.UUID:
        made = await create_org(
            db, name=f"Org {i}", email=f"owner{i}@example.com", password=PASSWORD
        )
        return made.org.id

    org_ids = await asyncio.gather(*(make(first if i % 2 else second, i) for i in range(16)))
    assert len(set(org_ids)) == 16
    async with first.read() as session:
        users = await session.scalar(select(func.count()).select_from(User))
        locations = await session.scalar(select(func.count()).select_from(Location))
    assert users == locations == 16


async def test_two_apps_on_one_file_serve_concurrent_creates(sqlite_file: str):
    """Two app instances (two workers) on one SQLite file: every POST is a 201."""
    apps = [create_app(Settings.from_env({}, database_url=sqlite_file)) for _ in range(2)]
    async with LifespanManager(apps[0]), LifespanManager(apps[1]):
        runtime = apps[0].state.runtime
        made = await create_org(
            runtime.db, name="Two workers", email="two@example.com", password=PASSWORD, plan="pro"
        )
        token = (await start_session(runtime, made.owner)).access_token
        headers = {"Authorization": f"Bearer {token}"}
        async with new_client(apps[0]) as a, new_client(apps[1]) as b:
            responses = await asyncio.gather(
                *(
                    (a if i % 2 else b).post(
                        LOCATIONS, json={"name": f"Shop {i:02d}"}, headers=headers
                    )
                    for i in range(40)
                ),
                *(
                    (b if i % 2 else a).post(
                        LOCATIONS,
                        json={"name": f"Keyed {i:02d}"},
                        headers={**headers, "Idempotency-Key": f"two-workers-{i // 2}"},
                    )
                    for i in range(20)
                ),
            )
            listed = await a.get(LOCATIONS, params={"limit": 100}, headers=headers)
    problems = [r.text for r in responses if r.status_code not in (201, 422)]
    assert problems == []
    plain = responses[:40]
    assert [r.status_code for r in plain] == [201] * 40
    names = [loc["name"] for loc in listed.json()["data"]]
    assert len([n for n in names if n.startswith("Shop ")]) == 40
    # each key was sent twice with two different bodies: one of the pair ran, the other is 422
    keyed = responses[40:]
    for pair in range(10):
        statuses = sorted(r.status_code for r in keyed[2 * pair : 2 * pair + 2])
        assert statuses == [201, 422], pair
    assert len([n for n in names if n.startswith("Keyed ")]) == 10

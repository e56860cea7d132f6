"""Fixtures: every database test runs on SQLite and, when reachable, again on PostgreSQL."""

from __future__ import annotations

import itertools
import os
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool
from starlette.applications import Starlette

from elevatedpos.actions.orgs import create_org, create_user
from elevatedpos.app import create_app
from elevatedpos.auth.sessions import start_session
from elevatedpos.db.migrate import upgrade_database
from elevatedpos.runtime import Runtime
from elevatedpos.settings import Settings, normalize_database_url

DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS = "redis://127.0.0.1:6379/15"
PASSWORD = "correct-horse-battery"
IN_CI = os.environ.get("CI", "").lower() == "true"


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def postgres_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return normalize_database_url(url)
    if _reachable("127.0.0.1", 5432):
        return DEFAULT_PG
    if IN_CI:
        raise RuntimeError("CI needs PostgreSQL: set TEST_DATABASE_URL or start it on :5432")
    return None


def redis_url() -> str | None:
    url = os.environ.get("TEST_REDIS_URL")
    if url:
        return url
    if _reachable("127.0.0.1", 6379):
        return DEFAULT_REDIS
    if IN_CI:
        raise RuntimeError("CI needs Redis: set TEST_REDIS_URL or start it on :6379")
    return None


PG_URL = postgres_url()
REDIS_URL = redis_url()
BACKENDS = ["sqlite", *(["postgres"] if PG_URL else [])]
_ips = itertools.count(1)


async def _reset_postgres(url: str) -> None:
    engine = create_async_engine(url, poolclass=NullPool)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
async def database_url(request: pytest.FixtureRequest, tmp_path_factory: Any) -> str:
    """A migrated, empty database of each backend, shared by the session's tests."""
    if request.param == "postgres":
        assert PG_URL is not None
        await _reset_postgres(PG_URL)
        url = PG_URL
    else:
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    await upgrade_database(url)
    return url


@pytest.fixture(scope="session")
async def app(database_url: str) -> AsyncIterator[Starlette]:
    application = create_app(Settings.from_env({}, database_url=database_url))
    async with LifespanManager(application):
        yield application


@pytest.fixture
def runtime(app: Starlette) -> Runtime:
    return app.state.runtime  # type: ignore[no-any-return]


def new_client(
    application: Starlette, ip: str | None = None, base_url: str = "http://testserver"
) -> httpx.AsyncClient:
    """A client with its own source address, so per-IP limits of one test don't hit another."""
    n = next(_ips)
    address = ip or f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"
    transport = httpx.ASGITransport(app=application, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url=base_url)


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with new_client(app) as c:
        yield c


@dataclass
class Tenant:
    """An org with a signed-in user: what most tests act as."""

    org_id: uuid.UUID
    user_id: uuid.UUID
    location_id: uuid.UUID
    email: str
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


TenantFactory = Callable[..., Awaitable[Tenant]]


async def staff_of(runtime, tenant: Tenant) -> Tenant:
    """A staff user of `tenant`'s org, signed in."""
    user = await create_user(
        runtime.db,
        org_id=tenant.org_id,
        email=f"staff-{uuid.uuid4().hex[:10]}@example.com",
        password=PASSWORD,
        role="staff",
    )
    issued = await start_session(runtime, user)
    return Tenant(
        tenant.org_id,
        user.id,
        tenant.location_id,
        user.email,
        issued.access_token,
        issued.refresh_token,
    )


@pytest.fixture
def make_tenant(runtime: Runtime) -> TenantFactory:
    async def factory(
        plan: str = "pro",
        role: str = "owner",
        rate_limit: int | None = None,
        burst: int | None = None,
    ) -> Tenant:
        email = f"owner-{uuid.uuid4().hex[:12]}@example.com"
        made = await create_org(
            runtime.db,
            name="Test Org",
            email=email,
            password=PASSWORD,
            plan=plan,
            rate_limit=rate_limit,
            burst=burst,
        )
        user = made.owner
        if role != "owner":
            email = f"{role}-{uuid.uuid4().hex[:12]}@example.com"
            user = await create_user(
                runtime.db, org_id=made.org.id, email=email, password=PASSWORD, role=role
            )
        issued = await start_session(runtime, user)
        return Tenant(
            made.org.id,
            user.id,
            made.location.id,
            email,
            issued.access_token,
            issued.refresh_token,
        )

    return factory


@pytest.fixture
async def tenant(make_tenant: TenantFactory) -> Tenant:
    return await make_tenant()


@pytest.fixture
async def redis_apps(database_url: str) -> AsyncIterator[list[Starlette]]:
    """Two app instances (think: two hosts) on one database and one Redis."""
    if REDIS_URL is None:
        pytest.skip("no Redis: set TEST_REDIS_URL or start one on 127.0.0.1:6379")
    apps = [
        create_app(Settings.from_env({}, database_url=database_url, redis_url=REDIS_URL))
        for _ in range(2)
    ]
    async with LifespanManager(apps[0]), LifespanManager(apps[1]):
        yield apps


def session_reads(runtime: Runtime) -> int:
    """Statements an authenticated request spends on its session: 1 where it reads the row
    (PostgreSQL without Redis), 0 where revocations come from Redis or SQLite's file."""
    return 0 if runtime.revocations is not None else 1


class StatementCounter:
    """Counts the SQL statements an engine runs (transaction control is not counted)."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        first = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else ""
        if first not in {"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "PRAGMA"}:
            self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_statements(runtime: Runtime) -> Callable[[], Any]:
    """`with count_statements() as counter:` counts what runs inside the block."""
    from contextlib import contextmanager

    from sqlalchemy import event

    from elevatedpos.db.rows import listen_direct, unlisten_direct

    @contextmanager
    def counting() -> Any:
        counter = StatementCounter()
        engine = runtime.db.engine.sync_engine

        def direct(sql: str, arguments: Any) -> None:  # prebuilt selects run on asyncpg
            counter(None, None, sql)

        event.listen(engine, "before_cursor_execute", counter)
        listen_direct(engine, direct)
        try:
            yield counter
        finally:
            event.remove(engine, "before_cursor_execute", counter)
            unlisten_direct(engine, direct)

    return counting


async def gql(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """POST a GraphQL document; return the JSON body (asserting the HTTP layer said 200)."""
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]

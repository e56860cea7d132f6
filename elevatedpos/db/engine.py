"""The engine and the two ways to use it: short read transactions and serialized writes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.pool import AsyncAdaptedQueuePool

from elevatedpos.db.rows import DirectConnection, direct_listeners
from elevatedpos.errors import PreconditionFailed

SQLITE_BUSY_TIMEOUT_MS = 30_000
# Set in a write session's `info` when it inserts an outbox event (events/outbox.py).
EVENTS_WRITTEN = "events_written"


def _unicode_lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _configure_sqlite(engine: AsyncEngine) -> None:
    """WAL, a busy timeout, and explicit BEGIN so writers can take the lock up front.

    pysqlite's own transaction handling begins lazily and cannot say IMMEDIATE; a
    deferred writer that upgrades its lock can fail at once with `database is locked`
    whatever the timeout, so write transactions begin IMMEDIATE (SQLAlchemy's documented
    recipe for pysqlite, applied to aiosqlite).
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        # SQLite's own lower() folds ASCII only ("ZOË" stays "zoË"); PostgreSQL's folds
        # every letter. Searches and tags compare lower(column) with Python's lower().
        dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get("sqlite_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


_BROKEN = (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, OSError)
PG_POOL_SIZE = 24
PG_MAX_OVERFLOW = 8


def create_engine_for(url: str, pool: str = "requests", **kw: Any) -> AsyncEngine:
    """An async engine with the options each backend needs; `pool="small"` for a background
    task's own engine (the outbox relay), a couple of connections."""
    small = pool == "small"
    if url.startswith("sqlite"):
        engine = create_async_engine(
            url,
            poolclass=AsyncAdaptedQueuePool,
            pool_size=2 if small else 8,
            max_overflow=2 if small else 8,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            **kw,
        )
        _configure_sqlite(engine)
        return engine
    # A request may run a few loader batches at once, each on its own connection: a pool
    # smaller than (concurrent requests x batches) keeps opening and closing overflow
    # connections. Each worker keeps up to 24 open and 8 more at peaks.
    return create_async_engine(
        url,
        pool_size=2 if small else PG_POOL_SIZE,
        max_overflow=2 if small else PG_MAX_OVERFLOW,
        pool_pre_ping=False,
        **kw,
    )


class Database:
    """Owns the engine; hands out read sessions and serialized write sessions."""

    def __init__(self, url: str, pool: str = "requests", **engine_kw: Any) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        # Called after a write transaction that added outbox events commits: the worker's
        # relay (`Runtime.start` sets it) publishes them at once instead of at its next poll.
        self.on_events: Callable[[], None] | None = None
        self.engine = create_engine_for(url, pool, **engine_kw)
        write_bind = (
            self.engine.execution_options(sqlite_immediate=True) if self.is_sqlite else self.engine
        )
        # At READ COMMITTED (PostgreSQL's default) every statement takes its own snapshot,
        # so a read transaction adds nothing but two round trips (BEGIN, COMMIT).
        self._read_bind = read_bind = (
            self.engine
            if self.is_sqlite
            else self.engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        self._read_sessions = async_sessionmaker(read_bind, expire_on_commit=False)
        self._write_sessions = async_sessionmaker(write_bind, expire_on_commit=False)
        # SQLite has one writer at a time: queue writers of this process here instead of
        # letting them spin on the file lock; other processes wait on busy_timeout.
        self._write_lock = asyncio.Lock() if self.is_sqlite else None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for reads only (outside a transaction on PostgreSQL)."""
        async with self._read_sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def reader(self) -> AsyncIterator[AsyncConnection]:
        """A Core connection for reads of rows (no ORM session), like `read` otherwise."""
        async with self._read_bind.connect() as connection:
            yield connection

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A write transaction: commits when the block ends, rolls back on an exception.

        A row whose version changed under us (optimistic locking) is a 412.
        """
        try:
            if self._write_lock is None:
                async with self._write_sessions() as session:
                    async with session.begin():
                        yield session
                    self._committed(session)
                return
            async with self._write_lock:
                async with self._write_sessions() as session:
                    async with session.begin():
                        yield session
            self._committed(session)
        except StaleDataError as exc:
            raise PreconditionFailed(
                "The resource was changed by another request; fetch it again and retry"
            ) from exc

    def _committed(self, session: AsyncSession) -> None:
        if self.on_events is not None and session.info.pop(EVENTS_WRITTEN, False):
            self.on_events()

    @property
    def direct_writes(self) -> bool:
        """Whether `direct_write` is available: PostgreSQL through asyncpg."""
        return self.engine.dialect.driver == "asyncpg"

    @asynccontextmanager
    async def direct_write(self) -> AsyncIterator[DirectConnection]:
        """A write transaction straight on an asyncpg connection of the pool: prebuilt SQL
        for the hottest writes (a sale), where each of SQLAlchemy's statements would be a
        round trip inside the window its row locks are held. Commits when the block ends,
        rolls back on an exception; a broken connection leaves the pool."""
        async with self.engine.connect() as connection:
            raw = (await connection.get_raw_connection()).driver_connection
            try:
                async with raw.transaction():
                    yield DirectConnection(raw, direct_listeners(connection))
                if self.on_events is not None:  # a sale: its events are in the outbox
                    self.on_events()
            except BaseException as exc:
                # SQLAlchemy did not begin this transaction, so it would not roll it back:
                # a connection the rollback could not end (cancelled, broken) is discarded.
                if isinstance(exc, _BROKEN) or raw.is_closed() or raw.is_in_transaction():
                    await connection.invalidate()
                raise

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()

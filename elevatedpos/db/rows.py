"""Read rows the cheap way: plain named tuples, and prebuilt selects run through asyncpg.

Reads that feed GraphQL objects touch each column of each row once or twice. A SQLAlchemy
`Row` answers `row.name` in ~0.3 µs; a named tuple in ~0.03 µs, and turning one into the
other costs less than three such reads. `plain_rows(result)` does that.

`Prepared(select)` goes one step further for statements built once at import (a products
page, a loader's batch): on PostgreSQL it is compiled once and run straight on the asyncpg
connection of the pool, skipping SQLAlchemy's per-execution and per-row work (half the CPU
of a 50-row page). It does so only where that work would change nothing: no bind parameter
needs converting, no `IN` list expands, and no column needs converting except `UTCDateTime`
(asyncpg already returns UTC-aware datetimes for `timestamptz`). Anything else, and every
other database, runs through SQLAlchemy as usual; the rows are the same named tuples.
"""

from __future__ import annotations

import keyword
import weakref
from collections import namedtuple
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import asyncpg
from sqlalchemy import ARRAY
from sqlalchemy.engine import Dialect, Engine, Result
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Select

from elevatedpos.db.types import UTCDateTime

_MISSING: Any = object()
# Who wants to hear of statements run straight on asyncpg (SQLAlchemy's events never see
# them): an engine's pool (shared by its option variants) -> callbacks of (sql, arguments).
# Tests count statements this way.
_LISTENERS: weakref.WeakKeyDictionary[Any, list[Callable[[str, list[Any]], None]]] = (
    weakref.WeakKeyDictionary()
)


def listen_direct(engine: Engine, callback: Callable[[str, list[Any]], None]) -> None:
    _LISTENERS.setdefault(engine.pool, []).append(callback)


def unlisten_direct(engine: Engine, callback: Callable[[str, list[Any]], None]) -> None:
    _LISTENERS.get(engine.pool, []).remove(callback)


_CLASSES: dict[tuple[str, ...], Any] = {}
_MAX_CLASSES = 512  # statements are few; beyond this (never expected) rows stay as they are


def row_class(keys: tuple[str, ...]) -> Any:
    """A named tuple class for these column names, or None when they cannot be fields."""
    cls = _CLASSES.get(keys, _MISSING)
    if cls is _MISSING:
        usable = len(set(keys)) == len(keys) and all(
            k.isidentifier() and not k.startswith("_") and not keyword.iskeyword(k) for k in keys
        )
        cls = namedtuple("Row", keys) if usable else None  # type: ignore[misc]
        if len(_CLASSES) < _MAX_CLASSES:
            _CLASSES[keys] = cls
    return cls


def as_plain(keys: tuple[str, ...], rows: Iterable[Any]) -> list[Any]:
    cls = row_class(keys)
    if cls is None:
        return list(rows)
    make = cls._make
    return [make(r) for r in rows]


def plain_rows(result: Result[Any]) -> list[Any]:
    """Every row of `result` as a named tuple (same attributes, indexes and equality)."""
    return as_plain(tuple(result.keys()), result.all())


class _Direct:
    """A select compiled for asyncpg: its SQL, its parameters in order, their defaults."""

    __slots__ = ("defaults", "names", "sql")

    def __init__(self, sql: str, names: list[str], defaults: dict[str, Any]) -> None:
        self.sql = sql
        self.names = names
        self.defaults = defaults

    def arguments(self, params: Mapping[str, Any]) -> list[Any]:
        defaults = self.defaults
        return [params[n] if n in params else defaults[n] for n in self.names]


def _no_bind_conversion(bind: Any, dialect: Dialect) -> bool:
    kind = bind.type
    if isinstance(kind, ARRAY):  # a list goes as it is when its items need nothing
        return kind.item_type.dialect_impl(dialect).bind_processor(dialect) is None
    return kind.dialect_impl(dialect).bind_processor(dialect) is None


def _no_result_conversion(column: Any, dialect: Dialect) -> bool:
    kind = column.type
    if isinstance(kind, UTCDateTime):
        return True
    return kind.dialect_impl(dialect).result_processor(dialect, None) is None


def _direct(stmt: Select[Any], dialect: Dialect) -> _Direct | None:
    if dialect.driver != "asyncpg":
        return None
    compiled = stmt.compile(dialect=dialect)
    binds = list(compiled.binds.values())
    if (
        compiled.positiontup is None
        or any(b.expanding for b in binds)
        or not all(_no_bind_conversion(b, dialect) for b in binds)
        or not all(_no_result_conversion(c, dialect) for c in stmt.selected_columns)
    ):
        return None
    return _Direct(str(compiled), list(compiled.positiontup), dict(compiled.params))


class Prepared:
    """A select built once, run with `await prepared.rows(connection, params)`."""

    __slots__ = ("_direct", "stmt")

    def __init__(self, stmt: Select[Any]) -> None:
        self.stmt = stmt
        self._direct: dict[str, _Direct | None] = {}

    async def rows(self, connection: AsyncConnection, params: Mapping[str, Any]) -> list[Any]:
        dialect = connection.dialect
        direct = self._direct.get(dialect.name, _MISSING)
        if direct is _MISSING:
            direct = self._direct[dialect.name] = _direct(self.stmt, dialect)
        if direct is None:
            return plain_rows(await connection.execute(self.stmt, dict(params)))
        raw = await connection.get_raw_connection()
        arguments = direct.arguments(params)
        if _LISTENERS:
            for listener in _LISTENERS.get(connection.sync_engine.pool, ()):
                listener(direct.sql, arguments)
        try:
            records = await raw.driver_connection.fetch(direct.sql, *arguments)
        except (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, OSError):
            await connection.invalidate()  # the pool must not hand this connection out again
            raise
        if not records:
            return []
        return as_plain(tuple(records[0].keys()), records)


class DirectConnection:
    """An asyncpg connection of the pool inside a transaction (`Database.direct_write`):
    prebuilt SQL with positional parameters, no SQLAlchemy in between. Listeners hear of
    each statement as they do of `Prepared` ones."""

    __slots__ = ("_listeners", "raw")

    def __init__(self, raw: Any, listeners: list[Callable[[str, list[Any]], None]]) -> None:
        self.raw = raw
        self._listeners = listeners

    async def fetch(self, sql: str, *arguments: Any) -> list[Any]:
        for listener in self._listeners:
            listener(sql, list(arguments))
        return await self.raw.fetch(sql, *arguments)  # type: ignore[no-any-return]

    async def execute(self, sql: str, *arguments: Any) -> None:
        for listener in self._listeners:
            listener(sql, list(arguments))
        await self.raw.execute(sql, *arguments)


def direct_listeners(connection: AsyncConnection) -> list[Callable[[str, list[Any]], None]]:
    return _LISTENERS.get(connection.sync_engine.pool, []) if _LISTENERS else []

"""Keyset pagination: stable order, every row exactly once across pages, opaque cursors."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar, overload

import orjson
from sqlalchemy import Select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql import ColumnElement

from elevatedpos.db.rows import Prepared, plain_rows
from elevatedpos.errors import field_error

T = TypeVar("T")
MAX_PAGE = 100
DEFAULT_PAGE = 50


class RowCursors(Sequence[str]):
    """The cursors of a page's rows, each encoded when first asked for (often never)."""

    __slots__ = ("_done", "_keys", "_rows")

    def __init__(self, rows: list[Any], keys: list[str]) -> None:
        self._rows = rows
        self._keys = keys
        self._done: dict[int, str] = {}

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> list[str]: ...
    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self._rows)))]
        if index < 0:
            index += len(self._rows)
        cursor = self._done.get(index)
        if cursor is None:
            if not 0 <= index < len(self._rows):
                raise IndexError("cursor index out of range")
            row = self._rows[index]
            cursor = self._done[index] = encode_cursor(tuple(getattr(row, k) for k in self._keys))
        return cursor


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    cursors: Sequence[str]
    has_next: bool
    limit: int

    @property
    def end_cursor(self) -> str | None:
        return self.cursors[-1] if self.cursors else None


def check_first(first: int | None) -> int:
    """The page size: 1..100, default 50; anything else is a 422 on `first`."""
    if first is None:
        return DEFAULT_PAGE
    if not 1 <= first <= MAX_PAGE:
        raise field_error("first", f"first must be between 1 and {MAX_PAGE}")
    return first


def _encode_value(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _decode_value(raw: Any, column: ColumnElement[Any]) -> Any:
    python_type = column.type.python_type
    if python_type is uuid.UUID:
        return uuid.UUID(raw)
    if python_type is datetime:
        return datetime.fromisoformat(raw)
    if python_type in (int, str, float) and isinstance(raw, python_type):
        return raw
    raise ValueError("cursor value of the wrong type")


def encode_cursor(values: tuple[Any, ...]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([_encode_value(v) for v in values])).decode()


def decode_cursor(cursor: str, keys: list[ColumnElement[Any]]) -> tuple[Any, ...]:
    try:
        raw = orjson.loads(base64.urlsafe_b64decode(cursor.encode()))
        if not isinstance(raw, list) or len(raw) != len(keys):
            raise ValueError("cursor shape")
        return tuple(_decode_value(v, k) for v, k in zip(raw, keys, strict=True))
    except (ValueError, TypeError, orjson.JSONDecodeError, binascii.Error) as exc:
        raise field_error("after", "after is not a valid cursor") from exc


async def keyset_page(
    session: AsyncSession | AsyncConnection,
    stmt: Select[Any],
    keys: list[ColumnElement[Any]],
    *,
    first: int | None,
    after: str | None,
    descending: bool = False,
) -> Page[Any]:
    """One page of `stmt` (a Core select of rows), ordered by `keys` (unique together)."""
    limit = check_first(first)
    if after is not None:
        position = decode_cursor(after, keys)
        row_key = tuple_(*keys)
        stmt = stmt.where(
            row_key < tuple_(*position) if descending else row_key > tuple_(*position)
        )
    order = [k.desc() for k in keys] if descending else list(keys)
    rows = plain_rows(await session.execute(stmt.order_by(*order).limit(limit + 1)))
    has_next = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, RowCursors(rows, [k.key for k in keys]), has_next, limit)


async def first_page(
    connection: AsyncConnection,
    stmt: Prepared,
    params: dict[str, Any],
    keys: list[ColumnElement[Any]],
    *,
    first: int | None,
) -> Page[Any]:
    """The first page of a statement built once, already ordered by `keys`, whose LIMIT is
    the bound parameter `limit`: the same page `keyset_page` gives, without rebuilding and
    cache-keying the statement on every request."""
    limit = check_first(first)
    rows = await stmt.rows(connection, {**params, "limit": limit + 1})
    has_next = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, RowCursors(rows, [k.key for k in keys]), has_next, limit)

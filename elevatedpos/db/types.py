"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy import Uuid as _Uuid
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

_new_object = object.__new__
_set_slot = object.__setattr__
_UUID = uuid.UUID
_UNKNOWN_SAFETY = uuid.SafeUUID.unknown


def uuid_from_hex(value: Any) -> uuid.UUID | None:
    """A stored UUID (32 hex digits, as SQLAlchemy writes them on SQLite) as `uuid.UUID`.

    `uuid.UUID(hex)` strips prefixes and braces and checks the form before it parses: ~0.7 µs,
    and a products page reads ~250 ids. 32 hex digits are parsed in C here and set on the
    object as `UUID.__init__` sets them (~0.3 µs); anything else goes through `uuid.UUID`.
    """
    if value is None or type(value) is _UUID:
        return value
    if type(value) is str and len(value) == 32:
        try:
            raw = bytes.fromhex(value)
        except ValueError:
            return _UUID(value)  # not hex: uuid.UUID says what is wrong with it
        if len(raw) == 16:
            made = _new_object(_UUID)
            _set_slot(made, "int", int.from_bytes(raw))
            _set_slot(made, "is_safe", _UNKNOWN_SAFETY)
            return made  # type: ignore[no-any-return]
    return _UUID(value)


class Uuid(_Uuid[uuid.UUID]):
    """SQLAlchemy's `Uuid`, read faster where the database stores text (SQLite); PostgreSQL
    keeps its native type (asyncpg returns UUIDs itself)."""

    cache_ok = True

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        if self.as_uuid and not (dialect.supports_native_uuid and self.native_uuid):
            return uuid_from_hex
        return super().result_processor(dialect, coltype)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes; SQLite stores them naive, so reattach UTC on the way out."""

    impl = DateTime(timezone=True)
    cache_ok = True

    @property
    def python_type(self) -> type[datetime]:
        return datetime

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)

"""Scalar overrides: RFC 3339 UTC timestamps ending in Z."""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry
from strawberry.types.scalar import ScalarDefinition


def format_datetime(value: datetime) -> str:
    if value.tzinfo is not UTC:  # rows from PostgreSQL and SQLite come back in UTC already
        value = value.astimezone(UTC)
    return value.isoformat()[:-6] + "Z"  # isoformat of a UTC time ends in +00:00


def parse_datetime(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("a timestamp needs a time zone (end it with Z)")
    return parsed.astimezone(UTC)


DateTime = strawberry.scalar(
    name="DateTime",
    description="RFC 3339 timestamp in UTC, e.g. 2026-11-23T10:15:00Z",
    serialize=format_datetime,
    parse_value=parse_datetime,
)

Long = strawberry.scalar(
    name="Long",
    description="A whole number beyond Int's 32 bits (up to 2^53), written as a JSON number",
    serialize=int,
    parse_value=int,
)


def _scalar_map() -> dict[object, ScalarDefinition]:
    from elevatedpos.schema.money import Long as LongType

    return {datetime: DateTime, LongType: Long}


SCALAR_MAP: dict[object, ScalarDefinition] = _scalar_map()

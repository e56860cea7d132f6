"""Scalar overrides: RFC 3339 UTC timestamps ending in Z."""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry
from strawberry.types.scalar import ScalarDefinition

# `isoformat` costs ~1 us, a tenth of a product's REST shape; the same rows' timestamps are
# written again and again (every page, every poll), so their text is kept. Aware datetimes
# equal as instants give the same text; the cache is emptied whenever it fills.
_FORMATTED: dict[datetime, str] = {}
_FORMATTED_MAX = 16_384


def format_datetime(value: datetime) -> str:
    text = _FORMATTED.get(value)
    if text is None:
        # rows from PostgreSQL and SQLite come back in UTC already
        utc = value if value.tzinfo is UTC else value.astimezone(UTC)
        text = utc.isoformat()[:-6] + "Z"  # the isoformat of a UTC time ends in +00:00
        if len(_FORMATTED) >= _FORMATTED_MAX:
            _FORMATTED.clear()
        _FORMATTED[value] = text
    return text


# For compiled plans: a `datetime` (exactly) always formats, to a string.
format_datetime.exact_input = datetime  # type: ignore[attr-defined]


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

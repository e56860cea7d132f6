"""A sale saved in two statements on PostgreSQL: the same rows `create_order` writes through
SQLAlchemy elsewhere, with fewer round trips while the hot rows are locked.

Every sale of a café's best seller queues on the same stock rows, and every sale of an org
on its order counter. Each round trip made while holding them is time no other sale of
those items can use, and under load it waits for the event loop too. Through the ORM the
window held eight (select for update, update, movements, counter, order, lines, event,
commit); here it holds two:

1. the advisory locks that queue sales of the same items in arrival order (as
   `change_stock_batch` takes them);
2. one statement: lock the levels in item order, take the stock where there is enough,
   write the movements, take the next order number, insert the order, its lines, its
   campaigns and `order.created`;

then COMMIT. Short items come back without an updated level: the caller raises 409 and the
transaction rolls back, number included (numbers stay gapless). Rows come in as JSON and are
typed by PostgreSQL itself (`json_populate_record(NULL::orders, …)`), in the table's own
column order. Events are JSON text as SQLAlchemy would write it (`json.dumps`), the order
number spliced into `order.created` where the payload holds its place.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from elevatedpos.actions.inventory import queue_sql
from elevatedpos.db.models import InventoryMovement, Order, OutboxEvent
from elevatedpos.db.rows import DirectConnection

_NUMBER_MARK = -1  # where `order.created` carries the number until the database gives it


def _select_list(table: Any, overrides: dict[str, str]) -> tuple[str, str]:
    names = [c.name for c in table.columns]
    return ", ".join(names), ", ".join(overrides.get(n, f"r.{n}") for n in names)


_ORDER_COLUMNS, _ORDER_VALUES = _select_list(
    Order.__table__, {"number": "(SELECT value FROM next_number)"}
)
_MOVEMENT_COLUMNS, _MOVEMENT_VALUES = _select_list(
    InventoryMovement.__table__, {"balance_after": "u.on_hand"}
)

QUEUE_FOR_ITEMS = queue_sql("$1::text[]")  # as change_stock_batch queues

SALE = f"""
WITH wanted AS (
    SELECT * FROM unnest($1::uuid[], $2::int[]) AS w(item_id, delta)
), locked AS (
    SELECT l.id, l.item_id, l.on_hand FROM inventory_levels l
    WHERE l.location_id = $3 AND l.item_id = ANY($1::uuid[])
    ORDER BY l.item_id
    FOR UPDATE
), taken AS (
    UPDATE inventory_levels l SET on_hand = l.on_hand + w.delta, updated_at = $4
    FROM locked k JOIN wanted w ON w.item_id = k.item_id
    WHERE l.id = k.id AND k.on_hand + w.delta >= 0
    RETURNING l.item_id, l.on_hand
), movements AS (
    INSERT INTO inventory_movements ({_MOVEMENT_COLUMNS})
    SELECT {_MOVEMENT_VALUES}
    FROM json_populate_recordset(NULL::inventory_movements, $5::json) r
    JOIN taken u ON u.item_id = coalesce(r.variant_id, r.product_id)
), next_number AS (
    INSERT INTO counters (org_id, name, value) VALUES ($6, 'order', 1)
    ON CONFLICT (org_id, name) DO UPDATE SET value = counters.value + 1
    RETURNING value
), saved_order AS (
    INSERT INTO orders ({_ORDER_COLUMNS})
    SELECT {_ORDER_VALUES} FROM json_populate_record(NULL::orders, $7::json) r
), saved_lines AS (
    INSERT INTO order_lines SELECT * FROM json_populate_recordset(NULL::order_lines, $8::json)
), saved_campaigns AS (
    INSERT INTO order_campaigns
    SELECT * FROM json_populate_recordset(NULL::order_campaigns, $9::json)
), event AS (
    INSERT INTO outbox_events (id, org_id, type, data, created_at)
    VALUES (
        $10, $6, 'order.created',
        ($11::text || (SELECT value FROM next_number)::text || $12::text)::json, $4
    )
)
SELECT w.item_id, k.on_hand AS on_hand_before, u.on_hand AS on_hand_after, NULL::int AS number
FROM wanted w
LEFT JOIN locked k ON k.item_id = w.item_id
LEFT JOIN taken u ON u.item_id = w.item_id
UNION ALL
SELECT NULL, NULL, NULL, value FROM next_number
"""

EVENTS = (
    "INSERT INTO outbox_events SELECT * FROM json_populate_recordset(NULL::outbox_events, $1::json)"
)


@dataclass(frozen=True)
class Level:
    """A stock item's on-hand before the sale, and after it (None: not enough, not taken)."""

    before: int
    after: int | None


@dataclass(frozen=True)
class SaleResult:
    number: int
    levels: dict[uuid.UUID, Level]


def _json(value: Any) -> str:
    return orjson.dumps(value, default=str).decode()  # asyncpg's own UUIDs too


def event_text(payload: dict[str, Any]) -> tuple[str, str]:
    """`order.created`'s JSON text as SQLAlchemy writes it, around the number's place."""
    text = json.dumps({**payload, "number": _NUMBER_MARK})
    before, mark, after = text.partition(f'"number": {_NUMBER_MARK}')
    assert mark, "the payload names its number"
    return before + '"number": ', after


async def queue_for_items(conn: DirectConnection, keys: Sequence[str]) -> None:
    await conn.execute(QUEUE_FOR_ITEMS, list(keys))


async def save_sale(
    conn: DirectConnection,
    *,
    org_id: uuid.UUID,
    location_id: uuid.UUID,
    now: datetime,
    items: Sequence[tuple[uuid.UUID, int]],
    movements: Sequence[dict[str, Any]],
    order: dict[str, Any],
    lines: Sequence[dict[str, Any]],
    campaigns: Sequence[dict[str, Any]],
    event_id: uuid.UUID,
    event_payload: dict[str, Any],
) -> SaleResult:
    """Take the items' stock (`items`: item id, negative delta) and save the order."""
    before, after = event_text(event_payload)
    rows = await conn.fetch(
        SALE,
        [item for item, _ in items],
        [delta for _, delta in items],
        location_id,
        now,
        _json(movements),
        org_id,
        _json(order),
        _json(lines),
        _json(campaigns),
        event_id,
        before,
        after,
    )
    number = 0
    levels: dict[uuid.UUID, Level] = {}
    for row in rows:
        if row["number"] is not None:
            number = row["number"]
        else:
            levels[row["item_id"]] = Level(row["on_hand_before"] or 0, row["on_hand_after"])
    return SaleResult(number, levels)


async def save_events(conn: DirectConnection, events: Sequence[OutboxEvent]) -> None:
    """Outbox events written with the sale (low stock), in one statement."""
    if not events:
        return
    rows = [
        {
            "id": e.id,
            "org_id": e.org_id,
            "type": e.type,
            "data": e.data,
            "created_at": e.created_at,
            "published_at": None,
        }
        for e in events
    ]
    await conn.execute(EVENTS, _json(rows))

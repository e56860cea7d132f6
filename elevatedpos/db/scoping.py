"""Org scoping in one place: every read of org-owned rows goes through these."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from elevatedpos.errors import NotFound, field_error

M = TypeVar("M")


def org_select(model: type[M], org_id: uuid.UUID) -> Select[tuple[M]]:
    """`SELECT model WHERE org_id = :org` — the start of every org-owned query."""
    return select(model).where(model.org_id == org_id)  # type: ignore[attr-defined]


def org_rows(model: Any, org_id: uuid.UUID) -> Select[Any]:
    """`SELECT <table columns> WHERE org_id = :org`: Core rows for reads that feed GraphQL."""
    table = model.__table__
    return select(table).where(table.c.org_id == org_id)


def parse_uuid(value: Any) -> uuid.UUID | None:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


async def get_in_org(
    session: AsyncSession, model: type[M], raw_id: Any, org_id: uuid.UUID
) -> M | None:
    """The row with this id in this org, or None (another org's row does not exist)."""
    row_id = parse_uuid(raw_id)
    if row_id is None:
        return None
    return await session.scalar(
        org_select(model, org_id).where(model.id == row_id)  # type: ignore[attr-defined]
    )


async def require_in_org(
    session: AsyncSession,
    model: type[M],
    raw_id: Any,
    org_id: uuid.UUID,
    what: str,
    *,
    lock: bool = False,
) -> M:
    """A resource named by a path or an argument: 404 when the org has none.

    With `lock`, the row stays locked until the transaction ends, so writers queue.
    """
    row_id = parse_uuid(raw_id)
    row = None
    if row_id is not None:
        stmt = org_select(model, org_id).where(model.id == row_id)  # type: ignore[attr-defined]
        row = await session.scalar(stmt.with_for_update() if lock else stmt)
    if row is None:
        raise NotFound(f"{what} not found")
    return row


async def require_reference(
    session: AsyncSession, model: type[M], raw_id: Any, org_id: uuid.UUID, field: str
) -> M:
    """A resource named inside a request body: 422 on that field when the org has none."""
    row = await get_in_org(session, model, raw_id, org_id)
    if row is None:
        raise field_error(field, f"{field} does not name an existing resource")
    return row

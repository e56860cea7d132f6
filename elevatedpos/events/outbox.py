"""Write events in the caller's transaction, so an event exists exactly when its change does."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import object_session

from elevatedpos.db.engine import EVENTS_WRITTEN
from elevatedpos.db.models import OutboxEvent
from elevatedpos.db.types import utcnow


def new_event(org_id: uuid.UUID, event_type: str, data: dict[str, Any]) -> OutboxEvent:
    """An outbox event, not yet added to any transaction."""
    return OutboxEvent(
        id=uuid.uuid4(), org_id=org_id, type=event_type, data=data, created_at=utcnow()
    )


def record_event(
    session: AsyncSession, org_id: uuid.UUID, event_type: str, data: dict[str, Any]
) -> OutboxEvent:
    """Add an event to the outbox within `session`'s transaction."""
    event = new_event(org_id, event_type, data)
    session.add(event)
    return event


@event.listens_for(OutboxEvent, "after_insert")
def _note_event(mapper: Any, connection: Any, target: OutboxEvent) -> None:
    """Mark the transaction as one that wrote events (`Database.on_events` after commit)."""
    session = object_session(target)
    if session is not None:
        session.info[EVENTS_WRITTEN] = True


def envelope(event: OutboxEvent) -> dict[str, Any]:
    """The shape webhooks, automations and subscriptions receive."""
    return {
        "id": str(event.id),
        "type": event.type,
        "orgId": str(event.org_id),
        "createdAt": event.created_at.isoformat().replace("+00:00", "Z"),
        "data": event.data,
    }

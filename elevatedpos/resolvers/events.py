"""`subscription { events(types: [...]) }`: the org's event envelopes as they are committed."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from strawberry.scalars import JSON

from elevatedpos.errors import FieldError, ValidationFailed
from elevatedpos.rules.automations import EVENT_TYPES
from elevatedpos.schema.context import Info

# An event is heard by a principal who may read what it is about.
_READ_SCOPE = {
    "order": "orders:read",
    "payment": "payments:read",
    "customer": "customers:read",
    "loyalty": "loyalty:read",
    "inventory": "inventory:read",
    "product": "catalog:read",
    "category": "catalog:read",
    "modifier_group": "catalog:read",
    "price_list": "catalog:read",
    "campaign": "campaigns:read",
    "location": "locations:read",
}


def read_scope(event_type: str) -> str:
    return _READ_SCOPE.get(event_type.split(".", 1)[0], "integrations:read")


@strawberry.type(description="An event as webhooks and automations see it")
class EventEnvelope:
    id: strawberry.ID
    type: str
    org_id: strawberry.ID
    created_at: str = strawberry.field(description="RFC 3339, UTC")
    data: JSON


@strawberry.type
class EventsSubscription:
    @strawberry.subscription(
        description="Your org's events as they are committed (those you may read); "
        "`types` narrows them (default: all)"
    )
    async def events(
        self, info: Info, types: list[str] | None = None
    ) -> AsyncGenerator[EventEnvelope, None]:
        ctx = info.context
        principal = ctx.auth
        if types:
            unknown = sorted(set(types) - EVENT_TYPES)
            if unknown:
                raise ValidationFailed(
                    [FieldError("types", f"types names no event type: {', '.join(unknown)}")]
                )
        bus = ctx.runtime.bus
        subscriber = bus.subscribe(principal.org_id, types)
        try:
            while True:
                event = await subscriber.queue.get()
                if event is None:  # dropped (too slow) or the server is stopping
                    return
                if not principal.has_scope(read_scope(event["type"])):
                    continue
                yield EventEnvelope(
                    id=strawberry.ID(event["id"]),
                    type=event["type"],
                    org_id=strawberry.ID(event["orgId"]),
                    created_at=event["createdAt"],
                    data=event["data"],
                )
        finally:
            bus.unsubscribe(subscriber)

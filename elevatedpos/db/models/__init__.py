"""All models, imported so that Alembic and the mappers see every table."""

from elevatedpos.db.models.auth import AuthSession, RefreshToken
from elevatedpos.db.models.base import Base
from elevatedpos.db.models.orgs import Location, Org, User
from elevatedpos.db.models.platform import IdempotencyRecord, InstanceKey, OutboxEvent

__all__ = [
    "AuthSession",
    "Base",
    "IdempotencyRecord",
    "InstanceKey",
    "Location",
    "Org",
    "OutboxEvent",
    "RefreshToken",
    "User",
]

"""Integration and webhook types: what installing and registering answer (their secrets,
once), deliveries of a test, and the inputs."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import strawberry

from elevatedpos.schema.node import Node
from elevatedpos.schema.orgs import Role, User


@strawberry.enum
class DeliveryStatus(Enum):
    DELIVERED = "delivered"
    FAILED = "failed"


@strawberry.type
class Integration(Node):
    name: str
    provider: str
    status: str = strawberry.field(description="active, or uninstalled")
    client_id: str = strawberry.field(description="The OAuth client id of the integration")
    redirect_uris: list[str] = strawberry.field(
        description="The exact URIs its OAuth flow may redirect to"
    )
    created_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> Integration:
        return cls(
            id=strawberry.ID(str(row.id)),
            name=row.name,
            provider=row.provider,
            status=row.status,
            client_id=row.client_id,
            redirect_uris=list(row.redirect_uris),
            created_at=row.created_at,
        )


@strawberry.type(description="An integration as installing it answers: with its secret, once")
class InstalledIntegration(Integration):
    client_secret: str = strawberry.field(description="Shown only here; keep it safe")


@strawberry.type
class Webhook(Node):
    url: str
    events: list[str] = strawberry.field(description="Event types it receives; * for all")
    active: bool
    created_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> Webhook:
        return cls(
            id=strawberry.ID(str(row.id)),
            url=row.url,
            events=list(row.events),
            active=row.active,
            created_at=row.created_at,
        )


@strawberry.type(
    description=(
        "One user's grant of OAuth access to an integration: its tokens act for that user,"
        " with these scopes only"
    )
)
class IntegrationGrant:
    id: strawberry.ID = strawberry.field(description="The grant (its refresh-token family)")
    user: User = strawberry.field(description="The user who authorized the app")
    scopes: list[str] = strawberry.field(description="What the app may do for that user")
    created_at: datetime = strawberry.field(description="When the user authorized the app")
    expires_at: datetime = strawberry.field(
        description=(
            "When it ends unless the app refreshes first (each refresh gives it 30 days again);"
            " after that the user authorizes the app again"
        )
    )
    revoked_at: datetime | None = strawberry.field(
        default=None, description="When it was revoked; null while it is in force"
    )

    @classmethod
    def from_row(cls, row: Any) -> IntegrationGrant:
        """A row of auth_sessions' columns with its user's as `user_id`, `user_email`, ..."""
        return cls(
            id=strawberry.ID(str(row.id)),
            user=User(
                id=strawberry.ID(str(row.user_id)),
                email=row.user_email,
                org_id=strawberry.ID(str(row.org_id)),
                name=row.user_name,
                role=Role(row.user_role),
            ),
            scopes=(row.scope or "").split(),
            created_at=row.created_at,
            expires_at=row.expires_at,
            revoked_at=row.revoked_at,
        )


@strawberry.type(description="A webhook as registering it answers: with its secret, once")
class RegisteredWebhook(Webhook):
    secret: str = strawberry.field(
        description="Signs every delivery (X-ElevatedPOS-Signature); shown only here"
    )


@strawberry.type(description="What sending a test event to one webhook did")
class WebhookTestDelivery:
    webhook_id: strawberry.ID
    status: DeliveryStatus
    response_status: int | None = strawberry.field(description="The receiver's HTTP status")
    duration_ms: int
    error: str | None = strawberry.field(description="Why it failed, when it did")


@strawberry.input
class InstallIntegrationInput:
    name: str
    provider: str
    redirect_uris: list[str] | None = strawberry.field(default=None, description="At most 10")


@strawberry.input
class CreateWebhookInput:
    url: str = strawberry.field(description="http(s); private addresses are refused by default")
    events: list[str] = strawberry.field(description="Event types, or * for every event")
    active: bool | None = strawberry.field(default=None, description="Default true")


@strawberry.input
class TestWebhooksInput:
    webhook_id: strawberry.ID | None = strawberry.field(
        default=None, description="One webhook of the integration; default: each of them"
    )

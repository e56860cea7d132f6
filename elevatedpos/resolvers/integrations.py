"""Integration and webhook queries and mutations."""

from __future__ import annotations

import strawberry

from elevatedpos.actions import integrations as actions
from elevatedpos.db.models import AuthSession
from elevatedpos.db.models import Integration as IntegrationRow
from elevatedpos.db.models import Webhook as WebhookRow
from elevatedpos.db.pagination import keyset_page
from elevatedpos.db.scoping import org_rows, require_in_org
from elevatedpos.db.types import utcnow
from elevatedpos.schema.context import Info
from elevatedpos.schema.integrations import (
    CreateWebhookInput,
    DeliveryStatus,
    InstalledIntegration,
    InstallIntegrationInput,
    Integration,
    IntegrationGrant,
    RegisteredWebhook,
    TestWebhooksInput,
    Webhook,
    WebhookTestDelivery,
)
from elevatedpos.schema.pagination import Connection
from elevatedpos.schema.permissions import HasScope

READ = [HasScope("integrations:read")]
WRITE = [HasScope("integrations:write")]


@strawberry.type
class IntegrationsQuery:
    @strawberry.field(
        description="The org's installed integrations, by name", permission_classes=READ
    )
    async def integrations(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Integration]:
        ctx = info.context
        t = IntegrationRow.__table__
        async with ctx.runtime.db.read() as session:
            page = await keyset_page(
                session, org_rows(IntegrationRow, ctx.org_id), [t.c.name, t.c.id],
                first=first, after=after,
            )  # fmt: skip
        return Connection[Integration].from_page(page, Integration.from_row)

    @strawberry.field(
        description="An integration's webhooks, oldest first", permission_classes=READ
    )
    async def webhooks(
        self,
        info: Info,
        integration_id: strawberry.ID,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Webhook]:
        ctx = info.context
        t = WebhookRow.__table__
        async with ctx.runtime.db.read() as session:
            integration = await require_in_org(
                session, IntegrationRow, integration_id, ctx.org_id, "integration"
            )
            page = await keyset_page(
                session,
                org_rows(WebhookRow, ctx.org_id).where(t.c.integration_id == integration.id),
                [t.c.created_at, t.c.id],
                first=first,
                after=after,
            )
        return Connection[Webhook].from_page(page, Webhook.from_row)

    @strawberry.field(
        description=(
            "The users who authorized an integration's app and what each granted, oldest"
            " first: grants in force only"
        ),
        permission_classes=READ,
    )
    async def integration_grants(
        self,
        info: Info,
        integration_id: strawberry.ID,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[IntegrationGrant]:
        ctx = info.context
        t = AuthSession.__table__
        async with ctx.runtime.db.read() as session:
            integration = await require_in_org(
                session, IntegrationRow, integration_id, ctx.org_id, "integration"
            )
            page = await keyset_page(
                session,
                actions.grant_rows(ctx.org_id, integration).where(
                    t.c.revoked_at.is_(None), t.c.expires_at > utcnow()
                ),
                [t.c.created_at, t.c.id],
                first=first,
                after=after,
            )
        return Connection[IntegrationGrant].from_page(page, IntegrationGrant.from_row)


@strawberry.type
class IntegrationsMutation:
    @strawberry.mutation(
        description="Install an integration: its OAuth client, the secret shown once",
        permission_classes=WRITE,
    )
    async def install_integration(
        self, info: Info, input: InstallIntegrationInput
    ) -> InstalledIntegration:
        ctx = info.context
        made = await actions.install_integration(ctx.runtime.db, ctx.org_id, input)
        base = Integration.from_row(made.integration)
        return InstalledIntegration(**vars(base), client_secret=made.client_secret)

    @strawberry.mutation(
        description=(
            "Uninstall an integration: its OAuth client is refused, every token it holds is"
            " revoked and its webhooks stop"
        ),
        permission_classes=WRITE,
    )
    async def uninstall_integration(self, info: Info, id: strawberry.ID) -> Integration:
        ctx = info.context
        row = await actions.uninstall_integration(ctx.runtime, ctx.org_id, id)
        return Integration.from_row(row)

    @strawberry.mutation(
        description=(
            "Revoke one user's grant of an integration: the app's tokens for that user stop"
            " working at once; its other grants stay"
        ),
        permission_classes=WRITE,
    )
    async def revoke_integration_grant(
        self, info: Info, integration_id: strawberry.ID, id: strawberry.ID
    ) -> IntegrationGrant:
        ctx = info.context
        row = await actions.revoke_grant(ctx.runtime, ctx.org_id, integration_id, id)
        return IntegrationGrant.from_row(row)

    @strawberry.mutation(
        description="Register a webhook of an integration: its signing secret shown once",
        permission_classes=WRITE,
    )
    async def create_webhook(
        self, info: Info, id: strawberry.ID, input: CreateWebhookInput
    ) -> RegisteredWebhook:
        ctx = info.context
        made = await actions.create_webhook(ctx.runtime.db, ctx.org_id, id, input)
        return RegisteredWebhook(**vars(Webhook.from_row(made.webhook)), secret=made.secret)

    @strawberry.mutation(
        description="Send a webhook.test event now to one webhook of the integration, or each",
        permission_classes=WRITE,
    )
    async def test_webhooks(
        self, info: Info, id: strawberry.ID, input: TestWebhooksInput | None = None
    ) -> list[WebhookTestDelivery]:
        ctx = info.context
        results = await actions.test_webhooks(
            ctx.runtime.db,
            ctx.org_id,
            id,
            input.webhook_id if input is not None else None,
            allow_private=ctx.runtime.settings.allow_private_webhook_targets,
        )
        return [
            WebhookTestDelivery(
                webhook_id=strawberry.ID(str(r.webhook_id)),
                status=DeliveryStatus(r.status),
                response_status=r.response_status,
                duration_ms=r.duration_ms,
                error=r.error,
            )
            for r in results
        ]

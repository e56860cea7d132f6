"""Integrations and their webhooks: install one (its OAuth client secret shown once),
register webhooks (their signing secret shown once), queue and test deliveries."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from elevatedpos.auth.oauth import digest
from elevatedpos.auth.sessions import revoke_sessions
from elevatedpos.db.engine import Database
from elevatedpos.db.models import AuthSession, Integration, User, Webhook, WebhookDelivery
from elevatedpos.db.scoping import get_in_org, parse_uuid, require_in_org
from elevatedpos.db.types import utcnow
from elevatedpos.errors import Conflict, FieldError, NotFound, ValidationFailed
from elevatedpos.events import webhooks as delivery
from elevatedpos.rules.text import check_text
from elevatedpos.rules.webhooks import TEST_EVENT, check_events, check_url, wants
from elevatedpos.runtime import Runtime
from elevatedpos.schema.scalars import format_datetime

MAX_NAME = 200
MAX_PROVIDER = 64
MAX_REDIRECT_URIS = 10
UNINSTALLED = "uninstalled"
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


@dataclass(frozen=True)
class Installed:
    integration: Integration
    client_secret: str


@dataclass(frozen=True)
class Registered:
    webhook: Webhook
    secret: str


@dataclass(frozen=True)
class TestDelivery:
    webhook_id: uuid.UUID
    status: str  # delivered | failed
    response_status: int | None
    duration_ms: int
    error: str | None


async def install_integration(db: Database, org_id: uuid.UUID, data: Any) -> Installed:
    errors = check_text(data.name, "name", max_length=MAX_NAME)
    errors += check_text(data.provider, "provider", max_length=MAX_PROVIDER)
    uris = list(data.redirect_uris or [])
    if len(uris) > MAX_REDIRECT_URIS:
        errors.append(FieldError("redirectUris", f"redirectUris holds at most {MAX_REDIRECT_URIS}"))
    for i, uri in enumerate(uris):
        if check_url(uri):
            errors.append(
                FieldError(f"redirectUris.{i}", f"redirectUris.{i} must be an http(s) URL")
            )
        elif "#" in uri:  # RFC 6749 3.1.2: a redirection endpoint has no fragment
            errors.append(
                FieldError(f"redirectUris.{i}", f"redirectUris.{i} must not have a #fragment")
            )
        elif urlsplit(uri).scheme == "http" and urlsplit(uri).hostname not in LOOPBACK_HOSTS:
            # Codes travel in the redirect: RFC 9700 allows plain http only to this machine.
            errors.append(
                FieldError(
                    f"redirectUris.{i}",
                    f"redirectUris.{i} must be https (http only to localhost or 127.0.0.1)",
                )
            )
    if errors:
        raise ValidationFailed(errors)
    client_secret = secrets.token_urlsafe(32)
    now = utcnow()
    row = Integration(
        id=uuid.uuid4(),
        org_id=org_id,
        name=data.name.strip(),
        provider=data.provider.strip(),
        status="active",
        client_id=f"epos_{secrets.token_hex(12)}",
        client_secret_hash=digest(client_secret),
        redirect_uris=list(dict.fromkeys(uris)),
        created_at=now,
        updated_at=now,
        version=1,
    )
    async with db.write() as session:
        session.add(row)
        await session.flush()
    return Installed(row, client_secret)


async def uninstall_integration(rt: Runtime, org_id: uuid.UUID, raw_id: Any) -> Integration:
    """Stop an integration: its OAuth client refused, every grant it holds revoked, its
    webhooks inactive (pending deliveries fail). Uninstalling it again changes nothing."""
    async with rt.db.write() as session:
        # Locked: a code exchange of this client waits, then finds it uninstalled.
        integration = await require_in_org(
            session, Integration, raw_id, org_id, "integration", lock=True
        )
        if integration.status == UNINSTALLED:
            return integration
        integration.status = UNINSTALLED
        integration.updated_at = utcnow()
        integration.version += 1
        await session.execute(
            update(Webhook).where(Webhook.integration_id == integration.id).values(active=False)
        )
        grants = list(
            await session.scalars(
                select(AuthSession.id).where(
                    AuthSession.client_id == integration.client_id,
                    AuthSession.revoked_at.is_(None),
                )
            )
        )
        await session.flush()
    if grants:
        await revoke_sessions(rt, grants, "integration_uninstalled")
    return integration


def grant_rows(org_id: uuid.UUID, integration: Integration) -> Select[Any]:
    """The integration's grants in the org, with each user's `user_email`, `user_name` and
    `user_role` (what `IntegrationGrant.from_row` reads), revoked and expired ones too."""
    s, u = AuthSession.__table__, User.__table__
    return (
        select(
            *s.c,
            u.c.email.label("user_email"),
            u.c.name.label("user_name"),
            u.c.role.label("user_role"),
        )
        .join(u, u.c.id == s.c.user_id)
        .where(s.c.org_id == org_id, s.c.client_id == integration.client_id)
    )


async def revoke_grant(
    rt: Runtime, org_id: uuid.UUID, raw_integration_id: Any, raw_grant_id: Any
) -> Any:
    """End one user's grant of an integration on every worker, as the app's own revocation
    would: its access and refresh tokens stop working. Revoking it again changes nothing.
    The grant's row (as `grant_rows` gives it) after the revocation."""
    async with rt.db.read() as session:
        integration = await require_in_org(
            session, Integration, raw_integration_id, org_id, "integration"
        )
        stmt = grant_rows(org_id, integration)
        grant_id = parse_uuid(raw_grant_id)
        found = grant_id and (await session.execute(stmt.where(AuthSession.id == grant_id))).first()
    if not found:
        raise NotFound("grant not found")
    if found.revoked_at is None:
        await revoke_sessions(rt, [found.id], "revoked_by_merchant")
    async with rt.db.read() as session:
        return (await session.execute(stmt.where(AuthSession.id == found.id))).one()


async def create_webhook(
    db: Database, org_id: uuid.UUID, raw_integration_id: Any, data: Any
) -> Registered:
    errors = check_url(data.url) + check_events(list(data.events or []))
    async with db.write() as session:
        integration = await require_in_org(
            session, Integration, raw_integration_id, org_id, "integration"
        )
        if integration.status == UNINSTALLED:
            raise Conflict("The integration is uninstalled: it takes no webhooks")
        if errors:
            raise ValidationFailed(errors)
        secret = f"whsec_{secrets.token_urlsafe(32)}"
        row = Webhook(
            id=uuid.uuid4(),
            org_id=org_id,
            integration_id=integration.id,
            url=data.url,
            events=list(dict.fromkeys(data.events)),
            active=True if data.active is None else data.active,
            secret=secret,
            created_at=utcnow(),
        )
        session.add(row)
        await session.flush()
    return Registered(row, secret)


def queue(
    session: AsyncSession,
    hook: Webhook,
    event_id: uuid.UUID,
    envelope: dict[str, Any],
    delivery_id: uuid.UUID | None = None,
) -> WebhookDelivery:
    """A pending delivery of `envelope` to `hook`, sent after the transaction commits."""
    now = utcnow()
    row = WebhookDelivery(
        id=delivery_id or uuid.uuid4(),
        org_id=hook.org_id,
        webhook_id=hook.id,
        event_id=event_id,
        event_type=str(envelope["type"]),
        envelope=envelope,
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(row)
    return row


async def active_webhooks(
    session: AsyncSession, org_ids: set[uuid.UUID]
) -> dict[uuid.UUID, list[Webhook]]:
    """The orgs' active webhooks, by org: one query."""
    hooks = (
        await session.scalars(
            select(Webhook).where(Webhook.org_id.in_(org_ids), Webhook.active.is_(True))
        )
    ).all()
    by_org: dict[uuid.UUID, list[Webhook]] = {}
    for hook in hooks:
        by_org.setdefault(hook.org_id, []).append(hook)
    return by_org


def subscribed(hooks: list[Webhook], event_type: str) -> list[Webhook]:
    return [h for h in hooks if wants(h.events, event_type)]


async def test_webhooks(
    db: Database,
    org_id: uuid.UUID,
    raw_integration_id: Any,
    raw_webhook_id: Any,
    *,
    allow_private: bool,
) -> list[TestDelivery]:
    """Send a `webhook.test` event now to one webhook of the integration, or to each."""
    async with db.read() as session:
        integration = await require_in_org(
            session, Integration, raw_integration_id, org_id, "integration"
        )
        if integration.status == UNINSTALLED:
            raise Conflict("The integration is uninstalled: its webhooks send nothing")
        stmt = select(Webhook).where(Webhook.integration_id == integration.id)
        if raw_webhook_id is not None:
            hook = await get_in_org(session, Webhook, raw_webhook_id, org_id)
            if hook is None or hook.integration_id != integration.id:
                raise ValidationFailed(
                    [
                        FieldError(
                            "webhookId", "webhookId does not name a webhook of the integration"
                        )
                    ]
                )
            stmt = stmt.where(Webhook.id == hook.id)
        hooks = (await session.scalars(stmt.order_by(Webhook.created_at, Webhook.id))).all()
    results: list[TestDelivery] = []
    for hook in hooks:
        event_id = uuid.uuid4()
        envelope = {
            "id": str(event_id),
            "type": TEST_EVENT,
            "orgId": str(org_id),
            "createdAt": format_datetime(utcnow()),
            "data": {"integrationId": str(integration.id), "webhookId": str(hook.id)},
        }
        delivery_id = uuid.uuid4()
        attempt = await delivery.send(
            hook.url, hook.secret, envelope, allow_private=allow_private, delivery_id=delivery_id
        )
        async with db.write() as session:
            row = queue(session, hook, event_id, envelope, delivery_id)
            await session.flush()
            status, values = delivery.record(session, row, attempt, retry=False)
            for attr, value in values.items():
                setattr(row, attr, value)
        results.append(
            TestDelivery(
                hook.id, status, attempt.response_status, attempt.duration_ms, attempt.error
            )
        )
    return results

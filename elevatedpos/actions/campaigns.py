"""Campaign writes: create and partial update, each with its outbox event."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import UNSET

from elevatedpos.actions.catalog import check_references
from elevatedpos.db.engine import Database
from elevatedpos.db.models import Campaign, Category, Product
from elevatedpos.db.scoping import require_in_org
from elevatedpos.db.types import utcnow
from elevatedpos.errors import Conflict, FieldError, ValidationFailed
from elevatedpos.events.outbox import record_event
from elevatedpos.rules.discounts import check_campaign_rules, normalize_code
from elevatedpos.rules.money import DEFAULT_CURRENCY, check_currency
from elevatedpos.rules.text import check_text
from elevatedpos.rules.versioning import check_version
from elevatedpos.schema.scalars import format_datetime

MAX_NAME = 200
MAX_SCOPE_IDS = 500
_CODE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
FINAL_STATUS = "ended"


def _money(amount: int | None, currency: str) -> dict[str, Any] | None:
    return None if amount is None else {"amount": amount, "currency": currency}


def _time(value: datetime | None) -> str | None:
    return None if value is None else format_datetime(value)


def campaign_payload(campaign: Campaign) -> dict[str, Any]:
    """The REST shape of a campaign, as events carry it."""
    return {
        "id": str(campaign.id),
        "name": campaign.name,
        "type": campaign.type,
        "status": campaign.status,
        "code": campaign.code,
        "rules": {
            "percentOff": campaign.percent_off,
            "amountOff": _money(campaign.amount_off, campaign.currency),
            "minSubtotal": _money(campaign.min_subtotal, campaign.currency),
            "productIds": list(campaign.product_ids),
            "categoryIds": list(campaign.category_ids),
        },
        "startsAt": _time(campaign.starts_at),
        "endsAt": _time(campaign.ends_at),
        "createdAt": format_datetime(campaign.created_at),
        "updatedAt": format_datetime(campaign.updated_at),
        "version": campaign.version,
    }


def _rules_errors(rules: Any) -> list[FieldError]:
    errors = check_campaign_rules(
        rules.percent_off,
        rules.amount_off.amount if rules.amount_off is not None else None,
        rules.min_subtotal.amount if rules.min_subtotal is not None else None,
    )
    for attr, name in (("amount_off", "amountOff"), ("min_subtotal", "minSubtotal")):
        money = getattr(rules, attr)
        if money is not None:
            errors += check_currency(money.currency, DEFAULT_CURRENCY, f"rules.{name}.currency")
    for attr, name in (("product_ids", "productIds"), ("category_ids", "categoryIds")):
        ids = getattr(rules, attr)
        if ids is not None and len(ids) > MAX_SCOPE_IDS:
            errors.append(
                FieldError(f"rules.{name}", f"rules.{name} holds at most {MAX_SCOPE_IDS} ids")
            )
    return errors


def _field_errors(data: Any, *, partial: bool) -> list[FieldError]:
    errors: list[FieldError] = []
    if not partial or data.name is not None:
        errors += check_text(data.name, "name", max_length=MAX_NAME)
    if data.code is not None and data.code is not UNSET and not _CODE.match(data.code):
        errors.append(
            FieldError("code", "code must be 1 to 64 letters, digits, hyphens or underscores")
        )
    if data.rules is not None:
        errors += _rules_errors(data.rules)
    return errors


def _window_errors(starts_at: datetime | None, ends_at: datetime | None) -> list[FieldError]:
    if starts_at is not None and ends_at is not None and not starts_at < ends_at:
        return [FieldError("endsAt", "endsAt must be after startsAt")]
    return []


async def _rules_columns(session: AsyncSession, org_id: uuid.UUID, rules: Any) -> dict[str, Any]:
    """The rule columns of `rules`, once its product and category ids name the org's own."""
    scope: dict[str, list[str]] = {}
    errors: list[FieldError] = []
    for attr, name, model in (
        ("product_ids", "productIds", Product),
        ("category_ids", "categoryIds", Category),
    ):
        raw = getattr(rules, attr) or []
        named = [(f"rules.{name}.{i}", value) for i, value in enumerate(raw)]
        found, parsed = await check_references(session, org_id, model, named)
        errors += found
        scope[attr] = list(dict.fromkeys(str(u) for u in parsed if u is not None))
    if errors:
        raise ValidationFailed(errors)
    return {
        "percent_off": rules.percent_off,
        "amount_off": rules.amount_off.amount if rules.amount_off is not None else None,
        "min_subtotal": rules.min_subtotal.amount if rules.min_subtotal is not None else None,
        "currency": DEFAULT_CURRENCY,
        **scope,
    }


async def _code_taken(
    session: AsyncSession, org_id: uuid.UUID, code_key: str, except_id: uuid.UUID | None = None
) -> bool:
    stmt = select(Campaign.id).where(Campaign.org_id == org_id, Campaign.code_key == code_key)
    if except_id is not None:
        stmt = stmt.where(Campaign.id != except_id)
    return (await session.scalar(stmt.limit(1))) is not None


def _duplicate_code(code: str) -> Conflict:
    return Conflict(f"Another campaign of your org has the code {code} (codes ignore case)")


async def create_campaign(db: Database, org_id: uuid.UUID, data: Any) -> Campaign:
    """A campaign (draft unless a status is given) and its `campaign.created` event."""
    errors = _field_errors(data, partial=False) + _window_errors(data.starts_at, data.ends_at)
    if errors:
        raise ValidationFailed(errors)
    code_key = normalize_code(data.code)
    try:
        async with db.write() as session:
            rules = await _rules_columns(session, org_id, data.rules)
            if code_key is not None and await _code_taken(session, org_id, code_key):
                raise _duplicate_code(data.code)
            now = utcnow()
            row = Campaign(
                id=uuid.uuid4(),
                org_id=org_id,
                name=data.name.strip(),
                type=data.type.value,
                status=data.status.value if data.status is not None else "draft",
                code=data.code,
                code_key=code_key,
                **rules,
                starts_at=data.starts_at,
                ends_at=data.ends_at,
                created_at=now,
                updated_at=now,
                version=1,
            )
            session.add(row)
            await session.flush()
            record_event(session, org_id, "campaign.created", campaign_payload(row))
    except IntegrityError as exc:
        # A concurrent create took the code between the check and the insert.
        raise _duplicate_code(data.code) from exc
    return row


async def _changes(session: AsyncSession, row: Campaign, data: Any) -> dict[str, Any]:
    """The column values an input sets; absent fields change nothing."""
    changes: dict[str, Any] = {}
    if data.name is not None:
        changes["name"] = data.name.strip()
    for attr in ("type", "status"):
        value = getattr(data, attr)
        if value is not None:
            changes[attr] = value.value
    if data.code is not UNSET:
        changes["code"] = data.code
        changes["code_key"] = normalize_code(data.code)
    for attr in ("starts_at", "ends_at"):
        value = getattr(data, attr)
        if value is not UNSET:
            changes[attr] = value
    if data.rules is not None:
        changes |= await _rules_columns(session, row.org_id, data.rules)
    return changes


async def update_campaign(
    db: Database, org_id: uuid.UUID, raw_id: Any, data: Any, expected_version: int | None
) -> Campaign:
    """Change the fields sent; 412 on a stale version, 409 on a taken code or leaving `ended`."""
    errors = _field_errors(data, partial=True)
    try:
        async with db.write() as session:
            row = await require_in_org(session, Campaign, raw_id, org_id, "campaign", lock=True)
            starts_at = row.starts_at if data.starts_at is UNSET else data.starts_at
            ends_at = row.ends_at if data.ends_at is UNSET else data.ends_at
            errors += _window_errors(starts_at, ends_at)
            if errors:
                raise ValidationFailed(errors)
            check_version(row.version, expected_version)
            changes = await _changes(session, row, data)
            status = changes.get("status", row.status)
            if row.status == FINAL_STATUS and status != FINAL_STATUS:
                raise Conflict("The campaign has ended; an ended campaign cannot be reopened")
            code_key = changes.get("code_key")
            if (
                code_key is not None
                and code_key != row.code_key
                and await _code_taken(session, org_id, code_key, row.id)
            ):
                raise _duplicate_code(changes["code"])
            changed = {k: v for k, v in changes.items() if getattr(row, k) != v}
            if changed:
                for attr, value in changed.items():
                    setattr(row, attr, value)
                row.updated_at = utcnow()
                await session.flush()
                record_event(session, org_id, "campaign.updated", campaign_payload(row))
    except IntegrityError as exc:
        raise Conflict("Another campaign of your org has that code (codes ignore case)") from exc
    return row

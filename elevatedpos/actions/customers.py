"""Customer writes: upsert by email and partial updates, each with its outbox event."""

from __future__ import annotations

import re
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import UNSET

from elevatedpos.db.engine import Database
from elevatedpos.db.models import Customer
from elevatedpos.db.scoping import org_select, require_in_org
from elevatedpos.db.types import utcnow
from elevatedpos.errors import Conflict, FieldError, ValidationFailed
from elevatedpos.events.outbox import record_event
from elevatedpos.rules.text import check_email, check_text, normalize_email
from elevatedpos.rules.versioning import check_version
from elevatedpos.schema.scalars import format_datetime

MAX_NAME = 100
MAX_PHONE = 32
MAX_TAG = 50
MAX_TAGS = 50
_PHONE = re.compile(r"^\+?[0-9 ()./-]*[0-9][0-9 ()./-]*$")


def customer_payload(customer: Customer) -> dict[str, Any]:
    """The REST shape of a customer, as events carry it."""
    return {
        "id": str(customer.id),
        "firstName": customer.first_name,
        "lastName": customer.last_name,
        "email": customer.email,
        "phone": customer.phone,
        "tags": list(customer.tags),
        "marketingOptIn": customer.marketing_opt_in,
        "createdAt": format_datetime(customer.created_at),
        "updatedAt": format_datetime(customer.updated_at),
        "version": customer.version,
    }


def _field_errors(data: Any) -> list[FieldError]:
    errors: list[FieldError] = []
    if data.email is not None:
        errors += check_email(data.email)
    errors += check_text(data.first_name, "firstName", max_length=MAX_NAME, required=False)
    errors += check_text(data.last_name, "lastName", max_length=MAX_NAME, required=False)
    phone = data.phone.strip() if data.phone else ""
    if phone and (len(phone) > MAX_PHONE or not _PHONE.match(phone)):
        errors.append(
            FieldError("phone", f"phone must be a phone number of at most {MAX_PHONE} characters")
        )
    if data.tags is not None:
        if len(data.tags) > MAX_TAGS:
            errors.append(FieldError("tags", f"tags holds at most {MAX_TAGS} tags"))
        for i, tag in enumerate(data.tags):
            errors += check_text(tag, f"tags.{i}", max_length=MAX_TAG)
    return errors


def _tags(raw: list[str]) -> list[str]:
    """Stripped, with repeats (ignoring case) dropped, first spelling kept."""
    seen: dict[str, str] = {}
    for tag in raw:
        seen.setdefault(tag.strip().lower(), tag.strip())
    return list(seen.values())


def _changes(data: Any) -> dict[str, Any]:
    """The column values an input sets; absent fields change nothing."""
    changes: dict[str, Any] = {}
    if data.email is not None:
        changes["email"] = normalize_email(data.email)
    for attr in ("first_name", "last_name"):
        value = getattr(data, attr)
        if value is not None:
            changes[attr] = value.strip()
    if data.phone is not UNSET:
        changes["phone"] = (data.phone or "").strip() or None
    if data.tags is not None:
        changes["tags"] = _tags(data.tags)
    if data.marketing_opt_in is not None:
        changes["marketing_opt_in"] = data.marketing_opt_in
    return changes


async def _apply(session: AsyncSession, row: Customer, changes: dict[str, Any]) -> None:
    """Write what differs as one new version with its `customer.updated` event."""
    changed = {k: v for k, v in changes.items() if getattr(row, k) != v}
    if not changed:
        return
    for attr, value in changed.items():
        setattr(row, attr, value)
    row.updated_at = utcnow()
    await session.flush()
    record_event(session, row.org_id, "customer.updated", customer_payload(row))


async def _upsert_once(
    db: Database, org_id: uuid.UUID, changes: dict[str, Any]
) -> tuple[Customer, bool]:
    async with db.write() as session:
        row = await session.scalar(
            org_select(Customer, org_id).where(Customer.email == changes["email"]).with_for_update()
        )
        if row is not None:
            await _apply(session, row, changes)
            return row, False
        fields = {
            "first_name": "",
            "last_name": "",
            "phone": None,
            "tags": [],
            "marketing_opt_in": False,
            **changes,
        }
        now = utcnow()
        row = Customer(
            id=uuid.uuid4(),
            org_id=org_id,
            **fields,
            created_at=now,
            updated_at=now,
            version=1,
        )
        session.add(row)
        await session.flush()
        record_event(session, org_id, "customer.created", customer_payload(row))
        return row, True


async def upsert_customer(db: Database, org_id: uuid.UUID, data: Any) -> tuple[Customer, bool]:
    """The org's customer with this email, created (True) or updated with the fields sent."""
    errors = _field_errors(data)
    if errors:
        raise ValidationFailed(errors)
    changes = _changes(data)
    try:
        return await _upsert_once(db, org_id, changes)
    except IntegrityError:
        # A concurrent upsert inserted this email first: it exists now, so update it.
        return await _upsert_once(db, org_id, changes)


async def update_customer(
    db: Database, org_id: uuid.UUID, raw_id: Any, data: Any, expected_version: int | None
) -> Customer:
    """Change the fields sent; 412 on a stale version, 409 on an email another customer has."""
    errors = _field_errors(data)
    changes = _changes(data)
    try:
        async with db.write() as session:
            row = await require_in_org(session, Customer, raw_id, org_id, "customer", lock=True)
            if errors:
                raise ValidationFailed(errors)
            check_version(row.version, expected_version)
            email = changes.get("email")
            if email not in (None, row.email) and await session.scalar(
                select(Customer.id).where(Customer.org_id == org_id, Customer.email == email)
            ):
                raise Conflict(f"Another customer has the email {email}")
            await _apply(session, row, changes)
    except IntegrityError as exc:
        raise Conflict("Another customer has that email") from exc
    return row

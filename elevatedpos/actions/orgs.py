"""Create orgs, users and locations."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from elevatedpos.auth.passwords import hash_password
from elevatedpos.auth.scopes import Role
from elevatedpos.db.engine import Database
from elevatedpos.db.models import Location, Org, User
from elevatedpos.errors import Conflict, FieldError, ValidationFailed
from elevatedpos.events.outbox import record_event
from elevatedpos.ratelimit import PLANS
from elevatedpos.rules.text import check_email, check_text, check_timezone, normalize_email
from elevatedpos.rules.versioning import check_version

DEFAULT_TIMEZONE = "Australia/Sydney"
MIN_PASSWORD = 8


@dataclass(frozen=True)
class NewOrg:
    org: Org
    owner: User
    location: Location


def _check_password(password: str) -> list[FieldError]:
    if len(password or "") < MIN_PASSWORD:
        return [FieldError("password", f"password must be at least {MIN_PASSWORD} characters")]
    return []


async def _email_taken(session: AsyncSession, email: str) -> bool:
    return (await session.scalar(select(User.id).where(User.email == email))) is not None


def location_payload(location: Location) -> dict[str, Any]:
    return {
        "id": str(location.id),
        "name": location.name,
        "timezone": location.timezone,
        "version": location.version,
    }


def new_location(
    session: AsyncSession, org_id: uuid.UUID, name: str, timezone: str | None
) -> Location:
    """Validate and add a location with its `location.created` event."""
    timezone = DEFAULT_TIMEZONE if timezone is None else timezone
    errors = check_text(name, "name", max_length=200) + check_timezone(timezone)
    if errors:
        raise ValidationFailed(errors)
    location = Location(
        id=uuid.uuid4(), org_id=org_id, name=name.strip(), timezone=timezone, version=1
    )
    session.add(location)
    record_event(session, org_id, "location.created", location_payload(location))
    return location


async def update_location(
    session: AsyncSession,
    location: Location,
    *,
    name: str | None,
    timezone: str | None,
    expected_version: int | None,
) -> Location:
    """Rename or move a location's time zone; 412 when `expected_version` is stale."""
    check_version(location.version, expected_version)
    errors = check_text(name, "name", max_length=200) if name is not None else []
    if timezone is not None:
        errors += check_timezone(timezone)
    if errors:
        raise ValidationFailed(errors)
    if name is not None:
        location.name = name.strip()
    if timezone is not None:
        location.timezone = timezone
    await session.flush()  # bumps `version`, or fails if another writer got there first
    record_event(session, location.org_id, "location.updated", location_payload(location))
    return location


async def create_org(
    db: Database,
    *,
    name: str,
    email: str,
    password: str,
    plan: str = "starter",
    rate_limit: int | None = None,
    burst: int | None = None,
    owner_name: str = "",
    location_name: str = "Main store",
) -> NewOrg:
    """An org with its owner and its first location."""
    errors = (
        check_text(name, "name", max_length=200) + check_email(email) + _check_password(password)
    )
    if plan not in PLANS:
        errors.append(FieldError("plan", f"plan must be one of {', '.join(PLANS)}"))
    if plan == "enterprise" and not rate_limit:
        errors.append(FieldError("rateLimit", "an enterprise org needs its own rate limit"))
    if rate_limit is not None and rate_limit < 1:
        errors.append(FieldError("rateLimit", "rateLimit must be positive"))
    if burst is not None and burst < 1:
        errors.append(FieldError("burst", "burst must be positive"))
    if errors:
        raise ValidationFailed(errors)
    password_hash = await hash_password(password)
    email = normalize_email(email)
    try:
        return await _insert_org(
            db, name, email, password_hash, plan, rate_limit, burst, owner_name, location_name
        )
    except IntegrityError as exc:  # a concurrent sign-up took the email between check and insert
        raise Conflict(f"a user with email {email} already exists") from exc


async def _insert_org(
    db: Database,
    name: str,
    email: str,
    password_hash: str,
    plan: str,
    rate_limit: int | None,
    burst: int | None,
    owner_name: str,
    location_name: str,
) -> NewOrg:
    async with db.write() as session:
        if await _email_taken(session, email):
            raise Conflict(f"a user with email {email} already exists")
        org = Org(id=uuid.uuid4(), name=name.strip(), plan=plan, rate_limit=rate_limit, burst=burst)
        session.add(org)
        await session.flush()
        owner = User(
            id=uuid.uuid4(),
            org_id=org.id,
            email=email,
            name=owner_name or email.split("@")[0],
            role=Role.OWNER.value,
            password_hash=password_hash,
        )
        session.add(owner)
        location = new_location(session, org.id, location_name, DEFAULT_TIMEZONE)
    return NewOrg(org, owner, location)


async def create_user(
    db: Database, *, org_id: uuid.UUID, email: str, password: str, role: str, name: str = ""
) -> User:
    """A user of an existing org."""
    errors = check_email(email) + _check_password(password)
    if role not in {r.value for r in Role}:
        errors.append(FieldError("role", "role must be one of owner, admin, manager, staff"))
    if errors:
        raise ValidationFailed(errors)
    password_hash = await hash_password(password)
    email = normalize_email(email)
    async with db.write() as session:
        if await session.get(Org, org_id) is None:
            raise ValidationFailed([FieldError("org", "org does not exist")])
        if await _email_taken(session, email):
            raise Conflict(f"a user with email {email} already exists")
        user = User(
            id=uuid.uuid4(),
            org_id=org_id,
            email=email,
            name=name or email.split("@")[0],
            role=role,
            password_hash=password_hash,
        )
        session.add(user)
    return user

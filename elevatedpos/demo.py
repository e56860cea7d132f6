"""The demo org: a café with a login, loaded by `seed-demo` and `serve --demo`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from elevatedpos.actions.orgs import create_org, create_user, new_location
from elevatedpos.db.engine import Database
from elevatedpos.db.models import User

DEMO_EMAIL = "owner@demo.elevatedpos.local"
DEMO_STAFF_EMAIL = "staff@demo.elevatedpos.local"
DEMO_PASSWORD = "demo-password"


async def seed_demo(db: Database) -> dict[str, Any]:
    """Create the demo org once; every run prints its login."""
    async with db.read() as session:
        owner = await session.scalar(select(User).where(User.email == DEMO_EMAIL))
    if owner is None:
        made = await create_org(
            db,
            name="Demo Café",
            email=DEMO_EMAIL,
            password=DEMO_PASSWORD,
            plan="pro",
            owner_name="Demo Owner",
            location_name="Café — Surry Hills",
        )
        async with db.write() as session:
            new_location(session, made.org.id, "Café — Bondi", "Australia/Sydney")
        await create_user(
            db, org_id=made.org.id, email=DEMO_STAFF_EMAIL, password=DEMO_PASSWORD, role="staff"
        )
        org_id = made.org.id
    else:
        org_id = owner.org_id
    return {
        "orgId": str(org_id),
        "login": {"email": DEMO_EMAIL, "password": DEMO_PASSWORD},
        "staffLogin": {"email": DEMO_STAFF_EMAIL, "password": DEMO_PASSWORD},
    }

"""Orgs, their users and their locations."""

from __future__ import annotations

import uuid

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from elevatedpos.db.models.base import Base, OrgOwned, Timestamped
from elevatedpos.db.types import Uuid


class Org(Timestamped, Base):
    __tablename__ = "orgs"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200))
    plan: Mapped[str] = mapped_column(String(20), default="starter")
    rate_limit: Mapped[int | None] = mapped_column(default=None)
    burst: Mapped[int | None] = mapped_column(default=None)
    version: Mapped[int] = mapped_column(default=1)


class User(OrgOwned, Base):
    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(255))


class Location(OrgOwned, Base):
    __tablename__ = "locations"

    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="Australia/Sydney")

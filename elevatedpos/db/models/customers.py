"""Customers: the people an org sells to, found by name, email, phone or tag."""

from __future__ import annotations

from sqlalchemy import JSON, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from elevatedpos.db.models.base import Base, OrgOwned


class Customer(OrgOwned, Base):
    __tablename__ = "customers"
    __table_args__ = (
        # Emails are stored lower-cased, so this is the case-insensitive upsert key.
        UniqueConstraint("org_id", "email"),
        # The list order; a search scans it in order and stops once a page is full.
        Index(
            "ix_customers_org_id_last_name_first_name", "org_id", "last_name", "first_name", "id"
        ),
    )

    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    email: Mapped[str] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(32), default=None)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    marketing_opt_in: Mapped[bool] = mapped_column(default=False)

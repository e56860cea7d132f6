"""Loyalty: an org's program, its members' balances, and every change of points."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from elevatedpos.db.models.base import Base, OrgOwned
from elevatedpos.db.types import UTCDateTime, Uuid, utcnow


class LoyaltyProgram(OrgOwned, Base):
    """`tiers` [{name, minPoints}] by minPoints; `rewards` [{id, name, pointsCost, discount}]."""

    __tablename__ = "loyalty_programs"
    __table_args__ = (
        # At most one active program per org: the default of accrue and redeem.
        Index(
            "uq_loyalty_programs_one_active",
            "org_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
        Index("ix_loyalty_programs_org_id_name", "org_id", "name", "id"),
    )

    name: Mapped[str] = mapped_column(String(200))
    points_per_dollar: Mapped[int] = mapped_column()
    tiers: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    rewards: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="active")


class LoyaltyMember(Base):
    """A customer's points in a program; the row is made by their first accrual."""

    __tablename__ = "loyalty_members"
    __table_args__ = (
        CheckConstraint("points_balance >= 0", name="balance_not_negative"),
        Index("ix_loyalty_members_customer_id", "customer_id"),
    )

    program_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("loyalty_programs.id", ondelete="CASCADE"), primary_key=True
    )
    customer_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("orgs.id", ondelete="CASCADE"))
    points_balance: Mapped[int] = mapped_column(default=0)
    lifetime_points: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LoyaltyTransaction(Base):
    """The audit row of every change of points, written in the change's transaction."""

    __tablename__ = "loyalty_transactions"
    __table_args__ = (
        Index("ix_loyalty_transactions_member", "program_id", "customer_id", "created_at"),
        Index("ix_loyalty_transactions_order_id", "order_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("orgs.id", ondelete="CASCADE"))
    program_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("loyalty_programs.id", ondelete="CASCADE")
    )
    customer_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("customers.id", ondelete="CASCADE")
    )
    type: Mapped[str] = mapped_column(String(16))  # accrue | redeem | reverse (a refund)
    points: Mapped[int] = mapped_column()  # signed: a redemption or reversal is negative
    balance_after: Mapped[int] = mapped_column()
    reason: Mapped[str | None] = mapped_column(String(200), default=None)
    reward_id: Mapped[str | None] = mapped_column(String(36), default=None)
    order_id: Mapped[uuid.UUID | None] = mapped_column(Uuid(), default=None)
    user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid(), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

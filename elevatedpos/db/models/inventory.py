"""Stock levels per product (or variant) and location, and the movement audit trail."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from elevatedpos.db.models.base import Base
from elevatedpos.db.types import UTCDateTime, Uuid, utcnow


class InventoryLevel(Base):
    """On-hand stock of one stock item at one location.

    `item_id` is the variant's id for a product with variants and the product's id
    otherwise, so (location, item) is unique without a nullable column in the key.
    """

    __tablename__ = "inventory_levels"
    __table_args__ = (
        UniqueConstraint("location_id", "item_id"),
        CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
        Index("ix_inventory_levels_org_id_product_id", "org_id", "product_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("orgs.id", ondelete="CASCADE"))
    product_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("products.id", ondelete="CASCADE")
    )
    variant_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid(), ForeignKey("product_variants.id", ondelete="CASCADE"), default=None
    )
    item_id: Mapped[uuid.UUID] = mapped_column(Uuid())
    location_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("locations.id", ondelete="CASCADE"), index=True
    )
    on_hand: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class InventoryMovement(Base):
    __tablename__ = "inventory_movements"
    __table_args__ = (
        Index("ix_inventory_movements_org_id_created_at", "org_id", "created_at", "id"),
        Index("ix_inventory_movements_product_id", "product_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("orgs.id", ondelete="CASCADE"))
    product_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("products.id", ondelete="CASCADE")
    )
    variant_id: Mapped[uuid.UUID | None] = mapped_column(Uuid(), default=None)
    location_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("locations.id", ondelete="CASCADE")
    )
    delta: Mapped[int] = mapped_column()
    balance_after: Mapped[int] = mapped_column()
    type: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(40), default=None)
    reference_id: Mapped[uuid.UUID | None] = mapped_column(Uuid(), default=None)
    user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid(), default=None)
    note: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

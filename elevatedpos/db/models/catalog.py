"""Products, their variants and modifier groups, categories, and price lists."""

from __future__ import annotations

import uuid

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from elevatedpos.db.models.base import Base, OrgOwned
from elevatedpos.db.types import Uuid


class Category(OrgOwned, Base):
    __tablename__ = "categories"

    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid(), ForeignKey("categories.id", ondelete="SET NULL"), default=None
    )
    sort_order: Mapped[int] = mapped_column(default=0)


class Product(OrgOwned, Base):
    __tablename__ = "products"
    __table_args__ = (
        UniqueConstraint("org_id", "sku"),
        Index("ix_products_org_id_status_name", "org_id", "status", "name", "id"),
        CheckConstraint("price_amount >= 0", name="price_not_negative"),
    )

    name: Mapped[str] = mapped_column(String(200))
    sku: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text, default="")
    price_amount: Mapped[int] = mapped_column()
    currency: Mapped[str] = mapped_column(String(3), default="AUD")
    tax_rate: Mapped[int] = mapped_column(default=1000)
    category_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid(), ForeignKey("categories.id", ondelete="SET NULL"), default=None, index=True
    )
    status: Mapped[str] = mapped_column(String(16), default="active")
    track_inventory: Mapped[bool] = mapped_column(default=True)
    reorder_point: Mapped[int] = mapped_column(default=0)


class Variant(Base):
    __tablename__ = "product_variants"
    __table_args__ = (UniqueConstraint("org_id", "sku"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("orgs.id", ondelete="CASCADE"))
    product_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("products.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    sku: Mapped[str] = mapped_column(String(64))
    price_amount: Mapped[int] = mapped_column()
    position: Mapped[int] = mapped_column(default=0)


class ModifierGroup(OrgOwned, Base):
    __tablename__ = "modifier_groups"

    name: Mapped[str] = mapped_column(String(200))
    min_selections: Mapped[int] = mapped_column(default=0)
    max_selections: Mapped[int] = mapped_column(default=1)


class ModifierOption(Base):
    __tablename__ = "modifier_options"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("orgs.id", ondelete="CASCADE"))
    group_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("modifier_groups.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    price_delta_amount: Mapped[int] = mapped_column(default=0)
    position: Mapped[int] = mapped_column(default=0)


class ProductModifierGroup(Base):
    __tablename__ = "product_modifier_groups"

    product_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("products.id", ondelete="CASCADE"), primary_key=True
    )
    group_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("modifier_groups.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(default=0)


class PriceList(OrgOwned, Base):
    __tablename__ = "price_lists"

    name: Mapped[str] = mapped_column(String(200))


class PriceListLocation(Base):
    __tablename__ = "price_list_locations"

    price_list_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("price_lists.id", ondelete="CASCADE"), primary_key=True
    )
    location_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("locations.id", ondelete="CASCADE"), primary_key=True
    )


class PriceListPrice(Base):
    __tablename__ = "price_list_prices"
    __table_args__ = (UniqueConstraint("price_list_id", "product_id", "variant_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=uuid.uuid4)
    price_list_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("price_lists.id", ondelete="CASCADE"), index=True
    )
    product_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("products.id", ondelete="CASCADE")
    )
    variant_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid(), ForeignKey("product_variants.id", ondelete="CASCADE"), default=None
    )
    price_amount: Mapped[int] = mapped_column()
    position: Mapped[int] = mapped_column(default=0)

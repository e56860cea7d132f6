"""Catalog writes: products with variants and modifier groups, categories, price lists."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import UNSET

from elevatedpos.db.engine import Database
from elevatedpos.db.models import (
    Category,
    Location,
    ModifierGroup,
    ModifierOption,
    PriceList,
    PriceListLocation,
    PriceListPrice,
    Product,
    ProductModifierGroup,
    Variant,
)
from elevatedpos.db.scoping import parse_uuid
from elevatedpos.db.types import utcnow
from elevatedpos.errors import Conflict, FieldError, ValidationFailed
from elevatedpos.events.outbox import record_event
from elevatedpos.rules.money import (
    DEFAULT_CURRENCY,
    check_amount,
    check_currency,
    check_tax_rate,
)
from elevatedpos.rules.text import check_text
from elevatedpos.rules.versioning import check_version
from elevatedpos.schema.scalars import format_datetime

MAX_SKU = 64
MAX_NAME = 200
MAX_DESCRIPTION = 5000


def _money_errors(money: Any, field: str, *, allow_negative: bool = False) -> list[FieldError]:
    return check_amount(money.amount, f"{field}.amount", allow_negative=allow_negative) + (
        check_currency(money.currency, DEFAULT_CURRENCY, f"{field}.currency")
    )


async def _existing_ids(
    session: AsyncSession, model: Any, org_id: uuid.UUID, ids: set[uuid.UUID]
) -> set[uuid.UUID]:
    if not ids:
        return set()
    rows = await session.execute(select(model.id).where(model.org_id == org_id, model.id.in_(ids)))
    return {r[0] for r in rows}


async def check_references(
    session: AsyncSession,
    org_id: uuid.UUID,
    model: Any,
    named: Sequence[tuple[str, Any]],
) -> tuple[list[FieldError], list[uuid.UUID | None]]:
    """Resolve body ids (field path, raw id) to UUIDs of `model` rows in the org.

    Unparseable ids and ids naming nothing in the org (another org's included) are
    422 errors on their own field path.
    """
    parsed = [(field, parse_uuid(raw) if raw is not None else None) for field, raw in named]
    present = await _existing_ids(session, model, org_id, {u for _, u in parsed if u is not None})
    errors: list[FieldError] = []
    for (field, raw), (_, value) in zip(named, parsed, strict=True):
        if raw is not None and (value is None or value not in present):
            errors.append(FieldError(field, f"{field} does not name an existing resource"))
    return errors, [u for _, u in parsed]


def product_payload(
    product: Product, variants: Sequence[Variant], group_ids: Sequence[uuid.UUID]
) -> dict[str, Any]:
    """The REST shape of a product, as events carry it."""
    return {
        "id": str(product.id),
        "name": product.name,
        "sku": product.sku,
        "description": product.description,
        "price": {"amount": product.price_amount, "currency": product.currency},
        "taxRate": product.tax_rate,
        "categoryId": str(product.category_id) if product.category_id else None,
        "status": product.status,
        "trackInventory": product.track_inventory,
        "reorderPoint": product.reorder_point,
        "variants": [
            {
                "id": str(v.id),
                "name": v.name,
                "sku": v.sku,
                "price": {"amount": v.price_amount, "currency": product.currency},
            }
            for v in variants
        ],
        "modifierGroupIds": [str(g) for g in group_ids],
        "createdAt": format_datetime(product.created_at),
        "updatedAt": format_datetime(product.updated_at),
        "version": product.version,
    }


def _product_field_errors(data: Any, *, partial: bool) -> list[FieldError]:
    errors: list[FieldError] = []
    if not partial or data.name is not None:
        errors += check_text(data.name, "name", max_length=MAX_NAME)
    if not partial or data.sku is not None:
        errors += check_text(data.sku, "sku", max_length=MAX_SKU)
    if data.description is not None and len(data.description) > MAX_DESCRIPTION:
        errors.append(
            FieldError("description", f"description must be at most {MAX_DESCRIPTION} characters")
        )
    if data.price is not None:
        errors += _money_errors(data.price, "price")
    if data.tax_rate is not None:
        errors += check_tax_rate(data.tax_rate)
    if data.reorder_point is not None and data.reorder_point < 0:
        errors.append(FieldError("reorderPoint", "reorderPoint must not be negative"))
    if data.variants is not None:
        seen: set[str] = set()
        for i, v in enumerate(data.variants):
            errors += check_text(v.name, f"variants.{i}.name", max_length=MAX_NAME)
            errors += check_text(v.sku, f"variants.{i}.sku", max_length=MAX_SKU)
            if v.sku in seen:
                errors.append(FieldError(f"variants.{i}.sku", f"variants.{i}.sku is repeated"))
            seen.add(v.sku)
            if v.price is not None:
                errors += _money_errors(v.price, f"variants.{i}.price")
    return errors


async def _sku_taken(
    session: AsyncSession, org_id: uuid.UUID, sku: str, except_id: uuid.UUID | None = None
) -> bool:
    stmt = (
        select(func.count())
        .select_from(Product)
        .where(Product.org_id == org_id, Product.sku == sku)
    )
    if except_id is not None:
        stmt = stmt.where(Product.id != except_id)
    return bool(await session.scalar(stmt))


async def _replace_variants(
    session: AsyncSession, product: Product, variants_in: Sequence[Any]
) -> list[Variant]:
    existing = {
        v.id: v
        for v in (
            await session.scalars(select(Variant).where(Variant.product_id == product.id))
        ).all()
    }
    kept: list[Variant] = []
    errors: list[FieldError] = []
    for i, v in enumerate(variants_in):
        price = v.price.amount if v.price is not None else product.price_amount
        if v.id is not None:
            vid = parse_uuid(v.id)
            row = existing.get(vid) if vid else None
            if row is None:
                errors.append(
                    FieldError(
                        f"variants.{i}.id", f"variants.{i}.id is not a variant of this product"
                    )
                )
                continue
            row.name, row.sku, row.price_amount, row.position = (
                v.name.strip(),
                v.sku.strip(),
                price,
                i,
            )
            kept.append(row)
        else:
            row = Variant(
                id=uuid.uuid4(),
                org_id=product.org_id,
                product_id=product.id,
                name=v.name.strip(),
                sku=v.sku.strip(),
                price_amount=price,
                position=i,
            )
            session.add(row)
            kept.append(row)
    if errors:
        raise ValidationFailed(errors)
    kept_ids = {r.id for r in kept}
    for vid, row in existing.items():
        if vid not in kept_ids:
            await session.delete(row)
    return kept


async def _set_modifier_groups(
    session: AsyncSession, product_id: uuid.UUID, group_ids: Sequence[uuid.UUID]
) -> None:
    await session.execute(
        delete(ProductModifierGroup).where(ProductModifierGroup.product_id == product_id)
    )
    for position, gid in enumerate(dict.fromkeys(group_ids)):
        session.add(ProductModifierGroup(product_id=product_id, group_id=gid, position=position))


async def _checked_refs(session: AsyncSession, org_id: uuid.UUID, data: Any) -> list[uuid.UUID]:
    errors: list[FieldError] = []
    if data.category_id is not None and data.category_id is not UNSET:
        cat_errors, _ = await check_references(
            session, org_id, Category, [("categoryId", data.category_id)]
        )
        errors += cat_errors
    group_ids: list[uuid.UUID] = []
    if data.modifier_group_ids is not None:
        named = [(f"modifierGroupIds.{i}", g) for i, g in enumerate(data.modifier_group_ids)]
        group_errors, parsed = await check_references(session, org_id, ModifierGroup, named)
        errors += group_errors
        group_ids = [g for g in parsed if g is not None]
    if errors:
        raise ValidationFailed(errors)
    return group_ids


async def create_product(db: Database, org_id: uuid.UUID, data: Any) -> Product:
    """A product with its variants and modifier groups, and its `product.created` event."""
    errors = _product_field_errors(data, partial=False)
    if errors:
        raise ValidationFailed(errors)
    try:
        async with db.write() as session:
            group_ids = await _checked_refs(session, org_id, data)
            if await _sku_taken(session, org_id, data.sku.strip()):
                raise Conflict(f"A product with SKU {data.sku.strip()} already exists")
            now = utcnow()
            product = Product(
                id=uuid.uuid4(),
                org_id=org_id,
                name=data.name.strip(),
                sku=data.sku.strip(),
                description=data.description or "",
                price_amount=data.price.amount,
                currency=data.price.currency,
                tax_rate=data.tax_rate,
                category_id=parse_uuid(data.category_id) if data.category_id else None,
                status="active",
                track_inventory=data.track_inventory,
                reorder_point=data.reorder_point,
                created_at=now,
                updated_at=now,
                version=1,
            )
            session.add(product)
            await session.flush()
            variants = await _replace_variants(session, product, data.variants)
            await _set_modifier_groups(session, product.id, group_ids)
            await session.flush()
            record_event(
                session, org_id, "product.created", product_payload(product, variants, group_ids)
            )
    except IntegrityError as exc:
        raise Conflict("A product or variant with that SKU already exists") from exc
    return product


async def update_product(
    db: Database, org_id: uuid.UUID, product: Product, data: Any, expected_version: int | None
) -> Product:
    """Change the fields sent; 412 on a stale version, 409 on a taken SKU."""
    errors = _product_field_errors(data, partial=True)
    if errors:
        raise ValidationFailed(errors)
    try:
        async with db.write() as session:
            row = await session.get(Product, product.id, with_for_update=True)
            assert row is not None
            check_version(row.version, expected_version)
            group_ids = await _checked_refs(session, org_id, data)
            if data.sku is not None and await _sku_taken(session, org_id, data.sku.strip(), row.id):
                raise Conflict(f"A product with SKU {data.sku.strip()} already exists")
            for attr in ("name", "sku"):
                value = getattr(data, attr)
                if value is not None:
                    setattr(row, attr, value.strip())
            if data.description is not None:
                row.description = data.description
            if data.price is not None:
                row.price_amount, row.currency = data.price.amount, data.price.currency
            for attr in ("tax_rate", "track_inventory", "reorder_point"):
                value = getattr(data, attr)
                if value is not None:
                    setattr(row, attr, value)
            if data.status is not None:
                row.status = data.status.value
            if data.category_id is not UNSET:
                row.category_id = parse_uuid(data.category_id) if data.category_id else None
            row.updated_at = utcnow()
            if data.variants is not None:
                variants = await _replace_variants(session, row, data.variants)
            else:
                variants = list(
                    (
                        await session.scalars(
                            select(Variant)
                            .where(Variant.product_id == row.id)
                            .order_by(Variant.position)
                        )
                    ).all()
                )
            if data.modifier_group_ids is not None:
                await _set_modifier_groups(session, row.id, group_ids)
            else:
                group_ids = list(
                    (
                        await session.scalars(
                            select(ProductModifierGroup.group_id)
                            .where(ProductModifierGroup.product_id == row.id)
                            .order_by(ProductModifierGroup.position)
                        )
                    ).all()
                )
            await session.flush()
            record_event(
                session, org_id, "product.updated", product_payload(row, variants, group_ids)
            )
    except IntegrityError as exc:
        raise Conflict("A product or variant with that SKU already exists") from exc
    return row


async def archive_product(db: Database, org_id: uuid.UUID, product: Product) -> Product:
    """Soft delete: the product leaves lists and sales but keeps its history."""
    async with db.write() as session:
        row = await session.get(Product, product.id, with_for_update=True)
        assert row is not None
        if row.status != "archived":
            row.status = "archived"
            row.updated_at = utcnow()
            await session.flush()
            record_event(session, org_id, "product.archived", {"id": str(row.id), "sku": row.sku})
    return row


async def create_category(db: Database, org_id: uuid.UUID, data: Any) -> Category:
    errors = check_text(data.name, "name", max_length=MAX_NAME)
    async with db.write() as session:
        if data.parent_id is not None:
            ref_errors, _ = await check_references(
                session, org_id, Category, [("parentId", data.parent_id)]
            )
            errors += ref_errors
        if errors:
            raise ValidationFailed(errors)
        category = Category(
            id=uuid.uuid4(),
            org_id=org_id,
            name=data.name.strip(),
            parent_id=parse_uuid(data.parent_id) if data.parent_id else None,
            sort_order=data.sort_order,
            version=1,
        )
        session.add(category)
        await session.flush()
        record_event(
            session,
            org_id,
            "category.created",
            {
                "id": str(category.id),
                "name": category.name,
                "parentId": data.parent_id,
                "sortOrder": category.sort_order,
            },
        )
    return category


def _modifier_errors(
    data: Any, current_min: int, current_max: int, option_count: int, *, creating: bool
) -> list[FieldError]:
    errors: list[FieldError] = []
    if creating or data.name is not None:
        errors += check_text(data.name, "name", max_length=MAX_NAME)
    lo = data.min_selections if data.min_selections is not None else current_min
    hi = data.max_selections if data.max_selections is not None else current_max
    if lo < 0:
        errors.append(FieldError("minSelections", "minSelections must not be negative"))
    if hi < 1:
        errors.append(FieldError("maxSelections", "maxSelections must be at least 1"))
    elif lo > hi:
        errors.append(FieldError("minSelections", "minSelections must not exceed maxSelections"))
    if data.options is not None:
        if not data.options:
            errors.append(FieldError("options", "options needs at least one option"))
        for i, o in enumerate(data.options):
            errors += check_text(o.name, f"options.{i}.name", max_length=MAX_NAME)
            if o.price_delta is not None:
                errors += _money_errors(
                    o.price_delta, f"options.{i}.priceDelta", allow_negative=True
                )
    if lo > option_count:
        errors.append(FieldError("minSelections", "minSelections exceeds the number of options"))
    return errors


async def _replace_options(
    session: AsyncSession, group: ModifierGroup, options_in: Sequence[Any]
) -> None:
    existing = {
        o.id: o
        for o in (
            await session.scalars(select(ModifierOption).where(ModifierOption.group_id == group.id))
        ).all()
    }
    kept: set[uuid.UUID] = set()
    errors: list[FieldError] = []
    for i, o in enumerate(options_in):
        delta = o.price_delta.amount if o.price_delta is not None else 0
        if o.id is not None:
            oid = parse_uuid(o.id)
            row = existing.get(oid) if oid else None
            if row is None:
                errors.append(
                    FieldError(f"options.{i}.id", f"options.{i}.id is not an option of this group")
                )
                continue
            row.name, row.price_delta_amount, row.position = o.name.strip(), delta, i
            kept.add(row.id)
        else:
            row = ModifierOption(
                id=uuid.uuid4(),
                org_id=group.org_id,
                group_id=group.id,
                name=o.name.strip(),
                price_delta_amount=delta,
                position=i,
            )
            session.add(row)
            kept.add(row.id)
    if errors:
        raise ValidationFailed(errors)
    for oid, row in existing.items():
        if oid not in kept:
            await session.delete(row)


async def create_modifier_group(db: Database, org_id: uuid.UUID, data: Any) -> ModifierGroup:
    errors = _modifier_errors(data, 0, 1, len(data.options), creating=True)
    if errors:
        raise ValidationFailed(errors)
    async with db.write() as session:
        group = ModifierGroup(
            id=uuid.uuid4(),
            org_id=org_id,
            name=data.name.strip(),
            min_selections=data.min_selections,
            max_selections=data.max_selections,
            version=1,
        )
        session.add(group)
        await session.flush()
        await _replace_options(session, group, data.options)
        record_event(
            session, org_id, "modifier_group.created", {"id": str(group.id), "name": group.name}
        )
    return group


async def update_modifier_group(
    db: Database, org_id: uuid.UUID, group: ModifierGroup, data: Any, expected_version: int | None
) -> ModifierGroup:
    async with db.write() as session:
        row = await session.get(ModifierGroup, group.id, with_for_update=True)
        assert row is not None
        check_version(row.version, expected_version)
        count = (
            len(data.options)
            if data.options is not None
            else int(
                await session.scalar(
                    select(func.count())
                    .select_from(ModifierOption)
                    .where(ModifierOption.group_id == row.id)
                )
                or 0
            )
        )
        errors = _modifier_errors(
            data, row.min_selections, row.max_selections, count, creating=False
        )
        if errors:
            raise ValidationFailed(errors)
        if data.name is not None:
            row.name = data.name.strip()
        if data.min_selections is not None:
            row.min_selections = data.min_selections
        if data.max_selections is not None:
            row.max_selections = data.max_selections
        # Touch the row before any query autoflushes it, so one update is one new version.
        row.updated_at = utcnow()
        if data.options is not None:
            await _replace_options(session, row, data.options)
        await session.flush()
        record_event(
            session, org_id, "modifier_group.updated", {"id": str(row.id), "name": row.name}
        )
    return row


async def create_price_list(db: Database, org_id: uuid.UUID, data: Any) -> uuid.UUID:
    errors = check_text(data.name, "name", max_length=MAX_NAME)
    if not data.location_ids:
        errors.append(FieldError("locationIds", "locationIds needs at least one location"))
    for i, p in enumerate(data.prices):
        errors += _money_errors(p.price, f"prices.{i}.price")
    async with db.write() as session:
        loc_errors, locations = await check_references(
            session,
            org_id,
            Location,
            [(f"locationIds.{i}", v) for i, v in enumerate(data.location_ids)],
        )
        prod_errors, products = await check_references(
            session,
            org_id,
            Product,
            [(f"prices.{i}.productId", p.product_id) for i, p in enumerate(data.prices)],
        )
        errors += loc_errors + prod_errors
        variant_ids = [parse_uuid(p.variant_id) if p.variant_id else None for p in data.prices]
        wanted = {v for v in variant_ids if v}
        variant_products: dict[uuid.UUID, uuid.UUID] = {}
        if wanted:
            rows = await session.execute(
                select(Variant.id, Variant.product_id).where(
                    Variant.org_id == org_id, Variant.id.in_(wanted)
                )
            )
            variant_products = {r.id: r.product_id for r in rows}
        seen: set[tuple[Any, Any]] = set()
        for i, (p, vid) in enumerate(zip(data.prices, variant_ids, strict=True)):
            if p.variant_id is not None and (
                vid is None or variant_products.get(vid) != products[i]
            ):
                errors.append(
                    FieldError(
                        f"prices.{i}.variantId",
                        f"prices.{i}.variantId is not a variant of that product",
                    )
                )
            if (products[i], vid) in seen:
                errors.append(
                    FieldError(f"prices.{i}", f"prices.{i} repeats a product and variant")
                )
            seen.add((products[i], vid))
        if errors:
            raise ValidationFailed(errors)
        price_list = PriceList(id=uuid.uuid4(), org_id=org_id, name=data.name.strip(), version=1)
        session.add(price_list)
        await session.flush()
        for loc in dict.fromkeys(locations):
            session.add(PriceListLocation(price_list_id=price_list.id, location_id=loc))
        for i, (p, vid) in enumerate(zip(data.prices, variant_ids, strict=True)):
            session.add(
                PriceListPrice(
                    price_list_id=price_list.id,
                    product_id=products[i],
                    variant_id=vid,
                    price_amount=p.price.amount,
                    position=i,
                )
            )
        record_event(
            session,
            org_id,
            "price_list.created",
            {"id": str(price_list.id), "name": price_list.name},
        )
    return price_list.id

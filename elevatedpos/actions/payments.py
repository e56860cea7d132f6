"""Payments and refunds: every one locks its order first, so money moves one step at a time.

Locking the order row (then its payments) in every money write serializes concurrent
payments, captures, voids and refunds of one order on every backend: none can take more
than the balance, capture twice or refund what was not captured.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import case, select
from sqlalchemy.ext.asyncio import AsyncSession

from elevatedpos.actions import loyalty
from elevatedpos.actions.orders import (
    _order_lines,
    _put_back,
    history_entry,
    money,
    order_payload,
)
from elevatedpos.db.engine import Database
from elevatedpos.db.models import Order, OrderLine, Payment, PaymentMethod, Refund
from elevatedpos.db.scoping import parse_uuid, require_in_org
from elevatedpos.db.types import utcnow
from elevatedpos.errors import Conflict, FieldError, NotFound, ValidationFailed
from elevatedpos.events.outbox import record_event
from elevatedpos.processors import DEFAULT_METHODS, MethodConfig, processor
from elevatedpos.rules import refunds as refund_rules
from elevatedpos.rules.discounts import spread_amount
from elevatedpos.rules.money import DEFAULT_CURRENCY, MAX_AMOUNT, check_currency
from elevatedpos.rules.orders import REFUNDABLE_STATUSES, balance, kept
from elevatedpos.schema.scalars import format_datetime

MAX_REASON = 500


async def payment_methods(session: AsyncSession, org_id: uuid.UUID) -> list[MethodConfig]:
    """The org's configured tenders, or the defaults (cash and the simulated card)."""
    rows = (
        await session.scalars(
            select(PaymentMethod).where(PaymentMethod.org_id == org_id).order_by(PaymentMethod.id)
        )
    ).all()
    if not rows:
        return list(DEFAULT_METHODS)
    return [MethodConfig(r.id, r.name, r.type, r.processor, r.enabled) for r in rows]


def payment_payload(payment: Payment) -> dict[str, Any]:
    """The REST shape of a payment, as events carry it."""
    return {
        "id": str(payment.id),
        "orderId": str(payment.order_id),
        "amount": money(payment.amount, payment.currency),
        "method": payment.method,
        "status": payment.status,
        "capturedAmount": money(payment.captured_amount, payment.currency),
        "refundedAmount": money(payment.refunded_amount, payment.currency),
        "failureReason": payment.failure_reason,
        "createdAt": format_datetime(payment.created_at),
        "capturedAt": format_datetime(payment.captured_at) if payment.captured_at else None,
    }


def _everything_left(lines: list[Any], amount: int) -> list[refund_rules.LineRefund]:
    """Every unrefunded unit, with `amount` spread over the lines in proportion to what each
    has left (earlier refunds by amount alone make the money less than the lines' worth)."""
    rest = [li for li in lines if li.quantity > li.refunded_quantity]
    worth = [
        refund_rules.line_refund_amount(
            li.total, li.quantity, li.refunded_quantity, li.quantity - li.refunded_quantity
        )
        for li in rest
    ]
    shares = spread_amount(amount, worth, [str(li.id) for li in rest])
    return [
        refund_rules.LineRefund(li.id, li.quantity - li.refunded_quantity, share)
        for li, share in zip(rest, shares, strict=True)
    ]


def _amount_errors(money: Any, field: str) -> list[FieldError]:
    errors = check_currency(money.currency, DEFAULT_CURRENCY, f"{field}.currency")
    if not 1 <= money.amount <= MAX_AMOUNT:
        errors.append(FieldError(f"{field}.amount", f"{field}.amount must be positive"))
    return errors


async def _lock_order(
    session: AsyncSession, org_id: uuid.UUID, order_id: Any, *, field: str | None = None
) -> Order:
    """The order, locked; 422 on `field` (a body reference) or 404 (a path) when missing."""
    try:
        return await require_in_org(session, Order, order_id, org_id, "order", lock=True)
    except NotFound:
        if field is None:
            raise
        raise ValidationFailed(
            [FieldError(field, f"{field} does not name an existing order")]
        ) from None


async def create_payment(
    db: Database, org_id: uuid.UUID, user_id: uuid.UUID | None, data: Any
) -> Payment:
    """Take (or, with capture false, authorize) a payment toward an open order's balance."""
    errors = _amount_errors(data.amount, "amount")
    method_id = data.method.value if hasattr(data.method, "value") else str(data.method)
    capture = data.capture is not False
    if errors:
        raise ValidationFailed(errors)
    async with db.write() as session:
        order = await _lock_order(session, org_id, data.order_id, field="orderId")
        methods = {m.id: m for m in await payment_methods(session, org_id)}
        method = methods.get(method_id)
        if method is None or not method.enabled:
            raise ValidationFailed([FieldError("method", f"method {method_id} is not enabled")])
        if method.type == "cash" and not capture:
            raise ValidationFailed(
                [FieldError("capture", "cash is taken at once: capture must be true")]
            )
        if order.status != "open":
            raise Conflict(f"The order is {order.status}; payments are taken on open orders")
        due = balance(
            order.total, order.amount_paid, order.amount_refunded, order.amount_authorized
        )
        amount = data.amount.amount
        if amount > due:
            raise ValidationFailed(
                [FieldError("amount", f"amount exceeds the order's balance of {due}")]
            )
        proc = processor(method.processor)
        outcome = await proc.authorize(amount, DEFAULT_CURRENCY)
        now = utcnow()
        payment = Payment(
            id=uuid.uuid4(),
            org_id=org_id,
            order_id=order.id,
            amount=amount,
            currency=DEFAULT_CURRENCY,
            method=method.type,
            processor=method.processor,
            processor_ref=outcome.reference,
            status="authorized" if outcome.approved else "failed",
            failure_reason=outcome.reason,
            captured_amount=0,
            refunded_amount=0,
            user_id=user_id,
            created_at=now,
        )
        session.add(payment)
        if outcome.approved:
            if capture:
                await _capture(session, order, payment, amount, now)
            else:
                order.amount_authorized += amount
                order.updated_at = now
        await session.flush()
    return payment


async def _capture(
    session: AsyncSession, order: Order, payment: Payment, amount: int, now: Any
) -> None:
    outcome = await processor(payment.processor).capture(payment.processor_ref or "", amount)
    if not outcome.approved:
        raise Conflict(f"The processor refused the capture: {outcome.reason or 'declined'}")
    payment.status = "captured"
    payment.captured_amount = amount
    payment.captured_at = now
    order.amount_paid += amount
    order.updated_at = now
    await session.flush()
    record_event(session, order.org_id, "payment.captured", payment_payload(payment))


async def _lock_payment(
    session: AsyncSession, org_id: uuid.UUID, raw_id: Any
) -> tuple[Order, Payment]:
    """The payment and its order, locked order first (the order every money write takes)."""
    pid = parse_uuid(raw_id)
    order_id = (
        await session.scalar(
            select(Payment.order_id).where(Payment.org_id == org_id, Payment.id == pid)
        )
        if pid
        else None
    )
    if order_id is None:
        raise NotFound("payment not found")
    order = await _lock_order(session, org_id, order_id)
    payment = await session.scalar(select(Payment).where(Payment.id == pid).with_for_update())
    assert payment is not None
    return order, payment


async def capture_payment(db: Database, org_id: uuid.UUID, raw_id: Any, data: Any) -> Payment:
    """Capture an authorization, fully or (with `amount`) partly; 409 unless authorized."""
    amount_in = getattr(data, "amount", None) if data is not None else None
    if amount_in is not None:
        errors = _amount_errors(amount_in, "amount")
        if errors:
            raise ValidationFailed(errors)
    async with db.write() as session:
        order, payment = await _lock_payment(session, org_id, raw_id)
        if payment.status != "authorized":
            raise Conflict(f"The payment is {payment.status}; only an authorization is captured")
        amount = payment.amount if amount_in is None else amount_in.amount
        if amount > payment.amount:
            raise ValidationFailed(
                [FieldError("amount", f"amount exceeds the authorized {payment.amount}")]
            )
        order.amount_authorized -= payment.amount
        await _capture(session, order, payment, amount, utcnow())
    return payment


async def void_payment(db: Database, org_id: uuid.UUID, raw_id: Any) -> Payment:
    """Release an authorization; 409 for a captured, failed or already voided payment."""
    async with db.write() as session:
        order, payment = await _lock_payment(session, org_id, raw_id)
        if payment.status != "authorized":
            raise Conflict(f"The payment is {payment.status}; only an authorization is voided")
        await processor(payment.processor).void(payment.processor_ref or "")
        now = utcnow()
        payment.status = "voided"
        payment.voided_at = now
        order.amount_authorized -= payment.amount
        order.updated_at = now
        await session.flush()
    return payment


async def refund_order(
    db: Database, org_id: uuid.UUID, user_id: uuid.UUID | None, raw_id: Any, data: Any
) -> tuple[Refund, Order]:
    """Give money back (by amount, by lines, or all that is left), newest payment first."""
    errors: list[FieldError] = []
    reason = (data.reason or "").strip()
    if not reason:
        errors.append(FieldError("reason", "reason is required"))
    elif len(reason) > MAX_REASON:
        errors.append(FieldError("reason", f"reason must be at most {MAX_REASON} characters"))
    if data.amount is not None:
        errors += _amount_errors(data.amount, "amount")
    line_requests = list(data.line_items) if data.line_items is not None else None
    if line_requests is not None and not line_requests:
        errors.append(
            FieldError("lineItems", "lineItems needs at least one line (or leave it out)")
        )
    for i, req in enumerate(line_requests or ()):
        if parse_uuid(req.line_item_id) is None:
            field = f"lineItems.{i}.lineItemId"
            errors.append(FieldError(field, f"{field} is not a line of this order"))
    if errors:
        raise ValidationFailed(errors)
    async with db.write() as session:
        order = await _lock_order(session, org_id, raw_id)
        if order.status not in REFUNDABLE_STATUSES:
            raise Conflict(f"The order is {order.status}; it has nothing to refund")
        payments = (
            await session.scalars(
                select(Payment)
                .where(Payment.order_id == order.id, Payment.status == "captured")
                .order_by(Payment.id)
                .with_for_update()
            )
        ).all()
        lines = await _order_lines(session, order.id)
        refundable = kept(order.amount_paid, order.amount_refunded)
        if order.status == "open" and (line_requests or data.restock):
            raise ValidationFailed(
                [
                    FieldError(
                        "lineItems" if line_requests else "restock",
                        "an open order's refund gives money back only; void the order to "
                        "return its stock",
                    )
                ]
            )
        line_refunds: list[refund_rules.LineRefund] = []
        if line_requests:
            line_refunds = list(
                refund_rules.refund_lines(
                    [
                        refund_rules.RefundableLine(
                            li.id, li.quantity, li.total, li.refunded_quantity
                        )
                        for li in lines
                    ],
                    [
                        refund_rules.LineRefundRequest(parse_uuid(r.line_item_id), r.quantity)  # type: ignore[arg-type]
                        for r in line_requests
                    ],
                )
            )
            amount = sum(lr.amount for lr in line_refunds)
            if data.amount is not None and data.amount.amount != amount:
                raise ValidationFailed(
                    [
                        FieldError(
                            "amount",
                            f"amount must be {amount}, what the lines cost, or be left out",
                        )
                    ]
                )
        elif data.amount is not None:
            amount = data.amount.amount
            if data.restock:
                raise ValidationFailed(
                    [FieldError("restock", "restock needs lineItems (or a refund of everything)")]
                )
        else:
            amount = refundable
            if order.status != "open":
                line_refunds = _everything_left(lines, amount)
        if amount < 1:
            raise ValidationFailed([FieldError("amount", "the order has nothing left to refund")])
        shares = refund_rules.allocate_refund(
            [
                refund_rules.CapturedPayment(
                    p.id, p.captured_amount, p.refunded_amount, p.captured_at or p.created_at
                )
                for p in payments
            ],
            amount,
        )
        by_id = {p.id: p for p in payments}
        now = utcnow()
        for share in shares:
            payment = by_id[share.payment_id]  # type: ignore[index]
            outcome = await processor(payment.processor).refund(
                payment.processor_ref or "", share.amount
            )
            if not outcome.approved:
                raise Conflict(f"The processor refused the refund: {outcome.reason or 'declined'}")
            payment.refunded_amount += share.amount
        refund = Refund(
            id=uuid.uuid4(),
            org_id=org_id,
            order_id=order.id,
            amount=amount,
            currency=order.currency,
            reason=reason,
            restock=bool(data.restock),
            line_items=[
                {"lineItemId": str(lr.line_item_id), "quantity": lr.quantity, "amount": lr.amount}
                for lr in line_refunds
            ],
            allocations=[{"paymentId": str(s.payment_id), "amount": s.amount} for s in shares],
            user_id=user_id,
            created_at=now,
        )
        session.add(refund)
        if line_refunds:
            by_line = {li.id: li for li in lines}
            t = OrderLine.__table__
            more = {lr.line_item_id: lr.quantity for lr in line_refunds}
            await session.execute(
                t.update()
                .where(t.c.id.in_(list(more)))
                .values(refunded_quantity=t.c.refunded_quantity + case(more, value=t.c.id, else_=0))
            )
            if data.restock:
                await _put_back(
                    session,
                    order,
                    [(by_line[lr.line_item_id], lr.quantity) for lr in line_refunds],  # type: ignore[index]
                    "refund",
                    user_id,
                    reason,
                )
        order.amount_refunded += amount
        order.updated_at = now
        if order.status != "open":
            status = refund_rules.status_after_refund(order.amount_paid, order.amount_refunded)
            if status != order.status:
                order.history = [*order.history, history_entry(status, now, user_id, reason)]
            order.status = status
        await session.flush()
        payload = order_payload(order)
        payload["refund"] = {
            "id": str(refund.id),
            "amount": {"amount": amount, "currency": order.currency},
            "reason": reason,
            "restock": refund.restock,
        }
        record_event(session, org_id, "order.refunded", payload)
        await loyalty.reverse_for_refund(session, order, refund.id, user_id)
    return refund, order

"""Loyalty writes: programs, manual accruals, redemptions, what a completed order earns and
what its refunds take back.

Every change of points is one transaction: the member's balance (changed by one conditional
statement, so concurrent redemptions never take more than the balance), its audit row in
`loyalty_transactions`, and its outbox event.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from elevatedpos.db.engine import Database
from elevatedpos.db.models import (
    Customer,
    LoyaltyMember,
    LoyaltyProgram,
    LoyaltyTransaction,
    Order,
)
from elevatedpos.db.scoping import get_in_org, require_in_org
from elevatedpos.db.types import utcnow
from elevatedpos.errors import Conflict, FieldError, NotFound, ValidationFailed
from elevatedpos.events.outbox import new_event, record_event
from elevatedpos.rules.loyalty import (
    MAX_ACCRUAL,
    MAX_POINTS,
    MAX_POINTS_PER_DOLLAR,
    check_rewards,
    check_tiers,
    order_points,
    points_to_reverse,
    tier_for,
)
from elevatedpos.rules.money import DEFAULT_CURRENCY, check_currency
from elevatedpos.rules.pricing import Reward
from elevatedpos.rules.text import check_text

MAX_NAME = 200
MAX_REASON = 200
ACTIVE = "active"


@dataclass(frozen=True)
class Member:
    """A customer's points in a program, as the API answers them."""

    customer_id: uuid.UUID
    program_id: uuid.UUID
    points_balance: int
    lifetime_points: int
    tier: str | None

    def payload(self) -> dict[str, Any]:
        return {
            "customerId": str(self.customer_id),
            "programId": str(self.program_id),
            "pointsBalance": self.points_balance,
            "lifetimePoints": self.lifetime_points,
            "tier": self.tier,
        }


def member_of(
    program: LoyaltyProgram, customer_id: uuid.UUID, balance: int, lifetime: int
) -> Member:
    return Member(customer_id, program.id, balance, lifetime, tier_for(lifetime, program.tiers))


# --- programs --------------------------------------------------------------------------------


def _program_errors(data: Any) -> list[FieldError]:
    errors = check_text(data.name, "name", max_length=MAX_NAME)
    if not 0 <= data.points_per_dollar <= MAX_POINTS_PER_DOLLAR:
        errors.append(
            FieldError(
                "pointsPerDollar", f"pointsPerDollar must be between 0 and {MAX_POINTS_PER_DOLLAR}"
            )
        )
    errors += check_tiers([(t.name, t.min_points) for t in data.tiers or []])
    rewards = data.rewards or []
    errors += check_rewards([(r.name, r.points_cost, r.discount.amount) for r in rewards])
    for i, r in enumerate(rewards):
        errors += check_currency(r.discount.currency, DEFAULT_CURRENCY, f"rewards.{i}.discount")
    return errors


def program_payload(program: LoyaltyProgram) -> dict[str, Any]:
    return {
        "id": str(program.id),
        "name": program.name,
        "pointsPerDollar": program.points_per_dollar,
        "tiers": program.tiers,
        "rewards": program.rewards,
        "status": program.status,
    }


def _active_taken() -> Conflict:
    return Conflict("Your org already has an active loyalty program; archive it first")


async def create_program(db: Database, org_id: uuid.UUID, data: Any) -> LoyaltyProgram:
    """A program (active unless archived is asked for): 409 when the org has an active one."""
    errors = _program_errors(data)
    if errors:
        raise ValidationFailed(errors)
    status = data.status.value if data.status is not None else ACTIVE
    now = utcnow()
    program = LoyaltyProgram(
        id=uuid.uuid4(),
        org_id=org_id,
        name=data.name.strip(),
        points_per_dollar=data.points_per_dollar,
        tiers=sorted(
            ({"name": t.name.strip(), "minPoints": t.min_points} for t in data.tiers or []),
            key=lambda t: t["minPoints"],
        ),
        rewards=[
            {
                "id": str(uuid.uuid4()),
                "name": r.name.strip(),
                "pointsCost": r.points_cost,
                "discount": {"amount": r.discount.amount, "currency": DEFAULT_CURRENCY},
            }
            for r in data.rewards or []
        ],
        status=status,
        created_at=now,
        updated_at=now,
        version=1,
    )
    try:
        async with db.write() as session:
            if status == ACTIVE and await active_program(session, org_id) is not None:
                raise _active_taken()
            session.add(program)
            await session.flush()
            record_event(session, org_id, "loyalty.program_created", program_payload(program))
    except IntegrityError as exc:  # a concurrent create made the org's active program first
        raise _active_taken() from exc
    return program


async def active_program(session: AsyncSession, org_id: uuid.UUID) -> LoyaltyProgram | None:
    return await session.scalar(
        select(LoyaltyProgram).where(
            LoyaltyProgram.org_id == org_id, LoyaltyProgram.status == ACTIVE
        )
    )


async def _program_for_change(
    session: AsyncSession, org_id: uuid.UUID, raw_program_id: Any
) -> LoyaltyProgram:
    """The program an accrual or redemption names, by default the org's active one."""
    if raw_program_id is None:
        program = await active_program(session, org_id)
        if program is None:
            raise Conflict("Your org has no active loyalty program")
        return program
    program = await get_in_org(session, LoyaltyProgram, raw_program_id, org_id)
    if program is None:
        raise ValidationFailed(
            [FieldError("programId", "programId does not name a loyalty program")]
        )
    if program.status != ACTIVE:
        raise Conflict("That loyalty program is archived: it takes no accruals or redemptions")
    return program


async def _customer_id(session: AsyncSession, org_id: uuid.UUID, raw_customer_id: Any) -> uuid.UUID:
    customer = await get_in_org(session, Customer, raw_customer_id, org_id)
    if customer is None:
        raise ValidationFailed(
            [FieldError("customerId", "customerId does not name an existing customer")]
        )
    return customer.id


# --- points ----------------------------------------------------------------------------------


async def add_points(
    session: AsyncSession,
    program: LoyaltyProgram,
    customer_id: uuid.UUID,
    points: int,
) -> tuple[int, int] | None:
    """Add `points` to the member (made on its first accrual): (balance, lifetime) after,
    or None when the lifetime total would pass the largest balance there is."""
    t = LoyaltyMember.__table__
    now = utcnow()
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(t).values(
        program_id=program.id,
        customer_id=customer_id,
        org_id=program.org_id,
        points_balance=points,
        lifetime_points=points,
        created_at=now,
        updated_at=now,
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["program_id", "customer_id"],
        set_={
            "points_balance": t.c.points_balance + points,
            "lifetime_points": t.c.lifetime_points + points,
            "updated_at": now,
        },
        where=t.c.lifetime_points <= MAX_POINTS - points,
    ).returning(t.c.points_balance, t.c.lifetime_points)
    row = (await session.execute(stmt)).first()
    return None if row is None else (row.points_balance, row.lifetime_points)


def audit(
    session: AsyncSession,
    program: LoyaltyProgram,
    customer_id: uuid.UUID,
    kind: str,
    points: int,
    balance_after: int,
    *,
    reason: str | None = None,
    reward_id: str | None = None,
    order_id: uuid.UUID | None = None,
    user_id: uuid.UUID | None = None,
) -> None:
    session.add(
        LoyaltyTransaction(
            id=uuid.uuid4(),
            org_id=program.org_id,
            program_id=program.id,
            customer_id=customer_id,
            type=kind,
            points=points,
            balance_after=balance_after,
            reason=reason,
            reward_id=reward_id,
            order_id=order_id,
            user_id=user_id,
            created_at=utcnow(),
        )
    )


async def credit(
    session: AsyncSession,
    program: LoyaltyProgram,
    customer_id: uuid.UUID,
    points: int,
    *,
    reason: str,
    order_id: uuid.UUID | None = None,
    user_id: uuid.UUID | None = None,
    caused_by: uuid.UUID | None = None,
) -> Member | None:
    """Accrue points with their audit row and `loyalty.points_accrued` (caused by an
    automation when `caused_by`): the member after, or None when the balance would pass
    the largest there is (nothing written)."""
    after = await add_points(session, program, customer_id, points)
    if after is None:
        return None
    balance, lifetime = after
    audit(
        session, program, customer_id, "accrue", points, balance,
        reason=reason, order_id=order_id, user_id=user_id,
    )  # fmt: skip
    member = member_of(program, customer_id, balance, lifetime)
    event = new_event(
        program.org_id,
        "loyalty.points_accrued",
        {
            **member.payload(),
            "points": points,
            "reason": reason,
            "orderId": str(order_id) if order_id else None,
        },
    )
    event.caused_by = caused_by
    session.add(event)
    return member


async def accrue_points(
    db: Database, org_id: uuid.UUID, user_id: uuid.UUID | None, data: Any
) -> Member:
    """Give a customer points by hand (with a reason); answers the member after."""
    errors: list[FieldError] = []
    if not 1 <= data.points <= MAX_ACCRUAL:
        errors.append(FieldError("points", f"points must be between 1 and {MAX_ACCRUAL}"))
    errors += check_text(data.reason, "reason", max_length=MAX_REASON)
    if errors:
        raise ValidationFailed(errors)
    async with db.write() as session:
        customer_id = await _customer_id(session, org_id, data.customer_id)
        program = await _program_for_change(session, org_id, data.program_id)
        member = await credit(
            session, program, customer_id, data.points, reason=data.reason.strip(), user_id=user_id
        )
        if member is None:
            raise Conflict("The customer's points would pass the largest balance there is")
    return member


def _not_enough(balance: int | None, what: str, cost: int) -> Conflict:
    return Conflict(f"Not enough points: the balance is {balance or 0} and {what} costs {cost}")


def _reward_of(program: Any, raw_reward_id: Any) -> dict[str, Any] | None:
    """The program's reward with this id (any program row: ORM or Core)."""
    return next((r for r in program.rewards if r["id"] == str(raw_reward_id)), None)


async def _spend(
    session: AsyncSession, program: LoyaltyProgram, customer_id: uuid.UUID, cost: int, what: str
) -> Member:
    """Take `cost` points, 409 naming the balance when short. One conditional statement: two
    redemptions at once cannot both see enough points."""
    t = LoyaltyMember.__table__
    mine = (t.c.program_id == program.id) & (t.c.customer_id == customer_id)
    row = (
        await session.execute(
            update(t)
            .where(mine, t.c.points_balance >= cost)
            .values(points_balance=t.c.points_balance - cost, updated_at=utcnow())
            .returning(t.c.points_balance, t.c.lifetime_points)
        )
    ).first()
    if row is None:
        raise _not_enough(await session.scalar(select(t.c.points_balance).where(mine)), what, cost)
    return member_of(program, customer_id, row.points_balance, row.lifetime_points)


async def redeem_points(
    db: Database, org_id: uuid.UUID, user_id: uuid.UUID | None, data: Any
) -> Member:
    """Spend a reward's points: 409 when the balance is short, never below zero."""
    async with db.write() as session:
        customer_id = await _customer_id(session, org_id, data.customer_id)
        program = await _program_for_change(session, org_id, data.program_id)
        reward = _reward_of(program, data.reward_id)
        if reward is None:
            raise ValidationFailed(
                [FieldError("rewardId", "rewardId does not name a reward of the program")]
            )
        member = await _redeem(session, program, customer_id, reward, user_id=user_id)
    return member


async def _redeem(
    session: AsyncSession,
    program: LoyaltyProgram,
    customer_id: uuid.UUID,
    reward: dict[str, Any],
    *,
    user_id: uuid.UUID | None,
    order_id: uuid.UUID | None = None,
) -> Member:
    """Spend a reward's points (`_spend`) with its audit row and `loyalty.points_redeemed`
    (naming the order when an order redeems it)."""
    cost = int(reward["pointsCost"])
    member = await _spend(session, program, customer_id, cost, reward["name"])
    audit(
        session, program, customer_id, "redeem", -cost, member.points_balance,
        reason=reward["name"], reward_id=reward["id"], order_id=order_id, user_id=user_id,
    )  # fmt: skip
    payload = {**member.payload(), "points": -cost, "reward": reward}
    if order_id is not None:
        payload["orderId"] = str(order_id)
    record_event(session, program.org_id, "loyalty.points_redeemed", payload)
    return member


async def reward_for_order(
    session: Any, org_id: uuid.UUID, customer_id: uuid.UUID, raw_reward_id: Any
) -> Reward:
    """The active program's reward an order redeems, checked against the customer's balance
    now (the sale's own conditional update has the last word): 409 without an active
    program or enough points, 422 when the program has no such reward."""
    p, m = LoyaltyProgram.__table__, LoyaltyMember.__table__
    program = (
        await session.execute(select(p).where(p.c.org_id == org_id, p.c.status == ACTIVE))
    ).first()
    if program is None:
        raise Conflict("Your org has no active loyalty program to redeem a reward from")
    reward = _reward_of(program, raw_reward_id)
    if reward is None:
        raise ValidationFailed(
            [FieldError("loyaltyRewardId", "loyaltyRewardId does not name a reward of the program")]
        )
    balance = await session.scalar(
        select(m.c.points_balance).where(
            m.c.program_id == program.id, m.c.customer_id == customer_id
        )
    )
    cost = int(reward["pointsCost"])
    if (balance or 0) < cost:
        raise _not_enough(balance, reward["name"], cost)
    return Reward(program.id, reward["id"], reward["name"], cost, int(reward["discount"]["amount"]))


def reward_payload(reward: Reward, discount: int, currency: str) -> dict[str, Any]:
    """How an order keeps (and answers) the reward redeemed on it."""
    return {
        "programId": str(reward.program_id),
        "id": reward.id,
        "name": reward.name,
        "pointsCost": reward.points_cost,
        "discount": {"amount": discount, "currency": currency},
    }


async def redeem_for_order(
    session: AsyncSession, order: Order, user_id: uuid.UUID | None
) -> Member:
    """Spend the points of the reward an order redeems, in the sale's transaction: one
    conditional update, so two sales cannot both spend the same points (409 for the later)."""
    kept = order.loyalty_reward
    assert kept is not None and order.customer_id is not None
    program = await session.get(LoyaltyProgram, uuid.UUID(kept["programId"]))
    assert program is not None
    return await _redeem(
        session, program, order.customer_id, kept, user_id=user_id, order_id=order.id
    )


async def restore_for_void(
    session: AsyncSession, order: Order, user_id: uuid.UUID | None
) -> Member | None:
    """Give back, in the void's transaction, the points a voided order's reward spent."""
    kept = order.loyalty_reward
    if kept is None or order.customer_id is None:
        return None
    program = await session.get(LoyaltyProgram, uuid.UUID(kept["programId"]))
    if program is None:
        return None
    cost = int(kept["pointsCost"])
    m = LoyaltyMember.__table__
    mine = (m.c.program_id == program.id) & (m.c.customer_id == order.customer_id)
    row = (
        await session.execute(
            update(m)
            .where(mine, m.c.points_balance <= MAX_POINTS - cost)
            .values(points_balance=m.c.points_balance + cost, updated_at=utcnow())
            .returning(m.c.points_balance, m.c.lifetime_points)
        )
    ).first()
    if row is None:
        return None
    audit(
        session, program, order.customer_id, "restore", cost, row.points_balance,
        reason=f"order {order.number} voided", reward_id=kept["id"], order_id=order.id,
        user_id=user_id,
    )  # fmt: skip
    member = member_of(program, order.customer_id, row.points_balance, row.lifetime_points)
    record_event(
        session,
        order.org_id,
        "loyalty.points_restored",
        {**member.payload(), "points": cost, "reward": kept, "orderId": str(order.id)},
    )
    return member


async def accrue_for_order(
    session: AsyncSession, order: Order, user_id: uuid.UUID | None
) -> Member | None:
    """What a completed order earns its customer, in the completion's transaction: nothing
    without a customer, an active program or a whole dollar."""
    if order.customer_id is None:
        return None
    program = await active_program(session, order.org_id)
    if program is None:
        return None
    points = order_points(order.total, program.points_per_dollar)
    if points <= 0:
        return None
    # None at the largest balance there is: the order completes all the same.
    return await credit(
        session, program, order.customer_id, points,
        reason=f"order {order.number}", order_id=order.id, user_id=user_id,
    )  # fmt: skip


async def reverse_for_refund(
    session: AsyncSession, order: Order, refund_id: uuid.UUID, user_id: uuid.UUID | None
) -> Member | None:
    """Take back, in the refund's transaction, the points the refunded money earned (in the
    program the order earned them in): None when it earned none or keeps what it earned.

    The balance never goes below zero: points the customer already spent are not taken
    twice, but the lifetime points (and so the tier) lose all of them.
    """
    t = LoyaltyTransaction.__table__
    rows = (
        await session.execute(
            select(t.c.program_id, t.c.customer_id, t.c.type, t.c.points).where(
                t.c.order_id == order.id, t.c.type.in_(("accrue", "reverse"))
            )
        )
    ).all()
    earned = next((r for r in rows if r.type == "accrue"), None)
    if earned is None:
        return None
    taken = -sum(r.points for r in rows if r.type == "reverse")
    # What the order keeps: money refunded while it was open (a changed tender) and paid
    # again is not a refund of what was sold.
    kept = order.amount_paid - order.amount_refunded
    points = points_to_reverse(earned.points, order.total, kept, taken)
    if points == 0:
        return None
    m = LoyaltyMember.__table__
    mine = (m.c.program_id == earned.program_id) & (m.c.customer_id == earned.customer_id)
    row = (
        await session.execute(
            update(m)
            .where(mine)
            .values(
                points_balance=case(
                    (m.c.points_balance >= points, m.c.points_balance - points), else_=0
                ),
                lifetime_points=case(
                    (m.c.lifetime_points >= points, m.c.lifetime_points - points), else_=0
                ),
                updated_at=utcnow(),
            )
            .returning(m.c.points_balance, m.c.lifetime_points)
        )
    ).first()
    program = await session.get(LoyaltyProgram, earned.program_id)
    if row is None or program is None:
        return None
    audit(
        session, program, earned.customer_id, "reverse", -points, row.points_balance,
        reason=f"refund of order {order.number}", order_id=order.id, user_id=user_id,
    )  # fmt: skip
    member = member_of(program, earned.customer_id, row.points_balance, row.lifetime_points)
    record_event(
        session,
        order.org_id,
        "loyalty.points_reversed",
        {
            **member.payload(),
            "points": -points,
            "orderId": str(order.id),
            "refundId": str(refund_id),
        },
    )
    return member


async def loyalty_member(
    db: Database, org_id: uuid.UUID, raw_customer_id: Any, raw_program_id: Any = None
) -> Member:
    """A customer's points in a program (the active one by default); zero before any."""
    async with db.read() as session:
        customer = await require_in_org(session, Customer, raw_customer_id, org_id, "customer")
        if raw_program_id is None:
            program = await active_program(session, org_id)
            if program is None:
                raise NotFound("Your org has no active loyalty program")
        else:
            program = await require_in_org(
                session, LoyaltyProgram, raw_program_id, org_id, "loyalty program"
            )
        t = LoyaltyMember.__table__
        row = (
            await session.execute(
                select(t.c.points_balance, t.c.lifetime_points).where(
                    t.c.program_id == program.id, t.c.customer_id == customer.id
                )
            )
        ).first()
    if row is None:
        return member_of(program, customer.id, 0, 0)
    return member_of(program, customer.id, row.points_balance, row.lifetime_points)

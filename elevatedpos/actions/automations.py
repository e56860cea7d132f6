"""Automations: rules kept per org, and running them on an event.

A rule runs for every event of its trigger whose envelope meets all its conditions. Real
events reach it through the outbox relay (`elevatedpos/events/relay.py`), which runs the
rules and marks the event published in one transaction, so each action happens exactly
once; `POST /automations/trigger` runs them by hand on an envelope made from its payload.
Each action runs in a savepoint: one that fails is undone alone and reported `failed`.
Events an action writes (points accrued, a customer updated) carry the automation as their
cause, and automations do not run on them: no rule can set off another, or itself.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import UNSET

from elevatedpos.actions import loyalty
from elevatedpos.actions.customers import MAX_TAGS, customer_payload
from elevatedpos.actions.integrations import queue
from elevatedpos.db.engine import Database
from elevatedpos.db.models import Automation, AutomationRun, Customer, Webhook
from elevatedpos.db.scoping import get_in_org, require_in_org
from elevatedpos.db.types import utcnow
from elevatedpos.errors import FieldError, ValidationFailed
from elevatedpos.events.outbox import new_event
from elevatedpos.rules.automations import (
    check_actions,
    check_conditions,
    check_trigger,
    customer_of,
    matches,
)
from elevatedpos.rules.text import check_text
from elevatedpos.rules.versioning import check_version
from elevatedpos.schema.scalars import format_datetime

log = logging.getLogger("elevatedpos.automations")
MAX_NAME = 200
MAX_PAYLOAD_KEYS = 200


@dataclass
class ActionOutcome:
    type: str
    status: str  # ok | skipped | failed
    detail: str | None = None


@dataclass
class RuleRun:
    automation_id: uuid.UUID
    matched: bool
    actions: list[ActionOutcome] = field(default_factory=list)


# --- the rules ---------------------------------------------------------------------------


def _conditions(raw: Any) -> list[dict[str, Any]]:
    return [{"field": c.field, "op": c.op.value, "value": c.value} for c in raw or []]


def _actions(raw: Any) -> list[dict[str, Any]]:
    return [{"type": a.type.value, "params": a.params or {}} for a in raw or []]


def automation_payload(row: Automation) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "name": row.name,
        "trigger": row.trigger,
        "conditions": row.conditions,
        "actions": row.actions,
        "enabled": row.enabled,
        "createdAt": format_datetime(row.created_at),
        "updatedAt": format_datetime(row.updated_at),
        "version": row.version,
    }


def _normalized_actions(actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for a in actions:
        params = dict(a["params"])
        if a["type"] == "tag_customer" and isinstance(params.get("tag"), str):
            params["tag"] = params["tag"].strip()
        out.append({"type": a["type"], "params": params})
    return out


async def _webhook_errors(
    session: AsyncSession,
    org_id: uuid.UUID,
    actions: list[dict[str, Any]],
    found: list[FieldError],
) -> list[FieldError]:
    """`send_webhook` actions must name a webhook of the org (fields `found` already names
    an error for are not named twice)."""
    named = {e.field for e in found}
    errors = []
    for i, a in enumerate(actions):
        params = a.get("params")
        field_name = f"actions.{i}.params.webhookId"
        if a["type"] != "send_webhook" or not isinstance(params, dict) or field_name in named:
            continue
        if await get_in_org(session, Webhook, params.get("webhookId"), org_id) is None:
            errors.append(FieldError(field_name, f"{field_name} names no webhook of your org"))
    return errors


async def create_automation(db: Database, org_id: uuid.UUID, data: Any) -> Automation:
    conditions, actions = _conditions(data.conditions), _actions(data.actions)
    errors = check_text(data.name, "name", max_length=MAX_NAME) + check_trigger(data.trigger)
    errors += check_conditions(conditions) + check_actions(actions)
    async with db.read() as session:
        errors += await _webhook_errors(session, org_id, actions, errors)
    if errors:
        raise ValidationFailed(errors)
    now = utcnow()
    row = Automation(
        id=uuid.uuid4(),
        org_id=org_id,
        name=data.name.strip(),
        trigger=data.trigger,
        conditions=conditions,
        actions=_normalized_actions(actions),
        enabled=True if data.enabled is None else data.enabled,
        created_at=now,
        updated_at=now,
        version=1,
    )
    async with db.write() as session:
        session.add(row)
        await session.flush()
    return row


async def update_automation(
    db: Database, org_id: uuid.UUID, raw_id: Any, data: Any, expected_version: int | None
) -> Automation:
    """Change the fields sent (`conditions` and `actions` as wholes); 412 on a stale version."""
    changes: dict[str, Any] = {}
    errors: list[FieldError] = []
    if data.name is not None:
        errors += check_text(data.name, "name", max_length=MAX_NAME)
        changes["name"] = data.name.strip()
    if data.trigger is not None:
        errors += check_trigger(data.trigger)
        changes["trigger"] = data.trigger
    if data.conditions is not None:
        changes["conditions"] = _conditions(data.conditions)
        errors += check_conditions(changes["conditions"])
    if data.actions is not None:
        actions = _actions(data.actions)
        errors += check_actions(actions)
        changes["actions"] = _normalized_actions(actions) if not errors else actions
    if data.enabled is not None:
        changes["enabled"] = data.enabled
    async with db.write() as session:
        row = await require_in_org(session, Automation, raw_id, org_id, "automation", lock=True)
        if "actions" in changes:
            errors += await _webhook_errors(session, org_id, changes["actions"], errors)
        if errors:
            raise ValidationFailed(errors)
        check_version(row.version, expected_version)
        changed = {k: v for k, v in changes.items() if getattr(row, k) != v}
        if changed:
            for attr, value in changed.items():
                setattr(row, attr, value)
            row.updated_at = utcnow()
            await session.flush()
    return row


async def delete_automation(db: Database, org_id: uuid.UUID, raw_id: Any) -> Automation:
    """Delete a rule (its runs with it); answers it as it was."""
    async with db.write() as session:
        row = await require_in_org(session, Automation, raw_id, org_id, "automation", lock=True)
        await session.delete(row)
    return row


# --- running them ------------------------------------------------------------------------


async def _customer(
    session: AsyncSession, rule: Automation, envelope: dict[str, Any], kind: str
) -> Customer | ActionOutcome:
    """The event's customer, or the outcome of an action that has none: `skipped` when the
    event names none, `failed` when it names one the org does not have."""
    raw = customer_of(envelope)
    if raw is None:
        return ActionOutcome(kind, "skipped", "the event names no customer")
    customer = await get_in_org(session, Customer, raw, rule.org_id)
    if customer is None:
        return ActionOutcome(kind, "failed", f"no customer {raw} in your org")
    return customer


async def _accrue(
    session: AsyncSession, rule: Automation, envelope: dict[str, Any], params: dict[str, Any]
) -> ActionOutcome:
    customer = await _customer(session, rule, envelope, "accrue_points")
    if isinstance(customer, ActionOutcome):
        return customer
    program = await loyalty.active_program(session, rule.org_id)
    if program is None:
        return ActionOutcome("accrue_points", "skipped", "your org has no active loyalty program")
    member = await loyalty.credit(
        session, program, customer.id, int(params["points"]),
        reason=f"automation {rule.name}"[:200], caused_by=rule.id,
    )  # fmt: skip
    if member is None:
        return ActionOutcome("accrue_points", "failed", "the balance would pass its largest")
    return ActionOutcome("accrue_points", "ok")


async def _tag(
    session: AsyncSession, rule: Automation, envelope: dict[str, Any], params: dict[str, Any]
) -> ActionOutcome:
    customer = await _customer(session, rule, envelope, "tag_customer")
    if isinstance(customer, ActionOutcome):
        return customer
    tag = str(params["tag"])
    if tag.lower() in {t.lower() for t in customer.tags}:
        return ActionOutcome("tag_customer", "ok", "already tagged")
    if len(customer.tags) >= MAX_TAGS:
        return ActionOutcome("tag_customer", "failed", f"the customer has {MAX_TAGS} tags already")
    customer.tags = [*customer.tags, tag]
    customer.updated_at = utcnow()
    await session.flush()
    event = new_event(rule.org_id, "customer.updated", customer_payload(customer))
    event.caused_by = rule.id
    session.add(event)
    return ActionOutcome("tag_customer", "ok")


async def _send(
    session: AsyncSession, rule: Automation, envelope: dict[str, Any], params: dict[str, Any]
) -> ActionOutcome:
    hook = await get_in_org(session, Webhook, params.get("webhookId"), rule.org_id)
    if hook is None:
        return ActionOutcome("send_webhook", "failed", "the webhook no longer exists")
    if not hook.active:
        return ActionOutcome("send_webhook", "skipped", "the webhook is inactive")
    queue(session, hook, uuid.UUID(str(envelope["id"])), envelope)
    return ActionOutcome("send_webhook", "ok", "queued")


async def _act(
    session: AsyncSession, rule: Automation, envelope: dict[str, Any], action: dict[str, Any]
) -> ActionOutcome:
    kind, params = action["type"], action.get("params") or {}
    try:
        async with session.begin_nested():
            if kind == "accrue_points":
                return await _accrue(session, rule, envelope, params)
            if kind == "tag_customer":
                return await _tag(session, rule, envelope, params)
            return await _send(session, rule, envelope, params)
    except Exception as exc:
        log.exception("automation %s action %s failed", rule.id, kind)
        return ActionOutcome(kind, "failed", type(exc).__name__)


async def enabled_rules(
    session: AsyncSession, org_ids: set[uuid.UUID], triggers: set[str]
) -> dict[tuple[uuid.UUID, str], list[Automation]]:
    """The enabled rules of these orgs for these triggers, by (org, trigger): one query."""
    rules = (
        await session.scalars(
            select(Automation)
            .where(
                Automation.org_id.in_(org_ids),
                Automation.trigger.in_(triggers),
                Automation.enabled.is_(True),
            )
            .order_by(Automation.created_at, Automation.id)
        )
    ).all()
    by_key: dict[tuple[uuid.UUID, str], list[Automation]] = {}
    for rule in rules:
        by_key.setdefault((rule.org_id, rule.trigger), []).append(rule)
    return by_key


async def run_rules(
    session: AsyncSession,
    org_id: uuid.UUID,
    envelope: dict[str, Any],
    event_id: uuid.UUID,
    *,
    manual: bool = False,
    rules: list[Automation] | None = None,
) -> list[RuleRun]:
    """Run the org's enabled rules for this event's type (`rules`, when the caller has them
    already), each run recorded in automation_runs."""
    if rules is None:
        found = await enabled_rules(session, {org_id}, {envelope["type"]})
        rules = found.get((org_id, envelope["type"]), [])
    runs: list[RuleRun] = []
    for rule in rules:
        if matches(envelope, rule.conditions):
            run = RuleRun(
                rule.id, True, [await _act(session, rule, envelope, a) for a in rule.actions]
            )
        else:
            skipped = [
                ActionOutcome(a["type"], "skipped", "conditions not met") for a in rule.actions
            ]
            run = RuleRun(rule.id, False, skipped)
        session.add(
            AutomationRun(
                id=uuid.uuid4(),
                org_id=org_id,
                automation_id=rule.id,
                event_id=event_id,
                event_type=envelope["type"],
                manual=manual,
                matched=run.matched,
                results=[
                    {"type": o.type, "status": o.status, "detail": o.detail} for o in run.actions
                ],
                created_at=utcnow(),
            )
        )
        runs.append(run)
    return runs


async def trigger_automations(db: Database, org_id: uuid.UUID, data: Any) -> list[RuleRun]:
    """Fire the enabled rules of `event` by hand: `payload` becomes the envelope's `data`."""
    errors = check_trigger(data.event, "event")
    payload = data.payload if data.payload is not None and data.payload is not UNSET else {}
    if not isinstance(payload, dict):
        errors.append(FieldError("payload", "payload must be an object"))
    if errors:
        raise ValidationFailed(errors)
    event_id = uuid.uuid4()
    envelope = {
        "id": str(event_id),
        "type": data.event,
        "orgId": str(org_id),
        "createdAt": format_datetime(utcnow()),
        "data": payload,
    }
    async with db.write() as session:
        return await run_rules(session, org_id, envelope, event_id, manual=True)

"""Automation rules as pure functions: which events they may name, what their conditions
and actions may say, and whether an event envelope meets the conditions."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from elevatedpos.errors import FieldError

_UUID = re.compile(r"^[0-9a-fA-F]{8}-?([0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}$")

# Every event the product writes to its outbox: what a rule may be triggered by.
EVENT_TYPES = frozenset(
    {
        "campaign.created",
        "campaign.updated",
        "category.created",
        "customer.created",
        "customer.updated",
        "inventory.low_stock",
        "location.created",
        "location.updated",
        "loyalty.points_accrued",
        "loyalty.points_redeemed",
        "loyalty.points_restored",
        "loyalty.points_reversed",
        "loyalty.program_created",
        "modifier_group.created",
        "modifier_group.updated",
        "order.completed",
        "order.created",
        "order.refunded",
        "order.voided",
        "payment.captured",
        "price_list.created",
        "product.archived",
        "product.created",
        "product.updated",
    }
)
OPS = ("eq", "ne", "gt", "gte", "lt", "lte", "in", "contains")
ACTION_TYPES = ("accrue_points", "tag_customer", "send_webhook")
MAX_CONDITIONS = 20
MAX_ACTIONS = 10
MAX_PATH = 200
MAX_TAG = 50
MAX_POINTS = 1_000_000
_MISSING = object()


def resolve(envelope: Any, path: str) -> Any:
    """The value at a dotted path (`data.total.amount`, `data.lineItems.0.sku`), or _MISSING."""
    value = envelope
    for part in path.split("."):
        if isinstance(value, dict):
            if part not in value:
                return _MISSING
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _MISSING
    return value


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _same(a: Any, b: Any) -> bool:
    """JSON equality: 2 equals 2.0, but true is not 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return bool(a == b)


def _ordered(a: Any, b: Any) -> bool:
    return (_number(a) and _number(b)) or (isinstance(a, str) and isinstance(b, str))


def holds(envelope: Any, condition: dict[str, Any]) -> bool:
    """Whether one `{field, op, value}` holds. A field the event does not have holds nothing."""
    actual = resolve(envelope, condition["field"])
    if actual is _MISSING:
        return False
    op, expected = condition["op"], condition["value"]
    if op == "eq":
        return _same(actual, expected)
    if op == "ne":
        return not _same(actual, expected)
    if op in ("gt", "gte", "lt", "lte"):
        if not _ordered(actual, expected):
            return False
        return {
            "gt": actual > expected,
            "gte": actual >= expected,
            "lt": actual < expected,
            "lte": actual <= expected,
        }[op]
    if op == "in":
        return isinstance(expected, list) and any(_same(actual, e) for e in expected)
    if op == "contains":
        if isinstance(actual, list):
            return any(_same(a, expected) for a in actual)
        return isinstance(actual, str) and isinstance(expected, str) and expected in actual
    return False


def matches(envelope: Any, conditions: Sequence[dict[str, Any]]) -> bool:
    """All conditions hold (none: every event of the trigger matches)."""
    return all(holds(envelope, c) for c in conditions)


def check_trigger(trigger: str | None, field: str = "trigger") -> list[FieldError]:
    if trigger not in EVENT_TYPES:
        known = ", ".join(sorted(EVENT_TYPES))
        return [FieldError(field, f"{field} must be one of the events: {known}")]
    return []


def check_conditions(conditions: Sequence[dict[str, Any]]) -> list[FieldError]:
    if len(conditions) > MAX_CONDITIONS:
        return [FieldError("conditions", f"conditions holds at most {MAX_CONDITIONS}")]
    errors: list[FieldError] = []
    for i, c in enumerate(conditions):
        at = f"conditions.{i}"
        path = c.get("field")
        if not isinstance(path, str) or not path or len(path) > MAX_PATH or "" in path.split("."):
            errors.append(FieldError(f"{at}.field", f"{at}.field must be a dotted path"))
        op = c.get("op")
        if op not in OPS:
            errors.append(FieldError(f"{at}.op", f"{at}.op must be one of {', '.join(OPS)}"))
        value = c.get("value")
        if op == "in" and not isinstance(value, list):
            errors.append(FieldError(f"{at}.value", f"{at}.value must be a list for in"))
        if op in ("gt", "gte", "lt", "lte") and not (_number(value) or isinstance(value, str)):
            errors.append(FieldError(f"{at}.value", f"{at}.value must be a number or a string"))
    return errors


def check_actions(actions: Sequence[dict[str, Any]]) -> list[FieldError]:
    """Actions `{type, params}` (that a webhook id names a webhook is the caller's check)."""
    if not actions:
        return [FieldError("actions", "actions needs at least one action")]
    if len(actions) > MAX_ACTIONS:
        return [FieldError("actions", f"actions holds at most {MAX_ACTIONS}")]
    errors: list[FieldError] = []
    for i, a in enumerate(actions):
        at = f"actions.{i}"
        kind, params = a.get("type"), a.get("params") or {}
        if kind not in ACTION_TYPES:
            errors.append(
                FieldError(f"{at}.type", f"{at}.type must be one of {', '.join(ACTION_TYPES)}")
            )
        elif not isinstance(params, dict):
            errors.append(FieldError(f"{at}.params", f"{at}.params must be an object"))
        elif kind == "accrue_points":
            points = params.get("points")
            if not (isinstance(points, int) and not isinstance(points, bool)) or not (
                1 <= points <= MAX_POINTS
            ):
                errors.append(
                    FieldError(
                        f"{at}.params.points",
                        f"{at}.params.points must be a whole number from 1 to {MAX_POINTS}",
                    )
                )
        elif kind == "tag_customer":
            tag = params.get("tag")
            if not isinstance(tag, str) or not tag.strip() or len(tag) > MAX_TAG:
                errors.append(
                    FieldError(
                        f"{at}.params.tag", f"{at}.params.tag must be 1 to {MAX_TAG} characters"
                    )
                )
        elif kind == "send_webhook":
            webhook_id = params.get("webhookId")
            if not isinstance(webhook_id, str) or not _UUID.match(webhook_id):
                errors.append(
                    FieldError(f"{at}.params.webhookId", f"{at}.params.webhookId must be an id")
                )
    return errors


def customer_of(envelope: dict[str, Any]) -> str | None:
    """The customer an event is about: `data.customerId`, or `data.id` of `customer.*`."""
    data = envelope.get("data")
    if not isinstance(data, dict):
        return None
    if str(envelope.get("type", "")).startswith("customer."):
        value = data.get("id")
    else:
        value = data.get("customerId")
    return value if isinstance(value, str) else None

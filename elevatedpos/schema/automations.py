"""Automation types: the rule (trigger, conditions, actions), a run's outcome, the inputs."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry.scalars import JSON

from elevatedpos.schema.node import Node


@strawberry.enum
class ConditionOp(Enum):
    EQ = "eq"
    NE = "ne"
    GT = "gt"
    GTE = "gte"
    LT = "lt"
    LTE = "lte"
    IN = "in"
    CONTAINS = "contains"


@strawberry.enum
class AutomationActionType(Enum):
    ACCRUE_POINTS = "accrue_points"
    TAG_CUSTOMER = "tag_customer"
    SEND_WEBHOOK = "send_webhook"


@strawberry.enum
class ActionStatus(Enum):
    OK = "ok"
    SKIPPED = "skipped"
    FAILED = "failed"


@strawberry.type
class AutomationCondition:
    field: str = strawberry.field(description="A dotted path into the event envelope")
    op: ConditionOp
    value: JSON | None


@strawberry.type
class AutomationAction:
    type: AutomationActionType
    params: JSON = strawberry.field(
        description="accrue_points {points}, tag_customer {tag}, send_webhook {webhookId}"
    )


@strawberry.type
class Automation(Node):
    name: str
    trigger: str = strawberry.field(description="The event type that runs it (order.completed)")
    conditions: list[AutomationCondition] = strawberry.field(description="All must hold")
    actions: list[AutomationAction]
    enabled: bool
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def from_row(cls, row: Any) -> Automation:
        return cls(
            id=strawberry.ID(str(row.id)),
            name=row.name,
            trigger=row.trigger,
            conditions=[
                AutomationCondition(field=c["field"], op=ConditionOp(c["op"]), value=c["value"])
                for c in row.conditions
            ],
            actions=[
                AutomationAction(type=AutomationActionType(a["type"]), params=a["params"])
                for a in row.actions
            ],
            enabled=row.enabled,
            created_at=row.created_at,
            updated_at=row.updated_at,
            version=row.version,
        )


@strawberry.type
class ActionResult:
    type: AutomationActionType
    status: ActionStatus
    detail: str | None = strawberry.field(description="Why it was skipped or failed")


@strawberry.type(description="One rule's run for one event")
class AutomationRunResult:
    automation_id: strawberry.ID
    matched: bool = strawberry.field(description="Whether the event met every condition")
    actions: list[ActionResult]


@strawberry.input
class AutomationConditionInput:
    field: str
    op: ConditionOp
    value: JSON | None = None


@strawberry.input
class AutomationActionInput:
    type: AutomationActionType
    params: JSON | None = None


@strawberry.input
class CreateAutomationInput:
    name: str
    trigger: str
    conditions: list[AutomationConditionInput] | None = strawberry.field(
        default=None, description="At most 20; none: every event of the trigger"
    )
    actions: list[AutomationActionInput] = strawberry.field(description="1 to 10")
    enabled: bool | None = strawberry.field(default=None, description="Default true")


@strawberry.input
class UpdateAutomationInput:
    name: str | None = None
    trigger: str | None = None
    conditions: list[AutomationConditionInput] | None = strawberry.field(
        default=None, description="Replaces the conditions as a whole"
    )
    actions: list[AutomationActionInput] | None = strawberry.field(
        default=None, description="Replaces the actions as a whole"
    )
    enabled: bool | None = None


@strawberry.input
class TriggerAutomationsInput:
    event: str = strawberry.field(description="An event type, as rules name their trigger")
    payload: JSON | None = strawberry.field(default=None, description="The event's data: an object")

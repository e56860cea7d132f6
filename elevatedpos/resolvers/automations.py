"""Automation queries (list, one) and mutations (create, update, delete, trigger)."""

from __future__ import annotations

import strawberry

from elevatedpos.actions import automations as actions
from elevatedpos.db.models import Automation as AutomationRow
from elevatedpos.db.pagination import keyset_page
from elevatedpos.db.scoping import org_rows, require_in_org
from elevatedpos.schema.automations import (
    ActionResult,
    ActionStatus,
    Automation,
    AutomationActionType,
    AutomationRunResult,
    CreateAutomationInput,
    TriggerAutomationsInput,
    UpdateAutomationInput,
)
from elevatedpos.schema.context import Info
from elevatedpos.schema.pagination import Connection
from elevatedpos.schema.permissions import HasScope

READ = [HasScope("automations:read")]
WRITE = [HasScope("automations:write")]


def _run(run: actions.RuleRun) -> AutomationRunResult:
    return AutomationRunResult(
        automation_id=strawberry.ID(str(run.automation_id)),
        matched=run.matched,
        actions=[
            ActionResult(
                type=AutomationActionType(o.type), status=ActionStatus(o.status), detail=o.detail
            )
            for o in run.actions
        ],
    )


@strawberry.type
class AutomationsQuery:
    @strawberry.field(description="The org's automation rules, by name", permission_classes=READ)
    async def automations(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Automation]:
        ctx = info.context
        t = AutomationRow.__table__
        async with ctx.runtime.db.read() as session:
            page = await keyset_page(
                session,
                org_rows(AutomationRow, ctx.org_id),
                [t.c.name, t.c.id],
                first=first,
                after=after,
            )
        return Connection[Automation].from_page(page, Automation.from_row)

    @strawberry.field(description="One automation rule by id", permission_classes=READ)
    async def automation(self, info: Info, id: strawberry.ID) -> Automation:
        ctx = info.context
        async with ctx.runtime.db.read() as session:
            row = await require_in_org(session, AutomationRow, id, ctx.org_id, "automation")
        return Automation.from_row(row)


@strawberry.type
class AutomationsMutation:
    @strawberry.mutation(description="Create an automation rule", permission_classes=WRITE)
    async def create_automation(self, info: Info, input: CreateAutomationInput) -> Automation:
        ctx = info.context
        return Automation.from_row(
            await actions.create_automation(ctx.runtime.db, ctx.org_id, input)
        )

    @strawberry.mutation(description="Change an automation rule", permission_classes=WRITE)
    async def update_automation(
        self,
        info: Info,
        id: strawberry.ID,
        input: UpdateAutomationInput,
        expected_version: int | None = None,
    ) -> Automation:
        ctx = info.context
        row = await actions.update_automation(
            ctx.runtime.db, ctx.org_id, id, input, expected_version
        )
        return Automation.from_row(row)

    @strawberry.mutation(
        description="Delete an automation rule; answers it as it was", permission_classes=WRITE
    )
    async def delete_automation(self, info: Info, id: strawberry.ID) -> Automation:
        ctx = info.context
        return Automation.from_row(await actions.delete_automation(ctx.runtime.db, ctx.org_id, id))

    @strawberry.mutation(
        description="Fire an event's rules by hand (their actions run); each rule's run",
        permission_classes=WRITE,
    )
    async def trigger_automations(
        self, info: Info, input: TriggerAutomationsInput
    ) -> list[AutomationRunResult]:
        ctx = info.context
        runs = await actions.trigger_automations(ctx.runtime.db, ctx.org_id, input)
        return [_run(r) for r in runs]

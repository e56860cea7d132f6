"""Automations: an org's rules (trigger, conditions, actions) and the record of every run."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from elevatedpos.db.models.base import Base, OrgOwned
from elevatedpos.db.types import UTCDateTime, Uuid, utcnow


class Automation(OrgOwned, Base):
    __tablename__ = "automations"
    __table_args__ = (
        Index("ix_automations_org_id_name", "org_id", "name", "id"),
        Index("ix_automations_org_id_trigger", "org_id", "trigger"),
    )

    name: Mapped[str] = mapped_column(String(200))
    trigger: Mapped[str] = mapped_column(String(80))
    conditions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    actions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    enabled: Mapped[bool] = mapped_column(default=True)


class AutomationRun(Base):
    """One rule run for one event: whether it matched, and each action's outcome."""

    __tablename__ = "automation_runs"
    __table_args__ = (Index("ix_automation_runs_automation_id", "automation_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("orgs.id", ondelete="CASCADE"))
    automation_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("automations.id", ondelete="CASCADE")
    )
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid())
    event_type: Mapped[str] = mapped_column(String(80))
    manual: Mapped[bool] = mapped_column(default=False)
    matched: Mapped[bool] = mapped_column()
    results: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

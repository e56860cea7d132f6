"""Roles, the scopes each one carries, and the principal a request acts as."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property

DOMAINS = (
    "catalog",
    "inventory",
    "orders",
    "payments",
    "customers",
    "loyalty",
    "campaigns",
    "automations",
    "integrations",
    "locations",
    "users",
)
READ_SCOPES = frozenset(f"{d}:read" for d in DOMAINS)
ALL_SCOPES = READ_SCOPES | frozenset(f"{d}:write" for d in DOMAINS)


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    MANAGER = "manager"
    STAFF = "staff"


_STAFF = READ_SCOPES | {"orders:write", "payments:write", "customers:write", "loyalty:write"}
_MANAGER = _STAFF | {"catalog:write", "inventory:write", "campaigns:write", "automations:write"}
_ADMIN = ALL_SCOPES

ROLE_SCOPES: dict[Role, frozenset[str]] = {
    Role.OWNER: frozenset(_ADMIN),
    Role.ADMIN: frozenset(_ADMIN),
    Role.MANAGER: frozenset(_MANAGER),
    Role.STAFF: frozenset(_STAFF),
}


def scopes_for_role(role: str) -> frozenset[str]:
    return ROLE_SCOPES[Role(role)]


@dataclass(frozen=True)
class Principal:
    """Who a request acts as: a user's session, or a partner app with granted scopes."""

    user_id: uuid.UUID
    org_id: uuid.UUID
    scopes: frozenset[str]
    session_id: uuid.UUID | None = None
    role: str | None = None
    client_id: str | None = None
    token_id: str | None = None
    expires_at: int = 0
    extra: dict[str, str] = field(default_factory=dict)

    @cached_property
    def bucket(self) -> str:
        """The rate-limit bucket this principal's requests draw from: its org's."""
        return f"org:{self.org_id}"

    @cached_property
    def app_bucket(self) -> str | None:
        """A partner app's own share of its org's limit (its requests draw from both)."""
        return None if self.client_id is None else f"org:{self.org_id}:app:{self.client_id}"

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

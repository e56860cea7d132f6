"""Scope checks declared on fields: `permission_classes=[HasScope("orders:write")]`."""

from __future__ import annotations

from functools import cache
from typing import Any

from strawberry.permission import BasePermission

from elevatedpos.errors import Forbidden, Unauthorized


class _ScopePermission(BasePermission):
    scope: str = ""

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        principal = info.context.principal
        if principal is None:
            raise Unauthorized()
        return bool(principal.has_scope(self.scope))

    def on_unauthorized(self) -> None:
        raise Forbidden(f"This action needs the `{self.scope}` scope")


@cache
def HasScope(scope: str) -> type[BasePermission]:  # noqa: N802 - reads as a class at the use site
    """A permission class requiring `scope`; one class per scope."""
    return type(f"HasScope_{scope.replace(':', '_')}", (_ScopePermission,), {"scope": scope})


def required_scope(permission_classes: list[type[BasePermission]]) -> str | None:
    """The scope a field's permissions demand (for the OpenAPI document)."""
    for cls in permission_classes:
        if issubclass(cls, _ScopePermission):
            return cls.scope
    return None

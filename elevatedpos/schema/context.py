"""The per-request context every resolver sees as `info.context`."""

from __future__ import annotations

import uuid
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from strawberry.types import Info as StrawberryInfo

from elevatedpos.auth.scopes import Principal
from elevatedpos.errors import Unauthorized
from elevatedpos.runtime import Runtime

L = TypeVar("L")


@dataclass
class Context:
    runtime: Runtime
    principal: Principal | None
    request_id: str | None = None
    client_ip: str = "unknown"
    rate_limit_headers: dict[str, str] | None = None
    # What a websocket client sent with `connection_init` (its token, as browsers cannot set
    # an Authorization header on a websocket).
    connection_params: dict[str, Any] | None = None
    _loaders: dict[Callable[..., Any], Any] = field(default_factory=dict)

    @property
    def auth(self) -> Principal:
        """The principal, or Unauthorized for anonymous callers."""
        if self.principal is None:
            raise Unauthorized()
        return self.principal

    @property
    def org_id(self) -> uuid.UUID:
        return self.auth.org_id

    def loader(self, factory: Callable[[Context], L]) -> L:
        """The request's one instance of a dataloader, made on first use.

        The factory gets a weak proxy of the context: a loader's batch function keeps its
        context, and the context keeps its loaders, so a strong reference would make each
        request's context, loaders and loaded rows a cycle that only the garbage collector
        frees. Loaders live only as long as their request's context, so the proxy is
        always alive when they run.
        """
        existing = self._loaders.get(factory)
        if existing is None:
            existing = self._loaders[factory] = factory(cast(Context, weakref.proxy(self)))
        return existing  # type: ignore[no-any-return]


Info = StrawberryInfo[Context, None]

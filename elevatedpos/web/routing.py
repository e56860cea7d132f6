"""Starlette's router with one dict lookup for paths that have no parameters.

Starlette tries each route's regex in order; with a hundred REST routes a request for one
near the end pays for all the misses before it. A path without parameters that no earlier
route also matches is looked up directly; everything else (parameters, a method the path
does not allow, trailing-slash redirects, 404s) goes through Starlette's own loop, so the
answers are the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.routing import BaseRoute, Route, Router, WebSocketRoute, get_route_path
from starlette.types import Receive, Scope, Send


def static_routes(routes: Sequence[BaseRoute]) -> dict[str, Route]:
    """Routes reachable by exact path: no parameters, and no earlier route matches the path."""
    found: dict[str, Route] = {}
    for i, route in enumerate(routes):
        if not isinstance(route, Route) or route.param_convertors:
            continue
        # Websocket routes never answer HTTP, so they cannot shadow a path.
        earlier = [r for r in routes[:i] if not isinstance(r, WebSocketRoute)]
        if any(not isinstance(r, Route) or r.path_regex.match(route.path) for r in earlier):
            continue
        found.setdefault(route.path, route)
    return found


class StaticFirstRouter(Router):
    def __init__(self, routes: Sequence[BaseRoute], **kwargs: Any) -> None:
        super().__init__(routes=list(routes), **kwargs)
        self._static = static_routes(self.routes)

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            route = self._static.get(get_route_path(scope))
            if route is not None and route.methods and scope["method"] in route.methods:
                if "router" not in scope:
                    scope["router"] = self
                scope["route"] = route
                scope["endpoint"] = route.endpoint
                scope["path_params"] = dict(scope.get("path_params", {}))
                await route.handle(scope, receive, send)
                return
        await super().app(scope, receive, send)

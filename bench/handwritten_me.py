"""The product's app with one more route, `GET /bench/me`: `me` written by hand.

Ratio 3 compares `GET /api/v1/auth/me` with `/healthz`. This route gives the same answer as
`me`, built by hand from the same cached user as a bare Starlette handler would build it,
behind the same middleware (authenticated and charged like any route) and found by the same
dict lookup; only the GraphQL bridge is missing. So `me (by hand)` / `healthz` is what ratio 3
would read if the bridge cost nothing. Only the benchmarks serve it:

    python -m uvicorn handwritten_me:app --factory --app-dir bench   # what run.py starts
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.routing import Route

from elevatedpos.app import serve_app
from elevatedpos.web.responses import EncodedJSONResponse, dumps

PATH = "/bench/me"


def add_handwritten_me(app: Any, runtime: Any) -> None:
    """Add `GET /bench/me` to `app` (a `create_app`/`serve_app` app of `runtime`)."""

    class ByHand:  # a plain ASGI app, as the REST paths are
        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            principal = scope["state"]["principal"]
            user = runtime.cached_user(principal.user_id, principal.org_id)
            if user is None:
                user = await runtime.user(principal.user_id, principal.org_id)
            body = {
                "id": str(user.id),
                "email": user.email,
                "orgId": str(user.org_id),
                "name": user.name,
                "role": user.role,
            }
            await EncodedJSONResponse(dumps({"data": body}))(scope, receive, send)

    route = Route(PATH, ByHand(), methods=["GET"])
    app.router.routes.append(route)
    app.router._static[route.path] = route


def app() -> Starlette:
    """`serve_app()`, as `elevatedpos serve` runs it in each worker, plus `/bench/me`."""
    application = serve_app()
    add_handwritten_me(application, application.state.runtime)
    return application

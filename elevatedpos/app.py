"""create_app(settings) -> Starlette: the only place that wires things together."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import Receive, Scope, Send

from elevatedpos.errors import KINDS_BY_CODE, DomainError
from elevatedpos.rest_compat.executor import RestExecutor
from elevatedpos.rest_compat.openapi import build_openapi
from elevatedpos.rest_compat.operations import load_operations
from elevatedpos.rest_compat.routes import ROUTES, RestRoute, is_public
from elevatedpos.runtime import Runtime
from elevatedpos.schema.permissions import required_scope
from elevatedpos.schema.root import schema
from elevatedpos.settings import Settings
from elevatedpos.web import oauth
from elevatedpos.web.docs import docs_asset, docs_page
from elevatedpos.web.graphql_view import GraphQLApp
from elevatedpos.web.health import healthz, readyz
from elevatedpos.web.metrics import metrics
from elevatedpos.web.middleware import (
    AccessMiddleware,
    ProblemMiddleware,
    RequestIdMiddleware,
    request_id_of,
)
from elevatedpos.web.responses import JSONResponse, domain_error_response, problem_response
from elevatedpos.web.routing import StaticFirstRouter

log = logging.getLogger("elevatedpos")
GRAPHQL_SCHEMA = schema._schema
OPERATIONS = load_operations(GRAPHQL_SCHEMA)


def _operation_scopes() -> dict[str, str | None]:
    scopes: dict[str, str | None] = {}
    for route in ROUTES:
        op = OPERATIONS[route.operation]
        root = schema.get_type_by_name("Mutation" if op.is_mutation else "Query")
        field = next(
            (
                f
                for f in getattr(root, "fields", [])
                if f.graphql_name == op.root_field
                or schema.config.name_converter.get_graphql_name(f) == op.root_field
            ),
            None,
        )
        scopes[route.operation] = required_scope(field.permission_classes) if field else None
    return scopes


OPENAPI = build_openapi(GRAPHQL_SCHEMA, ROUTES, OPERATIONS, _operation_scopes())


class _RestPath:
    """The ASGI app of one REST path: its routes by method, run by the one executor.

    A plain ASGI app rather than a Starlette endpoint: no second exception-handling layer
    per request (errors reach the app's exception handlers all the same).
    """

    def __init__(self, executor: RestExecutor, methods: dict[str, RestRoute]) -> None:
        self.executor = executor
        self.methods = methods

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Starlette answers HEAD on GET routes; run the GET and let the server drop the body.
        method = "GET" if scope["method"] == "HEAD" else scope["method"]
        response = await self.executor.handle(self.methods[method], Request(scope, receive))
        await response(scope, receive, send)


def _rest_routes(executor: RestExecutor) -> list[BaseRoute]:
    """One Starlette route per path, dispatching on method so 405 lists every allowed one."""
    by_path: dict[str, dict[str, RestRoute]] = {}
    for route in ROUTES:
        by_path.setdefault(route.path, {})[route.method] = route
    return [
        Route(path, _RestPath(executor, methods), methods=list(methods))
        for path, methods in by_path.items()
    ]


async def _http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    kind = next((k for k in KINDS_BY_CODE.values() if k.status == exc.status_code), None)
    if kind is None:
        return Response(status_code=exc.status_code, headers=exc.headers)
    detail = {
        404: f"No route matches {request.url.path}",
        405: f"{request.method} is not allowed on {request.url.path}",
    }.get(exc.status_code, exc.detail)
    return problem_response(
        kind,
        detail,
        instance=request.url.path,
        request_id=request_id_of(request.scope),
        headers=dict(exc.headers or {}),
    )


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    return domain_error_response(
        exc, instance=request.url.path, request_id=request_id_of(request.scope)
    )


async def _openapi(request: Request) -> Response:
    return JSONResponse(OPENAPI)


def serve_app() -> Starlette:
    """The app `elevatedpos serve` runs in each worker: `create_app`, whose start-up objects
    (schema, plans, mappers, modules: ~140,000 tracked objects) are then frozen out of
    the garbage collector's sweeps. Every full collection would otherwise walk them all,
    ~80 ms during which the worker answers nobody; that pause was the p99 of the read
    benchmark (bench/README.md)."""
    return create_app(freeze_after_start=True)


def create_app(
    settings: Settings | None = None,
    runtime: Runtime | None = None,
    *,
    freeze_after_start: bool = False,
) -> Starlette:
    """The ASGI app. Migrations are the caller's job (`elevatedpos serve` runs them first)."""
    settings = settings or Settings.from_env()
    runtime = runtime or Runtime(settings)
    executor = RestExecutor(runtime, GRAPHQL_SCHEMA, OPERATIONS)
    graphql_app = GraphQLApp(schema, runtime)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        await runtime.start()
        if freeze_after_start:
            gc.collect()
            gc.freeze()
        try:
            yield {}
        finally:
            await runtime.stop()

    routes: list[BaseRoute] = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        Route("/docs", docs_page, methods=["GET"]),
        Route("/docs/assets/{name}", docs_asset, methods=["GET"]),
        Route("/api/v1/openapi.json", _openapi, methods=["GET"]),
        Route("/api/v1/oauth/authorize", oauth.authorize, methods=["GET"]),
        Route("/api/v1/oauth/token", oauth.token, methods=["POST"]),
        Route("/api/v1/oauth/revoke", oauth.revoke, methods=["POST"]),
        Route("/graphql", graphql_app, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql_app),  # subscriptions (graphql-transport-ws)
        *_rest_routes(executor),
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(RequestIdMiddleware),
            Middleware(ProblemMiddleware),
            Middleware(AccessMiddleware, runtime=runtime, is_public=is_public),
        ],
        exception_handlers={HTTPException: _http_exception, DomainError: _domain_error},
        lifespan=lifespan,
    )
    # The same routes, found by one dict lookup when their path has no parameters.
    app.router = StaticFirstRouter(routes, lifespan=lifespan)
    app.state.runtime = runtime
    return app

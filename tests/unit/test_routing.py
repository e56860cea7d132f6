"""The router's dict of parameterless paths answers exactly as Starlette's loop would."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from elevatedpos.app import create_app
from elevatedpos.rest_compat.routes import ROUTES
from elevatedpos.web.routing import StaticFirstRouter, static_routes


def named(name: str):
    async def endpoint(request: Request) -> Response:
        return PlainTextResponse(f"{name} {dict(request.path_params)}")

    return endpoint


ROUTES_UNDER_TEST = [
    Route("/items/{item_id}", named("item"), methods=["GET"]),
    Route("/items/search", named("search"), methods=["GET"]),  # shadowed by the route above
    Route("/stock", named("stock-get"), methods=["GET"]),
    Route("/stock", named("stock-post"), methods=["POST"]),
    Route("/plain", named("plain"), methods=["GET", "PUT"]),
]


def test_only_parameterless_paths_no_earlier_route_matches_are_looked_up():
    found = static_routes(ROUTES_UNDER_TEST)
    assert sorted(found) == ["/plain", "/stock"]
    assert found["/stock"] is ROUTES_UNDER_TEST[2]  # the first route of a path


async def test_answers_are_those_of_starlettes_own_router():
    plain = Starlette(routes=ROUTES_UNDER_TEST)
    fast = Starlette(routes=ROUTES_UNDER_TEST)
    fast.router = StaticFirstRouter(ROUTES_UNDER_TEST)
    requests = [
        ("GET", "/items/search"),
        ("GET", "/items/7"),
        ("GET", "/stock"),
        ("POST", "/stock"),  # the second route of the path
        ("DELETE", "/stock"),
        ("HEAD", "/plain"),
        ("PUT", "/plain"),
        ("PATCH", "/plain"),
        ("GET", "/plain/"),  # redirected to /plain
        ("GET", "/nowhere"),
    ]
    answers = {}
    for app in (plain, fast):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            answers[app] = [
                (r.status_code, r.text, r.headers.get("allow"), r.headers.get("location"))
                for r in [await client.request(m, p) for m, p in requests]
            ]
    assert answers[fast] == answers[plain]
    assert answers[fast][0][:2] == (200, "item {'item_id': 'search'}")
    assert answers[fast][3][:2] == (200, "stock-post {}")
    assert answers[fast][4][0] == 405


def test_the_apps_static_paths_include_the_rest_routes_without_parameters():
    static = create_app().router._static
    for route in ROUTES:
        if "{" not in route.path:
            assert route.path in static
    assert "/healthz" in static

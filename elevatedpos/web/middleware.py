"""Pure ASGI middleware, outermost first: request id, problem details, auth + rate limit."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterable

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from elevatedpos.auth.sessions import (
    authenticate,
    authenticate_and_charge,
    authenticate_and_charge_now,
    charge_app,
)
from elevatedpos.errors import INTERNAL, DomainError, RateLimited, Unauthorized
from elevatedpos.runtime import Runtime
from elevatedpos.web.responses import domain_error_response, problem_response

log = logging.getLogger("elevatedpos.http")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


def state(scope: Scope) -> dict[str, object]:
    return scope.setdefault("state", {})  # type: ignore[no-any-return]


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of a request header; `name` in lower case, as ASGI servers give names."""
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")  # type: ignore[no-any-return]
    return None


def request_id_of(scope: Scope) -> str | None:
    value = scope.get("state", {}).get("request_id")
    return str(value) if value else None


class RequestIdMiddleware:
    """Echo a well-formed incoming X-Request-ID, otherwise make one; set it on every response.

    It also writes the rate-limit headers the access middleware leaves in the request's
    state (read when the answer starts: a costly GraphQL request updates Remaining), so
    every answer to an authenticated request carries them, problems included.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        incoming = header(scope, b"x-request-id")
        # 128 random bits as 32 hex digits (a uuid4's `.hex` took 5x as long)
        request_id = incoming if incoming and _REQUEST_ID.match(incoming) else os.urandom(16).hex()
        st = state(scope)
        st["request_id"] = request_id
        id_header = (b"x-request-id", request_id.encode("latin-1"))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                limits = st.get("rate_limit_headers")
                ours = _OUR_NAMES if limits else _ID_NAME
                raw = [(k, v) for k, v in message.get("headers", ()) if k.lower() not in ours]
                raw.append(id_header)
                if limits:
                    raw.append((b"x-ratelimit-limit", limits["X-RateLimit-Limit"].encode()))
                    raw.append((b"x-ratelimit-remaining", limits["X-RateLimit-Remaining"].encode()))
                message["headers"] = raw
            await send(message)

        await self.app(scope, receive, send_with_headers)


_ID_NAME = (b"x-request-id",)
_APP_SHARE = (
    "This app has used its share ({} %) of your org's rate limit; the rest is kept for your"
    " org's own tills and users"
)
_OUR_NAMES = (b"x-request-id", b"x-ratelimit-limit", b"x-ratelimit-remaining")


class ProblemMiddleware:
    """Turn any exception into a problem response; unexpected ones are logged as 500s."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except ClientDisconnect:
            return  # the client went away; there is no one to answer
        except DomainError as exc:
            if started:
                raise
            response = domain_error_response(
                exc, instance=scope["path"], request_id=request_id_of(scope)
            )
            await response(scope, receive, send)
        except Exception:
            request_id = request_id_of(scope)
            log.exception(
                "unhandled error request_id=%s %s %s", request_id, scope["method"], scope["path"]
            )
            if started:
                raise
            response = problem_response(
                INTERNAL,
                "An unexpected error occurred; contact support with the request id",
                instance=scope["path"],
                request_id=request_id,
            )
            await response(scope, receive, send)


class AccessMiddleware:
    """Who is asking, and may they: `Authorization: Bearer` resolved into a Principal
    (protected routes refused without one), then one token from the org's bucket per
    authenticated HTTP request; its rate-limit headers are left in the request's state.

    `is_public(method, path)` says which routes need no token. `/graphql` is
    "optional": an anonymous request reaches it and the schema lets it through only
    for `login`/`refreshToken` (and the GraphiQL page).
    """

    def __init__(
        self,
        app: ASGIApp,
        runtime: Runtime,
        is_public: Callable[[str, str], bool],
        optional_paths: Iterable[str] = ("/graphql",),
    ) -> None:
        self.app = app
        self.runtime = runtime
        self.is_public = is_public
        self.optional = frozenset(optional_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != "http" and kind != "websocket":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        method = scope.get("method", "GET")
        st = state(scope)
        principal = st["principal"] = None
        decision = None
        refusal: str | None = None
        authorization = header(scope, b"authorization")
        if authorization:
            scheme, _, token = authorization.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                if not self.is_public(method, path):
                    raise Unauthorized("Authorization must be `Bearer <token>`")
            else:
                try:
                    token = token.strip()
                    if kind == "http":
                        # Usually no I/O at all (a live revocation feed or SQLite's file, a
                        # lease or the memory bucket); with Redis otherwise one round trip.
                        charged = authenticate_and_charge_now(
                            self.runtime, token
                        ) or await authenticate_and_charge(self.runtime, token)
                        principal, decision = charged
                        if principal.client_id is not None and decision.allowed:
                            decision = await charge_app(self.runtime, principal, decision)
                            if not decision.allowed:
                                refusal = _APP_SHARE.format(
                                    self.runtime.settings.partner_rate_percent
                                )
                    else:
                        principal = await authenticate(self.runtime, token)
                    st["principal"] = principal
                except Unauthorized:
                    if not self.is_public(method, path):
                        raise
        if principal is None:
            if path not in self.optional and not self.is_public(method, path) and kind == "http":
                raise Unauthorized()
            await self.app(scope, receive, send)
            return
        if decision is not None:  # None: a websocket, not charged
            headers = {
                "X-RateLimit-Limit": str(decision.limit),
                "X-RateLimit-Remaining": str(decision.remaining),
            }
            # GraphQL may charge more for an expensive query; it updates Remaining here. The
            # request-id middleware writes these on whatever answers the request.
            st["rate_limit_headers"] = headers
            if not decision.allowed:
                response = domain_error_response(
                    RateLimited(decision.retry_after, refusal),
                    instance=scope["path"],
                    request_id=request_id_of(scope),
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

"""`GET /api/v1/oauth/authorize` and `POST /api/v1/oauth/token`: read, run Authlib, write.

Errors are problem details that also carry RFC 6749's `error` (and `error_description`),
so OAuth client libraries and our own clients both understand them; an authorization
error that may go back to a validated redirect URI goes there instead, as RFC 6749 says.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from authlib.oauth2.rfc6749 import InvalidGrantError, OAuth2Error
from authlib.oauth2.rfc6749.util import extract_basic_authorization
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from elevatedpos.auth import oauth_store
from elevatedpos.auth.oauth import Server, StarletteRequest, check_parameters
from elevatedpos.auth.scopes import Principal
from elevatedpos.auth.sessions import guarded_attempt, revoke_sessions
from elevatedpos.errors import (
    BAD_REQUEST,
    FORBIDDEN,
    RATE_LIMITED,
    UNAUTHORIZED,
    Forbidden,
    RateLimited,
    Unauthorized,
)
from elevatedpos.runtime import Runtime
from elevatedpos.web.middleware import request_id_of
from elevatedpos.web.responses import dumps, problem_response

FORM = "application/x-www-form-urlencoded"
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_KINDS = {400: BAD_REQUEST, 401: UNAUTHORIZED, 403: FORBIDDEN, 429: RATE_LIMITED}


def _answer(request: Request, status: int, body: Any, headers: list[tuple[str, str]]) -> Response:
    """Authlib's (status, body, headers) as our response."""
    extra = {k: v for k, v in headers if k.lower() != "content-type"}
    if status < 400:
        content = dumps(body) if body else b""
        media = "application/json" if body else None
        return Response(
            content, status_code=status, headers={**extra, **_NO_STORE}, media_type=media
        )
    return _problem(request, status, body["error"], body.get("error_description"), extra)


def _problem(
    request: Request,
    status: int,
    error: str,
    description: str | None,
    headers: dict[str, str] | None = None,
) -> Response:
    extra = {"error": error}
    if description:
        extra["error_description"] = description
    return problem_response(
        _KINDS.get(status, BAD_REQUEST),
        description or error,
        instance=request.url.path,
        request_id=request_id_of(request.scope),
        headers={**(headers or {}), **_NO_STORE},
        extra=extra,
    )


def _oauth_request(request: Request, form: FormData) -> StarletteRequest:
    return StarletteRequest(
        request.method, str(request.url), request.headers, request.query_params, form
    )


async def authorize(request: Request) -> Response:
    """The merchant (Bearer) grants a partner app access: 302 to its redirect URI."""
    runtime: Runtime = request.app.state.runtime
    if request.method == "HEAD":  # Starlette serves HEAD on GET routes: it must not issue codes
        raise HTTPException(405, headers={"Allow": "GET"})
    principal: Principal | None = request.scope.get("state", {}).get("principal")
    if principal is None:
        raise Unauthorized()
    if principal.client_id is not None:
        raise Forbidden("A partner app's token cannot authorize apps; sign in as a user")
    params = request.query_params
    if problem := check_parameters(list(params.multi_items())):
        return _problem(request, 400, "invalid_request", problem)
    state = await oauth_store.for_authorize(runtime, principal, params.get("client_id"))
    if state.user is None:
        raise Unauthorized("The signed-in user no longer exists")
    server = Server(runtime.issuer, state)
    try:
        oauth_request = _oauth_request(request, FormData())
    except OAuth2Error as error:  # insecure_transport
        return _answer(request, *error(None))
    try:
        grant = server.get_consent_grant(oauth_request, end_user=state.user)
    except OAuth2Error as error:
        return _answer(request, *server.handle_error_response(oauth_request, error))
    status, body, headers = server.create_authorization_response(
        oauth_request, grant_user=state.user, grant=grant
    )
    if state.new_code is not None and status == 302:
        await oauth_store.save_code(runtime.db, state)
    return _answer(request, status, body, headers)


@dataclass(frozen=True)
class TokenCall:
    """A token or revocation request as Authlib sees it, and the client credentials it
    presents (by HTTP Basic or in the form)."""

    oauth: StarletteRequest
    client_id: str | None
    client_secret: str | None


async def _token_request(request: Request) -> TokenCall | Response:
    """The request's `TokenCall`, or the problem with it (before anything is read from the
    database)."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != FORM:
        return _problem(
            request, 400, "invalid_request", f"The token endpoint takes {FORM} (RFC 6749)"
        )
    try:
        form = await request.form()
    except HTTPException as exc:  # too many fields, a field too large
        return _problem(request, 400, "invalid_request", str(exc.detail))
    items = list(form.multi_items())
    names = [name for name, _ in items]
    if len(set(names)) != len(names):
        return _problem(request, 400, "invalid_request", "A parameter is repeated")
    if any(not isinstance(value, str) for _, value in items):
        return _problem(request, 400, "invalid_request", "Parameters are text, not files")
    if problem := check_parameters(items):  # type: ignore[arg-type]
        return _problem(request, 400, "invalid_request", problem)
    try:
        basic_id, basic_secret = extract_basic_authorization(request.headers)
    except ValueError:  # not base64, not UTF-8 (Authlib lets those through)
        return _problem(request, 401, "invalid_client", "The Basic credentials are malformed")
    if basic_id is not None:
        if check_parameters([("client_id", basic_id), ("client_secret", basic_secret or "")]):
            return _problem(request, 401, "invalid_client", "The Basic credentials are malformed")
        if "client_secret" in form:  # RFC 6749 2.3: one authentication method a request
            return _problem(
                request,
                400,
                "invalid_request",
                "Authenticate with Basic or with the form, not both",
            )
    try:
        oauth_request = _oauth_request(request, form)
    except OAuth2Error as error:  # insecure_transport
        return _answer(request, *error(None))
    secret = basic_secret if basic_id is not None else form.get("client_secret")
    return TokenCall(
        oauth_request,
        basic_id or form.get("client_id"),  # type: ignore[arg-type]
        secret,  # type: ignore[arg-type]
    )


def _client_failures_key(request: Request) -> str:
    return f"oauth-client-failures:{request.client.host if request.client else 'unknown'}"


def token_endpoint(
    endpoint: Callable[[Request, Runtime, TokenCall], Awaitable[Response]],
) -> Callable[[Request], Awaitable[Response]]:
    """`/token` and `/revoke`: the request read (`_token_request`), then the endpoint, under
    the login limit for partner servers: after `login_failures_per_minute` failed client
    authentications (401 `invalid_client`) from one address within a minute, the token and
    revocation endpoints answer that address 429 without reading the database until the
    minute is over, and no more checks run at once than failures are left (parallel
    guesses wait their turn, as logins do). Only wrong client credentials count: a partner
    whose merchants' grants ran out (`invalid_grant`), or whom one merchant uninstalled
    (the right secret of an uninstalled app), is not refused its other merchants' calls."""

    @wraps(endpoint)
    async def guarded(request: Request) -> Response:
        runtime: Runtime = request.app.state.runtime
        try:
            async with guarded_attempt(
                runtime, _client_failures_key(request), "client authentications"
            ) as outcome:
                call = await _token_request(request)
                response = (
                    call if isinstance(call, Response) else await endpoint(request, runtime, call)
                )
                outcome.failed = response.status_code == 401 and not (
                    isinstance(call, TokenCall)
                    and await oauth_store.uninstalled_client(
                        runtime, call.client_id, call.client_secret
                    )
                )
        except RateLimited as refused:
            return _problem(
                request,
                429,
                "temporarily_unavailable",
                refused.detail,
                {"Retry-After": str(refused.retry_after)},
            )
        return response

    return guarded


@token_endpoint
async def token(request: Request, runtime: Runtime, call: TokenCall) -> Response:
    """RFC 6749's token endpoint: `authorization_code` (with PKCE) and `refresh_token`."""
    oauth_request = call.oauth
    form = oauth_request.form
    grant_type = form.get("grant_type")
    credential = (
        form.get("code") if grant_type == "authorization_code" else form.get("refresh_token")
    )
    state = await oauth_store.for_token(
        runtime,
        call.client_id,
        grant_type,  # type: ignore[arg-type]
        credential,  # type: ignore[arg-type]
    )
    server = Server(runtime.issuer, state)
    status, body, headers = server.create_token_response(oauth_request)
    if status == 200:
        try:
            await oauth_store.save_tokens(runtime, state)
        except oauth_store.Replayed as replayed:
            await oauth_store.settle_replay(runtime, state, replayed)
            return _answer(request, *InvalidGrantError("The grant was already used")())
        except oauth_store.ClientGone:
            return _problem(request, 401, "invalid_client", "The integration is uninstalled")
    elif state.revoke:
        await revoke_sessions(runtime, state.revoke, "oauth_grant_reuse")
    return _answer(request, status, body, headers)


@token_endpoint
async def revoke(request: Request, runtime: Runtime, call: TokenCall) -> Response:
    """RFC 7009's revocation endpoint: a partner ends its grant (an unknown token is 200)."""
    token = call.oauth.form.get("token")
    state = await oauth_store.for_revocation(runtime, call.client_id, token)
    server = Server(runtime.issuer, state)
    status, body, headers = server.create_endpoint_response("revocation", call.oauth)
    if status == 200 and state.revoke:
        await revoke_sessions(runtime, state.revoke, "oauth_revoked")
    return _answer(request, status, body, headers)

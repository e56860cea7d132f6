"""The /graphql endpoint: Strawberry's ASGI view with our context, JSON and problems."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

import orjson
from cross_web import HTTPException as StrawberryHTTPException
from graphql import ExecutionResult, GraphQLError, OperationType
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.types import ExecutionResult as StrawberryResult
from strawberry.types.unset import UNSET

from elevatedpos.auth.sessions import authenticate
from elevatedpos.errors import (
    BAD_REQUEST,
    METHOD_NOT_ALLOWED,
    UNSUPPORTED_MEDIA_TYPE,
    DomainError,
    ErrorKind,
    Unauthorized,
)
from elevatedpos.executor import COMPILED_EXECUTOR, PLANS, VALIDATED
from elevatedpos.rest_compat import idempotency
from elevatedpos.rules.text import check_no_nul
from elevatedpos.runtime import Runtime
from elevatedpos.schema.context import Context
from elevatedpos.schema.cost import MAX_NODES
from elevatedpos.schema.errors import shape_errors
from elevatedpos.schema.root import (
    HTTP_LEVEL_ERRORS,
    AnonymousRequest,
    charge_request_cost,
    request_nodes,
)
from elevatedpos.web.middleware import request_id_of
from elevatedpos.web.persisted_queries import PersistedQueries, PersistedQueryError
from elevatedpos.web.responses import domain_error_response, problem_response

_authenticated: ContextVar[bool] = ContextVar("graphql_authenticated", default=False)
_IDEMPOTENCY_HEADER = idempotency.HEADER.lower().encode()
_STATUS_KINDS: dict[int, ErrorKind] = {
    405: METHOD_NOT_ALLOWED,
    415: UNSUPPORTED_MEDIA_TYPE,
}


class GraphQLApp(GraphQL[Context, None]):
    def __init__(self, schema: Any, runtime: Runtime) -> None:
        super().__init__(schema, graphql_ide="graphiql")
        self.runtime = runtime
        self.persisted = PersistedQueries(runtime.redis)

    async def parse_http_body(self, request: Any) -> GraphQLRequestData | list[GraphQLRequestData]:
        data = await super().parse_http_body(request)
        if not _authenticated.get():
            # Anonymous callers neither register nor use persisted queries; without a
            # query there is nothing they may run.
            items = data if isinstance(data, list) else [data]
            if any(item.query is None for item in items):
                raise AnonymousRequest()
            return data
        if isinstance(data, list):
            return [await self.persisted.resolve(item) for item in data]
        return await self.persisted.resolve(data)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        principal = scope.get("state", {}).get("principal")
        _authenticated.set(principal is not None)
        body: bytes | None = None
        if principal is not None and scope["method"] == "POST" and _plain_json_post(scope):
            body = await _read_body(receive)
            answer = await self._fast(scope, principal, body)
            if answer is not None:
                await answer(scope, receive, send)
                return
        request = Request(scope=scope, receive=receive)
        if body is not None:
            request._body = body  # already read: Starlette's Request serves it from here
        key = request.headers.get(idempotency.HEADER)
        if key is not None and principal is not None and request.method == "POST":
            response = await self._idempotent(request, principal.org_id, key)
        else:
            response = await self._answer(request)
        await response(scope, receive, send)

    async def _fast(self, scope: Scope, principal: Any, body: bytes) -> Response | None:
        """Answer a query whose text the full pipeline already validated from its plan.

        The checks and charges of the schema's extensions are the same functions; whatever
        this path does not cover (returns None) takes Strawberry's full pipeline instead.
        """
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            return None
        if type(data) is not dict or "extensions" in data:
            return None  # persisted queries and anything else unusual: the full pipeline
        query = data.get("query")
        variables = data.get("variables")
        name = data.get("operationName")
        if (
            type(query) is not str
            or (variables is not None and type(variables) is not dict)
            or (name is not None and type(name) is not str)
            or not COMPILED_EXECUTOR
        ):
            return None
        document = VALIDATED.get(query, name)
        if document is None:
            return None
        graphql_schema = self.schema._schema  # type: ignore[attr-defined]
        plan = PLANS.get(graphql_schema, document, name)
        if plan is None or plan.operation.operation is not OperationType.QUERY:
            return None
        if variables and check_no_nul(variables):
            return None  # NulGuard's error
        nodes = request_nodes(graphql_schema, document, name, variables or {})
        if nodes > MAX_NODES:
            return None  # CostLimiter's error
        st = scope["state"]
        request_id = st.get("request_id")
        client = scope.get("client")
        ctx = Context(
            runtime=self.runtime,
            principal=principal,
            request_id=request_id,
            client_ip=client[0] if client else "unknown",
            rate_limit_headers=st.get("rate_limit_headers"),
        )
        try:
            await charge_request_cost(ctx, principal, nodes)
            try:
                result = plan.execute(ctx, variables)
                if not isinstance(result, ExecutionResult):
                    result = await result
            except Exception as exc:  # noqa: BLE001 - Strawberry answers it as an error
                errors = [
                    exc
                    if isinstance(exc, GraphQLError)
                    else GraphQLError(str(exc), original_error=exc)
                ]
                payload = {"data": None, "errors": errors}
            else:
                errors = result.errors
                if errors:
                    errors = shape_errors(errors, request_id)  # the ErrorShaping extension
                payload = {"data": result.data}
                if errors:
                    payload["errors"] = errors
            if errors:
                for error in errors:
                    if isinstance(error.original_error, HTTP_LEVEL_ERRORS):
                        raise error.original_error
                payload["errors"] = [e.formatted for e in shape_errors(errors, request_id)]
        except DomainError as exc:
            return domain_error_response(exc, instance=scope["path"], request_id=request_id)
        return Response(orjson.dumps(payload), media_type="application/json")

    async def _idempotent(self, request: Request, org_id: Any, key: str) -> Response:
        """Idempotency-Key on /graphql: a retried mutation replays its first answer.

        The fingerprint is the request's JSON (query, variables, operation name); answers
        whose errors say nothing ran (validation, access, rate limit) are not kept.
        """
        scope = request.scope
        try:
            key = idempotency.check_key(key)
            body = orjson.loads(await request.body())
        except DomainError as exc:
            return domain_error_response(
                exc, instance=scope["path"], request_id=request_id_of(scope)
            )
        except orjson.JSONDecodeError:
            return await self._answer(request)
        fingerprint = idempotency.request_fingerprint("POST", scope["path"], body)
        db = self.runtime.db
        try:
            outcome = await idempotency.claim_or_replay(
                db, org_id, key, fingerprint, self.runtime.settings.idempotency_wait_seconds
            )
        except DomainError as exc:
            return domain_error_response(
                exc, instance=scope["path"], request_id=request_id_of(scope)
            )
        if isinstance(outcome, idempotency.StoredResponse):
            return Response(
                outcome.body,
                status_code=outcome.status,
                headers={"Idempotent-Replayed": "true"},
                media_type="application/json"
                if outcome.status < 400
                else "application/problem+json",
            )
        try:
            response = await self._answer(request)
        except BaseException:
            await idempotency.finish(db, outcome, 500, b"", {})
            raise
        status = response.status_code
        raw = bytes(response.body)
        if status == 200 and _nothing_ran(raw):
            status = 422  # released: a corrected retry with the same key runs
        await idempotency.finish(db, outcome, status, raw, {})
        return response

    async def _answer(self, request: Request) -> Response:
        scope = request.scope
        try:
            response = await self.run(request)
        except StrawberryHTTPException as exc:
            kind = _STATUS_KINDS.get(exc.status_code, BAD_REQUEST)
            response = problem_response(
                kind, exc.reason, instance=scope["path"], request_id=request_id_of(scope)
            )
        except PersistedQueryError as exc:
            response = Response(orjson.dumps(exc.body()), media_type="application/json")
        except DomainError as exc:  # answered here so the rate-limit headers wrap it too
            response = domain_error_response(
                exc, instance=scope["path"], request_id=request_id_of(scope)
            )
        return response

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        st = request.scope.get("state", {})
        client = request.client
        return Context(
            runtime=self.runtime,
            principal=st.get("principal"),
            request_id=st.get("request_id"),
            client_ip=client.host if client else "unknown",
            rate_limit_headers=st.get("rate_limit_headers"),
        )

    async def on_ws_connect(self, context: Context) -> Any:
        """A websocket is authenticated by its `Authorization: Bearer` header (checked by the
        middleware) or by `{"Authorization": "Bearer <token>"}` in `connection_init`;
        without either, or with a bad token, the connection is closed (4403)."""
        if context.principal is None:
            params = context.connection_params or {}
            raw = params.get("Authorization") or params.get("authorization")
            scheme, _, token = str(raw or "").partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise ConnectionRejectionError()
            try:
                context.principal = await authenticate(self.runtime, token.strip())
            except Unauthorized as exc:
                raise ConnectionRejectionError() from exc
        return UNSET

    async def process_result(
        self, request: Request | WebSocket, result: StrawberryResult | Any
    ) -> GraphQLHTTPResponse:
        for error in result.errors or ():
            if isinstance(error.original_error, HTTP_LEVEL_ERRORS):
                raise error.original_error
        if result.errors:
            # Parse and validation errors never reach the ErrorShaping extension's hook.
            result.errors = shape_errors(result.errors, request_id_of(request.scope))
        return await super().process_result(request, result)

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)


def _plain_json_post(scope: Scope) -> bool:
    """A JSON body and no Idempotency-Key: what the fast path may answer."""
    json = False
    for name, value in scope["headers"]:
        if name == b"content-type":
            json = value.partition(b";")[0].strip().lower() == b"application/json"
        elif name == _IDEMPOTENCY_HEADER or (name == b"accept" and b"multipart" in value):
            return False  # a keyed request, or one asking for a streamed answer
    return json


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _nothing_ran(body: bytes) -> bool:
    """Whether a GraphQL answer's errors are all of kinds that change nothing (422, 403, ...)."""
    try:
        errors = orjson.loads(body).get("errors") or []
    except (orjson.JSONDecodeError, AttributeError):
        return False
    statuses = [(e.get("extensions") or {}).get("status") for e in errors]
    return bool(statuses) and all(s in idempotency.NOT_KEPT for s in statuses)

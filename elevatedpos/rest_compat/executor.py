"""One executor for every REST route: request → variables → GraphQL operation → response."""

from __future__ import annotations

import logging
import re
from inspect import isawaitable
from typing import Any

import orjson
from graphql import ExecutionResult, GraphQLError, execute
from starlette.requests import Request
from starlette.responses import Response

from elevatedpos.db.pagination import DEFAULT_PAGE
from elevatedpos.errors import (
    BAD_REQUEST,
    INTERNAL,
    BadRequest,
    DomainError,
    FieldError,
    PreconditionFailed,
    ValidationFailed,
)
from elevatedpos.rest_compat import idempotency
from elevatedpos.rest_compat.convert import check_input, parse_query_value, rest_enums_to_graphql
from elevatedpos.rest_compat.operations import CompiledOperation
from elevatedpos.rest_compat.routes import RestRoute
from elevatedpos.rules.text import check_no_nul
from elevatedpos.runtime import Runtime
from elevatedpos.schema.context import Context
from elevatedpos.web.responses import (
    EncodedJSONResponse,
    domain_error_response,
    dumps,
    problem_response,
)

log = logging.getLogger("elevatedpos.rest")
# Strong validators only: RFC 9110 says a weak tag never matches for If-Match.
_ETAG = re.compile(r'^"?(\d{1,18})"?$')
JSON_MEDIA = "application/json"


def _set_path(target: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for key in parents:
        target = target.setdefault(key, {})
    target[last] = value


def parse_if_match(value: str) -> int | None:
    """The version an If-Match names; None for `*`; 412 when it names no version at all."""
    value = value.strip()
    if value == "*":
        return None
    m = _ETAG.match(value)
    if not m:
        raise PreconditionFailed("If-Match must be the quoted version from the ETag header")
    return int(m.group(1))


class RestExecutor:
    """Runs a route's pre-validated document against the schema with the request's context."""

    def __init__(self, runtime: Runtime, graphql_schema: Any, ops: dict[str, CompiledOperation]):
        self.runtime = runtime
        self.schema = graphql_schema
        self.ops = ops

    def operation(self, route: RestRoute) -> CompiledOperation:
        return self.ops[route.operation]

    async def _read_body(self, request: Request) -> Any:
        """The JSON body whatever Content-Type says (curl's -d sends a form type)."""
        raw = await request.body()
        if not raw.strip():
            return {}
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise BadRequest(f"The body is not valid JSON: {exc.msg}") from exc
        if not isinstance(body, dict):
            raise BadRequest("The body must be a JSON object")
        return body

    def _variables(
        self, route: RestRoute, op: CompiledOperation, request: Request, body: Any
    ) -> dict[str, Any]:
        variables: dict[str, Any] = dict(request.path_params)
        errors: list[FieldError] = []
        for param, var_path in route.query_params.items():
            raw = request.query_params.get(param)
            if raw is None:
                continue
            if nul := check_no_nul(raw, param):
                errors.extend(nul)
                continue
            try:
                _set_path(variables, var_path, parse_query_value(raw, op.variable_type(var_path)))
            except ValueError as exc:
                errors.append(FieldError(param, f"{param} must be {exc}"))
        if route.body:
            input_type = op.variable_types["input"]
            value = rest_enums_to_graphql(body, input_type)
            errors.extend(check_no_nul(body) or check_input(value, input_type))
            variables["input"] = value
        if route.if_match:
            header = request.headers.get("if-match")
            if header is not None:
                variables["expectedVersion"] = parse_if_match(header)
        if errors:
            raise ValidationFailed(errors)
        return variables

    def _error_response(self, route: RestRoute, error: GraphQLError, request: Request) -> Response:
        original = error.original_error
        request_id = request.scope.get("state", {}).get("request_id")
        if isinstance(original, DomainError):
            renamed = {v: k for k, v in route.query_params.items()}
            if any(e.field in renamed for e in original.errors):
                original.errors = [
                    FieldError(renamed[e.field], e.message.replace(e.field, renamed[e.field], 1))
                    if e.field in renamed
                    else e
                    for e in original.errors
                ]
                original.detail = "; ".join(e.message for e in original.errors)
            return domain_error_response(original, instance=request.url.path, request_id=request_id)
        if original is None or isinstance(original, GraphQLError):
            # A request error graphql-core found that our own checks let through.
            return problem_response(
                BAD_REQUEST, error.message, instance=request.url.path, request_id=request_id
            )
        log.error(
            "unhandled error request_id=%s route=%s %s: %s",
            request_id,
            route.method,
            route.path,
            error.message,
            exc_info=original,
        )
        return problem_response(
            INTERNAL,
            "An unexpected error occurred; contact support with the request id",
            instance=request.url.path,
            request_id=request_id,
        )

    def _success_response(
        self, route: RestRoute, op: CompiledOperation, data: Any, variables: dict[str, Any]
    ) -> Response:
        if op.transform is not None and op.plan is None:  # a plan's output is REST-shaped
            data = op.transform(data)
        value = data[op.result_key]
        if route.no_content:
            return Response(status_code=route.status)
        status = route.status
        if route.created_flag is not None and not value[route.created_flag]:
            status = 200
        if route.result_field is not None:
            value = value[route.result_field]
        if route.single_if is not None and (variables.get("input") or {}).get(route.single_if):
            value = value[0] if isinstance(value, list) and len(value) == 1 else value
        headers: dict[str, str] = {}
        if route.list:
            body: dict[str, Any] = {
                "data": value["nodes"],
                "meta": {
                    "limit": variables.get("first") or DEFAULT_PAGE,
                    "nextCursor": value["pageInfo"]["endCursor"]
                    if value["pageInfo"]["hasNextPage"]
                    else None,
                },
            }
        else:
            body = {"data": value}
        if route.etag and isinstance(value, dict) and "version" in value:
            headers["ETag"] = f'"{value["version"]}"'
        return EncodedJSONResponse(dumps(body), status, headers)

    async def _run(
        self, route: RestRoute, op: CompiledOperation, request: Request, variables: dict[str, Any]
    ) -> Response:
        scope = request.scope
        st = scope.get("state", {})
        client = scope.get("client")
        context = Context(
            runtime=self.runtime,
            principal=st.get("principal"),
            request_id=st.get("request_id"),
            client_ip=client[0] if client else "unknown",
        )
        if op.plan is not None:
            result: Any = op.plan.execute(context, variables)
        else:
            result = execute(
                self.schema,
                op.document,
                context_value=context,
                variable_values=variables,
                operation_name=op.name,
            )
        if type(result) is not ExecutionResult and isawaitable(result):
            result = await result
        assert isinstance(result, ExecutionResult)
        if result.errors:
            return self._error_response(route, result.errors[0], request)
        return self._success_response(route, op, result.data, variables)

    async def handle(self, route: RestRoute, request: Request) -> Response:
        op = self.ops[route.operation]
        if route.path_only:
            return await self._run(route, op, request, dict(request.path_params))
        body = await self._read_body(request) if route.body else {}
        variables = self._variables(route, op, request, body)
        if not route.idempotent:
            return await self._run(route, op, request, variables)
        key = request.headers.get(idempotency.HEADER)
        principal = request.scope.get("state", {}).get("principal")
        if key is None or principal is None:
            return await self._run(route, op, request, variables)
        key = idempotency.check_key(key)
        fingerprint = idempotency.request_fingerprint(route.method, request.url.path, body)
        db = self.runtime.db
        outcome = await idempotency.claim_or_replay(
            db, principal.org_id, key, fingerprint, self.runtime.settings.idempotency_wait_seconds
        )
        if isinstance(outcome, idempotency.StoredResponse):
            headers = {**outcome.headers, "Idempotent-Replayed": "true"}
            return Response(
                outcome.body,
                status_code=outcome.status,
                headers=headers,
                media_type=JSON_MEDIA if outcome.status < 400 else "application/problem+json",
            )
        try:
            response = await self._run(route, op, request, variables)
        except BaseException:
            await idempotency.finish(db, outcome, 500, b"", {})
            raise
        kept = {k: v for k, v in response.headers.items() if k.lower() in {"etag", "location"}}
        await idempotency.finish(db, outcome, response.status_code, bytes(response.body), kept)
        return response

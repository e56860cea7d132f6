"""JSON responses (orjson) and RFC 9457 problem responses."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from elevatedpos.errors import DomainError, ErrorKind, problem_body

PROBLEM_MEDIA_TYPE = "application/problem+json"


def dumps(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return dumps(content)


def problem_response(
    kind: ErrorKind,
    detail: str,
    *,
    instance: str,
    request_id: str | None,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> Response:
    body = problem_body(
        kind, detail, instance=instance, request_id=request_id, errors=errors, extra=extra
    )
    return Response(
        dumps(body), status_code=kind.status, headers=headers, media_type=PROBLEM_MEDIA_TYPE
    )


def domain_error_response(exc: DomainError, *, instance: str, request_id: str | None) -> Response:
    extra = {k: v for k, v in exc.extra.items() if k not in {"code", "status"}}
    return problem_response(
        exc.kind,
        exc.detail,
        instance=instance,
        request_id=request_id,
        errors=[e.as_dict() for e in exc.errors] or None,
        headers=exc.headers,
        extra=extra or None,
    )

"""JSON responses (orjson) and RFC 9457 problem responses."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from elevatedpos.errors import DomainError, ErrorKind, problem_body

PROBLEM_MEDIA_TYPE = "application/problem+json"


def dumps(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)


class EncodedJSONResponse(Response):
    """`application/json` of already encoded bytes, its raw headers made directly."""

    media_type = "application/json"

    def __init__(
        self, body: bytes, status_code: int = 200, headers: dict[str, str] | None = None
    ) -> None:
        self.status_code = status_code
        self.background = None
        self.body = body
        raw = (
            [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
            if headers
            else []
        )
        raw.append((b"content-length", str(len(body)).encode("latin-1")))
        raw.append((b"content-type", b"application/json"))
        self.raw_headers = raw


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

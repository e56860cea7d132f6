"""Domain errors and the one table that maps them to GraphQL extensions and Problem Details."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ERROR_TYPE_BASE = "https://elevatedpos.com.au/errors/"


@dataclass(frozen=True)
class ErrorKind:
    slug: str
    status: int
    title: str

    @property
    def code(self) -> str:
        return self.slug.upper().replace("-", "_")

    @property
    def type_uri(self) -> str:
        return ERROR_TYPE_BASE + self.slug


BAD_REQUEST = ErrorKind("bad-request", 400, "Bad Request")
UNAUTHORIZED = ErrorKind("unauthorized", 401, "Unauthorized")
FORBIDDEN = ErrorKind("forbidden", 403, "Forbidden")
NOT_FOUND = ErrorKind("not-found", 404, "Not Found")
METHOD_NOT_ALLOWED = ErrorKind("method-not-allowed", 405, "Method Not Allowed")
CONFLICT = ErrorKind("conflict", 409, "Conflict")
PRECONDITION_FAILED = ErrorKind("precondition-failed", 412, "Precondition Failed")
UNSUPPORTED_MEDIA_TYPE = ErrorKind("unsupported-media-type", 415, "Unsupported Media Type")
VALIDATION = ErrorKind("validation", 422, "Validation Error")
RATE_LIMITED = ErrorKind("rate-limited", 429, "Too Many Requests")
INTERNAL = ErrorKind("internal", 500, "Internal Server Error")
UNAVAILABLE = ErrorKind("unavailable", 503, "Service Unavailable")

KINDS_BY_CODE: dict[str, ErrorKind] = {
    kind.code: kind
    for kind in (
        BAD_REQUEST,
        UNAUTHORIZED,
        FORBIDDEN,
        NOT_FOUND,
        METHOD_NOT_ALLOWED,
        CONFLICT,
        PRECONDITION_FAILED,
        UNSUPPORTED_MEDIA_TYPE,
        VALIDATION,
        RATE_LIMITED,
        INTERNAL,
        UNAVAILABLE,
    )
}


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


class DomainError(Exception):
    """An expected failure with a kind; GraphQL and REST render it through one table."""

    kind: ErrorKind = INTERNAL

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.detail = detail or self.kind.title
        self.errors = list(errors or [])
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})
        super().__init__(self.detail)

    @property
    def extensions(self) -> dict[str, Any]:
        """GraphQL `extensions`: graphql-core copies these from the original error."""
        ext: dict[str, Any] = {"code": self.kind.code, "status": self.kind.status}
        if self.errors:
            ext["errors"] = [e.as_dict() for e in self.errors]
        ext.update(self.extra)
        return ext


class BadRequest(DomainError):
    kind = BAD_REQUEST


class Unauthorized(DomainError):
    kind = UNAUTHORIZED

    def __init__(self, detail: str | None = None, **kw: Any) -> None:
        headers = {"WWW-Authenticate": 'Bearer realm="elevatedpos"', **kw.pop("headers", {})}
        super().__init__(detail or "Missing or invalid Bearer token", headers=headers, **kw)


class Forbidden(DomainError):
    kind = FORBIDDEN


class NotFound(DomainError):
    kind = NOT_FOUND


class Conflict(DomainError):
    kind = CONFLICT


class PreconditionFailed(DomainError):
    kind = PRECONDITION_FAILED


class ValidationFailed(DomainError):
    kind = VALIDATION

    def __init__(self, errors: list[FieldError] | None = None, detail: str | None = None) -> None:
        errors = list(errors or [])
        if detail is None:
            detail = "; ".join(e.message for e in errors) if errors else "Validation failed"
        super().__init__(detail, errors=errors)


class RateLimited(DomainError):
    kind = RATE_LIMITED

    def __init__(self, retry_after: int, detail: str | None = None) -> None:
        self.retry_after = max(1, int(retry_after))
        super().__init__(
            detail or f"Rate limit exceeded; retry after {self.retry_after} s",
            headers={"Retry-After": str(self.retry_after)},
            extra={"retryAfter": self.retry_after},
        )


def field_error(field: str, message: str) -> ValidationFailed:
    """One-field validation failure, the most common shape."""
    return ValidationFailed([FieldError(field, message)])


def problem_body(
    kind: ErrorKind,
    detail: str,
    *,
    instance: str,
    request_id: str | None,
    errors: list[dict[str, str]] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The RFC 9457 body, plus `requestId` and, for 422, `errors`."""
    body: dict[str, Any] = {
        "type": kind.type_uri,
        "title": kind.title,
        "status": kind.status,
        "detail": detail,
        "instance": instance,
        "requestId": request_id,
    }
    if errors:
        body["errors"] = errors
    elif kind is VALIDATION:
        body["errors"] = []
    if extra:
        body.update(extra)
    return body

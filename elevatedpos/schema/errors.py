"""GraphQL errors in the shape the contract fixes: `extensions.code`, `.status`, `.errors`."""

from __future__ import annotations

import logging

from graphql import GraphQLError

from elevatedpos.errors import BAD_REQUEST, INTERNAL, DomainError

log = logging.getLogger("elevatedpos.graphql")


def shape_error(error: GraphQLError, request_id: str | None) -> GraphQLError:
    """Domain errors keep their extensions; request errors become BAD_REQUEST; bugs are masked."""
    original = error.original_error
    if isinstance(original, DomainError):
        return error
    if original is None or isinstance(original, GraphQLError):
        if "code" not in error.extensions:
            error.extensions.update(code=BAD_REQUEST.code, status=BAD_REQUEST.status)
        return error
    log.error(
        "unhandled error in resolver request_id=%s path=%s",
        request_id,
        ".".join(str(p) for p in error.path or []),
        exc_info=original,
    )
    return GraphQLError(
        "An unexpected error occurred; contact support with the request id",
        nodes=error.nodes,
        path=error.path,
        extensions={"code": INTERNAL.code, "status": INTERNAL.status, "requestId": request_id},
    )


def shape_errors(errors: list[GraphQLError], request_id: str | None) -> list[GraphQLError]:
    return [shape_error(e, request_id) for e in errors]

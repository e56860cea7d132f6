"""The assembled schema: every domain's queries and mutations, and the cross-cutting limits."""

from __future__ import annotations

from collections.abc import Iterator

import strawberry
from graphql import FieldNode, GraphQLError, OperationDefinitionNode
from strawberry.extensions import (
    MaxAliasesLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types.execution import ExecutionContext

from elevatedpos.errors import Unauthorized
from elevatedpos.resolvers.auth import AuthMutation
from elevatedpos.resolvers.node import NodeQuery
from elevatedpos.resolvers.orgs import OrgsMutation, OrgsQuery
from elevatedpos.schema.errors import shape_errors
from elevatedpos.schema.scalars import SCALAR_MAP

# Root fields an anonymous GraphQL request may use: the way in.
ANONYMOUS_FIELDS = frozenset({"login", "refreshToken", "__typename"})
MAX_QUERY_DEPTH = 12
MAX_ALIASES = 30

Query = merge_types("Query", (NodeQuery, OrgsQuery))
Mutation = merge_types("Mutation", (AuthMutation, OrgsMutation))


def anonymous_allowed(operation: OperationDefinitionNode) -> bool:
    """True when every root selection of `operation` is open to anonymous callers."""
    return all(
        isinstance(sel, FieldNode) and sel.name.value in ANONYMOUS_FIELDS
        for sel in operation.selection_set.selections
    )


class AnonymousRequest(Unauthorized):
    """Raised by the gate; the HTTP view turns it into a 401 problem, not a GraphQL error."""


class AnonymousGate(SchemaExtension):
    """Anonymous requests may only log in or refresh; anything else is an HTTP 401."""

    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context.context
        if getattr(ctx, "principal", None) is None:
            document = self.execution_context.graphql_document
            ops = [
                d
                for d in (document.definitions if document else [])
                if isinstance(d, OperationDefinitionNode)
            ]
            name = self.execution_context.operation_name
            chosen = [o for o in ops if name is None or (o.name and o.name.value == name)]
            if not chosen or not all(anonymous_allowed(o) for o in chosen):
                raise AnonymousRequest()
        yield


class ErrorShaping(SchemaExtension):
    """Give every error its code and status; mask unexpected ones."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            ctx = self.execution_context.context
            result.errors = shape_errors(result.errors, getattr(ctx, "request_id", None))


class ElevatedSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Errors are logged where they are shaped; expected ones are not worth a log line."""


schema = ElevatedSchema(
    query=Query,
    mutation=Mutation,
    config=StrawberryConfig(auto_camel_case=True, scalar_map=SCALAR_MAP),
    extensions=[
        lambda: ParserCache(maxsize=512),  # the LRU caches are module-wide, shared by requests
        lambda: ValidationCache(maxsize=512),
        lambda: QueryDepthLimiter(max_depth=MAX_QUERY_DEPTH),
        lambda: MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
        AnonymousGate,
        ErrorShaping,
    ],
)

"""The assembled schema: every domain's queries and mutations, and the cross-cutting limits."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import strawberry
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    OperationDefinitionNode,
    StringValueNode,
    ValidationRule,
)
from graphql import execute as graphql_execute
from strawberry.extensions import AddValidationRules, ParserCache, SchemaExtension, ValidationCache
from strawberry.extensions.max_aliases import create_validator as max_aliases_validator
from strawberry.extensions.query_depth_limiter import create_validator as query_depth_validator
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types.execution import ExecutionContext

from elevatedpos.auth.sessions import charge_app
from elevatedpos.errors import BadRequest, RateLimited, Unauthorized, ValidationFailed
from elevatedpos.executor import VALIDATED, execute_document
from elevatedpos.resolvers.auth import AuthMutation
from elevatedpos.resolvers.automations import AutomationsMutation, AutomationsQuery
from elevatedpos.resolvers.campaigns import CampaignsMutation, CampaignsQuery
from elevatedpos.resolvers.catalog import CatalogMutation, CatalogQuery
from elevatedpos.resolvers.customers import CustomersMutation, CustomersQuery
from elevatedpos.resolvers.events import EventsSubscription
from elevatedpos.resolvers.integrations import IntegrationsMutation, IntegrationsQuery
from elevatedpos.resolvers.inventory import InventoryMutation, InventoryQuery
from elevatedpos.resolvers.loyalty import LoyaltyMutation, LoyaltyQuery
from elevatedpos.resolvers.node import NodeQuery
from elevatedpos.resolvers.orders import OrdersMutation, OrdersQuery
from elevatedpos.resolvers.orgs import OrgsMutation, OrgsQuery
from elevatedpos.rules.text import check_no_nul
from elevatedpos.schema.cost import MAX_NODES, estimated_nodes, request_cost
from elevatedpos.schema.errors import shape_errors
from elevatedpos.schema.scalars import SCALAR_MAP

# Root fields an anonymous GraphQL request may use: the way in.
ANONYMOUS_FIELDS = frozenset({"login", "refreshToken", "__typename"})
MAX_QUERY_DEPTH = 12
MAX_ALIASES = 30

Query = merge_types(
    "Query",
    (
        NodeQuery,
        OrgsQuery,
        CatalogQuery,
        InventoryQuery,
        CustomersQuery,
        CampaignsQuery,
        LoyaltyQuery,
        AutomationsQuery,
        IntegrationsQuery,
        OrdersQuery,
    ),
)
Mutation = merge_types(
    "Mutation",
    (
        AuthMutation,
        OrgsMutation,
        CatalogMutation,
        InventoryMutation,
        CustomersMutation,
        CampaignsMutation,
        LoyaltyMutation,
        AutomationsMutation,
        IntegrationsMutation,
        OrdersMutation,
    ),
)


def anonymous_allowed(operation: OperationDefinitionNode) -> bool:
    """True when every root selection of `operation` is open to anonymous callers."""
    return all(
        isinstance(sel, FieldNode) and sel.name.value in ANONYMOUS_FIELDS
        for sel in operation.selection_set.selections
    )


class NoNulLiterals(ValidationRule):
    """String literals in a document may not hold NUL (checked once per cached document)."""

    def enter_string_value(self, node: StringValueNode, *_: Any) -> None:
        if "\x00" in node.value:
            self.report_error(GraphQLError("Strings must not contain NUL characters", node))


# Made once: ValidationCache keys on the rule classes, so new ones per request never hit.
_LIMIT_RULES = [
    query_depth_validator(MAX_QUERY_DEPTH, None, None),
    max_aliases_validator(MAX_ALIASES),
    NoNulLiterals,
]


class QueryLimits(AddValidationRules):
    """Depth, alias and literal limits, as validation rules (cached with the document)."""

    def __init__(self) -> None:
        super().__init__(_LIMIT_RULES)


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


class NulGuard(SchemaExtension):
    """Refuse NUL characters in variables, as the REST door refuses them in bodies."""

    def on_execute(self) -> Iterator[None]:
        errors = check_no_nul(self.execution_context.variables or {})
        if errors:
            raise ValidationFailed(errors)
        yield


class RequestTooCostly(RateLimited):
    """The bucket cannot pay for this request's cost: an HTTP 429, like any other."""


def request_nodes(
    graphql_schema: Any, document: Any, operation_name: str | None, variables: dict[str, Any]
) -> int:
    """How many nodes the operation(s) `operation_name` picks from `document` can return."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    return sum(
        estimated_nodes(graphql_schema, op, fragments, variables)
        for op in document.definitions
        if isinstance(op, OperationDefinitionNode)
        and (operation_name is None or (op.name is not None and op.name.value == operation_name))
    )


async def charge_request_cost(ctx: Any, principal: Any, nodes: int) -> None:
    """Take the tokens a request of `nodes` nodes costs beyond its first one (429 if short)."""
    cost = request_cost(nodes)
    if cost > 1:
        # The middleware already took 1 token for the request itself.
        limit, burst = await ctx.runtime.org_limits(principal.org_id)
        decision = await ctx.runtime.limiter.take(principal.bucket, limit, burst, cost - 1)
        if principal.client_id is not None:
            decision = await charge_app(ctx.runtime, principal, decision, cost - 1)
        if ctx.rate_limit_headers is not None:
            ctx.rate_limit_headers["X-RateLimit-Remaining"] = str(decision.remaining)
        if not decision.allowed:
            raise RequestTooCostly(
                decision.retry_after,
                f"This query costs {cost} requests of your rate limit; retry later",
            )


class CostLimiter(SchemaExtension):
    """Refuse requests that could return too many nodes; charge big ones extra tokens."""

    async def on_execute(self) -> AsyncIterator[None]:
        ec = self.execution_context
        ctx = ec.context
        document = ec.graphql_document
        principal = getattr(ctx, "principal", None)
        if document is not None and principal is not None:
            nodes = request_nodes(
                ec.schema._schema, document, ec.operation_name, ec.variables or {}
            )
            if nodes > MAX_NODES:
                raise BadRequest(
                    f"This query could return {nodes} nodes; the limit is {MAX_NODES}."
                    " Ask for smaller pages."
                )
            await charge_request_cost(ctx, principal, nodes)
        yield


# Raised by extensions before execution; the HTTP view answers them as HTTP errors.
HTTP_LEVEL_ERRORS = (AnonymousRequest, RequestTooCostly)


class ErrorShaping(SchemaExtension):
    """Give every error its code and status; mask unexpected ones."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            ctx = self.execution_context.context
            result.errors = shape_errors(result.errors, getattr(ctx, "request_id", None))


def _execute(schema: Any, document: Any, **kw: Any) -> Any:
    """graphql-core's `execute` signature, run through a cached compiled plan when possible.

    Strawberry calls it once the document is parsed and validated with every rule above:
    the HTTP view may then answer the same text from its plan directly (`VALIDATED`).
    """
    VALIDATED.add(document, kw.get("operation_name"))
    middleware = kw.get("middleware")
    if middleware is not None and getattr(middleware, "middlewares", None):
        return graphql_execute(schema, document, **kw)  # plans take no field middleware
    return execute_document(
        schema,
        document,
        operation_name=kw.get("operation_name"),
        context_value=kw.get("context_value"),
        variable_values=kw.get("variable_values"),
        root_value=kw.get("root_value"),
    )


class ElevatedSchema(strawberry.Schema):
    def _get_execute_function(self) -> Callable[..., Any]:
        """Strawberry's pipeline (caches, limits, error shaping) with our compiled executor."""
        if self.config.enable_experimental_incremental_execution:
            return super()._get_execute_function()
        return _execute

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Errors are logged where they are shaped; expected ones are not worth a log line."""


schema = ElevatedSchema(
    query=Query,
    mutation=Mutation,
    subscription=EventsSubscription,
    config=StrawberryConfig(auto_camel_case=True, scalar_map=SCALAR_MAP),
    extensions=[
        lambda: ParserCache(maxsize=512),  # the LRU caches are module-wide, shared by requests
        lambda: ValidationCache(maxsize=512),
        QueryLimits,
        AnonymousGate,
        NulGuard,
        CostLimiter,
        ErrorShaping,
    ],
)

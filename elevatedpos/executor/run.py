"""One execution of a compiled plan: the request's context, variables and collected errors."""

from __future__ import annotations

from asyncio import gather, get_running_loop
from collections.abc import Awaitable, Sequence
from inspect import iscoroutine
from typing import TYPE_CHECKING, Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLResolveInfo,
    GraphQLSchema,
    OperationDefinitionNode,
    located_error,
)
from graphql.execution.values import VariableValues
from graphql.pyutils import Path, gather_with_cancel, is_awaitable
from graphql.type.definition import GraphQLResolveInfoHelpers

if TYPE_CHECKING:
    from elevatedpos.executor.fields import FieldPlan


# Futures of failed fields' siblings, kept until they settle. Module-level rather than on
# the Run, so a Run holds no reference back to itself: each request's Run (and its
# context) is freed by reference counting, where a cycle would leave it to the garbage
# collector (a collection every ~80 requests, measured on `me`).
_SETTLING: set[Any] = set()


def settle_in_background(awaitables: list[Awaitable[Any]]) -> None:
    """Let pending siblings of a failed field finish, so their errors are observed."""
    try:
        get_running_loop()
    except RuntimeError:
        for awaitable in awaitables:
            if iscoroutine(awaitable):
                awaitable.close()
        return
    future = gather(*awaitables, return_exceptions=True)
    _SETTLING.add(future)
    future.add_done_callback(_SETTLING.discard)


def _gather(values: Sequence[Awaitable[Any]]) -> Awaitable[list[Any]]:
    return gather_with_cancel(*values)


def _track(values: Sequence[Any]) -> None:
    awaitables = [v for v in values if is_awaitable(v)]
    if awaitables:
        settle_in_background(awaitables)


_HELPERS = GraphQLResolveInfoHelpers(gather=_gather, track=_track)


class Run:
    """What every field of one execution shares; errors are kept as graphql-core keeps them."""

    __slots__ = (
        "_error_paths",
        "collector",
        "context_value",
        "errors",
        "fragments",
        "operation",
        "root_value",
        "schema",
        "variable_values",
    )

    def __init__(
        self,
        schema: GraphQLSchema,
        operation: OperationDefinitionNode,
        fragments: dict[str, FragmentDefinitionNode],
        variable_values: VariableValues,
        context_value: Any,
        root_value: Any,
    ) -> None:
        self.schema = schema
        self.operation = operation
        self.fragments = fragments
        self.variable_values = variable_values
        self.context_value = context_value
        self.root_value = root_value
        self.errors: list[GraphQLError] = []
        self._error_paths: set[Path | None] = set()
        # The list whose items are being completed, while it collects their loaded fields.
        self.collector: Any = None

    def info(self, field: FieldPlan, path: Path) -> GraphQLResolveInfo:
        """The resolve info graphql-core would build for `field` at `path`."""
        return GraphQLResolveInfo(
            field.name,
            field.nodes,
            field.return_type,
            field.parent_type,
            path,
            self.schema,
            self.fragments,
            self.root_value,
            self.operation,
            self.variable_values,
            self.context_value,
            is_awaitable,
            None,
            _HELPERS,
        )

    def field_error(
        self, raw_error: Exception, nodes: list[FieldNode], path: Path, non_null: bool
    ) -> None:
        """Locate the error; raise it on to the parent when the position cannot be null."""
        error = located_error(raw_error, nodes, path.as_list())
        if non_null:
            raise error
        self.add_error(error, path)

    def add_error(self, error: GraphQLError, path: Path | None) -> None:
        """Keep the error unless its position (or an ancestor) was already nulled."""
        positions = self._error_paths
        if None in positions:
            return
        at = path
        while at is not None:
            if at in positions:
                return
            at = at.prev
        positions.add(path)
        self.errors.append(error)

    settle_in_background = staticmethod(settle_in_background)

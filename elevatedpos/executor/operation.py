"""An operation compiled once and executed per request, with graphql-core as the fallback."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLIncludeDirective,
    GraphQLSchema,
    GraphQLSkipDirective,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    execute,
)
from graphql.execution.collect_fields import FragmentDetails
from graphql.execution.values import VariableValues, get_variable_values
from graphql.pyutils import AwaitableOrValue, is_awaitable

from elevatedpos.executor.compiler import NO_VARIABLES, PlanCompiler, UnsupportedOperation
from elevatedpos.executor.fields import ObjectPlan
from elevatedpos.executor.run import Run

_CONDITIONS = frozenset({GraphQLSkipDirective.name, GraphQLIncludeDirective.name})
_MISSING = object()
MAX_COERCION_ERRORS = 50  # graphql-core's default for `execute`


class OperationPlan:
    """One operation of a validated document; `execute` answers what graphql-core's would."""

    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        operation_name: str | None,
        condition_variables: tuple[str, ...],
        enum_case: Callable[[str], str] | None = None,
        fallback_output: Callable[[Any], Any] | None = None,
    ) -> None:
        self.schema = schema
        # Enum names written another way (REST: lower case) by the plans; graphql-core,
        # when it runs a variant, writes the schema's, and `fallback_output` rewrites them.
        self.enum_case = enum_case
        self.fallback_output = fallback_output
        self.document = document
        self.operation = operation
        self.operation_name = operation_name
        self.serial = operation.operation == OperationType.MUTATION
        self.condition_variables = condition_variables
        root_type = schema.get_root_type(operation.operation)
        assert root_type is not None
        self.root_type = root_type
        self.fragment_definitions = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.fragments = {n: FragmentDetails(d) for n, d in self.fragment_definitions.items()}
        # One root plan per outcome of the variables that @skip/@include read; None: fallback.
        self._variants: dict[tuple[Any, ...], ObjectPlan | None] = {}
        self._no_variables = get_variable_values(schema, (), {}, max_errors=MAX_COERCION_ERRORS)

    def variant(self, variable_values: VariableValues) -> ObjectPlan | None:
        """The root plan for these variables' @skip/@include outcomes, compiled on first use."""
        if not self.condition_variables:
            key: tuple[Any, ...] = ()
        else:
            coerced = variable_values.coerced
            key = tuple(coerced.get(name, _MISSING) for name in self.condition_variables)
        if key in self._variants:
            return self._variants[key]
        compiler = PlanCompiler(
            self.schema, self.operation, self.fragments, variable_values, self.enum_case
        )
        try:
            plan: ObjectPlan | None = compiler.root(self.root_type)
        except (GraphQLError, RecursionError, UnsupportedOperation):
            plan = None  # graphql-core runs it (and reports a request or field error)
        self._variants[key] = plan
        return plan

    def execute(
        self,
        context_value: Any = None,
        variable_values: dict[str, Any] | None = None,
        root_value: Any = None,
    ) -> AwaitableOrValue[ExecutionResult]:
        """Run the operation: an ExecutionResult, or an awaitable of one."""
        if not variable_values and not self.operation.variable_definitions:
            coerced = self._no_variables  # nothing to coerce: the same (read-only) values
        else:
            coerced = get_variable_values(
                self.schema,
                self.operation.variable_definitions or (),
                variable_values or {},
                max_errors=MAX_COERCION_ERRORS,
            )
        if isinstance(coerced, list):
            return ExecutionResult(None, coerced)
        root = self.variant(coerced)
        if root is None:
            result = execute(
                self.schema,
                self.document,
                root_value,
                context_value,
                variable_values,
                self.operation_name,
            )
            if self.fallback_output is None:
                return result
            if is_awaitable(result):
                return _reshape_later(result, self.fallback_output)
            return _reshape(result, self.fallback_output)
        run = Run(
            self.schema,
            self.operation,
            self.fragment_definitions,
            coerced,
            context_value,
            root_value,
        )
        try:
            if self.serial:
                data = root.execute_serially(run, root_value, None)
            else:
                data = root.execute_fields(run, root_value, None)
        except GraphQLError as error:
            run.add_error(error, None)
            return ExecutionResult(None, run.errors)
        if type(data) is not dict and is_awaitable(data):
            return _await_result(run, data)
        return ExecutionResult(data, run.errors or None)


def _reshape(result: ExecutionResult, output: Callable[[Any], Any]) -> ExecutionResult:
    if result.data is not None:
        result.data = output(result.data)
    return result


async def _reshape_later(pending: Any, output: Callable[[Any], Any]) -> ExecutionResult:
    return _reshape(await pending, output)


async def _await_result(run: Run, pending: Any) -> ExecutionResult:
    try:
        data = await pending
    except GraphQLError as error:
        run.add_error(error, None)
        return ExecutionResult(None, run.errors)
    return ExecutionResult(data, run.errors or None)


def compile_operation(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    *,
    enum_case: Callable[[str], str] | None = None,
    fallback_output: Callable[[Any], Any] | None = None,
) -> OperationPlan | None:
    """A plan for a validated document's operation, or None when graphql-core must run it.

    `enum_case` writes enum names another way (the REST bridge's lower case) in the plans'
    output; `fallback_output` then turns graphql-core's output, for a variant it runs,
    into the same shape."""
    operation = _select_operation(document, operation_name)
    if (
        operation is None
        or operation.operation not in (OperationType.QUERY, OperationType.MUTATION)
        or schema.get_root_type(operation.operation) is None
        or operation.directives
    ):
        return None
    fragments = [d for d in document.definitions if isinstance(d, FragmentDefinitionNode)]
    if any(f.variable_definitions or f.directives for f in fragments):
        return None
    conditions: list[str] = []
    selection_sets = [operation.selection_set, *(f.selection_set for f in fragments)]
    for selection_set in selection_sets:
        for directive in _directives(selection_set):
            if directive.name.value not in _CONDITIONS:
                return None
            conditions.extend(
                arg.value.name.value
                for arg in directive.arguments
                if isinstance(arg.value, VariableNode)
            )
    plan = OperationPlan(
        schema,
        document,
        operation,
        operation_name,
        tuple(dict.fromkeys(conditions)),
        enum_case,
        fallback_output,
    )
    if not plan.condition_variables and plan.variant(NO_VARIABLES) is None:
        return None
    return plan


def _select_operation(
    document: DocumentNode, operation_name: str | None
) -> OperationDefinitionNode | None:
    """The operation graphql-core would run; None where it answers with an error."""
    ops = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        return ops[0] if len(ops) == 1 else None
    named = [o for o in ops if o.name is not None and o.name.value == operation_name]
    return named[-1] if named else None


def _directives(selection_set: SelectionSetNode) -> Iterator[Any]:
    for selection in selection_set.selections:
        yield from selection.directives or ()
        child = getattr(selection, "selection_set", None)
        if child is not None:
            yield from _directives(child)

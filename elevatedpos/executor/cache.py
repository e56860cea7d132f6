"""Plans for arbitrary validated documents, kept in a bounded LRU keyed by document text."""

from __future__ import annotations

import os
from collections import OrderedDict
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLSchema,
    OperationDefinitionNode,
    execute,
    print_ast,
)
from graphql.pyutils import AwaitableOrValue

from elevatedpos.executor.operation import OperationPlan, compile_operation

# `ELEVATEDPOS_EXECUTOR=graphql-core` runs everything through graphql-core, for debugging.
COMPILED_EXECUTOR = os.environ.get("ELEVATEDPOS_EXECUTOR", "compiled") != "graphql-core"

PlanKey = tuple[GraphQLSchema, str, str | None]


class PlanCache:
    """Compiled plans by (schema, document text, operation name); None marks a fallback."""

    def __init__(self, maxsize: int = 512) -> None:
        self.maxsize = maxsize
        self._plans: OrderedDict[PlanKey, OperationPlan | None] = OrderedDict()

    def get(
        self, schema: GraphQLSchema, document: DocumentNode, operation_name: str | None
    ) -> OperationPlan | None:
        """The plan for a validated document, compiled on first use."""
        text = document.loc.source.body if document.loc is not None else print_ast(document)
        key = (schema, text, operation_name)
        if key in self._plans:
            self._plans.move_to_end(key)
            return self._plans[key]
        plan = self._plans[key] = compile_operation(schema, document, operation_name)
        if len(self._plans) > self.maxsize:
            self._plans.popitem(last=False)
        return plan

    def __len__(self) -> int:
        return len(self._plans)


PLANS = PlanCache()


class ValidatedDocuments:
    """Documents the full GraphQL pipeline parsed and validated, by (text, operation name).

    The HTTP view answers a repeated request for one of them from its plan, without parsing,
    validating or Strawberry's request machinery; anything else takes the full pipeline.
    """

    def __init__(self, maxsize: int = 512) -> None:
        self.maxsize = maxsize
        self._documents: OrderedDict[tuple[str, str | None], DocumentNode] = OrderedDict()

    def add(self, document: DocumentNode, operation_name: str | None) -> None:
        if document.loc is None:
            return
        text = document.loc.source.body
        keys = [(text, operation_name)]
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if len(operations) == 1:
            # Without a name, or with its own, a request picks a document's only operation.
            only = operations[0].name
            keys = [(text, None), (text, only.value if only is not None else None)]
        for key in keys:
            if key in self._documents:
                self._documents.move_to_end(key)
                continue
            self._documents[key] = document
            if len(self._documents) > self.maxsize:
                self._documents.popitem(last=False)

    def get(self, text: str, operation_name: str | None) -> DocumentNode | None:
        return self._documents.get((text, operation_name))

    def clear(self) -> None:
        self._documents.clear()

    def __len__(self) -> int:
        return len(self._documents)


VALIDATED = ValidatedDocuments()


def execute_document(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None = None,
    context_value: Any = None,
    variable_values: dict[str, Any] | None = None,
    root_value: Any = None,
    cache: PlanCache = PLANS,
) -> AwaitableOrValue[ExecutionResult]:
    """Execute a validated document like graphql-core's `execute`, through a cached plan."""
    plan = cache.get(schema, document, operation_name) if COMPILED_EXECUTOR else None
    if plan is None:
        return execute(schema, document, root_value, context_value, variable_values, operation_name)
    return plan.execute(context_value, variable_values, root_value)

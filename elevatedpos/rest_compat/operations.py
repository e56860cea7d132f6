"""The named operations the REST table points at: parsed and validated once, at import."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLInputType,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    parse,
    separate_operations,
    type_from_ast,
    validate,
)

from elevatedpos.executor import COMPILED_EXECUTOR, OperationPlan, compile_operation
from elevatedpos.rest_compat.convert import Transform, output_transform

OPERATIONS_DIR = Path(__file__).parent / "operations"


@dataclass(frozen=True)
class CompiledOperation:
    name: str
    document: DocumentNode
    definition: OperationDefinitionNode
    result_key: str
    root_field: str
    variable_types: dict[str, GraphQLInputType]
    transform: Transform | None  # GraphQL's output into REST's (enum names in lower case)
    plan: OperationPlan | None = None  # None: graphql-core executes it; else REST-shaped

    def variable_type(self, path: str) -> GraphQLInputType:
        """The input type at a dotted variable path such as `filter.status`."""
        head, *rest = path.split(".")
        t: Any = self.variable_types[head]
        for key in rest:
            while hasattr(t, "of_type"):
                t = t.of_type
            t = t.fields[key].type
        return t  # type: ignore[no-any-return]

    @property
    def is_mutation(self) -> bool:
        return self.definition.operation == OperationType.MUTATION


class InvalidOperation(Exception):
    """An operation file does not fit the schema: a start-up failure, never a request's."""


def _compile(schema: GraphQLSchema, name: str, document: DocumentNode) -> CompiledOperation:
    errors = validate(schema, document)
    if errors:
        raise InvalidOperation(f"{name}: " + "; ".join(e.message for e in errors))
    ops = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    (definition,) = ops
    roots = [s for s in definition.selection_set.selections if isinstance(s, FieldNode)]
    if len(roots) != 1:
        raise InvalidOperation(f"{name}: a REST operation selects exactly one root field")
    root = roots[0]
    root_type = schema.get_root_type(definition.operation)
    assert root_type is not None
    variable_types = {
        v.variable.name.value: type_from_ast(schema, v.type)  # type: ignore[misc]
        for v in definition.variable_definitions or ()
    }
    transform = output_transform(schema, root_type, definition.selection_set, fragments)
    return CompiledOperation(
        name=name,
        document=document,
        definition=definition,
        result_key=root.alias.value if root.alias else root.name.value,
        root_field=root.name.value,
        variable_types=variable_types,  # type: ignore[arg-type]
        transform=transform,
        # The plan writes enums as REST does; `transform` is for graphql-core's output.
        plan=compile_operation(
            schema, document, name, enum_case=str.lower, fallback_output=transform
        )
        if COMPILED_EXECUTOR
        else None,
    )


def load_operations(schema: GraphQLSchema) -> dict[str, CompiledOperation]:
    """Every named operation in operations/*.graphql, each with just the fragments it uses."""
    compiled: dict[str, CompiledOperation] = {}
    for path in sorted(OPERATIONS_DIR.glob("*.graphql")):
        for name, document in separate_operations(parse(path.read_text())).items():
            if name in compiled:
                raise InvalidOperation(f"operation {name} is defined twice")
            compiled[name] = _compile(schema, name, document)
    return compiled

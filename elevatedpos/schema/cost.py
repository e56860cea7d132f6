"""What a GraphQL request costs against the org's rate-limit bucket.

Each connection field may return `first` nodes (50 when not given) for every node of its
parent connections; a request's cost is 1 plus one token per 100 nodes it can return, and
a request that could return more than MAX_NODES nodes is refused outright.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
)

from elevatedpos.db.pagination import DEFAULT_PAGE

NODES_PER_TOKEN = 100
MAX_NODES = 10_000


def _page_size(node: FieldNode, variables: dict[str, Any]) -> int:
    for arg in node.arguments or ():
        if arg.name.value != "first":
            continue
        if isinstance(arg.value, IntValueNode):
            return int(arg.value.value)
        if isinstance(arg.value, VariableNode):
            value = variables.get(arg.value.name.value)
            if isinstance(value, int):
                return value
    return DEFAULT_PAGE


def _nodes(
    schema: GraphQLSchema,
    parent: Any,
    selection: SelectionSetNode,
    fragments: dict[str, FragmentDefinitionNode],
    variables: dict[str, Any],
    multiplier: int,
) -> int:
    total = 0
    for sel in selection.selections:
        if isinstance(sel, InlineFragmentNode):
            cond = schema.get_type(sel.type_condition.name.value) if sel.type_condition else parent
            total += _nodes(schema, cond, sel.selection_set, fragments, variables, multiplier)
        elif isinstance(sel, FragmentSpreadNode):
            frag = fragments.get(sel.name.value)
            if frag is not None:
                cond = schema.get_type(frag.type_condition.name.value)
                total += _nodes(schema, cond, frag.selection_set, fragments, variables, multiplier)
        elif isinstance(sel, FieldNode) and sel.selection_set is not None:
            fields = getattr(parent, "fields", {})
            field = fields.get(sel.name.value)
            if field is None:
                continue
            child = get_named_type(field.type)
            inner = multiplier
            if isinstance(child, GraphQLObjectType) and child.name.endswith("Connection"):
                inner = multiplier * max(1, _page_size(sel, variables))
                total += inner
            total += _nodes(schema, child, sel.selection_set, fragments, variables, inner)
    return total


def estimated_nodes(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
    variables: dict[str, Any],
) -> int:
    """How many nodes `operation` can return at most."""
    root = schema.get_root_type(operation.operation)
    return _nodes(schema, root, operation.selection_set, fragments, variables, 1)


def request_cost(nodes: int) -> int:
    """Tokens a request takes from the bucket: 1, plus 1 per 100 nodes it can return."""
    return 1 + nodes // NODES_PER_TOKEN

"""Type-directed conversion between REST JSON and GraphQL values.

REST speaks enum values in lower case (`"active"`), GraphQL in upper case (`ACTIVE`);
both use the same camelCase field names. Inputs are checked against the GraphQL input
types up front so a bad body is a 422 naming each offending field as a dotted path.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    SelectionSetNode,
    get_named_type,
)
from graphql.utilities import validate_input_value

from elevatedpos.errors import FieldError

Transform = Callable[[Any], Any]


def _unwrap(t: Any) -> Any:
    while isinstance(t, (GraphQLNonNull, GraphQLList)):
        t = t.of_type
    return t


def rest_enums_to_graphql(value: Any, type_: GraphQLInputType) -> Any:
    """Upper-case REST enum values wherever the input type has an enum."""
    if value is None:
        return None
    if isinstance(type_, GraphQLNonNull):
        return rest_enums_to_graphql(value, type_.of_type)
    if isinstance(type_, GraphQLList):
        if isinstance(value, list):
            return [rest_enums_to_graphql(v, type_.of_type) for v in value]
        return rest_enums_to_graphql(value, type_.of_type)
    if isinstance(type_, GraphQLEnumType):
        if isinstance(value, str) and value == value.lower() and value.upper() in type_.values:
            return value.upper()
        return value
    if isinstance(type_, GraphQLInputObjectType) and isinstance(value, dict):
        fields = type_.fields
        return {
            k: rest_enums_to_graphql(v, fields[k].type) if k in fields else v
            for k, v in value.items()
        }
    return value


_NOT_PROVIDED = re.compile(r"to include required field '(\w+)'")
_NOT_DEFINED = re.compile(r"not to include unknown field '(\w+)'")


def _describe(type_: Any) -> str:
    named = get_named_type(type_)
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    if isinstance(type_, GraphQLList):
        return "a list"
    if isinstance(named, GraphQLEnumType):
        return "one of " + ", ".join(v.lower() for v in named.values)
    if isinstance(named, GraphQLInputObjectType):
        return "an object"
    return {
        "Int": "an integer",
        "Float": "a number",
        "Boolean": "true or false",
        "String": "a string",
        "ID": "a string id",
        "DateTime": "an RFC 3339 timestamp",
    }.get(named.name, f"a {named.name}")


def _type_at(root: GraphQLInputType, path: list[str | int]) -> Any:
    """The input type found at `path` (keys and list indices) below `root`."""
    t: Any = root
    for key in path:
        t = t.of_type if isinstance(t, GraphQLNonNull) else t
        if isinstance(key, int):
            t = t.of_type if isinstance(t, GraphQLList) else t
        elif isinstance(t, GraphQLInputObjectType) and key in t.fields:
            t = t.fields[key].type
        else:
            return t
    return t


def check_input(
    value: Any, type_: GraphQLInputType, prefix: list[str | int] | None = None
) -> list[FieldError]:
    """Field errors for `value` against `type_`, with dotted paths (`lineItems.0.productId`)."""
    errors: list[FieldError] = []
    base = list(prefix or [])

    def on_error(error: Any, path: list[str | int]) -> None:
        full = base + list(path)
        message = str(error.message)
        if m := _NOT_PROVIDED.search(message):
            name = ".".join(str(p) for p in [*full, m.group(1)])
            errors.append(FieldError(name, f"{name} is required"))
            return
        if m := _NOT_DEFINED.search(message):
            name = ".".join(str(p) for p in [*full, m.group(1)])
            errors.append(FieldError(name, f"{name} is not a known field"))
            return
        name = ".".join(str(p) for p in full) or "body"
        expected = _type_at(type_, list(path))
        if "not to be None" in message or "to be provided" in message:
            errors.append(FieldError(name, f"{name} is required"))
        else:
            errors.append(FieldError(name, f"{name} must be {_describe(expected)}"))

    _lists_are_arrays(value, type_, base, errors)
    validate_input_value(value, type_, on_error, hide_suggestions=True)
    return errors


def _lists_are_arrays(
    value: Any, type_: Any, path: list[str | int], errors: list[FieldError]
) -> None:
    """A JSON body's lists must be arrays. GraphQL's input coercion takes a lone value for a
    list of one (`"categoryIds": "c1"`); a REST client sending that has a bug to hear about."""
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    if value is None:
        return
    if isinstance(type_, GraphQLList):
        if not isinstance(value, list):
            name = ".".join(str(p) for p in path) or "body"
            errors.append(FieldError(name, f"{name} must be a list"))
            return
        for index, item in enumerate(value):
            _lists_are_arrays(item, type_.of_type, [*path, index], errors)
    elif isinstance(type_, GraphQLInputObjectType) and isinstance(value, dict):
        for key, item in value.items():
            field = type_.fields.get(key)
            if field is not None:
                _lists_are_arrays(item, field.type, [*path, key], errors)


def parse_query_value(raw: str, type_: GraphQLInputType) -> Any:
    """A query-string value as the GraphQL variable type wants it.

    Raises ValueError with a message naming what was expected.
    """
    named = get_named_type(type_)
    if isinstance(named, GraphQLEnumType):
        if raw == raw.lower() and raw.upper() in named.values:
            return raw.upper()
        raise ValueError(_describe(type_))
    if named.name == "Int":
        if not re.fullmatch(r"-?\d{1,10}", raw) or not -(2**31) <= int(raw) < 2**31:
            raise ValueError("an integer")
        return int(raw)
    if named.name == "Boolean":
        if raw.lower() not in {"true", "false", "1", "0"}:
            raise ValueError("true or false")
        return raw.lower() in {"true", "1"}
    if named.name == "DateTime":
        from elevatedpos.schema.scalars import parse_datetime

        try:
            parse_datetime(raw)
        except ValueError:
            raise ValueError(
                "an RFC 3339 timestamp with a time zone, e.g. 2026-11-23T10:15:00Z"
            ) from None
        return raw
    return raw


def collect_fields(
    selection_set: SelectionSetNode,
    fragments: dict[str, FragmentDefinitionNode],
    out: list[FieldNode],
) -> list[FieldNode]:
    """The fields of a selection set with its fragments spread in, appended to `out`."""
    for sel in selection_set.selections:
        if isinstance(sel, FieldNode):
            out.append(sel)
        elif isinstance(sel, InlineFragmentNode):
            collect_fields(sel.selection_set, fragments, out)
        elif isinstance(sel, FragmentSpreadNode):
            collect_fields(fragments[sel.name.value].selection_set, fragments, out)
    return out


def output_transform(
    schema: GraphQLSchema,
    parent: GraphQLObjectType,
    selection_set: SelectionSetNode,
    fragments: dict[str, FragmentDefinitionNode],
) -> Transform | None:
    """A function lower-casing the enum values of a result shaped by `selection_set`.

    Built once per operation; None when the selection holds no enum, so most results
    pass through untouched.
    """
    steps: list[tuple[str, Transform]] = []
    for node in collect_fields(selection_set, fragments, []):
        name = node.name.value
        if name.startswith("__"):
            continue
        field = _find_field(schema, parent, name)
        if field is None:
            continue
        key = node.alias.value if node.alias else name
        step = _value_transform(schema, field.type, node, fragments)
        if step is not None:
            steps.append((key, step))
    if not steps:
        return None

    def transform(obj: Any) -> Any:
        if isinstance(obj, dict):
            for key, step in steps:
                if key in obj and obj[key] is not None:
                    obj[key] = step(obj[key])
        return obj

    return transform


def _find_field(schema: GraphQLSchema, parent: Any, name: str) -> Any:
    if hasattr(parent, "fields") and name in parent.fields:
        return parent.fields[name]
    for impl in (
        schema.get_possible_types(parent) if not isinstance(parent, GraphQLObjectType) else []
    ):
        if name in impl.fields:
            return impl.fields[name]
    return None


def _value_transform(
    schema: GraphQLSchema,
    type_: GraphQLOutputType,
    node: FieldNode,
    fragments: dict[str, FragmentDefinitionNode],
) -> Transform | None:
    if isinstance(type_, GraphQLNonNull):
        return _value_transform(schema, type_.of_type, node, fragments)
    if isinstance(type_, GraphQLList):
        inner = _value_transform(schema, type_.of_type, node, fragments)
        if inner is None:
            return None
        return lambda items: [inner(i) if i is not None else None for i in items]
    if isinstance(type_, GraphQLEnumType):
        return lambda v: v.lower() if isinstance(v, str) else v
    if node.selection_set is not None:
        return output_transform(schema, type_, node.selection_set, fragments)  # type: ignore[arg-type]
    return None

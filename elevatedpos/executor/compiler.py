"""Compile a validated operation into plans: field collection happens here, once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import (
    FieldNode,
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLField,
    GraphQLID,
    GraphQLInt,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLString,
    OperationDefinitionNode,
    TypeNameMetaFieldDef,
    VariableNode,
    is_abstract_type,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
)
from graphql.execution.collect_fields import (
    CollectedFields,
    FieldDetailsList,
    FragmentDetails,
    collect_fields,
    collect_subfields,
)
from graphql.execution.executor import default_field_resolver
from graphql.execution.values import VariableValues, get_argument_values
from graphql.language import ListValueNode, ObjectValueNode, ValueNode
from strawberry.types.field import StrawberryField

from elevatedpos.executor.batch import loaded_field_of
from elevatedpos.executor.completion import (
    AbstractCompletion,
    Completion,
    LeafCompletion,
    ListCompletion,
    NonNullCompletion,
    ObjectCompletion,
)
from elevatedpos.executor.fields import DirectCall, FieldKind, FieldPlan, ObjectPlan

NO_VARIABLES = VariableValues({}, {})
_FAST_SCALARS: dict[Any, type] = {
    GraphQLString: str,
    GraphQLID: str,
    GraphQLBoolean: bool,
    GraphQLInt: int,
}


class UnsupportedOperation(Exception):
    """The compiler does not cover this operation; graphql-core executes it."""


class PlanCompiler:
    """Builds the object plans of one operation for one set of @skip/@include outcomes."""

    def __init__(
        self,
        schema: GraphQLSchema,
        operation: OperationDefinitionNode,
        fragments: dict[str, FragmentDetails],
        variable_values: VariableValues,
        enum_case: Callable[[str], str] | None = None,
    ) -> None:
        self.schema = schema
        self.operation = operation
        self.fragments = fragments
        self.variable_values = variable_values
        # Enum values' names as the output writes them (None: as the schema names them).
        self.enum_case = enum_case
        # graphql-core memoizes sub-field collection on the identity of the field list too.
        self._plans: dict[tuple[str, int], ObjectPlan] = {}
        self._alive: list[FieldDetailsList] = []

    def root(self, root_type: GraphQLObjectType) -> ObjectPlan:
        collected = collect_fields(
            self.schema, self.fragments, self.variable_values, root_type, self.operation
        )
        plan = ObjectPlan(root_type)
        plan.fields = self._fields(root_type, collected)
        plan.specialize()
        return plan

    def _object(self, object_type: GraphQLObjectType, details: FieldDetailsList) -> ObjectPlan:
        key = (object_type.name, id(details))
        plan = self._plans.get(key)
        if plan is None:
            self._alive.append(details)
            plan = self._plans[key] = ObjectPlan(object_type)
            collected = collect_subfields(
                self.schema, self.fragments, self.variable_values, self.operation, object_type,
                details,
            )  # fmt: skip
            plan.fields = self._fields(object_type, collected)
            plan.specialize()
        return plan

    def _fields(
        self, parent_type: GraphQLObjectType, collected: CollectedFields
    ) -> tuple[FieldPlan, ...]:
        grouped, new_defer_usages, forbidden = collected
        if new_defer_usages or forbidden:
            raise UnsupportedOperation("@defer")
        plans = []
        for key, details in grouped.items():
            if any(d.defer_usage or d.fragment_variable_values for d in details):
                raise UnsupportedOperation("@defer or fragment variables")
            definition = self.schema.get_field(parent_type, details[0].node.name.value)
            if definition is not None:  # graphql-core leaves unknown fields out
                plans.append(self._field(key, parent_type, definition, details))
        return tuple(plans)

    def _field(
        self,
        key: str,
        parent_type: GraphQLObjectType,
        definition: GraphQLField,
        details: FieldDetailsList,
    ) -> FieldPlan:
        nodes = [d.node for d in details]
        label = f"{parent_type.name}.{nodes[0].name.value}"
        completion = self._completion(definition.type, details, nodes, label)
        strawberry_field = definition.extensions.get("strawberry-definition")
        if definition is TypeNameMetaFieldDef:
            kind = FieldKind.TYPENAME
        elif (
            isinstance(strawberry_field, StrawberryField)
            and strawberry_field.is_basic_field
            and getattr(definition.resolve, "__name__", "") == "_get_basic_result"
            and not nodes[0].arguments
        ):
            kind = FieldKind.ATTRIBUTE
        else:
            kind = FieldKind.RESOLVER
        field = FieldPlan(key, parent_type, definition, nodes, kind, completion)
        _set_fast_object(field, completion)
        if kind is FieldKind.ATTRIBUTE:
            assert isinstance(strawberry_field, StrawberryField)
            field.getter = strawberry_field.default_resolver
            field.attribute = strawberry_field.python_name
            _set_fast_leaf(field, definition.type, self.enum_case)
        elif kind is FieldKind.RESOLVER:
            field.resolve = definition.resolve or default_field_resolver
            field.args = _static_args(definition, nodes[0])
            field.direct = self._direct_call(definition, strawberry_field, nodes[0])
            if field.direct is not None and field.direct.pass_self:
                field.loaded = loaded_field_of(field.direct.func)
                if field.loaded is not None:
                    field.kind = FieldKind.LOADED
        return field

    def _direct_call(
        self, definition: GraphQLField, strawberry_field: Any, node: FieldNode
    ) -> DirectCall | None:
        """Strawberry's call of the resolver, when its wrapper would add nothing to it."""
        strawberry_schema = getattr(self.schema, "_strawberry_schema", None)
        if (
            strawberry_schema is None
            or not isinstance(strawberry_field, StrawberryField)
            or type(strawberry_field).get_result is not StrawberryField.get_result
            or getattr(definition.resolve, "__name__", "") not in ("_resolver", "_async_resolver")
        ):
            return None
        resolver = strawberry_field.base_resolver
        if (
            resolver is None
            or not callable(resolver.wrapped_func)
            or strawberry_field.extensions  # permission classes are extensions too
            or strawberry_field.arguments
            or definition.args
            or node.arguments
        ):
            return None
        handlers = getattr(
            strawberry_schema.schema_converter, "_get_field_exception_handlers", None
        )
        if handlers is None or handlers(strawberry_field):
            return None
        source_names = tuple(
            p.name for p in (resolver.root_parameter, resolver.parent_parameter) if p is not None
        )
        info = resolver.info_parameter
        return DirectCall(
            resolver.wrapped_func,
            strawberry_field,
            strawberry_schema.config.info_class,
            resolver.self_parameter is not None,
            source_names,
            info.name if info is not None else None,
        )

    def _completion(
        self,
        return_type: GraphQLOutputType,
        details: FieldDetailsList,
        nodes: list[FieldNode],
        label: str,
    ) -> Completion:
        if is_non_null_type(return_type):
            inner = self._completion(return_type.of_type, details, nodes, label)
            return NonNullCompletion(inner, label)
        if is_list_type(return_type):
            item = self._completion(return_type.of_type, details, nodes, label)
            return ListCompletion(item, nodes, label, _loaded_fields(item))
        if is_leaf_type(return_type):
            case = self.enum_case if isinstance(return_type, GraphQLEnumType) else None
            return LeafCompletion(return_type, case)
        if is_abstract_type(return_type):
            objects = {
                t.name: ObjectCompletion(t, self._object(t, details), nodes)
                for t in self.schema.get_possible_types(return_type)
            }
            return AbstractCompletion(return_type, objects, nodes, label)
        if is_object_type(return_type):
            return ObjectCompletion(return_type, self._object(return_type, details), nodes)
        raise UnsupportedOperation(f"return type {return_type}")


def _loaded_fields(completion: Completion) -> frozenset[FieldPlan]:
    """Loaded fields under a list's items that only non-null objects separate from the item."""
    found: set[FieldPlan] = set()
    seen: set[int] = set()

    def walk(inner: Completion) -> None:
        if type(inner) is not ObjectCompletion or id(inner.plan) in seen:
            return
        seen.add(id(inner.plan))
        for field in inner.plan.fields:
            if field.kind is FieldKind.LOADED:
                found.add(field)
            elif field.kind is FieldKind.ATTRIBUTE and isinstance(
                field.completion, NonNullCompletion
            ):
                walk(field.completion.inner)

    walk(completion.inner if isinstance(completion, NonNullCompletion) else completion)
    return frozenset(found)


def _set_fast_leaf(
    field: FieldPlan, return_type: GraphQLOutputType, enum_case: Callable[[str], str] | None
) -> None:
    leaf = return_type.of_type if is_non_null_type(return_type) else return_type
    fast = _FAST_SCALARS.get(leaf)
    if fast is not None:
        field.fast_type = fast
        field.int_range = fast is int
        return
    serialize = getattr(leaf, "serialize", None)
    exact = getattr(serialize, "exact_input", None)
    if isinstance(leaf, GraphQLScalarType) and isinstance(exact, type):
        # a serializer that takes exactly this type, never fails and never gives null
        field.fast_type = exact
        field.fast_convert = serialize
        return
    wrapped = getattr(leaf, "wrapped_cls", None)
    if isinstance(leaf, GraphQLEnumType) and wrapped is not None:
        names = {member: leaf.coerce_output_value(member) for member in wrapped}
        if all(isinstance(name, str) for name in names.values()):
            if enum_case is not None:
                names = {member: enum_case(name) for member, name in names.items()}
            field.fast_type = wrapped
            field.enum_names = names


def _set_fast_object(field: FieldPlan, completion: Completion) -> None:
    inner = completion.inner if isinstance(completion, NonNullCompletion) else completion
    if type(inner) is not ObjectCompletion:
        return
    # Without `is_type_of` any value goes to the plan; Strawberry's accepts its own class.
    if inner.is_type_of is None or inner.exact_class is not None:
        definition = inner.object_type.extensions.get("strawberry-definition")
        field.object_class = getattr(definition, "origin", None)
        field.object_plan = inner.plan


def _static_args(definition: GraphQLField, node: FieldNode) -> dict[str, Any] | None:
    """Arguments coerced once when they name no variable; None means coerce per request."""
    if not definition.args and not node.arguments:
        return {}
    if any(_has_variable(arg.value) for arg in node.arguments or ()):
        return None
    try:
        return get_argument_values(definition, node, NO_VARIABLES)
    except Exception:  # noqa: BLE001 - the request then raises it where graphql-core would
        return None


def _has_variable(value: ValueNode) -> bool:
    if isinstance(value, VariableNode):
        return True
    if isinstance(value, ListValueNode):
        return any(_has_variable(v) for v in value.values)
    if isinstance(value, ObjectValueNode):
        return any(_has_variable(f.value) for f in value.fields)
    return False

"""Field and selection-set plans: each response key knows how to get and complete its value."""

# Any exception a resolver raises becomes a located field error, as in graphql-core.
# ruff: noqa: BLE001

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import IntEnum
from typing import TYPE_CHECKING, Any

from graphql import (
    FieldNode,
    GraphQLField,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
)
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path, gather_with_cancel, is_awaitable
from strawberry.types.cast import TYPE_CAST_ATTRIBUTE

from elevatedpos.executor.batch import LoadedField
from elevatedpos.executor.codegen import specialize
from elevatedpos.executor.completion import PLAIN, Completion, Info

if TYPE_CHECKING:
    from elevatedpos.executor.run import Run

MIN_INT = -(2**31)
MAX_INT = 2**31 - 1


class FieldKind(IntEnum):
    TYPENAME = 0  # `__typename`: the parent type's name, known at compile time
    ATTRIBUTE = 1  # a Strawberry field without resolver, permissions or extensions
    RESOLVER = 2  # anything else: the field's own resolver with a real GraphQLResolveInfo
    LOADED = 3  # a `loaded_field` resolver: one dataloader key, batched by the enclosing list


class DirectCall:
    """How Strawberry calls a resolver that has no arguments, extensions or error handlers.

    Strawberry's wrapper converts arguments, chains extensions and builds its `Info` on
    every call; with none of those, what remains is this: the source as `self` (or as
    `root`/`parent`), and its `Info` under the name the resolver gave it.
    """

    __slots__ = ("field", "func", "info_class", "info_name", "pass_self", "source_names")

    def __init__(
        self,
        func: Callable[..., Any],
        field: Any,
        info_class: type,
        pass_self: bool,
        source_names: tuple[str, ...],
        info_name: str | None,
    ) -> None:
        self.func = func
        self.field = field
        self.info_class = info_class
        self.pass_self = pass_self
        self.source_names = source_names
        self.info_name = info_name

    def __call__(self, source: Any, info: GraphQLResolveInfo) -> Any:
        kwargs = dict.fromkeys(self.source_names, source)
        if self.info_name is not None:
            kwargs[self.info_name] = self.info_class(_raw_info=info, _field=self.field)
        if self.pass_self:
            return self.func(source, **kwargs)
        return self.func(**kwargs)


class FieldPlan:
    """One response key of a selection set, with everything graphql-core looks up per field."""

    __slots__ = (
        "args",
        "attribute",
        "completion",
        "definition",
        "direct",
        "enum_names",
        "fast_convert",
        "fast_type",
        "getter",
        "int_range",
        "key",
        "kind",
        "loaded",
        "name",
        "needs_info",
        "nodes",
        "non_null",
        "object_class",
        "object_plan",
        "parent_name",
        "parent_type",
        "resolve",
        "return_type",
    )

    def __init__(
        self,
        key: str,
        parent_type: GraphQLObjectType,
        definition: GraphQLField,
        nodes: list[FieldNode],
        kind: FieldKind,
        completion: Completion,
    ) -> None:
        self.key = key
        self.name = nodes[0].name.value
        self.parent_type = parent_type
        self.parent_name = parent_type.name
        self.definition = definition
        self.return_type: GraphQLOutputType = definition.type
        self.nodes = nodes
        self.kind = kind
        self.completion = completion
        self.non_null = completion.non_null
        self.needs_info = kind >= FieldKind.RESOLVER or completion.needs_info
        self.resolve: Callable[..., Any] | None = None
        self.direct: DirectCall | None = None
        self.loaded: LoadedField | None = None
        self.args: dict[str, Any] | None = {}
        self.getter: Callable[[Any, str], Any] = getattr
        self.attribute = ""
        # Leaf fast path: a value of exactly this type is its own output (or an enum name).
        self.fast_type: type | None = None
        self.int_range = False
        self.enum_names: dict[Any, str] | None = None
        # ...or a value of exactly this type whose output this function gives, never failing.
        self.fast_convert: Callable[[Any], Any] | None = None
        # Object fast path: an instance of exactly this class needs no checks before its plan.
        self.object_class: type | None = None
        self.object_plan: ObjectPlan | None = None

    def execute(self, run: Run, source: Any, parent_path: Path | None) -> Any:
        """graphql-core's `execute_field`: the completed value, an awaitable, or a raise."""
        if self.kind is FieldKind.TYPENAME:
            return self.parent_name
        if self.kind is FieldKind.ATTRIBUTE:
            try:
                value = self.getter(source, self.attribute)
            except Exception as raw_error:
                run.field_error(raw_error, self.nodes, self.path(parent_path), self.non_null)
                return None
            return self.complete(run, value, parent_path)
        return self.call_resolver(run, source, parent_path)

    def path(self, parent_path: Path | None) -> Path:
        return Path(parent_path, self.key, self.parent_name)

    def call_resolver(self, run: Run, source: Any, parent_path: Path | None) -> Any:
        path = self.path(parent_path)
        info = run.info(self, path)
        try:
            if self.direct is not None:
                result = self.direct(source, info)
            else:
                args = self.args
                if args is None:
                    args = get_argument_values(self.definition, self.nodes[0], run.variable_values)
                assert self.resolve is not None
                result = self.resolve(source, info, **args)
            kind = type(result)
            if kind is self.object_class and getattr(result, TYPE_CAST_ATTRIBUTE, None) is None:
                return self.object_at(run, result, path)
            if kind not in PLAIN and is_awaitable(result):
                return self._complete_awaitable(run, result, path, info)
            completed = self.completion.complete(run, result, path, info)
            if is_awaitable(completed):
                return self._await_completed(run, completed, path)
        except Exception as raw_error:
            run.field_error(raw_error, self.nodes, path, self.non_null)
            return None
        return completed

    def complete(self, run: Run, value: Any, parent_path: Path | None) -> Any:
        """Complete an attribute's value (the general path, when the fast one does not apply)."""
        path = self.path(parent_path)
        info = run.info(self, path) if self.needs_info else None
        try:
            if is_awaitable(value):
                return self._complete_awaitable(run, value, path, info)
            completed = self.completion.complete(run, value, path, info)
            if is_awaitable(completed):
                return self._await_completed(run, completed, path)
        except Exception as raw_error:
            run.field_error(raw_error, self.nodes, path, self.non_null)
            return None
        return completed

    def complete_attribute(self, run: Run, value: Any, parent_path: Path | None) -> Any:
        """An attribute's value that is not of its leaf's fast type: an object of the
        field's own class goes straight to its plan, anything else to `complete`."""
        if type(value) is self.object_class and getattr(value, TYPE_CAST_ATTRIBUTE, None) is None:
            return self.object_at(run, value, self.path(parent_path))
        return self.complete(run, value, parent_path)

    def object_at(self, run: Run, value: Any, path: Path) -> Any:
        """`complete` for an instance of `object_class` at `path`: straight to its plan."""
        assert self.object_plan is not None
        try:
            completed = self.object_plan.execute_fields(run, value, path)
        except Exception as raw_error:
            run.field_error(raw_error, self.nodes, path, self.non_null)
            return None
        if type(completed) is not dict:
            return self._await_completed(run, completed, path)
        return completed

    async def _complete_awaitable(
        self, run: Run, result: Awaitable[Any], path: Path, info: Info
    ) -> Any:
        try:
            completed = self.completion.complete(run, await result, path, info)
            if is_awaitable(completed):
                completed = await completed
        except Exception as raw_error:
            run.field_error(raw_error, self.nodes, path, self.non_null)
            completed = None
        return completed

    async def _await_completed(self, run: Run, completed: Awaitable[Any], path: Path) -> Any:
        try:
            return await completed
        except Exception as raw_error:
            run.field_error(raw_error, self.nodes, path, self.non_null)
            return None


class ObjectPlan:
    """The grouped field set of one object type under one selection, in response order."""

    __slots__ = ("execute_fields", "fields", "object_type", "type_name")

    def __init__(self, object_type: GraphQLObjectType) -> None:
        self.object_type = object_type
        self.type_name = object_type.name
        self.fields: tuple[FieldPlan, ...] = ()
        # `execute`, or the function written for these fields once they are known.
        self.execute_fields: Callable[[Run, Any, Path | None], Any] = self.execute

    def specialize(self) -> None:
        """Replace the loop of `execute` by a function written for `fields`."""
        written = specialize(self, _gather_fields)
        self.execute_fields = written if written is not None else self.execute

    def execute(self, run: Run, source: Any, path: Path | None) -> Any:
        """graphql-core's `execute_fields`, with attribute leaves read and coerced inline."""
        results: dict[str, Any] = {}
        pending: list[str] = []
        try:
            for field in self.fields:
                if field.kind is FieldKind.ATTRIBUTE:
                    try:
                        value = field.getter(source, field.attribute)
                    except Exception as raw_error:
                        run.field_error(raw_error, field.nodes, field.path(path), field.non_null)
                        results[field.key] = None
                        continue
                    if type(value) is field.fast_type:
                        if field.enum_names is not None:
                            results[field.key] = field.enum_names[value]
                            continue
                        if field.fast_convert is not None:
                            results[field.key] = field.fast_convert(value)
                            continue
                        if not field.int_range or MIN_INT <= value <= MAX_INT:
                            results[field.key] = value
                            continue
                    result = field.complete_attribute(run, value, path)
                elif field.kind is FieldKind.TYPENAME:
                    results[field.key] = self.type_name
                    continue
                elif (
                    field.kind is FieldKind.LOADED
                    and (collector := run.collector) is not None
                    and field in collector.accepts
                ):
                    # The enclosing list loads every item's key at once, then fills this in.
                    collector.entries.append((field, source, path, results, collector.index))
                    results[field.key] = None
                    continue
                else:
                    result = field.call_resolver(run, source, path)
                results[field.key] = result
                if type(result) not in PLAIN and is_awaitable(result):
                    pending.append(field.key)
        except Exception:
            if pending:
                run.settle_in_background([results[key] for key in pending])
            raise
        if not pending:
            return results
        return _gather_fields(results, pending)

    def execute_serially(self, run: Run, source: Any, path: Path | None) -> Any:
        """Root mutation fields, one after the other (graphql-core's `async_reduce`)."""
        results: dict[str, Any] = {}
        for index, field in enumerate(self.fields):
            result = field.execute(run, source, path)
            if is_awaitable(result):
                return self._continue_serially(run, source, path, results, index, result)
            results[field.key] = result
        return results

    async def _continue_serially(
        self,
        run: Run,
        source: Any,
        path: Path | None,
        results: dict[str, Any],
        index: int,
        pending: Awaitable[Any],
    ) -> dict[str, Any]:
        results[self.fields[index].key] = await pending
        for field in self.fields[index + 1 :]:
            result = field.execute(run, source, path)
            results[field.key] = await result if is_awaitable(result) else result
        return results


async def _gather_fields(results: dict[str, Any], pending: list[str]) -> dict[str, Any]:
    if len(pending) == 1:
        results[pending[0]] = await results[pending[0]]
        return results
    values = await gather_with_cancel(*(results[key] for key in pending))
    results.update(zip(pending, values, strict=True))
    return results

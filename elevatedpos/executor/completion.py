"""Value completion specialised per return type: graphql-core's `complete_value`, unrolled."""

# Any exception a resolver raises becomes a located field error, as in graphql-core.
# ruff: noqa: BLE001

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import suppress
from inspect import iscoroutine
from typing import TYPE_CHECKING, Any

from graphql import (
    FieldNode,
    GraphQLAbstractType,
    GraphQLError,
    GraphQLLeafType,
    GraphQLObjectType,
    GraphQLResolveInfo,
    is_object_type,
    located_error,
)
from graphql.execution.executor import default_type_resolver
from graphql.pyutils import (
    Path,
    Undefined,
    gather_with_cancel,
    inspect,
    is_async_iterable,
    is_awaitable,
    is_iterable,
)
from strawberry.types.cast import TYPE_CAST_ATTRIBUTE

from elevatedpos.executor.batch import NO_LOAD

if TYPE_CHECKING:
    from elevatedpos.executor.fields import ObjectPlan
    from elevatedpos.executor.run import Run

Info = GraphQLResolveInfo | None
# Completed values of these types are never awaitable: no need for graphql-core's test.
PLAIN = frozenset({dict, list, str, int, float, bool, type(None)})


def _made_by_strawberry(is_type_of: Any) -> bool:
    """Strawberry's own `is_type_of` (it ignores its info argument)."""
    return (
        getattr(is_type_of, "__module__", None) == "strawberry.schema.schema_converter"
        and getattr(is_type_of, "__name__", None) == "is_type_of"
    )


class Completion:
    """Completes a resolved value for one position type; may return an awaitable."""

    __slots__ = ("needs_info", "non_null", "pure")

    def __init__(self, needs_info: bool, non_null: bool = False) -> None:
        self.needs_info = needs_info
        self.non_null = non_null
        self.pure: bool | None = None  # see `is_pure`

    def complete(self, run: Run, value: Any, path: Path, info: Info) -> Any:
        raise NotImplementedError


class NonNullCompletion(Completion):
    __slots__ = ("inner", "message")

    def __init__(self, inner: Completion, label: str) -> None:
        super().__init__(inner.needs_info, non_null=True)
        self.inner = inner
        self.message = f"Cannot return null for non-nullable field {label}."

    def complete(self, run: Run, value: Any, path: Path, info: Info) -> Any:
        if isinstance(value, Exception):
            raise value
        completed = self.inner.complete(run, value, path, info)
        if completed is None:
            raise TypeError(self.message)
        return completed


class LeafCompletion(Completion):
    __slots__ = ("coerce", "leaf_type")

    def __init__(
        self, leaf_type: GraphQLLeafType, case: Callable[[str], str] | None = None
    ) -> None:
        super().__init__(needs_info=False)
        self.leaf_type = leaf_type
        self.coerce: Callable[[Any], Any] = leaf_type.coerce_output_value
        if case is not None:  # enum names written another way (REST's lower case)
            coerce = self.coerce

            def coerce_and_case(value: Any) -> Any:
                name = coerce(value)
                return case(name) if isinstance(name, str) else name

            self.coerce = coerce_and_case

    def complete(self, run: Run, value: Any, path: Path, info: Info) -> Any:
        if isinstance(value, Exception):
            raise value
        if value is None or value is Undefined:
            return None
        coerced = self.coerce(value)
        if coerced is Undefined or coerced is None:
            raise TypeError(
                f"Expected `{inspect(self.leaf_type)}.coerce_output_value("
                f"{inspect(value)})` to return non-nullable value, returned:"
                f" {inspect(coerced)}"
            )
        return coerced


class ObjectCompletion(Completion):
    __slots__ = ("exact_class", "is_type_of", "nodes", "object_type", "plan")

    def __init__(self, object_type: GraphQLObjectType, plan: ObjectPlan, nodes: list[FieldNode]):
        is_type_of = object_type.is_type_of
        strawberry_check = is_type_of is not None and _made_by_strawberry(is_type_of)
        super().__init__(needs_info=is_type_of is not None and not strawberry_check)
        self.object_type = object_type
        self.plan = plan
        self.nodes = nodes
        self.is_type_of = is_type_of
        # Strawberry's check accepts an instance of the type's own class that carries no
        # `strawberry.cast`: tested here with two lookups instead of a call.
        definition = object_type.extensions.get("strawberry-definition")
        self.exact_class: type | None = (
            getattr(definition, "origin", None) if strawberry_check else None
        )

    def complete(self, run: Run, value: Any, path: Path, info: Info) -> Any:
        if isinstance(value, Exception):
            raise value
        if value is None or value is Undefined:
            return None
        return self.complete_object(run, value, path, info)

    def complete_object(self, run: Run, value: Any, path: Path, info: Info) -> Any:
        """Check `is_type_of` when the type has one, then execute the sub-selection."""
        if self.is_type_of is not None and not (
            type(value) is self.exact_class and getattr(value, TYPE_CAST_ATTRIBUTE, None) is None
        ):
            matches = self.is_type_of(value, info)
            if is_awaitable(matches):
                return self._complete_after_check(run, value, path, matches)
            if not matches:
                raise self._invalid(value)
        return self.plan.execute_fields(run, value, path)

    async def _complete_after_check(
        self, run: Run, value: Any, path: Path, matches: Awaitable[bool]
    ) -> Any:
        if not await matches:
            raise self._invalid(value)
        result = self.plan.execute_fields(run, value, path)
        return await result if is_awaitable(result) else result

    def _invalid(self, value: Any) -> GraphQLError:
        return GraphQLError(
            f"Expected value of type '{self.object_type}' but got: {inspect(value)}.",
            self.nodes,
        )


class AbstractCompletion(Completion):
    __slots__ = ("abstract_type", "label", "nodes", "objects", "resolve_type")

    def __init__(
        self,
        abstract_type: GraphQLAbstractType,
        objects: dict[str, ObjectCompletion],
        nodes: list[FieldNode],
        label: str,
    ) -> None:
        super().__init__(needs_info=True)
        self.abstract_type = abstract_type
        self.objects = objects
        self.nodes = nodes
        self.label = label
        self.resolve_type = abstract_type.resolve_type or default_type_resolver

    def complete(self, run: Run, value: Any, path: Path, info: Info) -> Any:
        if isinstance(value, Exception):
            raise value
        if value is None or value is Undefined:
            return None
        runtime_type = self.resolve_type(value, info, self.abstract_type)
        if is_awaitable(runtime_type):
            return self._complete_resolved(run, value, path, info, runtime_type)
        return self._object_for(run, runtime_type, value).complete_object(run, value, path, info)

    async def _complete_resolved(
        self, run: Run, value: Any, path: Path, info: Info, runtime_type: Awaitable[Any]
    ) -> Any:
        name = await runtime_type
        result = self._object_for(run, name, value).complete_object(run, value, path, info)
        return await result if is_awaitable(result) else result

    def _object_for(self, run: Run, name: Any, value: Any) -> ObjectCompletion:
        """graphql-core's `ensure_valid_runtime_type`, with the same messages."""
        t = self.abstract_type
        if name is None:
            message = (
                f"Abstract type '{t}' must resolve to an Object type at runtime"
                f" for field '{self.label}'. Either the '{t}' type should provide"
                " a 'resolve_type' function or each possible type should provide"
                " an 'is_type_of' function."
            )
        elif not isinstance(name, str):
            message = (
                f"Abstract type '{t}' must resolve to an Object type at runtime"
                f" for field '{self.label}' with value {inspect(value)},"
                f" received '{inspect(name)}', which is not a valid Object type name."
            )
        elif (runtime_type := run.schema.get_type(name)) is None:
            message = (
                f"Abstract type '{t}' was resolved to a type '{name}'"
                " that does not exist inside the schema."
            )
        elif not is_object_type(runtime_type):
            message = f"Abstract type '{t}' was resolved to a non-object type '{name}'."
        elif name not in self.objects:
            message = f"Runtime Object type '{runtime_type}' is not a possible type for '{t}'."
        else:
            return self.objects[name]
        raise GraphQLError(message, self.nodes)


class Collector:
    """The loaded fields met while a list completes its items, to be loaded together."""

    __slots__ = ("accepts", "entries", "index")

    def __init__(self, accepts: frozenset[Any]) -> None:
        self.accepts = accepts
        # (field plan, source, parent path, the results dict to fill, item index)
        self.entries: list[tuple[Any, Any, Path | None, dict[str, Any], int]] = []
        self.index = 0


class ListCompletion(Completion):
    __slots__ = ("accepts", "item", "item_class", "item_plan", "label", "nodes")

    def __init__(
        self,
        item: Completion,
        nodes: list[FieldNode],
        label: str,
        accepts: frozenset[Any] = frozenset(),
    ) -> None:
        super().__init__(item.needs_info)
        self.item = item
        self.nodes = nodes
        self.label = label
        # Loaded fields an item reaches through non-null objects only: when one of them
        # fails where null is not allowed, the null stops at the item, as it would anyway.
        self.accepts = accepts
        # Items of exactly their object type's class (no `strawberry.cast`) go straight to
        # its plan: what `item.complete` would do after its checks.
        inner = item.inner if isinstance(item, NonNullCompletion) else item
        self.item_class: type | None = None
        self.item_plan: ObjectPlan | None = None
        if type(inner) is ObjectCompletion and (
            inner.is_type_of is None or inner.exact_class is not None
        ):
            definition = inner.object_type.extensions.get("strawberry-definition")
            self.item_class = getattr(definition, "origin", None)
            self.item_plan = inner.plan

    def complete(self, run: Run, value: Any, path: Path, info: Info) -> Any:
        if isinstance(value, Exception):
            raise value
        if value is None or value is Undefined:
            return None
        if type(value) is list:  # what resolvers return nearly always: skip the ABC checks
            return self._complete_iterable(run, value, path, info)
        if is_async_iterable(value):
            return self._complete_async_iterator(run, value.__aiter__(), path, info)
        if not is_iterable(value):
            raise GraphQLError(f"Expected Iterable, but did not find one for field '{self.label}'.")
        return self._complete_iterable(run, value, path, info)

    def _complete_iterable(self, run: Run, items: Iterable[Any], path: Path, info: Info) -> Any:
        completed: list[Any] = []
        pending: list[int] = []
        iterator = iter(items)
        index = 0
        collector = outer = None
        if self.accepts:
            outer = run.collector
            collector = run.collector = Collector(self.accepts)
        try:
            for item in iterator:
                if collector is not None:
                    collector.index = index
                if self._complete_item(run, item, completed, Path(path, index, None), info):
                    pending.append(index)
                index += 1
        except Exception:
            awaitables = [completed[i] for i in pending]
            with suppress(Exception):
                awaitables.extend(x for x in iterator if is_awaitable(x))
            if awaitables:
                run.settle_in_background(awaitables)
            raise
        finally:
            if collector is not None:
                run.collector = outer
        if collector is not None and collector.entries:
            return self._complete_loaded(run, completed, pending, collector, path)
        if not pending:
            return completed
        return _gather_items(completed, pending)

    async def _complete_loaded(
        self, run: Run, completed: list[Any], pending: list[int], collector: Collector, path: Path
    ) -> list[Any]:
        """Load the collected fields' keys together, then complete every item's value."""
        nulled: set[int] = set()
        loading = self._load_entries(run, collector, path, nulled)
        if pending:
            await gather_with_cancel(loading, _gather_items(completed, pending))
        else:
            await loading
        for index in nulled:
            completed[index] = None
        return completed

    async def _load_entries(
        self, run: Run, collector: Collector, path: Path, nulled: set[int]
    ) -> None:
        """Complete the entries in the order graphql-core's per-item resolvers would finish.

        Those that need no load (or cannot compute a key) finish first, in item order; the
        others when their key's future settles: loader by loader, futures in the order their
        keys were first asked for, and the items sharing a future in item order. Each key is
        asked for once; a value whose build ignores the source is built and completed once.
        """
        context = run.context_value
        later: list[Awaitable[None]] = []
        # loader -> key -> (its future, the entries waiting on it); dicts keep first-seen order
        waiting: dict[Any, dict[Any, tuple[Any, list[Any]]]] = {}
        loaders: dict[Any, Any] = {}
        nothing_loaded: dict[Any, Any] = {}  # built from no value: shared like a loaded one
        for entry in collector.entries:
            field, source = entry[0], entry[1]
            spec = field.loaded
            try:
                wanted = spec.key(source)
                if wanted is NO_LOAD:
                    self._complete_entry(run, entry, None, later, path, nulled, nothing_loaded)
                    continue
                keys = waiting.get(spec.loader)
                if keys is None:
                    keys = waiting[spec.loader] = {}
                group = keys.get(wanted)
                if group is not None:
                    group[1].append(entry)
                    continue
                loader = loaders.get(spec.loader)
                if loader is None:
                    loader = loaders[spec.loader] = context.loader(spec.loader)
                keys[wanted] = (loader.load(wanted), [entry])
            except Exception as raw_error:
                self._entry_failed(run, entry, _entry_path(entry), raw_error, path, nulled)
        try:
            for keys in waiting.values():
                for future, entries in keys.values():
                    try:
                        loaded = await future
                    except Exception as raw_error:
                        for entry in entries:
                            path_of = _entry_path(entry)
                            self._entry_failed(run, entry, path_of, raw_error, path, nulled)
                        continue
                    shared: dict[Any, Any] | None = {} if len(entries) > 1 else None
                    for entry in entries:
                        self._complete_entry(run, entry, loaded, later, path, nulled, shared)
        except BaseException:
            # The list failed: the loads nobody will await still have their errors observed.
            for keys in waiting.values():
                for future, _ in keys.values():
                    future.add_done_callback(_observe)
            for awaitable in later:
                if iscoroutine(awaitable):
                    awaitable.close()
            raise
        if later:
            await gather_with_cancel(*later)

    def _complete_entry(
        self,
        run: Run,
        entry: tuple[Any, Any, Any, dict[str, Any], int],
        loaded: Any,
        later: list[Awaitable[None]],
        path: Path,
        nulled: set[int],
        shared: dict[Any, Any] | None,
    ) -> None:
        """Build and complete one entry's value; `shared` holds, per field, a completed value
        other entries of the same loaded value may take (a pure completion, without errors)."""
        field, source, parent_path, results, index = entry
        if index in nulled:
            return
        shareable = shared is not None and field.loaded.by_value and is_pure(field.completion)
        if shareable:
            assert shared is not None
            done = shared.get(field, _NOT_YET)
            if done is not _NOT_YET:
                results[field.key] = done
                return
        field_path = Path(parent_path, field.key, field.parent_name)
        try:
            value = field.loaded.build(source, loaded)
            info = run.info(field, field_path) if field.completion.needs_info else None
            errors = len(run.errors)
            done = field.completion.complete(run, value, field_path, info)
            if type(done) not in PLAIN and is_awaitable(done):
                later.append(self._await_entry(run, entry, field_path, done, path, nulled))
                return
            results[field.key] = done
            if shareable and len(run.errors) == errors:
                assert shared is not None
                shared[field] = done
        except Exception as raw_error:
            self._entry_failed(run, entry, field_path, raw_error, path, nulled)

    async def _await_entry(
        self,
        run: Run,
        entry: tuple[Any, Any, Any, dict[str, Any], int],
        field_path: Path,
        done: Awaitable[Any],
        path: Path,
        nulled: set[int],
    ) -> None:
        try:
            value = await done
        except Exception as raw_error:
            self._entry_failed(run, entry, field_path, raw_error, path, nulled)
            return
        if entry[4] not in nulled:
            entry[3][entry[0].key] = value

    def _entry_failed(
        self,
        run: Run,
        entry: tuple[Any, Any, Any, dict[str, Any], int],
        field_path: Path,
        raw_error: Exception,
        path: Path,
        nulled: set[int],
    ) -> None:
        """A field error; where null is not allowed it nulls the item (or fails the list)."""
        field, _, _, results, index = entry
        if not field.non_null:
            run.field_error(raw_error, field.nodes, field_path, False)
            results[field.key] = None
            return
        if index in nulled:
            return
        error = located_error(raw_error, field.nodes, field_path.as_list())
        # Raises when the item cannot be null either: the list fails, as in graphql-core.
        run.field_error(error, self.nodes, Path(path, index, None), self.item.non_null)
        nulled.add(index)

    async def _complete_async_iterator(
        self, run: Run, iterator: AsyncIterator[Any], path: Path, info: Info
    ) -> list[Any]:
        completed: list[Any] = []
        pending: list[int] = []
        index = 0
        try:
            while True:
                item_path = Path(path, index, None)
                try:
                    item = await anext(iterator)
                except StopAsyncIteration:
                    break
                except Exception as raw_error:
                    raise located_error(raw_error, self.nodes, path.as_list()) from raw_error
                if self._complete_item(run, item, completed, item_path, info):
                    pending.append(index)
                index += 1
        except Exception:
            aclose = getattr(iterator, "aclose", None)
            if aclose is not None:
                with suppress(Exception):
                    await aclose()
            if pending:
                run.settle_in_background([completed[i] for i in pending])
            raise
        if not pending:
            return completed
        return await _gather_items(completed, pending)

    def _complete_item(
        self, run: Run, item: Any, completed: list[Any], item_path: Path, info: Info
    ) -> bool:
        """Append the completed item (or an awaitable of it); True when it is awaitable."""
        if type(item) is self.item_class and getattr(item, TYPE_CAST_ATTRIBUTE, None) is None:
            assert self.item_plan is not None
            try:
                value = self.item_plan.execute_fields(run, item, item_path)
            except Exception as raw_error:
                run.field_error(raw_error, self.nodes, item_path, self.item.non_null)
                completed.append(None)
                return False
            if type(value) is not dict:
                completed.append(self._await_item(run, value, item_path))
                return True
            completed.append(value)
            return False
        if is_awaitable(item):
            completed.append(self._complete_awaitable_item(run, item, item_path, info))
            return True
        try:
            value = self.item.complete(run, item, item_path, info)
            if type(value) not in PLAIN and is_awaitable(value):
                completed.append(self._await_item(run, value, item_path))
                return True
            completed.append(value)
        except Exception as raw_error:
            run.field_error(raw_error, self.nodes, item_path, self.item.non_null)
            completed.append(None)
        return False

    async def _await_item(self, run: Run, value: Awaitable[Any], item_path: Path) -> Any:
        try:
            return await value
        except Exception as raw_error:
            run.field_error(raw_error, self.nodes, item_path, self.item.non_null)
            return None

    async def _complete_awaitable_item(
        self, run: Run, item: Awaitable[Any], item_path: Path, info: Info
    ) -> Any:
        try:
            value = self.item.complete(run, await item, item_path, info)
            if is_awaitable(value):
                value = await value
        except Exception as raw_error:
            run.field_error(raw_error, self.nodes, item_path, self.item.non_null)
            return None
        return value


_NOT_YET: Any = object()


def is_pure(completion: Completion) -> bool:
    """Whether completing a value gives a result that depends on that value only and
    touches nothing else: leaves, and objects whose fields are all attributes of them
    (or `__typename`) with pure completions in turn. Memoized on the completion."""
    known = completion.pure
    if known is not None:
        return known
    completion.pure = False  # a type reached again through itself is not known pure
    if isinstance(completion, NonNullCompletion):
        result = is_pure(completion.inner)
    elif isinstance(completion, LeafCompletion):
        result = True
    elif isinstance(completion, ListCompletion):
        result = not completion.accepts and is_pure(completion.item)
    elif type(completion) is ObjectCompletion:
        from elevatedpos.executor.fields import FieldKind

        result = all(
            f.kind is FieldKind.TYPENAME
            or (f.kind is FieldKind.ATTRIBUTE and is_pure(f.completion))
            for f in completion.plan.fields
        )
    else:
        result = False
    completion.pure = result
    return result


def _observe(future: Any) -> None:
    if not future.cancelled():
        future.exception()


def _entry_path(entry: tuple[Any, Any, Any, dict[str, Any], int]) -> Path:
    field = entry[0]
    return Path(entry[2], field.key, field.parent_name)


async def _gather_items(completed: list[Any], pending: list[int]) -> list[Any]:
    if len(pending) == 1:
        completed[pending[0]] = await completed[pending[0]]
        return completed
    results = await gather_with_cancel(*(completed[i] for i in pending))
    for i, value in zip(pending, results, strict=True):
        completed[i] = value
    return completed

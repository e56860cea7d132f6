"""Fields that load one key through a request's dataloader: declared once, batched per list.

`loaded_field(loader, key, build)` writes a resolver `build(source, await load(key(source)))`
(`build(source, None)` without a load when `key` gives `NO_LOAD`). graphql-core and Strawberry
call it per object as any resolver; a compiled plan that completes a list of such objects
instead collects their keys, loads them together and builds every value in one pass: no
coroutine, task or `Info` per object, and the same values, errors and statements.

A `build` that takes only the loaded value (`build(value)`, no source) depends on nothing
else: a plan builds and completes it once per loaded value and shares the result between the
items that loaded the same key (50 products of 10 categories build 10 categories).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

NO_LOAD: Any = object()  # `key` says: nothing to load, the value is `build(source, None)`


class LoadedField:
    """What a loaded field does: which dataloader, which key of its source, which value."""

    __slots__ = ("build", "by_value", "key", "loader")

    def __init__(
        self,
        loader: Callable[[Any], Any],
        key: Callable[[Any], Any],
        build: Callable[..., Any],
    ) -> None:
        self.loader = loader
        self.key = key
        # `build(value)`: the same value for every source that loaded the same key.
        self.by_value = len(inspect.signature(build).parameters) == 1
        self.build: Callable[[Any, Any], Any] = (
            (lambda source, value: build(value)) if self.by_value else build
        )


def loaded_field(
    loader: Callable[[Any], Any],
    key: Callable[[Any], Any],
    build: Callable[..., Any],
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Replace a `(self, info)` resolver stub by the load it declares (keeps its signature).

    `build` is `build(source, value)`, or `build(value)` when the source does not matter.
    """
    spec = LoadedField(loader, key, build)

    def decorate(stub: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(stub)
        async def resolver(self: Any, info: Any) -> Any:
            wanted = spec.key(self)
            if wanted is NO_LOAD:
                return spec.build(self, None)
            return spec.build(self, await info.context.loader(spec.loader).load(wanted))

        resolver.loaded_field = spec  # type: ignore[attr-defined]
        return resolver

    return decorate


def loaded_field_of(func: Any) -> LoadedField | None:
    spec = getattr(func, "loaded_field", None)
    return spec if isinstance(spec, LoadedField) else None

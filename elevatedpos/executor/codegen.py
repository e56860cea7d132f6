"""Selection sets turned into Python functions: `ObjectPlan.execute` without its loop.

`ObjectPlan.execute` interprets its field plans one by one: which kind of field, which
getter, which fast type. For a given plan all of that is known before the first request,
so `specialize(plan)` writes the function the loop amounts to for exactly those fields,
unrolled, with attribute reads written as `source.name`, the leaf checks inlined, and
every unusual case (a value of another type, an object, an error) handed to the same
`FieldPlan` methods the loop calls. Same results, same errors, same order of work.
"""

from __future__ import annotations

import keyword
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from graphql.pyutils import is_awaitable

from elevatedpos.executor.completion import PLAIN

if TYPE_CHECKING:
    from elevatedpos.executor.fields import FieldPlan, ObjectPlan

MIN_INT = -(2**31)
MAX_INT = 2**31 - 1
MAX_FIELDS = 200  # beyond this a selection keeps the loop (compiling it would cost more)


def _attribute(i: int, field: FieldPlan, out: list[str]) -> None:
    name = field.attribute
    plain_read = field.getter is getattr and name.isidentifier() and not keyword.iskeyword(name)
    read = f"source.{name}" if plain_read else f"F{i}.getter(source, F{i}.attribute)"
    out += [
        "        try:",
        f"            value = {read}",
        "        except Exception as raw_error:",
        f"            run.field_error(raw_error, F{i}.nodes, F{i}.path(path), F{i}.non_null)",
        f"            results[K{i}] = None",
        "        else:",
    ]
    if field.fast_type is not None:
        if field.enum_names is not None:
            test, store = f"type(value) is T{i}", f"E{i}[value]"
        elif field.fast_convert is not None:
            test, store = f"type(value) is T{i}", f"C{i}(value)"
        elif field.int_range:
            test, store = f"type(value) is T{i} and {MIN_INT} <= value <= {MAX_INT}", "value"
        else:
            test, store = f"type(value) is T{i}", "value"
        out += [
            f"            if {test}:",
            f"                results[K{i}] = {store}",
            "            else:",
            f"                result = results[K{i}] = F{i}.complete_attribute(run, value, path)",
            "                if type(result) not in PLAIN and is_awaitable(result):",
            f"                    pending.append(K{i})",
        ]
    else:
        out += [
            f"            result = results[K{i}] = F{i}.complete_attribute(run, value, path)",
            "            if type(result) not in PLAIN and is_awaitable(result):",
            f"                pending.append(K{i})",
        ]


def _resolved(i: int, out: list[str], indent: str = "        ") -> None:
    out += [
        f"{indent}result = results[K{i}] = F{i}.call_resolver(run, source, path)",
        f"{indent}if type(result) not in PLAIN and is_awaitable(result):",
        f"{indent}    pending.append(K{i})",
    ]


def specialize(plan: ObjectPlan, gather: Callable[..., Any]) -> Callable[..., Any] | None:
    """The function `plan.execute(run, source, path)` amounts to; None to keep the loop."""
    from elevatedpos.executor.fields import FieldKind

    fields = plan.fields
    if not fields or len(fields) > MAX_FIELDS:
        return None
    namespace: dict[str, Any] = {
        "PLAIN": PLAIN,
        "is_awaitable": is_awaitable,
        "gather_fields": gather,
        "TYPE_NAME": plan.type_name,
    }
    out = [
        "def execute(run, source, path):",
        "    results = {}",
        "    pending = []",
        "    try:",
    ]
    for i, field in enumerate(fields):
        namespace[f"F{i}"] = field
        namespace[f"K{i}"] = field.key
        namespace[f"T{i}"] = field.fast_type
        namespace[f"E{i}"] = field.enum_names
        namespace[f"C{i}"] = field.fast_convert
        if field.kind is FieldKind.TYPENAME:
            out.append(f"        results[K{i}] = TYPE_NAME")
        elif field.kind is FieldKind.ATTRIBUTE:
            _attribute(i, field, out)
        elif field.kind is FieldKind.LOADED:
            out += [
                "        collector = run.collector",
                f"        if collector is not None and F{i} in collector.accepts:",
                "            # the enclosing list loads every item's key at once, then fills it",
                f"            collector.entries.append((F{i}, source, path, results,"
                " collector.index))",
                f"            results[K{i}] = None",
                "        else:",
            ]
            _resolved(i, out, indent="            ")
        else:
            _resolved(i, out)
    out += [
        "    except Exception:",
        "        if pending:",
        "            run.settle_in_background([results[key] for key in pending])",
        "        raise",
        "    if not pending:",
        "        return results",
        "    return gather_fields(results, pending)",
    ]
    source = "\n".join(out)
    code = compile(source, f"<plan {plan.type_name}>", "exec")
    exec(code, namespace)  # our own text, written from the plan above
    return namespace["execute"]  # type: ignore[no-any-return]

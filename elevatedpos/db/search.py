"""Portable search predicates: escaped substring patterns and membership in a JSON string list."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, exists, func, select


def contains_text(column: Any, term: str) -> ColumnElement[bool]:
    """Case-insensitive substring match of `term` in `column`; `%`, `_` and `\\` match literally."""
    escaped = term.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.lower(column).like(f"%{escaped}%", escape="\\")


def json_list_has(column: Any, value: str, dialect: str) -> ColumnElement[bool]:
    """True when the JSON list of strings in `column` holds `value`, ignoring case."""
    if dialect == "postgresql":
        items = func.json_array_elements_text(column).table_valued("value").render_derived()
    else:
        items = func.json_each(column).table_valued("value")
    return exists(select(1).select_from(items).where(func.lower(items.c.value) == value.lower()))

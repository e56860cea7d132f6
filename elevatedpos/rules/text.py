"""Validation of free-text and identifier fields, reporting the offending field."""

from __future__ import annotations

import re
from functools import cache
from typing import Any
from zoneinfo import available_timezones

from elevatedpos.errors import FieldError

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def nul_path(value: Any, path: str = "") -> str | None:
    """The dotted path of the first string holding a NUL character, if any.

    PostgreSQL cannot store NUL in text and SQLite would; refusing it up front keeps the
    two backends alike and turns what would be a driver error into a 422.
    """
    if isinstance(value, str):
        return path or "body" if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = nul_path(key, path) or nul_path(item, f"{path}.{key}" if path else str(key))
            if found:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = nul_path(item, f"{path}.{index}" if path else str(index))
            if found:
                return found
    return None


def check_no_nul(value: Any, path: str = "") -> list[FieldError]:
    found = nul_path(value, path)
    return [FieldError(found, f"{found} must not contain NUL characters")] if found else []


def check_text(
    value: str | None, field: str, *, max_length: int, required: bool = True
) -> list[FieldError]:
    """Errors for a text field: required means present and not blank."""
    if value is None or not value.strip():
        return [FieldError(field, f"{field} is required")] if required else []
    if len(value) > max_length:
        return [FieldError(field, f"{field} must be at most {max_length} characters")]
    return []


def check_email(value: str | None, field: str = "email") -> list[FieldError]:
    if value is None or not value.strip():
        return [FieldError(field, f"{field} is required")]
    if len(value) > 320 or not _EMAIL.match(value.strip()):
        return [FieldError(field, f"{field} must be an email address")]
    return []


@cache
def _timezones() -> frozenset[str]:
    return frozenset(available_timezones())


def check_timezone(value: str, field: str = "timezone") -> list[FieldError]:
    if value not in _timezones():
        return [FieldError(field, f"{field} must be an IANA time zone such as Australia/Sydney")]
    return []


def normalize_email(value: str) -> str:
    return value.strip().lower()

"""Validation of free-text and identifier fields, reporting the offending field."""

from __future__ import annotations

import re
from functools import cache
from zoneinfo import available_timezones

from elevatedpos.errors import FieldError

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


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

"""Optimistic concurrency: a write names the version it read; a stale one is refused."""

from __future__ import annotations

from elevatedpos.errors import PreconditionFailed


def check_version(current: int, expected: int | None) -> None:
    """Raise 412 when the client's expected version is not the current one (None skips)."""
    if expected is not None and expected != current:
        raise PreconditionFailed(
            f"The resource is at version {current}, not {expected}; fetch it again and retry"
        )

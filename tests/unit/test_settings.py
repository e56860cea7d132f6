"""Settings read from the environment: defaults and refused values."""

from __future__ import annotations

import pytest

from elevatedpos.settings import Settings


def test_event_retention_defaults_to_30_days_and_takes_whole_days():
    assert Settings.from_env({}).event_retention_days == 30
    assert Settings.from_env({"EVENT_RETENTION_DAYS": "7"}).event_retention_days == 7
    for bad in ("0", "-1", "2.5", "a week"):
        with pytest.raises(ValueError, match="EVENT_RETENTION_DAYS"):
            Settings.from_env({"EVENT_RETENTION_DAYS": bad})

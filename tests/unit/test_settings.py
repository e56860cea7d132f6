"""Settings read from the environment: defaults and refused values."""

from __future__ import annotations

import pytest

from elevatedpos.ratelimit import share_of
from elevatedpos.settings import Settings


def test_event_retention_defaults_to_30_days_and_takes_whole_days():
    assert Settings.from_env({}).event_retention_days == 30
    assert Settings.from_env({"EVENT_RETENTION_DAYS": "7"}).event_retention_days == 7
    for bad in ("0", "-1", "2.5", "a week"):
        with pytest.raises(ValueError, match="EVENT_RETENTION_DAYS"):
            Settings.from_env({"EVENT_RETENTION_DAYS": bad})


def test_a_partner_apps_share_defaults_to_half_and_is_a_whole_percent():
    assert Settings.from_env({}).partner_rate_percent == 50
    assert Settings.from_env({"PARTNER_RATE_PERCENT": "100"}).partner_rate_percent == 100
    for bad in ("0", "101", "50%", "0.5"):
        with pytest.raises(ValueError, match="PARTNER_RATE_PERCENT"):
            Settings.from_env({"PARTNER_RATE_PERCENT": bad})


def test_a_share_is_a_percent_of_limit_and_burst_never_zero():
    assert share_of(60, 20, 50) == (30, 10)
    assert share_of(100, 150, 25) == (25, 37)
    assert share_of(1, 1, 10) == (1, 1)

"""Webhooks as pure rules: the signature, the retry schedule, which URLs and events."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Sequence
from urllib.parse import urlsplit

from elevatedpos.errors import FieldError
from elevatedpos.rules.automations import EVENT_TYPES

SIGNATURE_HEADER = "X-ElevatedPOS-Signature"
TEST_EVENT = "webhook.test"
# Seconds before each retry; after the last, the delivery is `failed` (6 attempts in all,
# about two and a half hours).
RETRY_AFTER = (10, 60, 300, 1800, 7200)
MAX_URL = 2000
MAX_EVENTS = 50


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """`t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, as receivers check it."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def next_retry(attempts: int) -> int | None:
    """Seconds until the next try after `attempts` failed ones, or None: no more tries."""
    return RETRY_AFTER[attempts - 1] if 1 <= attempts <= len(RETRY_AFTER) else None


def check_url(url: str | None) -> list[FieldError]:
    if not isinstance(url, str) or len(url) > MAX_URL:
        return [FieldError("url", "url must be an http(s) URL")]
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username:
        return [FieldError("url", "url must be an http(s) URL with a host and no credentials")]
    return []


def check_events(events: Sequence[str]) -> list[FieldError]:
    if not events:
        return [FieldError("events", "events needs at least one event type (or *)")]
    if len(events) > MAX_EVENTS:
        return [FieldError("events", f"events holds at most {MAX_EVENTS}")]
    return [
        FieldError(f"events.{i}", f"events.{i} is not an event type")
        for i, e in enumerate(events)
        if e != "*" and e not in EVENT_TYPES
    ]


def wants(events: Sequence[str], event_type: str) -> bool:
    return "*" in events or event_type in events


def is_public_address(address: str) -> bool:
    """A global unicast address: not loopback, private, link-local, reserved or multicast."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return bool(ip.is_global) and not ip.is_multicast

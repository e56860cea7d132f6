"""Webhook deliveries: queued by the outbox relay in its transaction, sent after it.

A delivery is claimed with a lease (its next attempt pushed a minute ahead in the same
statement that selects it), sent outside any transaction, then its attempt is recorded and
it is marked delivered, scheduled for a retry (`rules.webhooks.RETRY_AFTER`), or failed.
A worker that dies mid-send leaves the lease to run out and another worker retries:
deliveries are at least once, and receivers tell repeats apart by the envelope's `id`.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import orjson
from sqlalchemy import select, update

from elevatedpos.db.engine import Database
from elevatedpos.db.models import Webhook, WebhookAttempt, WebhookDelivery
from elevatedpos.db.types import utcnow
from elevatedpos.rules.webhooks import SIGNATURE_HEADER, is_public_address, next_retry, signature

log = logging.getLogger("elevatedpos.webhooks")
TIMEOUT_SECONDS = 10.0
LEASE_SECONDS = 60
BATCH = 20
USER_AGENT = "ElevatedPOS-Webhooks/1"


@dataclass(frozen=True)
class Attempt:
    response_status: int | None
    error: str | None
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.response_status is not None and 200 <= self.response_status < 300


async def _address(url: str, *, allow_private: bool) -> tuple[str | None, str | None]:
    """The address to connect to for `url`'s host, or why there is none: it does not
    resolve, or (unless allowed) it resolves to a private address."""
    host = urlsplit(url).hostname or ""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError as exc:
        return None, f"cannot resolve {host}: {exc.strerror or exc}"
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    private = sorted(a for a in addresses if not is_public_address(a))
    if private and not allow_private:
        return None, f"refused: {host} resolves to a private address ({', '.join(private)})"
    ipv4 = [a for a in addresses if ":" not in a]
    return (ipv4 or addresses)[0], None


def _pinned(url: str, address: str) -> str:
    """`url` with its host replaced by the address that was checked, so the connection goes
    where the check looked (no second lookup a DNS answer could change in between)."""
    parts = urlsplit(url)
    host = f"[{address}]" if ":" in address else address
    netloc = f"{host}:{parts.port}" if parts.port is not None else host
    return urlunsplit(parts._replace(netloc=netloc))


async def send(
    url: str, secret: str, envelope: dict[str, Any], *, allow_private: bool, delivery_id: Any
) -> Attempt:
    """POST the signed envelope once; the receiver's status, or what went wrong."""
    started = time.perf_counter()
    address, refused = await _address(url, allow_private=allow_private)
    if address is None:
        return Attempt(None, refused, 0)
    parts = urlsplit(url)
    body = orjson.dumps(envelope)
    headers = {
        "Host": parts.netloc,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: signature(secret, int(time.time()), body),
        "X-ElevatedPOS-Event": str(envelope.get("type")),
        "X-ElevatedPOS-Delivery": str(delivery_id),
    }
    # TLS still names and verifies the host itself.
    extensions = {"sni_hostname": parts.hostname} if parts.scheme == "https" else {}
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS, follow_redirects=False) as client:
            response = await client.post(
                _pinned(url, address), content=body, headers=headers, extensions=extensions
            )
    except httpx.HTTPError as exc:
        elapsed = int((time.perf_counter() - started) * 1000)
        return Attempt(None, f"{type(exc).__name__}: {exc}"[:500], elapsed)
    elapsed = int((time.perf_counter() - started) * 1000)
    error = None if 200 <= response.status_code < 300 else f"answered {response.status_code}"
    return Attempt(response.status_code, error, elapsed)


def record(
    session: Any, delivery: Any, attempt: Attempt, *, retry: bool = True
) -> tuple[str, dict[str, Any]]:
    """Add the attempt; the delivery's new status and the column values that say so."""
    now = utcnow()
    attempts = delivery.attempts + 1
    session.add(
        WebhookAttempt(
            id=uuid.uuid4(),
            delivery_id=delivery.id,
            attempted_at=now,
            response_status=attempt.response_status,
            error=attempt.error,
            duration_ms=attempt.duration_ms,
        )
    )
    values: dict[str, Any] = {
        "attempts": attempts,
        "last_response_status": attempt.response_status,
        "last_error": attempt.error,
    }
    wait = next_retry(attempts) if retry else None
    if attempt.ok:
        values |= {"status": "delivered", "delivered_at": now}
    elif wait is None:
        values["status"] = "failed"
    else:
        values["next_attempt_at"] = now + timedelta(seconds=wait)
    return str(values.get("status", "pending")), values


async def deliver_due(db: Database, *, allow_private: bool) -> int:
    """Send the deliveries that are due (claimed with a lease); how many were tried."""
    d, w = WebhookDelivery.__table__, Webhook.__table__
    now = utcnow()
    due = (
        select(d.c.id)
        .where(d.c.status == "pending", d.c.next_attempt_at <= now)
        .order_by(d.c.next_attempt_at)
        .limit(BATCH)
    )
    async with db.reader() as connection:  # a cheap read first: no write lock when idle
        if (await connection.execute(due)).first() is None:
            return 0
    if not db.is_sqlite:
        due = due.with_for_update(skip_locked=True)
    async with db.write() as session:
        claimed = (
            await session.execute(
                update(d)
                .where(d.c.id.in_(due.scalar_subquery()))
                .values(next_attempt_at=now + timedelta(seconds=LEASE_SECONDS))
                .returning(d.c.id, d.c.webhook_id, d.c.envelope, d.c.attempts)
            )
        ).all()
        hooks = {
            row.id: row
            for row in (
                await session.execute(
                    select(w.c.id, w.c.url, w.c.secret, w.c.active).where(
                        w.c.id.in_({c.webhook_id for c in claimed})
                    )
                )
            ).all()
        } if claimed else {}  # fmt: skip
    if not claimed:
        return 0

    async def one(delivery: Any) -> Attempt:
        hook = hooks.get(delivery.webhook_id)
        if hook is None or not hook.active:
            return Attempt(None, "the webhook is inactive", 0)
        return await send(
            hook.url, hook.secret, delivery.envelope, allow_private=allow_private,
            delivery_id=delivery.id,
        )  # fmt: skip

    attempts = await asyncio.gather(*(one(c) for c in claimed))
    async with db.write() as session:
        for delivery, attempt in zip(claimed, attempts, strict=True):
            hook = hooks.get(delivery.webhook_id)
            _, values = record(session, delivery, attempt, retry=hook is not None and hook.active)
            await session.execute(update(d).where(d.c.id == delivery.id).values(**values))
    return len(claimed)

"""Idempotency-Key: the first response to a key is kept 24 h and replayed for the same request.

A key is claimed by inserting its row (the unique (org, key) constraint makes one claim
win); the winner runs the operation and stores the response. A concurrent request with
the same key waits for that response and replays it; the same key with another body is
a 422. A claim whose worker died is taken over after a lease, and a 5xx releases the key
so the client's retry runs again.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import timedelta

import orjson
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from elevatedpos.db.engine import Database
from elevatedpos.db.models import IdempotencyRecord
from elevatedpos.db.types import utcnow
from elevatedpos.errors import BadRequest, Conflict, FieldError, ValidationFailed

HEADER = "Idempotency-Key"
RETENTION = timedelta(hours=24)
LEASE = timedelta(seconds=60)
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
# Answers given before the operation ran (bad input, no access, no budget) are not kept, as
# at Stripe: nothing happened, so a corrected retry with the same key runs.
NOT_KEPT = frozenset({400, 401, 403, 422, 429})


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True)
class Claim:
    record_id: uuid.UUID


def check_key(key: str) -> str:
    if not _KEY.match(key):
        raise BadRequest(f"{HEADER} must be 1-255 visible ASCII characters")
    return key


def request_fingerprint(method: str, path: str, body: object) -> str:
    """What makes two requests 'the same': method, path and the body's canonical JSON."""
    canonical = orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + canonical).hexdigest()


async def claim_or_replay(
    db: Database, org_id: uuid.UUID, key: str, fingerprint: str, wait_seconds: float
) -> Claim | StoredResponse:
    """Claim `key` for this request, or return the response it already produced."""
    deadline = asyncio.get_running_loop().time() + wait_seconds
    delay = 0.02
    while True:
        now = utcnow()
        try:
            record_id = uuid.uuid4()
            async with db.write() as session:
                await session.execute(
                    delete(IdempotencyRecord).where(
                        IdempotencyRecord.org_id == org_id,
                        IdempotencyRecord.key == key,
                        IdempotencyRecord.expires_at <= now,
                    )
                )
                session.add(
                    IdempotencyRecord(
                        id=record_id,
                        org_id=org_id,
                        key=key,
                        request_hash=fingerprint,
                        locked_at=now,
                        created_at=now,
                        expires_at=now + RETENTION,
                    )
                )
            return Claim(record_id)
        except IntegrityError:
            pass
        async with db.read() as session:
            record = await session.scalar(
                select(IdempotencyRecord).where(
                    IdempotencyRecord.org_id == org_id, IdempotencyRecord.key == key
                )
            )
        if record is None:
            continue  # released or expired between our insert and our read
        if record.request_hash != fingerprint:
            raise ValidationFailed(
                [FieldError(HEADER, f"{HEADER} was already used with a different request")]
            )
        if record.response_status is not None:
            return StoredResponse(
                record.response_status,
                (record.response_body or "").encode(),
                dict(record.response_headers or {}),
            )
        if record.locked_at is not None and record.locked_at <= now - LEASE:
            if await _take_over(db, record.id, record.locked_at):
                return Claim(record.id)
        if asyncio.get_running_loop().time() >= deadline:
            raise Conflict(f"A request with this {HEADER} is still being processed; retry later")
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.25)


async def _take_over(db: Database, record_id: uuid.UUID, seen_lock: object) -> bool:
    async with db.write() as session:
        result = await session.execute(
            update(IdempotencyRecord)
            .where(IdempotencyRecord.id == record_id, IdempotencyRecord.locked_at == seen_lock)
            .values(locked_at=utcnow())
        )
    return result.rowcount == 1  # type: ignore[attr-defined, no-any-return]


async def finish(
    db: Database, claim: Claim, status: int, body: bytes, headers: dict[str, str]
) -> None:
    """Keep the response for replay, or release the key when the response is not kept."""
    async with db.write() as session:
        if status >= 500 or status in NOT_KEPT:
            await session.execute(
                delete(IdempotencyRecord).where(IdempotencyRecord.id == claim.record_id)
            )
            return
        await session.execute(
            update(IdempotencyRecord)
            .where(IdempotencyRecord.id == claim.record_id)
            .values(
                response_status=status,
                response_body=body.decode(),
                response_headers=headers,
                locked_at=None,
            )
        )

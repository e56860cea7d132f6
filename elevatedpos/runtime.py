"""The process-wide resources a running app shares: database, token issuer, limiter, Redis."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import time
import uuid

from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from elevatedpos.auth.revocations import RevocationFile, RevocationWatch
from elevatedpos.auth.scopes import Principal
from elevatedpos.auth.tokens import TokenIssuer
from elevatedpos.db.engine import Database
from elevatedpos.db.models import InstanceKey, Org, User
from elevatedpos.db.scoping import get_in_org
from elevatedpos.events.bus import EventBus
from elevatedpos.events.relay import OutboxRelay
from elevatedpos.ratelimit import MemoryStore, RateLimitStore, RedisStore, plan_limits
from elevatedpos.settings import Settings

JWT_KEY_NAME = "jwt_secret"
USER_CACHE_SECONDS = 5.0
USER_CACHE_SIZE = 10_000
PRINCIPAL_CACHE_SIZE = 10_000
REVOCATION_FEED_WAIT = 2.0


def sqlite_revocation_file(database_url: str) -> str | None:
    """The revocation file beside an SQLite database; None for an in-memory one."""
    database = make_url(database_url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return f"{os.path.abspath(database)}-revocations"


class Principals:
    """Access tokens already verified, with the principal each names: a client sends the
    same token on every request, and checking its signature and claims again costs more
    than the rest of authentication. Only a token equal to a verified one, byte for byte,
    hits; the caller still checks expiry and the session."""

    def __init__(self, size: int = PRINCIPAL_CACHE_SIZE) -> None:
        self.size = size
        self._by_token: dict[str, Principal] = {}

    def get(self, token: str) -> Principal | None:
        return self._by_token.get(token)

    def put(self, token: str, principal: Principal) -> None:
        by_token = self._by_token
        if len(by_token) >= self.size:
            now = time.time()
            kept = {t: p for t, p in by_token.items() if p.expires_at > now}
            if len(kept) >= self.size:  # all still valid: forget the oldest half
                kept = dict(list(kept.items())[self.size // 2 :])
            self._by_token = by_token = kept
        by_token[token] = principal


async def instance_secret(db: Database, name: str) -> str:
    """A secret made once per installation and kept in its database, so every host shares it."""
    async with db.read() as session:
        value = await session.scalar(select(InstanceKey.value).where(InstanceKey.name == name))
    if value is not None:
        return value
    try:
        async with db.write() as session:
            session.add(InstanceKey(name=name, value=secrets.token_urlsafe(48)))
    except IntegrityError:
        pass  # another process made it first; theirs wins
    async with db.read() as session:
        return str(await session.scalar(select(InstanceKey.value).where(InstanceKey.name == name)))


class Runtime:
    """Built once per process in the app's lifespan; reached through the request context."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.db = Database(settings.database_url)
        self.redis: Redis | None = (
            Redis.from_url(settings.redis_url) if settings.redis_url else None
        )
        self.limiter: RateLimitStore = RedisStore(self.redis) if self.redis else MemoryStore()
        # A revocation mark lives as long as the last access token of its session could.
        # Without Redis, SQLite's processes share a file; PostgreSQL reads the session row.
        mark_seconds = settings.access_token_ttl + 60
        self.revocations: RevocationWatch | RevocationFile | None = None
        if self.redis is not None:
            self.revocations = RevocationWatch(self.redis, mark_seconds)
        elif self.db.is_sqlite:
            self.revocations = RevocationFile(sqlite_revocation_file(self.db.url), mark_seconds)
        self.principals = Principals()
        self.tokens: TokenIssuer | None = None
        self._org_limits: dict[uuid.UUID, tuple[float, tuple[int, int]]] = {}
        self._users: dict[tuple[uuid.UUID, uuid.UUID], tuple[float, User]] = {}
        # Runs automations on committed events and marks them published (events/relay.py).
        self.relay: OutboxRelay | None = None
        # Committed events to GraphQL subscribers, across workers through Redis (events/bus.py).
        self.bus = EventBus(self.db, self.redis)

    async def start(self) -> None:
        secret = self.settings.jwt_secret or await instance_secret(self.db, JWT_KEY_NAME)
        s = self.settings
        self.tokens = TokenIssuer(
            secret, s.jwt_issuer, s.jwt_audience, s.access_token_ttl, s.refresh_token_ttl
        )
        if self.relay is None:
            self.bus.start()
            self.relay = OutboxRelay(
                self.settings.database_url,
                allow_private=self.settings.allow_private_webhook_targets,
                bus=self.bus,
                retention_days=self.settings.event_retention_days,
            )
            self.relay.start()
            self.db.on_events = self.relay.nudge
        if self.revocations is not None:
            self.revocations.start()
            # Not required: until the feed is live every request asks Redis itself.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(REVOCATION_FEED_WAIT):
                    await self.revocations.wait_live()

    async def stop(self) -> None:
        if self.relay is not None:
            self.db.on_events = None
            await self.relay.stop()
            self.relay = None
            await self.bus.stop()
        if self.revocations is not None:
            await self.revocations.stop()
        await self.limiter.close()
        if self.redis is not None:
            await self.redis.aclose()
        await self.db.dispose()

    @property
    def issuer(self) -> TokenIssuer:
        if self.tokens is None:
            raise RuntimeError("Runtime.start() has not run")
        return self.tokens

    def known_org_limits(self, org_id: uuid.UUID) -> tuple[int, int] | None:
        """The org's (limit, burst) when `org_limits` read them recently enough, else None."""
        cached = self._org_limits.get(org_id)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        return None

    async def org_limits(self, org_id: uuid.UUID) -> tuple[int, int]:
        """(limit, burst) of an org, cached briefly: a plan change applies within seconds."""
        known = self.known_org_limits(org_id)
        if known is not None:
            return known
        now = time.monotonic()
        async with self.db.read() as session:
            row = (
                await session.execute(
                    select(Org.plan, Org.rate_limit, Org.burst).where(Org.id == org_id)
                )
            ).first()
        limits = (
            plan_limits(row.plan, row.rate_limit, row.burst)
            if row
            else plan_limits("starter", None, None)
        )
        self._org_limits[org_id] = (now + self.settings.plan_cache_seconds, limits)
        return limits

    def cached_user(self, user_id: uuid.UUID, org_id: uuid.UUID) -> User | None:
        """The user `user()` read less than `USER_CACHE_SECONDS` ago, if it did."""
        cached = self._users.get((user_id, org_id))
        if cached and cached[0] > time.monotonic():
            return cached[1]
        return None

    async def user(self, user_id: uuid.UUID, org_id: uuid.UUID) -> User | None:
        """A user of an org, cached for seconds: `me` on every request needs no database read."""
        cached = self.cached_user(user_id, org_id)
        if cached is not None:
            return cached
        now = time.monotonic()
        key = (user_id, org_id)
        async with self.db.read() as session:
            user = await get_in_org(session, User, user_id, org_id)
        if user is None:
            self._users.pop(key, None)
            return None
        if len(self._users) >= USER_CACHE_SIZE:
            self._users = {k: v for k, v in self._users.items() if v[0] > now}
        self._users[key] = (now + USER_CACHE_SECONDS, user)
        return user

"""Login, refresh-token rotation with reuse detection, logout, and bearer authentication."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update

from elevatedpos.auth.passwords import verify_password
from elevatedpos.auth.revocations import REVOKED_PREFIX
from elevatedpos.auth.scopes import Principal, scopes_for_role
from elevatedpos.db.models import AuthSession, RefreshToken, User
from elevatedpos.db.types import utcnow
from elevatedpos.errors import RateLimited, Unauthorized
from elevatedpos.ratelimit import GO, REFUSE, Decision, RedisStore, share_of
from elevatedpos.runtime import Runtime

LOGIN_WINDOW_SECONDS = 60
LOGIN_WAIT_SECONDS = 10.0


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    refresh_token: str
    expires_in: int
    user: User


def _login_key(client_ip: str) -> str:
    return f"login-failures:{client_ip}"


@dataclass
class Outcome:
    """What a guarded attempt reports back: failed unless the caller says otherwise."""

    failed: bool = True


@asynccontextmanager
async def guarded_attempt(rt: Runtime, key: str, what: str) -> AsyncIterator[Outcome]:
    """A credential check counted against `key` (a client address): after
    `login_failures_per_minute` failures within a minute, RateLimited until it has passed.

    At most `limit - failures` checks run at once for one key: one that would exceed it
    waits for one in flight to finish, so parallel guesses cannot get past the limit and
    parallel correct ones (tills behind one NAT, a partner's server) are not refused. The
    block sets `outcome.failed = False` when the credentials were good; an exception
    counts as a failure.
    """
    limit = rt.settings.login_failures_per_minute
    deadline = asyncio.get_running_loop().time() + LOGIN_WAIT_SECONDS
    while True:
        attempt = await rt.limiter.attempt_begin(key, limit, LOGIN_WINDOW_SECONDS)
        if attempt.outcome == REFUSE:
            raise RateLimited(attempt.retry_after, f"Too many failed {what} from this address")
        if attempt.outcome == GO:
            break
        if asyncio.get_running_loop().time() >= deadline:
            raise RateLimited(1, f"Too many {what} in progress from this address")
        await asyncio.sleep(0.02)
    outcome = Outcome()
    try:
        yield outcome
    finally:
        await rt.limiter.attempt_end(
            key, failed=outcome.failed, window_seconds=LOGIN_WINDOW_SECONDS
        )


async def login(rt: Runtime, email: str, password: str, client_ip: str) -> IssuedTokens:
    """Exchange credentials for a new session; failures count against the client's IP."""
    async with guarded_attempt(rt, _login_key(client_ip), "logins") as outcome:
        async with rt.db.read() as session:
            user = await session.scalar(select(User).where(User.email == email.strip().lower()))
        ok = await verify_password(user.password_hash if user else None, password)
        outcome.failed = not ok or user is None
    if outcome.failed or user is None:
        raise Unauthorized("Invalid email or password")
    return await start_session(rt, user)


async def start_session(rt: Runtime, user: User) -> IssuedTokens:
    """A new session (refresh-token family) for an already authenticated user."""
    now = utcnow()
    auth_session = AuthSession(
        id=uuid.uuid4(),
        org_id=user.org_id,
        user_id=user.id,
        created_at=now,
        expires_at=now + timedelta(seconds=rt.settings.refresh_token_ttl),
    )
    token_id = uuid.uuid4()
    async with rt.db.write() as session:
        session.add(auth_session)
        await session.flush()
        session.add(
            RefreshToken(
                id=token_id,
                session_id=auth_session.id,
                expires_at=now + timedelta(seconds=rt.settings.refresh_token_ttl),
            )
        )
    return _issue(rt, user, auth_session.id, token_id)


def _issue(rt: Runtime, user: User, session_id: uuid.UUID, token_id: uuid.UUID) -> IssuedTokens:
    access, _ = rt.issuer.access_token(
        user_id=user.id,
        org_id=user.org_id,
        scopes=scopes_for_role(user.role),
        session_id=session_id,
        role=user.role,
    )
    refresh = rt.issuer.refresh_token(user_id=user.id, session_id=session_id, token_id=token_id)
    return IssuedTokens(access, refresh, rt.settings.access_token_ttl, user)


async def refresh(rt: Runtime, refresh_token: str) -> IssuedTokens:
    """Spend a refresh token for a new pair; a spent one presented again revokes its family."""
    claims = rt.issuer.decode_refresh(refresh_token)
    try:
        token_id, session_id = uuid.UUID(claims["jti"]), uuid.UUID(claims["sid"])
    except ValueError as exc:
        raise Unauthorized("Invalid token") from exc
    now = utcnow()
    reused = False
    user: User | None = None
    new_token_id = uuid.uuid4()
    async with rt.db.write() as session:
        auth_session = await session.get(AuthSession, session_id)
        if auth_session is None or auth_session.revoked_at is not None:
            raise Unauthorized("Session has ended")
        if auth_session.expires_at <= now:
            raise Unauthorized("Session has expired")
        if auth_session.client_id is not None:
            raise Unauthorized("A partner app's refresh token is exchanged at /api/v1/oauth/token")
        spent = await session.execute(
            update(RefreshToken)
            .where(
                RefreshToken.id == token_id,
                RefreshToken.session_id == session_id,
                RefreshToken.spent_at.is_(None),
            )
            .values(spent_at=now)
        )
        if spent.rowcount != 1:
            reused = True
            auth_session.revoked_at = now
            auth_session.revoked_reason = "refresh_token_reuse"
        else:
            session.add(
                RefreshToken(
                    id=new_token_id,
                    session_id=session_id,
                    expires_at=now + timedelta(seconds=rt.settings.refresh_token_ttl),
                )
            )
            user = await session.get(User, auth_session.user_id)
    if reused or user is None:
        await _mark_revoked(rt, session_id)
        raise Unauthorized("Refresh token was already used; the session has been revoked")
    return _issue(rt, user, session_id, new_token_id)


async def _mark_revoked(rt: Runtime, session_id: uuid.UUID) -> None:
    """Tell every worker (Redis, or SQLite's file) before the database says it: fail closed."""
    if rt.revocations is not None:
        await rt.revocations.publish(session_id)


async def _session_active(rt: Runtime, session_id: uuid.UUID) -> bool:
    # Workers hear of revocations by Redis pub/sub (SQLite without Redis: from a file beside
    # the database); when they cannot vouch for what they heard, one Redis round trip, or
    # without Redis the session row. An access token lives 15 minutes, and refresh always
    # checks the database.
    revoked = rt.revocations.revoked(session_id) if rt.revocations else None
    if revoked is not None:
        return not revoked
    if rt.redis is not None:
        return not await rt.redis.exists(f"{REVOKED_PREFIX}{session_id}")
    async with rt.db.read() as session:
        active = await session.scalar(
            select(func.count())
            .select_from(AuthSession)
            .where(
                AuthSession.id == session_id,
                AuthSession.revoked_at.is_(None),
                AuthSession.expires_at > utcnow(),
            )
        )
    return bool(active)


async def revoke_sessions(rt: Runtime, session_ids: list[uuid.UUID], reason: str) -> None:
    """End sessions everywhere: every worker is told before the database says it."""
    for session_id in session_ids:
        await _mark_revoked(rt, session_id)
    async with rt.db.write() as session:
        await session.execute(
            update(AuthSession)
            .where(AuthSession.id.in_(session_ids), AuthSession.revoked_at.is_(None))
            .values(revoked_at=utcnow(), revoked_reason=reason)
        )


async def logout(rt: Runtime, principal: Principal) -> None:
    """End the principal's session: its access and refresh tokens stop working everywhere."""
    if principal.session_id is not None:
        await revoke_sessions(rt, [principal.session_id], "logout")


def _principal(rt: Runtime, token: str) -> Principal:
    """The principal a bearer token's claims name; its session is not checked yet."""
    known = rt.principals.get(token)
    if known is not None and known.expires_at > time.time():
        return known
    principal = _principal_of_claims(rt.issuer.decode_access(token))
    rt.principals.put(token, principal)
    return principal


def _principal_of_claims(claims: dict[str, Any]) -> Principal:
    try:
        user_id, org_id = uuid.UUID(claims["sub"]), uuid.UUID(claims["org"])
        session_id = uuid.UUID(claims["sid"]) if "sid" in claims else None
    except ValueError as exc:
        raise Unauthorized("Invalid token") from exc
    if session_id is None:
        raise Unauthorized("Invalid token")
    return Principal(
        user_id=user_id,
        org_id=org_id,
        scopes=frozenset(str(claims["scope"]).split()),
        session_id=session_id,
        role=claims.get("role"),
        client_id=claims.get("cid"),
        token_id=claims["jti"],
        expires_at=int(claims["exp"]),
    )


async def authenticate(rt: Runtime, token: str) -> Principal:
    """The principal a bearer token stands for, or Unauthorized."""
    principal = _principal(rt, token)
    assert principal.session_id is not None
    if not await _session_active(rt, principal.session_id):
        raise Unauthorized("Session has ended")
    return principal


def authenticate_and_charge_now(rt: Runtime, token: str) -> tuple[Principal, Decision] | None:
    """`authenticate_and_charge` when it needs no I/O, else None (then await that one).

    The usual request: its token verified before, its org's limits cached, its session
    vouched for by the revocation feed (or SQLite's file), its token from this worker's
    lease (or the in-process bucket). Raises Unauthorized as the awaited one would.
    """
    principal = _principal(rt, token)
    limits = rt.known_org_limits(principal.org_id)
    if limits is None or rt.revocations is None:
        return None
    assert principal.session_id is not None
    revoked = rt.revocations.revoked(principal.session_id)
    if revoked is None:
        return None
    if revoked:
        raise Unauthorized("Session has ended")
    decision = rt.limiter.take_now(principal.bucket, limits[0], limits[1])
    return None if decision is None else (principal, decision)


async def charge_app(
    rt: Runtime, principal: Principal, decision: Decision, cost: int = 1
) -> Decision:
    """A partner app's request also draws on the app's own share of its org's limit
    (`PARTNER_RATE_PERCENT`), so one app cannot starve the org's tills: the decision to
    answer with, refused when the app's share is spent. Users' requests pass unchanged."""
    key = principal.app_bucket
    percent = rt.settings.partner_rate_percent
    if key is None or percent >= 100 or not decision.allowed:
        return decision
    limit, burst = share_of(*await rt.org_limits(principal.org_id), percent)
    app = await rt.limiter.take(key, limit, burst, cost)
    return Decision(app.allowed, limit, min(app.remaining, decision.remaining), app.retry_after)


async def authenticate_and_charge(rt: Runtime, token: str) -> tuple[Principal, Decision]:
    """`authenticate`, then one token from the org's bucket (the request's own cost).

    With Redis and a live revocation feed, the session is checked in memory and the token
    often comes from this worker's lease: no round trip. Without the feed both are one
    round trip: the bucket script refuses, taking nothing, while the revocation mark exists.
    """
    principal = _principal(rt, token)
    assert principal.session_id is not None
    limit, burst = await rt.org_limits(principal.org_id)
    key = principal.bucket
    if rt.redis is not None and isinstance(rt.limiter, RedisStore):
        revoked = rt.revocations.revoked(principal.session_id) if rt.revocations else None
        if revoked is None:
            mark = f"{REVOKED_PREFIX}{principal.session_id}"
            decision = await rt.limiter.take_unless_marked(key, limit, burst, mark)
            if decision is None:
                raise Unauthorized("Session has ended")
            return principal, decision
        if revoked:
            raise Unauthorized("Session has ended")
        return principal, await rt.limiter.take(key, limit, burst)
    if not await _session_active(rt, principal.session_id):
        raise Unauthorized("Session has ended")
    return principal, await rt.limiter.take(key, limit, burst)

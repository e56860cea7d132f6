"""What OAuth reads before Authlib runs and writes after it: clients, codes, partner sessions.

The writes are conditional updates, so two requests spending one code (or one refresh token)
at once cannot both succeed: the loser's transaction changes nothing, it answers
`invalid_grant`, and the session its rival started is revoked, as a replayed grant would be.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from elevatedpos.auth.oauth import (
    CODE_TTL_SECONDS,
    Client,
    Code,
    Grant,
    OAuthState,
    digest,
)
from elevatedpos.auth.scopes import Principal
from elevatedpos.auth.sessions import revoke_sessions
from elevatedpos.db.engine import Database
from elevatedpos.db.models import AuthSession, Integration, OAuthCode, RefreshToken, User
from elevatedpos.db.scoping import get_in_org
from elevatedpos.db.types import utcnow
from elevatedpos.errors import Unauthorized
from elevatedpos.runtime import Runtime


class ClientGone(Exception):
    """The integration was uninstalled while its code was being exchanged."""


class Replayed(Exception):
    """The code or refresh token was spent by another request first."""

    def __init__(self, session_id: uuid.UUID | None) -> None:
        super().__init__("grant already spent")
        self.session_id = session_id


async def _client(session: AsyncSession, client_id: str | None) -> Client | None:
    if not client_id:
        return None
    row = await session.scalar(
        select(Integration).where(
            Integration.client_id == client_id, Integration.status == "active"
        )
    )
    return Client(row) if row is not None else None


async def uninstalled_client(rt: Runtime, client_id: str | None, secret: str | None) -> bool:
    """Whether these are the right credentials of an integration since uninstalled: a
    refused call, but no guess (the guessing limit does not count it). The credentials are
    a `TokenCall`'s, already checked against RFC 6749's syntax."""
    if not client_id or not secret:
        return False
    async with rt.db.read() as session:
        row = await session.scalar(
            select(Integration).where(
                Integration.client_id == client_id, Integration.status != "active"
            )
        )
    return row is not None and Client(row).check_client_secret(secret)


async def for_authorize(rt: Runtime, principal: Principal, client_id: str | None) -> OAuthState:
    """The client (only if the merchant's own org installed it) and the signed-in user."""
    state = OAuthState(now=utcnow())
    async with rt.db.read() as session:
        client = await _client(session, client_id)
    if client is not None and client.row.org_id == principal.org_id:
        state.client = client
    state.user = await rt.user(principal.user_id, principal.org_id)
    return state


async def for_token(
    rt: Runtime, client_id: str | None, grant_type: str | None, credential: str | None
) -> OAuthState:
    """The client, and the code or refresh token presented with the user it acts for."""
    state = OAuthState(now=utcnow())
    async with rt.db.read() as session:
        state.client = await _client(session, client_id)
        if state.client is None or not credential:
            return state
        if grant_type == "authorization_code":
            row = await session.scalar(
                select(OAuthCode).where(OAuthCode.code_hash == digest(credential))
            )
            if row is not None:
                state.code = Code(row)
                state.user = await get_in_org(session, User, row.user_id, row.org_id)
        elif grant_type == "refresh_token":
            state.refresh_token = credential
            state.refresh = await _refresh(rt, session, credential, state)
            if state.refresh is not None:
                family = state.refresh.session
                state.user = await get_in_org(session, User, family.user_id, family.org_id)
    return state


async def for_revocation(rt: Runtime, client_id: str | None, token: str | None) -> OAuthState:
    """The client, and the grant (partner session) its access or refresh token belongs to."""
    state = OAuthState(now=utcnow())
    async with rt.db.read() as session:
        state.client = await _client(session, client_id)
        if state.client is None or not token:
            return state
        session_id = None
        for decode in (rt.issuer.decode_access, rt.issuer.decode_refresh):
            try:
                session_id = uuid.UUID(decode(token)["sid"])
                break
            except (Unauthorized, KeyError, ValueError):
                continue
        family = None if session_id is None else await session.get(AuthSession, session_id)
        if family is not None and family.revoked_at is None:
            state.refresh = Grant(family, uuid.UUID(int=0), spent=False)
    return state


async def _refresh(
    rt: Runtime, session: AsyncSession, token: str, state: OAuthState
) -> Grant | None:
    try:
        claims = rt.issuer.decode_refresh(token)
        token_id, session_id = uuid.UUID(claims["jti"]), uuid.UUID(claims["sid"])
    except (Unauthorized, ValueError):
        return None
    family = await session.get(AuthSession, session_id)
    if family is None or family.revoked_at is not None or family.expires_at <= state.now:
        return None
    row = await session.get(RefreshToken, token_id)
    if row is None or row.session_id != session_id:
        return None
    return Grant(family, token_id, spent=row.spent_at is not None)


async def save_code(db: Database, state: OAuthState) -> None:
    """Keep the code Authlib issued (its hash, never the code)."""
    new, client, user = state.new_code, state.client, state.user
    assert new is not None and client is not None and user is not None
    async with db.write() as session:
        session.add(
            OAuthCode(
                id=uuid.uuid4(),
                code_hash=digest(new.code),
                integration_id=client.row.id,
                org_id=user.org_id,
                user_id=user.id,
                redirect_uri=new.redirect_uri,
                scope=new.scope,
                code_challenge=new.code_challenge,
                code_challenge_method=new.code_challenge_method,
                created_at=state.now,
                expires_at=state.now + timedelta(seconds=CODE_TTL_SECONDS),
            )
        )


async def save_tokens(rt: Runtime, state: OAuthState) -> None:
    """Spend the code or refresh token and keep the session Authlib's answer names, in one
    transaction; Replayed (nothing written) when another request spent it first."""
    issued, client, user = state.issued, state.client, state.user
    assert issued is not None and client is not None and user is not None
    now = utcnow()
    expires = now + timedelta(seconds=rt.settings.refresh_token_ttl)
    async with rt.db.write() as session:
        if state.spend_code is not None:
            code = state.spend_code.row
            spent = await session.execute(
                update(OAuthCode)
                .where(
                    OAuthCode.id == code.id,
                    OAuthCode.used_at.is_(None),
                    OAuthCode.expires_at > now,
                )
                .values(used_at=now, session_id=issued.session_id)
            )
            if spent.rowcount != 1:
                raise Replayed(None)
        if state.spend_refresh is not None:
            old = state.spend_refresh
            spent = await session.execute(
                update(RefreshToken)
                .where(
                    RefreshToken.id == old.token_id,
                    RefreshToken.session_id == old.session.id,
                    RefreshToken.spent_at.is_(None),
                )
                .values(spent_at=now)
            )
            if spent.rowcount != 1:
                raise Replayed(old.session.id)
            # A grant in use lasts: each rotation gives it the refresh lifetime again (a
            # partner's sync must not stop because a month has passed since authorization).
            await session.execute(
                update(AuthSession)
                .where(AuthSession.id == old.session.id, AuthSession.revoked_at.is_(None))
                .values(expires_at=expires)
            )
        if issued.fresh:
            # Read under lock: an uninstall in progress finishes first (and is seen), or waits
            # for this grant and then revokes it.
            status = await session.scalar(
                select(Integration.status).where(Integration.id == client.row.id).with_for_update()
            )
            if status != "active":
                raise ClientGone()
            session.add(
                AuthSession(
                    id=issued.session_id,
                    org_id=user.org_id,
                    user_id=user.id,
                    client_id=client.get_client_id(),
                    scope=issued.scope,
                    created_at=now,
                    expires_at=expires,
                )
            )
            await session.flush()
        session.add(
            RefreshToken(id=issued.token_id, session_id=issued.session_id, expires_at=expires)
        )


async def settle_replay(rt: Runtime, state: OAuthState, replayed: Replayed) -> None:
    """End the session a replayed grant started: the family of a refresh token, or
    whatever the first exchange of a code made."""
    session_id = replayed.session_id
    if session_id is None and state.spend_code is not None:
        async with rt.db.read() as session:
            session_id = await session.scalar(
                select(OAuthCode.session_id).where(OAuthCode.id == state.spend_code.row.id)
            )
    if session_id is not None:
        await revoke_sessions(rt, [session_id], "oauth_grant_reuse")

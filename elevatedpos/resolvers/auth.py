"""login, refreshToken, logout."""

from __future__ import annotations

import strawberry

from elevatedpos.auth import sessions
from elevatedpos.schema.auth import AuthPayload, LoginInput, RefreshTokenInput
from elevatedpos.schema.context import Info
from elevatedpos.schema.orgs import User


def _payload(issued: sessions.IssuedTokens) -> AuthPayload:
    return AuthPayload(
        access_token=issued.access_token,
        refresh_token=issued.refresh_token,
        expires_in=issued.expires_in,
        token_type="Bearer",
        user=User.from_row(issued.user),
    )


@strawberry.type
class AuthMutation:
    @strawberry.mutation(description="Exchange email and password for an access and refresh token")
    async def login(self, info: Info, input: LoginInput) -> AuthPayload:
        ctx = info.context
        issued = await sessions.login(ctx.runtime, input.email, input.password, ctx.client_ip)
        return _payload(issued)

    @strawberry.mutation(description="Spend a refresh token for a new pair")
    async def refresh_token(self, info: Info, input: RefreshTokenInput) -> AuthPayload:
        return _payload(await sessions.refresh(info.context.runtime, input.refresh_token))

    @strawberry.mutation(description="End this session: its access and refresh tokens stop working")
    async def logout(self, info: Info) -> bool:
        await sessions.logout(info.context.runtime, info.context.auth)
        return True

"""Login and token types."""

from __future__ import annotations

import strawberry

from elevatedpos.schema.orgs import User


@strawberry.type
class AuthPayload:
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str
    user: User


@strawberry.input
class LoginInput:
    email: str
    password: str


@strawberry.input
class RefreshTokenInput:
    refresh_token: str

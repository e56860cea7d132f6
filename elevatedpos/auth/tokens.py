"""JWT access and refresh tokens (PyJWT), HS256 pinned; iss, aud, exp required and checked."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt

from elevatedpos.errors import Unauthorized

ALGORITHM = "HS256"
_REQUIRED_ACCESS = ["exp", "iat", "iss", "aud", "sub", "jti", "org", "scope", "typ"]
_REQUIRED_REFRESH = ["exp", "iat", "iss", "aud", "sub", "jti", "sid", "typ"]


@dataclass(frozen=True)
class TokenIssuer:
    secret: str
    issuer: str
    audience: str
    access_ttl: int
    refresh_ttl: int

    def access_token(
        self,
        *,
        user_id: uuid.UUID,
        org_id: uuid.UUID,
        scopes: frozenset[str] | set[str],
        session_id: uuid.UUID | None,
        role: str | None = None,
        client_id: str | None = None,
    ) -> tuple[str, dict[str, Any]]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "typ": "access",
            "iss": self.issuer,
            "aud": self.audience,
            "sub": str(user_id),
            "org": str(org_id),
            "scope": " ".join(sorted(scopes)),
            "jti": uuid.uuid4().hex,
            "iat": now,
            "exp": now + self.access_ttl,
        }
        if session_id is not None:
            claims["sid"] = str(session_id)
        if role is not None:
            claims["role"] = role
        if client_id is not None:
            claims["cid"] = client_id
        return jwt.encode(claims, self.secret, algorithm=ALGORITHM), claims

    def refresh_token(
        self, *, user_id: uuid.UUID, session_id: uuid.UUID, token_id: uuid.UUID
    ) -> str:
        now = int(time.time())
        claims = {
            "typ": "refresh",
            "iss": self.issuer,
            "aud": self.audience,
            "sub": str(user_id),
            "sid": str(session_id),
            "jti": str(token_id),
            "iat": now,
            "exp": now + self.refresh_ttl,
        }
        return jwt.encode(claims, self.secret, algorithm=ALGORITHM)

    def _decode(self, token: str, required: list[str], typ: str) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self.secret,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": required},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("Token has expired") from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized("Invalid token") from exc
        if claims.get("typ") != typ:
            raise Unauthorized("Invalid token")
        return claims

    def decode_access(self, token: str) -> dict[str, Any]:
        """The claims of a valid access token."""
        return self._decode(token, _REQUIRED_ACCESS, "access")

    def decode_refresh(self, token: str) -> dict[str, Any]:
        return self._decode(token, _REQUIRED_REFRESH, "refresh")

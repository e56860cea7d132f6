"""Login sessions and their refresh-token families."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from elevatedpos.db.models.base import Base
from elevatedpos.db.types import UTCDateTime, Uuid, utcnow


class AuthSession(Base):
    """One login, or one partner app's grant (`client_id` and the granted `scope` set); its
    refresh tokens form one family that is revoked together."""

    __tablename__ = "auth_sessions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("orgs.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    revoked_reason: Mapped[str | None] = mapped_column(String(40), default=None)
    # A partner app's grants, found by their app (listing, uninstalling).
    client_id: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    scope: Mapped[str | None] = mapped_column(Text, default=None)


class RefreshToken(Base):
    __tablename__ = "refresh_tokens"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True)
    session_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("auth_sessions.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    spent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class OAuthCode(Base):
    """An authorization code: single use, short-lived, bound to its client, redirect URI,
    PKCE challenge and the user who granted it. Only its SHA-256 is kept."""

    __tablename__ = "oauth_codes"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=uuid.uuid4)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    integration_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("integrations.id", ondelete="CASCADE"), index=True
    )
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("orgs.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("users.id", ondelete="CASCADE"))
    redirect_uri: Mapped[str | None] = mapped_column(String(2000), default=None)
    scope: Mapped[str] = mapped_column(Text)
    code_challenge: Mapped[str] = mapped_column(String(128))
    code_challenge_method: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # The session its exchange started: revoked if the code is presented again.
    session_id: Mapped[uuid.UUID | None] = mapped_column(Uuid(), default=None)

"""Settings read from the environment, with the embedded defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./elevatedpos.db"


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def normalize_database_url(url: str) -> str:
    """Accept the URLs people paste (postgres://, sqlite://) and pick the async drivers."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+asyncpg://" + url[len("postgresql://") :]
    if url.startswith("sqlite://") and not url.startswith("sqlite+aiosqlite://"):
        url = "sqlite+aiosqlite://" + url[len("sqlite://") :]
    return url


def _positive_int(env: Any, name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{name} must be a whole number of days, 1 or more (got {raw!r})")
    return int(raw)


def _percent(env: Any, name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= 100:
        raise ValueError(f"{name} must be a whole percent, 1 to 100 (got {raw!r})")
    return int(raw)


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str | None = None
    jwt_secret: str | None = None
    allow_private_webhook_targets: bool = False
    jwt_issuer: str = "https://api.elevatedpos.com.au"
    jwt_audience: str = "elevatedpos-api"
    access_token_ttl: int = 900
    refresh_token_ttl: int = 30 * 24 * 3600
    login_failures_per_minute: int = 10
    plan_cache_seconds: float = 30.0
    idempotency_wait_seconds: float = 10.0
    # Published events, finished webhook deliveries and automation runs older than this are
    # deleted by the outbox relay (stock movements and points transactions are kept).
    event_retention_days: int = 30
    # The most of its org's rate limit one partner app may use, so tills keep the rest.
    partner_rate_percent: int = 50
    # The bearer token a Prometheus scrape of /metrics sends; unset, /metrics is off (404).
    metrics_token: str | None = None

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: object) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, object] = {
            "database_url": normalize_database_url(env.get("DATABASE_URL") or DEFAULT_DATABASE_URL),
            "redis_url": env.get("REDIS_URL") or None,
            "jwt_secret": env.get("JWT_SECRET") or None,
            "allow_private_webhook_targets": _truthy(env.get("ALLOW_PRIVATE_WEBHOOK_TARGETS")),
            "event_retention_days": _positive_int(env, "EVENT_RETENTION_DAYS", 30),
            "partner_rate_percent": _percent(env, "PARTNER_RATE_PERCENT", 50),
            "metrics_token": env.get("METRICS_TOKEN") or None,
        }
        values.update(overrides)
        if isinstance(values.get("database_url"), str):
            values["database_url"] = normalize_database_url(str(values["database_url"]))
        return cls(**values)  # type: ignore[arg-type]

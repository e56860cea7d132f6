"""Automatic persisted queries (Apollo's protocol): a client may send only a document's hash.

The first time a client sends `extensions.persistedQuery.sha256Hash` without the query it
gets `PersistedQueryNotFound`; it then sends both, and the document is kept (in Redis when
configured, so every worker knows it, and in a bounded in-process cache).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections import OrderedDict
from typing import Any

from redis.asyncio import Redis
from strawberry.http import GraphQLRequestData

TTL_SECONDS = 7 * 24 * 3600
MAX_LOCAL = 2048
MAX_QUERY_BYTES = 100_000


class PersistedQueryError(Exception):
    """Answered as a GraphQL error body with this code (HTTP 200, as Apollo clients expect)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def body(self) -> dict[str, Any]:
        return {"errors": [{"message": self.message, "extensions": {"code": self.code}}]}


class PersistedQueries:
    def __init__(self, redis: Redis | None, prefix: str = "elevatedpos:apq:") -> None:
        self.redis = redis
        self.prefix = prefix
        self._local: OrderedDict[str, str] = OrderedDict()

    def _remember(self, digest: str, query: str) -> None:
        self._local[digest] = query
        self._local.move_to_end(digest)
        while len(self._local) > MAX_LOCAL:
            self._local.popitem(last=False)

    async def _lookup(self, digest: str) -> str | None:
        if digest in self._local:
            self._local.move_to_end(digest)
            return self._local[digest]
        if self.redis is None:
            return None
        stored = await self.redis.get(self.prefix + digest)
        if stored is None:
            return None
        query = stored.decode() if isinstance(stored, bytes) else str(stored)
        self._remember(digest, query)
        return query

    async def resolve(self, data: GraphQLRequestData) -> GraphQLRequestData:
        """The request with its query filled in from (or registered under) its hash."""
        persisted = (data.extensions or {}).get("persistedQuery")
        if not isinstance(persisted, dict):
            return data
        digest = persisted.get("sha256Hash")
        if persisted.get("version") != 1 or not isinstance(digest, str) or len(digest) != 64:
            raise PersistedQueryError(
                "Unsupported persisted query", "PERSISTED_QUERY_NOT_SUPPORTED"
            )
        digest = digest.lower()
        if data.query is None:
            query = await self._lookup(digest)
            if query is None:
                raise PersistedQueryError("PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND")
            return dataclasses.replace(data, query=query)
        if len(data.query.encode()) > MAX_QUERY_BYTES:
            raise PersistedQueryError("Query is too large to persist", "BAD_REQUEST")
        if hashlib.sha256(data.query.encode()).hexdigest() != digest:
            raise PersistedQueryError("provided sha does not match query", "BAD_REQUEST")
        if digest not in self._local:
            self._remember(digest, data.query)
            if self.redis is not None:
                await self.redis.set(self.prefix + digest, data.query, ex=TTL_SECONDS)
        return data

"""Automatic persisted queries: send a document once, then only its SHA-256."""

from __future__ import annotations

import hashlib
import json
import uuid

import pytest
from asgi_lifespan import LifespanManager
from redis.asyncio import Redis

from elevatedpos.app import create_app
from elevatedpos.settings import Settings
from tests.conftest import REDIS_URL, Tenant, new_client


def _query() -> tuple[str, str]:
    # a unique document per test, so no earlier registration can answer for it
    query = f"query Persisted{uuid.uuid4().hex} {{ me {{ id }} }}"
    return query, hashlib.sha256(query.encode()).hexdigest()


def _extensions(digest: str) -> dict:
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


async def test_hash_alone_is_unknown_then_registered_then_enough(client, tenant: Tenant):
    query, digest = _query()
    unknown = await client.post(
        "/graphql", json={"extensions": _extensions(digest)}, headers=tenant.headers
    )
    assert unknown.status_code == 200
    assert unknown.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert unknown.json()["errors"][0]["message"] == "PersistedQueryNotFound"
    registered = await client.post(
        "/graphql", json={"query": query, "extensions": _extensions(digest)}, headers=tenant.headers
    )
    assert registered.json() == {"data": {"me": {"id": str(tenant.user_id)}}}
    by_hash = await client.post(
        "/graphql", json={"extensions": _extensions(digest)}, headers=tenant.headers
    )
    assert by_hash.json() == {"data": {"me": {"id": str(tenant.user_id)}}}
    by_get = await client.get(
        "/graphql",
        params={"extensions": json.dumps(_extensions(digest))},
        headers={**tenant.headers, "Accept": "application/json"},
    )
    assert by_get.status_code == 200
    assert by_get.json() == {"data": {"me": {"id": str(tenant.user_id)}}}


async def test_a_hash_that_does_not_match_the_query_is_refused(client, tenant: Tenant):
    query, _ = _query()
    wrong = hashlib.sha256(b"something else").hexdigest()
    response = await client.post(
        "/graphql", json={"query": query, "extensions": _extensions(wrong)}, headers=tenant.headers
    )
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    # and nothing was registered under it
    again = await client.post(
        "/graphql", json={"extensions": _extensions(wrong)}, headers=tenant.headers
    )
    assert again.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


async def test_persisted_queries_still_need_a_token(client):
    _, digest = _query()
    response = await client.post("/graphql", json={"extensions": _extensions(digest)})
    assert response.status_code == 401


@pytest.mark.skipif(REDIS_URL is None, reason="needs Redis (TEST_REDIS_URL)")
async def test_with_redis_every_instance_knows_a_registered_query(database_url, tenant: Tenant):
    settings = Settings.from_env({}, database_url=database_url, redis_url=REDIS_URL)
    first, second = create_app(settings), create_app(settings)
    query, digest = _query()
    async with LifespanManager(first), LifespanManager(second):
        async with new_client(first) as a, new_client(second) as b:
            await a.post(
                "/graphql",
                json={"query": query, "extensions": _extensions(digest)},
                headers=tenant.headers,
            )
            response = await b.post(
                "/graphql", json={"extensions": _extensions(digest)}, headers=tenant.headers
            )
    assert response.json() == {"data": {"me": {"id": str(tenant.user_id)}}}
    redis = Redis.from_url(REDIS_URL)
    try:
        assert await redis.exists(f"elevatedpos:apq:{digest}")
    finally:
        await redis.delete(f"elevatedpos:apq:{digest}")
        await redis.aclose()

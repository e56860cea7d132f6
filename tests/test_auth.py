"""Login, refresh rotation, logout, me, token hardening and the per-IP login limit."""

from __future__ import annotations

import asyncio
import base64
import time
import uuid

import jwt
import orjson
import pytest
from asgi_lifespan import LifespanManager
from redis.asyncio import Redis

from elevatedpos.actions.orgs import create_org
from elevatedpos.app import create_app
from elevatedpos.auth.revocations import RevocationFile
from elevatedpos.auth.sessions import start_session
from elevatedpos.auth.tokens import ALGORITHM
from elevatedpos.db.migrate import upgrade_database
from elevatedpos.settings import Settings
from tests.conftest import PASSWORD, REDIS_URL, Tenant, gql, new_client

ME = "/api/v1/auth/me"


async def login(client, email: str, password: str = PASSWORD):
    return await client.post("/api/v1/auth/login", json={"email": email, "password": password})


async def test_login_returns_tokens_and_user(client, tenant: Tenant):
    response = await login(client, tenant.email)
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["expiresIn"] == 900
    assert data["tokenType"] == "Bearer"
    assert data["user"] == {
        "id": str(tenant.user_id),
        "email": tenant.email,
        "orgId": str(tenant.org_id),
        "name": tenant.email.split("@")[0],
        "role": "owner",
    }
    me = await client.get(ME, headers={"Authorization": f"Bearer {data['accessToken']}"})
    assert me.status_code == 200
    assert me.json()["data"]["id"] == str(tenant.user_id)


async def test_login_is_case_insensitive_on_email(client, tenant: Tenant):
    response = await login(client, tenant.email.upper())
    assert response.status_code == 200


async def test_wrong_password_and_unknown_email_are_the_same_401(client, tenant: Tenant):
    wrong = await login(client, tenant.email, "not-the-password")
    unknown = await login(client, "nobody@example.com", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.headers["content-type"] == "application/problem+json"
    assert wrong.json()["detail"] == unknown.json()["detail"]
    assert wrong.json()["type"] == "https://elevatedpos.com.au/errors/unauthorized"


async def test_login_missing_field_is_422(client):
    response = await client.post("/api/v1/auth/login", json={"email": "a@b.co"})
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "password", "message": "password is required"}]


async def test_refresh_rotates_and_spends_the_old_token(client, tenant: Tenant):
    first = await client.post("/api/v1/auth/refresh", json={"refreshToken": tenant.refresh_token})
    assert first.status_code == 200
    pair = first.json()["data"]
    assert pair["refreshToken"] != tenant.refresh_token
    assert (
        await client.get(ME, headers={"Authorization": f"Bearer {pair['accessToken']}"})
    ).status_code == 200
    second = await client.post("/api/v1/auth/refresh", json={"refreshToken": pair["refreshToken"]})
    assert second.status_code == 200


async def test_reusing_a_spent_refresh_token_revokes_the_family(client, tenant: Tenant):
    rotated = (
        await client.post("/api/v1/auth/refresh", json={"refreshToken": tenant.refresh_token})
    ).json()["data"]
    reuse = await client.post("/api/v1/auth/refresh", json={"refreshToken": tenant.refresh_token})
    assert reuse.status_code == 401
    # the whole family is gone: the token issued by the legitimate rotation too
    after = await client.post(
        "/api/v1/auth/refresh", json={"refreshToken": rotated["refreshToken"]}
    )
    assert after.status_code == 401
    me = await client.get(ME, headers={"Authorization": f"Bearer {rotated['accessToken']}"})
    assert me.status_code == 401


async def test_logout_rejects_that_sessions_access_and_refresh_tokens(
    client, tenant: Tenant, make_tenant
):
    other_session = await login(client, tenant.email)
    other_token = other_session.json()["data"]["accessToken"]
    out = await client.post("/api/v1/auth/logout", headers=tenant.headers)
    assert out.status_code == 204
    assert out.content == b""
    assert (await client.get(ME, headers=tenant.headers)).status_code == 401
    refresh = await client.post("/api/v1/auth/refresh", json={"refreshToken": tenant.refresh_token})
    assert refresh.status_code == 401
    # another session of the same user is untouched
    assert (
        await client.get(ME, headers={"Authorization": f"Bearer {other_token}"})
    ).status_code == 200


async def test_logout_needs_a_token(client):
    response = await client.post("/api/v1/auth/logout")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")


def _b64(obj: dict) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(obj)).rstrip(b"=").decode()


async def test_alg_none_is_rejected(client, tenant: Tenant, runtime):
    claims = runtime.issuer.decode_access(tenant.access_token)
    forged = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    response = await client.get(ME, headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401


async def test_tampered_payload_is_rejected(client, tenant: Tenant, runtime):
    header, _, signature = tenant.access_token.split(".")
    claims = runtime.issuer.decode_access(tenant.access_token)
    claims["scope"] += " superuser"
    response = await client.get(
        ME, headers={"Authorization": f"Bearer {header}.{_b64(claims)}.{signature}"}
    )
    assert response.status_code == 401


async def test_token_signed_with_another_key_or_algorithm_is_rejected(
    client, tenant: Tenant, runtime
):
    claims = runtime.issuer.decode_access(tenant.access_token)
    other_key = jwt.encode(
        claims, "another-secret-of-enough-length-1234567890", algorithm=ALGORITHM
    )
    other_alg = jwt.encode(claims, runtime.issuer.secret, algorithm="HS512")
    for token in (other_key, other_alg):
        response = await client.get(ME, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401


async def test_wrong_audience_issuer_or_expired_is_rejected(client, tenant: Tenant, runtime):
    claims = runtime.issuer.decode_access(tenant.access_token)
    now = int(time.time())
    variants = [
        {**claims, "aud": "someone-else"},
        {**claims, "iss": "https://evil.example"},
        {**claims, "iat": now - 2000, "exp": now - 1000},
    ]
    for variant in variants:
        token = jwt.encode(variant, runtime.issuer.secret, algorithm=ALGORITHM)
        response = await client.get(ME, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, variant


async def test_refresh_token_is_not_an_access_token(client, tenant: Tenant):
    response = await client.get(ME, headers={"Authorization": f"Bearer {tenant.refresh_token}"})
    assert response.status_code == 401
    swapped = await client.post("/api/v1/auth/refresh", json={"refreshToken": tenant.access_token})
    assert swapped.status_code == 401


async def test_malformed_authorization_header_is_401(client):
    for value in ("Basic abc", "Bearer", "Bearer not.a.jwt", "token"):
        response = await client.get(ME, headers={"Authorization": value})
        assert response.status_code == 401, value
        assert response.json()["status"] == 401


async def test_ten_failures_lock_the_ip_for_a_minute_even_for_the_right_password(
    app, tenant: Tenant
):
    async with new_client(app) as attacker, new_client(app) as bystander:
        for _ in range(10):
            assert (await login(attacker, tenant.email, "wrong-password")).status_code == 401
        blocked = await login(attacker, tenant.email)
        assert blocked.status_code == 429
        assert 1 <= int(blocked.headers["retry-after"]) <= 60
        assert blocked.json()["type"].endswith("/rate-limited")
        # another address is not affected
        assert (await login(bystander, tenant.email)).status_code == 200


async def test_successful_logins_do_not_count(app, tenant: Tenant):
    async with new_client(app) as c:
        for _ in range(12):
            assert (await login(c, tenant.email)).status_code == 200


LOGIN = """
mutation($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) {
    accessToken refreshToken expiresIn tokenType user { id role orgId }
  }
}
"""
REFRESH = """
mutation($t: String!) { refreshToken(input: {refreshToken: $t}) { accessToken refreshToken } }
"""


async def test_graphql_login_refresh_me_logout(client, tenant: Tenant):
    body = await gql(client, LOGIN, {"email": tenant.email, "password": PASSWORD})
    data = body["data"]["login"]
    assert data["user"] == {"id": str(tenant.user_id), "role": "OWNER", "orgId": str(tenant.org_id)}
    headers = {"Authorization": f"Bearer {data['accessToken']}"}
    me = await gql(client, "{ me { id email } }", headers=headers)
    assert me["data"]["me"]["email"] == tenant.email
    rotated = await gql(client, REFRESH, {"t": data["refreshToken"]})
    assert rotated["data"]["refreshToken"]["accessToken"]
    out = await gql(client, "mutation { logout }", headers=headers)
    assert out["data"] == {"logout": True}
    after = await client.post("/graphql", json={"query": "{ me { id } }"}, headers=headers)
    assert after.status_code == 401


async def test_graphql_wrong_password_carries_the_code(client, tenant: Tenant):
    body = await gql(client, LOGIN, {"email": tenant.email, "password": "nope-nope"})
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHORIZED"
    assert body["errors"][0]["extensions"]["status"] == 401


async def test_anonymous_graphql_beyond_login_is_a_401_problem(client):
    response = await client.post("/graphql", json={"query": "{ me { id } }"})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    mixed_query = 'mutation { login(input: {email: "a@b.co", password: "x"}) { tokenType } logout }'
    mixed = await client.post("/graphql", json={"query": mixed_query})
    assert mixed.status_code == 401


needs_redis = pytest.mark.skipif(REDIS_URL is None, reason="needs Redis (TEST_REDIS_URL)")


async def refused_within(client, headers: dict[str, str], seconds: float = 2.0) -> float:
    """Seconds until `me` with these headers is a 401 (a revocation reaching a host)."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        response = await client.get(ME, headers=headers)
        if response.status_code == 401:
            return time.monotonic() - started
        assert response.status_code == 200
        await asyncio.sleep(0.001)
    raise AssertionError(f"still accepted {seconds}s after the revocation")


def session_of(runtime, tenant: Tenant) -> uuid.UUID:
    return uuid.UUID(runtime.issuer.decode_access(tenant.access_token)["sid"])


async def test_logout_on_one_host_is_seen_by_another_with_redis(redis_apps, tenant: Tenant):
    host_a, host_b = redis_apps
    watch = host_a.state.runtime.revocations
    assert watch.live  # host A hears revocations pushed by Redis
    async with new_client(host_a) as a, new_client(host_b) as b:
        assert (await a.get(ME, headers=tenant.headers)).status_code == 200
        assert (await b.post("/api/v1/auth/logout", headers=tenant.headers)).status_code == 204
        assert await refused_within(a, tenant.headers) < 0.5
        assert watch.revoked(session_of(host_a.state.runtime, tenant)) is True
        refresh = await a.post("/api/v1/auth/refresh", json={"refreshToken": tenant.refresh_token})
        assert refresh.status_code == 401


async def test_a_host_without_a_live_revocation_feed_asks_redis_on_every_request(
    redis_apps, tenant: Tenant
):
    host_a, host_b = redis_apps
    watch = host_a.state.runtime.revocations
    await watch.stop()  # as if its subscription were lost
    assert watch.revoked(session_of(host_a.state.runtime, tenant)) is None
    async with new_client(host_a) as a, new_client(host_b) as b:
        assert (await a.get(ME, headers=tenant.headers)).status_code == 200
        assert (await b.post("/api/v1/auth/logout", headers=tenant.headers)).status_code == 204
        # no message reaches host A, yet its very next request is refused
        assert (await a.get(ME, headers=tenant.headers)).status_code == 401


@needs_redis
async def test_a_host_started_after_a_logout_knows_of_it(database_url, tenant: Tenant):
    settings = Settings.from_env({}, database_url=database_url, redis_url=REDIS_URL)
    host_b = create_app(settings)
    async with LifespanManager(host_b), new_client(host_b) as b:
        assert (await b.post("/api/v1/auth/logout", headers=tenant.headers)).status_code == 204
    late = create_app(settings)
    async with LifespanManager(late), new_client(late) as c:
        assert late.state.runtime.revocations.live
        assert late.state.runtime.revocations.revoked(session_of(late.state.runtime, tenant))
        assert (await c.get(ME, headers=tenant.headers)).status_code == 401


async def test_the_revocation_feed_comes_back_after_its_connection_drops(
    redis_apps, tenant: Tenant
):
    host_a, host_b = redis_apps
    watch = host_a.state.runtime.revocations
    admin = Redis.from_url(REDIS_URL)
    try:
        await admin.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
    finally:
        await admin.aclose()
    async with new_client(host_a) as a, new_client(host_b) as b:
        # while it reconnects host A checks each request with Redis; requests still work
        assert (await a.get(ME, headers=tenant.headers)).status_code == 200
        async with asyncio.timeout(5):
            await watch.wait_live()
        assert (await b.post("/api/v1/auth/logout", headers=tenant.headers)).status_code == 204
        await refused_within(a, tenant.headers)
        # The first wait may have passed before host A noticed the kill; once live again
        # its feed knows the logout (heard, or loaded with the marks on reconnecting).
        async with asyncio.timeout(5):
            await watch.wait_live()
        assert watch.revoked(session_of(host_a.state.runtime, tenant)) is True


async def test_refresh_reuse_revokes_access_everywhere_with_redis(redis_apps, tenant: Tenant):
    host_a, host_b = redis_apps
    async with new_client(host_a) as a, new_client(host_b) as b:
        rotated = (
            await a.post("/api/v1/auth/refresh", json={"refreshToken": tenant.refresh_token})
        ).json()["data"]
        headers = {"Authorization": f"Bearer {rotated['accessToken']}"}
        assert (await b.get(ME, headers=headers)).status_code == 200
        reuse = await b.post("/api/v1/auth/refresh", json={"refreshToken": tenant.refresh_token})
        assert reuse.status_code == 401
        await refused_within(a, headers)


# --- Without Redis: SQLite's processes learn of revocations from a file beside the database


async def test_an_authenticated_request_reads_no_session_row_on_sqlite(
    client, tenant: Tenant, runtime, count_statements
):
    assert (await client.get(ME, headers=tenant.headers)).status_code == 200  # caches the user
    with count_statements() as counter:
        assert (await client.get(ME, headers=tenant.headers)).status_code == 200
    if runtime.db.is_sqlite:
        # the session is checked against the revocation file, not read from the database
        assert counter.count == 0, counter.statements
    else:
        # PostgreSQL without Redis reads the session row (production runs with Redis)
        assert counter.count == 1 and "auth_sessions" in counter.statements[0]


async def test_on_sqlite_a_logout_is_refused_at_once_by_another_process(tmp_path, make_tenant):
    url = f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}"
    await upgrade_database(url)
    settings = Settings.from_env({}, database_url=url)
    # two app instances on one database file, as two worker processes would be
    host_a, host_b = create_app(settings), create_app(settings)
    async with LifespanManager(host_a), LifespanManager(host_b):
        runtime = host_a.state.runtime
        made = await create_org(
            runtime.db, name="File Shop", email="owner@file.example", password=PASSWORD
        )
        issued = await start_session(runtime, made.owner)
        headers = {"Authorization": f"Bearer {issued.access_token}"}
        other = await start_session(runtime, made.owner)
        other_headers = {"Authorization": f"Bearer {other.access_token}"}
        async with new_client(host_a) as a, new_client(host_b) as b:
            assert (await a.get(ME, headers=headers)).status_code == 200
            assert (await b.post("/api/v1/auth/logout", headers=headers)).status_code == 204
            assert (await a.get(ME, headers=headers)).status_code == 401  # no delay at all
            assert (await a.get(ME, headers=other_headers)).status_code == 200
        revoked_sid = session_of_token(runtime, issued.access_token)
        assert str(revoked_sid) in (tmp_path / "shop.db-revocations").read_text()
    # a process started later reads the file too
    late = create_app(settings)
    async with LifespanManager(late), new_client(late) as c:
        assert (await c.get(ME, headers=headers)).status_code == 401
        assert (await c.get(ME, headers=other_headers)).status_code == 200


def session_of_token(runtime, token: str) -> uuid.UUID:
    return uuid.UUID(runtime.issuer.decode_access(token)["sid"])


async def test_the_revocation_file_is_compacted_without_losing_live_entries(tmp_path):
    file = tmp_path / "db-revocations"
    writer, reader = RevocationFile(str(file), 900), RevocationFile(str(file), 900)
    expired = [uuid.uuid4() for _ in range(3)]
    # left by sessions revoked long ago
    file.write_text("".join(f"{sid} {int(time.time()) - 10}\n" for sid in expired))
    live = uuid.uuid4()
    assert reader.revoked(live) is False
    writer.COMPACT_BYTES = 0  # compact on this very write
    await writer.publish(live)
    text = file.read_text()
    assert str(live) in text and not any(str(sid) in text for sid in expired)
    assert reader.revoked(live) is True  # a new first line: read whole
    assert all(reader.revoked(sid) is False for sid in expired)


async def test_a_revocation_file_swapped_for_another_on_the_same_inode_is_read_whole(tmp_path):
    file = tmp_path / "db-revocations"
    later = int(time.time()) + 900
    old = [uuid.uuid4() for _ in range(3)]
    file.write_text("".join(f"{sid} {later}\n" for sid in old))
    reader = RevocationFile(str(file), 900)
    assert reader.revoked(old[0]) is True
    # another generation of the file, longer than what the reader read, on the same inode
    # (as a filesystem may reuse a freed one): its first entry sits before the old end
    new = [uuid.uuid4() for _ in range(5)]
    with file.open("r+") as f:
        f.write(f"#{uuid.uuid4()}\n" + "".join(f"{sid} {later}\n" for sid in new))
    assert all(reader.revoked(sid) is True for sid in new)


async def test_a_line_still_being_written_is_read_once_complete(tmp_path):
    file = tmp_path / "db-revocations"
    sid = uuid.uuid4()
    line = f"{sid} {int(time.time()) + 900}\n"
    file.write_text(line[:20])  # a writer in the middle of its append
    reader = RevocationFile(str(file), 900)
    assert reader.revoked(sid) is False
    with file.open("a") as f:
        f.write(line[20:])
    assert reader.revoked(sid) is True

"""OAuth 2.0 for partner apps: the authorization code flow with PKCE, refresh-token rotation,
single-use codes, scopes a partner token carries, and errors as problem details that carry
RFC 6749's `error`."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from sqlalchemy import func, select, update

from elevatedpos.db.models import AuthSession, OAuthCode, User
from elevatedpos.db.types import utcnow
from tests.conftest import Tenant, TenantFactory, new_client, staff_of
from tests.test_integrations import install
from tests.test_loyalty import problem

AUTHORIZE = "/api/v1/oauth/authorize"
TOKEN = "/api/v1/oauth/token"
REDIRECT = "https://app.example/cb"
READ = "catalog:read customers:read"


@pytest.fixture
async def https(app) -> AsyncIterator[httpx.AsyncClient]:
    """OAuth asks for TLS (Authlib refuses plain http but on loopback): clients use https."""
    async with new_client(app, base_url="https://testserver") as c:
        yield c


@dataclass
class App:
    """An installed partner app: its OAuth client."""

    id: str
    client_id: str
    secret: str

    @property
    def basic(self) -> dict[str, str]:
        raw = f"{self.client_id}:{self.secret}".encode()
        return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


async def new_app(client, tenant: Tenant, **extra: Any) -> App:
    made = await install(client, tenant, **extra)
    return App(made["id"], made["clientId"], made["clientSecret"])


async def authorize(
    client, tenant: Tenant, app: App, scope: str | None = READ, **params: str | None
) -> httpx.Response:
    query: dict[str, str | None] = {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": REDIRECT,
        "scope": scope,
        "state": "xyz",
        **params,
    }
    sent = {k: v for k, v in query.items() if v is not None}
    return await client.get(AUTHORIZE, params=sent, headers=tenant.headers)


def redirected(response: httpx.Response) -> dict[str, str]:
    """The query of the 302's Location, which must go to the registered redirect URI."""
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(REDIRECT + "?"), location
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


async def code_for(client, tenant: Tenant, app: App, scope: str = READ) -> tuple[str, str]:
    """An authorization code and its PKCE verifier."""
    verifier, challenge = pkce()
    response = await authorize(
        client, tenant, app, scope, code_challenge=challenge, code_challenge_method="S256"
    )
    query = redirected(response)
    assert query["state"] == "xyz"
    return query["code"], verifier


async def exchange(client, app: App, code: str, verifier: str, **extra: str) -> httpx.Response:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
        **extra,
    }
    return await client.post(TOKEN, data=form, headers=app.basic)


async def tokens(client, tenant: Tenant, app: App, scope: str = READ) -> dict[str, Any]:
    code, verifier = await code_for(client, tenant, app, scope)
    response = await exchange(client, app, code, verifier)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def oauth_problem(response: httpx.Response, status: int, error: str) -> dict[str, Any]:
    slug = {400: "bad-request", 401: "unauthorized", 403: "forbidden"}[status]
    body = problem(response, status, slug)
    assert body["error"] == error, body
    assert response.headers["cache-control"] == "no-store"
    return body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- the flow -------------------------------------------------------------------------------


async def test_a_partner_gets_tokens_that_carry_only_the_granted_scopes(https, tenant: Tenant):
    app = await new_app(https, tenant)
    body = await tokens(https, tenant, app)
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900
    assert body["scope"] == READ and body["refresh_token"]
    token = body["access_token"]
    products = await https.get("/api/v1/products", headers=bearer(token))
    assert products.status_code == 200, products.text
    me = (await https.get("/api/v1/auth/me", headers=bearer(token))).json()["data"]
    assert me["id"] == str(tenant.user_id)
    # Not granted: catalog:write (the owner has it) and orders:read.
    created = await https.post(
        "/api/v1/products",
        json={"name": "X", "sku": "X-1", "price": {"amount": 100, "currency": "AUD"}},
        headers=bearer(token),
    )
    problem(created, 403, "forbidden")
    problem(await https.get("/api/v1/orders", headers=bearer(token)), 403, "forbidden")
    gql = await https.post(
        "/graphql", json={"query": "{ orders { nodes { id } } }"}, headers=bearer(token)
    )
    assert gql.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_the_token_answer_is_never_cached_and_client_secret_post_works(https, tenant):
    app = await new_app(https, tenant)
    code, verifier = await code_for(https, tenant, app)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
        "client_id": app.client_id,
        "client_secret": app.secret,
    }
    response = await https.post(TOKEN, data=form)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-type"].startswith("application/json")


async def test_refresh_rotates_and_a_spent_refresh_token_ends_the_grant(https, tenant):
    app = await new_app(https, tenant)
    first = await tokens(https, tenant, app)
    form = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    second = await https.post(TOKEN, data=form, headers=app.basic)
    assert second.status_code == 200, second.text
    renewed = second.json()
    assert renewed["refresh_token"] != first["refresh_token"] and renewed["scope"] == READ
    ok = await https.get("/api/v1/products", headers=bearer(renewed["access_token"]))
    assert ok.status_code == 200
    # The first refresh token again: refused, and the whole family is revoked.
    again = await https.post(TOKEN, data=form, headers=app.basic)
    oauth_problem(again, 400, "invalid_grant")
    gone = await https.get("/api/v1/products", headers=bearer(renewed["access_token"]))
    problem(gone, 401, "unauthorized")
    latest = {"grant_type": "refresh_token", "refresh_token": renewed["refresh_token"]}
    oauth_problem(await https.post(TOKEN, data=latest, headers=app.basic), 400, "invalid_grant")


async def test_refresh_may_narrow_the_scope_but_not_widen_it(https, tenant):
    app = await new_app(https, tenant)
    first = await tokens(https, tenant, app)
    wider = {
        "grant_type": "refresh_token",
        "refresh_token": first["refresh_token"],
        "scope": "catalog:read orders:read",
    }
    oauth_problem(await https.post(TOKEN, data=wider, headers=app.basic), 400, "invalid_scope")
    narrower = {**wider, "scope": "catalog:read"}
    response = await https.post(TOKEN, data=narrower, headers=app.basic)
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    assert response.json()["scope"] == "catalog:read"
    customers = await https.get("/api/v1/customers", headers=bearer(token))
    problem(customers, 403, "forbidden")


async def test_a_code_works_once_and_its_replay_revokes_what_it_gave(https, tenant):
    app = await new_app(https, tenant)
    code, verifier = await code_for(https, tenant, app)
    first = await exchange(https, app, code, verifier)
    assert first.status_code == 200, first.text
    oauth_problem(await exchange(https, app, code, verifier), 400, "invalid_grant")
    access = first.json()["access_token"]
    problem(await https.get("/api/v1/products", headers=bearer(access)), 401, "unauthorized")
    form = {"grant_type": "refresh_token", "refresh_token": first.json()["refresh_token"]}
    oauth_problem(await https.post(TOKEN, data=form, headers=app.basic), 400, "invalid_grant")


async def test_the_same_code_exchanged_at_once_succeeds_once(app, https, tenant):
    partner = await new_app(https, tenant)
    code, verifier = await code_for(https, tenant, partner)
    clients = [new_client(app, base_url="https://testserver") for _ in range(4)]
    try:
        answers = await asyncio.gather(*(exchange(c, partner, code, verifier) for c in clients))
    finally:
        for c in clients:
            await c.aclose()
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200, 400, 400, 400], [a.text for a in answers]
    for answer in answers:
        if answer.status_code == 400:
            assert answer.json()["error"] == "invalid_grant"
    # Racing for one code is a replay: what the winner got is revoked too.
    winner = next(a for a in answers if a.status_code == 200).json()
    await asyncio.sleep(0)
    revoked = await https.get("/api/v1/products", headers=bearer(winner["access_token"]))
    problem(revoked, 401, "unauthorized")


async def test_one_refresh_token_spent_at_once_succeeds_once(app, https, tenant):
    partner = await new_app(https, tenant)
    granted = await tokens(https, tenant, partner)
    form = {"grant_type": "refresh_token", "refresh_token": granted["refresh_token"]}
    clients = [new_client(app, base_url="https://testserver") for _ in range(5)]
    try:
        answers = await asyncio.gather(
            *(c.post(TOKEN, data=form, headers=partner.basic) for c in clients)
        )
    finally:
        for c in clients:
            await c.aclose()
    assert sorted(a.status_code for a in answers) == [200, 400, 400, 400, 400]
    # The losers presented a spent token: the grant ends, the winner's new tokens with it.
    winner = next(a for a in answers if a.status_code == 200).json()
    revoked = await https.get("/api/v1/products", headers=bearer(winner["access_token"]))
    problem(revoked, 401, "unauthorized")


async def test_pkce_is_required_and_checked(https, tenant):
    app = await new_app(https, tenant)
    missing = redirected(await authorize(https, tenant, app))
    assert missing["error"] == "invalid_request" and missing["state"] == "xyz"
    assert "code_challenge" in missing["error_description"]
    _, challenge = pkce()
    plain = redirected(
        await authorize(https, tenant, app, code_challenge=challenge, code_challenge_method="plain")
    )
    assert plain["error"] == "invalid_request"
    code, _ = await code_for(https, tenant, app)
    wrong, _ = pkce()
    oauth_problem(await exchange(https, app, code, wrong), 400, "invalid_grant")
    code, verifier = await code_for(https, tenant, app)
    without = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    oauth_problem(await https.post(TOKEN, data=without, headers=app.basic), 400, "invalid_request")
    assert (await exchange(https, app, code, verifier)).status_code == 200


async def test_the_redirect_uri_must_be_registered_and_repeated_exactly(https, tenant):
    app = await new_app(https, tenant)
    _, challenge = pkce()
    pkce_params = {"code_challenge": challenge, "code_challenge_method": "S256"}
    elsewhere = await authorize(
        https, tenant, app, redirect_uri="https://evil.example/cb", **pkce_params
    )
    body = oauth_problem(elsewhere, 400, "invalid_request")
    assert "location" not in elsewhere.headers and "evil" in body["detail"]
    code, verifier = await code_for(https, tenant, app)
    moved = await exchange(https, app, code, verifier, redirect_uri="https://app.example/other")
    oauth_problem(moved, 400, "invalid_grant")
    assert (await exchange(https, app, code, verifier)).status_code == 200


async def test_scopes_are_what_the_user_can_grant(https, runtime, tenant):
    app = await new_app(https, tenant)
    _, challenge = pkce()
    pkce_params = {"code_challenge": challenge, "code_challenge_method": "S256"}
    for scope in (None, "catalog:read nonsense:read"):
        refused = redirected(await authorize(https, tenant, app, scope, **pkce_params))
        assert refused["error"] == "invalid_scope", (scope, refused)
    # A staff member grants what staff hold: catalog:read, not catalog:write.
    staff = await staff_of(runtime, tenant)
    body = await tokens(https, staff, app, "catalog:read catalog:write")
    assert body["scope"] == "catalog:read"
    nothing = redirected(await authorize(https, staff, app, "catalog:write", **pkce_params))
    assert nothing["error"] == "invalid_scope"


async def test_a_demoted_users_partner_loses_the_scopes_at_its_next_refresh(https, runtime, tenant):
    app = await new_app(https, tenant)
    staff = await staff_of(runtime, tenant)
    async with runtime.db.write() as session:
        await session.execute(update(User).where(User.id == staff.user_id).values(role="manager"))
    first = await tokens(https, staff, app, "catalog:read catalog:write")
    assert first["scope"] == "catalog:read catalog:write"
    async with runtime.db.write() as session:
        await session.execute(update(User).where(User.id == staff.user_id).values(role="staff"))
    form = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    renewed = await https.post(TOKEN, data=form, headers=app.basic)
    assert renewed.status_code == 200, renewed.text
    assert renewed.json()["scope"] == "catalog:read"


# --- clients ----------------------------------------------------------------------------------


async def test_the_client_must_authenticate(https, tenant):
    app = await new_app(https, tenant)
    code, verifier = await code_for(https, tenant, app)
    wrong = App(app.id, app.client_id, "not-the-secret")
    refused = await exchange(https, wrong, code, verifier)
    oauth_problem(refused, 401, "invalid_client")
    assert refused.headers["www-authenticate"].startswith("Basic")
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "code_verifier": verifier,
        "redirect_uri": REDIRECT,
        "client_id": app.client_id,
    }
    oauth_problem(await https.post(TOKEN, data=form), 401, "invalid_client")
    # Another app of the same org cannot spend this app's code; the code still works after.
    other = await new_app(https, tenant)
    oauth_problem(await exchange(https, other, code, verifier), 400, "invalid_grant")
    assert (await exchange(https, app, code, verifier)).status_code == 200


async def test_a_client_is_known_only_to_the_org_that_installed_it(
    https, tenant, make_tenant: TenantFactory
):
    app = await new_app(https, tenant)
    stranger = await make_tenant()
    _, challenge = pkce()
    pkce_params = {"code_challenge": challenge, "code_challenge_method": "S256"}
    theirs = await authorize(https, stranger, app, **pkce_params)
    oauth_problem(theirs, 400, "invalid_client")
    unknown = App(app.id, "epos_unknown", "x")
    oauth_problem(await authorize(https, tenant, unknown, **pkce_params), 400, "invalid_client")
    assert "location" not in theirs.headers


async def test_authorizing_needs_a_users_token(https, tenant):
    app = await new_app(https, tenant)
    problem(await https.get(AUTHORIZE, params={"client_id": app.client_id}), 401, "unauthorized")
    partner = await tokens(https, tenant, app)
    as_partner = Tenant(
        tenant.org_id,
        tenant.user_id,
        tenant.location_id,
        tenant.email,
        partner["access_token"],
        partner["refresh_token"],
    )
    problem(await authorize(https, as_partner, app), 403, "forbidden")
    # Nor is a partner's refresh token good at /auth/refresh (it would widen its scopes).
    refused = await https.post(
        "/api/v1/auth/refresh", json={"refreshToken": partner["refresh_token"]}
    )
    problem(refused, 401, "unauthorized")


# --- the token endpoint's requests ------------------------------------------------------------


async def test_the_token_endpoint_takes_forms_and_known_grants(https, tenant):
    app = await new_app(https, tenant)
    as_json = await https.post(TOKEN, json={"grant_type": "refresh_token"}, headers=app.basic)
    oauth_problem(as_json, 400, "invalid_request")
    for grant_type in ("client_credentials", "password", ""):
        refused = await https.post(TOKEN, data={"grant_type": grant_type}, headers=app.basic)
        oauth_problem(refused, 400, "unsupported_grant_type")
    repeated = await https.post(
        TOKEN,
        content=b"grant_type=refresh_token&grant_type=refresh_token",
        headers={**app.basic, "Content-Type": "application/x-www-form-urlencoded"},
    )
    oauth_problem(repeated, 400, "invalid_request")
    odd = await https.post(TOKEN, data={"grant_type": 'a"b\\c'}, headers=app.basic)
    oauth_problem(odd, 400, "invalid_request")
    odd_basics = [
        b"Basic " + base64.b64encode(b"\xff\xfe:x"),  # not UTF-8
        b"Basic \xe9",  # not base64
        b"Basic \xa0",
        b"Basic " + base64.b64encode(b"%00:x"),  # a NUL once percent-decoded
    ]
    for value in odd_basics:
        refused = await https.post(
            TOKEN, data={"grant_type": "refresh_token"}, headers={"Authorization": value}
        )
        oauth_problem(refused, 401, "invalid_client")
    fields = "&".join(f"f{i}=x" for i in range(1500)).encode()
    crowded = await https.post(
        TOKEN, content=fields, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    oauth_problem(crowded, 400, "invalid_request")


async def test_a_client_authenticates_one_way_and_every_failure_is_401(https, tenant):
    app = await new_app(https, tenant)
    code, verifier = await code_for(https, tenant, app)
    both = await exchange(https, app, code, verifier, client_id=app.client_id,
                          client_secret=app.secret)  # fmt: skip
    oauth_problem(both, 400, "invalid_request")
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "code_verifier": verifier,
        "redirect_uri": REDIRECT,
        "client_id": "epos_nobody",
        "client_secret": "x",
    }
    unknown = await https.post(TOKEN, data=form)
    oauth_problem(unknown, 401, "invalid_client")
    assert unknown.headers["www-authenticate"].startswith("Basic")
    assert (await exchange(https, app, code, verifier)).status_code == 200


async def test_a_blank_scope_at_refresh_keeps_the_grant(https, tenant):
    app = await new_app(https, tenant)
    first = await tokens(https, tenant, app)
    form = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"], "scope": "  "}
    renewed = await https.post(TOKEN, data=form, headers=app.basic)
    assert renewed.status_code == 200, renewed.text
    assert renewed.json()["scope"] == READ


async def test_head_on_authorize_issues_no_code(https, runtime, tenant):
    app = await new_app(https, tenant)
    _, challenge = pkce()
    params = {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": REDIRECT,
        "scope": READ,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    head = await https.head(AUTHORIZE, params=params, headers=tenant.headers)
    assert head.status_code == 405 and head.headers["allow"] == "GET"
    async with runtime.db.read() as session:
        codes = await session.scalar(
            select(func.count()).where(OAuthCode.integration_id == uuid.UUID(app.id))
        )
    assert codes == 0


async def test_an_expired_code_is_refused(https, runtime, tenant):
    app = await new_app(https, tenant)
    code, verifier = await code_for(https, tenant, app)
    async with runtime.db.write() as session:
        await session.execute(
            update(OAuthCode)
            .where(OAuthCode.integration_id == uuid.UUID(app.id))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    oauth_problem(await exchange(https, app, code, verifier), 400, "invalid_grant")


async def test_codes_are_kept_hashed_and_sessions_name_their_client(https, runtime, tenant):
    app = await new_app(https, tenant)
    code, verifier = await code_for(https, tenant, app)
    async with runtime.db.read() as session:
        kept = await session.scalar(
            select(OAuthCode).where(OAuthCode.integration_id == uuid.UUID(app.id))
        )
    assert kept is not None and code not in (kept.code_hash, kept.code_challenge)
    assert kept.code_hash == hashlib.sha256(code.encode()).hexdigest()
    assert kept.expires_at - kept.created_at == timedelta(minutes=10)
    assert (await exchange(https, app, code, verifier)).status_code == 200
    async with runtime.db.read() as session:
        grant = await session.scalar(
            select(AuthSession).where(AuthSession.client_id == app.client_id)
        )
    assert grant is not None and grant.scope == READ and grant.user_id == tenant.user_id


async def test_oauth_over_plain_http_is_refused_except_on_loopback(app, tenant):
    async with new_client(app) as plain:  # http://testserver
        partner = await new_app(plain, tenant)
        refused = await authorize(plain, tenant, partner)
        oauth_problem(refused, 400, "insecure_transport")
    async with new_client(app, base_url="http://127.0.0.1:8000") as loopback:
        code, verifier = await code_for(loopback, tenant, partner)
        assert (await exchange(loopback, partner, code, verifier)).status_code == 200


async def test_the_relay_prunes_codes_past_the_retention(https, runtime, tenant):
    from elevatedpos.events.relay import OutboxRelay

    app = await new_app(https, tenant)
    await code_for(https, tenant, app)
    await code_for(https, tenant, app)
    async with runtime.db.write() as session:
        first = await session.scalar(
            select(OAuthCode.id).where(OAuthCode.integration_id == uuid.UUID(app.id)).limit(1)
        )
        await session.execute(
            update(OAuthCode)
            .where(OAuthCode.id == first)
            .values(expires_at=utcnow() - timedelta(days=31))
        )
    relay = OutboxRelay(runtime.settings.database_url, retention_days=30)
    try:
        await relay.prune()
    finally:
        await relay.stop()
    async with runtime.db.read() as session:
        left = (
            await session.scalars(
                select(OAuthCode.id).where(OAuthCode.integration_id == uuid.UUID(app.id))
            )
        ).all()
    assert len(left) == 1 and first not in left


async def test_redirect_uris_are_https_without_fragment(https, tenant):
    uris = [
        REDIRECT,
        REDIRECT + "#x",
        "http://app.example/cb",
        "http://127.0.0.1:8123/cb",
        "http://localhost/cb",
    ]
    response = await https.post(
        "/api/v1/integrations",
        json={"name": "A", "provider": "p", "redirectUris": uris},
        headers=tenant.headers,
    )
    body = problem(response, 422, "validation")
    assert [e["field"] for e in body["errors"]] == ["redirectUris.1", "redirectUris.2"]
    assert "https" in body["errors"][1]["message"]


async def test_uninstalling_an_integration_ends_its_grants_and_webhooks(
    https, runtime, tenant, make_tenant: TenantFactory
):
    app = await new_app(https, tenant)
    partner = await tokens(https, tenant, app)
    code, verifier = await code_for(https, tenant, app)  # outstanding
    hook = await https.post(
        f"/api/v1/integrations/{app.id}/webhooks",
        json={"url": "https://hooks.example/in", "events": ["*"]},
        headers=tenant.headers,
    )
    assert hook.status_code == 201, hook.text
    stranger = await make_tenant()
    theirs = await https.delete(f"/api/v1/integrations/{app.id}", headers=stranger.headers)
    problem(theirs, 404, "not-found")
    staff = await staff_of(runtime, tenant)
    refused = await https.delete(f"/api/v1/integrations/{app.id}", headers=staff.headers)
    problem(refused, 403, "forbidden")

    gone = await https.delete(f"/api/v1/integrations/{app.id}", headers=tenant.headers)
    assert gone.status_code == 200, gone.text
    assert gone.json()["data"]["status"] == "uninstalled"
    denied = await https.get("/api/v1/products", headers=bearer(partner["access_token"]))
    problem(denied, 401, "unauthorized")
    form = {"grant_type": "refresh_token", "refresh_token": partner["refresh_token"]}
    oauth_problem(await https.post(TOKEN, data=form, headers=app.basic), 401, "invalid_client")
    oauth_problem(await exchange(https, app, code, verifier), 401, "invalid_client")
    _, challenge = pkce()
    again = await authorize(
        https, tenant, app, code_challenge=challenge, code_challenge_method="S256"
    )
    oauth_problem(again, 400, "invalid_client")
    hooks = await https.get(f"/api/v1/integrations/{app.id}/webhooks", headers=tenant.headers)
    assert [h["active"] for h in hooks.json()["data"]] == [False]
    more = await https.post(
        f"/api/v1/integrations/{app.id}/webhooks",
        json={"url": "https://hooks.example/in", "events": ["*"]},
        headers=tenant.headers,
    )
    problem(more, 409, "conflict")
    tested = await https.post(
        f"/api/v1/integrations/{app.id}/webhooks/test", json={}, headers=tenant.headers
    )
    problem(tested, 409, "conflict")
    twice = await https.delete(f"/api/v1/integrations/{app.id}", headers=tenant.headers)
    assert twice.status_code == 200 and twice.json()["data"]["status"] == "uninstalled"


async def test_a_merchant_sees_who_authorized_an_app_and_revokes_one_grant(
    https, runtime, tenant, make_tenant: TenantFactory
):
    app = await new_app(https, tenant)
    staff = await staff_of(runtime, tenant)
    owners = await tokens(https, tenant, app)
    staffs = await tokens(https, staff, app, scope="catalog:read catalog:write")
    renewed = await https.post(
        TOKEN,
        data={"grant_type": "refresh_token", "refresh_token": owners["refresh_token"]},
        headers=app.basic,
    )
    assert renewed.status_code == 200, renewed.text  # rotation keeps one grant
    path = f"/api/v1/integrations/{app.id}/grants"
    listed = await https.get(path, headers=tenant.headers)
    assert listed.status_code == 200, listed.text
    grants = listed.json()["data"]
    assert [(g["user"]["email"], g["scopes"]) for g in grants] == [
        (tenant.email, ["catalog:read", "customers:read"]),
        (staff.email, ["catalog:read"]),  # what the staff member holds of what was asked
    ]
    assert all(g["revokedAt"] is None and g["expiresAt"] > g["createdAt"] for g in grants)
    # Another org sees no such integration; staff may read the list, not revoke.
    stranger = await make_tenant()
    problem(await https.get(path, headers=stranger.headers), 404, "not-found")
    assert (await https.get(path, headers=staff.headers)).json()["data"] == grants
    problem(
        await https.delete(f"{path}/{grants[1]['id']}", headers=staff.headers), 403, "forbidden"
    )
    problem(
        await https.delete(f"{path}/{grants[1]['id']}", headers=stranger.headers), 404, "not-found"
    )

    revoked = await https.delete(f"{path}/{grants[1]['id']}", headers=tenant.headers)
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["data"]["revokedAt"] is not None
    gone = await https.get("/api/v1/products", headers=bearer(staffs["access_token"]))
    problem(gone, 401, "unauthorized")
    refresh = {"grant_type": "refresh_token", "refresh_token": staffs["refresh_token"]}
    oauth_problem(await https.post(TOKEN, data=refresh, headers=app.basic), 400, "invalid_grant")
    kept = await https.get("/api/v1/products", headers=bearer(renewed.json()["access_token"]))
    assert kept.status_code == 200  # the owner's grant stays
    left = (await https.get(path, headers=tenant.headers)).json()["data"]
    assert [g["id"] for g in left] == [grants[0]["id"]]
    again = await https.delete(f"{path}/{grants[1]['id']}", headers=tenant.headers)
    assert again.status_code == 200 and again.json()["data"] == revoked.json()["data"]
    # A sign-in's session or a made-up id is no grant of this app.
    sign_in = jwt.decode(tenant.access_token, options={"verify_signature": False})["sid"]
    for other in (sign_in, str(uuid.uuid4()), "not-a-uuid"):
        problem(await https.delete(f"{path}/{other}", headers=tenant.headers), 404, "not-found")
    query = (
        "query($id: ID!) { integrationGrants(integrationId: $id) { nodes { id user { email } } } }"
    )
    body = (
        await https.post(
            "/graphql", json={"query": query, "variables": {"id": app.id}}, headers=tenant.headers
        )
    ).json()
    assert body["data"]["integrationGrants"]["nodes"] == [
        {"id": grants[0]["id"], "user": {"email": tenant.email}}
    ]


async def test_a_grant_in_use_lasts_thirty_days_from_its_last_refresh(https, runtime, tenant):
    app = await new_app(https, tenant)
    granted = await tokens(https, tenant, app)

    async def runs_out_in(delta: timedelta) -> None:
        async with runtime.db.write() as session:
            await session.execute(
                update(AuthSession)
                .where(AuthSession.client_id == app.client_id)
                .values(expires_at=utcnow() + delta)
            )

    await runs_out_in(timedelta(minutes=1))  # a month after authorization, a minute left
    form = {"grant_type": "refresh_token", "refresh_token": granted["refresh_token"]}
    renewed = await https.post(TOKEN, data=form, headers=app.basic)
    assert renewed.status_code == 200, renewed.text
    grants = await https.get(f"/api/v1/integrations/{app.id}/grants", headers=tenant.headers)
    (grant,) = grants.json()["data"]
    assert grant["expiresAt"] > (utcnow() + timedelta(days=29)).isoformat()
    await runs_out_in(timedelta(seconds=-1))  # then a month without a refresh
    form = {"grant_type": "refresh_token", "refresh_token": renewed.json()["refresh_token"]}
    oauth_problem(await https.post(TOKEN, data=form, headers=app.basic), 400, "invalid_grant")


async def test_a_partner_revokes_its_grant_with_either_token(https, tenant):
    app = await new_app(https, tenant)
    for kind in ("access_token", "refresh_token"):
        granted = await tokens(https, tenant, app)
        form = {"token": granted[kind], "token_type_hint": kind}
        revoked = await https.post("/api/v1/oauth/revoke", data=form, headers=app.basic)
        assert revoked.status_code == 200, revoked.text
        gone = await https.get("/api/v1/products", headers=bearer(granted["access_token"]))
        problem(gone, 401, "unauthorized")
        refresh = {"grant_type": "refresh_token", "refresh_token": granted["refresh_token"]}
        again = await https.post(TOKEN, data=refresh, headers=app.basic)
        oauth_problem(again, 400, "invalid_grant")
    # An unknown token is 200 (RFC 7009); another app's grant is not this app's to end.
    unknown = await https.post("/api/v1/oauth/revoke", data={"token": "x"}, headers=app.basic)
    assert unknown.status_code == 200
    other = await new_app(https, tenant)
    theirs = await tokens(https, tenant, other)
    refused = await https.post(
        "/api/v1/oauth/revoke", data={"token": theirs["access_token"]}, headers=app.basic
    )
    oauth_problem(refused, 400, "invalid_grant")
    kept = await https.get("/api/v1/products", headers=bearer(theirs["access_token"]))
    assert kept.status_code == 200
    wrong = App(app.id, app.client_id, "not-the-secret")
    denied = await https.post(
        "/api/v1/oauth/revoke", data={"token": theirs["access_token"]}, headers=wrong.basic
    )
    oauth_problem(denied, 401, "invalid_client")


# --- a partner app's share of its org's rate limit ---------------------------------------------


async def spend_share(client, tenant: Tenant) -> None:
    """A partner app of an org of burst 20 spends its share (10), and is refused; the org's
    own users still get through."""
    app = await new_app(client, tenant)
    partner = await tokens(client, tenant, app)
    answers = [
        await client.get("/api/v1/products", headers=bearer(partner["access_token"]))
        for _ in range(12)
    ]
    statuses = [a.status_code for a in answers]
    assert statuses[:10] == [200] * 10 and 429 in statuses[10:], statuses
    first = answers[0]
    assert first.headers["x-ratelimit-limit"] == "30"  # the app's share of 60 a minute
    refused = problem(next(a for a in answers if a.status_code == 429), 429, "rate-limited")
    assert "share (50 %)" in refused["detail"] and int(answers[-1].headers["retry-after"]) >= 1
    mine = await client.get("/api/v1/locations", headers=tenant.headers)
    assert mine.status_code == 200, mine.text
    assert mine.headers["x-ratelimit-limit"] == "60"


async def test_a_partner_app_uses_at_most_its_share_of_the_orgs_limit(
    https, make_tenant: TenantFactory
):
    tenant = await make_tenant(plan="enterprise", rate_limit=60, burst=20)
    await spend_share(https, tenant)


async def test_the_share_holds_with_the_redis_store(redis_apps, make_tenant: TenantFactory):
    tenant = await make_tenant(plan="enterprise", rate_limit=60, burst=20)
    async with new_client(redis_apps[0], base_url="https://testserver") as client:
        await spend_share(client, tenant)


async def test_a_costly_partner_query_is_charged_to_its_share_too(
    https, make_tenant: TenantFactory
):
    tenant = await make_tenant(plan="enterprise", rate_limit=600, burst=40)
    app = await new_app(https, tenant)
    partner = await tokens(https, tenant, app)
    query = "{ products(first: 100) { nodes { id variants { id } category { id } } } }"
    costly = await https.post(
        "/graphql", json={"query": query}, headers=bearer(partner["access_token"])
    )
    assert costly.status_code == 200, costly.text
    left = int(costly.headers["x-ratelimit-remaining"])
    assert left < 20 - 1, left  # more than one token of the app's 20


# --- guessing client secrets -------------------------------------------------------------------


async def guess_secrets_then_sign_in(
    guesser: httpx.AsyncClient, honest: httpx.AsyncClient, tenant: Tenant
) -> None:
    """Ten wrong client secrets from one address shut the token and revocation endpoints to
    that address for the minute, the right secret too; another address is not affected."""
    app = await new_app(honest, tenant)
    code, verifier = await code_for(honest, tenant, app)
    wrong = App(app.id, app.client_id, "not-the-secret")
    for _ in range(10):
        oauth_problem(await exchange(guesser, wrong, code, verifier), 401, "invalid_client")
    refused = await exchange(guesser, app, code, verifier)
    body = problem(refused, 429, "rate-limited")
    assert body["error"] == "temporarily_unavailable"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    revoking = await guesser.post("/api/v1/oauth/revoke", data={"token": "x"}, headers=app.basic)
    assert revoking.status_code == 429
    # The code was never spent: the app's own server, elsewhere, still exchanges it.
    assert (await exchange(honest, app, code, verifier)).status_code == 200


async def test_guessing_client_secrets_is_refused_per_address(app, https, tenant):
    async with new_client(app, base_url="https://testserver") as guesser:
        await guess_secrets_then_sign_in(guesser, https, tenant)


async def test_the_guessing_limit_is_shared_by_every_worker(redis_apps, tenant):
    address = f"10.{secrets.randbelow(256)}.{secrets.randbelow(256)}.{secrets.randbelow(256)}"
    async with (
        new_client(redis_apps[0], ip=address, base_url="https://testserver") as first,
        new_client(redis_apps[1], ip=address, base_url="https://testserver") as second,
        new_client(redis_apps[1], base_url="https://testserver") as honest,
    ):
        app = await new_app(honest, tenant)
        wrong = App(app.id, app.client_id, "not-the-secret")
        form = {"grant_type": "refresh_token", "refresh_token": "nope"}
        for client in (first, second) * 5:  # ten failures, spread over two workers
            oauth_problem(
                await client.post(TOKEN, data=form, headers=wrong.basic), 401, "invalid_client"
            )
        for client in (first, second):
            assert (await client.post(TOKEN, data=form, headers=app.basic)).status_code == 429


async def test_parallel_guesses_get_no_more_tries_than_sequential_ones(app, https, tenant):
    """No more checks run at once than failures are left: thirty guesses sent together get
    ten answers, and the rest wait their turn, then find the address refused."""
    partner = await new_app(https, tenant)
    wrong = App(partner.id, partner.client_id, "not-the-secret")
    form = {"grant_type": "refresh_token", "refresh_token": "nope"}
    async with new_client(app, base_url="https://testserver") as guesser:
        answers = await asyncio.gather(
            *(guesser.post(TOKEN, data=form, headers=wrong.basic) for _ in range(30))
        )
    statuses = [a.status_code for a in answers]
    assert (statuses.count(401), statuses.count(429)) == (10, 20), statuses


async def test_calls_for_an_uninstalled_app_are_not_guesses(
    app, https, tenant, make_tenant: TenantFactory
):
    """One partner server, two merchants: the one who uninstalls the app does not get the
    partner refused by the other."""
    other = await make_tenant()
    gone, kept = await new_app(https, tenant), await new_app(https, other)
    gone_tokens, kept_tokens = await tokens(https, tenant, gone), await tokens(https, other, kept)
    uninstalled = await https.delete(f"/api/v1/integrations/{gone.id}", headers=tenant.headers)
    assert uninstalled.status_code == 200
    async with new_client(app, base_url="https://testserver") as partner:
        form = {"grant_type": "refresh_token", "refresh_token": gone_tokens["refresh_token"]}
        for _ in range(12):
            refused = await partner.post(TOKEN, data=form, headers=gone.basic)
            oauth_problem(refused, 401, "invalid_client")
        form = {"grant_type": "refresh_token", "refresh_token": kept_tokens["refresh_token"]}
        assert (await partner.post(TOKEN, data=form, headers=kept.basic)).status_code == 200


async def test_spent_grants_do_not_count_as_guesses(https, tenant):
    """A partner whose merchants' grants ran out (invalid_grant) keeps its other refreshes."""
    app = await new_app(https, tenant)
    for _ in range(12):
        form = {"grant_type": "refresh_token", "refresh_token": secrets.token_urlsafe(32)}
        oauth_problem(await https.post(TOKEN, data=form, headers=app.basic), 400, "invalid_grant")
    assert (await https.post(TOKEN, data=form, headers=app.basic)).status_code == 400
    fresh = await tokens(https, tenant, app)
    assert fresh["access_token"]

"""Per-org rate limits through HTTP: headers, 429 problems, one bucket for REST and GraphQL,
enterprise numbers, and the Redis store shared by several app instances (and per-IP logins)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager
from redis.asyncio import Redis
from starlette.applications import Starlette

from elevatedpos.actions.orgs import create_org
from elevatedpos.app import create_app
from elevatedpos.auth.sessions import start_session
from elevatedpos.db.migrate import upgrade_database
from elevatedpos.ratelimit import GO, LEASE_SECONDS, REFUSE, WAIT, RedisStore, lease_size
from elevatedpos.runtime import Runtime
from elevatedpos.settings import Settings
from tests.conftest import PASSWORD, REDIS_URL, Tenant, new_client, staff_of

ME = "/api/v1/auth/me"
LOGIN = "/api/v1/auth/login"
LOCATIONS = "/api/v1/locations"
PROBLEM = "application/problem+json"
RATE_LIMITED = "https://elevatedpos.com.au/errors/rate-limited"
PREFIX = "elevatedpos:rl:"
GQL_ME = {"query": "{ me { id } }"}

needs_redis = pytest.mark.skipif(
    REDIS_URL is None,
    reason="no Redis: set TEST_REDIS_URL or start one on 127.0.0.1:6379 (CI always has one)",
)


def limit_of(response: httpx.Response) -> int:
    return int(response.headers["x-ratelimit-limit"])


def remaining_of(response: httpx.Response) -> int:
    return int(response.headers["x-ratelimit-remaining"])


def retry_after_of(response: httpx.Response) -> int:
    value = response.headers["retry-after"]
    assert value.isdigit(), f"Retry-After must be whole seconds, got {value!r}"
    return int(value)


def assert_rate_limited(response: httpx.Response, limit: int, remaining: int | None = 0) -> int:
    """A 429 problem with its headers; returns Retry-After."""
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["type"] == RATE_LIMITED
    assert body["status"] == 429
    assert body["title"]
    assert body["detail"]
    assert body["instance"] == response.request.url.path
    assert body["requestId"] == response.headers["x-request-id"]
    assert limit_of(response) == limit
    if remaining is None:
        assert remaining_of(response) >= 0
    else:
        assert remaining_of(response) == remaining
    retry_after = retry_after_of(response)
    assert retry_after >= 1
    return retry_after


def most_allowed(burst: int, limit: int, elapsed: float) -> int:
    """The most requests a bucket can let through in `elapsed` seconds from full."""
    return burst + int(elapsed * limit / 60)


def unique_ip() -> str:
    """An address no earlier run used: Redis keeps per-IP windows across test runs."""
    return f"fd00::{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}"


# --- 1. headers on every authenticated response ---------------------------------------------


@pytest.mark.parametrize(
    ("plan", "limit", "burst"),
    [("starter", 100, 150), ("growth", 500, 750), ("pro", 2000, 3000)],
)
async def test_limit_header_is_the_plans_per_minute_limit(client, make_tenant, plan, limit, burst):
    tenant = await make_tenant(plan=plan)
    rest = await client.get(ME, headers=tenant.headers)
    assert rest.status_code == 200
    assert limit_of(rest) == limit
    assert remaining_of(rest) == burst - 1  # a fresh bucket is full
    graphql = await client.post("/graphql", json=GQL_ME, headers=tenant.headers)
    assert graphql.status_code == 200
    assert limit_of(graphql) == limit
    # a fast plan may refill the one token between the two requests, never more
    assert burst - 2 <= remaining_of(graphql) <= burst - 1


async def test_every_authenticated_response_carries_the_headers_and_remaining_decreases(
    client, make_tenant
):
    # 6/min refills a token every 10 s: within this test `remaining` is exact
    tenant: Tenant = await make_tenant(plan="enterprise", rate_limit=6, burst=40)
    missing = uuid.uuid4()
    gql_not_found = {
        "query": "query($id: ID!) { location(id: $id) { id } }",
        "variables": {"id": str(missing)},
    }
    h = tenant.headers
    requests = [
        ("REST 200", lambda: client.get(ME, headers=h), 200),
        ("REST list", lambda: client.get(LOCATIONS, headers=h), 200),
        ("REST 404", lambda: client.get(f"{LOCATIONS}/{missing}", headers=h), 404),
        ("unknown route", lambda: client.get("/api/v1/no-such-thing", headers=h), 404),
        ("REST 422", lambda: client.post(LOCATIONS, json={"name": ""}, headers=h), 422),
        (
            "REST 400",
            lambda: client.post(
                LOCATIONS,
                content=b"{not json",
                headers={**h, "Content-Type": "application/json"},
            ),
            400,
        ),
        ("GraphQL", lambda: client.post("/graphql", json=GQL_ME, headers=h), 200),
        ("GraphQL not found", lambda: client.post("/graphql", json=gql_not_found, headers=h), 200),
        (
            "GraphQL GET",
            lambda: client.get("/graphql", params={"query": "{ me { id } }"}, headers=h),
            200,
        ),
        ("logout 204", lambda: client.post("/api/v1/auth/logout", headers=h), 204),
    ]
    expected_remaining = 39
    for label, request, status in requests:
        response = await request()
        assert response.status_code == status, (label, response.text)
        assert "x-ratelimit-limit" in response.headers, label
        assert "x-ratelimit-remaining" in response.headers, label
        assert limit_of(response) == 6, label
        assert remaining_of(response) == expected_remaining, label
        expected_remaining -= 1
        if label == "GraphQL not found":
            assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_unauthenticated_requests_do_not_touch_an_orgs_bucket(client, make_tenant):
    tenant = await make_tenant(plan="enterprise", rate_limit=6, burst=10)
    for _ in range(3):
        assert (await client.get(ME)).status_code == 401
        assert (await client.get(ME, headers={"Authorization": "Bearer nope"})).status_code == 401
    response = await client.get(ME, headers=tenant.headers)
    assert remaining_of(response) == 9


# --- 2. starter burst, the 429, isolation between orgs --------------------------------------


async def test_starter_org_gets_its_burst_then_a_429_problem(client, make_tenant):
    tenant = await make_tenant(plan="starter")
    other = await make_tenant(plan="starter")
    started = time.perf_counter()
    burst = await asyncio.gather(*(client.get(ME, headers=tenant.headers) for _ in range(150)))
    assert [r.status_code for r in burst] == [200] * 150
    assert all(limit_of(r) == 100 for r in burst)
    # the burst drained the bucket but for what it refilled meanwhile (100/min)
    refilled = (time.perf_counter() - started) * 100 / 60
    assert sorted(remaining_of(r) for r in burst)[0] <= 1 + refilled
    # anything the bucket refilled meanwhile (100/min) may pass, nothing more
    extra = 0
    while (response := await client.get(ME, headers=tenant.headers)).status_code == 200:
        extra += 1
        assert extra < 50, "the bucket never ran dry"
    elapsed = time.perf_counter() - started
    assert 150 + extra <= most_allowed(150, 100, elapsed), (extra, elapsed)
    retry_after = assert_rate_limited(response, limit=100)
    # at 100/min one token comes back in 0.6 s: the client is told to wait 1 s
    assert retry_after == 1
    assert response.json()["detail"]

    # another org has its own bucket
    unaffected = await client.get(ME, headers=other.headers)
    assert unaffected.status_code == 200
    assert limit_of(unaffected) == 100
    assert remaining_of(unaffected) == 149


# --- 3. REST and GraphQL share one bucket ---------------------------------------------------


async def test_rest_and_graphql_draw_from_one_bucket(client, make_tenant):
    # 1/min: no token comes back during the test
    tenant = await make_tenant(plan="enterprise", rate_limit=1, burst=10)
    remaining = []
    for i in range(10):
        if i % 2:
            response = await client.post("/graphql", json=GQL_ME, headers=tenant.headers)
            assert response.json()["data"]["me"]["id"] == str(tenant.user_id)
        else:
            response = await client.get(ME, headers=tenant.headers)
        assert response.status_code == 200, (i, response.text)
        remaining.append(remaining_of(response))
    assert remaining == [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]

    graphql = await client.post("/graphql", json=GQL_ME, headers=tenant.headers)
    retry_after = assert_rate_limited(graphql, limit=1)
    assert retry_after <= 60
    assert "data" not in graphql.json()
    rest = await client.get(ME, headers=tenant.headers)
    assert_rate_limited(rest, limit=1)
    locations = await client.get(LOCATIONS, headers=tenant.headers)
    assert_rate_limited(locations, limit=1)


async def test_graphql_alone_empties_the_bucket_rest_then_sees(client, make_tenant):
    tenant = await make_tenant(plan="enterprise", rate_limit=1, burst=4)
    for _ in range(4):
        assert (
            await client.post("/graphql", json=GQL_ME, headers=tenant.headers)
        ).status_code == 200
    assert_rate_limited(await client.get(ME, headers=tenant.headers), limit=1)


async def test_every_user_of_an_org_draws_from_the_orgs_bucket(client, make_tenant, runtime):
    owner = await make_tenant(plan="enterprise", rate_limit=1, burst=4)
    staff_headers = (await staff_of(runtime, owner)).headers
    for headers in (owner.headers, staff_headers) * 2:
        assert (await client.get(ME, headers=headers)).status_code == 200
    assert_rate_limited(await client.get(ME, headers=staff_headers), limit=1)
    assert_rate_limited(await client.get(ME, headers=owner.headers), limit=1)


# Three pages of up to 100 locations: 300 nodes, which the contract's cost rule charges as
# 1 + 300 // 100 = 4 requests.
COSTLY = {
    "query": "{ a: locations(first: 100) { edges { node { id } } }"
    " b: locations(first: 100) { edges { node { id } } }"
    " c: locations(first: 100) { edges { node { id } } } }"
}


async def test_a_costly_graphql_request_is_charged_its_cost(client, make_tenant):
    tenant = await make_tenant(plan="enterprise", rate_limit=1, burst=10)
    costly = await client.post("/graphql", json=COSTLY, headers=tenant.headers)
    assert costly.status_code == 200, costly.text
    assert len(costly.json()["data"]["a"]["edges"]) == 1
    passed = 0
    while (await client.get(ME, headers=tenant.headers)).status_code == 200:
        passed += 1
        assert passed <= 10
    assert passed == 10 - 4


async def test_remaining_header_counts_the_whole_cost_of_a_graphql_request(client, make_tenant):
    tenant = await make_tenant(plan="enterprise", rate_limit=1, burst=10)
    costly = await client.post("/graphql", json=COSTLY, headers=tenant.headers)
    assert costly.status_code == 200, costly.text
    assert remaining_of(costly) == 6, "the header must say what is left after this request"
    after = await client.get(ME, headers=tenant.headers)
    assert remaining_of(after) == 5


async def test_a_graphql_request_the_bucket_cannot_pay_for_is_a_429(client, make_tenant):
    tenant = await make_tenant(plan="enterprise", rate_limit=1, burst=3)
    refused = await client.post("/graphql", json=COSTLY, headers=tenant.headers)
    # what is left may be more than nothing: just not the 4 this request costs
    assert_rate_limited(refused, limit=1, remaining=None)
    assert remaining_of(refused) < 4
    assert "data" not in refused.json()
    # a cheap request still fits in what is left
    cheap = await client.get(ME, headers=tenant.headers)
    assert cheap.status_code == 200
    assert remaining_of(cheap) == remaining_of(refused) - 1


# --- 4. enterprise numbers ------------------------------------------------------------------


async def test_enterprise_org_uses_its_own_limit_and_burst(client, make_tenant):
    tenant = await make_tenant(plan="enterprise", rate_limit=30, burst=5)
    started = time.perf_counter()
    responses = [await client.get(ME, headers=tenant.headers) for _ in range(6)]
    elapsed = time.perf_counter() - started
    assert [r.status_code for r in responses[:5]] == [200] * 5
    assert [limit_of(r) for r in responses] == [30] * 6
    assert [remaining_of(r) for r in responses[:5]] == [4, 3, 2, 1, 0]
    retry_after = assert_rate_limited(responses[5], limit=30)
    if elapsed < 0.9:
        # 30/min is a token every 2 s and the bucket is (almost) empty
        assert retry_after == 2


async def test_enterprise_burst_defaults_to_its_limit(client, make_tenant):
    tenant = await make_tenant(plan="enterprise", rate_limit=3)
    responses = [await client.get(ME, headers=tenant.headers) for _ in range(4)]
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert [remaining_of(r) for r in responses] == [2, 1, 0, 0]
    assert_rate_limited(responses[3], limit=3)


# --- 5. the Redis store ---------------------------------------------------------------------


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    if REDIS_URL is None:
        pytest.skip("no Redis: set TEST_REDIS_URL or start one on 127.0.0.1:6379")
    client = Redis.from_url(REDIS_URL)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
async def key(redis: Redis) -> AsyncIterator[str]:
    """A bucket key of its own, removed from Redis afterwards."""
    name = f"test-{uuid.uuid4().hex}"
    yield name
    await redis.delete(PREFIX + name)


@needs_redis
async def test_redis_store_concurrent_takes_never_overspend(redis: Redis, key: str):
    store = RedisStore(redis)
    # 1/min: nothing refills during the test
    decisions = await asyncio.gather(*(store.take(key, 1, 20) for _ in range(50)))
    allowed = [d for d in decisions if d.allowed]
    refused = [d for d in decisions if not d.allowed]
    assert len(allowed) == 20
    assert sorted(d.remaining for d in allowed) == list(range(20))
    assert all(d.limit == 1 for d in decisions)
    assert all(d.remaining == 0 and 1 <= d.retry_after <= 60 for d in refused)
    assert all(isinstance(d.retry_after, int) for d in decisions)


# 19 200/min is 320 tokens a second: a worker may lease 16 at a time (0.05 s of refill).
LEASED_LIMIT, LEASED_BURST = 19_200, 400


async def bucket_tokens(redis: Redis, key: str) -> float:
    return float(await redis.hget(PREFIX + key, "tokens") or "nan")


def test_only_plans_that_refill_fast_enough_are_leased():
    assert lease_size(LEASED_LIMIT, LEASED_BURST) == 16
    for limit, burst in [(100, 150), (500, 750), (2000, 3000), (6, 10)]:  # every set plan
        assert lease_size(limit, burst) == 0
    assert lease_size(19_200, 40) == 0  # a lease may not be more than a quarter of the burst


@needs_redis
async def test_a_leased_take_leaves_the_shared_bucket_alone(redis: Redis, key: str):
    store = RedisStore(redis)
    first = await store.take(key, LEASED_LIMIT, LEASED_BURST)
    assert first.allowed and first.remaining == LEASED_BURST - 1
    after_lease = await bucket_tokens(redis, key)
    # the first take leased 16 tokens from the shared bucket and spent one of them
    assert after_lease == LEASED_BURST - 16
    decisions = [await store.take(key, LEASED_LIMIT, LEASED_BURST) for _ in range(5)]
    assert all(d.allowed for d in decisions)
    # remaining keeps counting down: the bucket's count plus what this worker holds
    assert [d.remaining for d in decisions] == [LEASED_BURST - n for n in range(2, 7)]
    assert await bucket_tokens(redis, key) == after_lease  # no round trip for those five


@needs_redis
async def test_an_unspent_lease_goes_back_to_the_bucket(redis: Redis, key: str):
    store = RedisStore(redis)
    await store.take(key, LEASED_LIMIT, LEASED_BURST)  # 1 spent, 16 leased
    # the org moves to a plan too small to lease: the next take is charged on its own,
    # and the 16 leased tokens, none spent, go back with it
    decision = await store.take(key, 600, LEASED_BURST)
    assert decision.allowed
    assert LEASED_BURST - 2 <= decision.remaining <= LEASED_BURST - 1
    assert await bucket_tokens(redis, key) >= LEASED_BURST - 2


@needs_redis
async def test_workers_with_leases_never_let_through_more_than_the_bucket_holds(
    redis: Redis, key: str
):
    workers = [RedisStore(redis), RedisStore(redis)]
    started = time.monotonic()
    decisions = []
    for _ in range(8):  # 800 requests, 100 at a time, spread over both workers
        decisions += await asyncio.gather(
            *(workers[i % 2].take(key, LEASED_LIMIT, LEASED_BURST) for i in range(100))
        )
    elapsed = time.monotonic() - started
    allowed = sum(d.allowed for d in decisions)
    refill = LEASED_LIMIT / 60 * elapsed
    # never more than the burst plus what refilled meanwhile...
    assert allowed <= LEASED_BURST + refill + 1
    # ...and at most two leases' worth (one per worker) less, held when the run ended
    assert allowed >= LEASED_BURST - 2 * lease_size(LEASED_LIMIT, LEASED_BURST)
    refused = [d for d in decisions if not d.allowed]
    assert refused and all(d.retry_after >= 1 for d in refused)


@needs_redis
async def test_a_lease_ends_and_the_next_take_asks_redis_again(redis: Redis, key: str):
    store = RedisStore(redis)
    await store.take(key, LEASED_LIMIT, LEASED_BURST)
    stamp = await redis.hget(PREFIX + key, "ts")  # the bucket's last update, Redis's clock
    await asyncio.sleep(LEASE_SECONDS * 1.5)
    assert (await store.take(key, LEASED_LIMIT, LEASED_BURST)).allowed
    assert await redis.hget(PREFIX + key, "ts") != stamp  # asked Redis for a new lease
    # 75 ms of refill has filled it to its cap again; less the new lease
    assert await bucket_tokens(redis, key) == LEASED_BURST - 16


@needs_redis
async def test_redis_store_admits_no_more_concurrent_attempts_than_the_limit(
    redis: Redis, key: str
):
    store = RedisStore(redis)
    empty = await store.window_count(key)
    assert (empty.count, empty.retry_after) == (0, 0)
    begun = await asyncio.gather(*(store.attempt_begin(key, 10, 60) for _ in range(30)))
    assert sorted(a.outcome for a in begun) == sorted([GO] * 10 + [WAIT] * 20)
    await asyncio.gather(
        *(store.attempt_end(key, failed=True, window_seconds=60) for _ in range(10))
    )
    state = await store.window_count(key)
    assert state.count == 10
    assert 1 <= state.retry_after <= 60
    refused = await store.attempt_begin(key, 10, 60)
    assert refused.outcome == REFUSE and 1 <= refused.retry_after <= 60


@pytest.fixture(scope="module")
async def redis_apps_once(tmp_path_factory) -> AsyncIterator[list[Starlette]]:
    """Like `redis_apps`, on one SQLite database only: per-IP login limits live in Redis and
    do not depend on the database, and every login costs an Argon2 check."""
    if REDIS_URL is None:
        pytest.skip("no Redis: set TEST_REDIS_URL or start one on 127.0.0.1:6379")
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('rl-db') / 'logins.db'}"
    await upgrade_database(url)
    apps = [
        create_app(Settings.from_env({}, database_url=url, redis_url=REDIS_URL)) for _ in range(2)
    ]
    async with LifespanManager(apps[0]), LifespanManager(apps[1]):
        yield apps


async def signed_in_org(runtime: Runtime, **org: object) -> tuple[uuid.UUID, str, dict[str, str]]:
    email = f"owner-{uuid.uuid4().hex[:12]}@example.com"
    made = await create_org(runtime.db, name="Redis Org", email=email, password=PASSWORD, **org)
    issued = await start_session(runtime, made.owner)
    return made.org.id, email, {"Authorization": f"Bearer {issued.access_token}"}


@needs_redis
async def test_two_app_instances_share_one_bucket_in_redis(redis_apps, redis: Redis):
    first, second = redis_apps
    # 6/min (a token every 10 s) keeps the counts exact; burst 10 makes it quick to empty
    org_id, _, headers = await signed_in_org(
        first.state.runtime, plan="enterprise", rate_limit=6, burst=10
    )
    try:
        async with new_client(first) as a, new_client(second) as b:
            responses = [await (a, b)[i % 2].get(ME, headers=headers) for i in range(12)]
            assert [limit_of(r) for r in responses] == [6] * 12
            # each instance alone would let 10 through: together it is 10, then both refuse
            assert [r.status_code for r in responses] == [200] * 10 + [429, 429]
            assert [remaining_of(r) for r in responses[:10]] == list(range(9, -1, -1))
            assert_rate_limited(responses[10], limit=6)
            assert_rate_limited(responses[11], limit=6)
            assert_rate_limited(await b.post("/graphql", json=GQL_ME, headers=headers), limit=6)
            # the bucket lives in Redis under the org's key
            assert await redis.exists(PREFIX + f"org:{org_id}") == 1
    finally:
        await redis.delete(PREFIX + f"org:{org_id}")


# --- 6. per-IP login failures in Redis ------------------------------------------------------


async def wrong_login(c: httpx.AsyncClient, email: str) -> httpx.Response:
    return await c.post(LOGIN, json={"email": email, "password": "wrong-password"})


@needs_redis
async def test_login_failures_lock_the_ip_with_the_redis_store(redis_apps, redis: Redis):
    app, other_app = redis_apps
    _, email, _ = await signed_in_org(app.state.runtime)
    attacker_ip, bystander_ip = unique_ip(), unique_ip()
    try:
        async with (
            new_client(app, ip=attacker_ip) as attacker,
            new_client(other_app, ip=attacker_ip) as attacker_elsewhere,
            new_client(app, ip=bystander_ip) as bystander,
        ):
            # ten failures from one address, half on each instance: they count together
            failures = await asyncio.gather(
                *(wrong_login(attacker if n % 2 else attacker_elsewhere, email) for n in range(10))
            )
            assert [r.status_code for r in failures] == [401] * 10
            for c in (attacker, attacker_elsewhere):
                blocked = await c.post(LOGIN, json={"email": email, "password": PASSWORD})
                assert blocked.status_code == 429, blocked.text
                assert blocked.headers["content-type"] == PROBLEM
                assert blocked.json()["type"] == RATE_LIMITED
                assert blocked.json()["requestId"] == blocked.headers["x-request-id"]
                assert 1 <= retry_after_of(blocked) <= 60
            graphql = await attacker.post(
                "/graphql",
                json={
                    "query": "mutation($e: String!, $p: String!) "
                    "{ login(input: {email: $e, password: $p}) { accessToken } }",
                    "variables": {"e": email, "p": PASSWORD},
                },
            )
            if graphql.status_code == 200:
                error = graphql.json()["errors"][0]
                assert error["extensions"]["code"] == "RATE_LIMITED"
                assert error["extensions"]["status"] == 429
            else:
                assert graphql.status_code == 429, graphql.text
            # another address logs in fine
            ok = await bystander.post(LOGIN, json={"email": email, "password": PASSWORD})
            assert ok.status_code == 200, ok.text
    finally:
        await redis.delete(
            PREFIX + f"login-failures:{attacker_ip}", PREFIX + f"login-failures:{bystander_ip}"
        )


@needs_redis
async def test_concurrent_wrong_passwords_get_no_more_than_ten_guesses(
    redis_apps_once, redis: Redis
):
    """Firing guesses in parallel must not buy more than 10 password checks a minute."""
    app, other_app = redis_apps_once
    _, email, _ = await signed_in_org(app.state.runtime)
    ip = unique_ip()
    try:
        async with new_client(app, ip=ip) as a, new_client(other_app, ip=ip) as b:
            answers = await asyncio.gather(
                *(wrong_login(a if n % 2 else b, email) for n in range(12))
            )
            statuses = sorted(r.status_code for r in answers)
            assert set(statuses) <= {401, 429}, statuses
            assert statuses.count(401) == 10, (
                f"{statuses.count(401)} of 12 parallel wrong passwords were checked (401);"
                " the limit is 10 a minute"
            )
            # and the address is now locked, on both instances
            for c in (a, b):
                blocked = await c.post(LOGIN, json={"email": email, "password": PASSWORD})
                assert blocked.status_code == 429, blocked.text
    finally:
        await redis.delete(PREFIX + f"login-failures:{ip}")


@needs_redis
async def test_parallel_successful_logins_from_one_address_are_never_refused(
    redis_apps_once, redis: Redis
):
    """Eleven tills behind one shop's NAT signing in at opening time: none failed, none is 429."""
    app, other_app = redis_apps_once
    _, email, _ = await signed_in_org(app.state.runtime)
    ip = unique_ip()
    try:
        async with new_client(app, ip=ip) as a, new_client(other_app, ip=ip) as b:
            answers = await asyncio.gather(
                *(
                    (a if n % 2 else b).post(LOGIN, json={"email": email, "password": PASSWORD})
                    for n in range(11)
                )
            )
            assert [r.status_code for r in answers] == [200] * 11, [
                (r.status_code, r.json().get("detail")) for r in answers
            ]
            # nothing was counted against the address: ten wrong passwords still get a 401 each
            failures = await asyncio.gather(*(wrong_login(a, email) for _ in range(10)))
            assert [r.status_code for r in failures] == [401] * 10
    finally:
        await redis.delete(PREFIX + f"login-failures:{ip}")

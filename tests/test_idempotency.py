"""Idempotency-Key on creating POSTs (POST /api/v1/locations): replay, mismatch, scope, races."""

from __future__ import annotations

import asyncio
import uuid

from tests.conftest import Tenant, new_client

LOCATIONS = "/api/v1/locations"
HEADER = "Idempotency-Key"
PROBLEM = "application/problem+json"


def new_key() -> str:
    return f"key-{uuid.uuid4()}"


async def post(client, tenant: Tenant, body: dict, key: str | None):
    headers = dict(tenant.headers)
    if key is not None:
        headers[HEADER] = key
    return await client.post(LOCATIONS, json=body, headers=headers)


async def location_names(client, tenant: Tenant) -> list[str]:
    response = await client.get(LOCATIONS, params={"limit": 100}, headers=tenant.headers)
    assert response.status_code == 200, response.text
    return sorted(loc["name"] for loc in response.json()["data"])


async def test_same_key_and_body_replays_the_first_response(client, tenant: Tenant):
    key = new_key()
    body = {"name": "Bondi", "timezone": "Australia/Sydney"}
    first = await post(client, tenant, body, key)
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    second = await post(client, tenant, body, key)
    assert second.status_code == 201
    assert second.headers["idempotent-replayed"] == "true"
    assert second.headers["content-type"] == "application/json"
    assert second.content == first.content
    assert second.json()["data"]["id"] == first.json()["data"]["id"]
    assert await location_names(client, tenant) == ["Bondi", "Main store"]


async def test_the_same_body_in_another_key_order_is_the_same_request(client, tenant: Tenant):
    key = new_key()
    first = await client.post(
        LOCATIONS,
        content=b'{"name": "Bondi", "timezone": "Australia/Perth"}',
        headers={**tenant.headers, HEADER: key, "Content-Type": "application/json"},
    )
    assert first.status_code == 201
    second = await client.post(
        LOCATIONS,
        content=b'{"timezone":"Australia/Perth","name":"Bondi"}',
        headers={**tenant.headers, HEADER: key, "Content-Type": "application/json"},
    )
    assert second.status_code == 201
    assert second.headers["idempotent-replayed"] == "true"
    assert second.json() == first.json()
    assert await location_names(client, tenant) == ["Bondi", "Main store"]


async def test_without_a_key_every_post_creates(client, tenant: Tenant):
    body = {"name": "Bondi"}
    a = await post(client, tenant, body, None)
    b = await post(client, tenant, body, None)
    assert a.status_code == b.status_code == 201
    assert a.json()["data"]["id"] != b.json()["data"]["id"]
    assert await location_names(client, tenant) == ["Bondi", "Bondi", "Main store"]


async def test_different_keys_create_separately(client, tenant: Tenant):
    body = {"name": "Bondi"}
    a = await post(client, tenant, body, new_key())
    b = await post(client, tenant, body, new_key())
    assert a.status_code == b.status_code == 201
    assert "idempotent-replayed" not in b.headers
    assert a.json()["data"]["id"] != b.json()["data"]["id"]


async def test_same_key_with_a_different_body_is_422_and_creates_nothing(client, tenant: Tenant):
    key = new_key()
    first = await post(client, tenant, {"name": "Bondi"}, key)
    assert first.status_code == 201
    other = await post(client, tenant, {"name": "Manly"}, key)
    assert other.status_code == 422, other.text
    assert other.headers["content-type"] == PROBLEM
    problem = other.json()
    assert problem["type"] == "https://elevatedpos.com.au/errors/validation"
    assert [e["field"] for e in problem["errors"]] == [HEADER]
    assert "idempotent-replayed" not in other.headers
    assert await location_names(client, tenant) == ["Bondi", "Main store"]
    # the key still replays its original request
    again = await post(client, tenant, {"name": "Bondi"}, key)
    assert again.status_code == 201
    assert again.json() == first.json()


async def test_same_key_on_another_route_is_not_a_replay(client, tenant: Tenant):
    key = new_key()
    assert (await post(client, tenant, {"name": "Bondi"}, key)).status_code == 201
    # a GET ignores the header altogether
    listed = await client.get(LOCATIONS, headers={**tenant.headers, HEADER: key})
    assert listed.status_code == 200
    assert "idempotent-replayed" not in listed.headers
    assert len(listed.json()["data"]) == 2


async def test_keys_are_per_org(client, make_tenant):
    one = await make_tenant()
    two = await make_tenant()
    key = new_key()
    body = {"name": "Bondi"}
    a = await post(client, one, body, key)
    b = await post(client, two, body, key)
    assert a.status_code == b.status_code == 201
    assert "idempotent-replayed" not in b.headers
    assert a.json()["data"]["id"] != b.json()["data"]["id"]
    assert await location_names(client, one) == ["Bondi", "Main store"]
    assert await location_names(client, two) == ["Bondi", "Main store"]
    # and a different body under the same key in the other org is no conflict either
    three = await make_tenant()
    c = await post(client, three, {"name": "Manly"}, key)
    assert c.status_code == 201
    assert await location_names(client, three) == ["Main store", "Manly"]


async def test_ten_concurrent_requests_with_one_key_run_once(app, tenant: Tenant):
    key = new_key()
    body = {"name": "Racing", "timezone": "Australia/Melbourne"}
    async with new_client(app) as c:
        responses = await asyncio.gather(*(post(c, tenant, body, key) for _ in range(10)))
        statuses = [r.status_code for r in responses]
        names = await location_names(c, tenant)
    # whatever else happened, the operation ran exactly once
    assert names == ["Main store", "Racing"], statuses
    assert statuses == [201] * 10, [r.text for r in responses if r.status_code != 201]
    bodies = {r.content for r in responses}
    assert len(bodies) == 1
    replayed = [r.headers.get("idempotent-replayed") for r in responses]
    assert replayed.count("true") == 9
    assert replayed.count(None) == 1


async def test_concurrent_requests_with_one_key_and_different_bodies(app, tenant: Tenant):
    key = new_key()
    bodies = [{"name": f"Racer {i}"} for i in range(6)]
    async with new_client(app) as c:
        responses = await asyncio.gather(*(post(c, tenant, b, key) for b in bodies))
        names = await location_names(c, tenant)
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201, 422, 422, 422, 422, 422], [r.text for r in responses]
    winner = next(r for r in responses if r.status_code == 201)
    assert names == sorted(["Main store", winner.json()["data"]["name"]])


async def test_a_request_rejected_before_it_ran_does_not_spend_the_key(client, tenant: Tenant):
    """Stripe: a request that failed validation saved no result, so it is safe to retry."""
    key = new_key()
    unknown_field = await post(client, tenant, {"name": "Bondi", "colour": "blue"}, key)
    assert unknown_field.status_code == 422
    fixed = await post(client, tenant, {"name": "Bondi"}, key)
    assert fixed.status_code == 201, fixed.text
    assert "idempotent-replayed" not in fixed.headers
    assert await location_names(client, tenant) == ["Bondi", "Main store"]


async def test_a_request_failing_field_validation_does_not_spend_the_key(client, tenant: Tenant):
    """An invalid time zone is the same kind of mistake as an unknown field: fix it and retry.

    Stripe saves no idempotent result when the parameters failed validation; CONTRACT.md
    defers to Stripe where it is silent, so the corrected request must run.
    """
    key = new_key()
    invalid = await post(client, tenant, {"name": "Bondi", "timezone": "Mars/Base"}, key)
    assert invalid.status_code == 422
    assert [e["field"] for e in invalid.json()["errors"]] == ["timezone"]
    # the same mistake again runs again: a fresh problem, not a replay of the first one
    again = await post(client, tenant, {"name": "Bondi", "timezone": "Mars/Base"}, key)
    assert again.status_code == 422
    assert "idempotent-replayed" not in again.headers
    assert again.json()["requestId"] == again.headers["x-request-id"]
    assert again.json()["requestId"] != invalid.json()["requestId"]
    fixed = await post(client, tenant, {"name": "Bondi", "timezone": "Australia/Sydney"}, key)
    assert fixed.status_code == 201, fixed.text
    assert await location_names(client, tenant) == ["Bondi", "Main store"]


async def test_a_forbidden_request_does_not_spend_the_key(client, make_tenant):
    staff = await make_tenant(role="staff")
    key = new_key()
    denied = await post(client, staff, {"name": "Bondi"}, key)
    assert denied.status_code == 403
    again = await post(client, staff, {"name": "Bondi"}, key)
    assert again.status_code == 403
    assert "idempotent-replayed" not in again.headers


async def test_a_key_longer_than_255_characters_is_400(client, tenant: Tenant):
    too_long = await post(client, tenant, {"name": "Bondi"}, "k" * 256)
    assert too_long.status_code == 400, too_long.text
    assert too_long.headers["content-type"] == PROBLEM
    assert too_long.json()["type"] == "https://elevatedpos.com.au/errors/bad-request"
    assert await location_names(client, tenant) == ["Main store"]
    longest = await post(client, tenant, {"name": "Bondi"}, "k" * 255)
    assert longest.status_code == 201
    assert await location_names(client, tenant) == ["Bondi", "Main store"]


async def test_a_key_with_spaces_or_non_ascii_is_400(client, tenant: Tenant):
    for key in ("has space", "caf\u00e9", "tab\there"):
        headers = {**tenant.headers, HEADER: key.encode("utf-8")}
        response = await client.post(LOCATIONS, json={"name": "Bondi"}, headers=headers)
        assert response.status_code == 400, (key, response.text)
    assert await location_names(client, tenant) == ["Main store"]

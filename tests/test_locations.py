"""Locations through REST and GraphQL: shape, checks, outbox, paging, versions, isolation, roles."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import select

from elevatedpos.db.models import Location as LocationRow
from elevatedpos.db.models import OutboxEvent
from tests.conftest import Tenant, gql, new_client

LOCATIONS = "/api/v1/locations"
ERRORS = "https://elevatedpos.com.au/errors/"
PROBLEM = "application/problem+json"

GQL_LOCATIONS = """
query($first: Int, $after: String) {
  locations(first: $first, after: $after) {
    edges { cursor node { id name } }
    nodes { id }
    pageInfo { hasNextPage endCursor }
  }
}
"""
GQL_LOCATION = "query($id: ID!) { location(id: $id) { id name timezone version } }"
GQL_NODE = "query($id: ID!) { node(id: $id) { __typename id ... on Location { name } } }"
GQL_CREATE = """
mutation($input: CreateLocationInput!) {
  createLocation(input: $input) { id name timezone version }
}
"""
GQL_UPDATE = """
mutation($id: ID!, $input: UpdateLocationInput!, $v: Int) {
  updateLocation(id: $id, input: $input, expectedVersion: $v) { id name timezone version }
}
"""


def location_url(location_id: object) -> str:
    return f"{LOCATIONS}/{location_id}"


async def list_all(client, tenant: Tenant) -> list[dict]:
    response = await client.get(LOCATIONS, params={"limit": 100}, headers=tenant.headers)
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def create(client, tenant: Tenant, **body):
    return await client.post(LOCATIONS, json=body, headers=tenant.headers)


def assert_problem(response, status: int, slug: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["type"] == ERRORS + slug
    assert body["status"] == status
    assert body["requestId"] == response.headers["x-request-id"]
    return body


def error_fields(response) -> list[str]:
    return [e["field"] for e in response.json()["errors"]]


# --- list and create ---------------------------------------------------------------------


async def test_a_new_org_has_exactly_one_location(client, tenant: Tenant):
    response = await client.get(LOCATIONS, headers=tenant.headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "data": [
            {
                "id": str(tenant.location_id),
                "name": "Main store",
                "timezone": "Australia/Sydney",
                "version": 1,
            }
        ],
        "meta": {"limit": 50, "nextCursor": None},
    }


async def test_create_location_is_201_and_then_listed(client, tenant: Tenant):
    response = await create(client, tenant, name="Bondi", timezone="Australia/Perth")
    assert response.status_code == 201, response.text
    data = response.json()["data"]
    assert set(data) == {"id", "name", "timezone", "version"}
    assert uuid.UUID(data["id"])
    assert data == {"id": data["id"], "name": "Bondi", "timezone": "Australia/Perth", "version": 1}
    listed = await list_all(client, tenant)
    assert data in listed
    assert len(listed) == 2
    fetched = await client.get(location_url(data["id"]), headers=tenant.headers)
    assert fetched.json()["data"] == data


async def test_timezone_defaults_to_sydney(client, tenant: Tenant):
    response = await create(client, tenant, name="Bondi")
    assert response.status_code == 201, response.text
    assert response.json()["data"]["timezone"] == "Australia/Sydney"


async def test_name_is_trimmed(client, tenant: Tenant):
    response = await create(client, tenant, name="  Manly  ")
    assert response.status_code == 201, response.text
    assert response.json()["data"]["name"] == "Manly"


async def test_invalid_timezone_is_422_on_timezone(client, tenant: Tenant):
    response = await create(client, tenant, name="Bondi", timezone="Mars/Olympus_Mons")
    assert_problem(response, 422, "validation")
    assert error_fields(response) == ["timezone"]
    assert len(await list_all(client, tenant)) == 1


async def test_blank_or_missing_name_is_422_on_name(client, tenant: Tenant):
    for body in ({"name": "   "}, {"name": ""}, {"timezone": "Australia/Sydney"}):
        response = await client.post(LOCATIONS, json=body, headers=tenant.headers)
        assert_problem(response, 422, "validation")
        assert error_fields(response) == ["name"], body
    assert len(await list_all(client, tenant)) == 1


async def test_name_longer_than_200_is_422(client, tenant: Tenant):
    response = await create(client, tenant, name="x" * 201)
    assert_problem(response, 422, "validation")
    assert error_fields(response) == ["name"]


async def test_unknown_body_field_is_422(client, tenant: Tenant):
    response = await create(client, tenant, name="Bondi", colour="blue")
    assert_problem(response, 422, "validation")
    assert error_fields(response) == ["colour"]
    assert len(await list_all(client, tenant)) == 1


async def test_wrong_type_and_invalid_json_are_rejected(client, tenant: Tenant):
    wrong = await create(client, tenant, name=42)
    assert_problem(wrong, 422, "validation")
    assert error_fields(wrong) == ["name"]
    broken = await client.post(
        LOCATIONS,
        content=b'{"name": "Bondi"',
        headers={**tenant.headers, "Content-Type": "application/json"},
    )
    assert_problem(broken, 400, "bad-request")
    assert len(await list_all(client, tenant)) == 1


async def test_create_writes_a_location_created_event_in_the_outbox(
    client, tenant: Tenant, runtime
):
    response = await create(client, tenant, name="Bondi", timezone="Australia/Sydney")
    assert response.status_code == 201
    location = response.json()["data"]
    async with runtime.db.read() as session:
        events = (
            await session.scalars(
                select(OutboxEvent).where(
                    OutboxEvent.org_id == tenant.org_id, OutboxEvent.type == "location.created"
                )
            )
        ).all()
    by_id = {e.data["id"]: e for e in events}
    # the org's first location has its event too
    assert set(by_id) == {str(tenant.location_id), location["id"]}
    assert by_id[location["id"]].data == location


async def test_a_rejected_create_writes_no_event(client, tenant: Tenant, runtime):
    response = await create(client, tenant, name="Bondi", timezone="Nowhere/Nothing")
    assert response.status_code == 422
    async with runtime.db.read() as session:
        events = (
            await session.scalars(select(OutboxEvent).where(OutboxEvent.org_id == tenant.org_id))
        ).all()
    assert [e.data["id"] for e in events] == [str(tenant.location_id)]


# --- pagination --------------------------------------------------------------------------

# Duplicate names make the id the tie-breaker; "Main store" (the default) sorts first.
PAGE_NAMES = ["Store D", "Store B", "Store A", "Store B", "Store C", "Store B", "Store D"]


async def make_seven(client, tenant: Tenant) -> list[dict]:
    made = []
    for name in PAGE_NAMES:
        response = await create(client, tenant, name=name)
        assert response.status_code == 201, response.text
        made.append(response.json()["data"])
    return made


def expected_order(locations: list[dict]) -> list[str]:
    ordered = sorted(locations, key=lambda loc: (loc["name"], uuid.UUID(loc["id"])))
    return [loc["id"] for loc in ordered]


async def test_rest_pages_follow_next_cursor_in_name_then_id_order(client, tenant: Tenant):
    made = await make_seven(client, tenant)
    everything = [*made, {"id": str(tenant.location_id), "name": "Main store"}]
    seen: list[str] = []
    pages = []
    cursor = None
    while True:
        params: dict[str, object] = {"limit": 3}
        if cursor is not None:
            params["cursor"] = cursor
        response = await client.get(LOCATIONS, params=params, headers=tenant.headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["meta"]["limit"] == 3
        pages.append(len(body["data"]))
        seen += [loc["id"] for loc in body["data"]]
        cursor = body["meta"]["nextCursor"]
        if cursor is None:
            break
        assert len(pages) < 10, "pagination does not terminate"
    assert pages == [3, 3, 2]
    assert seen == expected_order(everything)
    assert len(set(seen)) == 8


async def test_a_full_last_page_has_no_next_cursor(client, tenant: Tenant):
    for name in ("Store A", "Store B"):
        assert (await create(client, tenant, name=name)).status_code == 201
    first = (await client.get(LOCATIONS, params={"limit": 2}, headers=tenant.headers)).json()
    assert first["meta"]["nextCursor"] is not None
    last = (
        await client.get(
            LOCATIONS,
            params={"limit": 2, "cursor": first["meta"]["nextCursor"]},
            headers=tenant.headers,
        )
    ).json()
    assert len(last["data"]) == 1
    assert last["meta"]["nextCursor"] is None
    exact = (await client.get(LOCATIONS, params={"limit": 3}, headers=tenant.headers)).json()
    assert len(exact["data"]) == 3
    assert exact["meta"] == {"limit": 3, "nextCursor": None}


async def test_limit_out_of_range_is_422_on_limit(client, tenant: Tenant):
    for limit in ("0", "101", "-1", "abc"):
        response = await client.get(LOCATIONS, params={"limit": limit}, headers=tenant.headers)
        assert_problem(response, 422, "validation")
        assert error_fields(response) == ["limit"], limit
    for limit in ("1", "100"):
        response = await client.get(LOCATIONS, params={"limit": limit}, headers=tenant.headers)
        assert response.status_code == 200
        assert response.json()["meta"]["limit"] == int(limit)


async def test_malformed_cursor_is_422_on_cursor(client, tenant: Tenant):
    # not base64, not JSON, a list of the wrong length, an object, the right length with
    # values of the wrong types (an id that is not a UUID, numbers)
    for cursor in ("not-a-cursor", "!!!", "WzFd", "eyJhIjogMX0=", "WyJhIiwienoiXQ==", "WzEsMl0="):
        response = await client.get(LOCATIONS, params={"cursor": cursor}, headers=tenant.headers)
        assert_problem(response, 422, "validation")
        assert error_fields(response) == ["cursor"], cursor


async def test_graphql_connection_pages_the_same_way(client, tenant: Tenant):
    made = await make_seven(client, tenant)
    everything = [*made, {"id": str(tenant.location_id), "name": "Main store"}]
    names = {loc["id"]: loc["name"] for loc in everything}
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        body = await gql(client, GQL_LOCATIONS, {"first": 3, "after": after}, tenant.headers)
        assert "errors" not in body, body
        connection = body["data"]["locations"]
        edges = connection["edges"]
        assert [e["node"]["id"] for e in edges] == [n["id"] for n in connection["nodes"]]
        for edge in edges:
            assert edge["node"]["name"] == names[edge["node"]["id"]]
        assert connection["pageInfo"]["endCursor"] == edges[-1]["cursor"]
        seen += [e["node"]["id"] for e in edges]
        pages += 1
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
        assert pages < 10
    assert pages == 3
    assert seen == expected_order(everything)
    # every edge cursor resumes right after its own node
    body = await gql(client, GQL_LOCATIONS, {"first": 100}, tenant.headers)
    edges = body["data"]["locations"]["edges"]
    resumed = await gql(
        client, GQL_LOCATIONS, {"first": 2, "after": edges[3]["cursor"]}, tenant.headers
    )
    assert [n["id"] for n in resumed["data"]["locations"]["nodes"]] == seen[4:6]


async def test_graphql_bad_first_and_after_are_validation_errors(client, tenant: Tenant):
    for variables, field in (
        ({"first": 0}, "first"),
        ({"first": 101}, "first"),
        ({"after": "zzz"}, "after"),
    ):
        body = await gql(client, GQL_LOCATIONS, variables, tenant.headers)
        assert body["data"] is None
        ext = body["errors"][0]["extensions"]
        assert ext["code"] == "VALIDATION"
        assert ext["status"] == 422
        assert [e["field"] for e in ext["errors"]] == [field]


# --- retrieve, ETag and If-Match -----------------------------------------------------------


async def test_get_carries_the_version_as_etag(client, tenant: Tenant):
    response = await client.get(location_url(tenant.location_id), headers=tenant.headers)
    assert response.status_code == 200
    assert response.headers["etag"] == '"1"'
    assert response.json() == {
        "data": {
            "id": str(tenant.location_id),
            "name": "Main store",
            "timezone": "Australia/Sydney",
            "version": 1,
        }
    }


async def test_patch_with_current_if_match_bumps_version_and_etag(client, tenant: Tenant):
    url = location_url(tenant.location_id)
    response = await client.patch(
        url, json={"name": "Flagship"}, headers={**tenant.headers, "If-Match": '"1"'}
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"] == {
        "id": str(tenant.location_id),
        "name": "Flagship",
        "timezone": "Australia/Sydney",
        "version": 2,
    }
    assert response.headers["etag"] == '"2"'
    fetched = await client.get(url, headers=tenant.headers)
    assert fetched.headers["etag"] == '"2"'
    assert fetched.json()["data"]["name"] == "Flagship"


async def test_patch_with_stale_if_match_is_412_and_changes_nothing(client, tenant: Tenant):
    url = location_url(tenant.location_id)
    first = await client.patch(
        url, json={"name": "One"}, headers={**tenant.headers, "If-Match": '"1"'}
    )
    assert first.status_code == 200
    stale = await client.patch(
        url,
        json={"name": "Two", "timezone": "Australia/Perth"},
        headers={**tenant.headers, "If-Match": '"1"'},
    )
    assert_problem(stale, 412, "precondition-failed")
    fetched = await client.get(url, headers=tenant.headers)
    assert fetched.json()["data"] == {
        "id": str(tenant.location_id),
        "name": "One",
        "timezone": "Australia/Sydney",
        "version": 2,
    }
    assert fetched.headers["etag"] == '"2"'


async def test_patch_from_the_future_is_412(client, tenant: Tenant):
    url = location_url(tenant.location_id)
    response = await client.patch(
        url, json={"name": "X"}, headers={**tenant.headers, "If-Match": '"7"'}
    )
    assert_problem(response, 412, "precondition-failed")
    assert (await client.get(url, headers=tenant.headers)).json()["data"]["name"] == "Main store"


async def test_patch_without_if_match_or_with_star_applies(client, tenant: Tenant):
    url = location_url(tenant.location_id)
    plain = await client.patch(url, json={"timezone": "Australia/Perth"}, headers=tenant.headers)
    assert plain.status_code == 200, plain.text
    assert plain.json()["data"]["timezone"] == "Australia/Perth"
    assert plain.json()["data"]["name"] == "Main store"
    assert plain.json()["data"]["version"] == 2
    star = await client.patch(
        url, json={"name": "Star"}, headers={**tenant.headers, "If-Match": "*"}
    )
    assert star.status_code == 200, star.text
    assert star.json()["data"]["version"] == 3
    assert star.headers["etag"] == '"3"'


async def test_garbage_if_match_is_412_and_changes_nothing(client, tenant: Tenant):
    url = location_url(tenant.location_id)
    for value in ("garbage", '"abc"', "1,2"):
        response = await client.patch(
            url, json={"name": "X"}, headers={**tenant.headers, "If-Match": value}
        )
        assert_problem(response, 412, "precondition-failed")
    fetched = await client.get(url, headers=tenant.headers)
    assert fetched.json()["data"]["name"] == "Main store"
    assert fetched.headers["etag"] == '"1"'


async def test_patch_validates_its_fields(client, tenant: Tenant):
    url = location_url(tenant.location_id)
    for body, field in (
        ({"timezone": "Nope/Nope"}, "timezone"),
        ({"name": " "}, "name"),
        ({"x": 1}, "x"),
    ):
        response = await client.patch(url, json=body, headers=tenant.headers)
        assert_problem(response, 422, "validation")
        assert error_fields(response) == [field], body
    fetched = await client.get(url, headers=tenant.headers)
    assert fetched.headers["etag"] == '"1"'


async def test_concurrent_patches_with_the_same_if_match_one_wins(app, tenant: Tenant):
    url = location_url(tenant.location_id)
    async with new_client(app) as c:
        responses = await asyncio.gather(
            *(
                c.patch(
                    url, json={"name": f"Racer {i}"}, headers={**tenant.headers, "If-Match": '"1"'}
                )
                for i in range(8)
            )
        )
        fetched = await c.get(url, headers=tenant.headers)
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [412] * 7, [r.text for r in responses]
    winner = next(r for r in responses if r.status_code == 200).json()["data"]
    assert winner["version"] == 2
    assert fetched.json()["data"] == winner
    assert fetched.headers["etag"] == '"2"'


async def test_concurrent_patches_without_if_match_all_apply(app, tenant: Tenant):
    """No precondition was sent, so none can fail: every PATCH applies, one after another."""
    url = location_url(tenant.location_id)
    async with new_client(app) as c:
        responses = await asyncio.gather(
            *(c.patch(url, json={"name": f"Racer {i}"}, headers=tenant.headers) for i in range(8))
        )
        fetched = await c.get(url, headers=tenant.headers)
    assert [r.status_code for r in responses] == [200] * 8, [
        r.text for r in responses if r.status_code != 200
    ]
    assert sorted(r.json()["data"]["version"] for r in responses) == list(range(2, 10))
    assert fetched.headers["etag"] == '"9"'
    last = max(responses, key=lambda r: r.json()["data"]["version"]).json()["data"]
    assert fetched.json()["data"] == last


async def test_patch_writes_a_location_updated_event(client, tenant: Tenant, runtime):
    url = location_url(tenant.location_id)
    assert (
        await client.patch(url, json={"name": "Renamed"}, headers=tenant.headers)
    ).status_code == 200
    async with runtime.db.read() as session:
        events = (
            await session.scalars(
                select(OutboxEvent).where(
                    OutboxEvent.org_id == tenant.org_id, OutboxEvent.type == "location.updated"
                )
            )
        ).all()
    assert [e.data["name"] for e in events] == ["Renamed"]
    assert events[0].data["version"] == 2


# --- isolation -----------------------------------------------------------------------------


async def test_another_orgs_location_is_404_in_the_path(
    client, tenant: Tenant, make_tenant, runtime
):
    other = await make_tenant()
    url = location_url(other.location_id)
    got = await client.get(url, headers=tenant.headers)
    assert_problem(got, 404, "not-found")
    patched = await client.patch(url, json={"name": "Hijacked"}, headers=tenant.headers)
    assert_problem(patched, 404, "not-found")
    starred = await client.patch(
        url, json={"name": "Hijacked"}, headers={**tenant.headers, "If-Match": "*"}
    )
    assert_problem(starred, 404, "not-found")
    async with runtime.db.read() as session:
        row = await session.get(LocationRow, other.location_id)
    assert row is not None
    assert (row.name, row.version) == ("Main store", 1)


async def test_non_uuid_and_unknown_ids_are_404(client, tenant: Tenant):
    for raw in ("not-a-uuid", "123", str(uuid.uuid4())):
        got = await client.get(location_url(raw), headers=tenant.headers)
        assert_problem(got, 404, "not-found")
        patched = await client.patch(location_url(raw), json={"name": "X"}, headers=tenant.headers)
        assert_problem(patched, 404, "not-found")


async def test_lists_never_show_another_orgs_locations(client, tenant: Tenant, make_tenant):
    other = await make_tenant()
    assert (await create(client, other, name="Secret")).status_code == 201
    mine = await list_all(client, tenant)
    assert [loc["id"] for loc in mine] == [str(tenant.location_id)]
    body = await gql(client, GQL_LOCATIONS, {"first": 100}, tenant.headers)
    assert [n["id"] for n in body["data"]["locations"]["nodes"]] == [str(tenant.location_id)]


async def test_graphql_node_lookup_is_scoped_to_the_org(client, tenant: Tenant, make_tenant):
    other = await make_tenant()
    theirs = await gql(client, GQL_NODE, {"id": str(other.location_id)}, tenant.headers)
    assert theirs == {"data": {"node": None}}
    mine = await gql(client, GQL_NODE, {"id": str(tenant.location_id)}, tenant.headers)
    assert mine == {
        "data": {
            "node": {"__typename": "Location", "id": str(tenant.location_id), "name": "Main store"}
        }
    }
    # nor does any other kind of node of another org leak (its user)
    for raw in ("not-a-uuid", str(uuid.uuid4()), str(other.user_id)):
        assert await gql(client, GQL_NODE, {"id": raw}, tenant.headers) == {"data": {"node": None}}


async def test_graphql_location_of_another_org_is_not_found(client, tenant: Tenant, make_tenant):
    other = await make_tenant()
    body = await gql(client, GQL_LOCATION, {"id": str(other.location_id)}, tenant.headers)
    assert body["data"] is None
    ext = body["errors"][0]["extensions"]
    assert ext["code"] == "NOT_FOUND"
    assert ext["status"] == 404
    mine = await gql(client, GQL_LOCATION, {"id": str(tenant.location_id)}, tenant.headers)
    assert mine["data"]["location"] == {
        "id": str(tenant.location_id),
        "name": "Main store",
        "timezone": "Australia/Sydney",
        "version": 1,
    }


async def test_graphql_update_of_another_orgs_location_is_not_found(
    client, tenant: Tenant, make_tenant
):
    other = await make_tenant()
    body = await gql(
        client,
        GQL_UPDATE,
        {"id": str(other.location_id), "input": {"name": "Hijacked"}},
        tenant.headers,
    )
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    fetched = await client.get(location_url(other.location_id), headers=other.headers)
    assert fetched.json()["data"]["name"] == "Main store"


# --- roles ---------------------------------------------------------------------------------


async def test_staff_can_list_but_not_create(client, make_tenant):
    staff = await make_tenant(role="staff")
    listed = await client.get(LOCATIONS, headers=staff.headers)
    assert listed.status_code == 200
    assert [loc["id"] for loc in listed.json()["data"]] == [str(staff.location_id)]
    got = await client.get(location_url(staff.location_id), headers=staff.headers)
    assert got.status_code == 200
    created = await create(client, staff, name="Sneaky")
    assert_problem(created, 403, "forbidden")
    patched = await client.patch(
        location_url(staff.location_id), json={"name": "Sneaky"}, headers=staff.headers
    )
    assert_problem(patched, 403, "forbidden")
    after = await list_all(client, staff)
    assert [(loc["name"], loc["version"]) for loc in after] == [("Main store", 1)]


async def test_manager_cannot_create_locations_either(client, make_tenant):
    manager = await make_tenant(role="manager")
    created = await create(client, manager, name="Sneaky")
    assert_problem(created, 403, "forbidden")
    assert len(await list_all(client, manager)) == 1
    body = await gql(client, GQL_CREATE, {"input": {"name": "Sneaky"}}, manager.headers)
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert body["errors"][0]["extensions"]["status"] == 403
    assert len(await list_all(client, manager)) == 1


async def test_admin_can_create_locations(client, make_tenant):
    admin = await make_tenant(role="admin")
    created = await create(client, admin, name="Admin's")
    assert created.status_code == 201, created.text
    assert len(await list_all(client, admin)) == 2


async def test_locations_need_a_token(client):
    assert_problem(await client.get(LOCATIONS), 401, "unauthorized")
    assert_problem(await client.post(LOCATIONS, json={"name": "X"}), 401, "unauthorized")


# --- GraphQL mutations -----------------------------------------------------------------------


async def test_graphql_create_location(client, tenant: Tenant):
    body = await gql(client, GQL_CREATE, {"input": {"name": "Bondi"}}, tenant.headers)
    assert "errors" not in body, body
    created = body["data"]["createLocation"]
    assert created["name"] == "Bondi"
    assert created["timezone"] == "Australia/Sydney"
    assert created["version"] == 1
    listed = await list_all(client, tenant)
    assert created in listed
    # the same id works at the REST door
    rest = await client.get(location_url(created["id"]), headers=tenant.headers)
    assert rest.json()["data"] == created


async def test_graphql_create_location_validation(client, tenant: Tenant):
    for variables, field in (
        ({"input": {"name": "Bondi", "timezone": "Bad/Zone"}}, "timezone"),
        ({"input": {"name": "  "}}, "name"),
    ):
        body = await gql(client, GQL_CREATE, variables, tenant.headers)
        assert body["data"] is None
        ext = body["errors"][0]["extensions"]
        assert ext["code"] == "VALIDATION"
        assert ext["status"] == 422
        assert [e["field"] for e in ext["errors"]] == [field]
    assert len(await list_all(client, tenant)) == 1


async def test_graphql_update_location_with_expected_version(client, tenant: Tenant):
    location_id = str(tenant.location_id)
    ok = await gql(
        client,
        GQL_UPDATE,
        {"id": location_id, "input": {"name": "Flagship"}, "v": 1},
        tenant.headers,
    )
    assert "errors" not in ok, ok
    assert ok["data"]["updateLocation"] == {
        "id": location_id,
        "name": "Flagship",
        "timezone": "Australia/Sydney",
        "version": 2,
    }
    stale = await gql(
        client, GQL_UPDATE, {"id": location_id, "input": {"name": "Stale"}, "v": 1}, tenant.headers
    )
    assert stale["data"] is None
    ext = stale["errors"][0]["extensions"]
    assert ext["code"] == "PRECONDITION_FAILED"
    assert ext["status"] == 412
    unguarded = await gql(
        client,
        GQL_UPDATE,
        {"id": location_id, "input": {"timezone": "Australia/Perth"}},
        tenant.headers,
    )
    assert unguarded["data"]["updateLocation"]["version"] == 3
    fetched = await client.get(location_url(location_id), headers=tenant.headers)
    assert fetched.json()["data"] == {
        "id": location_id,
        "name": "Flagship",
        "timezone": "Australia/Perth",
        "version": 3,
    }
    assert fetched.headers["etag"] == '"3"'


async def test_graphql_staff_cannot_update_location(client, make_tenant):
    staff = await make_tenant(role="staff")
    body = await gql(
        client, GQL_UPDATE, {"id": str(staff.location_id), "input": {"name": "X"}}, staff.headers
    )
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"

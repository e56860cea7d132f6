"""Problem Details, request ids, GraphQL error codes and limits, OpenAPI, /docs and health."""

from __future__ import annotations

import logging
import re
import uuid
from html.parser import HTMLParser

import httpx
import pytest
from asgi_lifespan import LifespanManager
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate as validate_openapi
from starlette.requests import Request
from starlette.routing import Route

from elevatedpos.actions.orgs import create_org
from elevatedpos.app import create_app
from elevatedpos.auth.sessions import start_session
from elevatedpos.rest_compat.routes import ROUTES
from elevatedpos.runtime import Runtime
from elevatedpos.schema.root import MAX_ALIASES, MAX_QUERY_DEPTH
from elevatedpos.settings import Settings
from tests.conftest import PASSWORD, Tenant, gql, new_client

PROBLEM = "application/problem+json"
ERRORS = "https://elevatedpos.com.au/errors/"
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
LOCATIONS = "/api/v1/locations"
OPENAPI = "/api/v1/openapi.json"
UNREACHABLE_DB = "postgresql+asyncpg://nobody@127.0.0.1:1/none"


def media_type(response: httpx.Response) -> str:
    return response.headers.get("content-type", "").split(";")[0].strip().lower()


def assert_problem(response: httpx.Response, status: int, slug: str | None, instance: str) -> dict:
    """The RFC 9457 shape the contract fixes; returns the body for further checks."""
    assert response.status_code == status, response.text
    assert media_type(response) == PROBLEM
    body = response.json()
    if slug is not None:
        assert body["type"] == ERRORS + slug
    else:
        assert body["type"].startswith(ERRORS)
    assert isinstance(body["title"], str) and body["title"]
    assert body["status"] == status
    assert isinstance(body["detail"], str) and body["detail"]
    assert body["instance"] == instance
    assert body["requestId"] == response.headers["x-request-id"]
    assert REQUEST_ID.match(body["requestId"])
    return body


def json_post(path: str, raw: bytes) -> dict:
    return {"url": path, "content": raw, "headers": {"Content-Type": "application/json"}}


# --- 1. Problem Details on the REST side -------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [b'{"name": "Broken', b"{name: 'x'}", b"\xff\xfe not utf-8", b'{"name": "a"} trailing'],
    ids=["truncated", "js-object", "binary", "trailing"],
)
async def test_invalid_json_body_is_a_400_problem(client, tenant: Tenant, raw: bytes):
    response = await client.post(
        LOCATIONS, content=raw, headers={**tenant.headers, "Content-Type": "application/json"}
    )
    assert_problem(response, 400, "bad-request", LOCATIONS)


async def test_invalid_json_on_a_public_route_is_a_400_problem(client):
    response = await client.post(**json_post("/api/v1/auth/login", b'{"email": '))
    assert_problem(response, 400, "bad-request", "/api/v1/auth/login")


@pytest.mark.parametrize(
    "raw",
    [b'[{"name": "Bondi"}]', b'"Bondi"', b"42", b"null"],
    ids=["array", "string", "number", "null"],
)
async def test_a_body_that_is_not_an_object_is_a_400_problem(client, tenant: Tenant, raw: bytes):
    response = await client.post(
        LOCATIONS, content=raw, headers={**tenant.headers, "Content-Type": "application/json"}
    )
    assert_problem(response, 400, "bad-request", LOCATIONS)
    # nothing was created
    listed = await client.get(LOCATIONS, headers=tenant.headers)
    assert all(loc["name"] != "Bondi" for loc in listed.json()["data"])


@pytest.mark.parametrize("path", ["/api/v1/no-such-thing", "/api/v1/locations/x/y/z", "/nowhere"])
async def test_unknown_route_is_a_404_problem(client, tenant: Tenant, path: str):
    response = await client.get(path, headers=tenant.headers)
    assert_problem(response, 404, "not-found", path)


async def test_unknown_route_of_any_method_is_a_404_problem(client, tenant: Tenant):
    response = await client.post("/api/v1/no-such-thing", json={}, headers=tenant.headers)
    assert_problem(response, 404, "not-found", "/api/v1/no-such-thing")


async def test_wrong_method_is_a_405_problem_with_allow(client, tenant: Tenant):
    response = await client.delete(LOCATIONS, headers=tenant.headers)
    assert_problem(response, 405, None, LOCATIONS)
    allowed = {m.strip().upper() for m in response.headers["allow"].split(",")}
    assert {"GET", "POST"} <= allowed
    assert "DELETE" not in allowed


async def test_wrong_method_on_an_item_route_lists_its_methods(client, tenant: Tenant):
    path = f"{LOCATIONS}/{tenant.location_id}"
    response = await client.put(path, json={"name": "x"}, headers=tenant.headers)
    assert_problem(response, 405, None, path)
    allowed = {m.strip().upper() for m in response.headers["allow"].split(",")}
    assert {"GET", "PATCH"} <= allowed
    assert "PUT" not in allowed and "POST" not in allowed


async def test_body_failing_validation_is_a_422_naming_each_field(client, tenant: Tenant):
    response = await client.post(LOCATIONS, json={"name": 5, "extra": 1}, headers=tenant.headers)
    body = assert_problem(response, 422, "validation", LOCATIONS)
    errors = body["errors"]
    assert all(set(e) == {"field", "message"} for e in errors), errors
    assert {e["field"] for e in errors} == {"name", "extra"}
    for e in errors:
        assert isinstance(e["message"], str) and e["field"] in e["message"]
    listed = await client.get(LOCATIONS, headers=tenant.headers)
    assert len(listed.json()["data"]) == 1  # only the org's default location


async def test_missing_required_field_is_a_422(client, tenant: Tenant):
    response = await client.post(
        LOCATIONS, json={"timezone": "Australia/Perth"}, headers=tenant.headers
    )
    body = assert_problem(response, 422, "validation", LOCATIONS)
    assert body["errors"] == [{"field": "name", "message": "name is required"}]


async def test_empty_body_on_a_create_is_a_422_not_a_500(client, tenant: Tenant):
    response = await client.post(LOCATIONS, headers=tenant.headers)
    body = assert_problem(response, 422, "validation", LOCATIONS)
    assert [e["field"] for e in body["errors"]] == ["name"]


@pytest.mark.parametrize(
    "query, field",
    [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("cursor=not-a-cursor", "cursor"),
    ],
)
async def test_bad_list_parameters_are_a_422_naming_the_parameter(
    client, tenant: Tenant, query: str, field: str
):
    response = await client.get(f"{LOCATIONS}?{query}", headers=tenant.headers)
    body = assert_problem(response, 422, "validation", LOCATIONS)
    assert [e["field"] for e in body["errors"]] == [field]


async def test_missing_token_is_a_401_problem(client):
    response = await client.get(LOCATIONS)
    assert_problem(response, 401, "unauthorized", LOCATIONS)
    assert response.headers["www-authenticate"].lower().startswith("bearer")


async def test_unknown_id_in_the_path_is_a_404_problem(client, tenant: Tenant):
    path = f"{LOCATIONS}/{uuid.uuid4()}"
    response = await client.get(path, headers=tenant.headers)
    assert_problem(response, 404, "not-found", path)


@pytest.mark.parametrize("path", [LOCATIONS, "/api/v1/auth/me", "{location}"])
async def test_head_on_a_rest_get_route_answers_like_get_without_a_body(
    client, tenant: Tenant, path: str
):
    path = path.replace("{location}", f"{LOCATIONS}/{tenant.location_id}")
    get = await client.get(path, headers=tenant.headers)
    assert get.status_code == 200
    head = await client.head(path, headers=tenant.headers)
    assert head.status_code == 200, (head.status_code, head.headers.get("content-type"))
    assert head.content == b""
    assert media_type(head) == "application/json"


async def test_nul_character_in_a_body_string_is_not_a_500(client, tenant: Tenant):
    response = await client.post(LOCATIONS, json={"name": "Bad\u0000Name"}, headers=tenant.headers)
    assert response.status_code in (201, 422), response.text
    if response.status_code == 422:
        body = assert_problem(response, 422, "validation", LOCATIONS)
        assert [e["field"] for e in body["errors"]] == ["name"]


async def test_nul_character_in_login_email_is_not_a_500(client):
    response = await client.post(
        "/api/v1/auth/login", json={"email": "a\u0000@example.com", "password": "x" * 12}
    )
    assert response.status_code in (401, 422), response.text


async def test_nul_character_in_a_graphql_input_is_not_internal(client, tenant: Tenant):
    body = await gql(
        client,
        "mutation($n: String!) { createLocation(input: {name: $n}) { id name } }",
        {"n": "Bad\u0000Name"},
        headers=tenant.headers,
    )
    for error in body.get("errors") or []:
        assert error["extensions"]["code"] == "VALIDATION", error


# --- 2. An unexpected exception is a logged 500 without internals -------------------------

SECRET_TEXT = "kaboom-internal-detail-7f3a"


async def _boom(request: Request) -> None:
    raise RuntimeError(SECRET_TEXT)


async def _session_token(runtime: Runtime) -> str:
    made = await create_org(
        runtime.db,
        name="Boom Org",
        email=f"boom-{uuid.uuid4().hex[:12]}@example.com",
        password=PASSWORD,
        plan="pro",
        rate_limit=None,
        burst=None,
    )
    issued = await start_session(runtime, made.owner)
    return issued.access_token


@pytest.mark.parametrize("incoming_id", [None, "boom-trace.01"])
async def test_unhandled_exception_is_a_500_problem_logged_with_the_request_id(
    database_url: str, caplog: pytest.LogCaptureFixture, incoming_id: str | None
):
    application = create_app(Settings.from_env({}, database_url=database_url))
    application.router.routes.append(Route("/api/v1/boom", _boom))
    async with LifespanManager(application):
        token = await _session_token(application.state.runtime)
        headers = {"Authorization": f"Bearer {token}"}
        if incoming_id:
            headers["X-Request-ID"] = incoming_id
        async with new_client(application) as c:
            with caplog.at_level(logging.ERROR, logger="elevatedpos.http"):
                response = await c.get("/api/v1/boom", headers=headers)
    body = assert_problem(response, 500, "internal", "/api/v1/boom")
    # like every answer to an authenticated request, it says where the org's bucket stands
    assert response.headers["x-ratelimit-limit"] == "2000"
    assert int(response.headers["x-ratelimit-remaining"]) == 2999
    request_id = response.headers["x-request-id"]
    if incoming_id:
        assert request_id == incoming_id
    text = response.text
    for leak in (SECRET_TEXT, "RuntimeError", "Traceback", 'File "', "_boom", ".py"):
        assert leak not in text, leak
    assert set(body) == {"type", "title", "status", "detail", "instance", "requestId"}
    records = [
        r for r in caplog.records if r.name == "elevatedpos.http" and request_id in r.getMessage()
    ]
    assert records, [r.getMessage() for r in caplog.records]
    assert records[0].levelno >= logging.ERROR
    # the log line (unlike the response) keeps what support needs: the exception itself
    assert records[0].exc_info is not None and records[0].exc_info[0] is RuntimeError


# --- 3. X-Request-ID ----------------------------------------------------------------------


@pytest.mark.parametrize("incoming", ["abc", "Req-1.2_3", "a" * 128, "0"])
async def test_valid_request_id_is_echoed_on_success(client, tenant: Tenant, incoming: str):
    response = await client.get(LOCATIONS, headers={**tenant.headers, "X-Request-ID": incoming})
    assert response.status_code == 200
    assert response.headers["x-request-id"] == incoming


async def test_valid_request_id_is_echoed_on_errors(client, tenant: Tenant):
    rid = "client-trace_42.x"
    not_found = await client.get("/api/v1/nope", headers={**tenant.headers, "X-Request-ID": rid})
    assert_problem(not_found, 404, "not-found", "/api/v1/nope")
    assert not_found.headers["x-request-id"] == not_found.json()["requestId"] == rid
    anonymous = await client.get(LOCATIONS, headers={"X-Request-ID": rid})
    assert_problem(anonymous, 401, "unauthorized", LOCATIONS)
    assert anonymous.json()["requestId"] == rid
    invalid = await client.post(LOCATIONS, json={}, headers={**tenant.headers, "X-Request-ID": rid})
    assert_problem(invalid, 422, "validation", LOCATIONS)
    assert invalid.json()["requestId"] == rid


async def test_valid_request_id_is_echoed_by_public_and_graphql_routes(client, tenant: Tenant):
    for response in (
        await client.get("/healthz", headers={"X-Request-ID": "hz-1"}),
        await client.get(OPENAPI, headers={"X-Request-ID": "hz-1"}),
        await client.post(
            "/graphql",
            json={"query": "{ me { id } }"},
            headers={**tenant.headers, "X-Request-ID": "hz-1"},
        ),
    ):
        assert response.status_code == 200
        assert response.headers["x-request-id"] == "hz-1"


@pytest.mark.parametrize(
    "incoming",
    ["a" * 129, "has space", "a/b", "semi;colon", "tab\there", 'quote"d', "ümlaut"],
    ids=["too-long", "space", "slash", "semicolon", "tab", "quote", "non-ascii"],
)
async def test_invalid_request_id_is_replaced(client, tenant: Tenant, incoming: str):
    headers = {**tenant.headers, "X-Request-ID": incoming.encode("utf-8")}
    ok = await client.get(LOCATIONS, headers=headers)
    assert ok.status_code == 200
    assert ok.headers["x-request-id"] != incoming
    assert REQUEST_ID.match(ok.headers["x-request-id"])
    failed = await client.get("/api/v1/nope", headers=headers)
    body = assert_problem(failed, 404, "not-found", "/api/v1/nope")
    assert body["requestId"] != incoming
    assert body["requestId"] != ok.headers["x-request-id"]


async def test_request_id_is_generated_when_absent_and_differs_per_request(client, tenant: Tenant):
    seen = set()
    for _ in range(5):
        response = await client.get(LOCATIONS, headers=tenant.headers)
        assert response.status_code == 200
        rid = response.headers["x-request-id"]
        assert REQUEST_ID.match(rid)
        seen.add(rid)
    anonymous = await client.get(LOCATIONS)
    seen.add(anonymous.headers["x-request-id"])
    assert anonymous.json()["requestId"] == anonymous.headers["x-request-id"]
    assert len(seen) == 6


async def test_empty_request_id_is_replaced(client):
    response = await client.get("/healthz", headers={"X-Request-ID": ""})
    assert REQUEST_ID.match(response.headers["x-request-id"])


# --- 4. GraphQL errors and limits -------------------------------------------------------


async def test_graphql_resolver_validation_error_carries_code_status_and_fields(
    client, tenant: Tenant
):
    body = await gql(client, "{ locations(first: 0) { nodes { id } } }", headers=tenant.headers)
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["path"] == ["locations"]
    ext = error["extensions"]
    assert ext["code"] == "VALIDATION"
    assert ext["status"] == 422
    assert [e["field"] for e in ext["errors"]] == ["first"]
    assert all(set(e) == {"field", "message"} and e["message"] for e in ext["errors"])


async def test_graphql_bad_cursor_is_a_validation_error(client, tenant: Tenant):
    body = await gql(
        client, '{ locations(after: "garbage!") { nodes { id } } }', headers=tenant.headers
    )
    ext = body["errors"][0]["extensions"]
    assert (ext["code"], ext["status"]) == ("VALIDATION", 422)
    assert [e["field"] for e in ext["errors"]] == ["after"]


async def test_graphql_not_found_carries_the_code(client, tenant: Tenant):
    body = await gql(
        client,
        "query($id: ID!) { location(id: $id) { id } }",
        {"id": str(uuid.uuid4())},
        headers=tenant.headers,
    )
    ext = body["errors"][0]["extensions"]
    assert (ext["code"], ext["status"]) == ("NOT_FOUND", 404)


async def test_graphql_syntax_error_is_bad_request(client, tenant: Tenant):
    response = await client.post(
        "/graphql", json={"query": "{ locations(first: ) { nodes { id } "}, headers=tenant.headers
    )
    assert response.status_code in (200, 400)
    body = response.json()
    assert body.get("data") is None
    assert body["errors"]
    assert all(e["extensions"]["code"] == "BAD_REQUEST" for e in body["errors"])
    assert all(e["extensions"]["status"] == 400 for e in body["errors"])


async def test_graphql_unknown_field_is_bad_request(client, tenant: Tenant):
    response = await client.post(
        "/graphql", json={"query": "{ noSuchField }"}, headers=tenant.headers
    )
    assert response.status_code in (200, 400)
    body = response.json()
    assert body.get("data") is None
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


@pytest.mark.parametrize("raw", [b'{"query": "{ me { id } }"', b"not json at all"])
async def test_invalid_json_to_graphql_is_a_400_problem(client, tenant: Tenant, raw: bytes):
    response = await client.post(
        "/graphql", content=raw, headers={**tenant.headers, "Content-Type": "application/json"}
    )
    assert_problem(response, 400, "bad-request", "/graphql")


def _nested(levels: list[str], leaf: str) -> str:
    query = leaf
    for name in reversed(levels):
        query = f"{name} {{ {query} }}"
    return "{ " + query + " }"


def _introspection(pairs: int) -> str:
    """__schema { types { fields { type { fields { type { ... name } } } } } }."""
    return _nested(["__schema", "types", *["fields", "type"] * pairs], "name")


def _field_depth(query: str) -> int:
    """Nesting depth of fields: the number of `{` opened below the operation."""
    depth = best = 0
    for ch in query:
        if ch == "{":
            depth += 1
            best = max(best, depth)
        elif ch == "}":
            depth -= 1
    return best


async def test_introspection_within_the_depth_limit_runs(client, tenant: Tenant):
    query = _introspection(1)
    body = await gql(client, query, headers=tenant.headers)
    assert "errors" not in body or not body["errors"], body
    assert body["data"]["__schema"]["types"]


async def test_query_deeper_than_the_limit_is_refused(client, tenant: Tenant):
    query = _introspection(MAX_QUERY_DEPTH)  # twice as deep as allowed
    assert _field_depth(query) > MAX_QUERY_DEPTH + 2
    response = await client.post("/graphql", json={"query": query}, headers=tenant.headers)
    assert response.status_code in (200, 400)
    body = response.json()
    assert body.get("data") is None, "a too-deep query ran"
    assert body["errors"]
    assert any("depth" in e["message"].lower() for e in body["errors"]), body["errors"]
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_depth_limit_applies_to_ordinary_fields(client, tenant: Tenant):
    levels = ["me", *[f"x{i}" for i in range(MAX_QUERY_DEPTH + 3)]]
    response = await client.post(
        "/graphql", json={"query": _nested(levels, "id")}, headers=tenant.headers
    )
    body = response.json()
    assert body.get("data") is None
    assert any("depth" in e["message"].lower() for e in body["errors"]), body["errors"]


async def test_aliases_up_to_the_limit_run(client, tenant: Tenant):
    query = "{ " + " ".join(f"a{i}: me {{ id }}" for i in range(MAX_ALIASES)) + " }"
    body = await gql(client, query, headers=tenant.headers)
    assert "errors" not in body or not body["errors"], body
    assert len(body["data"]) == MAX_ALIASES
    assert body["data"]["a0"]["id"] == str(tenant.user_id)


async def test_more_aliases_than_the_limit_are_refused(client, tenant: Tenant):
    query = "{ " + " ".join(f"a{i}: me {{ id }}" for i in range(MAX_ALIASES + 1)) + " }"
    response = await client.post("/graphql", json={"query": query}, headers=tenant.headers)
    assert response.status_code in (200, 400)
    body = response.json()
    assert body.get("data") is None
    assert body["errors"]
    assert any("alias" in e["message"].lower() for e in body["errors"]), body["errors"]
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


# --- 5. The OpenAPI document --------------------------------------------------------------


@pytest.fixture
async def openapi_doc(client) -> dict:
    response = await client.get(OPENAPI)
    assert response.status_code == 200, response.text
    assert media_type(response) == "application/json"
    return response.json()


async def test_openapi_is_public_and_valid_3_1(openapi_doc: dict):
    assert openapi_doc["openapi"] == "3.1.0"
    validate_openapi(openapi_doc)


async def test_openapi_documents_every_route(openapi_doc: dict):
    paths = openapi_doc["paths"]
    global_security = openapi_doc.get("security")
    for route in ROUTES:
        assert route.path in paths, route.path
        operation = paths[route.path].get(route.method.lower())
        assert operation is not None, (route.method, route.path)
        responses = operation["responses"]
        assert str(route.status) in responses, (route.method, route.path, list(responses))
        if not route.no_content:
            assert "application/json" in responses[str(route.status)]["content"]
        security = operation.get("security", global_security)
        if route.public:
            assert operation.get("security") == [], route.path
        else:
            assert security, f"{route.method} {route.path} documents no security"
            assert "401" in responses
        for name in re.findall(r"{(\w+)}", route.path):
            assert any(
                p["name"] == name and p["in"] == "path" and p["required"]
                for p in operation.get("parameters", [])
            ), (route.path, name)
        if route.body:
            assert "application/json" in operation["requestBody"]["content"]


async def test_openapi_operation_ids_are_unique(openapi_doc: dict):
    ids = [
        op["operationId"]
        for item in openapi_doc["paths"].values()
        for method, op in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]
    assert len(ids) == len(set(ids)) >= len(ROUTES)


async def test_openapi_problem_schema(openapi_doc: dict):
    problem = openapi_doc["components"]["schemas"]["Problem"]
    assert set(problem["required"]) >= {
        "type",
        "title",
        "status",
        "detail",
        "instance",
        "requestId",
    }
    assert "errors" in problem["properties"]


def _validator(doc: dict, schema: dict) -> OAS31Validator:
    """A validator for `schema` that resolves `#/components/...` refs against `doc`."""
    return OAS31Validator({**schema, "components": doc["components"]})


async def test_real_responses_match_the_documented_schemas(client, tenant: Tenant, openapi_doc):
    paths = openapi_doc["paths"]
    created = await client.post(
        LOCATIONS,
        json={"name": "Documented", "timezone": "Australia/Perth"},
        headers=tenant.headers,
    )
    assert created.status_code == 201, created.text
    schema = paths[LOCATIONS]["post"]["responses"]["201"]["content"]["application/json"]["schema"]
    _validator(openapi_doc, schema).validate(created.json())

    listed = await client.get(f"{LOCATIONS}?limit=1", headers=tenant.headers)
    schema = paths[LOCATIONS]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    _validator(openapi_doc, schema).validate(listed.json())

    invalid = await client.post(LOCATIONS, json={"name": 5}, headers=tenant.headers)
    assert invalid.status_code == 422
    documented = paths[LOCATIONS]["post"]["responses"]["422"]["content"][PROBLEM]["schema"]
    _validator(openapi_doc, documented).validate(invalid.json())


# --- 6. /docs ------------------------------------------------------------------------------


class _AssetRefs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        for attr in ("src", "href"):
            if tag in {"script", "link", "img", "iframe", "source"} and a.get(attr):
                self.refs.append((tag, str(a[attr])))


async def test_docs_page_is_public_html_with_same_origin_assets(client):
    response = await client.get("/docs")
    assert response.status_code == 200
    assert media_type(response) == "text/html"
    parser = _AssetRefs()
    parser.feed(response.text)
    tags = {tag for tag, _ in parser.refs}
    assert {"script", "link"} <= tags, parser.refs
    for tag, ref in parser.refs:
        if ref.startswith("data:"):
            continue  # inline, nothing is fetched
        assert not re.match(r"^\s*([a-z][a-z0-9+.-]*:|//)", ref, re.I), (tag, ref)
        asset = await client.get(ref)
        assert asset.status_code == 200, ref


async def test_docs_assets_are_served_with_their_types(client):
    js = await client.get("/docs/assets/docs.js")
    assert js.status_code == 200, js.text
    assert media_type(js) in {"text/javascript", "application/javascript"}
    assert js.content.strip()
    css = await client.get("/docs/assets/docs.css")
    assert css.status_code == 200, css.text
    assert media_type(css) == "text/css"
    assert css.content.strip()
    page = (await client.get("/docs")).text
    assert "/api/v1/openapi.json" in page + js.text  # it renders our document


async def test_docs_assets_load_nothing_from_other_hosts(client):
    js = (await client.get("/docs/assets/docs.js")).text
    css = (await client.get("/docs/assets/docs.css")).text
    remote_js = re.compile(
        r"""(fetch|import)\s*\(\s*['"`](https?:)?//|from\s+['"](https?:)?//|"""
        r"""\.src\s*=\s*['"`](https?:)?//""",
        re.I,
    )
    assert not remote_js.search(js), remote_js.search(js)
    assert not re.search(r"""url\(\s*['"]?(https?:)?//|@import\s+['"](https?:)?//""", css, re.I)
    for cdn in ("unpkg.com", "jsdelivr", "cdnjs", "googleapis.com", "gstatic.com"):
        assert cdn not in js and cdn not in css, cdn


@pytest.mark.parametrize("name", ["other.js", "docs.html", "..%2Fdocs.html", "DOCS.JS"])
async def test_unknown_docs_asset_is_a_404_problem(client, name: str):
    response = await client.get(f"/docs/assets/{name}")
    assert response.status_code == 404
    assert media_type(response) == PROBLEM
    body = response.json()
    assert body["type"] == ERRORS + "not-found"
    assert body["requestId"] == response.headers["x-request-id"]


# --- 7. Health ---------------------------------------------------------------------------


async def test_healthz_answers_without_a_token(client):
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert media_type(response) == "application/json"
    assert response.json() == {"status": "ok"}


async def test_readyz_reports_the_database(client):
    response = await client.get("/readyz")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == "ok"


async def test_readyz_is_a_503_problem_when_the_database_is_unreachable():
    # No lifespan: start-up would need the database. Health needs nothing it sets up.
    application = create_app(Settings.from_env({}, database_url=UNREACHABLE_DB))
    runtime: Runtime = application.state.runtime
    try:
        async with new_client(application) as c:
            ready = await c.get("/readyz", headers={"X-Request-ID": "lb-probe-1"})
            alive = await c.get("/healthz")
    finally:
        await runtime.stop()
    body = assert_problem(ready, 503, None, "/readyz")
    assert body["requestId"] == "lb-probe-1"
    assert body["checks"]["database"] != "ok"
    assert "nobody" not in ready.text and "127.0.0.1:1" not in ready.text  # no DSN leak
    assert alive.status_code == 200  # the process itself is alive


# --- 8. /graphql without a token -----------------------------------------------------------


async def test_graphiql_page_is_public(client):
    response = await client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert media_type(response) == "text/html"
    assert "graphiql" in response.text.lower()


async def test_anonymous_graphql_query_is_a_401_problem(client):
    response = await client.post("/graphql", json={"query": "{ locations { nodes { id } } }"})
    body = assert_problem(response, 401, "unauthorized", "/graphql")
    assert "data" not in body
    assert response.headers["www-authenticate"].lower().startswith("bearer")


async def test_anonymous_graphql_get_query_is_a_401_problem(client):
    response = await client.get(
        "/graphql", params={"query": "{ me { id } }"}, headers={"Accept": "application/json"}
    )
    assert_problem(response, 401, "unauthorized", "/graphql")


async def test_graphql_with_a_bad_token_is_a_401_problem(client):
    response = await client.post(
        "/graphql",
        json={"query": "{ me { id } }"},
        headers={"Authorization": "Bearer not.a.jwt"},
    )
    assert_problem(response, 401, "unauthorized", "/graphql")

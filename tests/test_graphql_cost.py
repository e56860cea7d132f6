"""A GraphQL request's cost comes out of the org's bucket; unbounded queries are refused."""

from __future__ import annotations

from graphql import FragmentDefinitionNode, OperationDefinitionNode, parse

from elevatedpos.schema.cost import estimated_nodes, request_cost
from elevatedpos.schema.root import schema
from tests.conftest import gql


def _nodes(query: str, variables: dict | None = None) -> int:
    doc = parse(query)
    fragments = {d.name.value: d for d in doc.definitions if isinstance(d, FragmentDefinitionNode)}
    (op,) = [d for d in doc.definitions if isinstance(d, OperationDefinitionNode)]
    return estimated_nodes(schema._schema, op, fragments, variables or {})


def test_estimate_counts_page_sizes_and_defaults():
    assert _nodes("{ me { id } }") == 0
    assert _nodes("{ locations { nodes { id } } }") == 50
    assert _nodes("{ locations(first: 7) { nodes { id } } }") == 7
    assert _nodes("query($n: Int) { locations(first: $n) { nodes { id } } }", {"n": 30}) == 30
    assert (
        _nodes(
            "{ a: locations(first: 100) { nodes { id } } b: locations(first: 40) { nodes { id } } }"
        )
        == 140
    )
    assert (
        _nodes("query { ...F } fragment F on Query { locations(first: 9) { nodes { id } } }") == 9
    )


def test_cost_is_one_per_hundred_nodes_plus_the_request():
    assert request_cost(0) == 1
    assert request_cost(99) == 1
    assert request_cost(100) == 2
    assert request_cost(1000) == 11


WIDE = "{ " + " ".join(f"l{i}: locations(first: 100) {{ nodes {{ id }} }}" for i in range(5)) + " }"


async def test_expensive_queries_take_more_tokens(client, make_tenant):
    tenant = await make_tenant(plan="enterprise", rate_limit=60, burst=10)
    first = await client.post("/graphql", json={"query": WIDE}, headers=tenant.headers)
    assert first.status_code == 200
    assert "errors" not in first.json()
    # 1 token for the request + 5 for 500 nodes: 4 left, not enough for another
    second = await client.post("/graphql", json={"query": WIDE}, headers=tenant.headers)
    assert second.status_code == 429
    assert second.headers["content-type"] == "application/problem+json"
    assert int(second.headers["retry-after"]) >= 1
    # a cheap request still fits in what is left
    cheap = await gql(client, "{ me { id } }", headers=tenant.headers)
    assert cheap["data"]["me"]["id"] == str(tenant.user_id)


async def test_cheap_queries_cost_one_token(client, make_tenant):
    tenant = await make_tenant(plan="enterprise", rate_limit=60, burst=10)
    remaining = []
    for _ in range(3):
        r = await client.post(
            "/graphql",
            json={"query": "{ locations(first: 50) { nodes { id } } }"},
            headers=tenant.headers,
        )
        remaining.append(int(r.headers["x-ratelimit-remaining"]))
    assert remaining == [9, 8, 7]

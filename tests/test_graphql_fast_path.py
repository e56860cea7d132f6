"""A query the full pipeline validated once is answered from its plan: the same answer."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from elevatedpos.executor import VALIDATED
from elevatedpos.web.graphql_view import GraphQLApp
from tests.conftest import TenantFactory

TWO_OPERATIONS = "query A { me { id } } query B { me { email role } }"
MISSING = "query Missing($id: ID!) { product(id: $id) { name } }"
PAGE = "query Page($n: Int) { products(first: $n) { nodes { name category { name } } } }"


@pytest.fixture
def full_pipeline_runs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the requests Strawberry's view ran (the others took the fast path)."""
    VALIDATED.clear()  # documents other tests sent would otherwise be known already
    runs: list[int] = []
    real_run = GraphQLApp.run

    async def run(self: GraphQLApp, *args: Any, **kwargs: Any) -> Any:
        runs.append(1)
        return await real_run(self, *args, **kwargs)

    monkeypatch.setattr(GraphQLApp, "run", run)
    return runs


def _seen(response: httpx.Response) -> tuple[int, str, Any, bool, bool]:
    return (
        response.status_code,
        response.headers["content-type"],
        response.json(),
        "x-ratelimit-limit" in response.headers,
        "x-ratelimit-remaining" in response.headers,
    )


@pytest.mark.parametrize(
    ("query", "variables", "name"),
    [
        ("{ me { id email } }", None, None),
        (TWO_OPERATIONS, None, "B"),
        (TWO_OPERATIONS, {}, "A"),
        (MISSING, {"id": str(uuid.uuid4())}, None),  # a domain error, shaped
        (MISSING, {"id": "not-a-uuid"}, "Missing"),
        (MISSING, {}, None),  # a variable error
        (MISSING, {"id": 5}, None),
        (PAGE, {"n": 2}, None),
        (PAGE, {"n": 0}, None),  # a 422 on `first`
    ],
)
async def test_a_repeated_query_gets_the_same_answer(
    client: httpx.AsyncClient,
    make_tenant: TenantFactory,
    full_pipeline_runs: list[int],
    query: str,
    variables: dict[str, Any] | None,
    name: str | None,
) -> None:
    tenant = await make_tenant()
    body = {"query": query, "variables": variables, "operationName": name}
    first = await client.post("/graphql", json=body, headers=tenant.headers)
    second = await client.post("/graphql", json=body, headers=tenant.headers)
    third = await client.post("/graphql", json=body, headers=tenant.headers)
    assert _seen(first) == _seen(second) == _seen(third)
    assert first.status_code == 200
    assert len(full_pipeline_runs) == 1  # the repeats took the fast path


async def test_what_the_fast_path_does_not_cover_takes_the_full_pipeline(
    client: httpx.AsyncClient, make_tenant: TenantFactory, full_pipeline_runs: list[int]
) -> None:
    tenant = await make_tenant()
    query = "query Search($s: String) { products(filter: {search: $s}) { nodes { id } } }"
    nul = {"query": query, "variables": {"s": "a\x00b"}}
    answers = [await client.post("/graphql", json=nul, headers=tenant.headers) for _ in range(2)]
    assert _seen(answers[0]) == _seen(answers[1])
    assert answers[0].json()["errors"][0]["extensions"]["code"] == "VALIDATION"
    anonymous = [await client.post("/graphql", json={"query": "{ me { id } }"}) for _ in range(2)]
    assert [a.status_code for a in anonymous] == [401, 401]
    mutation = {"query": "mutation { logout }"}
    await client.post("/graphql", json=mutation, headers=tenant.headers)
    assert len(full_pipeline_runs) == 5  # NUL and anonymous twice each, the mutation once


async def test_an_unknown_operation_name_is_refused_every_time(
    client: httpx.AsyncClient, make_tenant: TenantFactory
) -> None:
    tenant = await make_tenant()
    ok = {"query": TWO_OPERATIONS, "operationName": "A"}
    assert (await client.post("/graphql", json=ok, headers=tenant.headers)).status_code == 200
    for _ in range(2):
        wrong = await client.post(
            "/graphql", json={**ok, "operationName": "C"}, headers=tenant.headers
        )
        assert wrong.status_code == 400
        assert "C" in wrong.json()["detail"]

"""What the REST routes answer is what `/api/v1/openapi.json` says they answer.

Every GET route of the table, on a tenant with data in every domain (the compiled
executor's seed), and the answers whose shape depends on the request: each 200 body is
validated against its operation's documented schema.
"""

from __future__ import annotations

from typing import Any

import httpx
import schemathesis

from elevatedpos.app import OPENAPI
from elevatedpos.rest_compat.routes import ROUTES
from tests.test_compiled_executor import Seeded, seeded  # noqa: F401 - the fixture

API = "/api/v1"
SCHEMA = schemathesis.openapi.from_dict(OPENAPI)


def path_ids(s: Seeded) -> dict[str, str]:
    """The id each parameterised GET path is read with."""
    return {
        f"{API}/locations/{{id}}": s.second_location_id,
        f"{API}/products/{{id}}": s.product_ids[0],
        f"{API}/customers/{{id}}": s.customer_id,
        f"{API}/customers/{{id}}/orders": s.customer_id,
        f"{API}/orders/{{id}}": s.order_id,
        f"{API}/payments/{{id}}": s.payment_id,
        f"{API}/loyalty/members/{{customerId}}": s.customer_id,
        f"{API}/automations/{{id}}": s.automation_id,
        f"{API}/integrations/{{id}}/grants": s.integration_id,
        f"{API}/integrations/{{id}}/webhooks": s.integration_id,
        f"{API}/campaigns/{{id}}": s.campaign_id,
        f"{API}/campaigns/{{id}}/stats": s.campaign_id,
    }


def documented(route_path: str, method: str, response: httpx.Response) -> Any:
    """The body, once schemathesis has checked it against the operation's schema."""
    assert response.status_code in (200, 201), (route_path, response.text)
    SCHEMA[route_path][method].validate_response(response)
    return response.json()["data"]


async def test_every_get_route_answers_its_documented_shape(
    client: httpx.AsyncClient,
    seeded: Seeded,  # noqa: F811 - the fixture imported above
) -> None:
    ids = path_ids(seeded)
    headers = seeded.tenant.headers
    gets = [r.path for r in ROUTES if r.method == "GET"]
    assert {p for p in gets if "{" in p} == set(ids)  # a new parameterised route joins here
    for path in gets:
        url = path.replace("{id}", ids.get(path, "")).replace("{customerId}", ids.get(path, ""))
        body = documented(path, "GET", await client.get(url, headers=headers))
        assert body is not None, path


async def test_answers_whose_shape_depends_on_the_request_are_documented(
    client: httpx.AsyncClient,
    seeded: Seeded,  # noqa: F811
) -> None:
    headers = seeded.tenant.headers
    tests = f"{API}/integrations/{{id}}/webhooks/test"
    url = tests.replace("{id}", seeded.integration_id)
    one = documented(tests, "POST", await client.post(url, json={"webhookId": seeded.webhook_id},
                                                      headers=headers))  # fmt: skip
    assert one["webhookId"] == seeded.webhook_id  # one webhook named: one object
    every = documented(tests, "POST", await client.post(url, json={}, headers=headers))
    assert [d["webhookId"] for d in every] == [seeded.webhook_id]  # none named: a list

    automation = f"{API}/automations/{{id}}"
    url = automation.replace("{id}", seeded.automation_id)
    version = (await client.get(url, headers=headers)).headers["etag"]
    patched = documented(
        automation,
        "PATCH",
        await client.patch(
            url,
            json={"conditions": [{"field": "data.total.amount", "op": "ne"}]},
            headers={**headers, "If-Match": version},
        ),
    )
    assert patched["conditions"] == [{"field": "data.total.amount", "op": "ne", "value": None}]

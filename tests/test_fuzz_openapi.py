"""Every REST operation, fed what schemathesis generates from our OpenAPI document: never a 500.

The caller is a fresh org's owner (its own org, so what the fuzzer creates stays there).
Whatever the generated request, the answer is a success or a Problem Details 4xx, shaped as
the document says an answer of that status is.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from elevatedpos.app import OPENAPI
from tests.conftest import Tenant

schema = schemathesis.openapi.from_dict(OPENAPI)


@schema.exclude(path_regex="logout").parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), database=None)
async def test_no_generated_request_gets_a_server_error(case: Any, client: Any, tenant: Tenant):
    headers = tenant.headers
    kwargs = case.as_transport_kwargs(base_url="https://testserver", headers=headers)
    kwargs.pop("cookies", None)  # the API uses none
    # a header value beyond ASCII goes on the wire as its UTF-8 bytes, as a client's would
    kwargs["headers"] = {
        k: v if not isinstance(v, str) or v.isascii() else v.encode()
        for k, v in kwargs.get("headers", {}).items()
    }
    if isinstance(kwargs.get("data"), bytes | str):
        kwargs["content"] = kwargs.pop("data")  # raw bodies go as content with httpx
    response = await client.request(**kwargs)
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith("application/problem+json")

"""/healthz (the process answers) and /readyz (its database and Redis answer)."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response

from elevatedpos.errors import UNAVAILABLE
from elevatedpos.runtime import Runtime
from elevatedpos.web.responses import JSONResponse, problem_response

READY_TIMEOUT = 2.0


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    checks: dict[str, str] = {}
    try:
        await asyncio.wait_for(runtime.db.ping(), READY_TIMEOUT)
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready", reported below
        checks["database"] = f"error: {type(exc).__name__}"
    if runtime.redis is not None:
        try:
            await asyncio.wait_for(runtime.redis.ping(), READY_TIMEOUT)
            checks["redis"] = "ok"
        except Exception as exc:  # noqa: BLE001
            checks["redis"] = f"error: {type(exc).__name__}"
    if all(v == "ok" for v in checks.values()):
        return JSONResponse({"status": "ok", "checks": checks})
    return problem_response(
        UNAVAILABLE,
        "Not ready: " + ", ".join(f"{k} {v}" for k, v in checks.items() if v != "ok"),
        instance=request.url.path,
        request_id=request.scope.get("state", {}).get("request_id"),
        extra={"checks": checks},
    )

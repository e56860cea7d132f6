"""/docs: the OpenAPI document rendered by assets this app serves itself (no CDN)."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response

from elevatedpos.errors import NotFound

STATIC = Path(__file__).parent / "static"
_ASSETS = {"docs.js": "text/javascript", "docs.css": "text/css"}


async def docs_page(request: Request) -> Response:
    return FileResponse(STATIC / "docs.html", media_type="text/html")


async def docs_asset(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in _ASSETS:
        raise NotFound("No such asset")
    return FileResponse(STATIC / name, media_type=_ASSETS[name])
